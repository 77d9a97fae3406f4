/// The contents of a safetensors file: named tensors, string metadata, and
/// the order the tensors appear in the header.
///
/// ```swift
/// let file = try SafeTensors.read("model.safetensors")
/// for name in file.order { print(name, file.tensors[name]?.shape ?? []) }
/// ```
public struct SafeTensorsFile {
    /// The tensors by name.
    public var tensors: [String: Tensor]
    /// The `__metadata__` entries (empty when the file has none).
    public var metadata: [String: String]
    /// The tensor names in the order the header lists them.
    public var order: [String]

    /// Makes a file value from its parts; `order` should list each key of `tensors` once.
    ///
    /// ```swift
    /// let file = SafeTensorsFile(tensors: ["w": w], metadata: [:], order: ["w"])
    /// ```
    public init(tensors: [String: Tensor], metadata: [String: String] = [:], order: [String]) {
        self.tensors = tensors
        self.metadata = metadata
        self.order = order
    }
}

/// Reading and writing the Hugging Face safetensors format.
///
/// A file is an 8-byte little-endian header length N, N bytes of JSON
/// (`{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
/// "__metadata__": {"k": "v"}}`, possibly padded with spaces), then the raw
/// little-endian row-major tensor data; offsets count from the end of the header.
///
/// F32, F64, I64 and I32 are read and written as themselves; F16 and BF16 are
/// read and widened to float32. Other dtypes are refused with an error naming
/// the tensor. Every error about a file's contents names the file and the problem.
///
/// ```swift
/// try SafeTensors.write([("w", w), ("b", b)], metadata: ["format": "pt"], to: "/tmp/m.safetensors")
/// let back = try SafeTensors.read("/tmp/m.safetensors")
/// ```
public enum SafeTensors {
    /// The element formats safetensors files may hold that can be read.
    private static let readable: [String: ElementFormat] = [
        "F32": ElementFormat(.float32), "F64": ElementFormat(.float64),
        "F16": ElementFormat(.float16), "BF16": ElementFormat(.bfloat16),
        "I64": ElementFormat(.int64), "I32": ElementFormat(.int32),
    ]
    private static let readableNames = "F32, F64, F16, BF16, I64, I32"

    /// Reads the safetensors file at `path`.
    ///
    /// Throws a `.file` error naming `path` when the file is missing or
    /// unreadable, or when its contents are malformed (see `decode`).
    /// Tensors whose names `skip` accepts are left out unread (their dtype may
    /// then be one that cannot be read, such as TransformerLens's bool
    /// `attn.mask` buffers).
    ///
    /// ```swift
    /// let weights = try SafeTensors.read("gpt2/model.safetensors").tensors
    /// let tl = try SafeTensors.read("tl.safetensors", skipping: { $0.hasSuffix(".attn.mask") })
    /// ```
    public static func read(_ path: String, skipping skip: (String) -> Bool = { _ in false }) throws -> SafeTensorsFile {
        try decode(RegularFile(path: path), skipping: skip)
    }

    /// Decodes the bytes of a safetensors file; `source` names it in errors.
    ///
    /// Refuses a file shorter than 8 bytes, a header length past the end of
    /// the file or over the 100 MB the format allows, a header that is not a
    /// JSON object, entries missing `dtype`, `shape` or `data_offsets` or with
    /// values of the wrong type, negative dimensions, data ranges whose length
    /// does not match shape × dtype size, ranges past the end of the data (a
    /// truncated file), tensors too large to allocate, unsupported dtypes,
    /// repeated tensor names and non-string metadata values. Gaps or overlaps
    /// between data ranges are tolerated.
    ///
    /// ```swift
    /// let file = try SafeTensors.decode(bytes, source: "download")
    /// ```
    public static func decode(_ bytes: [UInt8], source: String,
                              skipping skip: (String) -> Bool = { _ in false }) throws -> SafeTensorsFile {
        try decode(MemoryBytes(contents: bytes, label: source), skipping: skip)
    }

    /// The longest header read, as in the reference implementation: a header
    /// length is checked against this before any of the header is read.
    static let maxHeaderLength = 100_000_000

    /// Reads the header, checks every entry against the real size of the
    /// data, and only then reads each tensor's own range.
    private static func decode(_ source: ByteSource, skipping skip: (String) -> Bool) throws -> SafeTensorsFile {
        func fail(_ detail: String) -> EngineError { EngineError.file(source.label, detail) }
        guard source.size >= 8 else {
            throw fail("file is \(source.size) bytes long, too short for a safetensors header (needs at least 8)")
        }
        let declared = readLittleEndian(try source.bytes(at: 0, count: 8), at: 0, count: 8)
        let available = source.size - 8
        guard declared <= UInt64(available) else {
            throw fail("header length \(declared) exceeds the \(available) bytes that follow it; the file is truncated or not safetensors")
        }
        guard declared <= UInt64(maxHeaderLength) else {
            throw fail("header length \(declared) is more than the \(maxHeaderLength) bytes a safetensors header may have")
        }
        let dataStart = 8 + Int(declared)
        let root: HeaderValue
        do {
            root = try HeaderParser.parse(try source.bytes(at: 8, count: Int(declared)), dialect: .json)
        } catch let error as HeaderParser.SyntaxError {
            throw fail("header is not valid JSON: \(error.message)")
        }
        guard let entries = root.members else { throw fail("header is not a JSON object") }

        var file = SafeTensorsFile(tensors: [:], order: [])
        let data = DataSection(source: source, start: dataStart, count: source.size - dataStart)
        for (name, value) in entries {
            if name == "__metadata__" {
                file.metadata = try decodeMetadata(value, fail: fail)
                continue
            }
            if skip(name) { continue }
            guard file.tensors[name] == nil else { throw fail("tensor '\(name)' appears twice in the header") }
            file.tensors[name] = try decodeTensor(name, value, data: data, fail: fail)
            file.order.append(name)
        }
        return file
    }

    /// Writes `tensors`, in the given order, and `metadata` to `path` as a
    /// safetensors file, atomically (see `writeAtomically`).
    ///
    /// Throws for repeated names, the reserved name `__metadata__`, or a
    /// failed write; the error names `path`.
    ///
    /// ```swift
    /// try SafeTensors.write([("embed", e), ("head", h)], metadata: ["step": "100"], to: "ckpt.safetensors")
    /// ```
    public static func write(_ tensors: [(String, Tensor)], metadata: [String: String] = [:], to path: String) throws {
        try writeAtomically(encode(tensors, metadata: metadata, label: path), to: path)
    }

    /// The bytes of a safetensors file holding `tensors` in the given order
    /// and `metadata` (keys sorted, so output is deterministic).
    ///
    /// The JSON header is compact and padded with spaces to a multiple of 8
    /// bytes, as the reference implementation does; an empty `metadata` writes
    /// no `__metadata__` entry. Non-contiguous tensors are written by value;
    /// tensors with a zero dimension get an empty data range.
    ///
    /// ```swift
    /// let bytes = try SafeTensors.encode([("x", try Tensor([1, 2], shape: [2]))])
    /// ```
    public static func encode(_ tensors: [(String, Tensor)], metadata: [String: String] = [:]) throws -> [UInt8] {
        try encode(tensors, metadata: metadata, label: "SafeTensors.encode")
    }

    private static func encode(_ tensors: [(String, Tensor)], metadata: [String: String], label: String) throws -> [UInt8] {
        var seen = Set<String>()
        for (name, _) in tensors {
            guard name != "__metadata__" else {
                throw EngineError.argument(label, "the name '__metadata__' is reserved for metadata")
            }
            guard seen.insert(name).inserted else {
                throw EngineError.argument(label, "duplicate tensor name '\(name)'")
            }
        }

        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }.map { jsonQuoted($0.key) + ":" + jsonQuoted($0.value) }
            entries.append(jsonQuoted("__metadata__") + ":{" + pairs.joined(separator: ",") + "}")
        }
        var end = 0
        for (name, tensor) in tensors {
            let begin = end
            end += tensor.count * tensor.dtype.byteSize
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append(jsonQuoted(name) + ":{\"dtype\":\"\(tensor.dtype.shortName)\",\"shape\":[\(shape)],\"data_offsets\":[\(begin),\(end)]}")
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + end)
        out.append(contentsOf: littleEndianBytes(UInt64(header.count), count: 8))
        out.append(contentsOf: header)
        for (_, tensor) in tensors { appendLittleEndian(tensor, to: &out) }
        return out
    }

    private static func decodeMetadata(_ value: HeaderValue, fail: (String) -> EngineError) throws -> [String: String] {
        guard let members = value.members else { throw fail("__metadata__ is not a JSON object") }
        var metadata: [String: String] = [:]
        for (key, item) in members {
            guard let text = item.string else { throw fail("__metadata__ value for key '\(key)' is not a string") }
            metadata[key] = text
        }
        return metadata
    }

    private static func decodeTensor(_ name: String, _ value: HeaderValue, data: DataSection,
                                     fail: (String) -> EngineError) throws -> Tensor {
        guard value.members != nil else { throw fail("entry for tensor '\(name)' is not a JSON object") }
        guard let dtypeName = value.member("dtype")?.string else {
            throw fail("tensor '\(name)' has no string \"dtype\"")
        }
        guard let shape = value.member("shape")?.integers else {
            throw fail("tensor '\(name)' has no \"shape\" list of integers")
        }
        guard let offsets = value.member("data_offsets")?.integers, offsets.count == 2 else {
            throw fail("tensor '\(name)' has no \"data_offsets\" pair of integers")
        }
        guard let format = readable[dtypeName] else {
            throw fail("tensor '\(name)' has dtype \(dtypeName), which is not supported (supported: \(readableNames))")
        }
        let count = try checkedElementCount(shape) { fail("tensor '\(name)' has \($0)") }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0, begin <= end else {
            throw fail("tensor '\(name)' has invalid data_offsets [\(begin), \(end)]")
        }
        let (needed, overflow) = count.multipliedReportingOverflow(by: format.byteSize)
        guard !overflow, end - begin == needed else {
            throw fail("tensor '\(name)' has data_offsets [\(begin), \(end)] spanning \(end - begin) bytes, "
                + "but shape \(formatShape(shape)) of \(dtypeName) needs \(overflow ? "more" : String(needed))")
        }
        guard end <= data.count else {
            throw fail("tensor '\(name)' has data_offsets [\(begin), \(end)] past the end of the data (\(data.count) bytes); the file is truncated")
        }
        return try decodeElements(data.source, at: data.start + begin, format: format, shape: shape,
                                  what: "tensor '\(name)' of shape")
    }

}

// MARK: - Element coding (shared with NPY)

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

// MARK: - Header literals (shared with NPY)

/// A value from a safetensors JSON header or an NPY Python-literal header.
enum HeaderValue {
    case object([(key: String, value: HeaderValue)])
    case array([HeaderValue])
    case string(String)
    case integer(Int)
    case number(Double)
    case bool(Bool)
    case null

    /// The key/value pairs of an object, in order; nil for other values.
    var members: [(key: String, value: HeaderValue)]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The value of the last member named `key`, if this is an object that has one.
    func member(_ key: String) -> HeaderValue? {
        members?.last { $0.key == key }?.value
    }

    var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    var bool: Bool? {
        if case .bool(let flag) = self { return flag }
        return nil
    }

    /// The elements of an array (or tuple) when all are integers.
    var integers: [Int]? {
        guard case .array(let items) = self else { return nil }
        var values: [Int] = []
        for item in items {
            guard case .integer(let v) = item else { return nil }
            values.append(v)
        }
        return values
    }
}

/// A small recursive-descent parser for JSON and for the Python literals NPY
/// headers use (quotes `'` or `"`, tuples, `True/False/None`, trailing commas,
/// Python 2 `3L`). Object keys keep their order, which `SafeTensorsFile.order` needs.
struct HeaderParser {
    enum Dialect { case json, python }

    struct SyntaxError: Error {
        let message: String
    }

    private let bytes: [UInt8]
    private let dialect: Dialect
    private var index = 0
    private var depth = 0
    private static let maxDepth = 64

    private init(bytes: [UInt8], dialect: Dialect) {
        self.bytes = bytes
        self.dialect = dialect
    }

    /// Parses `bytes` as one value surrounded by optional whitespace.
    static func parse(_ bytes: [UInt8], dialect: Dialect) throws -> HeaderValue {
        var parser = HeaderParser(bytes: bytes, dialect: dialect)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected text after the value") }
        return value
    }

    private func error(_ message: String) -> SyntaxError {
        SyntaxError(message: "\(message) at byte \(index)")
    }

    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    @discardableResult
    private mutating func consume(_ ascii: Unicode.Scalar) -> Bool {
        guard peek() == UInt8(ascii: ascii) else { return false }
        index += 1
        return true
    }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
    }

    private func isQuote(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\"") || (dialect == .python && byte == UInt8(ascii: "'"))
    }

    private mutating func parseValue() throws -> HeaderValue {
        guard let byte = peek() else { throw error("unexpected end") }
        switch byte {
        case UInt8(ascii: "{"):
            var members: [(key: String, value: HeaderValue)] = []
            try parseDelimited(close: "}") { parser in
                guard let quote = parser.peek(), parser.isQuote(quote) else { throw parser.error("expected a string key") }
                let key = try parser.parseString()
                parser.skipWhitespace()
                guard parser.consume(":") else { throw parser.error("expected ':' after key '\(key)'") }
                parser.skipWhitespace()
                members.append((key, try parser.parseValue()))
            }
            return .object(members)
        case UInt8(ascii: "["):
            return try parseArray(close: "]")
        case UInt8(ascii: "(") where dialect == .python:
            return try parseArray(close: ")")
        case _ where isQuote(byte):
            return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumber()
        default:
            return try parseKeyword()
        }
    }

    private mutating func parseArray(close: Unicode.Scalar) throws -> HeaderValue {
        var items: [HeaderValue] = []
        try parseDelimited(close: close) { items.append(try $0.parseValue()) }
        return .array(items)
    }

    /// Parses `open element, element, … close` (the opening byte is current),
    /// calling `element` for each; Python allows a comma before `close`.
    private mutating func parseDelimited(close: Unicode.Scalar, _ element: (inout HeaderParser) throws -> Void) throws {
        index += 1
        depth += 1
        defer { depth -= 1 }
        guard depth <= HeaderParser.maxDepth else { throw error("nesting deeper than \(HeaderParser.maxDepth)") }
        skipWhitespace()
        if consume(close) { return }
        while true {
            try element(&self)
            skipWhitespace()
            if consume(close) { return }
            guard consume(",") else { throw error("expected ',' or '\(close)'") }
            skipWhitespace()
            if dialect == .python && consume(close) { return }
        }
    }

    private mutating func parseString() throws -> String {
        let quote = bytes[index]
        index += 1
        var utf8: [UInt8] = []
        while true {
            guard let byte = peek() else { throw error("unterminated string") }
            index += 1
            if byte == quote { break }
            guard byte >= 0x20 else { throw error("control character in string") }
            guard byte == UInt8(ascii: "\\") else {
                utf8.append(byte)
                continue
            }
            guard let escape = peek() else { throw error("unterminated string") }
            index += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "'"): utf8.append(escape)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"): utf8.append(contentsOf: String(try parseUnicodeEscape()).utf8)
            default: throw error("invalid escape '\\\(Unicode.Scalar(escape))'")
            }
        }
        guard let text = String(validating: utf8, as: UTF8.self) else { throw error("string is not valid UTF-8") }
        return text
    }

    /// The scalar of `\uXXXX` (just after the `u`), joining a surrogate pair.
    private mutating func parseUnicodeEscape() throws -> Unicode.Scalar {
        let first = try parseHex4()
        var value = first
        if (0xD800...0xDBFF).contains(first) {
            guard consume("\\"), consume("u") else { throw error("unpaired surrogate in \\u escape") }
            let second = try parseHex4()
            guard (0xDC00...0xDFFF).contains(second) else { throw error("unpaired surrogate in \\u escape") }
            value = 0x10000 + (first - 0xD800) << 10 + (second - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(value) else { throw error("unpaired surrogate in \\u escape") }
        return scalar
    }

    private mutating func parseHex4() throws -> UInt32 {
        guard index + 4 <= bytes.count,
              let value = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16) else {
            throw error("expected four hex digits after \\u")
        }
        index += 4
        return value
    }

    private mutating func parseNumber() throws -> HeaderValue {
        let start = index
        consume("-")
        var isInteger = true
        guard skipDigits() > 0 else { throw error("invalid number") }
        if consume(".") {
            isInteger = false
            guard skipDigits() > 0 else { throw error("invalid number") }
        }
        if consume("e") || consume("E") {
            isInteger = false
            _ = consume("+") || consume("-")
            guard skipDigits() > 0 else { throw error("invalid number") }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if dialect == .python && isInteger { _ = consume("L") || consume("l") }
        if isInteger, let value = Int(text) { return .integer(value) }
        guard let value = Double(text) else { throw error("invalid number") }
        return .number(value)
    }

    private mutating func skipDigits() -> Int {
        let start = index
        while let byte = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
        return index - start
    }

    private mutating func parseKeyword() throws -> HeaderValue {
        let start = index
        while let byte = peek(), (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) { index += 1 }
        let word = String(decoding: bytes[start..<index], as: UTF8.self)
        switch (dialect, word) {
        case (.json, "true"), (.python, "True"): return .bool(true)
        case (.json, "false"), (.python, "False"): return .bool(false)
        case (.json, "null"), (.python, "None"): return .null
        default:
            index = start
            throw error(word.isEmpty ? "unexpected character '\(Unicode.Scalar(bytes[start]))'" : "unexpected word '\(word)'")
        }
    }
}
