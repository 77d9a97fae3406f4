import NeuroEngine

/// A transformer whose weight names, shapes and hook points are
/// TransformerLens's `HookedTransformer`'s, so weights move both ways and
/// what people know about TransformerLens applies.
///
/// ```swift
/// let model = try HookedTransformer(config: config)          // random init, as TransformerLens
/// let (logits, cache) = try model.run(tokens, cache: .all)
/// let pattern = try cache["blocks.0.attn.hook_pattern"]      // [batch, head, query_pos, key_pos]
/// ```
public final class HookedTransformer {
    public let config: TransformerConfig
    /// Every parameter in TransformerLens's `state_dict` order.
    public let parameters: [NamedParameter]
    private let byName: [String: Tensor]
    /// Every hook point, in the order the forward pass reaches them.
    public let hookPoints: [HookPoint]
    let blocks: [BlockWeights]
    let embedW: Tensor, posW: Tensor, unembedW: Tensor, unembedB: Tensor
    let lnFinalW: Tensor?, lnFinalB: Tensor?

    /// A model with TransformerLens's default initialisation ("gpt2"): every
    /// `W_` matrix from N(0, initializer_range²), biases 0, LayerNorm weights 1,
    /// drawn in `state_dict` order from a generator seeded with `config.seed`.
    public convenience init(config: TransformerConfig) throws {
        try config.validate()
        var rng = RandomGenerator(seed: config.seed ?? 0)
        var weights: [String: Tensor] = [:]
        for (name, shape) in HookedTransformer.parameterShapes(config) {
            let leaf = name.split(separator: ".").last.map(String.init) ?? name
            if leaf.hasPrefix("W_") {
                weights[name] = try Tensor.randn(shape, std: config.initializerRange, using: &rng)
            } else if leaf == "w" {
                weights[name] = try Tensor.ones(shape)
            } else {
                weights[name] = try Tensor.zeros(shape)
            }
        }
        try self.init(config: config, weights: weights)
    }

    /// A model with the given weights, which must be exactly the names and
    /// shapes `config` calls for (errors name the first missing, extra or misshapen one).
    public init(config: TransformerConfig, weights: [String: Tensor]) throws {
        try config.validate()
        let shapes = HookedTransformer.parameterShapes(config)
        let expected = Set(shapes.map(\.name))
        if let extra = weights.keys.sorted().first(where: { !expected.contains($0) }) {
            let hint = Suggest.closest(extra, among: Array(expected)).map { "; did you mean '\($0)'?" } ?? ""
            throw EngineError(.argument, "weights: unexpected tensor '\(extra)' for this configuration\(hint)")
        }
        var params: [NamedParameter] = []
        var table: [String: Tensor] = [:]
        for (name, shape) in shapes {
            guard let source = weights[name] else { throw EngineError(.argument, "weights: missing '\(name)' \(formatShape(shape))") }
            guard source.shape == shape else {
                throw EngineError(.shape, "weights: '\(name)' has shape \(formatShape(source.shape)), expected \(formatShape(shape))")
            }
            guard source.dtype.isFloatingPoint else {
                throw EngineError(.dtype, "weights: '\(name)' is \(source.dtype.shortName), expected floating point")
            }
            // Own, contiguous float32 leaves: the optimizer updates them in place.
            let tensor = try source.cast(to: .float32).detached().clone().detached().requiringGrad()
            params.append(NamedParameter(name, tensor))
            table[name] = tensor
        }
        func w(_ name: String) throws -> Tensor {
            guard let t = table[name] else { throw EngineError(.argument, "weights: missing '\(name)'") }
            return t
        }
        func optional(_ name: String) -> Tensor? { table[name] }
        self.config = config
        self.parameters = params
        self.byName = table
        self.embedW = try w("embed.W_E")
        self.posW = try w("pos_embed.W_pos")
        self.unembedW = try w("unembed.W_U")
        self.unembedB = try w("unembed.b_U")
        self.lnFinalW = optional("ln_final.w")
        self.lnFinalB = optional("ln_final.b")
        self.blocks = try (0..<config.nLayers).map { l in
            let p = "blocks.\(l)."
            return BlockWeights(
                wQ: try w(p + "attn.W_Q"), wK: try w(p + "attn.W_K"), wV: try w(p + "attn.W_V"), wO: try w(p + "attn.W_O"),
                bQ: try w(p + "attn.b_Q"), bK: try w(p + "attn.b_K"), bV: try w(p + "attn.b_V"), bO: try w(p + "attn.b_O"),
                wIn: optional(p + "mlp.W_in"), bIn: optional(p + "mlp.b_in"),
                wOut: optional(p + "mlp.W_out"), bOut: optional(p + "mlp.b_out"),
                ln1W: optional(p + "ln1.w"), ln1B: optional(p + "ln1.b"), ln2W: optional(p + "ln2.w"), ln2B: optional(p + "ln2.b"))
        }
        self.hookPoints = HookedTransformer.hookPoints(config)
    }

    /// The parameter called `name` (TransformerLens's state_dict key), if any.
    public func parameter(_ name: String) -> Tensor? { byName[name] }

    /// Names and shapes of every parameter, in TransformerLens's state_dict order.
    public static func parameterShapes(_ c: TransformerConfig) -> [(name: String, shape: [Int])] {
        var out: [(String, [Int])] = [("embed.W_E", [c.dVocab, c.dModel]), ("pos_embed.W_pos", [c.nCtx, c.dModel])]
        let ln = c.normalizationType == .layerNorm
        for l in 0..<c.nLayers {
            let p = "blocks.\(l)."
            if ln {
                out += [(p + "ln1.w", [c.dModel]), (p + "ln1.b", [c.dModel])]
                if !c.attentionOnly { out += [(p + "ln2.w", [c.dModel]), (p + "ln2.b", [c.dModel])] }
            }
            out += [(p + "attn.W_Q", [c.nHeads, c.dModel, c.dHead]), (p + "attn.W_O", [c.nHeads, c.dHead, c.dModel]),
                    (p + "attn.b_Q", [c.nHeads, c.dHead]), (p + "attn.b_O", [c.dModel]),
                    (p + "attn.W_K", [c.nHeads, c.dModel, c.dHead]), (p + "attn.W_V", [c.nHeads, c.dModel, c.dHead]),
                    (p + "attn.b_K", [c.nHeads, c.dHead]), (p + "attn.b_V", [c.nHeads, c.dHead])]
            if !c.attentionOnly {
                out += [(p + "mlp.W_in", [c.dModel, c.dMLP]), (p + "mlp.b_in", [c.dMLP]),
                        (p + "mlp.W_out", [c.dMLP, c.dModel]), (p + "mlp.b_out", [c.dModel])]
            }
        }
        if ln { out += [("ln_final.w", [c.dModel]), ("ln_final.b", [c.dModel])] }
        out += [("unembed.W_U", [c.dModel, c.dVocabOut]), ("unembed.b_U", [c.dVocabOut])]
        return out
    }

    /// Every hook point of a model of this shape, in forward order.
    public static func hookPoints(_ c: TransformerConfig) -> [HookPoint] {
        let normalized = c.normalizationType != .none
        var out = [HookPoint(.embed), HookPoint(.posEmbed)]
        for l in 0..<c.nLayers {
            out.append(HookPoint(.residPre, layer: l))
            if normalized { out += [HookPoint(.ln1Scale, layer: l), HookPoint(.ln1Normalized, layer: l)] }
            out += [.q, .k, .v, .attnScores, .pattern, .z, .attnOut].map { HookPoint($0, layer: l) }
            if !c.attentionOnly {
                out.append(HookPoint(.residMid, layer: l))
                if normalized { out += [HookPoint(.ln2Scale, layer: l), HookPoint(.ln2Normalized, layer: l)] }
                out += [.mlpPre, .mlpPost, .mlpOut].map { HookPoint($0, layer: l) }
            }
            out.append(HookPoint(.residPost, layer: l))
        }
        if normalized { out += [HookPoint(.lnFinalScale), HookPoint(.lnFinalNormalized)] }
        out += [HookPoint(.unembedIn), HookPoint(.unembedOut)]
        return out
    }

    // MARK: - Finding hook points by name

    /// Resolves hook names against this model's hook points.
    public var hooks: HookResolver { HookResolver(points: hookPoints, nLayers: config.nLayers) }

    /// The hook point with this full TransformerLens name (`blocks.0.mlp.hook_post`)
    /// or short form (`pattern0`, `resid_pre1`, `scale0ln1`, `embed`); see `HookResolver`.
    public func hookPoint(named name: String) throws -> HookPoint { try hooks.point(named: name) }
}

/// The weights of one transformer block, as typed references into the parameter list.
struct BlockWeights {
    let wQ, wK, wV, wO, bQ, bK, bV, bO: Tensor
    let wIn, bIn, wOut, bOut: Tensor?
    let ln1W, ln1B, ln2W, ln2B: Tensor?
}
