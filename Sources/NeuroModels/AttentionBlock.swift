import NeuroEngine

/// Multi-head attention as TransformerLens computes it, with its hooks
/// `attn.hook_q`, `hook_k`, `hook_v` [batch, pos, head, d_head],
/// `hook_attn_scores` and `hook_pattern` [batch, head, query_pos, key_pos]
/// and `hook_z` [batch, pos, head, d_head], and on request `hook_result`
/// [batch, pos, head, d_model] (each head's `z·W_O`). Scores are scaled by 1/√d_head,
/// causal (GPT-2, TransformerLens) or bidirectional (BERT), and keys that
/// an attention mask marks as padding get -inf (rows with nothing to attend
/// to get a zero pattern, as in TransformerLens).
///
/// The query, key and value weights are either TransformerLens's split
/// `W_Q`, `W_K`, `W_V` [head, d_model, d_head] (merged into one matrix on
/// each pass, so gradients reach them and in-place training updates show)
/// or one merged [d_model, 3·head·d_head] matrix (GPT-2's `c_attn`, BERT's
/// query/key/value side by side): either way one sgemm makes q, k and v.
public struct AttentionBlock {
    public enum Direction: String, Sendable { case causal, bidirectional }

    /// Where the query, key and value weights live.
    public enum Projection {
        /// [head, d_model, d_head] each, and biases [head, d_head].
        case split(wQ: Tensor, wK: Tensor, wV: Tensor, bQ: Tensor, bK: Tensor, bV: Tensor)
        /// [d_model, 3·head·d_head] with columns q, k, v (each head-major), and bias [3·head·d_head].
        case merged(weight: Tensor, bias: Tensor)
    }

    public let projection: Projection
    /// The output projection, [head, d_head, d_model] (TransformerLens's
    /// `W_O`) or [head·d_head, d_model], and its bias [d_model].
    public let wO: Tensor, bO: Tensor
    public let nHeads: Int, dHead: Int, dModel: Int
    public let direction: Direction

    public init(_ projection: Projection, wO: Tensor, bO: Tensor, nHeads: Int, dHead: Int, direction: Direction) {
        self.projection = projection
        self.nHeads = nHeads
        self.dHead = dHead
        self.dModel = wO.shape.last ?? 0
        self.wO = wO
        self.bO = bO
        self.direction = direction
    }

    public var hookSites: [HookSite] { [.q, .k, .v, .attnScores, .pattern, .z] }

    /// Up to this many key positions attention runs fused (`Tensor.attention`);
    /// beyond, one (example, head) at a time or by per-head matrix products is faster.
    static let fusedPositions = 32

    /// Up to this d_head, longer sequences run one (example, head) at a time
    /// (`Tensor.attentionByHead`, whose kernels are for short heads) when
    /// nothing reads scores or pattern.
    static let byHeadWidth = 128

    /// W [head, d_model, d_head] as one [d_model, head·d_head] matrix.
    private func merged(_ w: Tensor) throws -> Tensor {
        try w.permuted([1, 0, 2]).reshaped([dModel, nHeads * dHead])
    }

    /// The query, key and value weights side by side: [d_model, 3·head·d_head].
    func qkvWeight() throws -> Tensor {
        switch projection {
        case .merged(let weight, _): return weight
        case .split(let wQ, let wK, let wV, _, _, _): return try Tensor.concat([merged(wQ), merged(wK), merged(wV)], axis: 1)
        }
    }

    func qkvBias() throws -> Tensor {
        switch projection {
        case .merged(_, let bias): return bias
        case .split(_, _, _, let bQ, let bK, let bV):
            let n = nHeads * dHead
            return try Tensor.concat([bQ, bK, bV].map { try $0.reshaped([n]) }, axis: 0)
        }
    }

    /// q, k, v [batch, pos, head, d_head] from x [batch, pos, d_model] in one product.
    func project(_ x: Tensor) throws -> (q: Tensor, k: Tensor, v: Tensor) {
        let (b, p) = (x.shape[0], x.shape[1])
        let qkv = try x.linear(qkvWeight(), bias: qkvBias()).reshaped([b, p, 3, nHeads, dHead])            // [batch, pos, 3, head, d_head]
        return (try qkv.select(axis: 2, index: 0), try qkv.select(axis: 2, index: 1), try qkv.select(axis: 2, index: 2))
    }

    /// Keys and values at every position, the query at the last one only ([batch, 1, head, d_head]).
    func projectLastQuery(_ x: Tensor) throws -> (q: Tensor, k: Tensor, v: Tensor) {
        let (b, p, n) = (x.shape[0], x.shape[1], nHeads * dHead)
        let (h, e) = (nHeads, dHead)
        let (w, bias) = (try qkvWeight(), try qkvBias())
        let kv = try x.linear(w.slice(axis: 1, start: n), bias: bias.slice(axis: 0, start: n)).reshaped([b, p, 2, h, e])
        let xLast = try x.slice(axis: 1, start: p - 1)                                                        // [batch, 1, d_model]
        let q = try xLast.linear(w.slice(axis: 1, start: 0, end: n), bias: bias.slice(axis: 0, start: 0, end: n)).reshaped([b, 1, h, e])
        return (q, try kv.select(axis: 2, index: 0), try kv.select(axis: 2, index: 1))
    }

    /// Attention from queries (the last `q.shape[1]` positions), keys and
    /// values (every position) to the output [batch, q_pos, d_model],
    /// running the hooks of block `layer`; without `b_O` when not `outputBias`
    /// (for a caller that adds it to a sum of its own).
    func attend(_ l: Int, q q0: Tensor, k k0: Tensor, v v0: Tensor, mask: AttentionMask?, keyRows: Tensor? = nil,
                outputBias: Bool = true, _ f: ForwardPass) throws -> Tensor {
        let (b, queries, p) = (q0.shape[0], q0.shape[1], keyRows?.shape[1] ?? k0.shape[1])
        let padded = mask?.hasPadding == true ? mask : nil
        let (scoresPoint, patternPoint) = (HookPoint(.attnScores, layer: l), HookPoint(.pattern, layer: l))
        // Few positions and no hook function on scores or pattern: one fused
        // pass (Tensor.attention), which also gives them for the cache
        // (recording off: cached, they are values, not graph nodes).
        let fused = padded == nil && p <= AttentionBlock.fusedPositions && q0.dtype == .float32
            && f.runsNoFunctions(at: [scoresPoint, patternPoint])
            && (!GradMode.isEnabled || !(f.wants(scoresPoint) || f.wants(patternPoint)))
        // Keys and values as tables [rows, head, d_head] read through
        // `keyRows` [batch, pos] (block 0; no hook function on them): the
        // fused pass reads the tables, anything else the gathered rows.
        var (k0, v0, keyRows) = (k0, v0, keyRows)
        if let rows = keyRows, !fused {
            (k0, v0, keyRows) = (try k0.indexSelect(axis: 0, indices: rows), try v0.indexSelect(axis: 0, indices: rows), nil)
        }
        let q = try f.pass(.q, l, q0)                                                                    // [batch, q_pos, head, d_head]
        let k: Tensor, v: Tensor
        if let rows = keyRows {
            try f.record(HookPoint(.k, layer: l)) { try k0.indexSelect(axis: 0, indices: rows) }
            try f.record(HookPoint(.v, layer: l)) { try v0.indexSelect(axis: 0, indices: rows) }
            (k, v) = (k0, v0)                                                                            // [rows, head, d_head]
        } else {
            k = try f.pass(.k, l, k0)                                                                    // [batch, pos, head, d_head]
            v = try f.pass(.v, l, v0)
        }
        let z: Tensor
        if fused {
            let out = try Tensor.attention(q: q, k: k, v: v, scale: 1 / Double(dHead).squareRoot(), causal: direction == .causal,
                                           keepPattern: f.wants(scoresPoint) || f.wants(patternPoint), keyRows: keyRows)
            if let scores = out.scores { _ = try f.pass(.attnScores, l, scores) }
            if let pattern = out.pattern { _ = try f.pass(.pattern, l, pattern) }
            z = try f.pass(.z, l, out.z)                                                                   // [batch, q_pos, head, d_head]
        } else if !f.needs(scoresPoint), !f.needs(patternPoint), q.dtype == .float32, dHead <= AttentionBlock.byHeadWidth,
                  !(GradMode.isEnabled && [q, k, v].contains(where: \.requiresGrad)) {
            // Nothing reads scores or pattern: each (example, head) in cache, never the [batch, head, q_pos, pos] tensors.
            z = try f.pass(.z, l, Tensor.attentionByHead(q: q, k: k, v: v, scale: 1 / Double(dHead).squareRoot(),
                                                         causal: direction == .causal, keyMask: padded?.values))   // [batch, q_pos, head, d_head]
        } else {
            let raw = try q.permuted([0, 2, 1, 3]).matmul(k.permuted([0, 2, 3, 1]), scale: 1 / Double(dHead).squareRoot())
            let scores = try f.pass(.attnScores, l, masked(raw, queryOffset: p - queries, padded))        // [batch, head, q_pos, k_pos]
            var pattern = try scores.softmax(axis: -1)
            if padded != nil { pattern = try Tensor.where(pattern.equal(pattern), pattern, Tensor(scalar: 0)) }   // NaN rows → 0
            pattern = try f.pass(.pattern, l, pattern)                                                   // [batch, head, q_pos, k_pos]
            z = try f.pass(.z, l, pattern.matmul(v.permuted([0, 2, 1, 3])).permuted([0, 2, 1, 3]))        // [batch, q_pos, head, d_head]
        }
        let resultPoint = HookPoint(.result, layer: l)
        guard f.needs(resultPoint) else {
            return try z.reshaped([b, queries, nHeads * dHead]).linear(wO.reshaped([nHeads * dHead, dModel]), bias: outputBias ? bO : nil,
                                                                       shared: f.sharedFirstPosition)       // [batch, q_pos, d_model]
        }
        // Each head's output, asked for: the output is then their sum, so a hook that replaces them changes it.
        let result = try f.pass(.result, l, headResults(z))                                              // [batch, q_pos, head, d_model]
        return try outputBias ? result.sum(axes: [2]) + bO : result.sum(axes: [2])                      // [batch, q_pos, d_model]
    }

    /// Each head's output `z·W_O` (without `b_O`): z [batch, pos, head, d_head]
    /// to [batch, pos, head, d_model], TransformerLens's `hook_result`.
    public func headResults(_ z: Tensor) throws -> Tensor {
        let perHead = try z.permuted([0, 2, 1, 3]).matmul(wO.reshaped([nHeads, dHead, dModel]))        // [batch, head, pos, d_model]
        return try perHead.permuted([0, 2, 1, 3])                                                        // [batch, pos, head, d_model]
    }

    /// Sets scores of keys after their query (when causal) and of padding
    /// keys to -inf (TransformerLens's IGNORE). Query i sits at absolute
    /// position `queryOffset + i`.
    private func masked(_ scores: Tensor, queryOffset: Int, _ padding: AttentionMask?) throws -> Tensor {
        let (nq, nk) = (scores.shape[2], scores.shape[3])
        var keep: Tensor? = try padding?.keys()                                                          // [batch, 1, 1, k_pos]
        let causalNeeded = direction == .causal && !(queryOffset + nq - 1 <= 0 || (nq == 1 && queryOffset == nk - 1))
        if causalNeeded {
            var allowed = [Float](repeating: 0, count: nq * nk)
            for i in 0..<nq { for j in 0..<nk where j <= queryOffset + i { allowed[i * nk + j] = 1 } }
            let causal = try Tensor(allowed, shape: [nq, nk])
            keep = try keep.map { try $0 * causal } ?? causal
        }
        guard let keep else { return scores }
        return try Tensor.where(keep, scores, Tensor(scalar: -Double.infinity))
    }
}
