/// A position in source text: 1-based line and column, and the UTF-8 offset.
public struct SourceLocation: Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var offset: Int

    public init(line: Int, column: Int, offset: Int) {
        self.line = line
        self.column = column
        self.offset = offset
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

    /// How the token reads in "expected X after Y" messages.
    public var display: String {
        switch kind {
        case .newline: return "end of line"
        case .end: return "end of input"
        case .string: return "string \(text)"
        default: return "'\(text)'"
        }
    }
}
