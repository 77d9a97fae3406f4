/// Reading and writing NumPy `.npy` files.
///
/// A file is the magic `\x93NUMPY`, a version (1.0 is written; 1.0, 2.0 and
/// 3.0 are read), a little-endian header length (2 bytes in 1.0, 4 after), and
/// a Python dict literal such as `{'descr': '<f4', 'fortran_order': False,
/// 'shape': (3, 4), }` padded with spaces and a newline so the data starts on a
/// 64-byte boundary, followed by the raw elements.
///
/// Read: `f4`, `f8`, `i8`, `i4` as float32, float64, int64, int32; `f2`
/// (half) and `b1` (bool, as 0/1) widened to float32; either byte order
/// (`<`, `>`, `|`, `=`); `fortran_order: True` is rearranged into row-major.
/// Written: the tensor's own dtype, little-endian, row-major. Every error
/// about a file's contents names the file and the problem.
///
/// ```swift
/// try NPY.write(activations, to: "/tmp/acts.npy")   // np.load("/tmp/acts.npy")
/// let back = try NPY.read("/tmp/acts.npy")
/// ```
public enum NPY {
    private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    private static let readable: [String: ElementFormat.Kind] = [
        "f4": .float32, "f8": .float64, "i8": .int64, "i4": .int32, "f2": .float16, "b1": .bool,
    ]
    private static let readableNames = "<f4, <f8, <i8, <i4, <f2, |b1, and their big-endian forms"

    /// Reads the `.npy` file at `path`.
    ///
    /// Throws a `.file` error naming `path` when the file is missing or
    /// unreadable, or when its contents are malformed (see `decode`).
    ///
    /// ```swift
    /// let x = try NPY.read("embeddings.npy")
    /// ```
    public static func read(_ path: String) throws -> Tensor {
        try decode(RegularFile(path: path))
    }

    /// Decodes the bytes of an `.npy` file; `source` names it in errors.
    ///
    /// Refuses a wrong magic string, an unknown format version, a header
    /// length past the end of the file, a header that is not a dict literal
    /// with `descr`, `fortran_order` and `shape`, negative dimensions, an
    /// unsupported `descr` (structured, string, object, unsigned… dtypes), and
    /// data shorter than the shape needs. Bytes after the data are ignored, as
    /// NumPy does.
    ///
    /// ```swift
    /// let x = try NPY.decode(bytes, source: "upload")
    /// ```
    public static func decode(_ bytes: [UInt8], source: String) throws -> Tensor {
        try decode(MemoryBytes(contents: bytes, label: source))
    }

    /// The longest header read. NumPy itself refuses headers over 10,000
    /// bytes unless told otherwise; this leaves room for tensors of very
    /// high rank while keeping a lying length from reading a huge file.
    static let maxHeaderLength = 16 << 20

    /// Reads the fixed prefix and the header, checks the shape against the
    /// real size of the data, and only then reads the data.
    private static func decode(_ source: ByteSource) throws -> Tensor {
        func fail(_ detail: String) -> EngineError { EngineError.file(source.label, detail) }
        func tooShort() -> EngineError {
            fail("file is \(source.size) bytes long, too short for an .npy header")
        }
        guard source.size >= 10 else { throw tooShort() }
        let prefix = try source.bytes(at: 0, count: Swift.min(source.size, 12))
        guard prefix.starts(with: magic) else { throw fail("not an .npy file (it does not start with \\x93NUMPY)") }
        let (major, minor) = (prefix[6], prefix[7])
        let lengthWidth: Int
        switch major {
        case 1: lengthWidth = 2
        case 2, 3: lengthWidth = 4
        default: throw fail("unsupported .npy format version \(major).\(minor) (supported: 1.0, 2.0, 3.0)")
        }
        let headerStart = 8 + lengthWidth
        guard source.size >= headerStart else { throw tooShort() }
        let headerLength = Int(readLittleEndian(prefix, at: 8, count: lengthWidth))
        guard headerLength <= source.size - headerStart else {
            throw fail("header length \(headerLength) exceeds the \(source.size - headerStart) bytes that follow it; the file is truncated")
        }
        guard headerLength <= maxHeaderLength else {
            throw fail("header length \(headerLength) is more than the \(maxHeaderLength) bytes read for an .npy header")
        }
        let dataStart = headerStart + headerLength

        let header: HeaderValue
        do {
            header = try HeaderParser.parse(try source.bytes(at: headerStart, count: headerLength), dialect: .python)
        } catch let error as HeaderParser.SyntaxError {
            throw fail("malformed header: \(error.message)")
        }
        guard header.members != nil else { throw fail("malformed header: not a dict literal") }
        guard let descr = header.member("descr")?.string else {
            if case .array? = header.member("descr") { throw fail("structured dtypes are not supported") }
            throw fail("malformed header: no 'descr' string")
        }
        guard let fortranOrder = header.member("fortran_order")?.bool else {
            throw fail("malformed header: no 'fortran_order' True or False")
        }
        guard let shape = header.member("shape")?.integers else {
            throw fail("malformed header: no 'shape' tuple of integers")
        }
        guard let format = elementFormat(descr) else {
            throw fail("descr '\(descr)' is not supported (supported: \(readableNames))")
        }
        let count = try checkedElementCount(shape) { fail("header has \($0)") }
        let (needed, overflow) = count.multipliedReportingOverflow(by: format.byteSize)
        let available = source.size - dataStart
        guard !overflow, needed <= available else {
            throw fail("data is truncated: shape \(pythonTuple(shape)) of \(descr) needs \(overflow ? "more" : String(needed)) bytes, found \(available)")
        }

        // Column-major data is the row-major data of the reversed shape.
        let stored = try decodeElements(source, at: dataStart, format: format,
                                        shape: fortranOrder ? shape.reversed() : shape, what: "the array of shape")
        guard fortranOrder && shape.count > 1 else { return stored }
        let transposed = Tensor(storage: stored.storage, shape: shape, strides: stored.strides.reversed(),
                                offset: 0, dtype: stored.dtype)
        return transposed.contiguousData()
    }

    /// Writes `tensor` to `path` as an `.npy` file, atomically (see `writeAtomically`).
    ///
    /// Throws a `.file` error naming `path` when the write fails.
    ///
    /// ```swift
    /// try NPY.write(try Tensor([1, 2, 3], shape: [3]), to: "/tmp/v.npy")
    /// ```
    public static func write(_ tensor: Tensor, to path: String) throws {
        try writeAtomically(encode(tensor), to: path)
    }

    /// The bytes of an `.npy` file holding `tensor`: version 1.0 (2.0 only if
    /// the header would not fit), little-endian, row-major, header padded so
    /// the data starts at a multiple of 64 bytes. Rank-0 tensors get shape `()`.
    ///
    /// ```swift
    /// let bytes = NPY.encode(try Tensor(ints: [1, 2], shape: [2]))   // descr '<i8'
    /// ```
    public static func encode(_ tensor: Tensor) -> [UInt8] {
        let code: String
        switch tensor.dtype {
        case .float32: code = "f4"
        case .float64: code = "f8"
        case .int64: code = "i8"
        case .int32: code = "i4"
        }
        let dict = "{'descr': '<\(code)', 'fortran_order': False, 'shape': \(pythonTuple(tensor.shape)), }"
        func padded(prefix: Int) -> [UInt8] {
            let unpadded = prefix + dict.utf8.count + 1
            return Array(dict.utf8) + Array(repeating: UInt8(ascii: " "), count: (64 - unpadded % 64) % 64) + [0x0A]
        }
        var header = padded(prefix: 10)
        let version: UInt8 = header.count <= Int(UInt16.max) ? 1 : 2
        if version == 2 { header = padded(prefix: 12) }

        var out = magic + [version, 0]
        out.append(contentsOf: littleEndianBytes(UInt64(header.count), count: version == 1 ? 2 : 4))
        out.append(contentsOf: header)
        out.reserveCapacity(out.count + tensor.count * tensor.dtype.byteSize)
        appendLittleEndian(tensor, to: &out)
        return out
    }

    /// The stored format for a `descr` such as `<f4` or `>i8`, or nil when unsupported.
    private static func elementFormat(_ descr: String) -> ElementFormat? {
        var code = Substring(descr)
        var bigEndian = hostIsBigEndian
        if let order = code.first, "<>|=".contains(order) {
            code = code.dropFirst()
            if order == "<" { bigEndian = false }
            if order == ">" { bigEndian = true }
        }
        guard let kind = readable[String(code)] else { return nil }
        return ElementFormat(kind, bigEndian: bigEndian)
    }

    /// A shape as Python writes a tuple: `()`, `(3,)`, `(3, 4)`.
    private static func pythonTuple(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }
}
