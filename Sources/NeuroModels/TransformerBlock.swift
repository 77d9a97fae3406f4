import NeuroEngine

/// One transformer block composed of the shared blocks, with TransformerLens's
/// block-level hooks (`hook_resid_pre`, `hook_attn_out`, `hook_resid_mid`,
/// `hook_mlp_out`, `hook_resid_post`, and for BERT `hook_normalized_resid_post`).
///
/// Pre-LayerNorm (GPT-2, TransformerLens's `TransformerBlock`):
/// `mid = resid + attn(ln1(resid))`, `post = mid + mlp(ln2(mid))`.
/// Post-LayerNorm (BERT, TransformerLens's `BertBlock`):
/// `mid = resid + attn(resid)`, `n = ln1(mid)`, `post = n + mlp(n)`, output `ln2(post)`.
public struct TransformerBlock {
    public enum Placement: String, Sendable { case preNorm, postNorm }

    public let ln1: LayerNormBlock
    public let attention: AttentionBlock
    public let ln2: LayerNormBlock
    /// nil for an attention-only block.
    public let mlp: MLPBlock?
    public let placement: Placement

    public init(ln1: LayerNormBlock, attention: AttentionBlock, ln2: LayerNormBlock, mlp: MLPBlock?, placement: Placement) {
        self.ln1 = ln1
        self.attention = attention
        self.ln2 = ln2
        self.mlp = mlp
        self.placement = placement
    }

    /// The block's hook sites, in forward order.
    public var hookSites: [HookSite] {
        switch placement {
        case .preNorm:
            var out = [HookSite.residPre] + ln1.hookSites + attention.hookSites + [.attnOut]
            if let mlp { out += [.residMid] + ln2.hookSites + mlp.hookSites + [.mlpOut] }
            return out + [.residPost]
        case .postNorm:
            return [.residPre] + attention.hookSites + [.attnOut, .residMid] + ln1.hookSites
                + (mlp?.hookSites ?? []) + [.mlpOut, .residPost] + ln2.hookSites + [.normalizedResidPost]
        }
    }

    /// The block on the residual stream [batch, pos, d_model]. With
    /// `lastOnly` (pre-norm, causal), queries and everything after attention
    /// are computed for the last position alone.
    func callAsFunction(_ input: Tensor, layer l: Int, mask: AttentionMask?, lastOnly: Bool = false, _ f: ForwardPass) throws -> Tensor {
        let resid = try f.pass(.residPre, l, input)                                                      // [batch, pos, d_model]
        switch placement {
        case .preNorm:
            let x = try ln1(resid, layer: l, f)
            if lastOnly {
                let (q, k, v) = try attention.projectLastQuery(x)
                return try afterProjection(l, resid: resid.slice(axis: 1, start: resid.shape[1] - 1), q: q, k: k, v: v, mask: mask, f)
            }
            let (q, k, v) = try attention.project(x)
            return try afterProjection(l, resid: resid, q: q, k: k, v: v, mask: mask, f)
        case .postNorm:
            let (q, k, v) = try attention.project(resid)
            if sumsFuse(layer: l, f) { return try postNormFused(l, resid: resid, q: q, k: k, v: v, mask: mask, f) }
            let attnOut = try f.pass(.attnOut, l, attention.attend(l, q: q, k: k, v: v, mask: mask, f))   // [batch, pos, d_model]
            let mid = try f.pass(.residMid, l, resid + attnOut)
            let normalizedMid = try ln1(mid, layer: l, f)
            guard let mlp else { throw EngineError(.argument, "a post-LayerNorm block needs an MLP") }
            let mlpOut = try f.pass(.mlpOut, l, mlp(normalizedMid, layer: l, f))
            let post = try f.pass(.residPost, l, normalizedMid + mlpOut)
            return try f.pass(.normalizedResidPost, l, ln2(post, layer: l, f))
        }
    }

    /// Whether a post-norm block may add each sub-layer's output bias in the
    /// pass that sums the residual and normalises it (`sumLayerNormalized`):
    /// no gradients, and nothing reads or replaces the sub-layers' outputs or
    /// the LayerNorms' hooks (the sums themselves may be cached).
    private func sumsFuse(layer l: Int, _ f: ForwardPass) -> Bool {
        guard !GradMode.isEnabled, placement == .postNorm, ln1.isEnabled, ln2.isEnabled, mlp != nil else { return false }
        let sums = [HookSite.residMid, .residPost].map { HookPoint($0, layer: l) }
        let outputs = ([HookSite.attnOut, .mlpOut] + ln1.hookSites + ln2.hookSites).map { HookPoint($0, layer: l) }
        return f.runsNoFunctions(at: sums) && !outputs.contains(where: f.needs)
    }

    /// The post-norm block after the projection, each output bias added in the residual sum's pass.
    private func postNormFused(_ l: Int, resid: Tensor, q: Tensor, k: Tensor, v: Tensor, mask: AttentionMask?,
                               _ f: ForwardPass) throws -> Tensor {
        guard let mlp else { throw EngineError(.argument, "a post-LayerNorm block needs an MLP") }
        let attnPart = try attention.attend(l, q: q, k: k, v: v, mask: mask, outputBias: false, f)           // [batch, pos, d_model]
        let (mid, normalizedMid) = try resid.sumLayerNormalized(attnPart, bias: attention.bO, weight: ln1.weight, normBias: ln1.bias,
                                                                 eps: ln1.eps, keepSum: f.wants(HookPoint(.residMid, layer: l)))
        if let mid { f.record(HookPoint(.residMid, layer: l)) { mid } }
        let mlpPart = try mlp.withoutOutputBias(normalizedMid, layer: l, f)
        let (post, out) = try normalizedMid.sumLayerNormalized(mlpPart, bias: mlp.bOut, weight: ln2.weight, normBias: ln2.bias,
                                                                eps: ln2.eps, keepSum: f.wants(HookPoint(.residPost, layer: l)))
        if let post { f.record(HookPoint(.residPost, layer: l)) { post } }
        return try f.pass(.normalizedResidPost, l, out)
    }

    /// The rest of a pre-norm block from its queries, keys and values:
    /// attention, the residual, the MLP. `resid` and `q` cover the query
    /// positions (the last ones when the block is trimmed), `k` and `v` every position.
    /// With `keyRows` [batch, pos], k and v are tables [rows, head, d_head] read through them.
    func afterProjection(_ l: Int, resid: Tensor, q: Tensor, k: Tensor, v: Tensor, mask: AttentionMask?, keyRows: Tensor? = nil,
                         _ f: ForwardPass) throws -> Tensor {
        let attnOut = try f.pass(.attnOut, l, attention.attend(l, q: q, k: k, v: v, mask: mask, keyRows: keyRows, f))   // [batch, q_pos, d_model]
        guard let mlp else { return try f.pass(.residPost, l, resid + attnOut) }
        let mid = try f.pass(.residMid, l, resid + attnOut)                                              // [batch, q_pos, d_model]
        let mlpOut = try f.pass(.mlpOut, l, mlp(ln2(mid, layer: l, f), layer: l, f))                     // [batch, q_pos, d_model]
        return try f.pass(.residPost, l, mid + mlpOut)
    }
}

/// The hook points of a model made of blocks, in forward order: the
/// global sites before the blocks, each block's sites at its layer, and
/// the global sites after them.
func composedHookPoints(embeddings: [[HookSite]], blocks: [TransformerBlock], after: [[HookSite]]) -> [HookPoint] {
    embeddings.joined().map { HookPoint($0) }
        + blocks.enumerated().flatMap { l, block in block.hookSites.map { HookPoint($0, layer: l) } }
        + after.joined().map { HookPoint($0) }
}
