/// The log-sum-exp of each row of a contiguous [rows, n] block, in Float64
/// whatever the element type: `max + log Σ e^(x - max)`. The exponentials
/// are computed vectorised into `exps` (row r at r·n when `keepsRows`, else
/// every row reuses the first n) and summed in Float64 with eight partial
/// sums; `totals` gets each row's sum of e^(x - max). For float32 logits
/// each exponential is float32's (`Float.fastExp` of the difference
/// rounded to float32: relative error about 6e-8·|x - max|, so ~1e-6 for
/// the terms that matter, far inside what float32 logits carry), four
/// lanes at a time; Float64 logits use `Double.fastExp`. A row holding NaN
/// or +inf, or only -inf, gives NaN (as PyTorch's log-softmax then does).
private func logSumExpRows<T: FloatElement>(_ x: UnsafePointer<T>, rows: Int, n: Int, exps: UnsafeMutablePointer<Double>, keepsRows: Bool,
                                            lse: UnsafeMutablePointer<Double>, totals: UnsafeMutablePointer<Double>) {
    let wide = n / 8 * 8
    for row in 0..<rows {
        let xr = x + row * n, er = exps + (keepsRows ? row * n : 0)
        var peak = -Double.infinity
        if T.self == Float.self {
            // float32: the maximum with eight lanes (a NaN is ignored here but
            // reaches the sum through its exponential, so the row gives NaN).
            let xf = UnsafeRawPointer(xr).assumingMemoryBound(to: Float.self)
            var lanes = SIMD8<Float>(repeating: -.infinity)
            var i = 0
            while i < wide {
                lanes = pointwiseMax(lanes, UnsafeRawPointer(xf + i).loadUnaligned(as: SIMD8<Float>.self))
                i += 8
            }
            var top = lanes.max()
            for j in wide..<n where xf[j] > top { top = xf[j] }
            guard top.isFinite else { lse[row] = .nan; totals[row] = .nan; continue }
            peak = Double(top)
            for j in 0..<n { er[j] = Double(Float.fastExpNonPositive(xf[j] - top)) }
        } else {
            var sawNaN = false
            for j in 0..<n {
                let v = Double(xr[j])
                if v > peak { peak = v }
                if v != v { sawNaN = true }
            }
            guard !sawNaN, peak.isFinite else { lse[row] = .nan; totals[row] = .nan; continue }
            for j in 0..<n { er[j] = Double.fastExp(Double(xr[j]) - peak) }
        }
        var sums = SIMD8<Double>()
        var i = 0
        while i < wide {
            sums += UnsafeRawPointer(er + i).loadUnaligned(as: SIMD8<Double>.self)
            i += 8
        }
        var total = sums.sum()
        for j in wide..<n { total += er[j] }
        totals[row] = total
        lse[row] = peak + Double.log(total)
    }
}

extension Tensor {
    /// Mean cross-entropy of the rows of logits [rows, classes] against one
    /// label per row, computed in Float64 (as `-mean(log_softmax(x.double())[label])`,
    /// the TransformerLens grokking demo's loss) in one fused pass: the
    /// result is a Float64 scalar. Differentiable: the gradient,
    /// `(softmax(x) - onehot(label)) / rows`, is formed in Float64 from the
    /// exponentials the forward pass kept and returned in the logits'
    /// dtype, without any [rows, classes] Float64 tensor in between.
    ///
    /// Throws for logits that are not a float matrix, or labels that are
    /// not one per row within `0..<classes`.
    public func crossEntropy(labels: [Int]) throws -> Tensor {
        try requireFloat("cross entropy")
        guard rank == 2 else {
            throw EngineError.shape("cross entropy", "logits must be [rows, classes], got \(formatShape(shape))")
        }
        let (rows, n) = (shape[0], shape[1])
        guard labels.count == rows else {
            throw EngineError.shape("cross entropy", "\(labels.count) labels for \(rows) rows of logits")
        }
        if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= n }) {
            throw EngineError.index("cross entropy", "label \(labels[bad]) at row \(bad) is outside 0..<\(n)")
        }
        let x = contiguousData()
        // Every row's exponentials are kept for the backward pass when it
        // will run (in Float64, so that p - 1 keeps its digits at p ≈ 1).
        let keepsRows = GradMode.isEnabled && requiresGrad
        let exps = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(keepsRows ? rows * n : n, 1))
        let rowSums = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(2 * rows, 1))   // log-sum-exps, then sums
        var loss = 0.0
        func forward<T: FloatElement>(_: T.Type) {
            let px = x.pointer(T.self)
            logSumExpRows(px, rows: rows, n: n, exps: exps, keepsRows: keepsRows, lse: rowSums, totals: rowSums + rows)
            for r in 0..<rows { loss += rowSums[r] - Double(px[r * n + labels[r]]) }
        }
        if dtype == .float32 { forward(Float.self) } else { forward(Double.self) }
        let out = try Tensor(float64: [rows == 0 ? .nan : loss / Double(rows)], shape: [])
        guard keepsRows else {
            exps.deallocate()
            rowSums.deallocate()
            return out
        }
        let kept = KeptRows(exps: exps, rowSums: rowSums)
        let dtype = self.dtype
        return out.recording("cross entropy", [self]) { g in
            let scale = try g.item() / Double(rows)
            let grad = try Tensor(uninitializedShape: [rows, n], dtype: dtype, op: "cross entropy")
            func backward<T: FloatElement>(_: T.Type) {
                let pg = grad.pointer(T.self), totals = kept.rowSums + rows
                for r in 0..<rows {
                    let er = kept.exps + r * n, gr = pg + r * n, factor = scale / totals[r]
                    for j in 0..<n { gr[j] = T(factor * er[j]) }
                    gr[labels[r]] = T(scale * (er[labels[r]] / totals[r] - 1))
                }
            }
            if dtype == .float32 { backward(Float.self) } else { backward(Double.self) }
            return [grad]
        }
    }
}

/// Buffers the backward pass of `crossEntropy` reads, freed with it.
private final class KeptRows {
    let exps: UnsafeMutablePointer<Double>
    let rowSums: UnsafeMutablePointer<Double>

    init(exps: UnsafeMutablePointer<Double>, rowSums: UnsafeMutablePointer<Double>) {
        self.exps = exps
        self.rowSums = rowSums
    }

    deinit {
        exps.deallocate()
        rowSums.deallocate()
    }
}
