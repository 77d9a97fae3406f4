import NeuroEngine

/// A script's text, named, with its lines indexed once: rendering any number
/// of diagnostics against it costs each one only its own line.
///
/// ```swift
/// let text = SourceText(name: "a.nmap", text: "x = 1\ny = )\n")
/// text.line(2)          // "y = )" as scalars
/// ```
public struct SourceText: Sendable {
    public let name: String
    public let text: String
    /// Which input this is: places (`SourceLocation.input`) name it, so an
    /// error can be shown in the text it happened in.
    public let input: Int
    private let bytes: [UInt8]
    /// The offset of each line's first byte; lines end at "\n" bytes, as the lexer counts them.
    private let lineStarts: [Int]

    public init(name: String, text: String, input: Int = 0) {
        self.name = name
        self.text = text
        self.input = input
        bytes = Array(text.utf8)
        var starts = [0]
        for (offset, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") { starts.append(offset + 1) }
        lineStarts = starts
    }

    /// How many lines there are (a final line break starts an empty last line).
    public var lineCount: Int { lineStarts.count }

    /// Line `number` (from 1) as Unicode scalars, one per column, without its
    /// line break (nor the "\r" of a CRLF ending); nil outside the text.
    public func line(_ number: Int) -> [Unicode.Scalar]? {
        guard number >= 1 && number <= lineStarts.count else { return nil }
        let start = lineStarts[number - 1]
        var end = number < lineStarts.count ? lineStarts[number] - 1 : bytes.count
        if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return Array(String(decoding: bytes[start..<end], as: UTF8.self).unicodeScalars)
    }
}

// MARK: - Bytes

/// What is wrong with a script's bytes, when they are not UTF-8 text.
public enum SourceBytesProblem: Error, Equatable, CustomStringConvertible {
    /// A byte-order mark of UTF-16 (or UTF-32) at the start.
    case utf16
    /// A byte that is not part of valid UTF-8, at `line:column` (columns counted as the lexer counts them).
    case invalidUTF8(byte: UInt8, line: Int, column: Int)
    /// A NUL byte, which no script has (UTF-16 without a byte-order mark has many).
    case nul(line: Int, column: Int)

    /// Where it is, as `line:col`, if the problem has a place.
    public var place: String? {
        switch self {
        case .utf16: return nil
        case .invalidUTF8(_, let line, let column), .nul(let line, let column): return "\(line):\(column)"
        }
    }

    public var description: String {
        switch self {
        case .utf16: return "the file is UTF-16 (found a byte-order mark); save it as UTF-8"
        case .invalidUTF8(let byte, _, _):
            return "not valid UTF-8 (byte 0x\(String(byte, radix: 16, uppercase: true))); save the file as UTF-8"
        case .nul: return "a NUL byte; is the file UTF-16? save it as UTF-8"
        }
    }
}

extension SourceText {
    /// The text of a script's bytes: UTF-8, after a UTF-8 byte-order mark if
    /// there is one; otherwise what is wrong with the bytes and where.
    ///
    /// ```swift
    /// SourceText.decode(Array("x = 1\n".utf8))          // .success("x = 1\n")
    /// SourceText.decode([0x78, 0xFF])                   // .failure(.invalidUTF8(byte: 0xFF, line: 1, column: 2))
    /// ```
    public static func decode<Bytes: Collection>(_ data: Bytes) -> Result<String, SourceBytesProblem> where Bytes.Element == UInt8 {
        var bytes = Array(data)
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) || bytes.starts(with: [0, 0, 0xFE, 0xFF]) {
            return .failure(.utf16)
        }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        var line = 1, column = 1, offset = 0
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                if encoded.count == 1 && encoded.first == 0 { return .failure(.nul(line: line, column: column)) }
                offset += encoded.count
                if encoded.count == 1 && encoded.first == UInt8(ascii: "\n") {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
            case .error:
                return .failure(.invalidUTF8(byte: bytes[offset], line: line, column: column))
            case .emptyInput:
                return .success(String(decoding: bytes, as: UTF8.self))
            }
        }
    }
}

/// Why a script could not be read: the file (missing, not a regular file,
/// too large) or its bytes (not UTF-8, and where).
public enum ScriptReadError: Error, CustomStringConvertible {
    case file(String)
    case bytes(SourceBytesProblem)

    public var description: String {
        switch self {
        case .file(let message): return message
        case .bytes(let problem): return problem.place.map { "\($0): " } .map { $0 + "\(problem)" } ?? "\(problem)"
        }
    }
}

extension SourceText {
    /// The largest script read: anything longer is not a script typed by a person.
    public static let maxScriptBytes = 64 << 20

    /// The text of the script at `path`, read the one way every front end
    /// reads scripts (`run`, `import`, `:load`, the standard library): only
    /// a regular file (a FIFO would block, a device never end), at most
    /// `maxScriptBytes`, decoded as `decode` does.
    public static func readScript(_ path: String) -> Result<String, ScriptReadError> {
        let bytes: [UInt8]
        do {
            bytes = try readFileBytes(path, atMost: maxScriptBytes)
        } catch let error as EngineError {
            // The caller names the file itself.
            return .failure(.file(error.subject == path ? error.detail : error.message))
        } catch {
            return .failure(.file("\(error)"))
        }
        return decode(bytes).mapError { .bytes($0) }
    }
}
