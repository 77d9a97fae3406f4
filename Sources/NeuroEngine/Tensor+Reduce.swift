// MARK: - Kernels

/// Sums a contiguous [outer, n, inner] block over its middle dimension.
/// Along the last axis (inner == 1) float32 accumulates in Double.
private func sumKernel<T: FloatElement>(_ x: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, outer: Int, n: Int, inner: Int) {
    if inner == 1 {
        for o in 0..<outer {
            let row = x + o * n
            var s = 0.0
            for i in 0..<n { s += Double(row[i]) }
            out[o] = T(s)
        }
        return
    }
    for o in 0..<outer {
        let dst = out + o * inner
        let src = x + o * n * inner
        for j in 0..<inner { dst[j] = 0 }
        for i in 0..<n {
            let row = src + i * inner
            for j in 0..<inner { dst[j] += row[j] }
        }
    }
}

/// Index of the extreme element along the middle dimension of [outer, n, inner]
/// (the first one on ties; NaN counts as the extreme, as in PyTorch).
private func argExtremeKernel<T: FloatElement>(_ x: UnsafePointer<T>, _ out: UnsafeMutablePointer<Int64>,
                                               outer: Int, n: Int, inner: Int, largest: Bool) {
    for o in 0..<outer {
        for j in 0..<inner {
            let base = x + o * n * inner + j
            var best = base[0], bestIndex = 0
            if !best.isNaN {
                for i in 1..<n {
                    let v = base[i * inner]
                    if v.isNaN { best = v; bestIndex = i; break }
                    if largest ? v > best : v < best { best = v; bestIndex = i }
                }
            }
            out[o * inner + j] = Int64(bestIndex)
        }
    }
}

extension Tensor {
    /// Splits the shape around `axis` into (outer, n, inner) sizes.
    func reductionGeometry(_ axis: Int) -> (outer: Int, n: Int, inner: Int) {
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        return (outer, shape[axis], inner)
    }

    private func reducedShape(_ axes: [Int], keepDims: Bool) -> [Int] {
        // A mask, not `axes.contains`, so this stays linear in the rank.
        var reduced = [Bool](repeating: false, count: rank)
        for a in axes { reduced[a] = true }
        var out: [Int] = []
        for (i, d) in shape.enumerated() {
            if reduced[i] { if keepDims { out.append(1) } } else { out.append(d) }
        }
        return out
    }

    private func resolveAxes(_ axes: [Int]?, op: String) throws -> [Int] {
        guard let axes else { return Array(0..<rank) }
        let resolved = try axes.map { try axis($0, op: op) }
        guard Set(resolved).count == resolved.count else {
            throw EngineError.argument(op, "axis listed twice in \(axes)")
        }
        // A scalar accepts axis 0 or -1, as in PyTorch, but has no dimension to reduce.
        if rank == 0 { return [] }
        return resolved.sorted()
    }

    // MARK: - Sum and mean

    /// Sum over `axes` (all when nil), keeping them as size 1 when `keepDims`.
    ///
    /// ```swift
    /// try x.sum(axes: [0])          // [2, 3] → [3]
    /// ```
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        try requireFloat("sum")
        let resolved = try resolveAxes(axes, op: "sum")
        if rank == 0 { return self }
        var current = contiguousData()
        // Summing over a dimension of size 1 changes nothing but the shape,
        // which the reshape below sets; skipping them keeps a sum over a
        // tensor of very high rank (mostly ones) linear instead of quadratic.
        for a in resolved.reversed() where current.shape[a] != 1 {
            let (outer, n, inner) = current.reductionGeometry(a)
            var outShape = current.shape
            outShape[a] = 1
            let out = try Tensor(uninitializedShape: outShape, dtype: dtype, op: "sum")
            if dtype == .float32 {
                sumKernel(current.pointer(Float.self), out.pointer(Float.self), outer: outer, n: n, inner: inner)
            } else {
                sumKernel(current.pointer(Double.self), out.pointer(Double.self), outer: outer, n: n, inner: inner)
            }
            current = out
        }
        let finalShape = reducedShape(resolved, keepDims: keepDims)
        let result = Tensor(storage: current.storage, shape: finalShape, strides: Tensor.contiguousStrides(finalShape),
                            offset: current.offset, dtype: dtype)
        let sourceShape = shape
        let keptShape = reducedShape(resolved, keepDims: true)
        return result.recording("sum", [self]) { g in
            [try g.reshaped(keptShape).expanded(to: sourceShape).contiguous()]
        }
    }

    /// Mean over `axes` (all when nil).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        let resolved = try resolveAxes(axes, op: "mean")
        let n = resolved.reduce(1) { $0 * shape[$1] }
        guard n > 0 else { throw EngineError.shape("mean", "cannot average over an empty dimension of \(formatShape(shape))") }
        return try sum(axes: resolved, keepDims: keepDims).scaled(1 / Double(n))
    }

    /// Variance over `axes` with `correction` subtracted from the count
    /// (1, PyTorch's default, gives the unbiased estimate; 0 the population variance).
    public func variance(axes: [Int]? = nil, correction: Int = 1, keepDims: Bool = false) throws -> Tensor {
        let resolved = try resolveAxes(axes, op: "variance")
        let n = resolved.reduce(1) { $0 * shape[$1] }
        guard n - correction > 0 else {
            throw EngineError.shape("variance", "needs more than \(correction) element(s) along the reduced axes of \(formatShape(shape))")
        }
        let centered = try self - mean(axes: resolved, keepDims: true)
        return try centered.square().sum(axes: resolved, keepDims: keepDims).scaled(1 / Double(n - correction))
    }

    /// Euclidean (L2) norm over `axes` (all when nil). The gradient at a zero
    /// vector is zero, as in PyTorch.
    public func norm(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        let resolved = try resolveAxes(axes, op: "norm")
        let squares = try GradMode.withNoGrad { try self.square().sum(axes: resolved, keepDims: true) }
        let kept = try squares.mapUnary("norm", { $0.squareRoot() }, { $0.squareRoot() })
        let finalShape = reducedShape(resolved, keepDims: keepDims)
        let result = try kept.reshaped(finalShape)
        return result.recording("norm", [self]) { [self] g in
            let safe = try kept.mapUnary("norm grad", { $0 == 0 ? 0 : 1 / $0 }, { $0 == 0 ? 0 : 1 / $0 })
            return [try self * (g.reshaped(kept.shape) * safe)]
        }
    }

    // MARK: - Max, min, arg

    /// Largest value along `axis`; the gradient goes to the first maximal element.
    public func max(axis: Int, keepDims: Bool = false) throws -> Tensor {
        try extreme(axis: axis, keepDims: keepDims, largest: true)
    }

    /// Smallest value along `axis`; the gradient goes to the first minimal element.
    public func min(axis: Int, keepDims: Bool = false) throws -> Tensor {
        try extreme(axis: axis, keepDims: keepDims, largest: false)
    }

    /// Largest value of all elements.
    public func max() throws -> Tensor { try flattened().max(axis: 0) }
    /// Smallest value of all elements.
    public func min() throws -> Tensor { try flattened().min(axis: 0) }

    /// Index (int64) of the largest element along `axis`, the first on ties.
    public func argmax(axis: Int, keepDims: Bool = false) throws -> Tensor {
        try argExtreme(axis: axis, keepDims: keepDims, largest: true)
    }

    /// Index (int64) of the smallest element along `axis`, the first on ties.
    public func argmin(axis: Int, keepDims: Bool = false) throws -> Tensor {
        try argExtreme(axis: axis, keepDims: keepDims, largest: false)
    }

    private func argExtreme(axis: Int, keepDims: Bool, largest: Bool) throws -> Tensor {
        let op = largest ? "argmax" : "argmin"
        try requireFloat(op)
        if rank == 0 { return Tensor(scalar: 0, dtype: .int64) }
        let a = try self.axis(axis, op: op)
        let (outer, n, inner) = reductionGeometry(a)
        guard n > 0 else { throw EngineError.shape(op, "axis \(axis) of \(formatShape(shape)) is empty") }
        let x = contiguousData()
        let out = try Tensor(uninitializedShape: reducedShape([a], keepDims: keepDims), dtype: .int64, op: op)
        if dtype == .float32 {
            argExtremeKernel(x.pointer(Float.self), out.pointer(Int64.self), outer: outer, n: n, inner: inner, largest: largest)
        } else {
            argExtremeKernel(x.pointer(Double.self), out.pointer(Int64.self), outer: outer, n: n, inner: inner, largest: largest)
        }
        return out
    }

    private func extreme(axis: Int, keepDims: Bool, largest: Bool) throws -> Tensor {
        let op = largest ? "max" : "min"
        if rank == 0 { return self }
        let a = try self.axis(axis, op: op)
        let indices = try argExtreme(axis: a, keepDims: true, largest: largest)
        let values = try GradMode.withNoGrad { try takeAlong(axis: a, indices: indices) }
        let result = try values.reshaped(reducedShape([a], keepDims: keepDims))
        let keptShape = indices.shape
        return result.recording(op, [self]) { [self] g in
            [try Tensor(zerosShape: self.shape, dtype: g.dtype, op: op).scatteringAdd(axis: a, indices: indices, source: g.reshaped(keptShape))]
        }
    }

    // MARK: - Log-sum-exp

    /// `log(sum(exp(x)))` along `axis`, computed stably.
    public func logSumExp(axis: Int, keepDims: Bool = false) throws -> Tensor {
        let a = try self.axis(axis, op: "logsumexp")
        let peak = try GradMode.withNoGrad { try self.max(axis: a, keepDims: true) }
        let safePeak = try peak.mapUnary("logsumexp", { $0.isFinite ? $0 : 0 }, { $0.isFinite ? $0 : 0 })
        let kept = try (self - safePeak).exp().sum(axes: [a], keepDims: true).log() + safePeak
        return keepDims ? kept : try kept.squeezed(a)
    }
}

extension Tensor {
    /// Running sums along `axis` (`torch.cumsum`): element i is the sum of
    /// elements 0…i. Summed in Float64 for float32 input, so a long running
    /// sum does not drift. Differentiable: the gradient is the running sum of
    /// the output gradient taken from the end.
    public func cumulativeSum(axis: Int) throws -> Tensor {
        try requireFloat("cumsum")
        let a = try self.axis(axis, op: "cumsum")
        return try runningSum(axis: a, reversed: false).recording("cumsum", [self]) { g in
            [try g.runningSum(axis: a, reversed: true)]
        }
    }

    private func runningSum(axis a: Int, reversed: Bool) throws -> Tensor {
        let (outer, n, inner) = reductionGeometry(a)
        let source = contiguousData()
        let out = try Tensor(uninitializedShape: shape, dtype: dtype, op: "cumsum")
        func run<T: FloatElement>(_: T.Type) {
            let ps = source.pointer(T.self), po = out.pointer(T.self)
            for o in 0..<outer {
                for j in 0..<inner {
                    var total = 0.0
                    for step in 0..<n {
                        let k = reversed ? n - 1 - step : step
                        let flat = (o * n + k) * inner + j
                        total += Double(ps[flat])
                        po[flat] = T(total)
                    }
                }
            }
        }
        if dtype == .float32 { run(Float.self) } else { run(Double.self) }
        return out
    }
}
