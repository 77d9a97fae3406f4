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
        let b = table.rows.shape[0]
        let (residTable, qTable, kTable, vTable) = try firstBlockPairs(table, f)
        let lastRows = try table.queryRows(lastOnly: true)                                              // [batch, 1]
        let q = try table.queries(qTable, at: lastRows, heads: h)                                       // [batch, 1, head, d_head]
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

// Block 0 at every position (or the last) with the products after attention
// folded the same way, for a pass that caches or reads activations but runs
// no hook function on them and records no gradients (`run_with_cache`).
// With x the query's embeddings (its resid_pre) and v its keys' values:
//
//     attn_out  = Σ_head Σ_key pattern·(v·W_O[head]) + b_O
//     resid_mid = (x + b_O) + Σ_head Σ_key pattern·(v·W_O[head])
//     pre       = ((x + b_O)·W_in + b_in) + Σ_head Σ_key pattern·(v·W_O[head]·W_in)
//
// The tables v·W_O[head] and v·W_O[head]·W_in cover the (token, position)
// pairs, and so do the starting rows (x + b_O) and (x + b_O)·W_in + b_in:
// the fused attention gives the pattern once, and `Tensor.mixHeads` mixes
// each table by it, starting each query's sum from its own pair's row. Per
// row that replaces d_model·(d_model + d_mlp) multiply-adds by mixes of a
// few table rows; the MLP's second product, the residual and what follows
// run as in the blocks. The same function summed in another order
// (ForwardPathTests).
extension HookedTransformer {
    /// Whether `foldedFirstBlock` computes block 0 of this pass: a
    /// pre-LayerNorm block with an MLP and no LayerNorm after attention, few
    /// enough positions for the fused attention, float32 weights, no
    /// gradients recorded, no hook function on the block and each head's
    /// result not asked for.
    func foldsFirstBlock(_ f: ForwardPass, positions p: Int) -> Bool {
        guard let block = blocks.first, block.mlp != nil, !GradMode.isEnabled, block.placement == .preNorm,
              !block.ln2.isEnabled, p <= AttentionBlock.fusedPositions, block.attention.wO.dtype == .float32 else { return false }
        return f.runsNoFunctions(at: block.hookSites.map { HookPoint($0, layer: 0) }) && !f.needs(HookPoint(.result, layer: 0))
    }

    /// Block 0's output (its resid_post) [batch, pos, d_model], or [batch, 1,
    /// d_model] at the last position with `lastOnly`, folded as above;
    /// records what the cache asks for at the shapes the blocks give.
    func foldedFirstBlock(_ table: TokenTable, _ f: ForwardPass, lastOnly: Bool) throws -> Tensor {
        let block = blocks[0], attention = blocks[0].attention
        guard let mlp = block.mlp else { throw EngineError(.argument, "the folded first block needs an MLP") }
        let (h, e, d) = (config.nHeads, config.dHead, config.dModel)
        let b = table.rows.shape[0]
        let (residTable, qTable, kTable, vTable) = try firstBlockPairs(table, f)
        let queryRows = try table.queryRows(lastOnly: lastOnly)                                          // [batch, q_pos]
        let nq = queryRows.shape[1]
        let q = try f.pass(.q, 0, table.queries(qTable, at: queryRows, heads: h))                        // [batch, q_pos, head, d_head]
        let (k, v) = (try kTable.reshaped([-1, h, e]), try vTable.reshaped([-1, h, e]))                    // [pairs, head, d_head]
        try f.record(HookPoint(.k, layer: 0)) { try k.indexSelect(axis: 0, indices: table.rows) }
        try f.record(HookPoint(.v, layer: 0)) { try v.indexSelect(axis: 0, indices: table.rows) }
        let causal = attention.direction == .causal
        let out = try Tensor.attention(q: q, k: k, v: v, scale: 1 / Double(e).squareRoot(), causal: causal, keepPattern: true,
                                       keyRows: table.rows)
        if let scores = out.scores { f.record(HookPoint(.attnScores, layer: 0)) { scores } }
        guard let pattern = out.pattern else { throw EngineError(.argument, "the fused attention returned no pattern") }
        f.record(HookPoint(.pattern, layer: 0)) { pattern }                                                 // [batch, head, q_pos, pos]
        f.record(HookPoint(.z, layer: 0)) { out.z }
        // The heads' mix of v·W_O[head]·W by that pattern, starting from each query's row of `start`.
        let valuesOut = try v.permuted([1, 0, 2]).matmul(attention.wO.reshaped([h, e, d]))                // [head, pairs, d_model]
        func mixed(_ values: Tensor, from start: Tensor, rows: Tensor, activation: Pointwise? = nil) throws -> (z: Tensor, activated: Tensor?) {
            try Tensor.mixHeads(pattern: pattern, values: values.permuted([1, 0, 2]), keyRows: table.rows, causal: causal,
                                base: start, baseRows: rows, activation: activation)                         // [batch, q_pos, width]
        }
        let biasRow = try attention.bO.reshaped([1, d]), everyQuery = try Tensor.zeros([b, nq], dtype: .int64)
        try f.record(HookPoint(.attnOut, layer: 0)) { try mixed(valuesOut, from: biasRow, rows: everyQuery).z }
        let start = try residTable + attention.bO                                                           // [pairs, d_model]
        let mid = try f.pass(.residMid, 0, mixed(valuesOut, from: start, rows: queryRows).z)                // [batch, q_pos, d_model]
        let mlpIn = try mixed(valuesOut.matmul(mlp.wIn), from: start.linear(mlp.wIn, bias: mlp.bIn), rows: queryRows,
                              activation: mlp.activation.pointwise)
        guard let activated = mlpIn.activated else { throw EngineError(.argument, "the MLP's activation was not applied") }
        _ = try f.pass(.mlpPre, 0, mlpIn.z)                                                                 // [batch, q_pos, d_mlp]
        let post = try f.pass(.mlpPost, 0, activated)
        let mlpOut = try f.pass(.mlpOut, 0, post.linear(mlp.wOut, bias: mlp.bOut, shared: f.sharedFirstPosition))
        return try f.pass(.residPost, 0, mid + mlpOut)
    }
}
