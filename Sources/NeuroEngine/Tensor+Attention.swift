/// `Σ a[i]·b[i]` over `n` floats, eight lanes at a time.
@inline(__always)
private func dotFloat(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>()
    var i = 0
    while i + 8 <= n {
        acc += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
        i += 8
    }
    var s = acc.sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}

/// `y[i] += alpha·x[i]` over `n` floats.
@inline(__always)
private func axpyFloat(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { y[i] += alpha * x[i] }
}

extension Tensor {
    /// Scaled dot-product attention in one pass, for float32 queries
    /// [batch, q_pos, head, d_head] (the last q_pos positions) over keys
    /// and values [batch, pos, head, d_head]: `z = softmax(scale·q·kᵀ)·v`,
    /// [batch, q_pos, head, d_head]. With `causal`, query i (at absolute
    /// position pos - q_pos + i) sees keys up to its own position. The same
    /// numbers as the product, softmax and product one after the other (to
    /// float rounding), without their intermediate tensors or per-matrix
    /// calls: for the few positions of the algorithmic tasks those cost far
    /// more than the arithmetic. Differentiable in q, k and v.
    ///
    /// `keepPattern` also returns the scores (masked ones -inf) and the
    /// pattern, [batch, head, q_pos, pos], as values only (not recorded).
    ///
    /// `keyRows` [batch, pos] (integers) reads keys and values from tables
    /// instead: k and v are then [rows, head, d_head] and the key at
    /// position j of example b is row `keyRows[b, j]` — for keys that
    /// depend only on (token, position), so no [batch, pos, …] copy of them
    /// is made; their gradients go straight into the tables.
    public static func attention(q: Tensor, k: Tensor, v: Tensor, scale: Double, causal: Bool,
                                 keepPattern: Bool = false, keyRows: Tensor? = nil) throws -> (z: Tensor, scores: Tensor?, pattern: Tensor?) {
        guard q.dtype == .float32, k.dtype == .float32, v.dtype == .float32 else {
            throw EngineError.dtype("attention", "the fused attention takes float32 q, k and v, got \(q.dtype.shortName), \(k.dtype.shortName), \(v.dtype.shortName)")
        }
        // Keys as [batch, pos, head, d_head], or as a table with their rows.
        let keyShape: [Int]
        var rows: [Int]? = nil
        if let keyRows {
            guard keyRows.rank == 2, k.rank == 3, q.rank == 4, keyRows.shape[0] == q.shape[0] else {
                throw EngineError.shape("attention", "with key rows \(formatShape(keyRows.shape)), k \(formatShape(k.shape)) must be [rows, head, d_head] and the rows [batch, pos] for q \(formatShape(q.shape))")
            }
            rows = try keyRows.indexValues(bound: k.shape[0], op: "attention")
            keyShape = [keyRows.shape[0], keyRows.shape[1], k.shape[1], k.shape[2]]
        } else {
            keyShape = k.shape
        }
        guard q.rank == 4, keyShape.count == 4, k.shape == v.shape, q.shape[0] == keyShape[0], q.shape[2] == keyShape[2],
              q.shape[3] == keyShape[3], q.shape[1] <= keyShape[1] else {
            throw EngineError.shape("attention", "q \(formatShape(q.shape)), k \(formatShape(k.shape)) and v \(formatShape(v.shape)) must be [batch, pos, head, d_head] with q's positions the last of k's")
        }
        let (b, nq, h, e, p) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3], keyShape[1])
        // Where key j of example bi starts, in heads of d_head floats.
        let (table, indexed) = (rows ?? [], rows != nil)
        @inline(__always) func keyAt(_ bi: Int, _ j: Int) -> Int { indexed ? table[bi * p + j] * h : (bi * p + j) * h }
        let offset = p - nq
        let qc = q.contiguousData(), kc = k.contiguousData(), vc = v.contiguousData()
        let z = try Tensor(uninitializedShape: [b, nq, h, e], dtype: .float32, op: "attention")
        let pattern = try Tensor(uninitializedShape: [b, h, nq, p], dtype: .float32, op: "attention")
        let scores = keepPattern ? try Tensor(uninitializedShape: [b, h, nq, p], dtype: .float32, op: "attention") : nil
        let s = Float(scale)
        let pq = qc.pointer(Float.self), pk = kc.pointer(Float.self), pv = vc.pointer(Float.self)
        let pz = z.pointer(Float.self), pp = pattern.pointer(Float.self), ps = scores?.pointer(Float.self)
        // Examples are independent: shared among the engine's threads.
        Parallel.forRanges(b, workPerItem: nq * h * p * e * 2) { examples in
            for bi in examples {
                for i in 0..<nq {
                    let seen = causal ? offset + i + 1 : p
                    for hh in 0..<h {
                        let qi = pq + ((bi * nq + i) * h + hh) * e
                        let row = ((bi * h + hh) * nq + i) * p
                        let prow = pp + row
                        var peak = -Float.infinity
                        for j in 0..<seen {
                            let score = s * dotFloat(qi, pk + (keyAt(bi, j) + hh) * e, e)
                            prow[j] = score
                            if score > peak { peak = score }
                        }
                        if let ps {
                            for j in 0..<seen { ps[row + j] = prow[j] }
                            for j in seen..<p { ps[row + j] = -.infinity }
                        }
                        if !peak.isFinite { peak = 0 }
                        var total: Float = 0
                        for j in 0..<seen {
                            let x = Float.fastExpNonPositive(prow[j] - peak)
                            prow[j] = x
                            total += x
                        }
                        let inv = 1 / total
                        for j in 0..<seen { prow[j] *= inv }
                        for j in seen..<p { prow[j] = 0 }
                        let zi = pz + ((bi * nq + i) * h + hh) * e
                        for t in 0..<e { zi[t] = 0 }
                        for j in 0..<seen { axpyFloat(prow[j], pv + (keyAt(bi, j) + hh) * e, zi, e) }
                    }
                }
            }
        }
        z.recording("attention", [q, k, v]) { g in
            let gc = g.contiguousData()
            let dq = try Tensor(zerosShape: [b, nq, h, e], dtype: .float32, op: "attention")
            let dk = try Tensor(zerosShape: k.shape, dtype: .float32, op: "attention")
            let dv = try Tensor(zerosShape: v.shape, dtype: .float32, op: "attention")
            let pg = gc.pointer(Float.self), pdq = dq.pointer(Float.self), pdk = dk.pointer(Float.self), pdv = dv.pointer(Float.self)
            let pq = qc.pointer(Float.self), pk = kc.pointer(Float.self), pv = vc.pointer(Float.self), pp = pattern.pointer(Float.self)
            var dP = [Float](repeating: 0, count: p)
            for bi in 0..<b {
                for i in 0..<nq {
                    let seen = causal ? offset + i + 1 : p
                    for hh in 0..<h {
                        let at = ((bi * nq + i) * h + hh) * e
                        let gi = pg + at, qi = pq + at, dqi = pdq + at
                        let prow = pp + ((bi * h + hh) * nq + i) * p
                        var mean: Float = 0
                        for j in 0..<seen {
                            let kv = (keyAt(bi, j) + hh) * e
                            dP[j] = dotFloat(gi, pv + kv, e)
                            mean += prow[j] * dP[j]
                            axpyFloat(prow[j], gi, pdv + kv, e)
                        }
                        for j in 0..<seen {
                            let kv = (keyAt(bi, j) + hh) * e
                            let ds = s * prow[j] * (dP[j] - mean)
                            axpyFloat(ds, pk + kv, dqi, e)
                            axpyFloat(ds, qi, pdk + kv, e)
                        }
                    }
                }
            }
            return [q.requiresGrad ? dq : nil, k.requiresGrad ? dk : nil, v.requiresGrad ? dv : nil]
        }
        return (z, scores, keepPattern ? pattern : nil)
    }
}
