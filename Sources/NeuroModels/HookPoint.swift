import NeuroEngine

/// A place in the forward pass where an activation can be read or replaced.
/// The names are TransformerLens's.
public enum HookSite: CaseIterable, Sendable {
    case embed, posEmbed
    case residPre, ln1Scale, ln1Normalized, q, k, v, attnScores, pattern, z, attnOut, residMid
    case ln2Scale, ln2Normalized, mlpPre, mlpPost, mlpOut, residPost
    case lnFinalScale, lnFinalNormalized, unembedIn, unembedOut

    /// Whether the site exists once per block (and so needs a layer).
    public var isPerBlock: Bool {
        switch self {
        case .embed, .posEmbed, .lnFinalScale, .lnFinalNormalized, .unembedIn, .unembedOut: return false
        default: return true
        }
    }

    /// The name inside its block (or the whole name for global sites).
    public var localName: String {
        switch self {
        case .embed: return "hook_embed"
        case .posEmbed: return "hook_pos_embed"
        case .residPre: return "hook_resid_pre"
        case .ln1Scale: return "ln1.hook_scale"
        case .ln1Normalized: return "ln1.hook_normalized"
        case .q: return "attn.hook_q"
        case .k: return "attn.hook_k"
        case .v: return "attn.hook_v"
        case .attnScores: return "attn.hook_attn_scores"
        case .pattern: return "attn.hook_pattern"
        case .z: return "attn.hook_z"
        case .attnOut: return "hook_attn_out"
        case .residMid: return "hook_resid_mid"
        case .ln2Scale: return "ln2.hook_scale"
        case .ln2Normalized: return "ln2.hook_normalized"
        case .mlpPre: return "mlp.hook_pre"
        case .mlpPost: return "mlp.hook_post"
        case .mlpOut: return "hook_mlp_out"
        case .residPost: return "hook_resid_post"
        case .lnFinalScale: return "ln_final.hook_scale"
        case .lnFinalNormalized: return "ln_final.hook_normalized"
        case .unembedIn: return "unembed.hook_in"
        case .unembedOut: return "unembed.hook_out"
        }
    }

    /// TransformerLens's short name (`utils.get_act_name`), e.g. `pattern`, `resid_pre`.
    public var shortName: String {
        switch self {
        case .embed: return "embed"
        case .posEmbed: return "pos_embed"
        case .residPre: return "resid_pre"
        case .ln1Scale, .ln2Scale, .lnFinalScale: return "scale"
        case .ln1Normalized, .ln2Normalized, .lnFinalNormalized: return "normalized"
        case .q: return "q"
        case .k: return "k"
        case .v: return "v"
        case .attnScores: return "attn_scores"
        case .pattern: return "pattern"
        case .z: return "z"
        case .attnOut: return "attn_out"
        case .residMid: return "resid_mid"
        case .mlpPre: return "pre"
        case .mlpPost: return "post"
        case .mlpOut: return "mlp_out"
        case .residPost: return "resid_post"
        case .unembedIn: return "unembed_in"
        case .unembedOut: return "unembed_out"
        }
    }

    /// The sub-module a short name needs to be told apart (`ln1`, `ln2`, `ln_final`).
    var layerType: String? {
        switch self {
        case .ln1Scale, .ln1Normalized: return "ln1"
        case .ln2Scale, .ln2Normalized: return "ln2"
        case .lnFinalScale, .lnFinalNormalized: return "ln_final"
        default: return nil
        }
    }

    /// The dimension names of the activation, for printing and docs.
    public var dimensions: String {
        switch self {
        case .q, .k, .v, .z: return "[batch, pos, head, d_head]"
        case .attnScores, .pattern: return "[batch, head, query_pos, key_pos]"
        case .mlpPre, .mlpPost: return "[batch, pos, d_mlp]"
        case .ln1Scale, .ln2Scale, .lnFinalScale: return "[batch, pos, 1]"
        case .unembedOut: return "[batch, pos, d_vocab_out]"
        default: return "[batch, pos, d_model]"
        }
    }
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

