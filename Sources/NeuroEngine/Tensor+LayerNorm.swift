extension Tensor {
    /// LayerNorm over the last axis in one pass per row, for forward passes
    /// that record no gradients: `(x − mean) / √(var + eps) · weight + bias`
    /// with the biased variance (as PyTorch's `layer_norm`). Row means and
    /// variances are summed in Float64. The same numbers as the composed
    /// operations to float32 rounding, without their five intermediate
    /// tensors. Float32 or float64; rows are shared among the engine's threads.
    public func layerNormalized(weight: Tensor?, bias: Tensor?, eps: Double) throws -> Tensor {
        try requireFloat("layer norm")
        guard rank >= 1, let n = shape.last, n > 0 else {
            throw EngineError.shape("layer norm", "needs a tensor with a non-empty last axis, got \(formatShape(shape))")
        }
        for (name, p) in [("weight", weight), ("bias", bias)] {
            if let p, p.shape != [n] {
                throw EngineError.shape("layer norm", "\(name) \(formatShape(p.shape)) does not match the last axis of \(formatShape(shape))")
            }
        }
        let x = contiguousData()
        let out = try Tensor(uninitializedShape: shape, dtype: dtype, op: "layer norm")
        func run<T: FloatElement>(_: T.Type) throws {
            let w = try weight.map { try $0.cast(to: dtype).contiguousData() }, b = try bias.map { try $0.cast(to: dtype).contiguousData() }
            let px = x.pointer(T.self), po = out.pointer(T.self)
            let pw = w?.pointer(T.self), pb = b?.pointer(T.self)
            Parallel.forRanges(count / n, workPerItem: 4 * n) { rows in
                for r in rows {
                    let xr = px + r * n, yr = po + r * n
                    var sum = 0.0
                    for j in 0..<n { sum += Double(xr[j]) }
                    let mean = sum / Double(n)
                    var squares = 0.0
                    for j in 0..<n { let d = Double(xr[j]) - mean; squares += d * d }
                    let m = T(mean), scale = T((squares / Double(n) + eps).squareRoot())
                    for j in 0..<n {
                        var y = (xr[j] - m) / scale
                        if let pw { y *= pw[j] }
                        if let pb { y += pb[j] }
                        yr[j] = y
                    }
                }
            }
        }
        if dtype == .float32 { try run(Float.self) } else { try run(Double.self) }
        return out
    }
}
