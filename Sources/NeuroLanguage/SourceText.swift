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
