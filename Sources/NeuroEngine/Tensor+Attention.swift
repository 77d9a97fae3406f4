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

/// `out[i] = start[i] + Σ_t weights[t]·sources[t][i]` over `n` floats (from
/// zero without `start`), the terms added in order (the same numbers as
/// copying `start` or zeroing `out`, then one `axpyFloat` per term), 32
/// floats at a time in registers so `out` is written once.
@inline(__always)
private func weightedSumFloat(_ weights: UnsafePointer<Float>, _ sources: UnsafePointer<UnsafePointer<Float>>, _ terms: Int,
                              _ out: UnsafeMutablePointer<Float>, _ n: Int, start: UnsafePointer<Float>? = nil) {
    typealias V = SIMD8<Float>
    @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inline(__always) func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }
    var i = 0
    while i + 32 <= n {
        var (a0, a1, a2, a3) = (V(), V(), V(), V())
        if let start { (a0, a1, a2, a3) = (load(start + i), load(start + i + 8), load(start + i + 16), load(start + i + 24)) }
        for t in 0..<terms {
            let w = V(repeating: weights[t]), x = sources[t] + i
            a0 += w * load(x)
            a1 += w * load(x + 8)
            a2 += w * load(x + 16)
            a3 += w * load(x + 24)
        }
        store(a0, out + i)
        store(a1, out + i + 8)
        store(a2, out + i + 16)
        store(a3, out + i + 24)
        i += 32
    }
    while i < n {
        var a: Float = start?[i] ?? 0
        for t in 0..<terms { a += weights[t] * sources[t][i] }
        out[i] = a
        i += 1
    }
}

/// `dotFloat(g, x, n)`, and `y[i] += alpha·g[i]` in the same pass over `g`.
@inline(__always)
private func dotAndAxpyFloat(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ alpha: Float, _ y: UnsafeMutablePointer<Float>,
                             _ n: Int) -> Float {
    typealias V = SIMD8<Float>
    var acc = V()
    let a = V(repeating: alpha)
    var i = 0
    while i + 8 <= n {
        let gv = UnsafeRawPointer(g + i).loadUnaligned(as: V.self)
        acc += gv * UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
        let yv = UnsafeRawPointer(y + i).loadUnaligned(as: V.self) + a * gv
        UnsafeMutableRawPointer(y + i).storeBytes(of: yv, as: V.self)
        i += 8
    }
    var s = acc.sum()
    while i < n {
        s += g[i] * x[i]
        y[i] += alpha * g[i]
        i += 1
    }
    return s
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
    ///
    /// Values may be wider than keys (`d_v` instead of `d_head`), for values
    /// already multiplied by a later weight; z is then [batch, q_pos, head,
    /// d_v]. `headsSummed` adds the heads' outputs instead, z [batch, q_pos,
    /// d_v], without the [batch, q_pos, head, d_v] tensor in between. Values
    /// whose last axis is contiguous are read in place through their
    /// strides (a permuted view of a table is not copied); without key rows,
    /// their batch and position axes must also merge, else they are copied.
    public static func attention(q: Tensor, k: Tensor, v: Tensor, scale: Double, causal: Bool,
                                 keepPattern: Bool = false, keyRows: Tensor? = nil,
                                 headsSummed: Bool = false) throws -> (z: Tensor, scores: Tensor?, pattern: Tensor?) {
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
        guard q.rank == 4, keyShape.count == 4, v.rank == k.rank, Array(v.shape.dropLast()) == Array(k.shape.dropLast()),
              q.shape[0] == keyShape[0], q.shape[2] == keyShape[2], q.shape[3] == keyShape[3], q.shape[1] <= keyShape[1] else {
            throw EngineError.shape("attention", "q \(formatShape(q.shape)), k \(formatShape(k.shape)) and v \(formatShape(v.shape)) must be [batch, pos, head, d_head] (v [batch, pos, head, d_v]) with q's positions the last of k's")
        }
        let (b, nq, h, e, p) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3], keyShape[1])
        let ev = v.shape[v.rank - 1]
        // The row of key j of example bi, and where it starts in heads of d_head floats.
        let (table, indexed) = (rows ?? [], rows != nil)
        @inline(__always) func keyRow(_ bi: Int, _ j: Int) -> Int { indexed ? table[bi * p + j] : bi * p + j }
        @inline(__always) func keyAt(_ bi: Int, _ j: Int) -> Int { keyRow(bi, j) * h }
        let offset = p - nq
        let qc = q.contiguousData(), kc = k.contiguousData()
        // Values in place when each value vector is contiguous and rows are evenly spaced.
        let vRows = v.rank == 3 || v.strides[0] == p * v.strides[1]
        let vc = v.strides[v.rank - 1] == 1 && vRows ? v : v.contiguousData()
        let (vRowStride, vHeadStride) = (vc.strides[vc.rank - 3], vc.strides[vc.rank - 2])
        @inline(__always) func valueAt(_ bi: Int, _ j: Int, _ hh: Int) -> Int { keyRow(bi, j) * vRowStride + hh * vHeadStride }
        let zShape = headsSummed ? [b, nq, ev] : [b, nq, h, ev]
        let z = try Tensor(uninitializedShape: zShape, dtype: .float32, op: "attention")
        let pattern = try Tensor(uninitializedShape: [b, h, nq, p], dtype: .float32, op: "attention")
        let scores = keepPattern ? try Tensor(uninitializedShape: [b, h, nq, p], dtype: .float32, op: "attention") : nil
        let s = Float(scale)
        let pq = qc.pointer(Float.self), pk = kc.pointer(Float.self), pv = vc.pointer(Float.self)
        let pz = z.pointer(Float.self), pp = pattern.pointer(Float.self), ps = scores?.pointer(Float.self)
        // Examples are independent: shared among the engine's threads.
        Parallel.forRanges(b, workPerItem: nq * h * p * (e + ev)) { examples in
            // One query's pattern weights and value rows, every head's when summed.
            let weights = UnsafeMutablePointer<Float>.allocate(capacity: h * p)
            let sources = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: h * p)
            defer { weights.deallocate(); sources.deallocate() }
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
                        let term = headsSummed ? hh * seen : 0
                        for j in 0..<seen {
                            weights[term + j] = prow[j]
                            sources[term + j] = UnsafePointer(pv + valueAt(bi, j, hh))
                        }
                        if !headsSummed { weightedSumFloat(weights, sources, seen, pz + ((bi * nq + i) * h + hh) * ev, ev) }
                    }
                    if headsSummed { weightedSumFloat(weights, sources, h * seen, pz + (bi * nq + i) * ev, ev) }
                }
            }
        }
        z.recording("attention", [q, k, v]) { g in
            let gc = g.contiguousData()
            let dq = try Tensor(zerosShape: [b, nq, h, e], dtype: .float32, op: "attention")
            let dk = try Tensor(zerosShape: k.shape, dtype: .float32, op: "attention")
            let dv = try Tensor(zerosShape: v.shape, dtype: .float32, op: "attention")                 // contiguous, unlike v perhaps
            let pg = gc.pointer(Float.self), pdq = dq.pointer(Float.self), pdk = dk.pointer(Float.self), pdv = dv.pointer(Float.self)
            let pq = qc.pointer(Float.self), pk = kc.pointer(Float.self), pv = vc.pointer(Float.self), pp = pattern.pointer(Float.self)
            var dP = [Float](repeating: 0, count: p)
            for bi in 0..<b {
                for i in 0..<nq {
                    let seen = causal ? offset + i + 1 : p
                    for hh in 0..<h {
                        let at = ((bi * nq + i) * h + hh) * e
                        let gi = headsSummed ? pg + (bi * nq + i) * ev : pg + ((bi * nq + i) * h + hh) * ev
                        let qi = pq + at, dqi = pdq + at
                        let prow = pp + ((bi * h + hh) * nq + i) * p
                        var mean: Float = 0
                        for j in 0..<seen {
                            dP[j] = dotAndAxpyFloat(gi, pv + valueAt(bi, j, hh), prow[j], pdv + (keyAt(bi, j) + hh) * ev, ev)
                            mean += prow[j] * dP[j]
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

extension Tensor {
    /// The heads' pattern-weighted sum of values from a pattern already
    /// computed (`attention`'s): `z[b, i] = base[baseRows[b, i]] + Σ_head
    /// Σ_key pattern[b, head, i, key]·values[keyRows[b, key], head]`, for
    /// values already multiplied by a later weight, so that one pattern
    /// serves several readouts of the same attention. `pattern` [batch,
    /// head, q_pos, pos] (the last q_pos positions; with `causal`, query i
    /// reads keys up to its own position), `values` a table [rows, head,
    /// d_v] read in place through its strides when each vector is
    /// contiguous, `keyRows` [batch, pos]; `base` [n, d_v] with `baseRows`
    /// [batch, q_pos] optional (zero without). Gives [batch, q_pos, d_v].
    /// The terms are added in the order `attention` adds them. With
    /// `activation`, also that function of z, applied to each row while it
    /// is still in cache (z and act(z): an MLP's pre- and post-activation).
    /// Values only: throws when gradients are being recorded through an
    /// input that requires them.
    public static func mixHeads(pattern: Tensor, values: Tensor, keyRows: Tensor, causal: Bool,
                                base: Tensor? = nil, baseRows: Tensor? = nil,
                                activation: Pointwise? = nil) throws -> (z: Tensor, activated: Tensor?) {
        let inputs = [pattern, values] + (base.map { [$0] } ?? [])
        guard inputs.allSatisfy({ $0.dtype == .float32 }) else {
            throw EngineError.dtype("mix heads", "takes a float32 pattern, values and base, got \(inputs.map(\.dtype.shortName).joined(separator: ", "))")
        }
        guard !(GradMode.isEnabled && inputs.contains(where: \.requiresGrad)) else {
            throw EngineError(.argument, "mix heads computes values only; run it without gradients (no_grad) or use attention")
        }
        guard pattern.rank == 4, values.rank == 3, keyRows.rank == 2, keyRows.shape[0] == pattern.shape[0],
              keyRows.shape[1] == pattern.shape[3], values.shape[1] == pattern.shape[1], pattern.shape[2] <= pattern.shape[3] else {
            throw EngineError.shape("mix heads", "pattern \(formatShape(pattern.shape)), values \(formatShape(values.shape)) and key rows \(formatShape(keyRows.shape)) must be [batch, head, q_pos, pos], [rows, head, d_v] and [batch, pos]")
        }
        let (b, h, nq, p, ev) = (pattern.shape[0], pattern.shape[1], pattern.shape[2], pattern.shape[3], values.shape[2])
        let rows = try keyRows.indexValues(bound: values.shape[0], op: "mix heads")
        var starts: [Int] = []
        if base != nil || baseRows != nil {
            guard let base, let baseRows, base.rank == 2, base.shape[1] == ev, baseRows.shape == [b, nq] else {
                throw EngineError.shape("mix heads", "base \(base.map { formatShape($0.shape) } ?? "missing") and its rows \(baseRows.map { formatShape($0.shape) } ?? "missing") must be [n, \(ev)] and [\(b), \(nq)]")
            }
            starts = try baseRows.indexValues(bound: base.shape[0], op: "mix heads")
        }
        let pc = pattern.contiguousData(), bc = base?.contiguousData()
        let vc = values.strides[2] == 1 ? values : values.contiguousData()
        let (vRowStride, vHeadStride) = (vc.strides[0], vc.strides[1])
        let z = try Tensor(uninitializedShape: [b, nq, ev], dtype: .float32, op: "mix heads")
        let activated = try activation.map { _ in try Tensor(uninitializedShape: [b, nq, ev], dtype: .float32, op: "mix heads") }
        let pp = pc.pointer(Float.self), pv = vc.pointer(Float.self), pz = z.pointer(Float.self), pa = activated?.pointer(Float.self)
        let pb = bc.map { UnsafePointer($0.pointer(Float.self)) }
        Parallel.forRanges(b, workPerItem: nq * h * p * ev) { examples in
            let weights = UnsafeMutablePointer<Float>.allocate(capacity: h * p)
            let sources = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: h * p)
            defer { weights.deallocate(); sources.deallocate() }
            for bi in examples {
                for i in 0..<nq {
                    let seen = causal ? p - nq + i + 1 : p
                    for hh in 0..<h {
                        let prow = pp + ((bi * h + hh) * nq + i) * p
                        for j in 0..<seen {
                            weights[hh * seen + j] = prow[j]
                            sources[hh * seen + j] = UnsafePointer(pv + rows[bi * p + j] * vRowStride + hh * vHeadStride)
                        }
                    }
                    let row = (bi * nq + i) * ev
                    weightedSumFloat(weights, sources, h * seen, pz + row, ev, start: pb.map { $0 + starts[bi * nq + i] * ev })
                    if let activation, let pa { activation.apply(pz + row, pa + row, ev) }
                }
            }
        }
        return (z, activated)
    }
}

extension Tensor {
    /// Scaled dot-product attention for sequences longer than `attention`
    /// takes, one (example, head) at a time: its scores, mask, softmax and
    /// mix of values made in the core's cache by kernels for a short d_head
    /// (keys transposed and values packed once per head, four queries'
    /// scores or outputs in registers at a time, softmax's division applied
    /// to the outputs), z written straight to [batch, q_pos, head, d_head] —
    /// no [batch, head, q_pos, pos] tensor in memory and no matrix-product
    /// call per head. For passes that keep neither scores nor pattern and
    /// record no gradients. q [batch, q_pos, head, d_head] (the last q_pos
    /// positions), k and v [batch, pos, head, d_head], read in place when
    /// their last axis is contiguous. With `causal`, query i sees keys up to
    /// its own position; `keyMask` [batch·pos] (1 a token, 0 padding) hides
    /// padding keys, and a query with no key left gets a zero pattern. The
    /// same function as the product, mask, softmax and product one after the
    /// other, summed in another order (float32 rounding). Values only:
    /// throws when gradients are being recorded through an input that
    /// requires them.
    public static func attentionByHead(q: Tensor, k: Tensor, v: Tensor, scale: Double, causal: Bool,
                                       keyMask: [Int]? = nil) throws -> Tensor {
        guard q.dtype == .float32, k.dtype == .float32, v.dtype == .float32 else {
            throw EngineError.dtype("attention", "attention by head takes float32 q, k and v, got \(q.dtype.shortName), \(k.dtype.shortName), \(v.dtype.shortName)")
        }
        guard !(GradMode.isEnabled && [q, k, v].contains(where: \.requiresGrad)) else {
            throw EngineError(.argument, "attention by head computes values only; run it without gradients (no_grad) or use the separate operations")
        }
        // Its softmax takes scale · (largest score) as the row's largest scaled score, true only for scale > 0.
        guard scale > 0, scale.isFinite else {
            throw EngineError(.argument, "attention by head needs a positive, finite scale, got \(scale)")
        }
        guard q.rank == 4, k.rank == 4, v.shape == k.shape, q.shape[0] == k.shape[0], q.shape[2] == k.shape[2], q.shape[3] == k.shape[3],
              q.shape[1] <= k.shape[1] else {
            throw EngineError.shape("attention", "q \(formatShape(q.shape)), k \(formatShape(k.shape)) and v \(formatShape(v.shape)) must be [batch, pos, head, d_head] with q's positions the last of k's")
        }
        let (b, nq, h, e, p) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3], k.shape[1])
        if let keyMask, keyMask.count != b * p {
            throw EngineError.shape("attention", "the key mask has \(keyMask.count) values for \(b) × \(p) keys")
        }
        let z = try Tensor(uninitializedShape: [b, nq, h, e], dtype: .float32, op: "attention")
        guard b > 0, nq > 0, h > 0, e > 0, p > 0 else { return z }
        let (qc, kc, vc) = (q.strides[3] == 1 ? q : q.contiguousData(), k.strides[3] == 1 ? k : k.contiguousData(),
                            v.strides[3] == 1 ? v : v.contiguousData())
        let pq = qc.pointer(Float.self), pk = kc.pointer(Float.self), pv = vc.pointer(Float.self), pz = z.pointer(Float.self)
        let (sq, sk, sv) = (qc.strides, kc.strides, vc.strides)
        // Keys padded to a multiple of 16; the transposed keys' rows 16 floats
        // longer still, so rows a power of two apart do not share the L1 cache's sets.
        let (offset, wide, s) = (p - nq, (p + 15) / 16 * 16, Float(scale))
        let stride = wide + 16
        Parallel.forRanges(b * h, workPerItem: nq * p * e) { units in
            // One block, each part starting on a cache line (64 bytes, 16 floats): the kernels'
            // loads of 16 keys then never straddle two lines.
            let (keysCount, valuesCount, rowsCount) = (e * stride, (p * e + 15) / 16 * 16, 4 * wide)
            let block = UnsafeMutableRawPointer.allocate(byteCount: (keysCount + valuesCount + 2 * rowsCount) * MemoryLayout<Float>.size,
                                                         alignment: 64).bindMemory(to: Float.self, capacity: keysCount + valuesCount + 2 * rowsCount)
            defer { block.deallocate() }
            let keysT = block                                                                              // [d_head, keys]
            let values = keysT + keysCount                                                                 // [keys, d_head]
            let scores = values + valuesCount                                                              // four queries' rows
            let pattern = scores + rowsCount
            keysT.initialize(repeating: 0, count: e * stride)
            for unit in units {
                let (bi, hh) = (unit / h, unit % h)
                let qu = pq + bi * sq[0] + hh * sq[2], ku = pk + bi * sk[0] + hh * sk[2], vu = pv + bi * sv[0] + hh * sv[2]
                let (keyStride, valueStride) = (sk[1], sv[1])
                for d in 0..<e { for j in 0..<p { keysT[d &* stride &+ j] = ku[j &* keyStride &+ d] } }
                for j in 0..<p { (values + j * e).update(from: vu + j * valueStride, count: e) }
                var i0 = 0
                while i0 < nq {
                    let count = Swift.min(4, nq - i0)
                    let keys = causal ? Swift.min(offset + i0 + count, p) : p                               // the most any of them sees
                    @inline(__always) func query(_ r: Int) -> UnsafePointer<Float> { UnsafePointer(qu + (i0 + Swift.min(r, count - 1)) * sq[1]) }
                    scoreRows4(query(0), query(1), query(2), query(3), keysT, e: e, keys: (keys + 15) / 16 * 16,
                               stride: stride, scores, rowStride: wide)
                    // Each row's exponentials, unnormalised; the mix divides by their sum.
                    var inverse = SIMD4<Float>()
                    for r in 0..<count {
                        let (row, out) = (scores + r * wide, pattern + r * wide)
                        let seen = causal ? offset + i0 + r + 1 : p
                        if let keyMask { for j in 0..<seen where keyMask[bi * p + j] == 0 { row[j] = -.infinity } }
                        let total = exponentialsOfRow(row, out, seen: seen, clearing: keys, scale: s)
                        if keyMask != nil && !(total > 0) {                                                    // no key left: a zero pattern
                            out.update(repeating: 0, count: keys)
                        } else {
                            inverse[r] = 1 / total
                        }
                    }
                    // Fewer than four queries left: the last one's row stands in for the missing ones.
                    let rows = SIMD4(0, 1, 2, 3).clamped(lowerBound: SIMD4(repeating: 0), upperBound: SIMD4(repeating: count - 1))
                    @inline(__always) func weights(_ r: Int) -> UnsafePointer<Float> { UnsafePointer(pattern + rows[r] * wide) }
                    @inline(__always) func output(_ r: Int) -> UnsafeMutablePointer<Float> { pz + ((bi * nq + i0 + rows[r]) * h + hh) * e }
                    mixRows4(weights(0), weights(1), weights(2), weights(3), keys: keys, values, e: e,
                             output(0), output(1), output(2), output(3),
                             scales: SIMD4(inverse[rows[0]], inverse[rows[1]], inverse[rows[2]], inverse[rows[3]]))
                    i0 += 4
                }
            }
        }
        return z
    }
}

/// Four queries' scores against keys `0..<keys` (a multiple of 16) of a
/// transposed key block [e, stride]: 16 keys at a time, eight 8-float sums
/// in registers (each key row loaded once for the four), one `multiplyAdd`
/// per query, key and dimension; rows of `out` `rowStride` apart.
@inline(__always)
private func scoreRows4(_ q0: UnsafePointer<Float>, _ q1: UnsafePointer<Float>, _ q2: UnsafePointer<Float>, _ q3: UnsafePointer<Float>,
                        _ keysT: UnsafePointer<Float>, e: Int, keys: Int, stride: Int, _ out: UnsafeMutablePointer<Float>, rowStride: Int) {
    typealias V = SIMD8<Float>
    @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inline(__always) func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }
    var j = 0
    while j < keys {
        var (a0, b0, a1, b1, a2, b2, a3, b3) = (V(), V(), V(), V(), V(), V(), V(), V())
        for d in 0..<e {
            let row = keysT + d * stride + j
            let (k0, k1) = (load(row), load(row + 8))
            let (x0, x1, x2, x3) = (V(repeating: q0[d]), V(repeating: q1[d]), V(repeating: q2[d]), V(repeating: q3[d]))
            a0 = multiplyAdd(a0, x0, k0); b0 = multiplyAdd(b0, x0, k1)
            a1 = multiplyAdd(a1, x1, k0); b1 = multiplyAdd(b1, x1, k1)
            a2 = multiplyAdd(a2, x2, k0); b2 = multiplyAdd(b2, x2, k1)
            a3 = multiplyAdd(a3, x3, k0); b3 = multiplyAdd(b3, x3, k1)
        }
        store(a0, out + j); store(b0, out + j + 8)
        store(a1, out + rowStride + j); store(b1, out + rowStride + j + 8)
        store(a2, out + 2 * rowStride + j); store(b2, out + 2 * rowStride + j + 8)
        store(a3, out + 3 * rowStride + j); store(b3, out + 3 * rowStride + j + 8)
        j += 16
    }
}

/// A row of softmax before its division: `out[j] = e^(scale·x[j] − m)` for
/// the keys `j < seen`, with m the largest `scale·x[j]` (0 when that is not
/// finite, as `softmaxRowsFloat`), and 0 for `seen..<clearing`; returns
/// their sum. NaN in x gives a NaN sum; -inf keys give 0. Eight floats at a
/// time (`SIMD8.fastExpNonPositive`), the last `seen mod 8` one by one.
@inline(__always)
private func exponentialsOfRow(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, seen: Int, clearing: Int,
                               scale: Float) -> Float {
    typealias V = SIMD8<Float>
    @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    let wide = seen / 8 * 8
    var peaks = V(repeating: -.infinity)
    var j = 0
    while j < wide { let v = load(x + j); peaks.replace(with: v, where: v .> peaks); j += 8 }
    // The lanes' largest, by halves (no NaN among them: the comparisons skip NaN).
    let half = peaks.lowHalf.replacing(with: peaks.highHalf, where: peaks.highHalf .> peaks.lowHalf)
    let quarter = half.lowHalf.replacing(with: half.highHalf, where: half.highHalf .> half.lowHalf)
    var peak = Swift.max(quarter[0], quarter[1])
    while j < seen { if x[j] > peak { peak = x[j] }; j += 1 }
    var shift = scale * peak                                                      // the largest scaled score: scale > 0
    if !shift.isFinite { shift = 0 }
    let (sv, hv) = (V(repeating: scale), V(repeating: shift))
    var (sums, sums2) = (V(), V())
    j = 0
    while j + 16 <= wide {                                                        // two at a time: two independent chains
        let (y, y2) = (V.fastExpNonPositive(sv * load(x + j) - hv), V.fastExpNonPositive(sv * load(x + j + 8) - hv))
        UnsafeMutableRawPointer(out + j).storeBytes(of: y, as: V.self)
        UnsafeMutableRawPointer(out + j + 8).storeBytes(of: y2, as: V.self)
        sums += y
        sums2 += y2
        j += 16
    }
    if j < wide {
        let y = V.fastExpNonPositive(sv * load(x + j) - hv)
        UnsafeMutableRawPointer(out + j).storeBytes(of: y, as: V.self)
        sums += y
        j += 8
    }
    var total = (sums + sums2).sum()
    while j < seen { let y = Float.fastExpNonPositive(scale * x[j] - shift); out[j] = y; total += y; j += 1 }
    while j < clearing { out[j] = 0; j += 1 }
    return total
}

/// Four queries' mixes of packed values [keys, e]: `out_r[d] = scales[r]·Σ_j w_r[j]·v[j, d]`
/// over keys `0..<keys`; 32 floats of each output at a time in registers (each value row
/// loaded once for the four: sixteen 8-float sums), one `multiplyAdd` per
/// query, key and dimension; the last `e mod 32` one by one.
@inline(__always)
private func mixRows4(_ w0: UnsafePointer<Float>, _ w1: UnsafePointer<Float>, _ w2: UnsafePointer<Float>, _ w3: UnsafePointer<Float>,
                      keys: Int, _ v: UnsafePointer<Float>, e: Int,
                      _ out0: UnsafeMutablePointer<Float>, _ out1: UnsafeMutablePointer<Float>, _ out2: UnsafeMutablePointer<Float>,
                      _ out3: UnsafeMutablePointer<Float>, scales: SIMD4<Float>) {
    typealias V = SIMD8<Float>
    @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inline(__always) func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }
    var d = 0
    while d + 32 <= e {
        var (a0, a1, a2, a3) = (V(), V(), V(), V()), (b0, b1, b2, b3) = (V(), V(), V(), V())
        var (c0, c1, c2, c3) = (V(), V(), V(), V()), (f0, f1, f2, f3) = (V(), V(), V(), V())
        for j in 0..<keys {
            let r = v + j * e + d
            let (v0, v1, v2, v3) = (load(r), load(r + 8), load(r + 16), load(r + 24))
            let (x, y, z, t) = (V(repeating: w0[j]), V(repeating: w1[j]), V(repeating: w2[j]), V(repeating: w3[j]))
            a0 = multiplyAdd(a0, x, v0); a1 = multiplyAdd(a1, x, v1); a2 = multiplyAdd(a2, x, v2); a3 = multiplyAdd(a3, x, v3)
            b0 = multiplyAdd(b0, y, v0); b1 = multiplyAdd(b1, y, v1); b2 = multiplyAdd(b2, y, v2); b3 = multiplyAdd(b3, y, v3)
            c0 = multiplyAdd(c0, z, v0); c1 = multiplyAdd(c1, z, v1); c2 = multiplyAdd(c2, z, v2); c3 = multiplyAdd(c3, z, v3)
            f0 = multiplyAdd(f0, t, v0); f1 = multiplyAdd(f1, t, v1); f2 = multiplyAdd(f2, t, v2); f3 = multiplyAdd(f3, t, v3)
        }
        let (s0, s1, s2, s3) = (V(repeating: scales[0]), V(repeating: scales[1]), V(repeating: scales[2]), V(repeating: scales[3]))
        store(a0 * s0, out0 + d); store(a1 * s0, out0 + d + 8); store(a2 * s0, out0 + d + 16); store(a3 * s0, out0 + d + 24)
        store(b0 * s1, out1 + d); store(b1 * s1, out1 + d + 8); store(b2 * s1, out1 + d + 16); store(b3 * s1, out1 + d + 24)
        store(c0 * s2, out2 + d); store(c1 * s2, out2 + d + 8); store(c2 * s2, out2 + d + 16); store(c3 * s2, out2 + d + 24)
        store(f0 * s3, out3 + d); store(f1 * s3, out3 + d + 8); store(f2 * s3, out3 + d + 16); store(f3 * s3, out3 + d + 24)
        d += 32
    }
    while d < e {
        var acc = SIMD4<Float>()
        for j in 0..<keys {
            let x = v[j * e + d]
            acc += SIMD4(w0[j], w1[j], w2[j], w3[j]) * SIMD4(repeating: x)
        }
        acc *= scales
        (out0[d], out1[d], out2[d], out3[d]) = (acc[0], acc[1], acc[2], acc[3])
        d += 1
    }
}
