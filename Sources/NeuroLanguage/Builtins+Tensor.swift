import NeuroEngine

/// Built-ins that make and transform tensors; most are also methods (`t.mean(axis: 0)`).
extension Builtins {
    static var tensorFunctions: [Builtin] {
        [
            Builtin("tensor", "tensor([[1, 2], [3, 4]])", "a float32 tensor from numbers or nested lists") { args in
                .tensor(try args.tensor(0, "values"))
            },
            shaped("zeros", "a tensor of zeros") { try Tensor.zeros($0) },
            shaped("ones", "a tensor of ones") { try Tensor.ones($0) },
            Builtin("randn", "randn([3, 4], seed: 0, std: 1)", "normal samples from a seeded generator", parameters: ["shape", "seed", "std"]) { args in
                var rng = RandomGenerator(seed: UInt64(clamping: try args.int(nil, "seed", default: 0)))
                return .tensor(try Tensor.randn(try shape(args), std: try args.number(nil, "std", default: 1), using: &rng))
            },
            Builtin("arange", "arange(n) or arange(start, end, step)", "evenly spaced numbers, end excluded") { args in
                let (start, end) = args.positional.count >= 2 ? (try args.number(0, "start"), try args.number(1, "end")) : (0, try args.number(0, "end"))
                return .tensor(try Tensor.arange(start, end, step: try args.number(2, "step", default: 1)))
            },
            Builtin("reshape", "reshape(t, [2, -1])", "the same values in a new shape (one dimension may be -1)", parameters: ["shape"]) { args in
                .tensor(try Operators.engine { try args.tensor(0, "t").reshaped(try shape(args, index: 1)) })
            },
            Builtin("transpose", "transpose(t, 0, 1)", "swap two dimensions (the last two by default)") { args in
                let t = try args.tensor(0, "t")
                return .tensor(try Operators.engine { try t.transposed(try args.int(1, "a", default: -2), try args.int(2, "b", default: -1)) })
            },
            Builtin("permute", "permute(t, [2, 0, 1])", "reorder dimensions") { args in
                guard case .list(let items) = try args.required(1, "order") else { throw args.error("order must be a list of axes") }
                let order = try items.map { try Operators.integer($0, what: "axis", at: args.range) }
                return .tensor(try Operators.engine { try args.tensor(0, "t").permuted(order) })
            },
            Builtin("matmul", "matmul(a, b)", "matrix product with batch broadcasting (also a @ b)") { args in
                .tensor(try Operators.engine { try args.tensor(0, "a").matmul(args.tensor(1, "b")) })
            },
            Builtin("einsum", "einsum(\"bpd,dh->bph\", a, b)", "Einstein summation over one or two tensors") { args in
                let spec = try args.string(0, "spec")
                let operands = try args.positional.dropFirst().map { try $0.asTensor() }
                return .tensor(try Operators.engine { try Tensor.einsum(spec, Array(operands)) })
            },
            Builtin("cat", "cat([a, b], axis: 0)", "join tensors along an existing axis", parameters: ["axis"]) { args in
                .tensor(try Operators.engine { try Tensor.concat(try tensorList(args), axis: try args.int(1, "axis", default: 0)) })
            },
            Builtin("stack", "stack([a, b], axis: 0)", "join same-shaped tensors along a new axis", parameters: ["axis"]) { args in
                .tensor(try Operators.engine { try Tensor.stack(try tensorList(args), axis: try args.int(1, "axis", default: 0)) })
            },
            Builtin("item", "item(t)", "the number in a one-element tensor") { args in
                .number(try Operators.engine { try args.tensor(0, "t").item() })
            },
            tensorOp("sum", "sum of all elements, or along an axis", axis: true) { t, a in try t.sum(axes: a.map { [$0] }) },
            tensorOp("mean", "mean of all elements, or along an axis", axis: true) { t, a in try t.mean(axes: a.map { [$0] }) },
            tensorOp("var", "variance (unbiased) of all elements, or along an axis", axis: true) { t, a in try t.variance(axes: a.map { [$0] }) },
            tensorOp("norm", "Euclidean norm of all elements, or along an axis", axis: true) { t, a in try t.norm(axes: a.map { [$0] }) },
            tensorOp("amax", "largest element, or largest along an axis", axis: true) { t, a in try a.map { try t.max(axis: $0) } ?? t.max() },
            tensorOp("amin", "smallest element, or smallest along an axis", axis: true) { t, a in try a.map { try t.min(axis: $0) } ?? t.min() },
            tensorOp("argmax", "index of the largest element along an axis (last by default)", axis: true) { t, a in try t.argmax(axis: a ?? -1) },
            tensorOp("argmin", "index of the smallest element along an axis (last by default)", axis: true) { t, a in try t.argmin(axis: a ?? -1) },
            tensorOp("softmax", "softmax along an axis (last by default)", axis: true) { t, a in try t.softmax(axis: a ?? -1) },
            tensorOp("log_softmax", "log-softmax along an axis (last by default)", axis: true) { t, a in try t.logSoftmax(axis: a ?? -1) },
            tensorOp("relu", "max(x, 0) elementwise") { t, _ in try t.relu() },
            tensorOp("gelu", "exact GELU elementwise") { t, _ in try t.gelu() },
            tensorOp("flatten", "all elements as one dimension") { t, _ in try t.flattened() },
        ]
    }

    static func shaped(_ name: String, _ summary: String, _ make: @escaping ([Int]) throws -> Tensor) -> Builtin {
        Builtin(name, "\(name)([3, 4])", summary, parameters: ["shape"]) { args in .tensor(try Operators.engine { try make(try shape(args)) }) }
    }

    /// A shape argument: a list of whole numbers (or one number).
    static func shape(_ args: CallArguments, index: Int = 0) throws -> [Int] {
        switch try args.required(index, "shape") {
        case .number: return [try args.int(index, "shape")]
        case .list(let items): return try items.map { try Operators.integer($0, what: "dimension", at: args.range) }
        case let other: throw args.error("shape must be a list of whole numbers, got \(other.typeName)")
        }
    }

    static func tensorList(_ args: CallArguments) throws -> [Tensor] {
        guard case .list(let items) = try args.required(0, "tensors") else { throw args.error("needs a list of tensors") }
        return try items.map { try $0.asTensor() }
    }
}

/// Fields and methods of plain values: `t.shape`, `t.mean(axis: 0)`.
enum Methods {
    static let tensorMethods = ["sum", "mean", "var", "norm", "amax", "amin", "argmax", "argmin", "softmax", "log_softmax",
                                "relu", "gelu", "flatten", "reshape", "transpose", "permute", "item", "abs", "sqrt", "exp", "log"]
    static let tensorFields = ["shape", "dtype", "rank", "size", "T"]

    static func names(for value: Value) -> [String] {
        if case .tensor = value { return tensorFields + tensorMethods }
        return []
    }

    /// A field's value or a bound method, or nil.
    static func member(_ value: Value, _ name: String, interpreter: Interpreter) throws -> Value? {
        guard case .tensor(let t) = value else { return nil }
        switch name {
        case "shape": return .list(t.shape.map { .number(Double($0)) })
        case "dtype": return .string(t.dtype.shortName)
        case "rank": return .number(Double(t.rank))
        case "size": return .number(Double(t.count))
        case "T": return .tensor(try Operators.engine { try t.rank < 2 ? t : t.transposed() })
        default:
            guard tensorMethods.contains(name), let builtin = interpreter.builtins[name] else { return nil }
            return .function(Function(name: name, body: .builtin(builtin), receiver: value))
        }
    }
}
