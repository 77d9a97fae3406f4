import Glibc

/// How one operation sends the gradient of its output back to its inputs.
/// The closure returns one gradient per input, each already shaped like that
/// input, or nil for an input that needs none.
final class GradFn {
    let name: String
    /// Variable only so `releaseGraph` can take them apart.
    private(set) var inputs: [Tensor]
    private(set) var backward: (Tensor) throws -> [Tensor?]

    init(name: String, inputs: [Tensor], backward: @escaping (Tensor) throws -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }

    /// Frees the recorded graph behind a dying tensor without recursion.
    ///
    /// Left to ARC, freeing a tensor frees its GradFn, which frees its
    /// inputs, whose GradFns free theirs, and so on: a few nested deinit
    /// frames per op, which overflows the stack on a chain of ~100,000 ops.
    /// Here each GradFn nobody else holds gives up its closure and inputs,
    /// and each input nobody else holds hands its own GradFn to the work
    /// list before it is freed, so every deinit stays shallow.
    static func releaseGraph(_ work: inout [GradFn]) {
        while var fn = work.popLast() {
            guard isKnownUniquelyReferenced(&fn) else { continue }
            fn.backward = { _ in [] }   // drop captured tensors so `inputs` holds the last references
            var inputs = fn.inputs
            fn.inputs = []
            for i in inputs.indices where isKnownUniquelyReferenced(&inputs[i]) {
                if let next = inputs[i].gradFn {
                    work.append(next)
                    inputs[i].gradFn = nil
                }
            }
        }
    }
}

/// Whether operations are recorded for autograd. Turn recording off for
/// evaluation and analysis, where it would only cost memory. The setting is
/// per thread (as in PyTorch), so one thread can evaluate without gradients
/// while another trains.
public enum GradMode {
    /// A thread-specific slot: unset (nil) means recording is on.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    static var enabledFlag: Bool {
        get { pthread_getspecific(key) == nil }
        set { pthread_setspecific(key, newValue ? nil : UnsafeRawPointer(bitPattern: 1)) }
    }

    /// Whether operations on this thread currently record their backward rule.
    public static var isEnabled: Bool { enabledFlag }

    /// Runs `body` with recording off on this thread (PyTorch's `torch.no_grad()`).
    public static func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
        let saved = enabledFlag
        enabledFlag = false
        defer { enabledFlag = saved }
        return try body()
    }

    /// A thread-specific count of `takingGradient` calls under way.
    private static let gradientKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    private static var gradientDepth: Int {
        get { Int(bitPattern: pthread_getspecific(gradientKey)) }
        set { pthread_setspecific(gradientKey, UnsafeRawPointer(bitPattern: newValue)) }
    }

    /// Runs `body` with recording on, marking that a user's gradient is
    /// being taken: `forEvaluation` inside it records too, so a model run
    /// inside the function being differentiated keeps its graph.
    public static func takingGradient<R>(_ body: () throws -> R) rethrows -> R {
        gradientDepth += 1
        defer { gradientDepth -= 1 }
        return try withGrad(body)
    }

    /// Whether a user's gradient is being taken on this thread (`takingGradient`).
    public static var isTakingGradient: Bool { gradientDepth > 0 }

    /// Runs an evaluation (a model run, an analysis) without recording,
    /// unless a user's gradient is being taken (`takingGradient`), when
    /// the evaluation is part of what is differentiated.
    public static func forEvaluation<R>(_ body: () throws -> R) rethrows -> R {
        gradientDepth > 0 ? try body() : try withNoGrad(body)
    }

    /// Runs `body` with recording on, even inside `withNoGrad`.
    public static func withGrad<R>(_ body: () throws -> R) rethrows -> R {
        let saved = enabledFlag
        enabledFlag = true
        defer { enabledFlag = saved }
        return try body()
    }
}

extension Tensor {
    /// Marks this leaf tensor as a parameter whose gradient is wanted (or not,
    /// to freeze it). Returns self for chaining.
    ///
    /// Throws for non-floating-point tensors and for results of operations.
    @discardableResult
    public func requiringGrad(_ flag: Bool = true) throws -> Tensor {
        guard gradFn == nil else {
            throw EngineError.argument("requiresGrad", "can only be set on a leaf tensor, not on the result of '\(gradFn?.name ?? "?")'")
        }
        guard !flag || dtype.isFloatingPoint else {
            throw EngineError.dtype("requiresGrad", "gradients need a floating-point tensor, got \(dtype.shortName)")
        }
        requiresGrad = flag
        return self
    }

    /// Whether this tensor is a leaf: made directly, not by a recorded operation.
    public var isLeaf: Bool { gradFn == nil }

    /// A tensor sharing this one's data but cut from the graph.
    public func detached() -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset, dtype: dtype)
    }

    /// Records `backward` as the way `self` (the output of `name`) sends its
    /// gradient to `inputs`, when recording is on and some input needs it.
    /// A closure that uses the output must capture it `[unowned out]`: the
    /// output owns the closure, so a strong capture would leak the whole graph
    /// (the closure only runs while the output is alive).
    @discardableResult
    func recording(_ name: String, _ inputs: [Tensor], _ backward: @escaping (Tensor) throws -> [Tensor?]) -> Tensor {
        guard GradMode.enabledFlag, inputs.contains(where: { $0.requiresGrad }) else { return self }
        requiresGrad = true
        gradFn = GradFn(name: name, inputs: inputs, backward: backward)
        return self
    }

    /// Sets every gradient to zero in place (keeping the buffers), or drops them.
    public func zeroGrad(keepBuffer: Bool = true) {
        guard let g = grad else { return }
        if keepBuffer && g.isContiguous && g.storage !== storage {
            memset(g.storage.base + g.offset * g.dtype.byteSize, 0, g.count * g.dtype.byteSize)
        } else {
            grad = nil
        }
    }

    /// Back-propagates from this tensor, accumulating `grad` on every leaf
    /// that requires it (and on tensors with `retainsGrad`).
    ///
    /// - Parameters:
    ///   - seed: the gradient of the final quantity with respect to `self`;
    ///     defaults to 1 and then requires `self` to have one element.
    ///   - retainGraph: keep the recorded graph so `backward` can run again.
    public func backward(seed: Tensor? = nil, retainGraph: Bool = false) throws {
        guard requiresGrad else {
            throw EngineError.argument("backward", "this tensor does not require grad (no parameter it depends on requires grad)")
        }
        let start: Tensor
        if let seed {
            guard seed.shape == shape else {
                throw EngineError.shapes("backward seed", seed.shape, shape)
            }
            start = seed.dtype == dtype ? seed : try seed.cast(to: dtype)
        } else {
            guard count == 1 else {
                throw EngineError.shape("backward", "needs a seed gradient for a non-scalar output of shape \(formatShape(shape))")
            }
            start = try Tensor.full(shape, value: 1, dtype: dtype, op: "backward")
        }

        try propagate(start, retainGraph: retainGraph) { node, g in
            if node.gradFn == nil || node.retainsGrad { try node.accumulateGrad(g) }
        }
    }

    /// The gradients of this one-element tensor with respect to `inputs`
    /// (PyTorch's `torch.autograd.grad`), scaled by `seed`: zeros for an
    /// input it does not depend on. Nothing's `grad` is touched — a model's
    /// parameters keep theirs — and the graph is freed unless `retainGraph`.
    public func gradients(of inputs: [Tensor], seed: Double = 1, retainGraph: Bool = false) throws -> [Tensor] {
        guard requiresGrad else {
            throw EngineError.argument("gradients", "this tensor does not require grad (no tensor it depends on requires grad)")
        }
        guard count == 1 else {
            throw EngineError.shape("gradients", "needs a one-element output, got shape \(formatShape(shape))")
        }
        let wanted = Set(inputs.map(ObjectIdentifier.init))
        var found: [ObjectIdentifier: Tensor] = [:]
        try propagate(try Tensor.full(shape, value: seed, dtype: dtype, op: "gradients"), retainGraph: retainGraph) { node, g in
            let key = ObjectIdentifier(node)
            if wanted.contains(key) { found[key] = try found[key].map { try $0 + g } ?? g }
        }
        return try inputs.map { input in try found[ObjectIdentifier(input)]?.copied() ?? Tensor.zeros(input.shape, dtype: input.dtype) }
    }

    /// Runs the graph backwards from this tensor with gradient `start`,
    /// handing each node its total gradient once all of it has arrived.
    private func propagate(_ start: Tensor, retainGraph: Bool, deliver: (Tensor, Tensor) throws -> Void) throws {
        let order = topologicalOrder()
        var pending: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): start]
        try GradMode.withNoGrad {
            for node in order.reversed() {
                guard let g = pending.removeValue(forKey: ObjectIdentifier(node)) else { continue }
                try deliver(node, g)
                guard let fn = node.gradFn else { continue }
                let inputGrads = try fn.backward(g)
                for (input, inputGrad) in zip(fn.inputs, inputGrads) {
                    guard input.requiresGrad, let inputGrad else { continue }
                    let key = ObjectIdentifier(input)
                    if let existing = pending[key] {
                        pending[key] = try existing + inputGrad
                    } else {
                        pending[key] = inputGrad
                    }
                }
            }
        }
        if !retainGraph {
            for node in order where node.gradFn != nil { node.gradFn = nil }
        }
    }

    /// Adds `g` to this tensor's `grad` (sets it when there is none), as
    /// `backward` does for a leaf: for gradients worked out elsewhere, e.g.
    /// by `gradients(of:)` on parts of a batch.
    public func accumulateGrad(_ g: Tensor) throws {
        guard g.shape == shape else {
            throw EngineError.shapes("backward (gradient of \(gradFn?.name ?? "leaf"))", g.shape, shape)
        }
        if let existing = grad, existing.isContiguous, existing.shape == shape, existing.dtype == g.dtype {
            try existing.addInPlace(g)
        } else {
            // Own copy: `g` may be shared with another input's gradient.
            grad = g.copied()
        }
    }

    /// Every tensor this one depends on that requires grad, inputs before
    /// outputs, found with an explicit stack (deep graphs do not recurse).
    func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            let key = ObjectIdentifier(node)
            if expanded {
                order.append(node)
                continue
            }
            if visited.contains(key) { continue }
            visited.insert(key)
            stack.append((node, true))
            if let fn = node.gradFn {
                for input in fn.inputs where input.requiresGrad && !visited.contains(ObjectIdentifier(input)) {
                    stack.append((input, false))
                }
            }
        }
        return order
    }
}
