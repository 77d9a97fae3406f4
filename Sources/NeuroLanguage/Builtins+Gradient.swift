import NeuroEngine

/// `grad(f, x)`: gradients of the user's own functions, for attribution
/// methods of one's own (gradient × input, integrated gradients, …).
extension Builtins {
    static let gradient = Builtin("grad", "grad(f, x)",
                                  "the gradient of f's one-number result with respect to x (a tensor), or a list of gradients for a list of tensors",
                                  parameters: ["f", "x"]) { args in
        let f = try function(args, 0)
        let given = try args.required(1, "x")
        let isList: Bool
        let inputs: [Tensor]
        if case .list(let items) = given {
            isList = true
            inputs = try items.enumerated().map { i, item in
                do { return try item.asTensor() } catch { throw args.error("x item \(i) must be a tensor, got \(item.typeName)") }
            }
        } else {
            isList = false
            inputs = [try args.floats(1, "x")]
        }
        // Fresh leaves: f's result is differentiated with respect to these, and nothing else's gradient is kept.
        let leaves = try args.engine {
            try inputs.map { t in try (t.dtype.isFloatingPoint ? t : t.cast(to: .float32)).detached().requiringGrad() }
        }
        let argument: Value = isList ? .list(leaves.map { .tensor($0) }) : .tensor(leaves[0])
        return try GradMode.takingGradient {
            let result = try args.interpreter.apply(f, positional: [argument], range: args.range)
            guard case .tensor(let y) = result, y.count == 1 else {
                let what = if case .tensor(let t) = result { "a tensor of shape \(formatShape(t.shape))" } else { "a \(result.typeName)" }
                throw args.error("f must return one number computed from x (a one-element tensor), got \(what); sum or index it to one number")
            }
            guard y.requiresGrad else {
                throw args.error("f's result does not depend on x through tensor operations (a plain number, item(), or a built-in that does not carry gradients cuts the path), so there is no gradient to take")
            }
            // Only the leaves' gradients: a model's parameters on the way keep their own `grad` untouched.
            let grads = try args.engine { try y.gradients(of: leaves) }
            return isList ? .list(grads.map { .tensor($0) }) : .tensor(grads[0])
        }
    }
}
