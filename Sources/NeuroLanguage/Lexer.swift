/// Turns source text into tokens. Newlines are tokens (they end statements)
/// except inside parentheses and brackets, where expressions may span lines —
/// but inside braces within those (`map(xs, fn(x) { … })`) they end
/// statements again. Comments run from `#` to the end of the line. Lines
/// may end in "\n" or "\r\n".
public struct Lexer {
    private let bytes: [UInt8]
    private let source: String
    /// Which input the text is, stamped on every place (`SourceLocation.input`).
    private let input: Int
    private var index = 0
    private var line = 1
    private var column = 1
    /// The brackets open here, innermost last: `(`, `[` or `{`.
    private var open: [Symbol] = []
    /// Whether the last token can be followed by `.field` (a name, a number, a closing bracket).
    private var afterOperand = false
    public private(set) var diagnostics: [Diagnostic] = []

    public init(_ source: String, input: Int = 0) {
        self.source = source
        self.bytes = Array(source.utf8)
        self.input = input
    }

    /// Every token, ending with `.end`. Malformed pieces (an unterminated
    /// string, a stray character) become diagnostics and are skipped.
    public mutating func tokenize() -> [Token] {
        var tokens: [Token] = []
        while true {
            let token = next()
            tokens.append(token)
            switch token.kind {
            case .identifier, .number, .string, .symbol(.rightParen), .symbol(.rightBracket), .symbol(.rightBrace): afterOperand = true
            default: afterOperand = false
            }
            if token.kind == .end { break }
        }
        return tokens
    }

    private var location: SourceLocation { SourceLocation(line: line, column: column, offset: index, input: input) }

    private func peek(_ ahead: Int = 0) -> UInt8? {
        index + ahead < bytes.count ? bytes[index + ahead] : nil
    }

    private mutating func advance() -> UInt8 {
        let byte = bytes[index]
        index += 1
        if byte == UInt8(ascii: "\n") {
            line += 1
            column = 1
        } else if byte & 0xC0 != 0x80 {
            column += 1   // count characters, not UTF-8 continuation bytes
        }
        return byte
    }

    private func text(from start: SourceLocation) -> String {
        String(decoding: bytes[start.offset..<index], as: UTF8.self)
    }

    private func make(_ kind: TokenKind, from start: SourceLocation) -> Token {
        Token(kind: kind, text: text(from: start), range: SourceRange(start, location))
    }

    private mutating func next() -> Token {
        // A loop, not recursion, past skipped newlines and stray characters:
        // a file of a million of them must not exhaust the stack.
        while true {
            skipSpaceAndComments()
            let start = location
            guard let byte = peek() else { return make(.end, from: start) }
            if byte == UInt8(ascii: "\n") {
                _ = advance()
                if open.last == .leftParen || open.last == .leftBracket {
                    // A line starting with a statement keyword cannot continue an
                    // expression: the bracket was never closed. Ending the line
                    // here lets the error point at it, not at the end of the file.
                    guard startsStatement() else { continue }
                    while let last = open.last, last != .leftBrace { open.removeLast() }
                }
                return make(.newline, from: start)
            }
            // `.5` is a number, but in `blocks.0.mlp` the dot reads a field.
            if isDigit(byte) || (byte == UInt8(ascii: ".") && !afterOperand && peek(1).map(isDigit) == true) { return number(start) }
            if isIdentifierStart(byte) { return identifier(start) }
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") { return string(start, quote: byte) }
            if let token = symbol(start) { return token }
        }
    }

    private mutating func skipSpaceAndComments() {
        while let byte = peek() {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") {
                _ = advance()
            } else if byte == UInt8(ascii: "#") {
                while let b = peek(), b != UInt8(ascii: "\n") { _ = advance() }
            } else if byte == UInt8(ascii: "\\") && peek(1) == UInt8(ascii: "\n") {
                _ = advance(); _ = advance()   // a backslash continues the line
            } else if byte == UInt8(ascii: "\\") && peek(1) == UInt8(ascii: "\r") && peek(2) == UInt8(ascii: "\n") {
                _ = advance(); _ = advance(); _ = advance()   // …ended "\r\n" too
            } else {
                return
            }
        }
    }

    private mutating func number(_ start: SourceLocation) -> Token {
        func digits() { while let b = peek(), isDigit(b) || b == UInt8(ascii: "_") { _ = advance() } }
        digits()
        // `1..5` is a range, `blocks.0.mlp` a name: a dot is a decimal point only before a digit.
        if peek() == UInt8(ascii: "."), let after = peek(1), isDigit(after) {
            _ = advance()
            digits()
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            let signed = peek(1) == UInt8(ascii: "-") || peek(1) == UInt8(ascii: "+")
            if let d = peek(signed ? 2 : 1), isDigit(d) {
                _ = advance()
                if signed { _ = advance() }
                digits()
            }
        }
        let raw = text(from: start).filter { $0 != "_" }
        guard let value = Double(raw) else {
            diagnostics.append(Diagnostic(message: "malformed number '\(raw)'", range: SourceRange(start, location)))
            return make(.number(0), from: start)
        }
        return make(.number(value), from: start)
    }

    private mutating func identifier(_ start: SourceLocation) -> Token {
        while let b = peek(), isIdentifierStart(b) || isDigit(b) { _ = advance() }
        let word = text(from: start)
        if ["f", "F", "rf", "fr", "Rf", "fR"].contains(word), let quote = peek(), quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
            // Python's f"…{x}…": read the string so the rest of the line still parses, and say what to write.
            diagnostics.append(Diagnostic(message: "f-strings are not part of NeuroMap; write format(\"… {} …\", x) (or \"…\" + str(x))",
                                          range: SourceRange(start, location)))
            return string(start, quote: quote)
        }
        if let keyword = Keyword(rawValue: word) { return make(.keyword(keyword), from: start) }
        return make(.identifier(word), from: start)
    }

    private mutating func string(_ start: SourceLocation, quote: UInt8) -> Token {
        _ = advance()
        var value: [UInt8] = []
        while let b = peek() {
            if b == quote {
                _ = advance()
                return make(.string(String(decoding: value, as: UTF8.self)), from: start)
            }
            if b == UInt8(ascii: "\n") { break }
            _ = advance()
            if b == UInt8(ascii: "\\"), let escaped = peek() {
                _ = advance()
                switch escaped {
                case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
                case UInt8(ascii: "t"): value.append(UInt8(ascii: "\t"))
                case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"): value.append(escaped)
                default:
                    diagnostics.append(Diagnostic(message: "unknown escape '\\\(Character(UnicodeScalar(escaped)))' in string",
                                                  range: SourceRange(start, location)))
                }
            } else {
                value.append(b)
            }
        }
        diagnostics.append(Diagnostic(message: "unterminated string; add a closing \(quote == UInt8(ascii: "\"") ? "\"" : "'")",
                                      range: SourceRange(start, location)))
        return make(.string(String(decoding: value, as: UTF8.self)), from: start)
    }

    /// A symbol, or nil for a character that is none (reported, then skipped).
    private mutating func symbol(_ start: SourceLocation) -> Token? {
        // Longest match first: two-character symbols before one-character ones.
        if let first = peek(), let second = peek(1) {
            let pair = String(decoding: [first, second], as: UTF8.self)
            if let symbol = Symbol(rawValue: pair), pair.count == 2 {
                _ = advance(); _ = advance()
                return make(.symbol(symbol), from: start)
            }
        }
        _ = advance()
        // A stray UTF-8 character: consume the whole scalar before reporting it.
        while let b = peek(), b & 0xC0 == 0x80 { _ = advance() }
        let one = text(from: start)
        guard let symbol = Symbol(rawValue: one) else {
            diagnostics.append(Diagnostic(message: "unexpected character '\(one)'", range: SourceRange(start, location)))
            return nil
        }
        switch symbol {
        case .leftParen, .leftBracket, .leftBrace: open.append(symbol)
        case .rightParen, .rightBracket:
            if open.last == .leftParen || open.last == .leftBracket { open.removeLast() }
        case .rightBrace:
            // Closes its `{` and any bracket left open inside it.
            if let brace = open.lastIndex(of: .leftBrace) { open.removeSubrange(brace...) }
        default: break
        }
        return make(.symbol(symbol), from: start)
    }

    /// Whether the line ahead starts with a word that only starts statements:
    /// `if`, `for`, `while`, `return`, `import`, `break`, `continue`, or `fn`
    /// followed by a name (`fn(` is a function value, which may be an argument).
    private func startsStatement() -> Bool {
        var i = index
        while i < bytes.count, bytes[i] == UInt8(ascii: " ") || bytes[i] == UInt8(ascii: "\t") { i += 1 }
        let wordStart = i
        while i < bytes.count, isIdentifierStart(bytes[i]) || isDigit(bytes[i]) { i += 1 }
        let word = String(decoding: bytes[wordStart..<i], as: UTF8.self)
        if ["if", "for", "while", "return", "import", "break", "continue"].contains(word) { return true }
        guard word == "fn" else { return false }
        while i < bytes.count, bytes[i] == UInt8(ascii: " ") || bytes[i] == UInt8(ascii: "\t") { i += 1 }
        return i < bytes.count && isIdentifierStart(bytes[i])
    }

    private func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    private func isIdentifierStart(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || b == UInt8(ascii: "_")
    }
}
