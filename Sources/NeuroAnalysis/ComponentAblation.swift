import NeuroEngine
import NeuroModels

/// Principal-component ablation: the PCA of an activation over the inputs,
/// the chosen components projected out at that hook (each input keeps the
/// mean's coordinate along them), and what breaks — the metric, the
/// accuracy, and which inputs go from right to wrong.
///
/// Samples are the activation's rows: one per input and position (only the
/// given position when there is one); features are its last dimension —
/// one head's `d_head` when a head is given, all heads side by side
/// otherwise (for patterns, the key positions of every head).
///
/// ```swift
/// let r = try ComponentAblation(model, tokens: data.tokens, labels: data.labels,
///                               at: HookPoint(.residPost, layer: 0), components: [0, 1], position: 2)
/// r.accuracy        // (before: 1.0, after: 0.43)
/// r.broken          // rows that were right and are now wrong
/// ```
public struct ComponentAblation {
    /// The hook whose activation lost components.
    public let point: HookPoint
    /// The head the PCA looked at (all heads side by side when nil).
    public let head: Int?
    /// The position the PCA looked at and the projection changed (all when nil).
    public let position: Int?
    /// The components removed, by rank (0 is the direction of most variance).
    public let components: [Int]
    /// Each removed component's share of the activation's variance.
    public let explainedVarianceRatio: [Double]
    /// The removed directions as unit rows: [components, features].
    public let directions: Tensor
    /// What `before` and `after` measure.
    public let metric: Metric
    /// The metric before and after the ablation.
    public let before: Double, after: Double
    /// Accuracy before and after (whatever the metric).
    public let accuracy: (before: Double, after: Double)
    /// Inputs (rows of the tokens) predicted right before and wrong after.
    public let broken: [Int]
    /// Inputs predicted wrong before and right after.
    public let fixed: [Int]
    /// The argmax prediction of every input before and after.
    public let predictions: (before: [Int], after: [Int])

    /// Throws when the point is not in the model, `components` is empty,
    /// repeats a rank or names one beyond min(samples, features), the head
    /// or position is out of range or the site has no heads, or the labels
    /// do not match the tokens.
    public init(_ model: any HookedModel, tokens: Tensor, labels: Tensor, at point: HookPoint, components: [Int],
                head: Int? = nil, position: Int? = nil, metric: Metric = .accuracy) throws {
        guard !components.isEmpty else { throw EngineError(.argument, subject: "pc ablation", "name at least one component to remove") }
        guard Set(components).count == components.count, let highest = components.max(), components.allSatisfy({ $0 >= 0 }) else {
            throw EngineError(.argument, subject: "pc ablation", "components must be distinct ranks 0, 1, …; got \(components)")
        }
        guard model.hasHook(point) else { throw EngineError(.argument, subject: "pc ablation", "this model has no \(point.name)") }
        let (cleanLogits, cache) = try GradMode.withNoGrad { try model.run(tokens, cache: .only([point]), positions: .last) }
        guard let activation = cache[point] else { throw EngineError(.argument, subject: "pc ablation", "\(point.name) was not reached") }
        let view = try FeatureView(activation, site: point.site, head: head, position: position)
        let rows = try view.samples()                                                                       // [samples, features]
        let available = Swift.min(rows.shape[0], rows.shape[1])
        guard highest < available else {
            throw EngineError(.argument, subject: "pc ablation", "component \(highest) does not exist; \(point.name) has \(available) (min of \(rows.shape[0]) samples and \(rows.shape[1]) features)")
        }
        let pca = try rows.pca(components: highest + 1)
        let picked = try Tensor(ints: components, shape: [components.count])
        let directions = try pca.components.indexSelect(axis: 0, indices: picked)                          // [k, features]
        let ablated = try GradMode.withNoGrad { () -> Tensor in
            let features = try view.features()                                                              // [batch, pos, features]
            let coordinates = try (features - pca.mean).linear(directions.transposed())                     // [batch, pos, k]
            return try view.replaced(with: features - coordinates.linear(directions))
        }
        let hook = Hook(point) { _, _ in ablated }
        let patchedLogits = try GradMode.withNoGrad { try model.run(tokens, hooks: [hook], positions: .last).logits }

        let truth = labels.toInts()
        let (was, now) = (try cleanLogits.argmax(axis: -1).toInts(), try patchedLogits.argmax(axis: -1).toInts())
        guard truth.count == was.count else {
            throw EngineError(.shape, subject: "pc ablation", "\(truth.count) labels for \(was.count) inputs")
        }
        self.point = point
        self.head = head
        self.position = position
        self.components = components
        self.explainedVarianceRatio = try pca.explainedVarianceRatio.indexSelect(axis: 0, indices: picked).toDoubles()
        self.directions = directions
        self.metric = metric
        self.before = try metric.measure(cleanLogits, labels: labels)
        self.after = try metric.measure(patchedLogits, labels: labels)
        self.accuracy = (try Metrics.accuracy(cleanLogits, labels: labels), try Metrics.accuracy(patchedLogits, labels: labels))
        self.broken = truth.indices.filter { was[$0] == truth[$0] && now[$0] != truth[$0] }
        self.fixed = truth.indices.filter { was[$0] != truth[$0] && now[$0] == truth[$0] }
        self.predictions = (was, now)
    }
}

/// An activation seen as [batch, pos, features] for PCA, and the way back.
struct FeatureView {
    let activation: Tensor
    let site: HookSite
    let head: Int?
    let position: Int?

    init(_ activation: Tensor, site: HookSite, head: Int?, position: Int?) throws {
        if let head {
            guard site.hasHeads else { throw EngineError(.argument, subject: "pc ablation", "\(site.shortName) \(site.dimensions) has no heads") }
            let heads = activation.shape[site.positionAxis == 2 ? 1 : 2]
            guard head >= 0 && head < heads else { throw EngineError(.index, subject: "pc ablation", "head \(head) is out of range (\(heads) heads)") }
        }
        let positions = activation.shape[site.positionAxis]
        if let position, position < 0 || position >= positions {
            throw EngineError(.index, subject: "pc ablation", "position \(position) is out of range (\(positions) positions)")
        }
        self.activation = activation
        self.site = site
        self.head = head
        self.position = position
    }

    /// Patterns keep heads before positions; the view puts positions first.
    private var isPattern: Bool { site.positionAxis == 2 }

    /// [batch, pos, features]: the head's slice, or all heads side by side.
    func features() throws -> Tensor {
        let x = isPattern ? try activation.permuted([0, 2, 1, 3]) : activation                             // [batch, pos, head, …]
        guard x.rank == 4 else { return x }
        if let head { return try x.select(axis: 2, index: head) }                                          // [batch, pos, d]
        return try x.contiguous().reshaped([x.shape[0], x.shape[1], x.shape[2] * x.shape[3]])              // [batch, pos, head·d]
    }

    /// The PCA samples: every (input, position) row, or the given position's.
    func samples() throws -> Tensor {
        let f = try features()
        if let position { return try f.select(axis: 1, index: position).contiguous() }                     // [batch, features]
        return try f.contiguous().reshaped([f.shape[0] * f.shape[1], f.shape[2]])                          // [batch·pos, features]
    }

    /// The activation with `edited` [batch, pos, features] written back
    /// (only at the position, and only in the head, when given).
    func replaced(with edited: Tensor) throws -> Tensor {
        var full = edited
        let original = try features()
        if let position {
            full = try Tensor.where(ActivationPatching.cellMask(rank: 3, sizes: full.shape, picks: [(1, position)]), full, original)
        }
        if activation.rank == 3 { return full }
        let layout = isPattern ? try activation.permuted([0, 2, 1, 3]) : activation                        // [batch, pos, head, d]
        var heads = try full.unsqueezed(2)                                                                    // [batch, pos, 1, d]
        if let head {
            heads = try Tensor.where(ActivationPatching.cellMask(rank: 4, sizes: layout.shape, picks: [(2, head)]), heads, layout)
        } else {
            heads = try full.reshaped(layout.shape)
        }
        return isPattern ? try heads.permuted([0, 2, 1, 3]).contiguous() : heads                          // the activation's layout
    }
}
