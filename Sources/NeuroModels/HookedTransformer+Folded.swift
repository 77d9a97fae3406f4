import NeuroEngine

// The last-position logits of a one-layer model with the products after
// attention folded into its values: the algorithmic tasks' training loss
// and test evaluation, with less arithmetic.
//
// With no LayerNorm after attention, x the last position's embeddings (its
// resid_pre) and z its attention output:
//
//     resid_mid = x + z·W_O + b_O
//     pre       = resid_mid·W_in + b_in
//     logits    = (resid_mid + act(pre)·W_out + b_out)·W_U + b_U
//               = act(pre)·(W_out·W_U) + resid_mid·W_U + b_out·W_U + b_U
//
// z is each head's pattern-weighted sum of its values v, so z·W_O·W (W = W_in
// or W_U) is the pattern-weighted sum of v·(W_O[head]·W): a table over the
// (token, position) pairs, a few hundred rows, made once per pass, which the
// fused attention mixes with the heads summed. Per example that replaces the
// products by W_O, W_in, W_out and W_U (d_model·(d_model + 2·d_mlp +
// d_vocab_out) multiply-adds) by two mixes of table rows and one
// d_mlp × d_vocab_out product. The same function summed in another order:
// it matches the blocks one after the other to float32 rounding, values and
// gradients (ForwardPathTests).
extension HookedTransformer {
    /// Whether `foldedLastLogits` computes this pass: one pre-LayerNorm
    /// block with an MLP, causal, no LayerNorm after attention (`ln2`,
    /// `ln_final`), few enough positions for the fused attention, and nothing
    /// but the logits read (no hook function, nothing cached).
    func foldsAfterAttention(_ f: ForwardPass, positions p: Int) -> Bool {
        guard config.nLayers == 1, let block = blocks.first, block.mlp != nil, f.onlyLogits else { return false }
        return block.placement == .preNorm && block.attention.direction == .causal && !block.ln2.isEnabled && !lnFinal.isEnabled
            && p <= AttentionBlock.fusedPositions
    }

    /// Logits [batch, d_vocab_out] at the last position, folded as above.
    func foldedLastLogits(_ table: TokenTable, _ f: ForwardPass) throws -> Tensor {
        let block = blocks[0], attention = blocks[0].attention
        guard let mlp = block.mlp else { throw EngineError(.argument, "the folded forward pass needs an MLP") }
        let (h, e, d) = (config.nHeads, config.dHead, config.dModel)
        let (b, p) = (table.rows.shape[0], table.rows.shape[1])
        let (residTable, qTable, kTable, vTable) = try firstBlockPairs(table, f)
        let lastRows = try table.rows.slice(axis: 1, start: p - 1)                                      // [batch, 1]
        let q = try qTable.indexSelect(axis: 0, indices: lastRows).reshaped([b, 1, h, e])               // [batch, 1, head, d_head]
        let (k, v) = (try kTable.reshaped([-1, h, e]), try vTable.reshaped([-1, h, e]).permuted([1, 0, 2]))   // [pairs, head, d_head], [head, pairs, d_head]
        let wO = try attention.wO.reshaped([h, e, d])
        // What does not pass through attention — the last position's embeddings
        // and the biases — once per distinct last pair (usually one: "=").
        let (pairs, pairOfRow) = try TokenTable.distinct(lastRows.reshaped([b]))                        // [last pairs], [batch]
        let shared = pairs.count == 1
        let x = try residTable.indexSelect(axis: 0, indices: pairs) + attention.bO                      // [last pairs, d_model]
        let directIn = try x.linear(mlp.wIn, bias: mlp.bIn)                                             // [last pairs, d_mlp]
        let directU = try x.linear(unembed.weight, bias: unembed.bias) + mlp.bOut.unsqueezed(0).matmul(unembed.weight)
        // z·W_O·W, for W = W_in or W_U: the attention's mix of the values
        // times W_O[head]·W. A row every example shares rides on the values:
        // each head's pattern sums to 1, so adding row / heads to every value adds the row once.
        func mixed(_ readout: Tensor, plus row: Tensor?) throws -> Tensor {
            var values = try v.matmul(wO.matmul(readout))                                               // [head, pairs, width]
            if let row { values = try values + row.reshaped([-1]).scaled(1 / Double(h)) }
            return try Tensor.attention(q: q, k: k, v: values.permuted([1, 0, 2]), scale: 1 / Double(e).squareRoot(), causal: true,
                                        keyRows: table.rows, headsSummed: true).z.reshaped([b, -1])     // [batch, width]
        }
        func perRow(_ rows: Tensor) throws -> Tensor { try rows.indexSelect(axis: 0, indices: pairOfRow) }   // [batch, width]
        let pre = shared ? try mixed(mlp.wIn, plus: directIn) : try mixed(mlp.wIn, plus: nil) + perRow(directIn)   // [batch, d_mlp]
        let logits = try mlp.activate(pre).linear(mlp.wOut.matmul(unembed.weight))                       // [batch, d_vocab_out]
        return shared ? try logits + mixed(unembed.weight, plus: directU) : try logits + mixed(unembed.weight, plus: nil) + perRow(directU)
    }
}

extension TokenTable {
    /// The distinct values of integer `indices` in first-seen order [distinct],
    /// and for each index its place in that list (`indices`' shape).
    static func distinct(_ indices: Tensor) throws -> (values: Tensor, places: Tensor) {
        var seen: [Int: Int] = [:], values: [Int] = []
        let places = indices.toInts().map { index in
            if let known = seen[index] { return known }
            seen[index] = values.count
            values.append(index)
            return values.count - 1
        }
        return (try Tensor(ints: values, shape: [values.count]), try Tensor(ints: places, shape: indices.shape))
    }
}
