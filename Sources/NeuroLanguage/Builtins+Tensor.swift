import NeuroEngine

/// Built-ins that make and transform tensors; most are also methods (`t.mean(axis: 0)`).
/// A result with a single value (a full reduction, `argmax` of a vector) is a plain number.
extension Builtins {
    static var tensorFunctions: [Builtin] {
        creation + shapes + reductions + [
            Builtin("matmul", "matmul(a, b)", "matrix product with batch broadcasting (also a @ b)", parameters: ["a", "b"]) { args in
                scalarOrTensor(try args.engine { try args.floats(0, "a").matmul(args.floats(1, "b")) })
            },
            Builtin("einsum", "einsum(\"bpd,dh->bph\", a, b)", "Einstein summation over one or two tensors") { args in
                let spec = try args.string(0, "spec")
                let operands = try args.positional.dropFirst().map { try $0.asTensor() }
                return scalarOrTensor(try args.engine { try Tensor.einsum(spec, Array(operands)) })
            },
            Builtin("outer", "outer(a, b)", "outer product [len a, len b] of two vectors (inputs are flattened)", parameters: ["a", "b"]) { args in
                let (a, b) = (try args.floats(0, "a"), try args.floats(1, "b"))
                return .tensor(try args.engine { try a.flattened().outer(b.flattened()) })
            },
            Builtin("where", "where(condition, a, b)", "elementwise a where the condition is non-zero, else b (with broadcasting)",
                    parameters: ["condition", "a", "b"]) { args in
                let (c, a, b) = (try args.floats(0, "condition"), try args.floats(1, "a"), try args.floats(2, "b"))
                return scalarOrTensor(try args.engine { try Tensor.where(c, a, b) })
            },
            tensorOp("softmax", "softmax along an axis (last by default)", axis: true) { t, a in try t.softmax(axis: a ?? -1) },
            tensorOp("log_softmax", "log-softmax along an axis (last by default)", axis: true) { t, a in try t.logSoftmax(axis: a ?? -1) },
            tensorOp("relu", "max(x, 0) elementwise") { t, _ in try t.relu() },
            tensorOp("gelu", "exact GELU elementwise") { t, _ in try t.gelu() },
            Builtin("topk", "topk(t, k, axis: -1, largest: true)",
                    "the k largest (or smallest) values along an axis and their indices: {values, indices}",
                    parameters: ["t", "k", "axis", "largest"]) { args in
                let t = try args.floats(0, "t")
                let k = try args.int(1, "k")
                let axis = try args.int(2, "axis", default: -1)
                let largest = try args.bool(nil, "largest", default: true)
                return try args.engine {
                    let moved = try swapWithLast(t.rank == 0 ? t.reshaped([1]) : t, axis, op: "topk")
                    guard let n = moved.shape.last, k >= 0 && k <= n else {
                        throw args.error("'k' must be between 0 and \(moved.shape.last ?? 0) (the length of axis \(axis)), got \(k)")
                    }
                    let sorted = try sortedAlongLastAxis(moved, descending: largest)
                    func firstK(_ x: Tensor) throws -> Tensor { try swapWithLast(x.slice(axis: -1, end: k), axis, op: "topk") }
                    return .record(Record([("values", .tensor(try firstK(sorted.values))), ("indices", .tensor(try firstK(sorted.indices)))]))
                }
            },
            Builtin("argsort", "argsort(t, axis: -1, descending: false)", "the indices that sort a tensor along an axis",
                    parameters: ["t", "axis", "descending"]) { args in
                let t = try args.floats(0, "t")
                let axis = try args.int(1, "axis", default: -1)
                let descending = try args.bool(nil, "descending", default: false)
                return .tensor(try args.engine {
                    guard t.rank > 0 else { return try Tensor(ints: [0], shape: [1]) }
                    let sorted = try sortedAlongLastAxis(swapWithLast(t, axis, op: "argsort"), descending: descending)
                    return try swapWithLast(sorted.indices, axis, op: "argsort")
                })
            },
            Builtin("cumsum", "cumsum(t, axis: -1)", "running sums along an axis: element i is the sum of elements 0…i",
                    parameters: ["t", "axis"]) { args in
                let axis = try args.int(1, "axis", default: -1)
                return try withTensor(args, 0, "t") { t in
                    guard t.rank > 0 else { return t }
                    return try t.cumulativeSum(axis: axis)
                }
            },
            Builtin("item", "item(t)", "the number in a one-element tensor", parameters: ["t"]) { args in
                .number(try args.engine { try args.tensor(0, "t").item() })
            },
        ]
    }

    // MARK: - Making tensors

    static var creation: [Builtin] {
        [
            Builtin("tensor", "tensor([[1, 2], [3, 4]])", "a float32 tensor from numbers or nested lists", parameters: ["values"]) { args in
                .tensor(try args.tensor(0, "values"))
            },
            shaped("zeros", "a tensor of zeros") { shape, _ in try Tensor.zeros(shape) },
            shaped("ones", "a tensor of ones") { shape, _ in try Tensor.ones(shape) },
            shaped("full", "a tensor filled with one value", value: true) { shape, value in try Tensor.full(shape, value: value) },
            Builtin("eye", "eye(n)", "the n × n identity matrix", parameters: ["n"]) { args in
                let n = try args.int(0, "n")
                guard n >= 0 else { throw args.error("'n' must not be negative, got \(n)") }
                return .tensor(try args.engine { try Tensor.eye(n) })
            },
            Builtin("randn", "randn([3, 4], seed: 0, std: 1)", "normal samples from a seeded generator (same seed, same numbers)",
                    parameters: ["shape", "seed", "std"]) { args in
                var rng = RandomGenerator(seed: try args.seed(nil, default: 0))
                let (dims, std) = (try shape(args), try args.number(nil, "std", default: 1))
                guard std >= 0 else { throw args.error("'std' must be 0 or more, got \(Formatter.number(std))") }
                return .tensor(try args.engine { try Tensor.randn(dims, std: std, using: &rng) })
            },
            Builtin("rand", "rand([3, 4], seed: 0, low: 0, high: 1)", "uniform samples in [low, high) from a seeded generator",
                    parameters: ["shape", "seed", "low", "high"]) { args in
                var rng = RandomGenerator(seed: try args.seed(nil, default: 0))
                let (dims, low, high) = (try shape(args), try args.number(nil, "low", default: 0), try args.number(nil, "high", default: 1))
                return .tensor(try args.engine { try Tensor.uniform(dims, low: low, high: high, using: &rng) })
            },
            Builtin("arange", "arange(n) or arange(start, end, step)", "evenly spaced numbers from start (0) by step (1), end excluded",
                    parameters: ["start", "end", "step"]) { args in
                let (start, end) = args.positional.count >= 2 ? (try args.number(0, "start"), try args.number(1, "end"))
                    : (try args.number(nil, "start", default: 0), try args.number(0, "end"))
                let step = try args.number(2, "step", default: 1)
                return .tensor(try args.engine { try Tensor.arange(start, end, step: step) })
            },
            Builtin("linspace", "linspace(start, end, n)", "n evenly spaced numbers from start to end, both included",
                    parameters: ["start", "end", "n"]) { args in
                let (start, end, n) = (try args.number(0, "start"), try args.number(1, "end"), try args.int(2, "n"))
                guard n >= 1 else { throw args.error("'n' must be at least 1, got \(n)") }
                return .tensor(try args.engine { try Tensor.linspace(start, end, count: n) })
            },
        ]
    }

    /// `name([3, 4])` (and `name([3, 4], value)` when `value`): a tensor of that shape.
    static func shaped(_ name: String, _ summary: String, value: Bool = false,
                       _ make: @escaping ([Int], Double) throws -> Tensor) -> Builtin {
        Builtin(name, value ? "\(name)([3, 4], value)" : "\(name)([3, 4])", summary,
                parameters: value ? ["shape", "value"] : ["shape"]) { args in
            let fill = value ? try args.number(1, "value") : 0
            return .tensor(try args.engine { try make(try shape(args), fill) })
        }
    }

    /// A shape argument: a list of whole numbers (or one number).
    static func shape(_ args: CallArguments, index: Int = 0) throws -> [Int] {
        switch try args.required(index, "shape") {
        case .number: return [try args.int(index, "shape")]
        case .list(let items): return try items.map { try Operators.integer($0, what: "dimension", at: args.range) }
        case let other: throw args.error("shape must be a list of whole numbers, got \(other.typeName)")
        }
    }

    // MARK: - Shapes

    static var shapes: [Builtin] {
        [
            Builtin("reshape", "reshape(t, [2, -1])", "the same values in a new shape (one dimension may be -1)", parameters: ["t", "shape"]) { args in
                .tensor(try args.engine { try args.tensor(0, "t").reshaped(try shape(args, index: 1)) })
            },
            Builtin("transpose", "transpose(t, 0, 1)", "swap two dimensions (the last two by default)", parameters: ["t", "a", "b"]) { args in
                let t = try args.tensor(0, "t")
                let (a, b) = (try args.int(1, "a", default: -2), try args.int(2, "b", default: -1))
                return .tensor(try args.engine { try t.transposed(a, b) })
            },
            Builtin("permute", "permute(t, [2, 0, 1])", "reorder dimensions: result dimension i is input dimension order[i]",
                    parameters: ["t", "order"]) { args in
                guard case .list(let items) = try args.required(1, "order") else { throw args.error("'order' must be a list of axes") }
                let order = try items.map { try Operators.integer($0, what: "axis", at: args.range) }
                return .tensor(try args.engine { try args.tensor(0, "t").permuted(order) })
            },
            Builtin("squeeze", "squeeze(t, axis)", "drop a dimension of size 1 (every one when no axis is given)", parameters: ["t", "axis"]) { args in
                let t = try args.tensor(0, "t")
                let axis = args.value(1, "axis") == nil ? nil : try args.int(1, "axis")
                return .tensor(try args.engine { t.rank == 0 ? t : try t.squeezed(axis) })
            },
            Builtin("unsqueeze", "unsqueeze(t, axis)", "insert a dimension of size 1 at axis (-1 appends one)", parameters: ["t", "axis"]) { args in
                let (t, axis) = (try args.tensor(0, "t"), try args.int(1, "axis"))
                return .tensor(try args.engine { try t.unsqueezed(axis) })
            },
            tensorOp("flatten", "all elements as one dimension") { t, _ in try t.flattened() },
            Builtin("cat", "cat([a, b], axis: 0)", "join tensors along an existing axis", parameters: ["tensors", "axis"]) { args in
                let tensors = try tensorList(args)
                guard tensors.allSatisfy({ $0.rank > 0 }) else { throw args.error("cannot join numbers along an axis; use stack([…])") }
                return .tensor(try args.engine { try Tensor.concat(tensors, axis: try args.int(1, "axis", default: 0)) })
            },
            Builtin("stack", "stack([a, b], axis: 0)", "join same-shaped tensors along a new axis", parameters: ["tensors", "axis"]) { args in
                .tensor(try args.engine { try Tensor.stack(try tensorList(args), axis: try args.int(1, "axis", default: 0)) })
            },
        ]
    }

    static func tensorList(_ args: CallArguments) throws -> [Tensor] {
        let value = try args.required(0, "tensors")
        guard case .list(let items) = value, !items.isEmpty else { throw args.error("needs a non-empty list of tensors, got \(value.typeName)") }
        return try items.map { try $0.asTensor() }
    }

    // MARK: - Reductions

    static var reductions: [Builtin] {
        [
            tensorOp("sum", "sum of all elements, or along an axis", axis: true) { t, a in try t.sum(axes: a.map { [$0] }) },
            tensorOp("mean", "mean of all elements, or along an axis", axis: true) { t, a in try t.mean(axes: a.map { [$0] }) },
            tensorOp("var", "variance (unbiased, divides by n − 1) of all elements, or along an axis", axis: true) { t, a in
                try t.variance(axes: a.map { [$0] })
            },
            tensorOp("std", "standard deviation (unbiased) of all elements, or along an axis", axis: true) { t, a in
                try t.variance(axes: a.map { [$0] }).sqrt()
            },
            tensorOp("norm", "Euclidean norm of all elements, or along an axis", axis: true) { t, a in try t.norm(axes: a.map { [$0] }) },
            tensorOp("amax", "largest element, or largest along an axis", axis: true) { t, a in try a.map { try t.max(axis: $0) } ?? t.max() },
            tensorOp("amin", "smallest element, or smallest along an axis", axis: true) { t, a in try a.map { try t.min(axis: $0) } ?? t.min() },
            tensorOp("argmax", "index of the largest element along an axis (last by default; the first on ties)", axis: true) { t, a in
                try t.argmax(axis: a ?? -1)
            },
            tensorOp("argmin", "index of the smallest element along an axis (last by default; the first on ties)", axis: true) { t, a in
                try t.argmin(axis: a ?? -1)
            },
        ]
    }

    /// A built-in that applies a tensor operation to its first argument,
    /// with an optional `axis` (also reachable as a method: `t.sum(axis: 0)`).
    static func tensorOp(_ name: String, _ summary: String, axis: Bool = false,
                         _ body: @escaping (Tensor, Int?) throws -> Tensor) -> Builtin {
        Builtin(name, axis ? "\(name)(t, axis: -1)" : "\(name)(t)", summary, parameters: axis ? ["t", "axis"] : ["t"]) { args in
            try applyTensorOp(args, axis: axis, body)
        }
    }

    /// Runs `body` on the first argument (lists and ranges become tensors) and the `axis` argument.
    static func applyTensorOp(_ args: CallArguments, axis: Bool, _ body: (Tensor, Int?) throws -> Tensor) throws -> Value {
        let a = axis && args.value(1, "axis") != nil ? try args.int(1, "axis") : nil
        return try withTensor(args, 0, "t") { try body($0, a) }
    }

    /// Applies `body` to argument `index` as a tensor. Plain numbers (a
    /// number, a list of numbers, a range) and integer tensors are computed in
    /// Float64, so sums of whole numbers stay exact; a one-value result is a
    /// number, and a tensor result from plain numbers or integers is float32,
    /// as `tensor(list)` would be.
    static func withTensor(_ args: CallArguments, _ index: Int, _ name: String, _ body: (Tensor) throws -> Tensor) throws -> Value {
        let value = try args.required(index, name)
        let t = try args.numeric(index, name)
        let result = try args.engine { try body(t) }
        return plainIfScalar(value, result, args)
    }

    /// `withTensor`'s result: one value as a number — unless it carries a
    /// gradient (inside `grad`), which a plain number would cut.
    private static func plainIfScalar(_ value: Value, _ result: Tensor, _ args: CallArguments) -> Value {
        if result.rank == 0, !(GradMode.isTakingGradient && result.requiresGrad), let n = try? result.item() { return .number(n) }
        if case .tensor(let original) = value, original.dtype.isFloatingPoint { return .tensor(result) }
        return .tensor(result.dtype == .float64 ? (try? result.cast(to: .float32)) ?? result : result)
    }

    /// A single-value result as a plain number, anything else as a tensor.
    static func scalarOrTensor(_ t: Tensor) -> Value {
        if t.rank == 0, !(GradMode.isTakingGradient && t.requiresGrad), let n = try? t.item() { return .number(n) }
        return .tensor(t)
    }

    /// `t` with `axis` and the last axis swapped (its own inverse), after checking the axis.
    static func swapWithLast(_ t: Tensor, _ axis: Int, op: String) throws -> Tensor {
        _ = try t.axis(axis, op: op)
        return t.rank < 2 ? t : try t.transposed(axis, -1)
    }

    /// Each row along the last axis in order: the values, and their indices (int64).
    /// Ties keep their original order; NaN sorts last.
    static func sortedAlongLastAxis(_ t: Tensor, descending: Bool) throws -> (values: Tensor, indices: Tensor) {
        let shape = t.rank == 0 ? [1] : t.shape
        let n = shape.last ?? 1
        let values = t.toDoubles()
        var sortedValues = [Double](), order = [Int]()
        sortedValues.reserveCapacity(values.count)
        order.reserveCapacity(values.count)
        for row in stride(from: 0, to: values.count, by: max(n, 1)) {
            let indices = (0..<n).sorted { i, j in
                let (x, y) = (values[row + i], values[row + j])
                if x.isNaN != y.isNaN { return y.isNaN }
                if x.isNaN || x == y { return i < j }
                return descending ? x > y : x < y
            }
            order += indices
            sortedValues += indices.map { values[row + $0] }
        }
        return (try Tensor(float64: sortedValues, shape: shape).cast(to: t.dtype), try Tensor(ints: order, shape: shape))
    }

    // MARK: - Linear algebra and statistics

    static var linearAlgebra: [Builtin] {
        [
            Builtin("svd", "svd(t)", "singular value decomposition of a matrix: {u, s, vt} with t ≈ u * s @ vt", parameters: ["t"]) { args in
                let t = try args.floats(0, "t")
                let r = try args.engine { try t.svd() }
                return .record(Record([("u", .tensor(r.u)), ("s", .tensor(r.s)), ("vt", .tensor(r.vt))]))
            },
            Builtin("eigh", "eigh(t)", "eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix: {values, vectors}",
                    parameters: ["t"]) { args in
                let t = try args.floats(0, "t")
                let r = try args.engine { try t.eigh() }
                return .record(Record([("values", .tensor(r.values)), ("vectors", .tensor(r.vectors))]))
            },
            Builtin("pca", "pca(x, k, center: true)",
                    "principal components of [samples, features]: {components, explained_variance, explained_variance_ratio, mean, projected}",
                    parameters: ["x", "k", "center"]) { args in
                let x = try args.floats(0, "x")
                let k = args.value(1, "k") == nil ? nil : try args.int(1, "k")
                let center = try args.bool(nil, "center", default: true)
                let r = try args.engine { try x.pca(components: k, center: center) }
                return .record(Record([("components", .tensor(r.components)), ("explained_variance", .tensor(r.explainedVariance)),
                                       ("explained_variance_ratio", .tensor(r.explainedVarianceRatio)), ("mean", .tensor(r.mean)),
                                       ("projected", .tensor(r.projected))]))
            },
            Builtin("lstsq", "lstsq(a, b)", "the x minimising |a @ x − b| (least squares), for linear probes", parameters: ["a", "b"]) { args in
                let (a, b) = (try args.floats(0, "a"), try args.floats(1, "b"))
                return .tensor(try args.engine { try a.leastSquares(b) })
            },
            Builtin("corr", "corr(a, b)",
                    "Pearson correlation: a number for two vectors; per column for [n, m] against [n] ([m]) or [n, k] ([m, k])",
                    parameters: ["a", "b"]) { args in
                let (a, b) = (try args.floats(0, "a"), try args.floats(1, "b"))
                return scalarOrTensor(try args.engine { try pearson(a, b) })
            },
            Builtin("cosine", "cosine(a, b)", "cosine similarity along the last axis (with broadcasting): a number for two vectors",
                    parameters: ["a", "b"]) { args in
                let (a, b) = (try args.floats(0, "a"), try args.floats(1, "b"))
                return scalarOrTensor(try args.engine {
                    try (a * b).sum(axes: [-1]) / (a.norm(axes: [-1]) * b.norm(axes: [-1]))
                })
            },
        ]
    }

    /// Pearson correlation between the columns of `a` [n] or [n, m] and of `b` [n] or [n, k]
    /// (nan where a column is constant); dimensions that came from vectors are dropped.
    static func pearson(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        guard a.rank >= 1 && a.rank <= 2 && b.rank >= 1 && b.rank <= 2 else {
            throw EngineError(.shape, "corr: needs vectors [n] or matrices [n, m], got \(formatShape(a.shape)) and \(formatShape(b.shape))")
        }
        guard a.shape[0] == b.shape[0] else {
            throw EngineError(.shape, "corr: needs the same number of samples (first dimension), got \(formatShape(a.shape)) and \(formatShape(b.shape))")
        }
        func standardized(_ x: Tensor) throws -> Tensor {
            let columns = try x.cast(to: .float64).reshaped([x.shape[0], x.rank == 1 ? 1 : x.shape[1]])
            let centered = try columns - columns.mean(axes: [0], keepDims: true)
            return try centered / centered.norm(axes: [0], keepDims: true)
        }
        var r = try standardized(a).transposed().matmul(standardized(b))   // [m, k]
        if b.rank == 1 { r = try r.squeezed(1) }
        if a.rank == 1 { r = try r.squeezed(0) }
        return try r.cast(to: a.dtype == .float64 || b.dtype == .float64 ? .float64 : .float32)
    }
}

/// Fields and methods of plain values: `t.shape`, `t.mean(axis: 0)`.
/// A number has the tensor methods too, so `t.sum().item()` works.
enum Methods {
    static let tensorMethods = [
        "sum", "mean", "var", "std", "norm", "amax", "amin", "max", "min", "argmax", "argmin", "softmax", "log_softmax",
        "relu", "gelu", "flatten", "reshape", "transpose", "permute", "squeeze", "unsqueeze", "item", "abs", "sqrt", "exp", "log",
        "sin", "cos", "tanh", "sigmoid", "sign", "floor", "ceil", "round", "clamp", "pow", "topk", "sort", "argsort", "svd", "pca",
    ]
    static let tensorFields = ["shape", "dtype", "rank", "size", "T"]

    static func names(for value: Value) -> [String] {
        switch value {
        case .tensor: return tensorFields + tensorMethods
        case .number: return tensorMethods
        default: return []
        }
    }

    /// A field's value or a bound method, or nil.
    static func member(_ value: Value, _ name: String, interpreter: Interpreter) throws -> Value? {
        if case .tensor(let t) = value {
            switch name {
            case "shape": return .list(t.shape.map { .number(Double($0)) })
            case "dtype": return .string(t.dtype.shortName)
            case "rank": return .number(Double(t.rank))
            case "size": return .number(Double(t.count))
            case "T": return .tensor(try Operators.engine { try t.rank < 2 ? t : t.transposed() })
            default: break
            }
        }
        guard names(for: value).contains(name), let builtin = interpreter.builtins[name] else { return nil }
        return .function(Function(name: name, body: .builtin(builtin), receiver: value))
    }
}
