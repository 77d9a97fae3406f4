extension Tensor {
    // MARK: - Reshape

    /// The same elements in a new shape; one dimension may be -1 (inferred).
    /// A view when the layout allows, otherwise a copy.
    ///
    /// ```swift
    /// try x.reshaped([2, -1])   // [6] → [2, 3]
    /// ```
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        let target = try resolveShape(newShape)
        if target == shape { return self }
        let source: Tensor, viewStrides: [Int]
        if let strided = stridesForView(target) {
            (source, viewStrides) = (self, strided)
        } else {
            (source, viewStrides) = (contiguous(), Tensor.contiguousStrides(target))
        }
        let view = Tensor(storage: source.storage, shape: target, strides: viewStrides, offset: source.offset, dtype: dtype)
        let sourceShape = shape
        return view.recording("reshape", [source]) { g in [try g.reshaped(sourceShape)] }
    }

    /// Strides that show this tensor's elements in `target`'s shape without
    /// copying, or nil when the layout does not allow it (PyTorch's rule:
    /// dimensions can be merged or split only within runs that are
    /// contiguous with one another).
    func stridesForView(_ target: [Int]) -> [Int]? {
        if count <= 1 || isContiguous { return Tensor.contiguousStrides(target) }
        var result = [Int](repeating: 0, count: target.count)
        var viewAxis = target.count - 1
        var chunkStride = strides[rank - 1]
        var tensorElements = 1, viewElements = 1
        for axis in stride(from: rank - 1, through: 0, by: -1) {
            tensorElements *= shape[axis]
            let chunkEnds = axis == 0 || (shape[axis - 1] != 1 && strides[axis - 1] != tensorElements * chunkStride)
            guard chunkEnds else { continue }
            while viewAxis >= 0 && (viewElements < tensorElements || target[viewAxis] == 1) {
                result[viewAxis] = viewElements * chunkStride
                viewElements *= target[viewAxis]
                viewAxis -= 1
            }
            if viewElements != tensorElements { return nil }
            if axis > 0 {
                chunkStride = strides[axis - 1]
                tensorElements = 1
                viewElements = 1
            }
        }
        return viewAxis == -1 ? result : nil
    }

    private func resolveShape(_ requested: [Int]) throws -> [Int] {
        let inferred = requested.indices.filter { requested[$0] == -1 }
        guard inferred.count <= 1 else {
            throw EngineError.shape("reshape", "only one dimension can be -1 in \(formatShape(requested))")
        }
        if let bad = requested.first(where: { $0 < -1 }) {
            throw EngineError.shape("reshape", "invalid dimension \(bad) in \(formatShape(requested))")
        }
        func mismatch() -> EngineError {
            EngineError.shape("reshape", "cannot reshape \(formatShape(shape)) (\(count) elements) to \(formatShape(requested))")
        }
        var target = requested
        // Multiplied with overflow checks: a requested shape is user input.
        var known = 1
        for d in requested where d != -1 {
            let (product, overflow) = known.multipliedReportingOverflow(by: d)
            guard !overflow else { throw mismatch() }
            known = product
        }
        if let i = inferred.first {
            guard known != 0, count % known == 0 else { throw mismatch() }
            target[i] = count / known
        }
        // The view's strides multiply every dimension, zeros counted as one.
        guard case .success(let elements) = Tensor.sizeCheck(target), elements == count else { throw mismatch() }
        return target
    }

    /// All dimensions from `start` through `end` merged into one.
    public func flattened(from start: Int = 0, through end: Int = -1) throws -> Tensor {
        if rank == 0 { return try reshaped([1]) }
        let s = try axis(start, op: "flatten"), e = try axis(end, op: "flatten")
        guard s <= e else { throw EngineError.argument("flatten", "start axis \(start) comes after end axis \(end)") }
        let merged = shape[s...e].reduce(1, *)
        return try reshaped(Array(shape[..<s]) + [merged] + Array(shape[(e + 1)...]))
    }

    /// Inserts a dimension of size 1 at `axis` (which may equal `rank`, or be negative).
    public func unsqueezed(_ axis: Int) throws -> Tensor {
        // Negative axes count from the end of the result: -1 appends a dimension.
        let a = try Tensor.normalizeAxis(axis, rank: rank + 1, op: "unsqueeze")
        var newShape = shape
        newShape.insert(1, at: a)
        return try reshaped(newShape)
    }

    /// Removes dimension `axis`, which must have size 1; or every size-1
    /// dimension when `axis` is nil.
    public func squeezed(_ axis: Int? = nil) throws -> Tensor {
        guard let axis else { return try reshaped(shape.filter { $0 != 1 }) }
        let a = try self.axis(axis, op: "squeeze")
        guard shape[a] == 1 else {
            throw EngineError.shape("squeeze", "axis \(axis) of \(formatShape(shape)) has size \(shape[a]), not 1")
        }
        var newShape = shape
        newShape.remove(at: a)
        return try reshaped(newShape)
    }

    // MARK: - Permute

    /// A view with dimensions reordered: result dimension i is input dimension
    /// `order[i]`.
    public func permuted(_ order: [Int]) throws -> Tensor {
        let resolved = try order.map { try axis($0, op: "permute") }
        guard resolved.count == rank, Set(resolved).count == rank else {
            throw EngineError.argument("permute", "\(order) is not a permutation of the \(rank) axes of \(formatShape(shape))")
        }
        if resolved == Array(0..<rank) { return self }
        let view = Tensor(storage: storage, shape: resolved.map { shape[$0] }, strides: resolved.map { strides[$0] },
                          offset: offset, dtype: dtype)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in resolved.enumerated() { inverse[a] = i }
        return view.recording("permute", [self]) { g in [try g.permuted(inverse)] }
    }

    /// A view with two dimensions swapped (the last two by default).
    public func transposed(_ a: Int = -2, _ b: Int = -1) throws -> Tensor {
        guard rank >= 2 else {
            throw EngineError.shape("transpose", "needs at least 2 dimensions, got \(formatShape(shape))")
        }
        var order = Array(0..<rank)
        order.swapAt(try axis(a, op: "transpose"), try axis(b, op: "transpose"))
        return try permuted(order)
    }

    // MARK: - Slice

    /// A view of `start..<end` by `step` along `axis`, with Python's rules for
    /// negative and out-of-range bounds (`x[:, 1:3]` is `slice(axis: 1, start: 1, end: 3)`).
    public func slice(axis: Int, start: Int? = nil, end: Int? = nil, step: Int = 1) throws -> Tensor {
        let a = try self.axis(axis, op: "slice")
        guard step > 0 else { throw EngineError.argument("slice", "step must be positive, got \(step)") }
        let n = shape[a]
        func clampBound(_ v: Int?, _ fallback: Int) -> Int {
            guard var v else { return fallback }
            if v < 0 { v += n }
            return Swift.min(Swift.max(v, 0), n)
        }
        let lo = clampBound(start, 0), hi = clampBound(end, n)
        let length = hi > lo ? (hi - lo - 1) / step + 1 : 0   // not (hi - lo + step - 1) / step, which overflows for huge steps
        var newShape = shape, newStrides = strides
        newShape[a] = length
        newStrides[a] = strides[a] * step
        let view = Tensor(storage: storage, shape: newShape, strides: newStrides,
                          offset: offset + lo * strides[a], dtype: dtype)
        let sourceShape = shape
        return view.recording("slice", [self]) { g in
            let full = try Tensor(zerosShape: sourceShape, dtype: g.dtype, op: "slice")
            let window = Tensor(storage: full.storage, shape: newShape,
                                strides: full.strides.enumerated().map { $0.offset == a ? $0.element * step : $0.element },
                                offset: lo * full.strides[a], dtype: g.dtype)
            try window.assignStrided(g)
            return [full]
        }
    }

    /// A view of index `index` along `axis`, with that dimension removed
    /// (`x[2]` is `select(axis: 0, index: 2)`); negative indices count from the end.
    public func select(axis: Int, index: Int) throws -> Tensor {
        let a = try self.axis(axis, op: "select")
        let n = shape[a]
        let i = index < 0 ? index + n : index
        guard i >= 0 && i < n else {
            throw EngineError.index("select", "index \(index) is out of range for axis \(axis) of size \(n) in \(formatShape(shape))")
        }
        return try slice(axis: a, start: i, end: i + 1).squeezed(a)
    }

    /// Writes `source` into the (possibly strided) elements this view sees.
    func assignStrided(_ source: Tensor) throws {
        guard source.shape == shape else { throw EngineError.shapes("assign", shape, source.shape) }
        guard source.dtype == dtype else {
            throw EngineError.dtype("assign", "\(source.dtype.shortName) into \(dtype.shortName)")
        }
        let src = source.contiguousData()
        switch dtype {
        case .float32: scatterStrided(Float.self, from: src)
        case .float64: scatterStrided(Double.self, from: src)
        case .int64: scatterStrided(Int64.self, from: src)
        case .int32: scatterStrided(Int32.self, from: src)
        }
    }

    private func scatterStrided<T>(_: T.Type, from src: Tensor) {
        let destination = pointer(T.self), source = src.pointer(T.self)
        var index = 0
        forEachRow(shape: shape, strides: [strides]) { offsets, inner, innerStrides in
            var at = offsets[0]
            for i in 0..<inner {
                destination[at] = source[index + i]
                at += innerStrides[0]
            }
            index += inner
        }
    }
}
