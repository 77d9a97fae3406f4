import Foundation
import NeuroEngine

/// Set from a signal handler when the user presses Ctrl-C; long-running
/// work polls it and stops at the next safe point.
public enum Interruption {
    private static let flag: UnsafeMutablePointer<Int32> = {
        let pointer = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        pointer.pointee = 0
        return pointer
    }()

    /// Whether an interrupt is pending.
    public static var requested: Bool { flag.pointee != 0 }
    /// Raises the flag (safe to call from a signal handler once `flag` exists).
    public static func request() { flag.pointee = 1 }
    /// Lowers the flag, before running the next command.
    public static func clear() { flag.pointee = 0 }
    /// Touches the flag so it is allocated before a signal handler uses it.
    public static func prepare() { _ = flag }
}

/// How a statement ended.
enum Flow {
    case normal
    case returned(Value)
    case broke
    case continued
}

/// Runs programs. One interpreter serves the REPL, `neuromap run` and
/// `neuromap -e`: globals, the state its vocabulary keeps (a session), and every
/// result persist between calls to `run`.
public final class Interpreter {
    /// The standard library's definitions. Its functions see only this scope
    /// (and the built-ins), so nothing a user names can change what they do.
    public let library = Environment(topLevel: true)
    /// The user's variables; library names show through until a user name hides them.
    public let globals: Environment
    public private(set) var builtins: [String: Builtin] = [:]
    /// Where `print` and command results go.
    public var output: (String) -> Void = { print($0) }
    /// Values from `--set name=value`: a top-level assignment to `name` takes this instead.
    public var overrides: [String: Value] = [:]
    /// Overrides a script has used, to report those it never assigns.
    public private(set) var usedOverrides: Set<String> = []
    /// The directory `import` resolves relative paths against.
    public var baseDirectory = FileManager.default.currentDirectoryPath
    /// The user functions being called, innermost last.
    private var callStack: [(name: String, range: SourceRange, library: Bool)] = []
    private var importing: Set<String> = []
    /// Names the standard library defined.
    public var standardNames: Set<String> { Set(library.localNames) }
    static let maxCallDepth = 180
    /// Statements, loop turns and calls left before the run stops with an
    /// error; nil (the default) for no limit. The fuzzer sets it so no input runs forever.
    public var stepBudget: Int?

    /// The domain words this interpreter was made with.
    public let vocabulary: Vocabulary
    /// State a vocabulary keeps per interpreter (a session), by its type.
    private var attachments: [ObjectIdentifier: AnyObject] = [:]
    /// Remarks to show the user once (e.g. a variable hiding a built-in).
    public var notes: [String] = []

    /// An interpreter of the language's own built-ins and those of `vocabulary`.
    public init(vocabulary: Vocabulary = Vocabulary()) {
        globals = Environment(parent: library, topLevel: true)
        self.vocabulary = vocabulary
        for builtin in Builtins.all(with: vocabulary) { register(builtin) }
        vocabulary.setUp(self)
    }

    /// Parses with this interpreter's statement sugar.
    public func parse(_ source: String) -> (program: [Stmt], diagnostics: [Diagnostic], incomplete: Bool) {
        Interpreter.parse(source, grammar: vocabulary.grammar)
    }

    /// The state of type `T` a vocabulary keeps on this interpreter, made by `make` the first time.
    ///
    /// ```swift
    /// var session: Session { attachment { Session(self) } }
    /// ```
    public func attachment<T: AnyObject>(_ make: () -> T) -> T {
        if let found = attachments[ObjectIdentifier(T.self)] as? T { return found }
        let made = make()
        attachments[ObjectIdentifier(T.self)] = made
        return made
    }

    /// Makes a built-in available by its name.
    public func register(_ builtin: Builtin) {
        builtins[builtin.name] = builtin
    }

    /// Parses without running, with the statement sugar of `grammar`; the diagnostics of every syntax error.
    public static func parse(_ source: String, grammar: Grammar = .plain) -> (program: [Stmt], diagnostics: [Diagnostic], incomplete: Bool) {
        var parser = Parser(source: source, grammar: grammar)
        let program = parser.parseProgram()
        return (program, parser.diagnostics, parser.endedEarly)
    }

    /// Runs a program. Returns the value of a final bare expression (for the
    /// REPL to echo), or nil.
    @discardableResult
    public func run(_ program: [Stmt]) throws -> Value? {
        try run(program, in: globals)
    }

    /// Runs a program at a top level: the user's globals or the library's scope.
    @discardableResult
    public func run(_ program: [Stmt], in scope: Environment) throws -> Value? {
        var last: Value? = nil
        for statement in program {
            last = nil
            switch statement.kind {
            case .expression(let expr):
                // `execute` checks before other statements; a bare call must stop after Ctrl-C too.
                try checkInterrupt(statement.range)
                last = try evaluate(expr, scope)
            default:
                if case .returned = try execute(statement, scope, topLevel: true) {
                    throw RuntimeError("'return' outside a function", at: statement.range)
                }
            }
        }
        return last
    }

    // MARK: - Statements

    func execute(_ statement: Stmt, _ env: Environment, topLevel: Bool = false) throws -> Flow {
        try checkInterrupt(statement.range)
        switch statement.kind {
        case .expression(let expr):
            _ = try evaluate(expr, env)
        case .command(let expr):
            let value = try evaluate(expr, env)
            if case .none = value {} else { output(Formatter.display(value)) }
        case .assign(let target, let valueExpr, let compound):
            var value = try evaluate(valueExpr, env)
            if topLevel, env === globals, compound == nil, case .variable(let name) = target.kind, let override = overrides[name] {
                // The script's own value tells what kind of value belongs here (none: any).
                if case .none = value {} else if value.typeName != override.typeName {
                    throw RuntimeError("--set \(name): the script assigns \(name) a \(value.typeName) here, but --set gave a \(override.typeName)",
                                       at: statement.range)
                }
                value = override
                usedOverrides.insert(name)
            }
            try assign(target, value, env, compound: compound, at: statement.range)
        case .function(let decl):
            guard let name = decl.name else { break }
            env.define(name, .function(Function(name: name, body: .user(decl, env))))
        case .ifElse(let condition, let then, let otherwise):
            if try evaluate(condition, env).isTruthy {
                return try executeBlock(then, env)
            } else if let otherwise {
                return try executeBlock(otherwise, env)
            }
        case .forIn(let variables, let sequenceExpr, let body):
            let items = try iterate(evaluate(sequenceExpr, env), at: sequenceExpr.range)
            for item in items {
                try checkInterrupt(statement.range)
                if variables.count == 1 {
                    env.define(variables[0], item)
                } else {
                    try unpack(item, into: variables, env, at: sequenceExpr.range)
                }
                switch try executeBlock(body, env) {
                case .broke: return .normal
                case .returned(let v): return .returned(v)
                default: continue
                }
            }
        case .whileLoop(let condition, let body):
            while try evaluate(condition, env).isTruthy {
                try checkInterrupt(statement.range)
                switch try executeBlock(body, env) {
                case .broke: return .normal
                case .returned(let v): return .returned(v)
                default: continue
                }
            }
        case .returnValue(let expr):
            return .returned(try expr.map { try evaluate($0, env) } ?? .none)
        case .breakLoop: return .broke
        case .continueLoop: return .continued
        case .importFile(let path):
            try importFile(path, at: statement.range)
        }
        return .normal
    }

    func executeBlock(_ statements: [Stmt], _ env: Environment) throws -> Flow {
        for statement in statements {
            let flow = try execute(statement, env)
            if case .normal = flow { continue }
            return flow
        }
        return .normal
    }

    private func checkInterrupt(_ range: SourceRange) throws {
        if Interruption.requested { throw RuntimeError("interrupted", at: range) }
        if let steps = stepBudget {
            guard steps > 0 else {
                var exhausted = RuntimeError("step budget exhausted", at: range)
                exhausted.stop = .stepBudget
                throw exhausted
            }
            stepBudget = steps - 1
        }
    }

    /// `for k, v in …`: each item is a list (or a tensor row) of as many values as there are names.
    private func unpack(_ item: Value, into names: [String], _ env: Environment, at range: SourceRange) throws {
        let parts: [Value]
        switch item {
        case .list(let values): parts = values
        case .tensor(let t) where t.rank >= 1: parts = try iterate(item, at: range).map { $0 }
        default:
            throw RuntimeError("for \(names.joined(separator: ", ")) in …: each item must be a list of \(names.count) values, got a \(item.typeName)", at: range)
        }
        guard parts.count == names.count else {
            throw RuntimeError("for \(names.joined(separator: ", ")) in …: an item has \(parts.count) value\(parts.count == 1 ? "" : "s"), not \(names.count)", at: range)
        }
        for (name, part) in zip(names, parts) { env.define(name, part) }
    }

    private func iterate(_ value: Value, at range: SourceRange) throws -> AnySequence<Value> {
        switch value {
        case .list(let items): return AnySequence(items)
        // Lazily: `for i in 0..1e12 { … break }` must not build the whole list first.
        case .range(let a, let b): return AnySequence((a..<max(a, b)).lazy.map { .number(Double($0)) })
        case .string(let s): return AnySequence(s.map { .string(String($0)) })
        case .record(let r): return AnySequence(r.keys.map { .string($0) })
        case .tensor(let t):
            guard t.rank >= 1 else { throw RuntimeError("cannot loop over a scalar tensor", at: range) }
            return AnySequence(try (0..<t.shape[0]).map { .tensor(try t.select(axis: 0, index: $0)) })
        default: throw RuntimeError("cannot loop over a \(value.typeName)", at: range)
        }
    }

    private func importFile(_ path: String, at range: SourceRange) throws {
        // Relative to the importing script's folder; `~` is the home folder, as for every other path.
        let expanded = homeExpanded(path)
        let full = expanded.hasPrefix("/") ? expanded : (baseDirectory as NSString).appendingPathComponent(expanded)
        guard !importing.contains(full) else { throw RuntimeError("import cycle: '\(path)' is already being imported", at: range) }
        let source: String
        switch SourceText.readScript(full) {
        case .success(let text): source = text
        case .failure(let problem): throw RuntimeError("cannot import '\(path)' (looked at \(full)): \(problem)", at: range)
        }
        let parsed = parse(source)
        if let first = parsed.diagnostics.first {
            throw RuntimeError("in imported file '\(path)' at \(first.range.start): \(first.message)", at: range)
        }
        importing.insert(full)
        defer { importing.remove(full) }
        do {
            for statement in parsed.program { _ = try execute(statement, globals) }
        } catch var error as RuntimeError {
            if let inner = error.range { error.message = "in imported file '\(path)' at \(inner.start): \(error.message)" }
            error.range = range
            throw error
        }
    }

    // MARK: - Assignment

    /// `x = v`, `xs[i] = v`, `r.k = v`, or with `compound` `x += v` and the
    /// like. A variable this scope may assign is changed in place, so a list
    /// or record that nothing else holds grows without being copied:
    /// `xs += [i]` and `r[k] = v` in a loop are amortised O(1) each. (`ys = xs`
    /// first, and `xs` is copied once, leaving `ys` as it was.)
    private func assign(_ target: Expr, _ value: Value, _ env: Environment, compound: BinaryOperator?, at range: SourceRange) throws {
        // The variable at the root, and the targets from it out to the whole: `r.a[i]` is r, then r.a, r.a[i].
        var root = target
        var levels: [Expr] = []
        findRoot: while true {
            switch root.kind {
            case .index(let base, _):
                levels.append(root)
                root = base
            case .field(let base, _):
                levels.append(root)
                root = base
            default:
                break findRoot
            }
        }
        guard case .variable(let name) = root.kind else { throw RuntimeError("cannot assign to this expression", at: root.range) }
        if levels.isEmpty && compound == nil {
            if builtins[name] != nil && env.lookup(name) == nil && env === globals {
                // Shadowing a built-in at top level is allowed but easy to do by accident.
                notes.append("note: '\(name)' now names a variable, hiding the built-in")
            }
            // Blocks make no scopes; inside a function, assignment reaches enclosing
            // functions' names (closures keep state) but never a top level.
            env.assignLocally(name, value)
            return
        }
        if env.lookup(name) == nil { _ = try evaluate(root, env) }   // "unknown name", with a suggestion
        // Keys are evaluated first, left to right, once each: changing the value in place must not run code.
        let steps = try levels.reversed().map { level -> Operators.AssignStep in
            switch level.kind {
            case .index(_, let items): return .index(try indexKeys(items, env), level.range)
            case .field(_, let name): return .field(name, level.range)
            default: break
            }
            throw RuntimeError("cannot assign to this expression", at: level.range)
        }
        let changed: Void? = try env.modifyLocally(name) { current in
            try Operators.assign(into: &current, steps[...], value, compound: compound, at: range)
        }
        if changed == nil {
            // A global seen from inside a function: functions never change globals, and
            // silently changing a local copy instead would lose the change.
            let how = compound.map { "'\($0.rawValue)='" } ?? "assigning into it"
            throw RuntimeError("'\(name)' is a global, which a function cannot change (\(how) here would change nothing outside); "
                               + "return the new value and assign it at the top level (\(name) = f(\(name))), or work on a local copy (mine = \(name))",
                               at: root.range)
        }
    }

    /// The keys of `x[…]`, evaluated left to right.
    private func indexKeys(_ items: [IndexItem], _ env: Environment) throws -> [IndexKey] {
        try items.map { item -> IndexKey in
            switch item {
            case .single(let e): return .single(try evaluate(e, env))
            case .slice(let a, let b, let c):
                func bound(_ e: Expr?) throws -> Int? {
                    guard let e else { return nil }
                    return try Operators.integer(evaluate(e, env), what: "slice bound", at: e.range)
                }
                return .slice(try bound(a), try bound(b), try bound(c))
            }
        }
    }

    // MARK: - Expressions

    func evaluate(_ expr: Expr, _ env: Environment) throws -> Value {
        switch expr.kind {
        case .number(let n): return .number(n)
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .none: return .none
        case .variable(let name):
            if let value = env.lookup(name) { return value }
            if let builtin = builtins[name] { return .function(Function(name: name, body: .builtin(builtin))) }
            throw RuntimeError(unknownName(name, env), at: expr.range)
        case .list(let items):
            return .list(try items.map { try evaluate($0, env) })
        case .record(let entries):
            var record = Record()
            for (key, valueExpr) in entries { record[key] = try evaluate(valueExpr, env) }
            return .record(record)
        case .unary(let op, let operand):
            return try Operators.unary(op, evaluate(operand, env), at: expr.range)
        case .binary(let op, let left, let right):
            return try Operators.binary(op, evaluate(left, env), evaluate(right, env), at: expr.range)
        case .logical(let isAnd, let left, let right):
            let l = try evaluate(left, env)
            if isAnd { return l.isTruthy ? try evaluate(right, env) : l }
            return l.isTruthy ? l : try evaluate(right, env)
        case .range(let start, let end):
            let a = try Operators.integer(evaluate(start, env), what: "range start", at: start.range)
            let b = try Operators.integer(evaluate(end, env), what: "range end", at: end.range)
            return .range(a, b)
        case .call(let calleeExpr, let arguments):
            return try call(calleeExpr, arguments, env, range: expr.range)
        case .index(let base, let items):
            let container = try evaluate(base, env)
            return try Operators.index(container, indexKeys(items, env), at: expr.range)
        case .field(let base, let name):
            return try Operators.field(evaluate(base, env), name, interpreter: self, at: expr.range)
        case .function(let decl):
            return .function(Function(name: "fn", body: .user(decl, env)))
        case .site(let name, let layer):
            // Stays typed to the built-in: nothing joins the name and layer into text to split again.
            let l = try layer.map { try Operators.integer(evaluate($0, env), what: "layer", at: $0.range) }
            guard let site = vocabulary.site else { throw RuntimeError("'\(name)' names a hook site, and this interpreter knows none", at: expr.range) }
            return site(name, l)
        }
    }

    private func unknownName(_ name: String, _ env: Environment) -> String {
        let candidates = env.allNames + Array(builtins.keys) + Keyword.allCases.map(\.rawValue)
        let suggestion = Suggest.closest(name, among: candidates)
        return "unknown name '\(name)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
    }

    // MARK: - Calls

    private func call(_ calleeExpr: Expr, _ arguments: [Argument], _ env: Environment, range: SourceRange) throws -> Value {
        let callee = try evaluate(calleeExpr, env)
        guard case .function(let function) = callee else {
            var hint = ""
            if case .object(let object) = callee, object.typeName.hasSuffix("model") {
                hint = "; run it with logits(\(describeName(calleeExpr)), tokens) for its logits or run(\(describeName(calleeExpr)), tokens) for its activations"
            }
            throw RuntimeError("\(describe(calleeExpr)) is a \(callee.typeName), not a function\(hint)", at: calleeExpr.range)
        }
        if case .builtin(let builtin) = function.body, builtin.lazy {
            return try callBuiltin(builtin, function: function, positional: [], named: [], expressions: arguments, env, range: range)
        }
        var positional: [Value] = []
        var named: [(label: String, value: Value)] = []
        for argument in arguments {
            let value = try evaluate(argument.value, env)
            if let label = argument.label {
                if named.contains(where: { $0.label == label }) {
                    throw RuntimeError("argument '\(label)' is given twice", at: argument.value.range)
                }
                named.append((label, value))
            } else {
                guard named.isEmpty else {
                    throw RuntimeError("positional arguments must come before named ones", at: argument.value.range)
                }
                positional.append(value)
            }
        }
        return try apply(function, positional: positional, named: named, range: range, env: env)
    }

    /// Calls a function value with evaluated arguments (also used by built-ins
    /// that take functions, such as `hook … with fn(x) { … }`).
    public func apply(_ function: Function, positional: [Value], named: [(label: String, value: Value)] = [],
                      range: SourceRange, env: Environment? = nil) throws -> Value {
        let positional = function.receiver.map { [$0] + positional } ?? positional
        switch function.body {
        case .builtin(let builtin):
            return try callBuiltin(builtin, function: function, positional: positional, named: named, expressions: [],
                                   env ?? globals, range: range)
        case .user(let decl, let closure):
            try checkInterrupt(range)   // a body of bare expressions never reaches `execute`
            guard callStack.count < Interpreter.maxCallDepth else {
                throw RuntimeError("too many nested calls (more than \(Interpreter.maxCallDepth)); is '\(function.name)' recursing without end?", at: range)
            }
            let scope = Environment(parent: closure)
            guard positional.count <= decl.parameters.count else {
                throw RuntimeError(NameCheck.tooManyArguments(function.name, takes: decl.parameters.count, got: positional.count), at: range)
            }
            for (label, _) in named where !decl.parameters.contains(where: { $0.name == label }) {
                throw RuntimeError(NameCheck.unknownParameter(label, of: function.name, decl), at: range)
            }
            for (i, parameter) in decl.parameters.enumerated() {
                if let given = named.first(where: { $0.label == parameter.name })?.value ?? (i < positional.count ? positional[i] : nil) {
                    scope.define(parameter.name, given)
                } else if let fallback = parameter.defaultValue {
                    scope.define(parameter.name, try evaluate(fallback, closure))
                } else {
                    throw RuntimeError("\(function.name)() is missing argument '\(parameter.name)'", at: range)
                }
            }
            let library = isLibrary(function), calledFromLibrary = callStack.last?.library ?? false
            callStack.append((function.name, range, library))
            defer { callStack.removeLast() }
            do {
                return try runBody(decl.body, scope)
            } catch var error as RuntimeError {
                if error.callStack.isEmpty { error.raisedInLibrary = library }
                error.callStack.append((function.name, range))   // each call adds itself once, on the way out
                if error.raisedInLibrary && !calledFromLibrary {
                    // Its place is in a standard-library file, not the caller's: point at the call instead.
                    error = RuntimeError("\(function.name)(): \(error.message)", at: range)
                }
                throw error
            }
        }
    }

    /// Whether `function` is the standard library's own (not one a script defined over its name).
    private func isLibrary(_ function: Function) -> Bool {
        guard case .user(_, let closure) = function.body else { return false }
        var scope: Environment? = closure
        while let s = scope {
            if s === library { return true }
            if s === globals { return false }
            scope = s.parent
        }
        return false
    }

    /// A function body's value: what `return` gives, else its last expression.
    private func runBody(_ body: [Stmt], _ scope: Environment) throws -> Value {
        var last: Value = .none
        for statement in body {
            if case .expression(let expr) = statement.kind {
                last = try evaluate(expr, scope)
                continue
            }
            last = .none
            switch try execute(statement, scope) {
            case .returned(let value): return value
            case .broke, .continued: throw RuntimeError("'break' or 'continue' outside a loop", at: statement.range)
            case .normal: continue
            }
        }
        return last
    }

    private func callBuiltin(_ builtin: Builtin, function: Function, positional: [Value], named: [(label: String, value: Value)],
                             expressions: [Argument], _ env: Environment, range: SourceRange) throws -> Value {
        for (label, _) in named where !builtin.parameters.contains(label) {
            throw RuntimeError(NameCheck.unknownArgument(label, of: builtin), at: range)
        }
        // After Ctrl-C no built-in starts, even one later in the same expression.
        if Interruption.requested { throw RuntimeError("interrupted", at: range) }
        let arguments = CallArguments(function: builtin.name, positional: positional, named: named, expressions: expressions,
                                      environment: env, range: range, interpreter: self)
        do {
            return try builtin.call(arguments)
        } catch let error as RuntimeError {
            throw error.range == nil ? RuntimeError(error.message, at: range) : error
        } catch let error as EngineError {
            throw RuntimeError(error.kind == .interrupted ? "interrupted" : "\(builtin.name): \(error.message)", at: range)
        }
    }

    /// Evaluates an expression in a given environment (for lazy built-ins).
    public func evaluate(_ expr: Expr, in env: Environment) throws -> Value {
        try evaluate(expr, env)
    }

    /// The name to write in a suggestion: the variable's, else `m`.
    private func describeName(_ expr: Expr) -> String {
        if case .variable(let name) = expr.kind { return name }
        return "m"
    }

    private func describe(_ expr: Expr) -> String {
        switch expr.kind {
        case .variable(let name): return "'\(name)'"
        case .field(_, let name): return "field '\(name)'"
        default: return "this value"
        }
    }
}

