/// How BLAS should read a 2-D strided view: transposed or not, and with which
/// leading dimension; nil when the view is not expressible (needs a copy).
private func blasLayout(rows: Int, cols: Int, rowStride: Int, colStride: Int) -> (trans: Bool, ld: Int)? {
    if colStride == 1 && (rowStride >= cols || rows == 1) { return (false, Swift.max(rowStride, cols, 1)) }
    if rowStride == 1 && (colStride >= rows || cols == 1) { return (true, Swift.max(colStride, rows, 1)) }
    return nil
}

/// Below this many multiply-adds per matrix product a plain loop beats the
/// cost of calling into BLAS (attention over 3 positions is the typical case).
private let smallProductLimit = 2048

/// `c[m, n] = a[m, k] · b[k, n]` for strided operands, by hand, with the
/// loop order that keeps the innermost loop on unit stride when one exists.
@inline(__always)
private func smallGemm<T: FloatElement>(_ a: UnsafePointer<T>, _ ars: Int, _ acs: Int,
                                        _ b: UnsafePointer<T>, _ brs: Int, _ bcs: Int,
                                        _ c: UnsafeMutablePointer<T>, m: Int, n: Int, k: Int) {
    if bcs == 1 {
        // Rows of c as sums of rows of b: the inner loop runs along b's rows.
        for i in 0..<m {
            let ci = c + i * n
            for j in 0..<n { ci[j] = 0 }
            for p in 0..<k {
                let x = a[i * ars + p * acs], bp = b + p * brs
                for j in 0..<n { ci[j] += x * bp[j] }
            }
        }
    } else if acs == 1 && brs == 1 {
        // Dot products of contiguous rows of a with contiguous columns of b,
        // four partial sums each, so the additions do not wait on one another.
        let wide = k / 4 * 4
        for i in 0..<m {
            let ai = a + i * ars
            for j in 0..<n {
                let bj = b + j * bcs
                var (s0, s1, s2, s3): (T, T, T, T) = (0, 0, 0, 0)
                var p = 0
                while p < wide {
                    s0 += ai[p] * bj[p]
                    s1 += ai[p + 1] * bj[p + 1]
                    s2 += ai[p + 2] * bj[p + 2]
                    s3 += ai[p + 3] * bj[p + 3]
                    p += 4
                }
                var s = (s0 + s1) + (s2 + s3)
                while p < k { s += ai[p] * bj[p]; p += 1 }
                c[i * n + j] = s
            }
        }
    } else {
        for i in 0..<m {
            for j in 0..<n {
                var s: T = 0
                for p in 0..<k { s += a[i * ars + p * acs] * b[p * brs + j * bcs] }
                c[i * n + j] = s
            }
        }
    }
}

/// Storage offsets of every matrix in a batch, in row-major batch order, for
/// operands whose batch dimensions have the given shape and strides.
private func batchOffsets(_ shape: [Int], _ strides: [Int]) -> [Int] {
    var offsets = [0]
    for (size, step) in zip(shape, strides) {
        var next: [Int] = []
        next.reserveCapacity(offsets.count * size)
        for o in offsets { for i in 0..<size { next.append(o + i * step) } }
        offsets = next
    }
    return offsets
}

extension Tensor {
    /// Matrix product with PyTorch's `matmul` rules: 1-D operands are vectors,
    /// leading (batch) dimensions broadcast. Runs on BLAS gemm; transposed
    /// views are passed to BLAS as such, without copying.
    ///
    /// ```swift
    /// try x.matmul(w)   // [batch, pos, dModel] · [dModel, dMLP] → [batch, pos, dMLP]
    /// ```
    ///
    /// `scale` multiplies the product as BLAS writes it (its alpha): the
    /// numbers of `matmul` then `scaled(scale)` without the second pass.
    public func matmul(_ other: Tensor, scale: Double = 1) throws -> Tensor {
        let (a0, b0) = try Tensor.promoted(self, other, op: "matmul")
        guard a0.rank >= 1 && b0.rank >= 1 else {
            throw EngineError.shape("matmul", "needs tensors of rank 1 or more, got \(formatShape(a0.shape)) and \(formatShape(b0.shape))")
        }
        let a = a0.rank == 1 ? try a0.unsqueezed(0) : a0
        let b = b0.rank == 1 ? try b0.unsqueezed(-1) : b0
        var out = try Tensor.matmulMatrices(a, b, scale: scale)
        if a0.rank == 1 { out = try out.squeezed(-2) }
        if b0.rank == 1 { out = try out.squeezed(-1) }
        return out
    }

    /// `matmul` for operands of rank ≥ 2.
    private static func matmulMatrices(_ a: Tensor, _ b: Tensor, scale: Double) throws -> Tensor {
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1]
        let k2 = b.shape[b.rank - 2], n = b.shape[b.rank - 1]
        guard k == k2 else {
            throw EngineError.shape("matmul", "inner dimensions differ: \(formatShape(a.shape)) · \(formatShape(b.shape)) (\(k) vs \(k2))")
        }
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        let batch = try broadcastShapes(batchA, batchB, op: "matmul")
        let out = try Tensor(uninitializedShape: batch + [m, n], dtype: a.dtype, op: "matmul")
        if a.dtype == .float32 { try gemmBatched(Float.self, a, b, out, m: m, n: n, k: k, alpha: Float(scale)) }
        else { try gemmBatched(Double.self, a, b, out, m: m, n: n, k: k, alpha: scale) }

        return out.recording("matmul", [a, b]) { g in
            var ga: Tensor? = nil, gb: Tensor? = nil
            if a.requiresGrad {
                ga = try g.matmul(b.transposed(), scale: scale).summed(toShape: a.shape)        // [..., m, k]
            }
            if b.requiresGrad {
                if b.rank == 2 && a.rank > 2 {
                    // Fold the batch into the rows: one gemm instead of a batch and a sum.
                    let rowsA = try a.reshaped([-1, k]), rowsG = try g.reshaped([-1, n])
                    gb = try rowsA.transposed().matmul(rowsG, scale: scale)                   // [k, n]
                } else {
                    gb = try a.transposed().matmul(g, scale: scale).summed(toShape: b.shape)  // [..., k, n]
                }
            }
            return [ga, gb]
        }
    }

    private static func gemmBatched<T: FloatElement>(_: T.Type, _ a: Tensor, _ b: Tensor, _ out: Tensor,
                                                     m: Int, n: Int, k: Int, alpha: T) throws {
        let po = out.pointer(T.self)
        if m == 0 || n == 0 { return }
        if k == 0 {
            for i in 0..<out.count { po[i] = 0 }
            return
        }
        // [..., m, k] · [k, n] with a's rows evenly spaced: one gemm over all rows.
        if b.rank == 2 && a.rank > 2 && a.isContiguous {
            let rows = a.count / k
            let lb = try operandLayout(b, T.self)
            T.gemm(transA: false, transB: lb.trans, m: rows, n: n, k: k, alpha: alpha, a: a.pointer(T.self), lda: k,
                   b: lb.tensor.pointer(T.self), ldb: lb.ld, beta: 0, c: po, ldc: n)
            return
        }
        let batch = Array(out.shape.dropLast(2))
        // Copy an operand BLAS cannot read before broadcasting it, so a copy
        // costs the operand, never its broadcast (which can be far larger
        // than the result when k is large). The broadcast views are read one
        // matrix at a time and never copied whole, so they skip the size check.
        let ra = try operandLayout(a.detached(), T.self).tensor, rb = try operandLayout(b.detached(), T.self).tensor
        let ea = ra.broadcastView(to: batch + [m, k]), eb = rb.broadcastView(to: batch + [k, n])
        let la = try operandLayout(ea, T.self), lb = try operandLayout(eb, T.self)
        let sa = Array(la.tensor.strides.dropLast(2)), sb = Array(lb.tensor.strides.dropLast(2))
        let pa = la.tensor.pointer(T.self), pb = lb.tensor.pointer(T.self)
        let (mn, mnOverflow) = m.multipliedReportingOverflow(by: n)
        let (mnk, mnkOverflow) = mn.multipliedReportingOverflow(by: k)
        let small = !mnOverflow && !mnkOverflow && mnk <= smallProductLimit
        let (ars, acs) = (la.tensor.strides[la.tensor.rank - 2], la.tensor.strides[la.tensor.rank - 1])
        let (brs, bcs) = (lb.tensor.strides[lb.tensor.rank - 2], lb.tensor.strides[lb.tensor.rank - 1])
        let offsetsA = batchOffsets(batch, sa), offsetsB = batchOffsets(batch, sb)
        let step = m * n
        // The matrices of a batch at least as large as the engine's threads are
        // shared among them, one single-threaded gemm each; fewer matrices
        // take turns, each gemm on every thread.
        let count = offsetsA.count
        let perGemm = count >= BLASThreads.current ? 1 : BLASThreads.current
        Parallel.forRanges(count, workPerItem: perGemm > 1 ? 0 : (small ? mnk : 1 << 16)) { range in
            for index in range {
                let qa = pa + offsetsA[index], qb = pb + offsetsB[index], qc = po + index * step
                if small {
                    smallGemm(qa, ars, acs, qb, brs, bcs, qc, m: m, n: n, k: k)
                    if alpha != 1 { for i in 0..<step { qc[i] *= alpha } }
                } else {
                    T.gemm(transA: la.trans, transB: lb.trans, m: m, n: n, k: k, alpha: alpha, a: qa, lda: la.ld,
                           b: qb, ldb: lb.ld, beta: 0, c: qc, ldc: n, threads: perGemm)
                }
            }
        }
    }

    /// The operand as BLAS can read it, copying only when its last two
    /// dimensions are neither row- nor column-major.
    private static func operandLayout<T>(_ t: Tensor, _: T.Type) throws -> (tensor: Tensor, trans: Bool, ld: Int) {
        let r = t.rank
        let rows = t.shape[r - 2], cols = t.shape[r - 1]
        if let layout = blasLayout(rows: rows, cols: cols, rowStride: t.strides[r - 2], colStride: t.strides[r - 1]) {
            return (t, layout.trans, layout.ld)
        }
        // Copy only the matrices, keeping broadcast (stride 0) batch dimensions cheap.
        let dense = t.copied()
        return (dense, false, Swift.max(cols, 1))
    }

    /// `x · weight + bias` over the last axis: [..., in] · [in, out] + [out] →
    /// [..., out]. Same numbers as `matmul` then `+`, but BLAS adds the bias
    /// while it multiplies, saving a pass over the output.
    ///
    /// ```swift
    /// try x.linear(wIn, bias: bIn)   // [batch, pos, d_model] → [batch, pos, d_mlp]
    /// ```
    public func linear(_ weight: Tensor, bias: Tensor? = nil) throws -> Tensor {
        let (x0, w) = try Tensor.promoted(self, weight, op: "linear")
        guard w.rank == 2, x0.rank >= 1, x0.shape[x0.rank - 1] == w.shape[0] else {
            throw EngineError.shape("linear", "cannot apply a \(formatShape(weight.shape)) weight to \(formatShape(shape)); the last dimension must equal the weight's first")
        }
        let (inputs, outputs) = (w.shape[0], w.shape[1])
        var b: Tensor? = nil
        if let bias {
            guard bias.shape == [outputs] else {
                throw EngineError.shape("linear", "bias \(formatShape(bias.shape)) does not match \(outputs) outputs")
            }
            b = try bias.cast(to: w.dtype)
        }
        let x = try x0.reshaped([-1, inputs])                                            // [rows, in]
        let rows = x.shape[0]
        let out = try Tensor(uninitializedShape: [rows, outputs], dtype: w.dtype, op: "linear")   // [rows, out]
        if w.dtype == .float32 { try Tensor.gemmWithBias(Float.self, x, w, b, out) } else { try Tensor.gemmWithBias(Double.self, x, w, b, out) }
        let recorded = out.recording("linear", [x, w] + (b.map { [$0] } ?? [])) { g in
            [x.requiresGrad ? try g.matmul(w.transposed()) : nil,                         // [rows, in]
             w.requiresGrad ? try x.transposed().matmul(g) : nil,                         // [in, out]
             b?.requiresGrad == true ? try g.sum(axes: [0]) : nil]                        // [out]
        }
        return try recorded.reshaped(Array(x0.shape.dropLast()) + [outputs])
    }

    private static func gemmWithBias<T: FloatElement>(_: T.Type, _ x: Tensor, _ w: Tensor, _ bias: Tensor?, _ out: Tensor) throws {
        let (rows, inputs, outputs) = (x.shape[0], w.shape[0], w.shape[1])
        let po = out.pointer(T.self)
        if let bias {
            let pb = bias.contiguousData().pointer(T.self)
            Parallel.forRanges(rows, workPerItem: outputs) { range in
                for r in range { (po + r * outputs).update(from: pb, count: outputs) }
            }
        }
        guard rows > 0, outputs > 0 else { return }
        if inputs == 0 {
            if bias == nil { po.update(repeating: 0, count: rows * outputs) }
            return
        }
        let lx = try operandLayout(x, T.self), lw = try operandLayout(w, T.self)
        T.gemm(transA: lx.trans, transB: lw.trans, m: rows, n: outputs, k: inputs, alpha: 1,
               a: lx.tensor.pointer(T.self), lda: lx.ld, b: lw.tensor.pointer(T.self), ldb: lw.ld,
               beta: bias == nil ? 0 : 1, c: po, ldc: outputs)
    }

    /// Outer product of two vectors: `[m] ⊗ [n] → [m, n]`.
    public func outer(_ other: Tensor) throws -> Tensor {
        guard rank == 1 && other.rank == 1 else {
            throw EngineError.shape("outer", "needs two vectors, got \(formatShape(shape)) and \(formatShape(other.shape))")
        }
        // Checked here too, so an oversized result is reported as outer's, not as the product's.
        _ = try Tensor.checkedCount([count, other.count], dtype: dtype == .float64 ? dtype : other.dtype, op: "outer")
        return try unsqueezed(1) * other.unsqueezed(0)
    }
}

/// Examples of a [batch, pos, …] batch whose first positions repeat: in a
/// causal model with nothing changed by hooks, everything at position 0
/// depends only on the first token, so examples that share it share their
/// position-0 rows in every layer. `group[b]` is example b's group and
/// `representatives[g]` one example of group g.
public struct SharedFirstPosition: Sendable {
    public let positions: Int
    public let group: [Int]
    public let representatives: [Int]

    /// From first tokens [batch]; nil when fewer than four examples share
    /// each distinct first token on average (then the saving is too small
    /// to pay for the copies) or when there is only one position.
    public init?(firstTokens: [Int], positions: Int) {
        guard positions >= 2, !firstTokens.isEmpty else { return nil }
        var index: [Int: Int] = [:]
        var group = [Int](repeating: 0, count: firstTokens.count), representatives: [Int] = []
        for (b, token) in firstTokens.enumerated() {
            if let g = index[token] {
                group[b] = g
            } else {
                index[token] = representatives.count
                group[b] = representatives.count
                representatives.append(b)
            }
        }
        guard representatives.count * 4 <= firstTokens.count else { return nil }
        (self.positions, self.group, self.representatives) = (positions, group, representatives)
    }
}

extension Tensor {
    /// `linear` on a [batch, pos, in] input whose position-0 rows repeat as
    /// `shared` says: positions 1… by one strided gemm each, position 0
    /// once per group and copied to its examples — the same numbers with
    /// 1/pos fewer multiply-adds. Falls back to `linear` when the input is
    /// not [batch, shared.positions, in] float32, or when gradients are
    /// recorded (this result is not).
    public func linear(_ weight: Tensor, bias: Tensor?, shared: SharedFirstPosition?) throws -> Tensor {
        guard let shared, !GradMode.isEnabled, rank == 3, shape[1] == shared.positions, shape[0] == shared.group.count,
              dtype == .float32, weight.dtype == .float32, weight.rank == 2, weight.shape[0] == shape[2],
              bias == nil || (bias?.dtype == .float32 && bias?.shape == [weight.shape[1]]) else {
            return try linear(weight, bias: bias)
        }
        let (b, p, inputs, outputs) = (shape[0], shape[1], shape[2], weight.shape[1])
        guard inputs > 0, outputs > 0 else { return try linear(weight, bias: bias) }
        let x = contiguousData(), w = weight.contiguousData(), bc = bias?.contiguousData()
        let out = try Tensor(uninitializedShape: [b, p, outputs], dtype: .float32, op: "linear")
        let firsts = try x.indexSelect(axis: 0, indices: Tensor(ints: shared.representatives, shape: [shared.representatives.count]))
            .select(axis: 1, index: 0).linear(w, bias: bc)                                               // [groups, out]
        let px = x.pointer(Float.self), pw = w.pointer(Float.self), po = out.pointer(Float.self)
        let pf = firsts.contiguousData().pointer(Float.self), pb = bc?.pointer(Float.self)
        // Position 0 from its group's row; the bias into positions 1… for the gemms to add to.
        shared.group.withUnsafeBufferPointer { group in
            Parallel.forRanges(b, workPerItem: p * outputs) { examples in
                for e in examples {
                    (po + e * p * outputs).update(from: pf + group[e] * outputs, count: outputs)
                    if let pb { for q in 1..<p { (po + (e * p + q) * outputs).update(from: pb, count: outputs) } }
                }
            }
        }
        for q in 1..<p {
            Float.gemm(transA: false, transB: false, m: b, n: outputs, k: inputs, alpha: 1, a: px + q * inputs, lda: p * inputs,
                       b: pw, ldb: outputs, beta: pb == nil ? 0 : 1, c: po + q * outputs, ldc: p * outputs)
        }
        return out
    }
}
