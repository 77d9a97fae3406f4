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
