import NeuroEngine

extension HookedGPT2 {
    /// TransformerLens's default `from_pretrained` weight processing, on
    /// TransformerLens-named weights, in its order:
    ///
    /// 1. fold LayerNorm: each LayerNorm's bias goes into the next layer's
    ///    biases and its weight into the next weights (`ln1` into W_Q/K/V,
    ///    `ln2` into W_in, `ln_final` into W_U), which are then centred over
    ///    d_model; the LayerNorms become LNPre (no weights);
    /// 2. centre writing weights: W_E, W_pos, W_O, b_O, W_out, b_out lose
    ///    their mean over d_model, so nothing writes a constant to the residual;
    /// 3. centre unembed: W_U and b_U lose their mean over the vocabulary
    ///    (log-probabilities do not change; logits shift by a constant per position);
    /// 4. fold value biases: b_O += Σ_head b_V·W_O, b_V = 0, b_O centred again.
    static func processed(_ weights: [String: Tensor], nLayers: Int, nHeads: Int, dHead: Int) throws -> [String: Tensor] {
        var w = weights
        func get(_ name: String) throws -> Tensor {
            guard let t = w[name] else { throw EngineError(.argument, "weight processing: missing '\(name)'") }
            return t
        }
        func centred(_ t: Tensor, axis: Int) throws -> Tensor { try t - t.mean(axes: [axis], keepDims: true) }
        let d = try get("embed.W_E").shape[1]

        // 1. Fold LayerNorm into the weights that read it.
        for l in 0..<nLayers {
            let p = "blocks.\(l)."
            let (ln1W, ln1B) = (try get(p + "ln1.w").reshaped([1, d, 1]), try get(p + "ln1.b").reshaped([1, d, 1]))
            for x in ["Q", "K", "V"] {
                let weight = try get(p + "attn.W_\(x)")                                                   // [head, d_model, d_head]
                w[p + "attn.b_\(x)"] = try get(p + "attn.b_\(x)") + (weight * ln1B).sum(axes: [1])
                w[p + "attn.W_\(x)"] = try centred(weight * ln1W, axis: 1)
            }
            let (ln2W, ln2B) = (try get(p + "ln2.w").reshaped([d, 1]), try get(p + "ln2.b").reshaped([d, 1]))
            let wIn = try get(p + "mlp.W_in")                                                              // [d_model, d_mlp]
            w[p + "mlp.b_in"] = try get(p + "mlp.b_in") + (wIn * ln2B).sum(axes: [0])
            w[p + "mlp.W_in"] = try centred(wIn * ln2W, axis: 0)
            for name in ["ln1.w", "ln1.b", "ln2.w", "ln2.b"] { w[p + name] = nil }
        }
        let (lnFW, lnFB) = (try get("ln_final.w").reshaped([d, 1]), try get("ln_final.b").reshaped([d, 1]))
        let wU = try get("unembed.W_U")                                                                    // [d_model, d_vocab]
        w["unembed.b_U"] = try get("unembed.b_U") + (wU * lnFB).sum(axes: [0])
        w["unembed.W_U"] = try centred(wU * lnFW, axis: 0)
        w["ln_final.w"] = nil
        w["ln_final.b"] = nil

        // 2. Centre what writes to the residual stream.
        w["embed.W_E"] = try centred(get("embed.W_E"), axis: -1)
        w["pos_embed.W_pos"] = try centred(get("pos_embed.W_pos"), axis: -1)
        for l in 0..<nLayers {
            let p = "blocks.\(l)."
            for (weight, bias) in [("attn.W_O", "attn.b_O"), ("mlp.W_out", "mlp.b_out")] {
                w[p + weight] = try centred(get(p + weight), axis: -1)
                w[p + bias] = try centred(get(p + bias), axis: 0)
            }
        }

        // 3. Centre the unembedding over the vocabulary.
        w["unembed.W_U"] = try centred(get("unembed.W_U"), axis: -1)
        w["unembed.b_U"] = try centred(get("unembed.b_U"), axis: 0)

        // 4. Fold the value biases into the output bias.
        for l in 0..<nLayers {
            let p = "blocks.\(l)."
            let bV = try get(p + "attn.b_V")                                                               // [head, d_head]
            let folded = try get(p + "attn.b_O") + (bV.reshaped([nHeads, dHead, 1]) * get(p + "attn.W_O")).sum(axes: [0, 1])
            w[p + "attn.b_O"] = try centred(folded, axis: 0)
            w[p + "attn.b_V"] = try Tensor.zeros(bV.shape)
        }
        // Own contiguous copies: the file's tensors are not changed.
        return w.mapValues { $0.contiguous() }
    }
}
