// Header literals: the JSON of a safetensors header and the Python dict of an .npy header (shared);
// also the one JSON reader of the tokenizer files (NeuroText), which need object members
// in order and keys compared byte for byte, which Foundation's JSONSerialization does not keep.

/// A value from a safetensors JSON header, an NPY Python-literal header, or a JSON file.
public enum HeaderValue {
    case object([(key: String, value: HeaderValue)])
    case array([HeaderValue])
    case string(String)
    case integer(Int)
    case number(Double)
    case bool(Bool)
    case null

    /// The key/value pairs of an object, in order; nil for other values.
    public var members: [(key: String, value: HeaderValue)]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The value of the last member named `key`, if this is an object that has one.
    public func member(_ key: String) -> HeaderValue? {
        members?.last { $0.key == key }?.value
    }

    public var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var bool: Bool? {
        if case .bool(let flag) = self { return flag }
        return nil
    }

    /// The elements of an array (or tuple) when all are integers.
    public var integers: [Int]? {
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
public struct HeaderParser {
    public enum Dialect { case json, python }

    public struct SyntaxError: Error {
        public let message: String
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
    public static func parse(_ bytes: [UInt8], dialect: Dialect) throws -> HeaderValue {
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
