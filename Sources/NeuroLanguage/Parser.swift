import NeuroEngine
/// Binding strength of infix operators, weakest first.
enum Precedence: Int, Comparable {
    case lowest
    case or            // a or b
    case and           // a and b
    case not           // not a            (prefix; binds looser than comparisons)
    case comparison    // == != < <= > >=
    case range         // a..b
    case term          // + -
    case factor        // * / % @
    case unary         // -a
    case power         // a ^ b            (right-associative)
    case postfix       // f(x)  x[i]  x.f

    static func < (a: Precedence, b: Precedence) -> Bool { a.rawValue < b.rawValue }
}

/// A hand-written recursive-descent parser with Pratt expressions. It
/// reports every syntax error: after one, it skips to the next statement.
///
/// ```swift
/// var parser = Parser(source: "x = 1 + 2\nprint(x)")
/// let program = parser.parseProgram()      // parser.diagnostics is empty
/// ```
public struct Parser {
    var tokens: [Token]
    var current = 0
    /// Rules open around the current token that can contain themselves: an
    /// expression, a block, an `else if`. Each is one level (see `maxNesting`).
    var nesting = 0
    /// Blocks being parsed, and loops among them since the innermost function
    /// (`break` needs one; a function body starts afresh).
    var openBlocks = 0
    var openLoops = 0
    /// Lines where the lexer already reported an error; a parse error there
    /// is its echo (`x = 1 $ 2`), not news.
    var linesWithLexerErrors: Set<Int> = []
    /// How deep programs may nest: brackets, calls, indexes, operators,
    /// blocks, `else if`s. Deeper is refused rather than risking the stack
    /// of the parser, and of everything that walks the tree after it (the
    /// evaluator, the name checker, Swift freeing the tree).
    public static let maxNesting = 200
    public private(set) var diagnostics: [Diagnostic] = []
    /// Set when the input ended inside an unclosed bracket or block (the REPL then asks for more lines).
    public internal(set) var endedEarly = false

    /// `input` names the text in every place the parser makes (see `SourceText.input`).
    /// The statement sugar a vocabulary adds (`patch SITE with VALUE`).
    let grammar: Grammar

    public init(source: String, input: Int = 0, grammar: Grammar = .plain) {
        self.grammar = grammar
        var lexer = Lexer(source, input: input)
        tokens = lexer.tokenize()
        diagnostics = lexer.diagnostics
        linesWithLexerErrors = Set(lexer.diagnostics.map(\.range.start.line))
    }

    /// Every statement of the program; syntax errors are in `diagnostics`.
    public mutating func parseProgram() -> [Stmt] {
        var statements: [Stmt] = []
        skipSeparators()
        while !isAtEnd {
            if let statement = recovering({ p in try p.statement() }) { statements.append(statement) }
            skipSeparators()
        }
        // The lexer's errors came first; report all in the order of the text.
        diagnostics = diagnostics.enumerated()
            .sorted { ($0.element.range.start.offset, $0.offset) < ($1.element.range.start.offset, $1.offset) }.map(\.element)
        return statements
    }

    // MARK: - Expressions

    /// An expression whose operators bind at least as tightly as `minimum`.
    mutating func expression(_ minimum: Precedence = .lowest) throws -> Expr {
        // Every operand, argument, index, item and field value is parsed here,
        // so counting this rule bounds how deep the parser recurses.
        try enterLevel(at: peek)
        defer { nesting -= 1 }
        var left = try prefix()
        while let precedence = infixPrecedence(peek.kind), precedence > minimum {
            let op = peek
            left = try infix(left, precedence)
            // A chain recurses no deeper here, but each operator puts what came
            // before one level deeper in the tree (`1 + 2 + 3` is `(1 + 2) + 3`,
            // `f()()` calls a call): measured, as it is for everything that walks it.
            guard nesting - 1 + left.depth <= Parser.maxNesting else {
                throw error(at: op, Parser.tooDeep + "; split the expression across variables")
            }
        }
        return left
    }

    /// "nesting deeper than 200 levels": one message for every rule.
    static let tooDeep = "nesting deeper than \(maxNesting) levels"

    /// Opens one level of nesting at `token` (the caller closes it), or
    /// refuses there when that would be more than `maxNesting`.
    mutating func enterLevel(at token: Token) throws {
        guard nesting < Parser.maxNesting else { throw error(at: token, Parser.tooDeep) }
        nesting += 1
    }

    /// How tightly an infix token binds; `^` is right-associative (its right
    /// operand is parsed at `.unary`, so a further `^` joins it).
    func infixPrecedence(_ kind: TokenKind) -> Precedence? {
        switch kind {
        case .keyword(.or): return .or
        case .keyword(.and): return .and
        case .symbol(.equalEqual), .symbol(.bangEqual), .symbol(.less), .symbol(.lessEqual),
             .symbol(.greater), .symbol(.greaterEqual): return .comparison
        case .symbol(.dotDot): return .range
        case .symbol(.plus), .symbol(.minus): return .term
        case .symbol(.star), .symbol(.slash), .symbol(.percent), .symbol(.at): return .factor
        case .symbol(.caret): return .power
        case .symbol(.leftParen), .symbol(.leftBracket), .symbol(.dot): return .postfix
        default: return nil
        }
    }

    mutating func prefix() throws -> Expr {
        let token = peek
        switch token.kind {
        case .number(let value): advance(); return Expr(kind: .number(value), range: token.range)
        case .string(let value): advance(); return Expr(kind: .string(value), range: token.range)
        case .keyword(.true): advance(); return Expr(kind: .bool(true), range: token.range)
        case .keyword(.false): advance(); return Expr(kind: .bool(false), range: token.range)
        case .keyword(.none): advance(); return Expr(kind: .none, range: token.range)
        case .identifier(let name): advance(); return Expr(kind: .variable(name), range: token.range)
        case .symbol(.minus):
            advance()
            let operand = try expression(.unary)
            return Expr(kind: .unary(.negate, operand), range: span(token))
        case .keyword(.not):
            advance()
            let operand = try expression(.not)
            return Expr(kind: .unary(.not, operand), range: span(token))
        case .symbol(.leftParen):
            advance()
            let inner = try expression()
            try consume(.symbol(.rightParen), "expected ')' to close '(' at \(token.start)")
            return Expr(kind: inner.kind, range: span(token))
        case .symbol(.leftBracket):
            advance()
            let items = try commaList(until: .rightBracket, what: "list item") { p in try p.expression() }
            return Expr(kind: .list(items), range: span(token))
        case .symbol(.leftBrace):
            return try record()
        case .keyword(.fn):
            let decl = try functionDecl(named: false)
            return Expr(kind: .function(decl), range: decl.range)
        default:
            throw error(at: token, "expected an expression, found \(token.display)")
        }
    }

    mutating func record() throws -> Expr {
        let open = peek
        advance()
        let entries = try commaList(until: .rightBrace, what: "record field") { p -> (key: String, value: Expr) in
            let key: String
            switch p.peek.kind {
            case .identifier(let name): key = name
            case .string(let name): key = name
            default: throw p.error(at: p.peek, "expected a field name in the record, found \(p.peek.display)")
            }
            p.advance()
            try p.consume(.symbol(.colon), "expected ':' after record field '\(key)'")
            return (key, try p.expression())
        }
        return Expr(kind: .record(entries), range: span(open))
    }

    mutating func infix(_ left: Expr, _ precedence: Precedence) throws -> Expr {
        let token = peek
        advance()
        let start = left.range.start
        func range() -> SourceRange { SourceRange(start, previous.range.end) }
        switch token.kind {
        case .keyword(.or), .keyword(.and):
            let right = try expression(precedence)
            return Expr(kind: .logical(isAnd: token.kind == .keyword(.and), left, right), range: range())
        case .symbol(.dotDot):
            let right = try expression(.range)
            return Expr(kind: .range(left, right), range: range())
        case .symbol(.leftParen):
            let arguments = try commaList(until: .rightParen, what: "argument") { p -> Argument in
                if case .identifier(let label) = p.peek.kind, p.peekNext.kind == .symbol(.colon) {
                    p.advance(); p.advance()
                    return Argument(label: label, value: try p.expression())
                }
                if case .identifier(let label) = p.peek.kind, p.peekNext.kind == .symbol(.equal) {
                    let hint = label == "dim" ? "axis: …" : "\(label): …"
                    throw p.error(at: p.peekNext, "arguments are named with ':', not '='; write \(hint)")
                }
                return Argument(label: nil, value: try p.expression())
            }
            return Expr(kind: .call(left, arguments), range: range())
        case .symbol(.leftBracket):
            let items = try commaList(until: .rightBracket, what: "index") { p in try p.indexItem() }
            if items.isEmpty { throw error(at: previous, "expected an index inside '[]'") }
            return Expr(kind: .index(left, items), range: range())
        case .symbol(.dot):
            let name = try identifier("a field name after '.'")
            return Expr(kind: .field(left, name), range: range())
        case .symbol(let symbol):
            guard let op = BinaryOperator(rawValue: symbol.rawValue) else { throw error(at: token, "unexpected \(token.display)") }
            let right = try expression(op == .power ? .unary : precedence)
            return Expr(kind: .binary(op, left, right), range: range())
        default:
            throw error(at: token, "unexpected \(token.display)")
        }
    }

    mutating func indexItem() throws -> IndexItem {
        func bound(_ p: inout Parser) throws -> Expr? {
            p.peek.kind == .symbol(.colon) || p.peek.kind == .symbol(.comma) || p.peek.kind == .symbol(.rightBracket)
                ? nil : try p.expression()
        }
        let first = try bound(&self)
        guard peek.kind == .symbol(.colon) else {
            guard let first else { throw error(at: peek, "expected an index, found \(peek.display)") }
            return .single(first)
        }
        advance()
        let end = try bound(&self)
        var step: Expr? = nil
        if peek.kind == .symbol(.colon) {
            advance()
            step = try bound(&self)
        }
        return .slice(first, end, step)
    }

    /// Items separated by commas up to the closing symbol (a trailing comma and newlines are fine).
    mutating func commaList<T>(until close: Symbol, what: String, _ item: (inout Parser) throws -> T) throws -> [T] {
        let opener = previous
        var items: [T] = []
        // `[x * 2 for x in xs]`: a `for` on the line of an item, in a list, is Python's comprehension.
        var itemLine: Int? = nil
        func comprehension(_ p: Parser) -> Bool {
            close == .rightBracket && p.peek.kind == .keyword(.for) && p.peek.range.start.line == itemLine
        }
        let comprehensionHint = "list comprehensions are not part of NeuroMap; write map(xs, fn(x) { … }) (and filter(xs, fn(x) { … }) for an 'if')"
        skipNewlines()
        while peek.kind != .symbol(close) {
            if comprehension(self) { throw error(at: peek, comprehensionHint) }
            if leavesBrackets(peek) { throw unclosed(opener, close) }
            items.append(try item(&self))
            itemLine = previous.range.end.line
            if comprehension(self) { throw error(at: peek, comprehensionHint) }
            skipNewlines()
            if peek.kind == .symbol(.comma) {
                advance()
                skipNewlines()
            } else if leavesBrackets(peek) {
                throw unclosed(opener, close)
            } else if peek.kind != .symbol(close) {
                throw error(at: peek, "expected ',' or '\(close.rawValue)' after \(what), found \(peek.display)")
            }
        }
        advance()
        return items
    }

    /// The end of the input, or a word that only starts a statement (`fn`
    /// only before a name): inside brackets, a sign that one was never closed.
    func leavesBrackets(_ token: Token) -> Bool {
        switch token.kind {
        case .end: return true
        case .keyword(.fn): if case .identifier = peekNext.kind { return true }
        case .keyword(let k): return [.if, .for, .while, .return, .import, .break, .continue].contains(k)
        default: break
        }
        return false
    }

    /// The error for a bracket never closed. It steps back to the line break
    /// before the statement word, so recovery resumes at that statement.
    mutating func unclosed(_ opener: Token, _ close: Symbol) -> Diagnostic {
        let diagnostic = error(at: peek, "expected '\(close.rawValue)' to close '\(opener.text)' at \(opener.start), found \(peek.display)")
        if isAtEnd { endedEarly = true }
        while current > 0, tokens[current - 1].kind == .newline { current -= 1 }
        return diagnostic
    }

    // MARK: - Helpers

    var peek: Token { tokens[current] }
    var peekNext: Token { tokens[min(current + 1, tokens.count - 1)] }
    var previous: Token { tokens[max(current - 1, 0)] }
    var isAtEnd: Bool { peek.kind == .end }

    mutating func advance() {
        if current < tokens.count - 1 { current += 1 }
    }

    mutating func consume(_ kind: TokenKind, _ message: String) throws {
        guard peek.kind == kind else { throw error(at: peek, "\(message), found \(peek.display)") }
        advance()
    }

    mutating func identifier(_ what: String) throws -> String {
        guard case .identifier(let name) = peek.kind else {
            if case .keyword(let keyword) = peek.kind {
                throw error(at: peek, "expected \(what), found the keyword '\(keyword.rawValue)'")
            }
            throw error(at: peek, "expected \(what), found \(peek.display)")
        }
        advance()
        return name
    }

    func span(_ start: Token) -> SourceRange { SourceRange(start.start, previous.range.end) }

    func endsStatement(_ token: Token) -> Bool {
        switch token.kind {
        case .newline, .end, .symbol(.semicolon), .symbol(.rightBrace): return true
        default: return false
        }
    }

    func startsExpression(_ token: Token) -> Bool {
        switch token.kind {
        case .number, .string, .identifier: return true
        case .keyword(let k): return [.true, .false, .none, .not, .fn].contains(k)
        case .symbol(let s): return [.leftParen, .leftBracket, .leftBrace, .minus].contains(s)
        default: return false
        }
    }

    /// A command's first argument: a value that cannot continue an expression.
    func startsCommandArgument(_ token: Token) -> Bool {
        switch token.kind {
        case .number, .string, .identifier: return true
        case .keyword(let k): return [.true, .false, .none, .not, .fn].contains(k)
        case .symbol(.leftBrace): return true
        default: return false
        }
    }

    func startsSite(_ token: Token) -> Bool {
        switch token.kind {
        case .identifier, .string: return true
        default: return false
        }
    }

    mutating func skipNewlines() {
        while peek.kind == .newline { advance() }
    }

    mutating func skipSeparators() {
        while peek.kind == .newline || peek.kind == .symbol(.semicolon) { advance() }
    }

    func describe(_ statement: Stmt) -> String {
        switch statement.kind {
        case .assign: return "the assignment"
        case .command(let e):
            if case .call(let callee, _) = e.kind, case .variable(let name) = callee.kind { return "'\(name) …'" }
            return "the command"
        case .expression: return "the expression"
        default: return "the statement"
        }
    }

    func error(at token: Token, _ message: String) -> Diagnostic {
        // Something missing at the end of a line or of the input is pointed at
        // right after what came before, not past a comment or on the next line.
        if token.kind == .newline || token.kind == .end, token.range == peek.range,
           let before = tokens[..<current].last(where: { $0.kind != .newline }) {
            return Diagnostic(message: message, range: SourceRange(before.range.end, before.range.end))
        }
        return Diagnostic(message: message, range: token.range)
    }

    /// Runs one statement's parse; on an error, records it, skips to the
    /// next statement and returns nil.
    mutating func recovering(_ parse: (inout Parser) throws -> Stmt) -> Stmt? {
        let start = current
        do {
            return try parse(&self)
        } catch let diagnostic as Diagnostic {
            if !linesWithLexerErrors.contains(diagnostic.range.start.line) { diagnostics.append(diagnostic) }
            synchronize(from: start)
            return nil
        } catch {
            return nil
        }
    }

    /// Skips to the end of the current statement, keeping braces balanced:
    /// those the statement opened before the error count too (`x = {1: 2}`),
    /// and outside any block a `}` closes nothing, so it is skipped.
    mutating func synchronize(from start: Int) {
        let startColumn = tokens[start].start.column
        var depth = 0
        for token in tokens[start..<max(start, current)] {
            if token.kind == .symbol(.leftBrace) { depth += 1 }
            if token.kind == .symbol(.rightBrace) { depth = max(0, depth - 1) }
        }
        if current == start { advance() }
        while !isAtEnd {
            switch peek.kind {
            case .symbol(.leftBrace): depth += 1
            case .symbol(.rightBrace):
                if depth == 0 && openBlocks > 0 { return }
                depth = max(0, depth - 1)
            case .newline, .symbol(.semicolon):
                if depth == 0 { return }
                // With a brace left open, a line starting no further right than
                // the failed statement did is the next statement.
                if peek.kind == .newline, let next = tokens[current...].first(where: { $0.kind != .newline }),
                   next.kind != .symbol(.rightBrace), next.start.column <= startColumn {
                    return
                }
            default: break
            }
            advance()
        }
    }
}
