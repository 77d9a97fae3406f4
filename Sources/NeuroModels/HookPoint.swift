import NeuroEngine

/// A place in the forward pass where an activation can be read or replaced,
/// named as TransformerLens names it. A site is a value, not a closed list:
/// the blocks a model is made of (`LayerNormBlock`, `AttentionBlock`, …)
/// make their own, under the module name they sit at, so a BERT's
/// `embed.ln.hook_scale` is as much a site as a GPT-2's `ln1.hook_scale`.
/// Two sites are the same when their names are.
///
/// ```swift
/// let q = HookSite.q                                   // attn.hook_q, [batch, pos, head, d_head]
/// let tokenType = HookSite.tokenTypeEmbed.within("embed")   // embed.hook_token_type_embed
/// ```
public struct HookSite: Hashable, Sendable, CustomStringConvertible {
    /// The name inside its block (or the whole name for global sites), e.g. `attn.hook_q`.
    public let localName: String
    /// TransformerLens's short name (`utils.get_act_name`), e.g. `pattern`, `resid_pre`.
    public let shortName: String
    /// Whether the site exists once per block (and so needs a layer).
    public let isPerBlock: Bool
    /// The sub-module a short name needs to be told apart (`ln1`, `ln2`, `ln_final`).
    public let layerType: String?
    /// The names of the activation's axes, e.g. `["batch", "pos", "head", "d_head"]`.
    public let axes: [String]
    /// Whether the activation is computed only when a run caches or hooks it
    /// (`attn.hook_result`, a tensor n_heads times the size of `hook_attn_out`):
    /// names resolve and runs may ask for it, but caching everything leaves it
    /// out and a model's `hookPoints` do not list it, as TransformerLens's
    /// `run_with_cache` does without `use_attn_result`.
    public let isOnRequest: Bool

    public init(_ localName: String, short: String, perBlock: Bool, layerType: String? = nil, axes: [String], onRequest: Bool = false) {
        self.localName = localName
        self.shortName = short
        self.isPerBlock = perBlock
        self.layerType = layerType
        self.axes = axes
        self.isOnRequest = onRequest
    }

    public static func == (a: HookSite, b: HookSite) -> Bool {
        a.localName == b.localName && a.isPerBlock == b.isPerBlock
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(localName)
        hasher.combine(isPerBlock)
    }

    /// The dimension names of the activation, for printing and docs: `[batch, pos, d_model]`.
    public var dimensions: String { "[" + axes.joined(separator: ", ") + "]" }

    public var description: String { localName }

    /// The same site inside a sub-module: `hook_embed` within `embed` is
    /// `embed.hook_embed` (a BERT's embedding), `ln.hook_scale` within `embed`
    /// is `embed.ln.hook_scale`, whose layer norm is `embed.ln`.
    public func within(_ module: String) -> HookSite {
        HookSite(module + "." + localName, short: shortName, perBlock: isPerBlock,
                 layerType: layerType.map { module + "." + $0 }, axes: axes, onRequest: isOnRequest)
    }

    // MARK: - Axis layouts

    /// The axis layouts of TransformerLens's activations.
    public enum Axes {
        public static let residual = ["batch", "pos", "d_model"]
        public static let heads = ["batch", "pos", "head", "d_head"]
        public static let headResults = ["batch", "pos", "head", "d_model"]
        public static let pattern = ["batch", "head", "query_pos", "key_pos"]
        public static let mlp = ["batch", "pos", "d_mlp"]
        public static let scale = ["batch", "pos", "1"]
        public static let logits = ["batch", "pos", "d_vocab_out"]
    }

    // MARK: - Sites of the shared blocks

    /// A layer norm's two sites, `scale` [batch, pos, 1] and `normalized`
    /// [batch, pos, d_model], under the module name `module` (`ln1`, `ln_final`, `ln`).
    public static func layerNorm(_ module: String, perBlock: Bool) -> (scale: HookSite, normalized: HookSite) {
        (HookSite(module + ".hook_scale", short: "scale", perBlock: perBlock, layerType: module, axes: Axes.scale),
         HookSite(module + ".hook_normalized", short: "normalized", perBlock: perBlock, layerType: module, axes: Axes.residual))
    }

    public static let embed = HookSite("hook_embed", short: "embed", perBlock: false, axes: Axes.residual)
    public static let posEmbed = HookSite("hook_pos_embed", short: "pos_embed", perBlock: false, axes: Axes.residual)
    /// BERT's segment embedding (`embed.hook_token_type_embed` in a HookedEncoder).
    public static let tokenTypeEmbed = HookSite("hook_token_type_embed", short: "token_type_embed", perBlock: false, axes: Axes.residual)
    /// A HookedEncoder's embedding after its layer norm.
    public static let fullEmbed = HookSite("hook_full_embed", short: "full_embed", perBlock: false, axes: Axes.residual)

    public static let residPre = HookSite("hook_resid_pre", short: "resid_pre", perBlock: true, axes: Axes.residual)
    public static let ln1Scale = layerNorm("ln1", perBlock: true).scale
    public static let ln1Normalized = layerNorm("ln1", perBlock: true).normalized
    public static let q = HookSite("attn.hook_q", short: "q", perBlock: true, axes: Axes.heads)
    public static let k = HookSite("attn.hook_k", short: "k", perBlock: true, axes: Axes.heads)
    public static let v = HookSite("attn.hook_v", short: "v", perBlock: true, axes: Axes.heads)
    public static let attnScores = HookSite("attn.hook_attn_scores", short: "attn_scores", perBlock: true, axes: Axes.pattern)
    public static let pattern = HookSite("attn.hook_pattern", short: "pattern", perBlock: true, axes: Axes.pattern)
    public static let z = HookSite("attn.hook_z", short: "z", perBlock: true, axes: Axes.heads)
    /// Each head's output `z·W_O` before the heads are summed (without `b_O`),
    /// [batch, pos, head, d_model]: `hook_attn_out` is its sum over heads plus
    /// `b_O`. Computed only when asked for (see `isOnRequest`).
    public static let result = HookSite("attn.hook_result", short: "result", perBlock: true, axes: Axes.headResults, onRequest: true)
    public static let attnOut = HookSite("hook_attn_out", short: "attn_out", perBlock: true, axes: Axes.residual)
    public static let residMid = HookSite("hook_resid_mid", short: "resid_mid", perBlock: true, axes: Axes.residual)
    public static let ln2Scale = layerNorm("ln2", perBlock: true).scale
    public static let ln2Normalized = layerNorm("ln2", perBlock: true).normalized
    public static let mlpPre = HookSite("mlp.hook_pre", short: "pre", perBlock: true, axes: Axes.mlp)
    public static let mlpPost = HookSite("mlp.hook_post", short: "post", perBlock: true, axes: Axes.mlp)
    public static let mlpOut = HookSite("hook_mlp_out", short: "mlp_out", perBlock: true, axes: Axes.residual)
    public static let residPost = HookSite("hook_resid_post", short: "resid_post", perBlock: true, axes: Axes.residual)
    /// A post-LayerNorm (BERT) block's output, after its second layer norm.
    public static let normalizedResidPost = HookSite("hook_normalized_resid_post", short: "normalized_resid_post",
                                                     perBlock: true, axes: Axes.residual)
    public static let lnFinalScale = layerNorm("ln_final", perBlock: false).scale
    public static let lnFinalNormalized = layerNorm("ln_final", perBlock: false).normalized
    public static let unembedIn = HookSite("unembed.hook_in", short: "unembed_in", perBlock: false, axes: Axes.residual)
    public static let unembedOut = HookSite("unembed.hook_out", short: "unembed_out", perBlock: false, axes: Axes.logits)

    /// The sites of a (pre-LayerNorm) HookedTransformer, in forward order
    /// within their block: what a hook name can mean when no model is known.
    public static let allCases: [HookSite] = [
        .embed, .posEmbed,
        .residPre, .ln1Scale, .ln1Normalized, .q, .k, .v, .attnScores, .pattern, .z, .attnOut, .residMid,
        .ln2Scale, .ln2Normalized, .mlpPre, .mlpPost, .mlpOut, .residPost,
        .lnFinalScale, .lnFinalNormalized, .unembedIn, .unembedOut,
    ]

    /// The sites computed only when a run asks for them (see `isOnRequest`).
    public static let onRequestCases: [HookSite] = [.result]

    /// Sites only pretrained encoders have (a HookedEncoder's embedding
    /// module, its layer norms after each part, its masked-LM head): names a
    /// spelling check without a model must also accept.
    public static let encoderOnly: [HookSite] = [
        HookSite.embed.within("embed"), HookSite.posEmbed.within("embed"), HookSite.tokenTypeEmbed.within("embed"),
        layerNorm("embed.ln", perBlock: false).scale, layerNorm("embed.ln", perBlock: false).normalized, .fullEmbed,
        .normalizedResidPost, layerNorm("mlm_head.ln", perBlock: false).scale, layerNorm("mlm_head.ln", perBlock: false).normalized,
    ]
}

/// One hook point of a model: a site, and the block it is in.
public struct HookPoint: Hashable, Sendable, CustomStringConvertible {
    public let site: HookSite
    /// The block, for per-block sites; nil for global ones.
    public let layer: Int?

    public init(_ site: HookSite, layer: Int? = nil) {
        self.site = site
        self.layer = site.isPerBlock ? layer : nil
    }

    /// The full TransformerLens name, e.g. `blocks.0.attn.hook_pattern`.
    public var name: String {
        guard let layer else { return site.localName }
        return "blocks.\(layer).\(site.localName)"
    }

    public var description: String { name }
}

/// Short names TransformerLens also accepts (`utils.get_act_name`'s aliases).
public let hookNameAliases: [String: String] = [
    "attn": "pattern", "attn_logits": "attn_scores", "key": "k", "query": "q", "value": "v",
    "mlp_pre": "pre", "mlp_post": "post", "hook_embed": "embed", "hook_pos_embed": "pos_embed",
]
