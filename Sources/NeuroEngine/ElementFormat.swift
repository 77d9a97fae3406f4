// Element coding: how stored bytes of each dtype become tensor elements and back (shared by SafeTensors and NPY).

/// How one element is stored in a file, and the dtype it is read as.
struct ElementFormat {
    enum Kind { case float32, float64, int64, int32, float16, bfloat16, bool }

    let kind: Kind
    /// Whether multi-byte elements are stored most significant byte first.
    var bigEndian = false

    init(_ kind: Kind, bigEndian: Bool = false) {
        self.kind = kind
        self.bigEndian = bigEndian
    }

    /// Bytes per element in the file.
    var byteSize: Int {
        switch kind {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16: return 2
        case .bool: return 1
        }
    }

    /// The tensor dtype elements are read as (half floats and bools widen to float32).
    var dtype: DType {
        switch kind {
        case .float64: return .float64
        case .int64: return .int64
        case .int32: return .int32
        case .float32, .float16, .bfloat16, .bool: return .float32
        }
    }
}

/// Whether this machine stores multi-byte numbers most significant byte first.
let hostIsBigEndian = 1.bigEndian == 1

/// `value` as `count` little-endian bytes (the length fields of file headers).
func littleEndianBytes(_ value: UInt64, count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
}

/// The little-endian unsigned integer in `bytes[start..<start+count]` (callers check the range).
func readLittleEndian(_ bytes: [UInt8], at start: Int, count: Int) -> UInt64 {
    (0..<count).reduce(UInt64(0)) { $0 | UInt64(bytes[start + $1]) << (8 * UInt64($1)) }
}

/// Element count of `shape`, refusing negative dimensions and shapes whose
/// size (or strides, which ignore zero dimensions) would overflow.
/// `describe` turns the problem into the caller's error.
func checkedElementCount(_ shape: [Int], _ describe: (String) -> EngineError) throws -> Int {
    if let bad = shape.first(where: { $0 < 0 }) {
        throw describe("a negative dimension \(bad) in shape \(formatShape(shape))")
    }
    var span = 1
    for d in shape {
        let (product, overflow) = span.multipliedReportingOverflow(by: max(d, 1))
        guard !overflow, product <= 1 << 48 else { throw describe("a shape \(formatShape(shape)) too large to hold") }
        span = product
    }
    return shape.contains(0) ? 0 : span
}

/// The part of a file after its header, where tensor data ranges count from.
struct DataSection {
    let source: ByteSource
    let start: Int
    let count: Int
}

/// A new contiguous tensor of `shape` from the elements stored at `offset`
/// in `source`, which must hold `count(shape) × format.byteSize` bytes there
/// (callers check the range against the source's size first). Refuses a
/// shape too large to allocate, naming the file and `what`. Elements stored
/// as the tensor holds them are read straight into it; others are read and
/// converted a block at a time, so no copy of the whole data is made.
func decodeElements(_ source: ByteSource, at offset: Int, format: ElementFormat, shape: [Int], what: String) throws -> Tensor {
    let count: Int
    switch Tensor.sizeCheck(shape) {
    case .success(let n): count = n
    case .failure(let problem): throw EngineError.file(source.label, problem.describe(shape, dtype: format.dtype, what: what))
    }
    let dtype = format.dtype
    guard let storage = TensorStorage(allocating: count * dtype.byteSize) else {
        throw EngineError.file(source.label, "\(what) \(formatShape(shape)) (\(formatBytes(count, dtype))) could not be allocated: out of memory")
    }
    let out = Tensor(storage: storage, shape: shape, strides: Tensor.contiguousStrides(shape), offset: 0, dtype: dtype)
    let destination = storage.base
    let size = format.byteSize
    let direct: Bool
    switch format.kind {
    case .float32, .float64, .int64, .int32: direct = format.bigEndian == hostIsBigEndian
    case .float16, .bfloat16, .bool: direct = false
    }
    if direct {
        try source.read(at: offset, count: count * size, into: destination)
        return out
    }
    let blockElements = 1 << 16
    var block = [UInt8](repeating: 0, count: Swift.min(count, blockElements) * size)
    var done = 0
    while done < count {
        let n = Swift.min(count - done, blockElements)
        try block.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            try source.read(at: offset + done * size, count: n * size, into: base)
        }
        block.withUnsafeBytes { raw in
            convertElements(UnsafeRawBufferPointer(rebasing: raw[0..<(n * size)]), format: format,
                            into: destination + done * dtype.byteSize, count: n)
        }
        done += n
    }
    return out
}

/// Converts `count` stored elements to the dtype `format` reads them as.
private func convertElements(_ source: UnsafeRawBufferPointer, format: ElementFormat,
                             into destination: UnsafeMutableRawPointer, count: Int) {
    switch format.kind {
    case .float32, .float64, .int64, .int32:
        // Stored in the other byte order: reverse each element's bytes.
        let size = format.byteSize
        for i in 0..<count {
            for b in 0..<size {
                destination.storeBytes(of: source[i * size + size - 1 - b], toByteOffset: i * size + b, as: UInt8.self)
            }
        }
    case .float16, .bfloat16:
        for i in 0..<count {
            let stored = source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
            let bits = format.bigEndian ? UInt16(bigEndian: stored) : UInt16(littleEndian: stored)
            let value = format.kind == .float16 ? halfToFloat(bits) : bfloat16ToFloat(bits)
            destination.storeBytes(of: value, toByteOffset: 4 * i, as: Float.self)
        }
    case .bool:
        for i in 0..<count {
            destination.storeBytes(of: source[i] != 0 ? Float(1) : 0, toByteOffset: 4 * i, as: Float.self)
        }
    }
}

/// Appends the elements of `tensor`, row-major, little-endian, to `out`.
func appendLittleEndian(_ tensor: Tensor, to out: inout [UInt8]) {
    let data = tensor.contiguousData()
    let size = data.dtype.byteSize
    let bytes = UnsafeRawBufferPointer(start: data.storage.base + data.offset * size, count: data.count * size)
    if hostIsBigEndian {
        for i in 0..<data.count { out.append(contentsOf: bytes[(i * size)..<((i + 1) * size)].reversed()) }
    } else {
        out.append(contentsOf: bytes)
    }
}

/// IEEE 754 half precision (1 sign, 5 exponent, 10 fraction bits) to float,
/// exactly, including subnormals, infinities and NaN payloads.
func halfToFloat(_ bits: UInt16) -> Float {
    let sign: UInt32 = UInt32(bits >> 15) << 31
    let exponent = UInt32(bits >> 10) & 0x1F
    let fraction = UInt32(bits) & 0x3FF
    switch exponent {
    case 0:
        let magnitude = Float(fraction) * 0x1p-24   // zero or subnormal: fraction × 2⁻²⁴
        return sign == 0 ? magnitude : -magnitude
    case 0x1F:
        return Float(bitPattern: sign | 0x7F80_0000 | fraction << 13)
    default:
        return Float(bitPattern: sign | (exponent + 112) << 23 | fraction << 13)   // rebias 15 → 127
    }
}

/// bfloat16 (the top half of a float32) to float.
func bfloat16ToFloat(_ bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
}
