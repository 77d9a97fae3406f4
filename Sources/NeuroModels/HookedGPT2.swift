import NeuroEngine

/// A GPT-2 (Hugging Face `model_type` "gpt2": `GPT2Model`, `GPT2LMHeadModel`)
/// as a composition of the shared blocks, with TransformerLens's
/// `HookedTransformer` hook names and shapes (`hook_embed`, `hook_pos_embed`,
/// `blocks.L.hook_resid_pre`, `blocks.L.ln1.hook_scale`, `blocks.L.attn.hook_q`,
/// …, `ln_final.hook_normalized`, `unembed.hook_in/out`).
///
/// Pre-LayerNorm, causal attention from the merged Conv1D `c_attn`
/// [d_model, 3·d_model] in one product, `gelu_new`, the unembedding tied to
/// `wte` when the file has no `lm_head.weight`. With an attention mask,
/// padding keys are masked and positions count real tokens only, as
/// TransformerLens does (a left-padded row computes what the unpadded one does).
///
/// By default the weights are Hugging Face's and the logits are Hugging
/// Face's; `PretrainedOptions(processWeights: true)` applies TransformerLens's
/// `from_pretrained` processing (see `HookedGPT2+Processing.swift`).
///
/// ```swift
/// let gpt2 = try Pretrained.load("tiny_gpt2")
/// let (logits, cache) = try gpt2.run(ids, attentionMask: nil, cache: .all)   // [batch, pos, vocab]
/// ```
public final class HookedGPT2: PretrainedModel {
    public let config: TransformerConfig
    public let modelType = "gpt2"
    public let hasHead = true
    /// Whether TransformerLens's weight processing was applied.
    public let isProcessed: Bool
    public let hookPoints: [HookPoint]
    let embed: TokenEmbedding, posEmbed: PositionalEmbedding
    let blocks: [TransformerBlock]
    let lnFinal: LayerNormBlock
    let unembed: Unembedding
    private let named: [String: Tensor]
    private let order: [String]

    init(config hf: HFConfig, weights file: HFWeights, options: PretrainedOptions) throws {
        var w = file
        w.detectPrefix("transformer.", probe: "wte.weight")
        let d = try hf.int("n_embd"), layers = try hf.int("n_layer"), heads = try hf.int("n_head")
        let vocab = try hf.int("vocab_size"), context = try hf.int("n_ctx", default: 1024)
        let positions = try hf.int("n_positions", default: context)
        let dMLP = try hf.int("n_inner", default: 4 * d)
        let eps = try hf.double("layer_norm_epsilon", default: 1e-5)
        let act = try hf.activation("activation_function", default: "gelu_new")
        guard try hf.bool("scale_attn_weights", default: true) else {
            throw EngineError(.file, "\(hf.path): scale_attn_weights false is not supported (attention is scaled by 1/√d_head)")
        }
        guard try !hf.bool("scale_attn_by_inverse_layer_idx", default: false) else {
            throw EngineError(.file, "\(hf.path): scale_attn_by_inverse_layer_idx true is not supported")
        }
        guard heads > 0, d % heads == 0 else { throw EngineError(.file, "\(hf.path): n_embd \(d) is not a multiple of n_head \(heads)") }
        let e = d / heads

        // TransformerLens's state dict, as views of the file's tensors where the layouts allow.
        var tl: [(String, Tensor)] = []
        let wte = try w.tensor("wte.weight", [vocab, d])
        tl.append(("embed.W_E", wte))
        tl.append(("pos_embed.W_pos", try w.tensor("wpe.weight", [positions, d])))
        for l in 0..<layers {
            let p = "h.\(l).", t = "blocks.\(l)."
            tl += [(t + "ln1.w", try w.tensor(p + "ln_1.weight", [d])), (t + "ln1.b", try w.tensor(p + "ln_1.bias", [d]))]
            let cAttn = try w.tensor(p + "attn.c_attn.weight", [d, 3 * d])                                 // Conv1D: [in, out]
            let cAttnB = try w.tensor(p + "attn.c_attn.bias", [3 * d])
            for (i, name) in ["Q", "K", "V"].enumerated() {
                tl.append((t + "attn.W_\(name)", try cAttn.slice(axis: 1, start: i * d, end: (i + 1) * d).reshaped([d, heads, e]).permuted([1, 0, 2])))
                tl.append((t + "attn.b_\(name)", try cAttnB.slice(axis: 0, start: i * d, end: (i + 1) * d).reshaped([heads, e])))
            }
            tl.append((t + "attn.W_O", try w.tensor(p + "attn.c_proj.weight", [d, d]).reshaped([heads, e, d])))
            tl.append((t + "attn.b_O", try w.tensor(p + "attn.c_proj.bias", [d])))
            tl += [(t + "ln2.w", try w.tensor(p + "ln_2.weight", [d])), (t + "ln2.b", try w.tensor(p + "ln_2.bias", [d]))]
            tl += [(t + "mlp.W_in", try w.tensor(p + "mlp.c_fc.weight", [d, dMLP])), (t + "mlp.b_in", try w.tensor(p + "mlp.c_fc.bias", [dMLP])),
                   (t + "mlp.W_out", try w.tensor(p + "mlp.c_proj.weight", [dMLP, d])), (t + "mlp.b_out", try w.tensor(p + "mlp.c_proj.bias", [d]))]
        }
        tl += [("ln_final.w", try w.tensor("ln_f.weight", [d])), ("ln_final.b", try w.tensor("ln_f.bias", [d]))]
        var head = wte                                                                                     // tied when absent
        if let own = try w.unprefixed("lm_head.weight", [vocab, d]) { head = own }
        tl += [("unembed.W_U", try head.transposed()), ("unembed.b_U", try Tensor.zeros([vocab]))]

        var state = Dictionary(tl, uniquingKeysWith: { first, _ in first })
        var order = tl.map(\.0)
        var norm = NormalizationType.layerNorm
        if options.processWeights {
            state = try HookedGPT2.processed(state, nLayers: layers, nHeads: heads, dHead: e)
            order = order.filter { state[$0] != nil }
            norm = .layerNormPre
        }
        func s(_ name: String) throws -> Tensor {
            guard let t = state[name] else { throw EngineError(.file, "\(w.label): missing '\(name)' after conversion") }
            return t
        }
        func optional(_ name: String) -> Tensor? { state[name] }
        embed = TokenEmbedding(try s("embed.W_E"))
        posEmbed = PositionalEmbedding(try s("pos_embed.W_pos"))
        blocks = try (0..<layers).map { l in
            let t = "blocks.\(l)."
            let projection: AttentionBlock.Projection
            if options.processWeights {
                projection = .split(wQ: try s(t + "attn.W_Q"), wK: try s(t + "attn.W_K"), wV: try s(t + "attn.W_V"),
                                    bQ: try s(t + "attn.b_Q"), bK: try s(t + "attn.b_K"), bV: try s(t + "attn.b_V"))
            } else {
                let p = "h.\(l)."
                projection = .merged(weight: try w.tensor(p + "attn.c_attn.weight", [d, 3 * d]), bias: try w.tensor(p + "attn.c_attn.bias", [3 * d]))
            }
            let attention = AttentionBlock(projection, wO: try s(t + "attn.W_O"), bO: try s(t + "attn.b_O"), nHeads: heads, dHead: e, direction: .causal)
            let mlp = MLPBlock(wIn: try s(t + "mlp.W_in"), bIn: try s(t + "mlp.b_in"), wOut: try s(t + "mlp.W_out"), bOut: try s(t + "mlp.b_out"), activation: act)
            return TransformerBlock(
                ln1: LayerNormBlock(module: "ln1", perBlock: true, norm, weight: optional(t + "ln1.w"), bias: optional(t + "ln1.b"), eps: eps),
                attention: attention,
                ln2: LayerNormBlock(module: "ln2", perBlock: true, norm, weight: optional(t + "ln2.w"), bias: optional(t + "ln2.b"), eps: eps),
                mlp: mlp, placement: .preNorm)
        }
        lnFinal = LayerNormBlock(module: "ln_final", perBlock: false, norm, weight: optional("ln_final.w"), bias: optional("ln_final.b"), eps: eps)
        unembed = Unembedding(try s("unembed.W_U"), bias: options.processWeights ? try s("unembed.b_U") : nil)
        isProcessed = options.processWeights
        config = try TransformerConfig(nLayers: layers, nHeads: heads, dModel: d, dHead: e, dMLP: dMLP, actFn: act,
                                       normalizationType: norm, dVocab: vocab, dVocabOut: vocab, nCtx: positions, eps: eps)
        hookPoints = composedHookPoints(embeddings: [embed.hookSites, posEmbed.hookSites], blocks: blocks,
                                        after: [lnFinal.hookSites, unembed.hookSites])
        self.named = state
        self.order = order
    }

    public var parameters: [NamedParameter] { order.compactMap { name in named[name].map { NamedParameter(name, $0) } } }

    public var hooks: HookResolver {
        HookResolver(points: hookPoints, nLayers: config.nLayers, onRequest: HookResolver.onRequestPoints(nLayers: config.nLayers))
    }

    /// The weight with TransformerLens's state_dict name (`blocks.0.attn.W_Q` [head, d_model, d_head], `unembed.W_U`).
    public func parameter(_ name: String) -> Tensor? { named[name] }

    public func forward(_ tokens: Tensor, attentionMask: Tensor?, tokenTypes: Tensor?, hooks: [Hook], cache request: CacheRequest,
                        positions: LogitPositions) throws -> (logits: Tensor, cache: ActivationCache) {
        guard tokenTypes == nil else { throw EngineError(.argument, "GPT-2 takes no token type ids") }
        let (ids, mask, _) = try checkInputs(tokens, attentionMask, nil, typeCount: 0)
        let (b, p) = (ids.shape[0], ids.shape[1])
        let f = ForwardPass(hooks: hooks, request: request, resolver: self.hooks, model: self)
        var resid = try embed(ids, f) + posEmbed(batch: b, positions: p, mask: mask, f)                  // [batch, pos, d_model]
        for (l, block) in blocks.enumerated() {
            resid = try block(resid, layer: l, mask: mask, f)
        }
        var logits = try unembed(lnFinal(resid, layer: nil, f), f)                                       // [batch, pos, vocab]
        if positions == .last { logits = try logits.select(axis: 1, index: -1) }
        if tokens.rank == 1 { logits = try logits.squeezed(0) }
        return (logits, f.cache)
    }
}
