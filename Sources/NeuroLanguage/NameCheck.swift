import NeuroEngine
/// What `neuromap check` finds without running a program:
///
/// - names that nothing defines (`prnt(x)`);
/// - named arguments a built-in or a declared function does not take,
///   including a command's words (`train model on data epoch 10`);
/// - too many positional arguments for a declared function, or a required
///   one missing; an argument given twice; a positional one after named ones;
/// - hook names no model has (`ablate mlp_pst 0 with mean`); layers are not
///   checked, since the model is not known.
///
/// A call is checked only where the callee is sure: a built-in no variable
/// hides, or a function declared once in its scope (or in the standard
/// library) and bound nothing else there. Programs that `import` files are
/// trusted for the names those files might define.
public enum NameCheck {
    /// Every problem found, in the order of the text, with suggestions.
    /// Given the `source`, a problem with a named argument points at its
    /// word (`epoch` in `train model on data epoch 10`); without it, at the value.
    ///
    /// ```swift
    /// let parsed = interpreter.parse(source)
    /// NameCheck.unresolved(parsed.program, interpreter: interpreter, source: source)
    /// ```
    public static func unresolved(_ program: [Stmt], interpreter: Interpreter, source: String? = nil) -> [Diagnostic] {
        if program.contains(where: { if case .importFile = $0.kind { return true }; return false }) { return [] }
        var checker = Checker(interpreter: interpreter, labels: source.map(LabelLocator.init))
        checker.frames = [Frame(bindings: Frame.bindings(of: program, parameters: [], topLevel: true))]
        checker.declare(program)
        checker.check(program)
        return checker.problems.enumerated()
            .sorted { ($0.element.range.start.offset, $0.offset) < ($1.element.range.start.offset, $1.offset) }.map(\.element)
    }

    struct Checker {
        let interpreter: Interpreter
        let labels: LabelLocator?
        /// Names visible so far, innermost scope last (built-ins and library names first).
        var scopes: [Set<String>]
        /// What each function scope binds, for knowing what a call calls; parallel to `scopes` after the first.
        var frames: [Frame] = []
        var problems: [Diagnostic] = []

        init(interpreter: Interpreter, labels: LabelLocator?) {
            self.interpreter = interpreter
            self.labels = labels
            scopes = [Set(interpreter.builtins.keys).union(interpreter.globals.allNames)]
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

        mutating func withScope(_ decl: FunctionDecl, _ body: (inout Checker) -> Void) {
            let parameters = decl.parameters.map(\.name)
            scopes.append(Set(parameters))
            frames.append(Frame(bindings: Frame.bindings(of: decl.body, parameters: parameters, topLevel: false)))
            body(&self)
            frames.removeLast()
            scopes.removeLast()
        }

        mutating func report(_ message: String, at range: SourceRange) {
            problems.append(Diagnostic(message: message, range: range))
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
            case .forIn(let variables, let sequence, let body):
                check(sequence)
                scopes[scopes.count - 1].formUnion(variables)
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
            withScope(decl) { c in c.declare(decl.body); c.check(decl.body) }
        }

        mutating func check(_ expr: Expr) {
            switch expr.kind {
            case .variable(let name):
                guard !isKnown(name) else { return }
                // Only the first problems are shown; the rest are counted, so they need no suggestion.
                let shown = problems.count < Diagnostic.maxShown
                let candidates = shown ? scopes.flatMap { $0 } + Keyword.allCases.map(\.rawValue) : []
                let hint = Suggest.closest(name, among: candidates).map { "; did you mean '\($0)'?" } ?? ""
                report("unknown name '\(name)'\(hint)", at: expr.range)
            case .call(let callee, let arguments):
                check(callee)
                // A lazy built-in reads its arguments in its own terms: `corrupt(a + 1)`
                // names the dataset's fields, which exist only when it runs.
                if case .variable(let name) = callee.kind, interpreter.builtins[name]?.lazy == true { return }
                for argument in arguments { check(argument.value) }
                checkArguments(of: expr, callee: callee, arguments)
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
