extension Tensor {
    /// LayerNorm over the last axis in one pass per row, for forward passes
    /// that record no gradients: `(x − mean) / √(var + eps) · weight + bias`
    /// with the biased variance (as PyTorch's `layer_norm`). Row means and
    /// variances are summed in Float64. The same numbers as the composed
    /// operations to float32 rounding, without their five intermediate
    /// tensors. Float32 or float64; rows are shared among the engine's threads.
    public func layerNormalized(weight: Tensor?, bias: Tensor?, eps: Double) throws -> Tensor {
        let n = try checkLayerNormed(weight: weight, bias: bias)
        let x = contiguousData()
        let out = try Tensor(uninitializedShape: shape, dtype: dtype, op: "layer norm")
        if dtype == .float32 {
            let w = try weight.map { try $0.cast(to: .float32).contiguousData() }, b = try bias.map { try $0.cast(to: .float32).contiguousData() }
            let px = x.pointer(Float.self), po = out.pointer(Float.self)
            let pw = w.map { UnsafePointer($0.pointer(Float.self)) }, pb = b.map { UnsafePointer($0.pointer(Float.self)) }
            Parallel.forRanges(count / n, workPerItem: 4 * n) { rows in
                for r in rows { layerNormRowFloat(px + r * n, po + r * n, n, weight: pw, bias: pb, eps: eps) }
            }
            return out
        }
        // Float64 (float32 above).
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
        try run(Double.self)
        return out
    }

    /// The last axis's length, after checking that it is not empty and that
    /// `weight` and `bias` match it.
    private func checkLayerNormed(weight: Tensor?, bias: Tensor?) throws -> Int {
        try requireFloat("layer norm")
        guard rank >= 1, let n = shape.last, n > 0 else {
            throw EngineError.shape("layer norm", "needs a tensor with a non-empty last axis, got \(formatShape(shape))")
        }
        for (name, p) in [("weight", weight), ("bias", bias)] {
            if let p, p.shape != [n] {
                throw EngineError.shape("layer norm", "\(name) \(formatShape(p.shape)) does not match the last axis of \(formatShape(shape))")
            }
        }
        return n
    }

    /// A residual sum and the LayerNorm after it, as a post-LayerNorm block
    /// (BERT) has them: `s = self + (other + bias)` (the order of a sum with a
    /// biased linear layer's output) and `s.layerNormalized(weight:bias:eps:)`,
    /// with `s` itself when `keepSum`. For float32 without gradients one pass
    /// per row, the sum never leaving the cache unless kept; otherwise the
    /// separate operations (recorded for gradients when an input requires
    /// them). `bias` [last] is optional.
    public func sumLayerNormalized(_ other: Tensor, bias: Tensor?, weight: Tensor?, normBias: Tensor?, eps: Double,
                                   keepSum: Bool) throws -> (sum: Tensor?, normalized: Tensor) {
        guard other.shape == shape else {
            throw EngineError.shape("layer norm", "cannot add \(formatShape(other.shape)) to \(formatShape(shape)) before normalising")
        }
        let n = try checkLayerNormed(weight: weight, bias: normBias)
        if let bias, bias.shape != [n] {
            throw EngineError.shape("layer norm", "bias \(formatShape(bias.shape)) of the sum does not match the last axis of \(formatShape(shape))")
        }
        let parameters = [bias, weight, normBias].compactMap { $0 }
        let recorded = GradMode.isEnabled && ([self, other] + parameters).contains(where: \.requiresGrad)
        guard !recorded, dtype == .float32, other.dtype == .float32, parameters.allSatisfy({ $0.dtype == .float32 }) else {
            let sum = try self + (bias.map { try other + $0 } ?? other)
            let normalized = try recorded ? sum.layerNorm(weight: weight, bias: normBias, eps: eps)
                                          : sum.layerNormalized(weight: weight, bias: normBias, eps: eps)
            return (keepSum ? sum : nil, normalized)
        }
        let (x, y) = (contiguousData(), other.contiguousData())
        let (b, w, nb) = (bias?.contiguousData(), weight?.contiguousData(), normBias?.contiguousData())
        let out = try Tensor(uninitializedShape: shape, dtype: .float32, op: "layer norm")
        let sum = keepSum ? try Tensor(uninitializedShape: shape, dtype: .float32, op: "layer norm") : nil
        withExtendedLifetime((x, y, b, w, nb)) {
            let (px, py, po, ps) = (UnsafePointer(x.pointer(Float.self)), UnsafePointer(y.pointer(Float.self)), out.pointer(Float.self),
                                    sum?.pointer(Float.self))
            let (pb, pw, pn) = (b.map { UnsafePointer($0.pointer(Float.self)) }, w.map { UnsafePointer($0.pointer(Float.self)) },
                                nb.map { UnsafePointer($0.pointer(Float.self)) })
            Parallel.forRanges(count / n, workPerItem: 6 * n) { rows in
                for r in rows {
                    let (xr, yr, or) = (px + r * n, py + r * n, po + r * n)
                    let sr = ps.map { $0 + r * n } ?? or                             // the sum, normalised in place when not kept
                    if let pb { for j in 0..<n { sr[j] = xr[j] + (yr[j] + pb[j]) } } else { for j in 0..<n { sr[j] = xr[j] + yr[j] } }
                    layerNormRowFloat(sr, or, n, weight: pw, bias: pn, eps: eps)
                }
            }
        }
        return (sum, out)
    }
}

/// One float32 row of `layerNormalized`: the mean and the variance summed in
/// Float64 eight lanes at a time, then `(x − mean) / scale · weight + bias`
/// sixteen floats at a time (each element the same float32 operations as
/// one by one).
@inline(__always)
private func layerNormRowFloat(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int,
                               weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?, eps: Double) {
    typealias F = SIMD16<Float>
    typealias D = SIMD8<Double>
    @inline(__always) func load8(_ p: UnsafePointer<Float>) -> D { D(UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)) }
    @inline(__always) func load16(_ p: UnsafePointer<Float>) -> F { UnsafeRawPointer(p).loadUnaligned(as: F.self) }
    let wide = n / 8 * 8
    var lanes = D()
    var j = 0
    while j < wide { lanes += load8(x + j); j += 8 }
    var sum = lanes.sum()
    while j < n { sum += Double(x[j]); j += 1 }
    let mean = sum / Double(n)
    let center = D(repeating: mean)
    lanes = D()
    j = 0
    while j < wide { let d = load8(x + j) - center; lanes += d * d; j += 8 }
    var squares = lanes.sum()
    while j < n { let d = Double(x[j]) - mean; squares += d * d; j += 1 }
    let m = Float(mean), scale = Float((squares / Double(n) + eps).squareRoot())
    let (mv, sv) = (F(repeating: m), F(repeating: scale))
    j = 0
    while j + 16 <= n {
        var v = (load16(x + j) - mv) / sv
        if let weight { v *= load16(weight + j) }
        if let bias { v += load16(bias + j) }
        UnsafeMutableRawPointer(y + j).storeBytes(of: v, as: F.self)
        j += 16
    }
    while j < n {
        var v = (x[j] - m) / scale
        if let weight { v *= weight[j] }
        if let bias { v += bias[j] }
        y[j] = v
        j += 1
    }
}
