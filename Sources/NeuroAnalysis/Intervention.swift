import NeuroEngine
import NeuroModels

/// What an intervention measures on the model's last-position outputs.
public enum Metric: String, CaseIterable, Sendable {
    /// Fraction of inputs whose argmax is the label (higher is better).
    case accuracy
    /// Mean cross-entropy in Float64 (lower is better).
    case loss
    /// Mean of (label logit − mean of the other logits) (higher is better).
    case logitDiff = "logit_diff"

    /// The metric of `logits` against `labels`.
    public func measure(_ logits: Tensor, labels: Tensor) throws -> Double {
        switch self {
        case .accuracy: return try Metrics.accuracy(logits, labels: labels)
        case .loss: return try Metrics.crossEntropy(logits, labels: labels).item()
        case .logitDiff: return try PatchingMetric.logitDifference(logits, labels: labels).item()
        }
    }

    /// The short name used when printing (`acc`, `loss`, `logit diff`).
    public var label: String {
        switch self {
        case .accuracy: return "acc"
        case .loss: return "loss"
        case .logitDiff: return "logit diff"
        }
    }
}

/// Which part of an activation an intervention touches: some heads, some
/// positions, some neurons, or any combination; all of it when empty.
/// `head: [0, 2]` touches heads 0 and 2 together (at every position and
/// neuron unless those are given too).
public struct ActivationSlice: Equatable, Sendable, CustomStringConvertible {
    public var heads: [Int]
    public var positions: [Int]
    public var neurons: [Int]

    public init(heads: [Int], positions: [Int], neurons: [Int]) {
        self.heads = heads
        self.positions = positions
        self.neurons = neurons
    }

    /// One head, position and neuron (or none of each).
    public init(head: Int? = nil, position: Int? = nil, neuron: Int? = nil) {
        self.init(heads: head.map { [$0] } ?? [], positions: position.map { [$0] } ?? [], neurons: neuron.map { [$0] } ?? [])
    }

    /// The head when exactly one is picked.
    public var head: Int? { heads.count == 1 ? heads[0] : nil }
    /// The position when exactly one is picked.
    public var position: Int? { positions.count == 1 ? positions[0] : nil }
    /// The neuron when exactly one is picked.
    public var neuron: Int? { neurons.count == 1 ? neurons[0] : nil }

    public var isWhole: Bool { heads.isEmpty && positions.isEmpty && neurons.isEmpty }

    /// `head 0 pos 2`, `heads 0, 2`, `neurons 3, 17, 40`.
    public var description: String {
        func part(_ name: String, _ plural: String, _ picks: [Int]) -> String? {
            switch picks.count {
            case 0: return nil
            case 1: return "\(name) \(picks[0])"
            default: return "\(plural) " + picks.map(String.init).joined(separator: ", ")
            }
        }
        return [part("head", "heads", heads), part("pos", "positions", positions), part("neuron", "neurons", neurons)]
            .compactMap { $0 }.joined(separator: " ")
    }

    /// The axes of an activation at `site` that hold heads, positions and neurons.
    static func axes(_ site: HookSite) -> (head: Int?, position: Int?, neuron: Int?) {
        switch site {
        case .q, .k, .v, .z: return (2, 1, 3)                       // [batch, pos, head, d_head]
        case .result: return (2, 1, 3)                              // [batch, pos, head, d_model]
        case .attnScores, .pattern: return (1, 2, nil)              // [batch, head, query_pos, key_pos]
        default: return (nil, 1, 2)                                  // [batch, pos, features]
        }
    }

    /// A 0/1 mask, broadcastable to the activation, that is 1 on the slice.
    func mask(for point: HookPoint, shape: [Int]) throws -> Tensor {
        let axes = ActivationSlice.axes(point.site)
        var maskShape = [Int](repeating: 1, count: shape.count)
        var picked: [Int: Set<Int>] = [:]
        for (name, picks, axis) in [("head", heads, axes.head), ("pos", positions, axes.position), ("neuron", neurons, axes.neuron)] {
            guard !picks.isEmpty else { continue }
            guard let axis, axis < shape.count else {
                throw EngineError(.argument, "\(point.name) has no \(name) dimension; its shape is \(point.site.dimensions)")
            }
            let size = shape[axis]
            if let bad = picks.first(where: { $0 < -size || $0 >= size }) {
                throw EngineError(.index, "\(name) \(bad) is out of range for \(point.name), which has \(size) along that dimension")
            }
            maskShape[axis] = size
            picked[axis] = Set(picks.map { $0 < 0 ? $0 + size : $0 })
        }
        var strides = [Int](repeating: 1, count: maskShape.count)
        for axis in stride(from: maskShape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * maskShape[axis + 1] }
        var values = [Float](repeating: 0, count: maskShape.reduce(1, *))
        for flat in 0..<values.count {
            var remainder = flat, inside = true
            for axis in 0..<maskShape.count {
                let coordinate = remainder / strides[axis]
                remainder %= strides[axis]
                if let set = picked[axis], !set.contains(coordinate) { inside = false }
            }
            values[flat] = inside ? 1 : 0
        }
        return try Tensor(values, shape: maskShape)
    }

    /// `original` with the slice taken from `replacement` (both the activation's shape).
    func blend(_ original: Tensor, _ replacement: Tensor, at point: HookPoint) throws -> Tensor {
        if isWhole { return replacement }
        return try Tensor.where(mask(for: point, shape: original.shape), replacement, original)
    }
}

/// What an intervention measured: a `Metric` against a dataset's labels,
/// or a `TextMetric` on text given to a pretrained model.
public enum InterventionMetric: Equatable, Sendable {
    case labels(Metric)
    case text(TextMetric)

    /// The name used in `metric:` and results (`accuracy`, `logit_diff`, `cosine`).
    public var name: String {
        switch self {
        case .labels(let m): return m.rawValue
        case .text(let m): return m.name
        }
    }

    /// The short name used when printing (`acc`, `loss`, `logit diff`, `cosine`).
    public var label: String {
        switch self {
        case .labels(let m): return m.label
        case .text(let m): return m.label
        }
    }

    /// Whether values are fractions printed as percentages (accuracy).
    public var isFraction: Bool { self == .labels(.accuracy) }

    /// Whether a smaller value is better (the losses).
    public var lowerIsBetter: Bool {
        switch self {
        case .labels(let m): return m == .loss
        case .text(let m): return m.lowerIsBetter
        }
    }
}

/// The result of one intervention: the metric without it, with it, and
/// (for patching) on the corrupted inputs, and the effect.
public struct InterventionResult: Sendable {
    public enum Kind: String, Sendable { case patch, ablate, hook }
    public let kind: Kind
    /// The sites intervened on together, in forward order (usually one).
    public let points: [HookPoint]
    public let slice: ActivationSlice
    public let metric: InterventionMetric
    public let clean: Double
    /// The metric on the corrupted inputs (patching only).
    public let corrupted: Double?
    /// The metric with the intervention.
    public let intervened: Double
    /// How the intervention was described: `corrupt(a+1)`, `mean`, `fn(x)`.
    public let detail: String

    public init(kind: Kind, points: [HookPoint], slice: ActivationSlice, metric: InterventionMetric, clean: Double,
                corrupted: Double?, intervened: Double, detail: String) {
        self.kind = kind
        self.points = points
        self.slice = slice
        self.metric = metric
        self.clean = clean
        self.corrupted = corrupted
        self.intervened = intervened
        self.detail = detail
    }

    /// The first site (the only one, usually).
    public var point: HookPoint { points[0] }

    /// The sites' names, joined by ` + ` when there are several.
    public var siteName: String { points.map(\.name).joined(separator: " + ") }

    /// Patching: the share of the corruption's effect that flows through the
    /// site, (clean − patched) / (clean − corrupted), nil when the corruption
    /// does not change the metric (`NormalizedEffect`). Otherwise the change
    /// clean − intervened (positive when the metric got worse, for accuracy
    /// and logit difference; for loss the sign is flipped so worse is positive).
    public var effect: Double? {
        if let corrupted {
            return NormalizedEffect.ratio(intervened, clean: clean, corrupted: corrupted).map { 1 - $0 }
        }
        return metric.lowerIsBetter ? intervened - clean : clean - intervened
    }
}

/// Runs interventions on a model over a batch of inputs.
public enum Intervention {
    /// Noising patch: runs the clean inputs with the activation at `point`
    /// (or its slice) taken from the corrupted inputs.
    ///
    /// ```swift
    /// let r = try Intervention.patch(model, clean: data.tokens, corrupted: shifted, labels: data.labels, at: embed)
    /// ```
    public static func patch(_ model: any HookedModel, clean: Tensor, corrupted: Tensor, labels: Tensor,
                             at points: [HookPoint], slice: ActivationSlice = ActivationSlice(), metric: Metric = .accuracy,
                             detail: String = "") throws -> InterventionResult {
        guard clean.shape == corrupted.shape else {
            throw EngineError(.shape, subject: "patch", "corrupted inputs \(formatShape(corrupted.shape)) do not match clean inputs \(formatShape(clean.shape))")
        }
        let points = try distinct(points, subject: "patch")
        return try GradMode.withNoGrad {
            let cleanLogits = try model.run(clean, positions: .last).logits
            let (corruptedLogits, cache) = try model.run(corrupted, cache: .only(Set(points)), positions: .last)
            let hooks = try points.map { point -> Hook in
                guard let source = cache[point] else { throw EngineError(.argument, subject: "patch", "\(point.name) was not reached") }
                return Hook(point) { activation, _ in try slice.blend(activation, source, at: point) }
            }
            let patched = try model.run(clean, hooks: hooks, positions: .last).logits
            return InterventionResult(kind: .patch, points: points, slice: slice, metric: .labels(metric),
                                      clean: try metric.measure(cleanLogits, labels: labels),
                                      corrupted: try metric.measure(corruptedLogits, labels: labels),
                                      intervened: try metric.measure(patched, labels: labels), detail: detail)
        }
    }

    /// `patch` at one site.
    public static func patch(_ model: any HookedModel, clean: Tensor, corrupted: Tensor, labels: Tensor,
                             at point: HookPoint, slice: ActivationSlice = ActivationSlice(), metric: Metric = .accuracy,
                             detail: String = "") throws -> InterventionResult {
        try patch(model, clean: clean, corrupted: corrupted, labels: labels, at: [point], slice: slice, metric: metric, detail: detail)
    }

    /// The sites of an intervention, at least one, none twice, in the order given.
    static func distinct(_ points: [HookPoint], subject: String) throws -> [HookPoint] {
        guard !points.isEmpty else { throw EngineError(.argument, subject: subject, "needs at least one site") }
        var seen = Set<HookPoint>()
        for point in points where !seen.insert(point).inserted {
            throw EngineError(.argument, subject: subject, "\(point.name) is listed twice")
        }
        return points
    }

    /// How an ablation replaces an activation.
    public enum AblationMethod: String, CaseIterable, Sendable {
        /// By zeros.
        case zero
        /// By its mean over the inputs.
        case mean
        /// By its value on other inputs (a seeded shuffle of the batch).
        case resample

        /// What replaces `activation` (batch first): zeros, its mean over the
        /// batch, or its rows in a seeded order that moves every row.
        func replacement(for activation: Tensor, seed: UInt64) throws -> Tensor {
            switch self {
            case .zero: return try Tensor.zeros(activation.shape)
            case .mean: return try activation.mean(axes: [0], keepDims: true).expanded(to: activation.shape)
            case .resample:
                var rng = RandomGenerator(seed: seed)
                let order = derangement(activation.shape[0], &rng)
                return try activation.indexSelect(axis: 0, indices: Tensor(ints: order, shape: [order.count]))
            }
        }
    }

    /// Replaces the activation at each of `points` (or its slice) by zeros,
    /// its mean over the batch, or its value on other inputs (the same other
    /// input at every site), all in one run, and measures the change.
    public static func ablate(_ model: any HookedModel, tokens: Tensor, labels: Tensor, at points: [HookPoint],
                              method: AblationMethod, slice: ActivationSlice = ActivationSlice(), metric: Metric = .accuracy,
                              seed: UInt64 = 0) throws -> InterventionResult {
        let points = try distinct(points, subject: "ablate")
        return try GradMode.withNoGrad {
            let (cleanLogits, cache) = try model.run(tokens, cache: .only(Set(points)), positions: .last)
            let hooks = try points.map { point -> Hook in
                guard let activation = cache[point] else { throw EngineError(.argument, subject: "ablate", "\(point.name) was not reached") }
                let replacement = try method.replacement(for: activation, seed: seed)
                return Hook(point) { original, _ in try slice.blend(original, replacement, at: point) }
            }
            let ablated = try model.run(tokens, hooks: hooks, positions: .last).logits
            return InterventionResult(kind: .ablate, points: points, slice: slice, metric: .labels(metric),
                                      clean: try metric.measure(cleanLogits, labels: labels), corrupted: nil,
                                      intervened: try metric.measure(ablated, labels: labels), detail: method.rawValue)
        }
    }

    /// `ablate` at one site.
    public static func ablate(_ model: any HookedModel, tokens: Tensor, labels: Tensor, at point: HookPoint,
                              method: AblationMethod, slice: ActivationSlice = ActivationSlice(), metric: Metric = .accuracy,
                              seed: UInt64 = 0) throws -> InterventionResult {
        try ablate(model, tokens: tokens, labels: labels, at: [point], method: method, slice: slice, metric: metric, seed: seed)
    }

    /// Runs with `function` replacing the activation at each of `points` and measures the change.
    public static func hook(_ model: any HookedModel, tokens: Tensor, labels: Tensor, at points: [HookPoint],
                            slice: ActivationSlice = ActivationSlice(), metric: Metric = .accuracy, detail: String = "fn",
                            function: @escaping (Tensor) throws -> Tensor) throws -> InterventionResult {
        let points = try distinct(points, subject: "hook")
        return try GradMode.withNoGrad {
            let cleanLogits = try model.run(tokens, positions: .last).logits
            let hooks = points.map { point in Hook(point) { original, _ in try slice.blend(original, try function(original), at: point) } }
            let hooked = try model.run(tokens, hooks: hooks, positions: .last).logits
            return InterventionResult(kind: .hook, points: points, slice: slice, metric: .labels(metric),
                                      clean: try metric.measure(cleanLogits, labels: labels), corrupted: nil,
                                      intervened: try metric.measure(hooked, labels: labels), detail: detail)
        }
    }

    /// `hook` at one site.
    public static func hook(_ model: any HookedModel, tokens: Tensor, labels: Tensor, at point: HookPoint,
                            slice: ActivationSlice = ActivationSlice(), metric: Metric = .accuracy, detail: String = "fn",
                            function: @escaping (Tensor) throws -> Tensor) throws -> InterventionResult {
        try hook(model, tokens: tokens, labels: labels, at: [point], slice: slice, metric: metric, detail: detail, function: function)
    }

    /// A random permutation of 0..<n that moves every index (when n > 1), so
    /// resampling never hands an input its own activation.
    static func derangement(_ n: Int, _ rng: inout RandomGenerator) -> [Int] {
        guard n > 1 else { return Array(0..<n) }
        // Sattolo's algorithm: a uniformly random single n-cycle.
        var values = Array(0..<n)
        for i in stride(from: n - 1, to: 0, by: -1) { values.swapAt(i, rng.nextInt(below: i)) }
        return values
    }
}
