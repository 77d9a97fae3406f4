import NeuroEngine
import NeuroModels

/// What a removed component or edge is replaced by.
///
/// ```swift
/// let ablation = CircuitAblation.patch(corrupted: shiftedTokens)   // ACDC's choice
/// ```
public enum CircuitAblation {
    /// Zeros.
    case zero
    /// The component's mean output over the batch, per position.
    case mean
    /// The component's output on corrupted inputs [batch, pos], row for row.
    case patch(corrupted: Tensor)

    /// `zero`, `mean` or `patch`.
    public var name: String {
        switch self {
        case .zero: return "zero"
        case .mean: return "mean"
        case .patch: return "patch"
        }
    }
}

/// Runs one model on one batch with components or edges of its graph
/// removed. Built once per discovery: it caches the clean activations and
/// the replacement (ablated) value of every component.
///
/// A component's output is what it adds to the residual stream: the
/// embedding `hook_embed + hook_pos_embed`, a head `z[:, :, h] · W_O[h]`
/// (without the layer's `b_O`, which belongs to no head and is never
/// ablated), an MLP `hook_mlp_out`.
///
/// Removing a component replaces its `hook_z` slice or `hook_mlp_out` by the
/// replacement, which every later reader sees. Removing an edge s → r changes
/// what r alone reads: r's input becomes its residual stream minus
/// (s's output in this pass − s's replacement). The subtraction happens
/// after r's input projection (`hook_q/k/v` for heads, `mlp.hook_pre` for
/// MLPs, `unembed.hook_in`), which is exact only when the residual stream
/// reaches those projections linearly, that is without LayerNorm; edge
/// removal refuses other models.
final class CircuitRunner {
    let model: any HookedModel
    let graph: CircuitGraph
    let tokens: Tensor
    /// Last-position logits [batch, vocab] of the untouched model.
    let cleanLogits: Tensor
    /// Last-position logits on the corrupted inputs, when patching.
    let corruptedLogits: Tensor?
    private let config: TransformerConfig
    /// The embedding's clean output [batch, pos, d_model].
    private let cleanEmbed: Tensor
    /// Replacements; nil means zeros. Per layer: z [batch|1, pos, head, d_head], mlp_out [batch|1, pos, d_model].
    private let replacementEmbed: Tensor?
    private let replacementZ: [Tensor?]
    private let replacementMLP: [Tensor?]
    private let wQ: [Tensor], wK: [Tensor], wV: [Tensor], wO: [Tensor]   // [head, d_model, d_head], W_O [head, d_head, d_model]
    private let wIn: [Tensor?]                                          // [d_model, d_mlp]
    private var replacementOutputs: [CircuitNode: Tensor] = [:]

    init(model: any HookedModel, tokens: Tensor, ablation: CircuitAblation) throws {
        let config = model.config
        self.model = model
        self.config = config
        self.graph = CircuitGraph(config)
        let tokens = tokens.rank == 1 ? try tokens.unsqueezed(0) : tokens                                 // [batch, pos]
        self.tokens = tokens
        let layers = 0..<config.nLayers
        var points: Set<HookPoint> = [HookPoint(.embed), HookPoint(.posEmbed)]
        for l in layers {
            points.insert(HookPoint(.z, layer: l))
            if !config.attentionOnly { points.insert(HookPoint(.mlpOut, layer: l)) }
        }
        func activations(_ input: Tensor) throws -> (logits: Tensor, embed: Tensor, z: [Tensor], mlp: [Tensor?]) {
            let (logits, cache) = try GradMode.withNoGrad { try model.run(input, cache: .only(points), positions: .last) }
            func cached(_ point: HookPoint) throws -> Tensor {
                guard let t = cache[point] else { throw EngineError(.argument, subject: "circuit", "\(point.name) was not reached") }
                return t
            }
            let embed = try cached(HookPoint(.embed)) + cached(HookPoint(.posEmbed))                      // [batch, pos, d_model]
            let z = try layers.map { try cached(HookPoint(.z, layer: $0)) }                                // [batch, pos, head, d_head]
            let mlp = try layers.map { config.attentionOnly ? nil : try cached(HookPoint(.mlpOut, layer: $0)) }
            return (logits.rank == 1 ? try logits.unsqueezed(0) : logits, embed, z, mlp)
        }
        let clean = try activations(tokens)
        cleanLogits = clean.logits
        cleanEmbed = clean.embed
        switch ablation {
        case .zero:
            corruptedLogits = nil
            replacementEmbed = nil
            replacementZ = layers.map { _ in nil }
            replacementMLP = layers.map { _ in nil }
        case .mean:
            corruptedLogits = nil
            func mean(_ t: Tensor) throws -> Tensor { try t.mean(axes: [0], keepDims: true) }              // [1, pos, …]
            replacementEmbed = try mean(clean.embed)
            replacementZ = try clean.z.map(mean)
            replacementMLP = try clean.mlp.map { try $0.map(mean) }
        case .patch(let given):
            let corrupted = given.rank == 1 ? try given.unsqueezed(0) : given
            guard corrupted.shape == tokens.shape else {
                throw EngineError(.shape, subject: "circuit", "corrupted inputs \(formatShape(corrupted.shape)) do not match the clean inputs \(formatShape(tokens.shape))")
            }
            let other = try activations(corrupted)
            corruptedLogits = other.logits
            replacementEmbed = other.embed
            replacementZ = other.z
            replacementMLP = other.mlp
        }
        func weight(_ name: String) throws -> Tensor {
            guard let t = model.parameter(name) else { throw EngineError(.argument, subject: "circuit", "the model has no '\(name)'") }
            return t.detached()
        }
        wQ = try layers.map { try weight("blocks.\($0).attn.W_Q") }
        wK = try layers.map { try weight("blocks.\($0).attn.W_K") }
        wV = try layers.map { try weight("blocks.\($0).attn.W_V") }
        wO = try layers.map { try weight("blocks.\($0).attn.W_O") }
        wIn = layers.map { model.parameter("blocks.\($0).mlp.W_in")?.detached() }
    }

    /// Whether edges can be removed exactly (no LayerNorm anywhere).
    var supportsEdges: Bool { config.normalizationType == .none }

    /// Throws unless `supportsEdges`, explaining why.
    func requireEdges(_ what: String) throws {
        guard supportsEdges else {
            throw EngineError(.argument, "\(what) removes single edges, which is exact only for models without LayerNorm "
                + "(this one has normalization \(config.normalizationType.rawValue)); use component importance instead")
        }
    }

    // MARK: - Removing components

    /// Last-position logits [batch, vocab] with every head and MLP in `nodes`
    /// replaced (the embedding and unembedding cannot be removed this way and are ignored).
    func logits(ablating nodes: Set<CircuitNode>) throws -> Tensor {
        var hooks: [Hook] = []
        for l in 0..<config.nLayers {
            let heads = nodes.filter { $0.kind == .head && $0.layer == l }.compactMap(\.head)
            if !heads.isEmpty {
                var flags = [Float](repeating: 0, count: config.nHeads)
                for h in heads { flags[h] = 1 }
                let mask = try Tensor(flags, shape: [1, 1, config.nHeads, 1])
                let replacement = replacementZ[l]
                hooks.append(Hook(HookPoint(.z, layer: l)) { z, _ in                                        // [batch, pos, head, d_head]
                    try Tensor.where(mask, replacement?.expanded(to: z.shape) ?? Tensor.zeros(z.shape), z)
                })
            }
            if nodes.contains(.mlp(layer: l)) {
                let replacement = replacementMLP[l]
                hooks.append(Hook(HookPoint(.mlpOut, layer: l)) { out, _ in                                 // [batch, pos, d_model]
                    try replacement?.expanded(to: out.shape) ?? Tensor.zeros(out.shape)
                })
            }
        }
        return try run(hooks)
    }

    // MARK: - Removing edges

    /// The outputs of the heads and MLPs in one forward pass, recorded as
    /// the pass reaches them, so later receivers can subtract them.
    private final class PassOutputs {
        var z: [Int: Tensor] = [:]
        var mlp: [Int: Tensor] = [:]
    }

    /// Last-position logits [batch, vocab] with every edge in `removed`
    /// cut: its receiver reads the sender's replacement instead of its output.
    func logits(removingEdges removed: Set<CircuitEdge>) throws -> Tensor {
        try requireEdges("edge removal")
        if removed.isEmpty { return cleanLogits }
        let outputs = PassOutputs()
        var hooks: [Hook] = []
        let senders = Set(removed.map(\.sender))
        for l in 0..<config.nLayers {
            if senders.contains(where: { $0.kind == .head && $0.layer == l }) {
                hooks.append(Hook(HookPoint(.z, layer: l)) { z, _ in outputs.z[l] = z; return z })
            }
            if senders.contains(.mlp(layer: l)) {
                hooks.append(Hook(HookPoint(.mlpOut, layer: l)) { out, _ in outputs.mlp[l] = out; return out })
            }
        }
        let byPoint = Dictionary(grouping: removed) { $0.input.point(of: $0.receiver) }
        for (point, edges) in byPoint {
            hooks.append(Hook(point) { activation, _ in
                try self.corrected(activation, at: point, cutting: edges, outputs)
            })
        }
        return try run(hooks)
    }

    /// A receiver's input activation with the cut senders' (output − replacement) taken out.
    private func corrected(_ activation: Tensor, at point: HookPoint, cutting edges: [CircuitEdge],
                           _ outputs: PassOutputs) throws -> Tensor {
        switch point.site {
        case .q, .k, .v:
            guard let l = point.layer else { return activation }
            let weights = point.site == .q ? wQ[l] : point.site == .k ? wK[l] : wV[l]                       // [head, d_model, d_head]
            let byHead = Dictionary(grouping: edges) { $0.receiver.head ?? 0 }
            let (b, p, e) = (activation.shape[0], activation.shape[1], activation.shape[3])
            let corrections = try (0..<config.nHeads).map { h -> Tensor in
                guard let cut = byHead[h] else { return try Tensor.zeros([b, p, e]) }
                return try delta(cut.map(\.sender), outputs).matmul(weights.select(axis: 0, index: h))     // [batch, pos, d_head]
            }
            return try activation - Tensor.stack(corrections, axis: 2)                                    // [batch, pos, head, d_head]
        case .mlpPre:
            guard let l = point.layer, let w = wIn[l] else { return activation }
            return try activation - delta(edges.map(\.sender), outputs).matmul(w)                         // [batch, pos, d_mlp]
        default:
            return try activation - delta(edges.map(\.sender), outputs)                                   // [batch, pos, d_model]
        }
    }

    /// Σ over `senders` of (output in this pass − replacement): [batch, pos, d_model].
    private func delta(_ senders: [CircuitNode], _ outputs: PassOutputs) throws -> Tensor {
        var total: Tensor?
        for sender in senders {
            let current: Tensor
            switch sender.kind {
            case .embed: current = cleanEmbed
            case .head:
                guard let l = sender.layer, let h = sender.head, let z = outputs.z[l] else {
                    throw EngineError(.argument, subject: "circuit", "the output of \(sender.name) was not recorded before it was read")
                }
                current = try headOutput(z, layer: l, head: h)
            case .mlp:
                guard let l = sender.layer, let out = outputs.mlp[l] else {
                    throw EngineError(.argument, subject: "circuit", "the output of \(sender.name) was not recorded before it was read")
                }
                current = out
            case .unembed: continue
            }
            let change = try replacementOutput(sender).map { try current - $0 } ?? current
            total = try total.map { try $0 + change } ?? change
        }
        return try total ?? Tensor.zeros(cleanEmbed.shape)
    }

    /// z [batch, pos, head, d_head] → head `h`'s write to the residual stream [batch, pos, d_model].
    private func headOutput(_ z: Tensor, layer l: Int, head h: Int) throws -> Tensor {
        try z.select(axis: 2, index: h).matmul(wO[l].select(axis: 0, index: h))
    }

    /// A component's replacement output [batch|1, pos, d_model]; nil for zeros.
    private func replacementOutput(_ node: CircuitNode) throws -> Tensor? {
        if let known = replacementOutputs[node] { return known }
        var made: Tensor?
        switch node.kind {
        case .embed: made = replacementEmbed
        case .head:
            if let l = node.layer, let h = node.head, let z = replacementZ[l] { made = try headOutput(z, layer: l, head: h) }
        case .mlp: made = node.layer.flatMap { replacementMLP[$0] }
        case .unembed: made = nil
        }
        replacementOutputs[node] = made
        return made
    }

    private func run(_ hooks: [Hook]) throws -> Tensor {
        let logits = try GradMode.withNoGrad { try model.run(tokens, hooks: hooks, positions: .last).logits }
        return logits.rank == 1 ? try logits.unsqueezed(0) : logits                                      // [batch, vocab]
    }
}
