/// A position in source text: 1-based line and column, the UTF-8 offset,
/// and which input the text is (see `SourceText.input`; the REPL parses each
/// entry as its own input, and a function keeps the places of the one it
/// was defined in).
public struct SourceLocation: Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var offset: Int
    public var input: Int

    public init(line: Int, column: Int, offset: Int, input: Int = 0) {
        self.line = line
        self.column = column
        self.offset = offset
        self.input = input
    }

    public var description: String { "\(line):\(column)" }
}

/// A stretch of source text, for carets under the place an error is.
public struct SourceRange: Equatable, Sendable {
    public var start: SourceLocation
    public var end: SourceLocation

    public init(_ start: SourceLocation, _ end: SourceLocation) {
        self.start = start
        self.end = end
    }

    /// The input the range is in.
    public var input: Int { start.input }
}

/// The kinds of token the lexer makes.
public enum TokenKind: Equatable, Sendable {
    case number(Double)
    case string(String)
    case identifier(String)
    case keyword(Keyword)
    case symbol(Symbol)
    case newline
    case end
}

/// Words reserved everywhere. Domain words (`train`, `patch`, `ablate`, …)
/// are not keywords: they start a statement only where one can start, so
/// `train(model, data)` stays an ordinary call.
public enum Keyword: String, CaseIterable, Sendable {
    case fn, `if`, `else`, `for`, `in`, `while`, `return`, `import`, `true`, `false`, none, and, or, not, `break`, `continue`
}

/// Punctuation and operators.
public enum Symbol: String, CaseIterable, Sendable {
    case leftParen = "(", rightParen = ")", leftBracket = "[", rightBracket = "]", leftBrace = "{", rightBrace = "}"
    case comma = ",", colon = ":", semicolon = ";", dot = ".", dotDot = ".."
    case plus = "+", minus = "-", star = "*", slash = "/", percent = "%", caret = "^", at = "@"
    case equal = "=", equalEqual = "==", bangEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
    case plusEqual = "+=", minusEqual = "-=", starEqual = "*=", slashEqual = "/="
}

/// One token, with where it came from.
public struct Token: Equatable, Sendable {
    public let kind: TokenKind
    public let text: String
    public let range: SourceRange

    public var start: SourceLocation { range.start }

    /// How the token reads in "expected X after Y" messages (a long one
    /// shortened, control characters escaped).
    public var display: String {
        switch kind {
        case .newline: return "end of line"
        case .end: return "end of input"
        case .string: return "string \(Diagnostic.excerpt(text))"
        default: return "'\(Diagnostic.excerpt(text))'"
        }
    }
}
