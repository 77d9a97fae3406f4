import NeuroEngine

/// The statement rules of the grammar, in the order `statement` tries them.
extension Parser {
    // MARK: - Statements

    mutating func statement() throws -> Stmt {
        let start = peek
        let statement: Stmt
        switch start.kind {
        case .keyword(.fn) where peekNext.kind != .symbol(.leftParen):
            let decl = try functionDecl(named: true)
            statement = Stmt(kind: .function(decl), range: decl.range)
        case .keyword(.if): statement = try ifStatement()
        case .keyword(.for):
            advance()
            var variables = [try identifier("a loop variable after 'for'")]
            while peek.kind == .symbol(.comma) {
                advance()
                variables.append(try identifier("a loop variable after 'for \(variables.joined(separator: ", ")),'"))
            }
            try consume(.keyword(.in), "expected 'in' after 'for \(variables.joined(separator: ", "))'")
            let sequence = try expression()
            let body = try loopBody(after: "for … in …")
            statement = Stmt(kind: .forIn(variables, sequence, body), range: span(start))
        case .keyword(.while):
            advance()
            let condition = try condition(after: "while")
            let body = try loopBody(after: "while condition")
            statement = Stmt(kind: .whileLoop(condition, body), range: span(start))
        case .keyword(.return):
            advance()
            let value = endsStatement(peek) ? nil : try expression()
            statement = Stmt(kind: .returnValue(value), range: span(start))
        case .keyword(.break), .keyword(.continue):
            guard openLoops > 0 else { throw error(at: start, "'\(start.text)' outside a loop") }
            advance()
            statement = Stmt(kind: start.kind == .keyword(.break) ? .breakLoop : .continueLoop, range: span(start))
        case .keyword(.import):
            advance()
            guard case .string(let path) = peek.kind else { throw error(at: peek, "expected a file name in quotes after 'import'") }
            advance()
            statement = Stmt(kind: .importFile(path), range: span(start))
        case .identifier("def") where { if case .identifier = peekNext.kind { return true } else { return false } }():
            throw error(at: start, "functions are defined with fn, not def: fn name(x) { … }")
        case .identifier(let word) where grammar.sugar(word) != nil && startsSite(peekNext):
            statement = try siteStatement(word)
        case .identifier where startsCommandArgument(peekNext):
            statement = try commandStatement()
        default:
            statement = try expressionOrAssignment()
        }
        guard endsStatement(peek) else {
            throw error(at: peek, "expected end of line after \(describe(statement)), found \(peek.display)\(keywordHint(statement))")
        }
        return statement
    }

    /// "; did you mean 'while'?" when a misspelt keyword is the likely cause:
    /// the word where the statement should have ended (`x = 1 adn y`), or a
    /// command's name (`whille x < 3 { … }` reads as the command `whille`).
    func keywordHint(_ statement: Stmt) -> String {
        var word: String? = nil
        if case .identifier(let found) = peek.kind {
            word = found
        } else if case .command(let call) = statement.kind, case .call(let callee, _) = call.kind, case .variable(let name) = callee.kind {
            word = name
        }
        guard let word, word.count >= 3, let keyword = Suggest.closest(word, among: Keyword.allCases.map(\.rawValue)) else { return "" }
        return "; did you mean '\(keyword)'?"
    }

    mutating func expressionOrAssignment() throws -> Stmt {
        let start = peek
        let target = try expression()
        let compound: [Symbol: BinaryOperator?] = [.equal: nil, .plusEqual: .add, .minusEqual: .subtract,
                                                   .starEqual: .multiply, .slashEqual: .divide]
        guard case .symbol(let symbol) = peek.kind, let op = compound[symbol] else {
            return Stmt(kind: .expression(target), range: target.range)
        }
        switch target.kind {
        case .variable, .index, .field: break
        default: throw error(at: start, "cannot assign to this expression; assign to a name, an index or a field")
        }
        advance()
        let value = try expression()
        return Stmt(kind: .assign(target: target, value: value, compound: op), range: span(start))
    }

    /// `name arg word value …` is the call `name(arg, word: value, …)`:
    /// `train model on data epochs 2000`, `fourier model`, `save model to "m.safetensors"`.
    mutating func commandStatement() throws -> Stmt {
        let start = peek
        let name = try identifier("a command")
        // `report to "x.html"`: a word then a literal is an option, and the command has no positional argument.
        var arguments: [Argument] = []
        if !startsOptionPair {
            arguments.append(Argument(label: nil, value: try expression()))
        }
        arguments += try commandOptions()
        let callee = Expr(kind: .variable(name), range: start.range)
        return Stmt(kind: .command(Expr(kind: .call(callee, arguments), range: span(start))), range: span(start))
    }

    /// Whether the next tokens are `word "literal"` or `word 12`: an option, not a positional argument.
    var startsOptionPair: Bool {
        guard case .identifier = peek.kind else { return false }
        switch peekNext.kind {
        case .string, .number: return true
        default: return false
        }
    }

    /// Trailing `word value` pairs of a command.
    mutating func commandOptions() throws -> [Argument] {
        var options: [Argument] = []
        while case .identifier(let word) = peek.kind {
            advance()
            guard startsExpression(peek) else { throw error(at: peek, "expected a value after '\(word)', found \(peek.display)") }
            options.append(Argument(label: word, value: try expression()))
        }
        return options
    }

    /// A vocabulary's statement sugar: `patch SITE with VALUE`, `ablate SITE
    /// with mean`, `hook SITE with fn(x) { … }`, with its qualifiers
    /// (`head H`, `pos P`, `neuron N`) after the site.
    mutating func siteStatement(_ word: String) throws -> Stmt {
        let start = peek
        let sugar = grammar.sugar(word) ?? StatementSugar(word)
        advance()
        var arguments = [Argument(label: nil, value: try site(sugar))]
        while case .identifier(let qualifier) = peek.kind, sugar.qualifiers.contains(qualifier) {
            advance()
            arguments.append(Argument(label: qualifier, value: try expression(.term)))
        }
        guard case .identifier("with") = peek.kind else {
            throw error(at: peek, "expected 'with' after the hook name in '\(word)', found \(peek.display)")
        }
        advance()
        var value = try expression()
        // `ablate … with mean` names a method: a bare word reads as its name.
        if case .variable(let method) = value.kind, sugar.bareWords.contains(method) {
            value = Expr(kind: .string(method), range: value.range)
        }
        arguments.append(Argument(label: "with", value: value))
        arguments += try commandOptions()
        let callee = Expr(kind: .variable(word), range: start.range)
        return Stmt(kind: .command(Expr(kind: .call(callee, arguments), range: span(start))), range: span(start))
    }

    /// A hook name: `blocks.0.mlp.hook_post`, `embed`, `pattern 0`, `mlp_post (l + 1)`.
    mutating func site(_ sugar: StatementSugar) throws -> Expr {
        let start = peek
        // A quoted site is taken whole: `ablate "scale 0 ln1" with mean`.
        if case .string(let quoted) = peek.kind {
            advance()
            return Expr(kind: .site(name: quoted, layer: nil), range: span(start))
        }
        var name = try identifier("a hook name")
        while peek.kind == .symbol(.dot) {
            advance()
            switch peek.kind {
            case .identifier(let part): name += ".\(part)"
            case .number(let n) where n == n.rounded() && n >= 0 && n < 1e15: name += ".\(Int(n))"
            default: throw error(at: peek, "expected the rest of the hook name after '\(name).'")
            }
            advance()
        }
        var layer: Expr? = nil
        switch peek.kind {
        case .number, .symbol(.leftParen), .symbol(.minus):
            layer = try expression(.unary)
        case .identifier(let word) where word != "with" && !sugar.qualifiers.contains(word):
            layer = try expression(.unary)
        default: break
        }
        return Expr(kind: .site(name: name, layer: layer), range: span(start))
    }

    /// An `if` or `while` condition. A `{` there is the block come too early
    /// (`while { … }`), not a record to test.
    mutating func condition(after keyword: String) throws -> Expr {
        if peek.kind == .symbol(.leftBrace) { throw error(at: peek, "expected a condition after '\(keyword)', found '{'") }
        return try expression()
    }

    mutating func ifStatement() throws -> Stmt {
        let start = peek
        advance()
        let condition = try condition(after: "if")
        let then = try block(after: "if condition")
        var otherwise: [Stmt]? = nil
        if peek.kind == .keyword(.else) || (peek.kind == .newline && peekNext.kind == .keyword(.else)) {
            if peek.kind == .newline { advance() }
            advance()
            if peek.kind == .keyword(.if) {
                // Each `else if` nests one level deeper in the tree, as a block does.
                try enterLevel(at: peek)
                defer { nesting -= 1 }
                otherwise = [try ifStatement()]
            } else {
                otherwise = try block(after: "else")
            }
        }
        return Stmt(kind: .ifElse(condition, then, otherwise), range: span(start))
    }

    mutating func loopBody(after context: String) throws -> [Stmt] {
        openLoops += 1
        defer { openLoops -= 1 }
        return try block(after: context)
    }

    mutating func block(after context: String) throws -> [Stmt] {
        guard peek.kind == .symbol(.leftBrace) else { throw error(at: peek, "expected '{' after \(context), found \(peek.display)") }
        try enterLevel(at: peek)
        openBlocks += 1
        defer { nesting -= 1; openBlocks -= 1 }
        let open = peek
        advance()
        var statements: [Stmt] = []
        skipSeparators()
        while peek.kind != .symbol(.rightBrace) {
            if isAtEnd {
                endedEarly = true   // more lines may close it (the REPL keeps reading)
                throw error(at: peek, "expected '}' to close the block opened at \(open.start)")
            }
            if let statement = recovering({ p in try p.statement() }) { statements.append(statement) }
            skipSeparators()
        }
        advance()
        return statements
    }

    mutating func functionDecl(named: Bool) throws -> FunctionDecl {
        let start = peek
        advance()   // fn
        let name = named ? try identifier("a function name after 'fn'") : nil
        try consume(.symbol(.leftParen), "expected '(' after \(name.map { "'fn \($0)'" } ?? "'fn'")")
        var parameters: [Parameter] = []
        while peek.kind != .symbol(.rightParen) {
            let parameter = try identifier("a parameter name")
            var defaultValue: Expr? = nil
            if peek.kind == .symbol(.colon) || peek.kind == .symbol(.equal) {
                advance()
                defaultValue = try expression()
            }
            if parameters.contains(where: { $0.name == parameter }) {
                throw error(at: previous, "parameter '\(parameter)' appears twice")
            }
            parameters.append(Parameter(name: parameter, defaultValue: defaultValue))
            if peek.kind != .symbol(.comma) { break }
            advance()
        }
        try consume(.symbol(.rightParen), "expected ')' after parameters")
        let enclosingLoops = openLoops
        openLoops = 0
        defer { openLoops = enclosingLoops }
        let body = try block(after: "the parameters of \(name.map { "'\($0)'" } ?? "a function")")
        return FunctionDecl(name: name, parameters: parameters, body: body, range: span(start))
    }
}
