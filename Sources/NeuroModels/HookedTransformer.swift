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
    /// The model as a composition of the shared blocks.
    let embed: TokenEmbedding, posEmbed: PositionalEmbedding
    let blocks: [TransformerBlock]
    let lnFinal: LayerNormBlock
    let unembed: Unembedding

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
        let norm = config.normalizationType
        self.embed = TokenEmbedding(try w("embed.W_E"))
        self.posEmbed = PositionalEmbedding(try w("pos_embed.W_pos"))
        self.unembed = Unembedding(try w("unembed.W_U"), bias: try w("unembed.b_U"))
        self.lnFinal = LayerNormBlock(module: "ln_final", perBlock: false, norm,
                                      weight: optional("ln_final.w"), bias: optional("ln_final.b"), eps: config.eps)
        self.blocks = try (0..<config.nLayers).map { l in
            let p = "blocks.\(l)."
            let attention = AttentionBlock(
                .split(wQ: try w(p + "attn.W_Q"), wK: try w(p + "attn.W_K"), wV: try w(p + "attn.W_V"),
                       bQ: try w(p + "attn.b_Q"), bK: try w(p + "attn.b_K"), bV: try w(p + "attn.b_V")),
                wO: try w(p + "attn.W_O"), bO: try w(p + "attn.b_O"), nHeads: config.nHeads, dHead: config.dHead, direction: .causal)
            var mlp: MLPBlock? = nil
            if let wIn = optional(p + "mlp.W_in"), let bIn = optional(p + "mlp.b_in"),
               let wOut = optional(p + "mlp.W_out"), let bOut = optional(p + "mlp.b_out") {
                mlp = MLPBlock(wIn: wIn, bIn: bIn, wOut: wOut, bOut: bOut, activation: config.actFn)
            }
            return TransformerBlock(
                ln1: LayerNormBlock(module: "ln1", perBlock: true, norm, weight: optional(p + "ln1.w"), bias: optional(p + "ln1.b"), eps: config.eps),
                attention: attention,
                ln2: LayerNormBlock(module: "ln2", perBlock: true, norm, weight: optional(p + "ln2.w"), bias: optional(p + "ln2.b"), eps: config.eps),
                mlp: mlp, placement: .preNorm)
        }
        self.hookPoints = composedHookPoints(embeddings: [embed.hookSites, posEmbed.hookSites], blocks: blocks,
                                             after: [lnFinal.hookSites, unembed.hookSites])
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

    // MARK: - Finding hook points by name

    /// Resolves hook names against this model's hook points.
    public var hooks: HookResolver {
        HookResolver(points: hookPoints, nLayers: config.nLayers, onRequest: HookResolver.onRequestPoints(nLayers: config.nLayers))
    }

    /// The hook point with this full TransformerLens name (`blocks.0.mlp.hook_post`)
    /// or short form (`pattern0`, `resid_pre1`, `scale0ln1`, `embed`); see `HookResolver`.
    public func hookPoint(named name: String) throws -> HookPoint { try hooks.point(named: name) }
}
