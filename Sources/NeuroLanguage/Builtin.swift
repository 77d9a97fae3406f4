import Foundation
import NeuroEngine

/// What a built-in does besides computing its value, so a sandbox (the
/// fuzzer's) can refuse it without keeping a list of names.
public struct BuiltinEffects: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Reads or writes files.
    public static let files = BuiltinEffects(rawValue: 1)
    /// Reads the clock (its value differs run to run).
    public static let clock = BuiltinEffects(rawValue: 2)
    /// Trains or builds models: long-running, sized by its arguments.
    public static let training = BuiltinEffects(rawValue: 4)
}

/// A function the language provides, written in Swift.
public struct Builtin {
    public let name: String
    /// How it is called, for `:help` and docs: `modular(op:, p:, train:, seed:)`.
    public let signature: String
    /// One line saying what it does.
    public let summary: String
    /// Named arguments it accepts (others are an error with a suggestion).
    public let parameters: [String]
    /// Receives its arguments unevaluated (`corrupt(a+1)` keeps `a+1` as an expression).
    public let lazy: Bool
    /// Files, the clock, training: what it does besides computing its value.
    public let effects: BuiltinEffects
    /// The argument whose square sets how much work a call does (a modular
    /// dataset's `p`: p² inputs), by position and name, so a sandbox can keep it small.
    public let quadratic: (position: Int, name: String)?
    public let call: (CallArguments) throws -> Value

    public init(_ name: String, _ signature: String, _ summary: String, parameters: [String] = [], lazy: Bool = false,
                effects: BuiltinEffects = [], quadratic: (position: Int, name: String)? = nil,
                call: @escaping (CallArguments) throws -> Value) {
        self.quadratic = quadratic
        self.name = name
        self.signature = signature
        self.summary = summary
        self.parameters = parameters
        self.lazy = lazy
        self.effects = effects
        self.call = call
    }
}

/// The arguments of one built-in call, with typed accessors whose errors
/// name the function and the argument.
public struct CallArguments {
    public let function: String
    public let positional: [Value]
    public let named: [(label: String, value: Value)]
    /// For lazy built-ins: the argument expressions and where to evaluate them.
    public let expressions: [Argument]
    public let environment: Environment
    public let range: SourceRange
    public let interpreter: Interpreter

    /// Argument `index` by position, or by `name` when given named.
    public func value(_ index: Int?, _ name: String) -> Value? {
        if let found = named.first(where: { $0.label == name }) { return found.value }
        if let index, index < positional.count { return positional[index] }
        return nil
    }

    public func error(_ message: String) -> RuntimeError {
        RuntimeError("\(function): \(message)", at: range)
    }

    public func required(_ index: Int?, _ name: String) throws -> Value {
        guard let v = value(index, name) else { throw error("missing argument '\(name)'") }
        return v
    }

    public func number(_ index: Int?, _ name: String, default fallback: Double? = nil) throws -> Double {
        guard let v = value(index, name) else {
            if let fallback { return fallback }
            throw error("missing argument '\(name)' (a number)")
        }
        if case .number(let n) = v { return n }
        if case .tensor(let t) = v, t.count == 1, let n = try? t.item() { return n }
        throw error("'\(name)' must be a number, got \(v.typeName)")
    }

    public func int(_ index: Int?, _ name: String, default fallback: Int? = nil) throws -> Int {
        let n = try number(index, name, default: fallback.map(Double.init))
        if let problem = Operators.wholeNumberProblem(n) { throw error("'\(name)' \(problem)") }
        return Int(n)
    }

    /// A random seed: a whole number, 0 or more. (A negative one used to be
    /// taken as seed 0, so different seeds silently gave the same numbers.)
    public func seed(_ index: Int?, _ name: String = "seed", default fallback: Int) throws -> UInt64 {
        let n = try int(index, name, default: fallback)
        guard n >= 0 else { throw error("'\(name)' must be 0 or more, got \(n)") }
        return UInt64(n)
    }

    public func string(_ index: Int?, _ name: String, default fallback: String? = nil) throws -> String {
        guard let v = value(index, name) else {
            if let fallback { return fallback }
            throw error("missing argument '\(name)' (a string)")
        }
        guard case .string(let s) = v else { throw error("'\(name)' must be a string, got \(v.typeName)") }
        return s
    }

    /// A file or folder path: a string, with a leading `~` or `~user` read
    /// as that home folder, as a shell would (`load("~/models/x")`).
    public func path(_ index: Int?, _ name: String) throws -> String {
        homeExpanded(try string(index, name))
    }

    public func bool(_ index: Int?, _ name: String, default fallback: Bool) throws -> Bool {
        guard let v = value(index, name) else { return fallback }
        guard case .bool(let b) = v else { throw error("'\(name)' must be true or false, got \(v.typeName)") }
        return b
    }

    public func tensor(_ index: Int?, _ name: String) throws -> Tensor {
        let v = try required(index, name)
        do {
            return try v.asTensor()
        } catch let error as EngineError {
            throw self.error(error.message)   // numbers that make no tensor: rows of different lengths, too many
        } catch {
            throw self.error("'\(name)' must be a tensor (or numbers), got \(v.typeName)")
        }
    }

    public func object<T: NativeObject>(_ index: Int?, _ name: String, as type: T.Type, what: String) throws -> T? {
        guard let v = value(index, name) else { return nil }
        guard case .object(let o) = v, let typed = o as? T else { throw error("'\(name)' must be \(what), got \(v.typeName)") }
        return typed
    }

    /// Fails when more positional arguments were given than `count`.
    public func expectAtMost(_ count: Int) throws {
        if positional.count > count {
            throw error("takes at most \(count) positional argument\(count == 1 ? "" : "s"), got \(positional.count)")
        }
    }
}

extension Value {
    /// Lists nested deeper than this make no tensor (each level is a dimension).
    static let maxTensorNesting = 64

    /// Numbers, lists of numbers and tensors as a tensor (float32 unless integral lists are asked for).
    public func asTensor() throws -> Tensor {
        try asTensor(depth: 0)
    }

    private func asTensor(depth: Int) throws -> Tensor {
        switch self {
        case .tensor(let t): return t
        case .number(let n): return Tensor(scalar: n)
        case .bool(let b): return Tensor(scalar: b ? 1 : 0)
        case .range(let a, let b):
            guard b - a <= Builtins.maxListLength else { throw EngineError(.argument, "the range \(a)..\(b) is too long for a tensor") }
            return try Tensor(Array(a..<max(a, b)).map(Float.init), shape: [max(0, b - a)])
        case .list(let items):
            if items.isEmpty { return try Tensor([], shape: [0]) }
            guard depth < Value.maxTensorNesting else {
                throw EngineError(.argument, "lists nested more than \(Value.maxTensorNesting) deep make no tensor")
            }
            let rows = try items.map { try $0.asTensor(depth: depth + 1) }
            if rows.allSatisfy({ $0.rank == 0 }) {
                return try Tensor(rows.map { Float(try $0.item()) }, shape: [rows.count])
            }
            return try Tensor.stack(rows.map { try $0.cast(to: .float32) }, axis: 0)
        default:
            throw RuntimeError("expected a tensor or numbers, got \(typeName)")
        }
    }
}

/// `path` with a leading `~` or `~user` read as that home folder, as a shell
/// would; any other path unchanged. Every path the language reads or writes
/// goes through it (built-ins, `import`, the REPL's `:load`).
public func homeExpanded(_ path: String) -> String {
    path.hasPrefix("~") ? (path as NSString).expandingTildeInPath : path
}
