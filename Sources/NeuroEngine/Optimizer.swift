/// A named trainable tensor, as an optimizer sees it.
public struct NamedParameter {
    public let name: String
    public let tensor: Tensor

    public init(_ name: String, _ tensor: Tensor) {
        self.name = name
        self.tensor = tensor
    }
}

/// Updates parameters from their gradients. Parameters that do not require
/// grad (frozen) or have no gradient yet are skipped, as in PyTorch.
public protocol Optimizer: AnyObject {
    /// The parameters this optimizer updates, in a fixed order.
    var parameters: [NamedParameter] { get }
    /// The learning rate; may be changed between steps (schedules).
    var learningRate: Double { get set }
    /// Applies one update to every parameter that has a gradient.
    func step() throws
    /// The optimizer's state as named tensors plus string metadata, ready for
    /// a safetensors file; `loadState` accepts exactly this.
    func state() -> (tensors: [(String, Tensor)], metadata: [String: String])
    /// Restores state saved by `state()`; refuses state for other parameters or shapes.
    func loadState(tensors: [String: Tensor], metadata: [String: String]) throws
}

extension Optimizer {
    /// Zeroes every parameter's gradient, keeping the buffers for the next step.
    public func zeroGrad() {
        for p in parameters { p.tensor.zeroGrad() }
    }

    func checkParameters(_ op: String) throws {
        var seen = Set<String>()
        for p in parameters {
            guard seen.insert(p.name).inserted else { throw EngineError.argument(op, "parameter '\(p.name)' is listed twice") }
            guard p.tensor.dtype.isFloatingPoint, p.tensor.isContiguous, p.tensor.isLeaf else {
                throw EngineError.argument(op, "parameter '\(p.name)' must be a contiguous floating-point leaf tensor")
            }
        }
    }

    /// A state tensor from `tensors`, checked against the parameter's shape
    /// and dtype kind, and holding only finite values (non-negative ones when
    /// `nonNegative`, as second moments are): a corrupt file is refused
    /// here, not found out as NaN weights later.
    func stateTensor(_ tensors: [String: Tensor], _ key: String, like p: NamedParameter, op: String,
                     nonNegative: Bool = false) throws -> Tensor {
        guard let t = tensors[key] else { throw EngineError.argument(op, "state is missing '\(key)'") }
        guard t.shape == p.tensor.shape else {
            throw EngineError.shape(op, "state '\(key)' has shape \(formatShape(t.shape)), parameter '\(p.name)' has \(formatShape(p.tensor.shape))")
        }
        guard t.dtype.isFloatingPoint else {
            throw EngineError.dtype(op, "state '\(key)' is \(t.dtype.shortName), expected floating point")
        }
        let summary = t.summary()
        guard summary.nonFiniteCount == 0, !nonNegative || summary.min >= 0 else {
            throw EngineError.argument(op, "state '\(key)' holds " + (summary.nonFiniteCount > 0 ? "\(summary.nonFiniteCount) NaN or infinite values" : "negative values"))
        }
        return try t.cast(to: p.tensor.dtype).copied()
    }
}

/// Parses a finite metadata number, naming the key when it is missing,
/// malformed, NaN, infinite or outside `range`.
func metadataNumber(_ metadata: [String: String], _ key: String, op: String,
                    in range: ClosedRange<Double> = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude) throws -> Double {
    guard let text = metadata[key], let value = Double(text), value.isFinite, range.contains(value) else {
        let bounds = range.lowerBound == -Double.greatestFiniteMagnitude ? "a finite number" : "a number from \(range.lowerBound) to \(range.upperBound)"
        throw EngineError.argument(op, "state metadata '\(key)' must be \(bounds), got '\(metadata[key] ?? "nothing")'")
    }
    return value
}

/// The most steps an optimizer state may record, so that step counts read
/// from a file are whole, cannot overflow when incremented, and stay far
/// inside the range where Double holds integers exactly.
let maxOptimizerSteps = 1_000_000_000

/// Parses a metadata step count: a whole number from 0 to `maxOptimizerSteps`,
/// parsed as an integer (never through Double, whose conversion traps on
/// NaN and on values past Int's range).
func metadataSteps(_ metadata: [String: String], _ key: String, op: String) throws -> Int {
    guard let text = metadata[key], let value = Int(text), value >= 0, value <= maxOptimizerSteps else {
        throw EngineError.argument(op, "state metadata '\(key)' must be a whole number from 0 to \(maxOptimizerSteps), got '\(metadata[key] ?? "nothing")'")
    }
    return value
}

// MARK: - AdamW

/// AdamW with PyTorch's exact update (`torch.optim.AdamW`, amsgrad off):
/// decoupled weight decay `p -= lr·wd·p`, then Adam with bias correction.
///
/// ```swift
/// let opt = try AdamW(parameters: model.parameters, learningRate: 1e-3, weightDecay: 1, betas: (0.9, 0.98))
/// try loss.backward(); try opt.step(); opt.zeroGrad()
/// ```
public final class AdamW: Optimizer {
    public let parameters: [NamedParameter]
    public var learningRate: Double
    public var weightDecay: Double
    public var beta1: Double
    public var beta2: Double
    public let eps: Double
    private var expAvg: [Tensor?]
    private var expAvgSq: [Tensor?]
    private var steps: [Int]

    public init(parameters: [NamedParameter], learningRate: Double = 1e-3, weightDecay: Double = 0.01,
                betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8) throws {
        guard learningRate >= 0, weightDecay >= 0, eps >= 0,
              (0..<1).contains(betas.0), (0..<1).contains(betas.1) else {
            throw EngineError.argument("AdamW", "invalid hyperparameters lr \(learningRate), wd \(weightDecay), betas \(betas), eps \(eps)")
        }
        self.parameters = parameters
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.beta1 = betas.0
        self.beta2 = betas.1
        self.eps = eps
        self.expAvg = Array(repeating: nil, count: parameters.count)
        self.expAvgSq = Array(repeating: nil, count: parameters.count)
        self.steps = Array(repeating: 0, count: parameters.count)
        try checkParameters("AdamW")
    }

    public func step() throws {
        for (i, p) in parameters.enumerated() {
            guard p.tensor.requiresGrad, let g = p.tensor.grad else { continue }
            guard g.shape == p.tensor.shape else { throw EngineError.shapes("AdamW (\(p.name))", g.shape, p.tensor.shape) }
            let m = try expAvg[i] ?? Tensor(zerosShape: p.tensor.shape, dtype: p.tensor.dtype, op: "AdamW")
            let v = try expAvgSq[i] ?? Tensor(zerosShape: p.tensor.shape, dtype: p.tensor.dtype, op: "AdamW")
            expAvg[i] = m
            expAvgSq[i] = v
            steps[i] += 1
            let grad = g.dtype == p.tensor.dtype ? g.contiguousData() : try g.cast(to: p.tensor.dtype).contiguousData()
            if p.tensor.dtype == .float32 {
                update(Float.self, p.tensor, grad, m, v, step: steps[i])
            } else {
                update(Double.self, p.tensor, grad, m, v, step: steps[i])
            }
        }
    }

    private func update<T: FloatElement & SIMDScalar>(_: T.Type, _ param: Tensor, _ grad: Tensor, _ m: Tensor, _ v: Tensor, step: Int) {
        let p = param.pointer(T.self), g = grad.pointer(T.self), pm = m.pointer(T.self), pv = v.pointer(T.self)
        let decay = T(1 - learningRate * weightDecay)
        let b2 = T(beta2)
        let oneMinusB1 = T(1 - beta1), oneMinusB2 = T(1 - beta2)
        let correction1 = 1 - Double.pow(beta1, Double(step))
        let correction2Root = T((1 - Double.pow(beta2, Double(step))).squareRoot())
        let stepSize = T(learningRate / correction1)
        let epsilon = T(eps)
        // The same operations eight lanes at a time (each lane's arithmetic
        // is the scalar loop's, so the numbers are too), then the rest.
        let count = param.count, wide = count / 8 * 8
        func load(_ x: UnsafeMutablePointer<T>, _ i: Int) -> SIMD8<T> { UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<T>.self) }
        func store(_ value: SIMD8<T>, _ x: UnsafeMutablePointer<T>, _ i: Int) { UnsafeMutableRawPointer(x + i).storeBytes(of: value, as: SIMD8<T>.self) }
        var i = 0
        while i < wide {
            let gi = load(g, i)
            let mi = load(pm, i) + oneMinusB1 * (gi - load(pm, i))
            let vi = load(pv, i) * b2 + oneMinusB2 * gi * gi
            let denom = vi.squareRoot() / correction2Root + epsilon
            store(mi, pm, i)
            store(vi, pv, i)
            store(load(p, i) * decay - stepSize * mi / denom, p, i)
            i += 8
        }
        for i in wide..<count {
            p[i] *= decay
            pm[i] += oneMinusB1 * (g[i] - pm[i])          // lerp toward the gradient, as torch does
            pv[i] = pv[i] * b2 + oneMinusB2 * g[i] * g[i]
            let denom = pv[i].squareRoot() / correction2Root + epsilon
            p[i] -= stepSize * pm[i] / denom
        }
    }

    public func state() -> (tensors: [(String, Tensor)], metadata: [String: String]) {
        var tensors: [(String, Tensor)] = []
        var metadata = ["optimizer": "AdamW", "lr": "\(learningRate)", "weight_decay": "\(weightDecay)",
                        "beta1": "\(beta1)", "beta2": "\(beta2)", "eps": "\(eps)"]
        for (i, p) in parameters.enumerated() {
            guard let m = expAvg[i], let v = expAvgSq[i] else { continue }
            tensors.append(("exp_avg.\(p.name)", m))
            tensors.append(("exp_avg_sq.\(p.name)", v))
            metadata["step.\(p.name)"] = "\(steps[i])"
        }
        return (tensors, metadata)
    }

    public func loadState(tensors: [String: Tensor], metadata: [String: String]) throws {
        let op = "AdamW load state"
        guard metadata["optimizer"] == "AdamW" else {
            throw EngineError.argument(op, "state is for '\(metadata["optimizer"] ?? "unknown")', not AdamW")
        }
        var newAvg = expAvg, newAvgSq = expAvgSq, newSteps = steps
        for (i, p) in parameters.enumerated() {
            guard metadata["step.\(p.name)"] != nil else {
                newAvg[i] = nil; newAvgSq[i] = nil; newSteps[i] = 0
                continue
            }
            newSteps[i] = try metadataSteps(metadata, "step.\(p.name)", op: op)
            newAvg[i] = try stateTensor(tensors, "exp_avg.\(p.name)", like: p, op: op)
            newAvgSq[i] = try stateTensor(tensors, "exp_avg_sq.\(p.name)", like: p, op: op, nonNegative: true)
        }
        let lr = try metadataNumber(metadata, "lr", op: op, in: 0...Double.greatestFiniteMagnitude)
        let wd = try metadataNumber(metadata, "weight_decay", op: op, in: 0...Double.greatestFiniteMagnitude)
        (learningRate, weightDecay) = (lr, wd)
        (expAvg, expAvgSq, steps) = (newAvg, newAvgSq, newSteps)
    }
}

// MARK: - SGD

/// Stochastic gradient descent with momentum, PyTorch's `torch.optim.SGD`
/// (L2 weight decay added to the gradient, dampening, optional Nesterov).
public final class SGD: Optimizer {
    public let parameters: [NamedParameter]
    public var learningRate: Double
    public let momentum: Double
    public let dampening: Double
    public let weightDecay: Double
    public let nesterov: Bool
    private var buffers: [Tensor?]

    public init(parameters: [NamedParameter], learningRate: Double, momentum: Double = 0, dampening: Double = 0,
                weightDecay: Double = 0, nesterov: Bool = false) throws {
        guard learningRate >= 0, momentum >= 0, weightDecay >= 0 else {
            throw EngineError.argument("SGD", "invalid hyperparameters lr \(learningRate), momentum \(momentum), wd \(weightDecay)")
        }
        guard !nesterov || (momentum > 0 && dampening == 0) else {
            throw EngineError.argument("SGD", "Nesterov momentum needs momentum > 0 and no dampening")
        }
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        self.buffers = Array(repeating: nil, count: parameters.count)
        try checkParameters("SGD")
    }

    public func step() throws {
        for (i, p) in parameters.enumerated() {
            guard p.tensor.requiresGrad, let g = p.tensor.grad else { continue }
            guard g.shape == p.tensor.shape else { throw EngineError.shapes("SGD (\(p.name))", g.shape, p.tensor.shape) }
            let grad = g.dtype == p.tensor.dtype ? g.contiguousData() : try g.cast(to: p.tensor.dtype).contiguousData()
            let first = buffers[i] == nil && momentum != 0
            if momentum != 0 && buffers[i] == nil {
                buffers[i] = try Tensor(zerosShape: p.tensor.shape, dtype: p.tensor.dtype, op: "SGD")
            }
            if p.tensor.dtype == .float32 {
                update(Float.self, p.tensor, grad, buffers[i], first: first)
            } else {
                update(Double.self, p.tensor, grad, buffers[i], first: first)
            }
        }
    }

    private func update<T: FloatElement>(_: T.Type, _ param: Tensor, _ grad: Tensor, _ buffer: Tensor?, first: Bool) {
        let p = param.pointer(T.self), g = grad.pointer(T.self), b = buffer?.pointer(T.self)
        let lr = T(learningRate), wd = T(weightDecay), mu = T(momentum), keep = T(1 - dampening)
        for i in 0..<param.count {
            var d = g[i]
            if weightDecay != 0 { d += wd * p[i] }
            if let b {
                b[i] = first ? d : mu * b[i] + keep * d
                d = nesterov ? d + mu * b[i] : b[i]
            }
            p[i] -= lr * d
        }
    }

    public func state() -> (tensors: [(String, Tensor)], metadata: [String: String]) {
        var tensors: [(String, Tensor)] = []
        for (i, p) in parameters.enumerated() {
            if let b = buffers[i] { tensors.append(("momentum_buffer.\(p.name)", b)) }
        }
        return (tensors, ["optimizer": "SGD", "lr": "\(learningRate)"])
    }

    public func loadState(tensors: [String: Tensor], metadata: [String: String]) throws {
        let op = "SGD load state"
        guard metadata["optimizer"] == "SGD" else {
            throw EngineError.argument(op, "state is for '\(metadata["optimizer"] ?? "unknown")', not SGD")
        }
        var newBuffers = buffers
        for (i, p) in parameters.enumerated() {
            let key = "momentum_buffer.\(p.name)"
            newBuffers[i] = tensors[key] == nil ? nil : try stateTensor(tensors, key, like: p, op: op)
        }
        learningRate = try metadataNumber(metadata, "lr", op: op, in: 0...Double.greatestFiniteMagnitude)
        buffers = newBuffers
    }
}
