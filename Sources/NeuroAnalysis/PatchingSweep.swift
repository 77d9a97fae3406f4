import NeuroEngine
import NeuroModels

/// An axis a patching sweep runs over: one patch per index along it.
public enum SweepAxis: String, CaseIterable, Sendable {
    /// One block at a time (per-block sites only).
    case layer
    /// One position (the query position for attention patterns).
    case pos
    /// One attention head.
    case head
    /// The query position of an attention pattern (`pos` means the same there).
    case destPos = "dest_pos"
    /// The key position of an attention pattern.
    case srcPos = "src_pos"
    /// One feature of the activation: a neuron of the MLP, a dimension of the residual stream or of a head.
    case neuron
}

extension HookSite {
    /// Whether the activation has a head dimension (q, k, v, z, the heads' results, attention scores and pattern).
    public var hasHeads: Bool {
        switch self {
        case .q, .k, .v, .z, .result, .attnScores, .pattern: return true
        default: return false
        }
    }

    /// The axis of the activation's (query) position: 2 for attention
    /// scores and patterns [batch, head, query_pos, key_pos], 1 otherwise.
    public var positionAxis: Int { self == .pattern || self == .attnScores ? 2 : 1 }
}

/// One patching sweep: the activation to patch and the axes to sweep; every
/// combination of indices along the axes is one patch (one cell of the grid).
///
/// The presets are TransformerLens's `patching.get_act_patch_*` functions:
/// `.residPre` is `get_act_patch_resid_pre` ([layer, pos]), `.heads(.z)` is
/// `get_act_patch_attn_head_out_all_pos` ([layer, head]),
/// `.headsByPosition(.q)` is `get_act_patch_attn_head_q_by_pos` ([layer, pos, head]).
///
/// ```swift
/// SweepSpec(.mlpPost, by: [.neuron], layer: 0)      // every neuron of blocks.0.mlp.hook_post
/// SweepSpec(.pattern, by: [.layer, .head, .destPos, .srcPos])
/// ```
public struct SweepSpec: Equatable, Sendable {
    /// The activation patched.
    public let site: HookSite
    /// The axes swept, in the order of the result's dimensions; none patches the whole activation.
    public let axes: [SweepAxis]
    /// The block to patch when the site is per block and `axes` has no `.layer`.
    public let layer: Int?

    /// A sweep of `site` over `axes`; `layer` (negative counts from the end) names the block when `axes` has no `.layer`.
    public init(_ site: HookSite, by axes: [SweepAxis], layer: Int? = nil) {
        self.site = site
        self.axes = axes
        self.layer = layer
    }

    /// `resid_pre by layer × pos`.
    public var name: String {
        "\(site.shortName)\(layer.map { " \($0)" } ?? "") by " + (axes.isEmpty ? "whole activation" : axes.map(\.rawValue).joined(separator: " × "))
    }

    /// `get_act_patch_resid_pre`: [layer, pos].
    public static let residPre = SweepSpec(.residPre, by: [.layer, .pos])
    /// `get_act_patch_resid_mid`: [layer, pos].
    public static let residMid = SweepSpec(.residMid, by: [.layer, .pos])
    /// The residual stream after each block (TransformerLens has no preset): [layer, pos].
    public static let residPost = SweepSpec(.residPost, by: [.layer, .pos])
    /// `get_act_patch_attn_out`: [layer, pos].
    public static let attnOut = SweepSpec(.attnOut, by: [.layer, .pos])
    /// `get_act_patch_mlp_out`: [layer, pos].
    public static let mlpOut = SweepSpec(.mlpOut, by: [.layer, .pos])

    /// `get_act_patch_attn_head_{out,q,k,v,pattern}_all_pos` (site `.z` is "out"): [layer, head].
    public static func heads(_ site: HookSite) -> SweepSpec { SweepSpec(site, by: [.layer, .head]) }

    /// `get_act_patch_attn_head_{out,q,k,v}_by_pos`: [layer, pos, head]. For
    /// `.pattern` the position is the query position, laid out as
    /// `get_act_patch_attn_head_by_pos_every` does ([layer, pos, head], where
    /// `get_act_patch_attn_head_pattern_by_pos` alone gives [layer, head, dest_pos]).
    public static func headsByPosition(_ site: HookSite) -> SweepSpec { SweepSpec(site, by: [.layer, .pos, .head]) }

    /// `get_act_patch_block_every`: resid_pre, attn_out and mlp_out, stacked to [3, layer, pos].
    public static let everyBlock: [SweepSpec] = [residPre, attnOut, mlpOut]

    /// `get_act_patch_attn_head_all_pos_every` ([5, layer, head]) or, by
    /// position, `get_act_patch_attn_head_by_pos_every` ([5, layer, pos, head]):
    /// head output (z), q, k, v and pattern.
    public static func everyHead(byPosition: Bool) -> [SweepSpec] {
        [HookSite.z, .q, .k, .v, .pattern].map { byPosition ? headsByPosition($0) : heads($0) }
    }
}

/// The grid a patching sweep measured, with its axes named and labelled.
///
/// `values` holds the raw metric of each patched run, as TransformerLens's
/// functions return it; `normalized` is (patched − corrupted) / (clean − corrupted),
/// 1 where a patch gives the clean behaviour and 0 where it gives the corrupted one.
public struct PatchingSweep {
    /// What was swept: `z by layer × pos × head`.
    public let title: String
    /// The activation of each stacked sweep (one for a single sweep).
    public let sites: [HookSite]
    /// Axis names in order: `["layer", "pos"]`, or `["site", "layer", "pos"]` for stacked sweeps.
    public let axes: [String]
    /// The label of every index along each axis.
    public let axisLabels: [[String]]
    /// The metric of each patched run, Float64, shaped by the axes.
    public let values: Tensor
    /// (values − corrupted) / (clean − corrupted); NaN in every cell when the
    /// corruption does not change the metric (`isNormalizable` is false).
    public let normalized: Tensor
    /// The metric on the clean inputs.
    public let clean: Double
    /// The metric on the corrupted inputs.
    public let corrupted: Double
    /// Which inputs ran and which gave the activations.
    public let direction: PatchDirection
    /// The metric's name.
    public let metric: String
    /// Forward passes made, baselines included (cells the output cannot read need none).
    public let forwardPasses: Int

    init(title: String, sites: [HookSite], axes: [String], axisLabels: [[String]], values: [Double], clean: Double,
         corrupted: Double, direction: PatchDirection, metric: String, forwardPasses: Int) throws {
        let shape = axisLabels.map(\.count)
        self.title = title
        self.sites = sites
        self.axes = axes
        self.axisLabels = axisLabels
        self.values = try Tensor(float64: values, shape: shape)
        self.normalized = try Tensor(float64: values.map { NormalizedEffect.ratio($0, clean: clean, corrupted: corrupted) ?? .nan },
                                     shape: shape)
        self.clean = clean
        self.corrupted = corrupted
        self.direction = direction
        self.metric = metric
        self.forwardPasses = forwardPasses
    }

    /// The metric of the run that was patched: corrupted when denoising, clean when noising.
    public var baseline: Double { direction == .denoise ? corrupted : clean }

    /// Whether `normalized` means anything: false when clean and corrupted agree.
    public var isNormalizable: Bool { NormalizedEffect.isDefined(clean: clean, corrupted: corrupted) }

    /// The labels of the cell at flat (row-major) index `flat`.
    public func labels(ofCell flat: Int) -> [String] {
        var rest = flat
        var out = [String](repeating: "", count: axisLabels.count)
        for axis in stride(from: axisLabels.count - 1, through: 0, by: -1) {
            let n = Swift.max(axisLabels[axis].count, 1)
            out[axis] = axisLabels[axis].isEmpty ? "" : axisLabels[axis][rest % n]
            rest /= n
        }
        return out
    }

    /// The cell whose patch moved the metric furthest from the baseline: its
    /// labels, raw value and normalised effect (nil where undefined); nil for an empty grid.
    public var strongest: (labels: [String], value: Double, normalized: Double?)? {
        let raw = values.toDoubles(), norm = normalized.toDoubles()
        guard let best = raw.indices.max(by: { Swift.abs(raw[$0] - baseline) < Swift.abs(raw[$1] - baseline) }) else { return nil }
        return (labels(ofCell: best), raw[best], isNormalizable ? norm[best] : nil)
    }
}

/// A validated sweep: where each cell patches.
struct SweepPlan {
    let spec: SweepSpec
    /// Cells along each axis.
    let sizes: [Int]
    /// The activation dimension of each axis (nil for the layer axis).
    let dims: [Int?]
    /// The activation's shape for one input ([1, …]).
    let shape: [Int]
    /// The blocks patched (one nil for a global site).
    let layers: [Int?]

    var count: Int { sizes.reduce(1, *) }

    var rank: Int { shape.count }

    /// The activation dimensions the cells split, ascending.
    var keptDims: [Int] { dims.compactMap { $0 }.sorted() }

    /// `t` (shaped like the activation) summed over the inputs and every
    /// dimension the cells do not split: one number per cell of one hook point.
    func perCell(_ t: Tensor) throws -> [Double] {
        let kept = keptDims
        return try t.cast(to: .float64).sum(axes: (0..<rank).filter { !kept.contains($0) }).toDoubles()
    }

    /// Where the cell with these picks sits in `perCell`'s numbers.
    func perCellIndex(_ picks: [(dim: Int, index: Int)]) -> Int {
        keptDims.reduce(0) { index, dim in index * shape[dim] + (picks.first { $0.dim == dim }?.index ?? 0) }
    }

    var points: [HookPoint] { layers.map { HookPoint(spec.site, layer: $0) } }

    /// The hook point and the (dimension, index) picks of the cell at flat index `flat`.
    func cell(_ flat: Int) -> (point: HookPoint, picks: [(dim: Int, index: Int)]) {
        var rest = flat
        var indices = [Int](repeating: 0, count: sizes.count)
        for axis in stride(from: sizes.count - 1, through: 0, by: -1) {
            indices[axis] = rest % sizes[axis]
            rest /= sizes[axis]
        }
        var layer = layers[0]
        var picks: [(dim: Int, index: Int)] = []
        for (axis, index) in indices.enumerated() {
            if let dim = dims[axis] { picks.append((dim, index)) } else { layer = index }
        }
        return (HookPoint(spec.site, layer: layer), picks)
    }

    /// Labels along each axis: indices as text.
    var axisLabels: [[String]] { sizes.map { (0..<$0).map(String.init) } }
}

extension ActivationPatching {
    // MARK: - Sweeps

    /// Runs each spec's sweep; several specs with the same grid are stacked
    /// along a leading `site` axis (as TransformerLens's `_every` functions).
    ///
    /// Cells that cannot change the output are not run, their value being
    /// the baseline: those whose patched slice equals what the run already
    /// has there (positions where clean and corrupted inputs agree, often),
    /// and, with a last-position metric, those at a position other than the
    /// last of a last-block site that only feeds its own position (q, z,
    /// pattern rows, attn_out, resid_mid, the MLP, resid_post, the final
    /// LayerNorm).
    ///
    /// `progress` hears of every cell done (cells of all stacked grids
    /// counted together); a throw from it stops the sweep with that error.
    ///
    /// Throws for axes a site does not have, a site the model lacks, a per-block
    /// site with neither a layer axis nor a layer, or stacked grids that differ.
    public func sweep(_ specs: [SweepSpec], title: String? = nil, progress: StepProgress? = nil) throws -> PatchingSweep {
        guard !specs.isEmpty else { throw EngineError(.argument, subject: "sweep", "needs at least one activation to sweep") }
        let plans = try specs.map(plan)
        let points = Set(plans.flatMap(\.points))
        let base = try baselines(source: points, target: points)
        var passes = 2
        let cells = plans.reduce(0) { $0 + $1.count }
        var done = 0
        try progress?(0, cells)
        let grids = try plans.map { plan -> [Double] in
            // Per hook point: how much each cell's slice differs between the runs.
            var differences: [HookPoint: [Double]] = [:]
            for point in plan.points {
                let change = try ActivationPatching.cached(base.source, point) - ActivationPatching.cached(base.target, point)
                differences[point] = try plan.perCell(change.abs())
            }
            return try (0..<plan.count).map { flat -> Double in
                done += 1
                let (point, picks) = plan.cell(flat)
                if isUnread(point, picks) || differences[point]?[plan.perCellIndex(picks)] == 0 {
                    try progress?(done, cells)
                    return base.targetValue
                }
                let source = try ActivationPatching.cached(base.source, point)
                let mask = try picks.isEmpty ? nil : ActivationPatching.cellMask(rank: plan.rank, sizes: source.shape, picks: picks)
                let hook = Hook(point) { activation, _ in
                    guard let mask else { return source }
                    return try Tensor.where(mask, source, activation)
                }
                passes += 1
                let value = try measureTarget([hook])
                try progress?(done, cells)
                return value
            }
        }
        return try assemble(plans, grids, clean: base.clean, corrupted: base.corrupted, passes: passes, title: title)
    }

    /// Checks a spec against the model and finds where its axes sit in the activation.
    func plan(_ spec: SweepSpec) throws -> SweepPlan {
        let site = spec.site
        let nLayers = model.config.nLayers
        if let repeated = spec.axes.first(where: { axis in spec.axes.filter { $0 == axis }.count > 1 }) {
            throw EngineError(.argument, subject: "sweep", "the axis '\(repeated.rawValue)' is listed twice")
        }
        let layers: [Int?]
        if !site.isPerBlock {
            guard !spec.axes.contains(.layer), spec.layer == nil else {
                throw EngineError(.argument, subject: "sweep", "\(site.shortName) is not in a block, so it has no layer")
            }
            layers = [nil]
        } else if spec.axes.contains(.layer) {
            guard spec.layer == nil else { throw EngineError(.argument, subject: "sweep", "give a layer axis or a layer, not both") }
            layers = (0..<nLayers).map { $0 }
        } else {
            guard let l = spec.layer else {
                throw EngineError(.argument, subject: "sweep", "\(site.shortName) is in every block; sweep over 'layer' or name one layer")
            }
            guard l >= -nLayers && l < nLayers else {
                throw EngineError(.index, subject: "sweep", "layer \(l) is out of range for a model with \(nLayers) layer\(nLayers == 1 ? "" : "s")")
            }
            layers = [l < 0 ? l + nLayers : l]
        }
        for layer in layers { try checkExists(HookPoint(site, layer: layer)) }
        let shape = activationShape(site, batch: 1)
        let dims = try spec.axes.map { axis -> Int? in
            if axis == .layer { return nil }
            guard let dim = ActivationPatching.dimension(of: axis, at: site) else {
                throw EngineError(.argument, subject: "sweep", "\(site.shortName) \(site.dimensions) has no '\(axis.rawValue)' axis")
            }
            return dim
        }
        guard Set(dims.compactMap { $0 }).count == dims.compactMap({ $0 }).count else {
            throw EngineError(.argument, subject: "sweep", "'pos' and 'dest_pos' are the same axis of \(site.shortName)")
        }
        let sizes = zip(spec.axes, dims).map { axis, dim in dim.map { shape[$0] } ?? (axis == .layer ? nLayers : 1) }
        return SweepPlan(spec: spec, sizes: sizes, dims: dims, shape: shape, layers: layers)
    }

    /// Where `axis` lies in the activation at `site`, if it has one.
    static func dimension(of axis: SweepAxis, at site: HookSite) -> Int? {
        let table: [SweepAxis: Int]
        switch site {
        case .q, .k, .v, .z: table = [.pos: 1, .head: 2, .neuron: 3]                      // [batch, pos, head, d_head]
        case .result: table = [.pos: 1, .head: 2, .neuron: 3]                              // [batch, pos, head, d_model]
        case .attnScores, .pattern: table = [.head: 1, .pos: 2, .destPos: 2, .srcPos: 3]  // [batch, head, query_pos, key_pos]
        default: table = [.pos: 1, .neuron: 2]                                              // [batch, pos, features]
        }
        return table[axis]
    }

    /// Sites of the last block (and after it) whose value at one position
    /// reaches the logits only at that position.
    static let positionLocalSites: Set<HookSite> = [
        .q, .attnScores, .pattern, .z, .result, .attnOut, .residMid, .ln2Scale, .ln2Normalized, .mlpPre, .mlpPost, .mlpOut,
        .residPost, .lnFinalScale, .lnFinalNormalized, .unembedIn, .unembedOut,
    ]

    /// Whether a last-position metric cannot see a patch of these picks at `point`.
    func isUnread(_ point: HookPoint, _ picks: [(dim: Int, index: Int)]) -> Bool {
        let site = point.site
        guard metric.readsLastPositionOnly, ActivationPatching.positionLocalSites.contains(site) else { return false }
        if let layer = point.layer, layer != model.config.nLayers - 1 { return false }
        guard let pick = picks.first(where: { $0.dim == site.positionAxis }) else { return false }
        return pick.index != tokenCount - 1
    }

    /// One sweep's grid, or several stacked along a leading `site` axis.
    func assemble(_ plans: [SweepPlan], _ grids: [[Double]], clean: Double, corrupted: Double, passes: Int,
                  title: String?) throws -> PatchingSweep {
        let first = plans[0]
        let names = first.spec.axes.map(\.rawValue)
        if plans.count == 1 {
            return try PatchingSweep(title: title ?? first.spec.name, sites: [first.spec.site], axes: names, axisLabels: first.axisLabels,
                                     values: grids[0], clean: clean, corrupted: corrupted, direction: direction,
                                     metric: metric.name, forwardPasses: passes)
        }
        if let other = plans.first(where: { $0.sizes != first.sizes }) {
            throw EngineError(.shape, subject: "sweep", "cannot stack \(other.spec.name) \(formatShape(other.sizes)) with \(first.spec.name) \(formatShape(first.sizes))")
        }
        let sites = plans.map(\.spec.site)
        let defaultTitle = sites.map(\.shortName).joined(separator: ", ") + " by " + names.joined(separator: " × ")
        return try PatchingSweep(title: title ?? defaultTitle, sites: sites, axes: ["site"] + names,
                                 axisLabels: [sites.map(\.shortName)] + first.axisLabels, values: grids.flatMap { $0 },
                                 clean: clean, corrupted: corrupted, direction: direction, metric: metric.name, forwardPasses: passes)
    }
}
