/// Resolves names without running: every variable a program reads must be
/// a built-in, or assigned, declared or bound somewhere visible.
/// (`neuromap check`.) Programs that `import` files are trusted for the
/// names those files might define.
public enum NameCheck {
    /// Diagnostics for names that nothing defines, with suggestions.
    public static func unresolved(_ program: [Stmt], interpreter: Interpreter) -> [Diagnostic] {
        if program.contains(where: { if case .importFile = $0.kind { return true }; return false }) { return [] }
        var checker = Checker(known: Set(interpreter.builtins.keys).union(interpreter.globals.allNames))
        checker.declare(program)
        checker.check(program)
        return checker.problems
    }

    private struct Checker {
        var scopes: [Set<String>]
        var problems: [Diagnostic] = []

        init(known: Set<String>) {
            scopes = [known]
        }

        /// Names a block defines anywhere in it (functions may be called before their definition).
        mutating func declare(_ statements: [Stmt]) {
            for statement in statements {
                switch statement.kind {
                case .assign(let target, _, _):
                    if case .variable(let name) = target.kind { scopes[scopes.count - 1].insert(name) }
                case .function(let decl):
                    if let name = decl.name { scopes[scopes.count - 1].insert(name) }
                default: break
                }
            }
        }

        func isKnown(_ name: String) -> Bool { scopes.contains { $0.contains(name) } }

        mutating func check(_ statements: [Stmt]) {
            for statement in statements { check(statement) }
        }

        mutating func withScope(_ names: [String], _ body: (inout Checker) -> Void) {
            scopes.append(Set(names))
            body(&self)
            scopes.removeLast()
        }

        mutating func check(_ statement: Stmt) {
            switch statement.kind {
            case .expression(let e), .command(let e): check(e)
            case .assign(let target, let value, let compound):
                check(value)
                if case .variable(let name) = target.kind {
                    if compound != nil { check(target) }
                    scopes[scopes.count - 1].insert(name)
                } else {
                    check(target)
                }
            case .function(let decl): check(decl)
            // Blocks share their function's scope: what they assign is visible after them.
            case .ifElse(let condition, let then, let otherwise):
                check(condition)
                declare(then)
                check(then)
                if let otherwise { declare(otherwise); check(otherwise) }
            case .forIn(let variable, let sequence, let body):
                check(sequence)
                scopes[scopes.count - 1].insert(variable)
                declare(body)
                check(body)
            case .whileLoop(let condition, let body):
                check(condition)
                declare(body)
                check(body)
            case .returnValue(let value): if let value { check(value) }
            case .breakLoop, .continueLoop, .importFile: break
            }
        }

        mutating func check(_ decl: FunctionDecl) {
            for parameter in decl.parameters { if let d = parameter.defaultValue { check(d) } }
            withScope(decl.parameters.map(\.name)) { c in c.declare(decl.body); c.check(decl.body) }
        }

        mutating func check(_ expr: Expr) {
            switch expr.kind {
            case .variable(let name):
                guard !isKnown(name) else { return }
                let candidates = scopes.flatMap { $0 } + Keyword.allCases.map(\.rawValue)
                let hint = Suggest.closest(name, among: candidates).map { "; did you mean '\($0)'?" } ?? ""
                problems.append(Diagnostic(message: "unknown name '\(name)'\(hint)", range: expr.range))
            case .call(let callee, let arguments):
                check(callee)
                // `corrupt(a + 1)` names the dataset's fields, which exist only when it runs.
                if case .variable("corrupt") = callee.kind { return }
                for argument in arguments { check(argument.value) }
            case .list(let items): items.forEach { check($0) }
            case .record(let entries): entries.forEach { check($0.value) }
            case .unary(_, let e), .field(let e, _): check(e)
            case .binary(_, let a, let b), .logical(_, let a, let b), .range(let a, let b): check(a); check(b)
            case .index(let e, let items):
                check(e)
                for item in items {
                    switch item {
                    case .single(let i): check(i)
                    case .slice(let a, let b, let c): [a, b, c].compactMap { $0 }.forEach { check($0) }
                    }
                }
            case .function(let decl): check(decl)
            case .site(_, let layer): if let layer { check(layer) }
            case .number, .string, .bool, .none: break
            }
        }
    }
}
