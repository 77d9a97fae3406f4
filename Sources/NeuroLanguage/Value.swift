import NeuroEngine

/// A value in the NeuroMap language.
public enum Value {
    case number(Double)
    case string(String)
    case bool(Bool)
    case none
    case list([Value])
    case record(Record)
    /// `a..b`: the integers from a up to, not including, b.
    case range(Int, Int)
    case tensor(Tensor)
    case function(Function)
    /// A model, dataset, cache or analysis result.
    case object(NativeObject)

    /// The type's name as errors and `type(x)` show it.
    public var typeName: String {
        switch self {
        case .number: return "number"
        case .string: return "string"
        case .bool: return "bool"
        case .none: return "none"
        case .list: return "list"
        case .record: return "record"
        case .range: return "range"
        case .tensor: return "tensor"
        case .function: return "function"
        case .object(let object): return object.typeName
        }
    }

    /// Truth in `if` and `while`: false, none, 0, "" and [] are false, and so
    /// are an empty tensor and a one-element tensor holding 0 (`t[0, 1] > 0.5`
    /// gives such a tensor). A tensor of several elements is true.
    public var isTruthy: Bool {
        switch self {
        case .bool(let b): return b
        case .none: return false
        case .number(let n): return n != 0
        case .string(let s): return !s.isEmpty
        case .list(let items): return !items.isEmpty
        case .range(let a, let b): return b > a
        case .tensor(let t) where t.count <= 1: return t.count == 1 && (try? t.item()).map { $0 != 0 } ?? false
        default: return true
        }
    }
}

/// Fields in insertion order: `{lr: 1e-3, wd: 1.0}`.
public struct Record {
    public private(set) var keys: [String] = []
    private var values: [String: Value] = [:]

    public init(_ pairs: [(String, Value)] = []) {
        for (key, value) in pairs { self[key] = value }
    }

    public subscript(key: String) -> Value? {
        get { values[key] }
        set {
            if values[key] == nil, newValue != nil { keys.append(key) }
            if newValue == nil { keys.removeAll { $0 == key } }
            values[key] = newValue
        }
    }

    public var pairs: [(String, Value)] { keys.compactMap { key in values[key].map { (key, $0) } } }

    /// Runs `body` on the value of an existing field in place (the value is
    /// not copied first, so a list in it can grow without being copied);
    /// nil when there is no such field.
    mutating func modifyField<R>(_ key: String, _ body: (inout Value) throws -> R) rethrows -> R? {
        guard values[key] != nil else { return nil }
        return try body(&values[key, default: .none])
    }
}

/// A callable: a user function (with the environment it closes over) or a built-in.
public final class Function {
    public enum Body {
        case user(FunctionDecl, Environment)
        case builtin(Builtin)
    }

    public let name: String
    public let body: Body
    /// For methods reached through a field (`t.sum`), the value they act on.
    public let receiver: Value?

    public init(name: String, body: Body, receiver: Value? = nil) {
        self.name = name
        self.body = body
        self.receiver = receiver
    }
}

/// An object the engine provides: model, dataset, cache, analysis result.
/// Fields are read with `.name`; results print as compact tables.
public protocol NativeObject: AnyObject {
    var typeName: String { get }
    /// The names `field(_:)` answers, for completion and "did you mean".
    var fieldNames: [String] { get }
    /// The field's value, or nil when there is no such field.
    func field(_ name: String) throws -> Value?
    /// How the REPL and `print` show it.
    var summary: String { get }
}

/// A variable scope; function calls and blocks chain to their parent.
public final class Environment {
    private var values: [String: Value] = [:]
    public let parent: Environment?
    /// Whether this is a top level (the standard library's or the user's
    /// globals): assignment inside a function never reaches past one.
    public let isTopLevel: Bool

    public init(parent: Environment? = nil, topLevel: Bool = false) {
        self.parent = parent
        self.isTopLevel = topLevel
    }

    /// A list nested a million deep (`xs = [xs]` in a loop) frees itself one
    /// level per stack frame, more than the main thread has: a top level
    /// (which lives as long as its interpreter, and may die on any thread)
    /// lets go of its lists and records on a thread with a large stack, as
    /// scripts run on one. Function scopes die where the script runs.
    deinit {
        guard isTopLevel, values.values.contains(where: { if case .list = $0 { return true }; if case .record = $0 { return true }; return false }) else { return }
        let doomed = Doomed(values)
        values = [:]
        _ = try? onLargeStack { doomed.values = [:] }
    }

    /// The value of `name` here or in an enclosing scope.
    public func lookup(_ name: String) -> Value? {
        values[name] ?? parent?.lookup(name)
    }

    /// Assigns to the nearest scope that has `name`, or defines it here.
    public func assign(_ name: String, _ value: Value) {
        var scope: Environment? = self
        while let s = scope {
            if s.values[name] != nil {
                s.values[name] = value
                return
            }
            scope = s.parent
        }
        values[name] = value
    }

    /// Assigns `name` where a function body may: in the nearest enclosing
    /// function scope that already has it (so closures keep state), else here;
    /// never in a top level unless this is one (a function cannot change the
    /// caller's globals, nor the standard library's).
    public func assignLocally(_ name: String, _ value: Value) {
        if isTopLevel {
            values[name] = value
            return
        }
        var scope: Environment? = self
        while let s = scope, !s.isTopLevel {
            if s.values[name] != nil {
                s.values[name] = value
                return
            }
            scope = s.parent
        }
        values[name] = value
    }

    /// Runs `body` on the value of `name` in place, in the scope where
    /// `assignLocally` would assign it; nil (and `body` not run) when `name`
    /// is not there yet. The value is not copied, so changing part of it
    /// (`xs[i] = v`, `xs += [v]`) costs only that part. `body` must not
    /// touch this environment.
    func modifyLocally<R>(_ name: String, _ body: (inout Value) throws -> R) rethrows -> R? {
        var scope: Environment? = self
        while let s = scope, s === self || !s.isTopLevel {
            if s.values[name] != nil { return try body(&s.values[name, default: .none]) }
            if s.isTopLevel { break }
            scope = s.parent
        }
        return nil
    }

    /// Defines `name` in this scope (shadowing outer ones).
    public func define(_ name: String, _ value: Value) {
        values[name] = value
    }

    /// Removes `name` from this scope.
    public func remove(_ name: String) {
        values[name] = nil
    }

    /// Every name visible from here.
    public var allNames: [String] {
        Array(Set(values.keys).union(parent?.allNames ?? []))
    }

    /// Names defined in this scope, sorted.
    public var localNames: [String] { values.keys.sorted() }
}

/// Values on their way out (see `Environment.deinit`).
private final class Doomed: @unchecked Sendable {
    var values: [String: Value]
    init(_ values: [String: Value]) { self.values = values }
}
