import Foundation
import NeuroEngine

/// Every built-in the language starts with.
public enum Builtins {
    public static var all: [Builtin] { core + tensorFunctions + domain }

    /// A built-in that applies a tensor operation to its first argument,
    /// with an optional `axis` (also reachable as a method: `t.sum(axis: 0)`).
    static func tensorOp(_ name: String, _ summary: String, axis: Bool = false,
                         _ body: @escaping (Tensor, Int?) throws -> Tensor) -> Builtin {
        Builtin(name, axis ? "\(name)(t, axis: -1)" : "\(name)(t)", summary, parameters: axis ? ["axis", "t"] : ["t"]) { args in
            let t = try args.tensor(0, "t")
            let a = args.value(1, "axis") == nil ? nil : try args.int(1, "axis")
            return .tensor(try Operators.engine { try body(t.dtype.isFloatingPoint ? t : t.cast(to: .float32), a) })
        }
    }

    // MARK: - Values, printing, math

    static var core: [Builtin] {
        [
            Builtin("print", "print(a, b, …)", "print values separated by spaces") { args in
                args.interpreter.output(args.positional.map(Formatter.printed).joined(separator: " "))
                return .none
            },
            Builtin("type", "type(x)", "the name of a value's type") { args in .string(try args.required(0, "x").typeName) },
            Builtin("len", "len(x)", "length of a list, string, range or record, or a tensor's first dimension") { args in
                switch try args.required(0, "x") {
                case .list(let items): return .number(Double(items.count))
                case .string(let s): return .number(Double(s.count))
                case .range(let a, let b): return .number(Double(max(0, b - a)))
                case .record(let r): return .number(Double(r.keys.count))
                case .tensor(let t): return .number(Double(t.rank == 0 ? 1 : t.shape[0]))
                case let other: throw args.error("a \(other.typeName) has no length")
                }
            },
            Builtin("str", "str(x)", "a value as text") { args in .string(Formatter.printed(try args.required(0, "x"))) },
            Builtin("list", "list(x)", "a range, tensor or string as a list") { args in
                switch try args.required(0, "x") {
                case .list(let items): return .list(items)
                case .range(let a, let b): return .list((a..<max(a, b)).map { .number(Double($0)) })
                case .string(let s): return .list(s.map { .string(String($0)) })
                case .tensor(let t): return tensorToList(t)
                case .record(let r): return .list(r.keys.map { .string($0) })
                case let other: throw args.error("cannot make a list from a \(other.typeName)")
                }
            },
            Builtin("keys", "keys(record)", "a record's field names") { args in
                guard case .record(let r) = try args.required(0, "record") else { throw args.error("needs a record") }
                return .list(r.keys.map { .string($0) })
            },
            Builtin("assert", "assert(condition, \"message\")", "stop with an error when the condition is false") { args in
                guard try args.required(0, "condition").isTruthy else {
                    let message = args.positional.count > 1 ? Formatter.printed(args.positional[1]) : "assertion failed"
                    throw args.error(message)
                }
                return .none
            },
            mathFunction("abs", Swift.abs, tensor: { try $0.abs() }),
            mathFunction("sqrt", { $0.squareRoot() }, tensor: { try $0.sqrt() }),
            mathFunction("exp", Foundation.exp, tensor: { try $0.exp() }),
            mathFunction("log", Foundation.log, tensor: { try $0.log() }),
            mathFunction("sin", Foundation.sin, tensor: { try $0.sin() }),
            mathFunction("cos", Foundation.cos, tensor: { try $0.cos() }),
            mathFunction("floor", Foundation.floor, tensor: nil),
            mathFunction("round", { $0.rounded() }, tensor: nil),
        ]
    }

    /// A one-argument math function on numbers, and elementwise on tensors when `tensor` is given.
    static func mathFunction(_ name: String, _ f: @escaping (Double) -> Double, tensor: ((Tensor) throws -> Tensor)?) -> Builtin {
        Builtin(name, "\(name)(x)", "\(name) of a number\(tensor == nil ? "" : " or, elementwise, a tensor")") { args in
            let value = try args.required(0, "x")
            if case .number(let n) = value { return .number(f(n)) }
            if case .tensor(let t) = value, let tensor {
                return .tensor(try Operators.engine { try tensor(t.dtype.isFloatingPoint ? t : t.cast(to: .float32)) })
            }
            throw args.error("needs a number\(tensor == nil ? "" : " or a tensor"), got \(value.typeName)")
        }
    }

    static func tensorToList(_ t: Tensor) -> Value {
        if t.rank == 0 { return .number((try? t.item()) ?? .nan) }
        if t.rank == 1 { return .list(t.toDoubles().map { .number($0) }) }
        return .list((0..<t.shape[0]).compactMap { i in (try? t.select(axis: 0, index: i)).map(tensorToList) })
    }
}
