// Operations sparse autoencoders need: a per-row top-k mask, and the
// JumpReLU and Heaviside step of a learned threshold with straight-through
// gradients (Rajamanoharan et al. 2024, "Jumping Ahead"): the threshold's
// gradient comes from a rectangle kernel of width `bandwidth` around it.

extension Tensor {
    /// A float32 mask [rows, n] of a float32 [rows, n] tensor: 1 at each
    /// row's `k` largest values (the earlier index first among ties), 0
    /// elsewhere. Records no gradient (multiply by it to keep the values).
    public func topKMask(k: Int) throws -> Tensor {
        guard dtype == .float32, rank == 2 else {
            throw EngineError(.dtype, "topKMask needs a float32 [rows, n] tensor, got \(dtype.shortName) \(formatShape(shape))")
        }
        let rows = shape[0], n = shape[1]
        guard k >= 0, k <= n else { throw EngineError(.argument, "topKMask: k must be 0 to \(n), got \(k)") }
        let x = contiguousData()
        let out = try Tensor(zerosShape: shape, dtype: .float32, op: "topKMask")
        let source = x.pointer(Float.self), mask = out.pointer(Float.self)
        var chosen = [Int](repeating: 0, count: k)
        for r in 0..<rows where k > 0 {
            let row = source + r * n
            // A small sorted list of the k best so far (k is small against n in a TopK SAE).
            var count = 0
            for i in 0..<n {
                let v = row[i]
                if count == k && !(v > row[chosen[k - 1]]) { continue }
                var at = Swift.min(count, k - 1)
                while at > 0 && v > row[chosen[at - 1]] {
                    chosen[at] = chosen[at - 1]
                    at -= 1
                }
                chosen[at] = i
                if count < k { count += 1 }
            }
            for j in 0..<count { mask[r * n + chosen[j]] = 1 }
        }
        return out
    }

    /// JumpReLU: `x · H(x − θ)` of x [rows, n] with a threshold θ [n]. The
    /// gradient to x is `H(x − θ)`; to θ it is `−(θ/ε)·K((x − θ)/ε)`, K the
    /// rectangle of width 1 around 0 and ε the bandwidth.
    public func jumpReLU(threshold: Tensor, bandwidth: Double) throws -> Tensor {
        let (x, theta, rows, n) = try thresholdOperands(threshold, bandwidth: bandwidth, op: "jumpReLU")
        let out = try Tensor(uninitializedShape: shape, dtype: .float32, op: "jumpReLU")
        let xs = x.pointer(Float.self), ts = theta.pointer(Float.self), ys = out.pointer(Float.self)
        for r in 0..<rows { for j in 0..<n { ys[r * n + j] = xs[r * n + j] > ts[j] ? xs[r * n + j] : 0 } }
        return out.recording("jumpReLU", [self, threshold]) { g in
            try Tensor.thresholdGradients(g, x, theta, rows: rows, n: n, bandwidth: bandwidth, scaledByThreshold: true, passesX: true)
        }
    }

    /// The Heaviside step `H(x − θ)` of x [rows, n] with a threshold θ [n]
    /// (an L0 count when summed). No gradient to x; to θ, `−(1/ε)·K((x − θ)/ε)`.
    public func heaviside(threshold: Tensor, bandwidth: Double) throws -> Tensor {
        let (x, theta, rows, n) = try thresholdOperands(threshold, bandwidth: bandwidth, op: "heaviside")
        let out = try Tensor(uninitializedShape: shape, dtype: .float32, op: "heaviside")
        let xs = x.pointer(Float.self), ts = theta.pointer(Float.self), ys = out.pointer(Float.self)
        for r in 0..<rows { for j in 0..<n { ys[r * n + j] = xs[r * n + j] > ts[j] ? 1 : 0 } }
        return out.recording("heaviside", [self, threshold]) { g in
            try Tensor.thresholdGradients(g, x, theta, rows: rows, n: n, bandwidth: bandwidth, scaledByThreshold: false, passesX: false)
        }
    }

    /// Checked, contiguous operands of a thresholded op: x [rows, n] and θ [n], float32.
    private func thresholdOperands(_ threshold: Tensor, bandwidth: Double, op: String) throws -> (Tensor, Tensor, Int, Int) {
        guard dtype == .float32, threshold.dtype == .float32, rank == 2, threshold.shape == [shape[1]] else {
            throw EngineError(.shape, "\(op) needs float32 x [rows, n] and threshold [n], got \(formatShape(shape)) and \(formatShape(threshold.shape))")
        }
        guard bandwidth > 0, bandwidth.isFinite else { throw EngineError(.argument, "\(op): the bandwidth must be positive, got \(bandwidth)") }
        return (contiguousData(), threshold.contiguousData(), shape[0], shape[1])
    }

    /// The gradients of a thresholded op: to x (`g·H(x − θ)` when it passes x
    /// through, none otherwise) and to θ, summed over rows.
    private static func thresholdGradients(_ g: Tensor, _ x: Tensor, _ theta: Tensor, rows: Int, n: Int, bandwidth: Double,
                                           scaledByThreshold: Bool, passesX: Bool) throws -> [Tensor?] {
        let grad = try g.contiguousData().cast(to: .float32).contiguousData()
        let gs = grad.pointer(Float.self), xs = x.pointer(Float.self), ts = theta.pointer(Float.self)
        let eps = Float(bandwidth)
        var thetaGrad = [Double](repeating: 0, count: n)
        var xGrad: Tensor? = nil
        if passesX {
            let out = try Tensor(uninitializedShape: [rows, n], dtype: .float32, op: "threshold grad")
            let os = out.pointer(Float.self)
            for r in 0..<rows { for j in 0..<n { os[r * n + j] = xs[r * n + j] > ts[j] ? gs[r * n + j] : 0 } }
            xGrad = out
        }
        for r in 0..<rows {
            for j in 0..<n {
                let u = (xs[r * n + j] - ts[j]) / eps
                guard u > -0.5 && u < 0.5 else { continue }
                let scale = scaledByThreshold ? ts[j] / eps : 1 / eps
                thetaGrad[j] -= Double(scale * gs[r * n + j])
            }
        }
        return [xGrad, try Tensor(thetaGrad.map(Float.init), shape: [n])]
    }
}
