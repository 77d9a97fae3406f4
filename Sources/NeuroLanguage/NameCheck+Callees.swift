// MARK: - Knowing what a call calls

extension NameCheck {
    /// What one function scope (or the top level) binds, counted over its
    /// whole body, so a call can tell a function declared once from a name
    /// that may hold anything.
    struct Frame {
        struct Binding {
            var count = 0
            /// The declaration, when a `fn name(…)` statement binds it.
            var function: FunctionDecl?
        }

        let bindings: [String: Binding]

        /// The bindings of a body. Inside a function, a nested function may
        /// assign its names (closures), so nested bodies count too; at the
        /// top level they cannot (a function never assigns the globals).
        static func bindings(of body: [Stmt], parameters: [String], topLevel: Bool) -> [String: Binding] {
            var found: [String: Binding] = [:]
            for name in parameters { found[name, default: Binding()].count += 1 }
            var walker = BindingWalker(intoNestedFunctions: !topLevel)
            walker.visit(body)
            for (name, count) in walker.counts { found[name, default: Binding()].count += count }
            // Only a declaration every run makes: one inside `if` or a loop may not be there.
            for (name, decl) in walker.functions where found[name]?.count == 1 { found[name]?.function = decl }
            return found
        }
    }

    /// Counts what statements bind: assignments to a name, loop variables, function declarations.
    private struct BindingWalker {
        let intoNestedFunctions: Bool
        var counts: [String: Int] = [:]
        /// Declarations outside any block (the others are counted, not kept).
        var functions: [String: FunctionDecl] = [:]
        var blockDepth = 0

        mutating func visit(_ statements: [Stmt]) {
            for statement in statements { visit(statement) }
        }

        mutating func visit(_ statement: Stmt) {
            switch statement.kind {
            case .assign(let target, let value, _):
                if case .variable(let name) = target.kind { counts[name, default: 0] += 1 } else { visit(target) }
                visit(value)
            case .function(let decl):
                if let name = decl.name {
                    counts[name, default: 0] += 1
                    if blockDepth == 0 { functions[name] = decl }
                }
                visitNested(decl)
            case .expression(let e), .command(let e): visit(e)
            case .ifElse(let condition, let then, let otherwise):
                visit(condition)
                visitBlock(then)
                if let otherwise { visitBlock(otherwise) }
            case .forIn(let variables, let sequence, let body):
                for variable in variables { counts[variable, default: 0] += 1 }
                visit(sequence)
                visitBlock(body)
            case .whileLoop(let condition, let body):
                visit(condition)
                visitBlock(body)
            case .returnValue(let value): if let value { visit(value) }
            case .breakLoop, .continueLoop, .importFile: break
            }
        }

        mutating func visitBlock(_ statements: [Stmt]) {
            blockDepth += 1
            visit(statements)
            blockDepth -= 1
        }

        /// Only function literals matter inside expressions (their bodies may assign).
        mutating func visit(_ expr: Expr) {
            guard intoNestedFunctions else { return }
            var stack = [expr]
            while let next = stack.popLast() {
                if case .function(let decl) = next.kind { visitNested(decl); continue }
                stack += SyntaxDepth.children(next).compactMap { if case .expr(let e) = $0 { return e }; return nil }
            }
        }

        /// A nested function's body: everything it binds counts as a possible rebinding.
        mutating func visitNested(_ decl: FunctionDecl) {
            guard intoNestedFunctions else { return }
            var inner = BindingWalker(intoNestedFunctions: true)
            inner.visit(decl.body)
            for (name, count) in inner.counts { counts[name, default: 0] += count + 1 }
        }
    }

    /// What a called name surely is.
    enum Callee {
        case builtin(Builtin)
        case user(name: String, FunctionDecl)
    }
}

extension NameCheck.Checker {
    /// The function `name` calls at `offset`, when it can be known without running:
    /// the innermost scope that binds the name decides; then the standard
    /// library; then the built-ins.
    func callee(_ name: String, at offset: Int) -> NameCheck.Callee? {
        for (index, frame) in frames.enumerated().reversed() {
            guard let binding = frame.bindings[name] else { continue }
            guard binding.count == 1, let decl = binding.function else { return nil }
            if offset < decl.range.start.offset {
                // Called in the same body before the declaration runs: it is not defined yet (or is an outer one).
                if index == frames.count - 1 { return nil }
                // From a function written before it: that function may run before it is declared,
                // and reach what the name meant then.
                let outer = frames[..<index].contains { $0.bindings[name] != nil }
                if outer || interpreter.globals.lookup(name) != nil || interpreter.builtins[name] != nil { return nil }
            }
            return .user(name: name, decl)
        }
        if let value = interpreter.globals.lookup(name) {
            guard case .function(let function) = value, function.receiver == nil else { return nil }
            switch function.body {
            case .user(let decl, _): return .user(name: function.name, decl)
            case .builtin(let builtin): return .builtin(builtin)
            }
        }
        return interpreter.builtins[name].map { .builtin($0) }
    }
}

// MARK: - Where a label is

/// Finds the word of a named argument (`epoch` in `train m on d epoch 10`,
/// `key` in `max(xs, key: f)`): the arguments keep only their values'
/// places, so it reads the token before the value.
struct LabelLocator {
    private let tokens: [Token]
    private let tokenStarting: [Int: Int]

    init(source: String) {
        var lexer = Lexer(source)
        tokens = lexer.tokenize()
        var starts: [Int: Int] = [:]
        for (index, token) in tokens.enumerated() where starts[token.start.offset] == nil { starts[token.start.offset] = index }
        tokenStarting = starts
    }

    /// The range of `label` just before `value` (with or without a colon between), if it is there.
    func range(of label: String, before value: Expr) -> SourceRange? {
        guard var index = tokenStarting[value.range.start.offset], index > 0 else { return nil }
        index -= 1
        if tokens[index].kind == .symbol(.colon), index > 0 { index -= 1 }
        guard tokens[index].kind == .identifier(label) else { return nil }
        return tokens[index].range
    }
}
