/// Last-axis softmax of each row of a contiguous [rows, n] block.
private func softmaxRows<T: FloatElement>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, rows: Int, n: Int, log: Bool) {
    for r in 0..<rows {
        let xr = x + r * n, yr = y + r * n
        var peak = -T.infinity
        for i in 0..<n where xr[i] > peak { peak = xr[i] }
        if !peak.isFinite { peak = 0 }
        var total: T = 0
        for i in 0..<n {
            let e = T.exp(xr[i] - peak)
            yr[i] = e
            total += e
        }
        if log {
            let shift = peak + T.log(total)
            for i in 0..<n { yr[i] = xr[i] - shift }
        } else {
            let inv = 1 / total
            for i in 0..<n { yr[i] *= inv }
        }
    }
}

/// The constant √(2/π) in the tanh approximation of GELU.
private let geluTanhScale = (2 / Double.pi).squareRoot()

/// The tanh approximation of GELU of one float (`geluNew`'s float32 path).
@inline(__always)
private func geluNewFloat(_ x: Float) -> Float {
    0.5 * x * (1 + Float.tanh(Float(geluTanhScale) * (x + 0.044715 * x * x * x)))
}

/// An activation applied elementwise: the same numbers as `relu()`,
/// `gelu()` and `geluNew()` on float32, for kernels that apply it to a row
/// they have just computed (`mixHeads`).
public enum Pointwise: Sendable {
    case relu, gelu, geluNew

    /// The function of a tensor, as its own operation (recorded for gradients).
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        switch self {
        case .relu: return try x.relu()
        case .gelu: return try x.gelu()
        case .geluNew: return try x.geluNew()
        }
    }

    /// `f(x + bias)` with `bias` [last] added along the last axis (a biased
    /// linear layer's activation): for float32 without gradients one pass
    /// per row, each element the same numbers as the separate operations;
    /// otherwise those.
    public func callAsFunction(_ x: Tensor, bias: Tensor) throws -> Tensor {
        guard let n = x.shape.last, bias.shape == [n] else {
            throw EngineError.shape("activation", "bias \(formatShape(bias.shape)) does not match the last axis of \(formatShape(x.shape))")
        }
        let recorded = GradMode.isEnabled && (x.requiresGrad || bias.requiresGrad)
        guard !recorded, x.dtype == .float32, bias.dtype == .float32, n > 0 else { return try self(x + bias) }
        let (xc, bc) = (x.contiguousData(), bias.contiguousData())
        let out = try Tensor(uninitializedShape: x.shape, dtype: .float32, op: "activation")
        withExtendedLifetime((xc, bc)) {
            let (px, pb, po) = (UnsafePointer(xc.pointer(Float.self)), UnsafePointer(bc.pointer(Float.self)), out.pointer(Float.self))
            Parallel.forRanges(x.count / n, workPerItem: 8 * n) { rows in
                for r in rows {
                    let (xr, yr) = (px + r * n, po + r * n)
                    each(n, yr) { xr[$0] + pb[$0] }
                }
            }
        }
        return out
    }

    /// `y[i] = f(x[i])` for `n` floats, on the calling thread.
    @inline(__always)
    func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        each(n, y) { x[$0] }
    }

    /// `y[i] = f(input(i))` for `i` in `0..<n`, one loop the compiler vectorises.
    @inline(__always)
    private func each(_ n: Int, _ y: UnsafeMutablePointer<Float>, _ input: (Int) -> Float) {
        switch self {
        case .relu: for i in 0..<n { y[i] = ReluOp().apply(input(i)) }
        case .gelu:
            // Eight at a time, the last n mod 8 as the first lanes of a vector, so every value goes through the same lanes' arithmetic.
            typealias V = SIMD8<Float>
            @inline(__always) func gelu(_ v: V) -> V { v * V.fastNormalCDF(v) }
            var i = 0
            while i + 8 <= n {
                let v = V(input(i), input(i + 1), input(i + 2), input(i + 3), input(i + 4), input(i + 5), input(i + 6), input(i + 7))
                UnsafeMutableRawPointer(y + i).storeBytes(of: gelu(v), as: V.self)
                i += 8
            }
            if i < n {
                var v = V()
                for lane in 0..<(n - i) { v[lane] = input(i + lane) }
                let g = gelu(v)
                for lane in 0..<(n - i) { y[i + lane] = g[lane] }
            }
        case .geluNew: for i in 0..<n { y[i] = geluNewFloat(input(i)) }
        }
    }
}

extension Tensor {
    // MARK: - Pointwise activations

    /// `max(x, 0)`; the gradient at 0 is 0.
    public func relu() throws -> Tensor {
        let out = try mapUnary("relu", ReluOp())
        return out.recording("relu", [self]) { [unowned out] g in
            [try Tensor.mapBinary("relu grad", g, out, ReluGradOp())]
        }
    }

    /// Exact GELU, `x·Φ(x)` with the normal CDF (PyTorch's `gelu`, TransformerLens "gelu").
    public func gelu() throws -> Tensor {
        let out: Tensor
        if dtype == .float32 {
            let x = contiguousData()
            out = try Tensor(uninitializedShape: shape, dtype: dtype, op: "gelu")
            geluKernel(x.pointer(Float.self), out.pointer(Float.self), count: count)
        } else {
            out = try mapUnary("gelu", { 0.5 * $0 * (1 + Float.erf($0 * Float(0.5.squareRoot()))) },
                               { 0.5 * $0 * (1 + Double.erf($0 * 0.5.squareRoot())) })
        }
        return out.recording("gelu", [self]) { [self] g in
            let slope = try self.mapUnary("gelu grad", { x in
                let cdf = 0.5 * (1 + Float.erf(x * Float(0.5.squareRoot())))
                return cdf + x * Float.exp(-0.5 * x * x) / Float((2 * Double.pi).squareRoot())
            }, { x in
                let cdf = 0.5 * (1 + Double.erf(x * 0.5.squareRoot()))
                return cdf + x * Double.exp(-0.5 * x * x) / (2 * Double.pi).squareRoot()
            })
            return [try g * slope]
        }
    }

    /// The tanh approximation of GELU (TransformerLens "gelu_new", GPT-2):
    /// `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
    public func geluNew() throws -> Tensor {
        let c = geluTanhScale
        let out = try mapUnary("gelu_new", geluNewFloat,
                               { x in 0.5 * x * (1 + Double.tanh(c * (x + 0.044715 * x * x * x))) })
        return out.recording("gelu_new", [self]) { [self] g in
            let slope = try self.mapUnary("gelu_new grad", { x in
                let t = Float.tanh(Float(c) * (x + 0.044715 * x * x * x))
                return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * Float(c) * (1 + 3 * 0.044715 * x * x)
            }, { x in
                let t = Double.tanh(c * (x + 0.044715 * x * x * x))
                return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)
            })
            return [try g * slope]
        }
    }

    // MARK: - Softmax

    /// Softmax along `axis`, stable for large inputs (rows of -inf give NaN, as in PyTorch).
    public func softmax(axis: Int = -1) throws -> Tensor {
        try softmaxFamily(axis: axis, log: false)
    }

    /// Log-softmax along `axis`, computed without forming the softmax first.
    public func logSoftmax(axis: Int = -1) throws -> Tensor {
        try softmaxFamily(axis: axis, log: true)
    }

    private func softmaxFamily(axis: Int, log: Bool) throws -> Tensor {
        let op = log ? "log softmax" : "softmax"
        try requireFloat(op)
        if rank == 0 { return try softmaxFamilyLast(log: log, op: op) }
        let a = try self.axis(axis, op: op)
        if a == rank - 1 { return try softmaxFamilyLast(log: log, op: op) }
        var order = Array(0..<rank)
        order.swapAt(a, rank - 1)
        return try permuted(order).softmaxFamilyLast(log: log, op: op).permuted(order)
    }

    private func softmaxFamilyLast(log: Bool, op: String) throws -> Tensor {
        let n = rank == 0 ? 1 : shape[rank - 1]
        let rows = n == 0 ? 0 : count / n
        let x = contiguousData()
        let out = try Tensor(uninitializedShape: shape, dtype: dtype, op: op)
        if dtype == .float32 && !log {
            softmaxRowsFloat(x.pointer(Float.self), out.pointer(Float.self), rows: rows, n: n)
        } else if dtype == .float32 {
            softmaxRows(x.pointer(Float.self), out.pointer(Float.self), rows: rows, n: n, log: log)
        } else {
            softmaxRows(x.pointer(Double.self), out.pointer(Double.self), rows: rows, n: n, log: log)
        }
        return out.recording(op, [self]) { [unowned out] g in
            if log {
                // d/dx log_softmax: g - softmax · Σg
                return [try g - out.exp() * g.sum(axes: [-1], keepDims: true)]
            }
            // d/dx softmax: y · (g - Σ g·y)
            return [try out * (g - (g * out).sum(axes: [-1], keepDims: true))]
        }
    }

    // MARK: - Layer norm

    /// Layer normalisation over the last axis as TransformerLens computes it:
    /// `(x - mean) / sqrt(mean((x - mean)²) + eps) · weight + bias`
    /// (`weight` and `bias` of shape [last] are optional, for LNPre).
    public func layerNorm(weight: Tensor? = nil, bias: Tensor? = nil, eps: Double = 1e-5) throws -> Tensor {
        try requireFloat("layer norm")
        guard rank >= 1 else { throw EngineError.shape("layer norm", "needs at least one dimension") }
        let d = shape[rank - 1]
        for (name, p) in [("weight", weight), ("bias", bias)] {
            if let p, p.shape != [d] {
                throw EngineError.shape("layer norm", "\(name) has shape \(formatShape(p.shape)), expected [\(d)] for input \(formatShape(shape))")
            }
        }
        let centered = try self - mean(axes: [-1], keepDims: true)
        let scale = try (centered.square().mean(axes: [-1], keepDims: true) + eps).sqrt()   // [..., 1]
        var out = try centered / scale
        if let weight { out = try out * weight }
        if let bias { out = try out + bias }
        return out
    }
}
