import NeuroEngine
import NeuroModels

/// A component that writes to the residual stream, whose effect path
/// patching follows: the embeddings, one head's output (`z` with a head,
/// `z · W_O` of that head) or the whole attention layer (`z` without a head,
/// or `attn_out`), or an MLP (`mlp_out`); optionally at one position only.
public struct PathSender: Equatable, Sendable, CustomStringConvertible {
    /// Where the sender's output is read: `hook_embed`, `hook_pos_embed`, `attn.hook_z`, `hook_attn_out` or `hook_mlp_out`.
    public let point: HookPoint
    /// One head of a `z` sender (all heads when nil).
    public let head: Int?
    /// The only position whose output changes (all when nil).
    public let position: Int?

    /// A sender; see the type's description for the sites allowed.
    public init(_ point: HookPoint, head: Int? = nil, position: Int? = nil) {
        self.point = point
        self.head = head
        self.position = position
    }

    /// `z 0 head 1`, `mlp_out 1 pos 2`.
    public var description: String {
        [point.site.shortName, point.layer.map(String.init), head.map { "head \($0)" }, position.map { "pos \($0)" }]
            .compactMap { $0 }.joined(separator: " ")
    }
}

/// What reads the sender's contribution from the residual stream: a head's
/// query, key or value input (all heads when `head` is nil), an MLP's input,
/// or the unembedding (the final residual stream).
public enum PathReceiver: Hashable, Sendable, CustomStringConvertible {
    /// The queries of one head (all heads when nil) of a block.
    case query(layer: Int, head: Int?)
    /// The keys of one head (all heads when nil) of a block.
    case key(layer: Int, head: Int?)
    /// The values of one head (all heads when nil) of a block.
    case value(layer: Int, head: Int?)
    /// The input of a block's MLP.
    case mlp(layer: Int)
    /// The unembedding: the final residual stream through the final LayerNorm.
    case logits

    /// `q 1 head 0`, `mlp 1`, `logits`.
    public var description: String {
        switch self {
        case .query(let l, let h), .key(let l, let h), .value(let l, let h):
            return "\(point.site.shortName) \(l)" + (h.map { " head \($0)" } ?? "")
        case .mlp(let l): return "mlp \(l)"
        case .logits: return "logits"
        }
    }

    /// The hook point whose value the receiver's input determines.
    var point: HookPoint {
        switch self {
        case .query(let l, _): return HookPoint(.q, layer: l)
        case .key(let l, _): return HookPoint(.k, layer: l)
        case .value(let l, _): return HookPoint(.v, layer: l)
        case .mlp(let l): return HookPoint(.mlpPre, layer: l)
        case .logits: return HookPoint(.unembedIn)
        }
    }

    /// The head a query, key or value receiver is limited to.
    var head: Int? {
        switch self {
        case .query(_, let h), .key(_, let h), .value(_, let h): return h
        case .mlp, .logits: return nil
        }
    }

    /// The residual stream the receiver reads, in a model of `nLayers` blocks.
    func readPoint(nLayers: Int) -> HookPoint {
        switch self {
        case .query(let l, _), .key(let l, _), .value(let l, _): return HookPoint(.residPre, layer: l)
        case .mlp(let l): return HookPoint(.residMid, layer: l)
        case .logits: return HookPoint(.residPost, layer: nLayers - 1)
        }
    }

    /// When the receiver reads the residual stream: after `2·layer` writes for a head, `2·layer + 1` for an MLP.
    func readTime(nLayers: Int) -> Int {
        switch self {
        case .query(let l, _), .key(let l, _), .value(let l, _): return 2 * l
        case .mlp(let l): return 2 * l + 1
        case .logits: return 2 * nLayers
        }
    }
}

/// The result of path patching: the metric when only the receivers see the
/// sender's patched output.
public struct PathPatchResult: Sendable {
    /// The component whose change was followed.
    public let sender: PathSender
    /// Every component that saw the sender's change.
    public let receivers: [PathReceiver]
    /// The metric on the clean inputs.
    public let clean: Double
    /// The metric on the corrupted inputs.
    public let corrupted: Double
    /// The metric of the target run with the sender's change reaching the receivers only.
    public let patched: Double
    /// Which inputs ran and which gave the sender's output.
    public let direction: PatchDirection
    /// The metric's name.
    public let metric: String

    /// The metric of the run that was patched: corrupted when denoising, clean when noising.
    public var baseline: Double { direction == .denoise ? corrupted : clean }

    /// (patched − corrupted) / (clean − corrupted); nil when the corruption does not change the metric.
    public var normalized: Double? { NormalizedEffect.ratio(patched, clean: clean, corrupted: corrupted) }
}

extension ActivationPatching {
    // MARK: - Path patching

    /// Path patching: the sender's output is taken from the source run, but
    /// only the receivers see the change. Every other component reads the
    /// target run's residual stream, so the sender's effect through any other
    /// path is frozen; the receivers' own outputs then flow on as usual.
    ///
    /// A receiver's input is recomputed from its residual stream plus the
    /// sender's change Δ = output(source) − output(target), through its
    /// LayerNorm and projection, so models with LayerNorm are handled exactly.
    /// With every reader downstream of the sender as receivers, the result is
    /// the ordinary activation patch of the sender. `progress` hears of its
    /// three forward passes (two baselines, the patched run).
    ///
    /// Throws when a receiver reads the residual stream before the sender
    /// writes to it, for indices out of range, or for a sender site that does
    /// not write to the residual stream.
    ///
    /// ```swift
    /// let r = try patching.pathPatch(from: PathSender(HookPoint(.z, layer: 0), head: 1),
    ///                                to: [.query(layer: 1, head: 0)])
    /// ```
    public func pathPatch(from sender: PathSender, to receivers: [PathReceiver], progress: StepProgress? = nil) throws -> PathPatchResult {
        guard !receivers.isEmpty else { throw EngineError(.argument, subject: "path patch", "needs at least one receiver") }
        let nLayers = model.config.nLayers
        let written = try writeTime(sender)
        for receiver in receivers {
            try checkExists(receiver.point)
            if let head = receiver.head, head < 0 || head >= model.config.nHeads {
                throw EngineError(.index, subject: "path patch", "\(receiver): head \(head) is out of range for a model with \(model.config.nHeads) heads")
            }
            guard receiver.readTime(nLayers: nLayers) >= written else {
                throw EngineError(.argument, subject: "path patch", "\(receiver) reads the residual stream before \(sender) writes to it; choose a later receiver")
            }
        }
        try progress?(0, 3)
        let base = try baselines(source: [sender.point], target: [sender.point])
        try progress?(2, 3)
        let delta = try senderChange(sender, base)                                                       // [batch, pos, d_model]
        let recorder = ActivationRecorder()
        var hooks = Set(receivers.map { $0.readPoint(nLayers: nLayers) }).map { point in
            Hook(point) { x, p in
                recorder.values[p] = x
                return x
            }
        }
        hooks += receivers.map { receiver in
            Hook(receiver.point) { x, _ in
                let resid = try recorder.value(receiver.readPoint(nLayers: nLayers)) + delta
                return try self.receiverInput(receiver, residual: resid, replacing: x)
            }
        }
        let patched = try measureTarget(hooks)
        try progress?(3, 3)
        return PathPatchResult(sender: sender, receivers: receivers, clean: base.clean, corrupted: base.corrupted,
                               patched: patched, direction: direction, metric: metric.name)
    }

    /// When the sender writes: the embeddings before everything, a block's
    /// attention after `2·layer + 1` writes, its MLP after `2·layer + 2`.
    func writeTime(_ sender: PathSender) throws -> Int {
        try checkExists(sender.point)
        if let head = sender.head {
            guard sender.point.site == .z else { throw EngineError(.argument, subject: "path patch", "only a z sender has heads; \(sender.point.name) does not") }
            guard head >= 0 && head < model.config.nHeads else {
                throw EngineError(.index, subject: "path patch", "head \(head) is out of range for a model with \(model.config.nHeads) heads")
            }
        }
        if let position = sender.position, position < 0 || position >= tokenCount {
            throw EngineError(.index, subject: "path patch", "position \(position) is out of range for inputs of \(tokenCount) tokens")
        }
        let layer = sender.point.layer ?? 0
        switch sender.point.site {
        case .embed, .posEmbed: return 0
        case .z, .attnOut: return 2 * layer + 1
        case .mlpOut: return 2 * layer + 2
        default:
            throw EngineError(.argument, subject: "path patch", "the sender must write to the residual stream (embed, pos_embed, z, attn_out or mlp_out), not \(sender.point.site.shortName)")
        }
    }

    /// What the sender adds to the residual stream in the source run minus the target run: [batch, pos, d_model].
    func senderChange(_ sender: PathSender, _ base: Baselines) throws -> Tensor {
        try GradMode.withNoGrad {
            let point = sender.point
            var diff = try ActivationPatching.cached(base.source, point) - ActivationPatching.cached(base.target, point)
            if point.site == .z {
                let (h, e, d) = (model.config.nHeads, model.config.dHead, model.config.dModel)
                if let head = sender.head {
                    diff = try diff * ActivationPatching.cellMask(rank: 4, sizes: diff.shape, picks: [(2, head)])
                }
                let wO = try parameter("blocks.\(point.layer ?? 0).attn.W_O").reshaped([h * e, d])
                diff = try diff.reshaped([diff.shape[0], diff.shape[1], h * e]).linear(wO)                  // [batch, pos, d_model]
            }
            if let position = sender.position {
                diff = try diff * ActivationPatching.cellMask(rank: 3, sizes: diff.shape, picks: [(1, position)])
            }
            return diff
        }
    }

    /// The receiver's input projection applied to `residual`, in place of
    /// `original` (only the receiver's head when it names one).
    func receiverInput(_ receiver: PathReceiver, residual: Tensor, replacing original: Tensor) throws -> Tensor {
        let c = model.config
        switch receiver {
        case .query(let l, _), .key(let l, _), .value(let l, _):
            let name = ["q": "Q", "k": "K", "v": "V"][receiver.point.site.shortName] ?? "Q"
            let w = try parameter("blocks.\(l).attn.W_\(name)").permuted([1, 0, 2]).reshaped([c.dModel, c.nHeads * c.dHead])
            let b = try parameter("blocks.\(l).attn.b_\(name)").reshaped([c.nHeads * c.dHead])
            let x = try layerNorm(residual, "blocks.\(l).ln1")
            let all = try x.linear(w, bias: b).reshaped(original.shape)                                     // [batch, pos, head, d_head]
            guard let head = receiver.head else { return all }
            return try Tensor.where(ActivationPatching.cellMask(rank: 4, sizes: all.shape, picks: [(2, head)]), all, original)
        case .mlp(let l):
            let x = try layerNorm(residual, "blocks.\(l).ln2")
            return try x.linear(parameter("blocks.\(l).mlp.W_in"), bias: parameter("blocks.\(l).mlp.b_in"))  // [batch, pos, d_mlp]
        case .logits:
            return try layerNorm(residual, "ln_final")                                                     // [batch, pos, d_model]
        }
    }

    /// The model's LayerNorm `prefix` (`blocks.0.ln1`, `ln_final`) applied to `x`, as its forward pass does.
    func layerNorm(_ x: Tensor, _ prefix: String) throws -> Tensor {
        switch model.config.normalizationType {
        case .none: return x
        case .layerNormPre: return try x.layerNorm(eps: model.config.eps)
        case .layerNorm:
            return try x.layerNorm(weight: parameter(prefix + ".w"), bias: parameter(prefix + ".b"), eps: model.config.eps)
        }
    }

    /// A parameter by its TransformerLens name.
    func parameter(_ name: String) throws -> Tensor {
        guard let p = model.parameter(name) else { throw EngineError(.argument, subject: "patching", "the model has no parameter '\(name)'") }
        return p
    }
}
