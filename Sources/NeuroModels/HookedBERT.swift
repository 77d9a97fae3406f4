import NeuroEngine

/// A BERT encoder (Hugging Face `model_type` "bert": `BertModel`,
/// `BertForMaskedLM`, MiniLM) as a composition of the shared blocks, with
/// TransformerLens's `HookedEncoder` hook names and shapes:
/// `embed.hook_embed`, `embed.hook_pos_embed`, `embed.hook_token_type_embed`,
/// `embed.ln.hook_scale/normalized`, `hook_full_embed`, then per block
/// `hook_resid_pre`, `attn.hook_q/k/v/attn_scores/pattern/z`,
/// `hook_attn_out`, `hook_resid_mid`, `ln1.*`, `mlp.hook_pre/post`,
/// `hook_mlp_out`, `hook_resid_post`, `ln2.*`, `hook_normalized_resid_post`,
/// and with the MLM head `mlm_head.ln.*`, `unembed.hook_in/out`.
///
/// Post-LayerNorm blocks, bidirectional attention (padding keys masked
/// with -inf, as TransformerLens does), exact GELU, LayerNorm eps from
/// `layer_norm_eps`. With the MLM head (`cls.predictions.*`) the logits are
/// token logits [batch, pos, vocab]; without it they are the final hidden
/// states [batch, pos, d_model] (Hugging Face's `last_hidden_state`).
///
/// ```swift
/// let bert = try Pretrained.load("tiny_bert")            // a HookedBERT, as any PretrainedModel
/// let (logits, cache) = try bert.run(ids, attentionMask: mask, tokenTypes: types, cache: .all)
/// ```
public final class HookedBERT: PretrainedModel {
    public let config: TransformerConfig
    public let modelType = "bert"
    public let hasHead: Bool
    /// `type_vocab_size`: how many token types the segment embedding has.
    public let typeCount: Int
    public let hookPoints: [HookPoint]
    let embed: TokenEmbedding, posEmbed: PositionalEmbedding, tokenTypeEmbed: TokenTypeEmbedding
    let embedLN: LayerNormBlock
    let blocks: [TransformerBlock]
    /// The MLM head: dense [d_model, d_model] + bias, GELU, LayerNorm, unembedding.
    let head: (dense: Tensor, bias: Tensor, activation: ActivationFunction, ln: LayerNormBlock, unembed: Unembedding)?
    private let named: [String: Tensor]
    private let order: [String]

    init(config hf: HFConfig, weights file: HFWeights) throws {
        var w = file
        w.detectPrefix("bert.", probe: "embeddings.word_embeddings.weight")
        let d = try hf.int("hidden_size"), layers = try hf.int("num_hidden_layers"), heads = try hf.int("num_attention_heads")
        let dMLP = try hf.int("intermediate_size"), vocab = try hf.int("vocab_size")
        let positions = try hf.int("max_position_embeddings"), types = try hf.int("type_vocab_size", default: 2)
        let eps = try hf.double("layer_norm_eps", default: 1e-12)
        let act = try hf.activation("hidden_act", default: "gelu")
        let positionType = try hf.string("position_embedding_type", default: "absolute")
        guard positionType == "absolute" else {
            throw EngineError(.file, "\(hf.path): position_embedding_type '\(positionType)' is not supported (only 'absolute')")
        }
        guard heads > 0, d % heads == 0 else {
            throw EngineError(.file, "\(hf.path): hidden_size \(d) is not a multiple of num_attention_heads \(heads)")
        }
        guard types >= 1 else { throw EngineError(.file, "\(hf.path): type_vocab_size must be at least 1") }
        let e = d / heads
        var named: [(String, Tensor)] = []
        func take(_ name: String, _ shape: [Int], as tlName: String? = nil) throws -> Tensor {
            let t = try w.tensor(name, shape)
            if let tlName { named.append((tlName, t)) }
            return t
        }
        let wE = try take("embeddings.word_embeddings.weight", [vocab, d], as: "embed.embed.W_E")
        embed = TokenEmbedding(wE, site: HookSite.embed.within("embed"))
        posEmbed = PositionalEmbedding(try take("embeddings.position_embeddings.weight", [positions, d], as: "embed.pos_embed.W_pos"),
                                       site: HookSite.posEmbed.within("embed"))
        tokenTypeEmbed = TokenTypeEmbedding(try take("embeddings.token_type_embeddings.weight", [types, d], as: "embed.token_type_embed.W_token_type"),
                                            site: HookSite.tokenTypeEmbed.within("embed"))
        embedLN = LayerNormBlock(module: "embed.ln", perBlock: false, weight: try take("embeddings.LayerNorm.weight", [d], as: "embed.ln.w"),
                                 bias: try take("embeddings.LayerNorm.bias", [d], as: "embed.ln.b"), eps: eps)
        blocks = try (0..<layers).map { l in
            let p = "encoder.layer.\(l)."
            let t = "blocks.\(l)."
            // Hugging Face Linear weights are [out, in]; q, k and v side by side as one [d_model, 3·d_model] product.
            let wq = try take(p + "attention.self.query.weight", [d, d]), wk = try take(p + "attention.self.key.weight", [d, d])
            let wv = try take(p + "attention.self.value.weight", [d, d])
            let bq = try take(p + "attention.self.query.bias", [d]), bk = try take(p + "attention.self.key.bias", [d])
            let bv = try take(p + "attention.self.value.bias", [d])
            for (name, weight, bias) in [("Q", wq, bq), ("K", wk, bk), ("V", wv, bv)] {
                named.append((t + "attn.W_\(name)", try weight.reshaped([heads, e, d]).permuted([0, 2, 1])))    // [head, d_model, d_head]
                named.append((t + "attn.b_\(name)", try bias.reshaped([heads, e])))
            }
            let qkv = try Tensor.concat([wq, wk, wv], axis: 0).transposed()                                  // [d_model, 3·d_model]
            let qkvBias = try Tensor.concat([bq, bk, bv], axis: 0)
            let wO = try take(p + "attention.output.dense.weight", [d, d]).transposed()                     // [head·d_head, d_model]
            named.append((t + "attn.W_O", try wO.reshaped([heads, e, d])))
            let attention = AttentionBlock(.merged(weight: qkv, bias: qkvBias), wO: wO,
                                           bO: try take(p + "attention.output.dense.bias", [d], as: t + "attn.b_O"),
                                           nHeads: heads, dHead: e, direction: .bidirectional)
            let wIn = try take(p + "intermediate.dense.weight", [dMLP, d]).transposed()                     // [d_model, d_mlp]
            let wOut = try take(p + "output.dense.weight", [d, dMLP]).transposed()                          // [d_mlp, d_model]
            named.append((t + "mlp.W_in", wIn))
            named.append((t + "mlp.W_out", wOut))
            let mlp = MLPBlock(wIn: wIn, bIn: try take(p + "intermediate.dense.bias", [dMLP], as: t + "mlp.b_in"),
                               wOut: wOut, bOut: try take(p + "output.dense.bias", [d], as: t + "mlp.b_out"), activation: act)
            let ln1 = LayerNormBlock(module: "ln1", perBlock: true, weight: try take(p + "attention.output.LayerNorm.weight", [d], as: t + "ln1.w"),
                                     bias: try take(p + "attention.output.LayerNorm.bias", [d], as: t + "ln1.b"), eps: eps)
            let ln2 = LayerNormBlock(module: "ln2", perBlock: true, weight: try take(p + "output.LayerNorm.weight", [d], as: t + "ln2.w"),
                                     bias: try take(p + "output.LayerNorm.bias", [d], as: t + "ln2.b"), eps: eps)
            return TransformerBlock(ln1: ln1, attention: attention, ln2: ln2, mlp: mlp, placement: .postNorm)
        }
        if let dense = try w.unprefixed("cls.predictions.transform.dense.weight", [d, d]) {
            let p = "cls.predictions."
            func headTensor(_ name: String, _ shape: [Int]) throws -> Tensor {
                guard let t = try w.unprefixed(p + name, shape) else {
                    throw EngineError(.file, "\(w.label): missing tensor '\(p + name)' \(formatShape(shape)) of the MLM head")
                }
                return t
            }
            let denseW = try dense.transposed()                                                                  // [d_model, d_model]
            let denseB = try headTensor("transform.dense.bias", [d])
            let lnW = try headTensor("transform.LayerNorm.weight", [d]), lnB = try headTensor("transform.LayerNorm.bias", [d])
            let ln = LayerNormBlock(module: "mlm_head.ln", perBlock: false, weight: lnW, bias: lnB, eps: eps)
            // The decoder is tied to the word embeddings unless the file has its own.
            var decoder = wE
            if let own = try w.unprefixed(p + "decoder.weight", [vocab, d]) { decoder = own }
            var bias = try Tensor.zeros([vocab])
            if let own = try w.unprefixed(p + "decoder.bias", [vocab]) { bias = own }
            if let own = try w.unprefixed(p + "bias", [vocab]) { bias = own }
            let unembed = Unembedding(try decoder.transposed(), bias: bias)                                      // [d_model, vocab]
            named += [("mlm_head.W", denseW), ("mlm_head.b", denseB), ("mlm_head.ln.w", lnW), ("mlm_head.ln.b", lnB),
                      ("unembed.W_U", unembed.weight), ("unembed.b_U", bias)]
            head = (denseW, denseB, act, ln, unembed)
        } else {
            head = nil
        }
        hasHead = head != nil
        typeCount = types
        config = try TransformerConfig(nLayers: layers, nHeads: heads, dModel: d, dHead: e, dMLP: dMLP, actFn: act,
                                       normalizationType: .layerNorm, dVocab: vocab, dVocabOut: head == nil ? d : vocab,
                                       nCtx: positions, eps: eps)
        let before = [embed.hookSites, posEmbed.hookSites, tokenTypeEmbed.hookSites, embedLN.hookSites, [.fullEmbed]]
        let after = head.map { [$0.ln.hookSites, $0.unembed.hookSites] } ?? []
        hookPoints = composedHookPoints(embeddings: before, blocks: blocks, after: after)
        self.named = Dictionary(named, uniquingKeysWith: { first, _ in first })
        self.order = named.map(\.0)
    }

    public var parameters: [NamedParameter] { order.compactMap { name in named[name].map { NamedParameter(name, $0) } } }

    public var hooks: HookResolver {
        HookResolver(points: hookPoints, nLayers: config.nLayers, onRequest: HookResolver.onRequestPoints(nLayers: config.nLayers))
    }

    /// The weight with TransformerLens's `HookedEncoder` state_dict name
    /// (`blocks.0.attn.W_Q` [head, d_model, d_head], `embed.embed.W_E`, `unembed.W_U`).
    public func parameter(_ name: String) -> Tensor? { named[name] }

    public func forward(_ tokens: Tensor, attentionMask: Tensor?, tokenTypes: Tensor?, hooks: [Hook], cache request: CacheRequest,
                        positions: LogitPositions) throws -> (logits: Tensor, cache: ActivationCache) {
        let (ids, mask, types) = try checkInputs(tokens, attentionMask, tokenTypes, typeCount: typeCount)
        let (b, p) = (ids.shape[0], ids.shape[1])
        let f = ForwardPass(hooks: hooks, request: request, resolver: self.hooks, model: self)
        let summed = try embed(ids, f) + posEmbed(batch: b, positions: p, mask: nil, f) + tokenTypeEmbed(types, batch: b, positions: p, f)
        var resid = try f.pass(.fullEmbed, nil, embedLN(summed, layer: nil, f))                          // [batch, pos, d_model]
        for (l, block) in blocks.enumerated() {
            resid = try block(resid, layer: l, mask: mask, f)
        }
        var logits = resid
        if let head {
            let transformed = try head.ln(head.activation.apply(resid.linear(head.dense, bias: head.bias)), layer: nil, f)
            logits = try head.unembed(transformed, f)                                                   // [batch, pos, vocab]
        }
        if positions == .last { logits = try logits.select(axis: 1, index: -1) }
        if tokens.rank == 1 { logits = try logits.squeezed(0) }
        return (logits, f.cache)
    }
}
