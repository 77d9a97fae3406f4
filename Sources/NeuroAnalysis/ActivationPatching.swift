import NeuroEngine
import NeuroModels

/// Activation patching on one model between clean and corrupted inputs:
/// TransformerLens's sweeps (`sweep`), attribution patching (`attribute`)
/// and path patching (`pathPatch`), with the same baselines and metric.
///
/// The inputs that run are the *target* and the inputs activations come
/// from are the *source*: corrupted and clean when denoising (the default,
/// as TransformerLens), clean and corrupted when noising. Every run is batched
/// over all inputs at once and made without recording gradients.
///
/// ```swift
/// let patching = try ActivationPatching(model, clean: data.tokens, corrupted: shifted, labels: data.labels)
/// let grid = try patching.sweep([.residPre])                 // [layer, pos], as get_act_patch_resid_pre
/// let heads = try patching.sweep(SweepSpec.everyHead(byPosition: true))   // [5, layer, pos, head]
/// ```
public final class ActivationPatching {
    /// The model every run uses.
    public let model: any HookedModel
    /// Clean inputs [batch, pos].
    public let clean: Tensor
    /// Corrupted inputs, the same shape as `clean`.
    public let corrupted: Tensor
    /// What each run measures.
    public let metric: PatchingMetric
    /// Which inputs run and which give the patched-in activations.
    public let direction: PatchDirection
    /// Checked between forward passes; returning true stops the work with an `interrupted` error.
    public var shouldStop: () -> Bool = { false }

    /// Throws when the clean and corrupted inputs differ in shape or are not [batch, pos].
    public init(_ model: any HookedModel, clean: Tensor, corrupted: Tensor, metric: PatchingMetric,
                direction: PatchDirection = .denoise) throws {
        guard clean.shape == corrupted.shape else {
            throw EngineError(.shape, subject: "patching", "corrupted inputs \(formatShape(corrupted.shape)) do not match clean inputs \(formatShape(clean.shape))")
        }
        guard clean.rank == 2 else {
            throw EngineError(.shape, subject: "patching", "inputs must be [batch, pos], got \(formatShape(clean.shape))")
        }
        self.model = model
        self.clean = clean
        self.corrupted = corrupted
        self.metric = metric
        self.direction = direction
    }

    /// The same with a built-in metric against `labels` [batch] (logit difference unless told).
    public convenience init(_ model: any HookedModel, clean: Tensor, corrupted: Tensor, labels: Tensor, metric: Metric = .logitDiff,
                            direction: PatchDirection = .denoise) throws {
        try self.init(model, clean: clean, corrupted: corrupted, metric: PatchingMetric(metric, labels: labels), direction: direction)
    }

    /// The inputs that run.
    var target: Tensor { direction == .denoise ? corrupted : clean }
    /// The inputs patched-in activations come from.
    var source: Tensor { direction == .denoise ? clean : corrupted }
    var positions: LogitPositions { metric.readsLastPositionOnly ? .last : .all }
    var tokenCount: Int { clean.shape[1] }

    // MARK: - Runs

    /// The metric on both inputs and the activations at the requested points.
    struct Baselines {
        let clean: Double
        let corrupted: Double
        /// Activations of the source run.
        let source: ActivationCache
        /// Activations of the target run.
        let target: ActivationCache
        /// The metric of the target run (corrupted when denoising).
        let targetValue: Double
    }

    /// Runs both inputs once, caching `sourcePoints` from the source run and `targetPoints` from the target run.
    func baselines(source sourcePoints: Set<HookPoint>, target targetPoints: Set<HookPoint> = []) throws -> Baselines {
        try GradMode.withNoGrad {
            let s = try model.run(source, cache: .only(sourcePoints), positions: positions)
            let t = try model.run(target, cache: .only(targetPoints), positions: positions)
            let (sv, tv) = (try metric.measure(s.logits), try metric.measure(t.logits))
            let (cleanValue, corruptedValue) = direction == .denoise ? (sv, tv) : (tv, sv)
            return Baselines(clean: cleanValue, corrupted: corruptedValue, source: s.cache, target: t.cache, targetValue: tv)
        }
    }

    /// The metric of the target run with `hooks`.
    func measureTarget(_ hooks: [Hook]) throws -> Double {
        if shouldStop() { throw EngineError(.interrupted, "patching interrupted") }
        return try GradMode.withNoGrad { try metric.measure(model.run(target, hooks: hooks, positions: positions).logits) }
    }

    /// The activation a run cached, or an error naming the point.
    static func cached(_ cache: ActivationCache, _ point: HookPoint) throws -> Tensor {
        guard let value = cache[point] else { throw EngineError(.argument, subject: "patching", "\(point.name) was not reached by the forward pass") }
        return value
    }

    /// Checks that `point` is a hook point of this model (attention-only models have no MLP sites).
    func checkExists(_ point: HookPoint) throws {
        guard model.hasHook(point) else {
            throw EngineError(.argument, subject: "patching", "this model has no \(point.name)"
                + (model.config.attentionOnly ? " (it is attention-only)" : model.config.normalizationType == .none ? " (it has no LayerNorm)" : ""))
        }
    }

    /// The shape of the activation at `site` for a batch of `batch` inputs of `pos` tokens.
    func activationShape(_ site: HookSite, batch: Int) -> [Int] {
        let c = model.config
        let p = tokenCount
        switch site {
        case .q, .k, .v, .z: return [batch, p, c.nHeads, c.dHead]
        case .result: return [batch, p, c.nHeads, c.dModel]
        case .attnScores, .pattern: return [batch, c.nHeads, p, p]
        case .mlpPre, .mlpPost: return [batch, p, c.dMLP]
        case .ln1Scale, .ln2Scale, .lnFinalScale: return [batch, p, 1]
        case .unembedOut: return [batch, p, c.dVocabOut]
        default: return [batch, p, c.dModel]
        }
    }

    /// A 0/1 tensor, broadcastable to an activation of rank `rank`, that is 1
    /// exactly where every picked dimension has its picked index.
    static func cellMask(rank: Int, sizes: [Int], picks: [(dim: Int, index: Int)]) throws -> Tensor {
        var shape = [Int](repeating: 1, count: rank)
        for pick in picks { shape[pick.dim] = sizes[pick.dim] }
        var step = 1
        var flat = 0
        for dim in stride(from: rank - 1, through: 0, by: -1) {
            if let pick = picks.first(where: { $0.dim == dim }) { flat += pick.index * step }
            step *= shape[dim]
        }
        var values = [Float](repeating: 0, count: step)
        values[flat] = 1
        return try Tensor(values, shape: shape)
    }
}
