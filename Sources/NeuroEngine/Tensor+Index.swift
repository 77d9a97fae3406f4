extension Tensor {
    /// Reads an integer index tensor, resolving negative indices against `bound`
    /// and refusing any outside `-bound..<bound`.
    func indexValues(bound: Int, op: String) throws -> [Int] {
        guard !dtype.isFloatingPoint else {
            throw EngineError.dtype(op, "indices must be an integer tensor, got \(dtype.shortName)")
        }
        var values = toInts()
        for (i, v) in values.enumerated() {
            guard v >= -bound && v < bound else {
                throw EngineError.index(op, "index \(v) at position \(i) is out of range for a dimension of size \(bound)")
            }
            if v < 0 { values[i] = v + bound }
        }
        return values
    }

    // MARK: - Gather by index

    /// Picks entries along `axis` by `indices` (any shape, integer): the result
    /// has shape `shape[..<axis] + indices.shape + shape[(axis+1)...]`.
    /// With `axis: 0` on a weight matrix this is an embedding lookup.
    ///
    /// ```swift
    /// try wE.indexSelect(axis: 0, indices: tokens)   // [vocab, d] × [b, pos] → [b, pos, d]
    /// ```
    public func indexSelect(axis: Int, indices: Tensor) throws -> Tensor {
        let a = try self.axis(axis, op: "index select")
        let (outer, n, inner) = reductionGeometry(a)
        let picks = try indices.indexValues(bound: n, op: "index select")
        let outShape = Array(shape[..<a]) + indices.shape + Array(shape[(a + 1)...])
        let x = contiguousData()
        let out = try Tensor(uninitializedShape: outShape, dtype: dtype, op: "index select")
        let width = inner * dtype.byteSize
        let src = x.storage.base + x.offset * dtype.byteSize, dst = out.storage.base
        let m = picks.count
        // Each output row is one copy: rows shared among the engine's threads.
        picks.withUnsafeBufferPointer { picks in
            Parallel.forRanges(outer * m, workPerItem: inner) { rows in
                for row in rows {
                    let (o, k) = row.quotientAndRemainder(dividingBy: m)
                    (dst + row * width).copyMemory(from: src + (o * n + picks[k]) * width, byteCount: width)
                }
            }
        }
        guard dtype.isFloatingPoint else { return out }
        let sourceShape = shape
        return out.recording("index select", [self]) { g in
            [try Tensor(zerosShape: sourceShape, dtype: g.dtype, op: "index select").indexAdding(axis: a, picks: picks, source: g)]
        }
    }

    /// Adds `source` into rows `picks` along `axis` (repeated picks add up);
    /// `source` has shape `shape[..<axis] + [picks.count] + shape[(axis+1)...]`
    /// or any shape with that many elements in that order. Not recorded.
    func indexAdding(axis a: Int, picks: [Int], source: Tensor) throws -> Tensor {
        let (outer, n, inner) = reductionGeometry(a)
        guard source.count == outer * picks.count * inner else {
            throw EngineError.shape("index add", "source \(formatShape(source.shape)) does not match \(picks.count) indices into \(formatShape(shape))")
        }
        let out = copied()
        let s = source.dtype == dtype ? source.contiguousData() : try source.cast(to: dtype).contiguousData()
        func run<T: FloatElement>(_: T.Type) {
            let po = out.pointer(T.self), ps = s.pointer(T.self)
            let m = picks.count
            for o in 0..<outer {
                for (k, p) in picks.enumerated() {
                    let dst = po + (o * n + p) * inner, src = ps + (o * m + k) * inner
                    for j in 0..<inner { dst[j] += src[j] }
                }
            }
        }
        if dtype == .float32 { run(Float.self) } else { run(Double.self) }
        return out
    }

    /// Adds `source` into rows `indices` along `axis`, like `torch.index_add`.
    public func indexAdd(axis: Int, indices: Tensor, source: Tensor) throws -> Tensor {
        try requireFloat("index add")
        let a = try self.axis(axis, op: "index add")
        let picks = try indices.indexValues(bound: shape[a], op: "index add")
        let expected = Array(shape[..<a]) + [picks.count] + Array(shape[(a + 1)...])
        guard source.shape == expected else { throw EngineError.shapes("index add", source.shape, expected) }
        // Record the source as cast to this dtype, so its gradient comes back in its own dtype.
        let src = source.dtype == dtype ? source : try source.cast(to: dtype)
        let out = try indexAdding(axis: a, picks: picks, source: src)
        return out.recording("index add", [self, src]) { g in
            [g, try g.indexSelect(axis: a, indices: indices)]
        }
    }

    // MARK: - Gather / scatter along an axis (torch.gather, scatter_add)

    private func checkAlong(_ indices: Tensor, axis a: Int, op: String) throws {
        guard indices.rank == rank else {
            throw EngineError.shape(op, "indices \(formatShape(indices.shape)) must have the rank of \(formatShape(shape))")
        }
        for d in 0..<rank where d != a && indices.shape[d] != shape[d] {
            throw EngineError.shape(op, "indices \(formatShape(indices.shape)) and tensor \(formatShape(shape)) differ in dimension \(d)")
        }
    }

    /// `out[..., k, ...] = self[..., indices[..., k, ...], ...]` along `axis`
    /// (PyTorch's `gather`). `indices` has this tensor's rank and shape except along `axis`.
    ///
    /// ```swift
    /// try logProbs.takeAlong(axis: -1, indices: labels.unsqueezed(-1))   // pick each row's label
    /// ```
    public func takeAlong(axis: Int, indices: Tensor) throws -> Tensor {
        let a = try self.axis(axis, op: "take along")
        try checkAlong(indices, axis: a, op: "take along")
        let (outer, n, inner) = reductionGeometry(a)
        let picks = try indices.indexValues(bound: n, op: "take along")
        let m = indices.shape[a]
        let x = contiguousData()
        let out = try Tensor(uninitializedShape: indices.shape, dtype: dtype, op: "take along")
        let size = dtype.byteSize
        let src = x.storage.base + x.offset * size, dst = out.storage.base
        for o in 0..<outer {
            for k in 0..<m {
                for j in 0..<inner {
                    let flat = (o * m + k) * inner + j
                    (dst + flat * size).copyMemory(from: src + ((o * n + picks[flat]) * inner + j) * size, byteCount: size)
                }
            }
        }
        guard dtype.isFloatingPoint else { return out }
        let sourceShape = shape
        return out.recording("take along", [self]) { g in
            [try Tensor(zerosShape: sourceShape, dtype: g.dtype, op: "take along").scatteringAdd(axis: a, indices: indices, source: g)]
        }
    }

    /// `self[..., indices[..., k, ...], ...] += source[..., k, ...]` along `axis`
    /// (PyTorch's `scatter_add`), returned as a new tensor.
    public func scatteringAdd(axis: Int, indices: Tensor, source: Tensor) throws -> Tensor {
        try requireFloat("scatter add")
        let a = try self.axis(axis, op: "scatter add")
        try checkAlong(indices, axis: a, op: "scatter add")
        guard source.shape == indices.shape else { throw EngineError.shapes("scatter add", source.shape, indices.shape) }
        let (outer, n, inner) = reductionGeometry(a)
        let picks = try indices.indexValues(bound: n, op: "scatter add")
        let m = indices.shape[a]
        let out = copied()
        // Record `src`, not its contiguous copy: a copy of a strided view is
        // not part of the graph, and the source's gradient would be lost.
        let src = source.dtype == dtype ? source : try source.cast(to: dtype)
        let s = src.contiguousData()
        func run<T: FloatElement>(_: T.Type) {
            let po = out.pointer(T.self), ps = s.pointer(T.self)
            for o in 0..<outer {
                for k in 0..<m {
                    for j in 0..<inner {
                        let flat = (o * m + k) * inner + j
                        po[(o * n + picks[flat]) * inner + j] += ps[flat]
                    }
                }
            }
        }
        if dtype == .float32 { run(Float.self) } else { run(Double.self) }
        return out.recording("scatter add", [self, src]) { g in
            [g, try g.takeAlong(axis: a, indices: indices)]
        }
    }

    // MARK: - Masks

    /// The elements where `mask` (broadcast to this shape) is non-zero, as a 1-D tensor.
    public func maskedSelect(_ mask: Tensor) throws -> Tensor {
        let full = try mask.cast(to: .float64).detached().expanded(to: shape).toDoubles()
        guard full.count == count else { throw EngineError.shapes("masked select", mask.shape, shape) }
        var positions: [Int] = []
        for (i, m) in full.enumerated() where m != 0 { positions.append(i) }
        let flat = try contiguous().reshaped([count])
        return try flat.indexSelect(axis: 0, indices: Tensor(ints: positions, shape: [positions.count]))
    }

    /// `condition ? a : b` elementwise with broadcasting (non-zero is true).
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        let (x, y) = try promoted(a, b, op: "where")
        let cond = try condition.cast(to: x.dtype).detached()
        let outShape = try broadcastShapes(broadcastShapes(cond.shape, x.shape, op: "where"), y.shape, op: "where")
        let out = try Tensor(uninitializedShape: outShape, dtype: x.dtype, op: "where")
        func run<T: FloatElement>(_: T.Type) {
            let pc = cond.pointer(T.self), px = x.pointer(T.self), py = y.pointer(T.self), po = out.pointer(T.self)
            var o = 0
            let strides = [cond.broadcastStrides(to: outShape), x.broadcastStrides(to: outShape), y.broadcastStrides(to: outShape)]
            forEachRow(shape: outShape, strides: strides) { offsets, inner, steps in
                for i in 0..<inner {
                    po[o + i] = pc[offsets[0] + i * steps[0]] != 0 ? px[offsets[1] + i * steps[1]] : py[offsets[2] + i * steps[2]]
                }
                o += inner
            }
        }
        if x.dtype == .float32 { run(Float.self) } else { run(Double.self) }
        return out.recording("where", [x, y]) { g in
            let zero = Tensor(scalar: 0, dtype: g.dtype)
            return [x.requiresGrad ? try Tensor.where(cond, g, zero).summed(toShape: x.shape) : nil,
                    y.requiresGrad ? try Tensor.where(cond, zero, g).summed(toShape: y.shape) : nil]
        }
    }

    // MARK: - Concatenate and stack

    /// Joins tensors along an existing `axis`; all other dimensions must agree.
    public static func concat(_ tensors: [Tensor], axis: Int) throws -> Tensor {
        try joined(tensors, axis: axis, op: "concat")
    }

    /// `concat`, with errors naming `op` (`stack` joins through it too).
    private static func joined(_ tensors: [Tensor], axis: Int, op: String) throws -> Tensor {
        guard let first = tensors.first else { throw EngineError.argument(op, "needs at least one tensor") }
        let a = try first.axis(axis, op: op)
        let dtype = first.dtype
        for (i, t) in tensors.enumerated() {
            guard t.dtype == dtype else {
                throw EngineError.dtype(op, "tensor \(i) is \(t.dtype.shortName), tensor 0 is \(dtype.shortName)")
            }
            guard t.rank == first.rank, (0..<t.rank).allSatisfy({ $0 == a || t.shape[$0] == first.shape[$0] }) else {
                throw EngineError.shape(op, "tensor \(i) has shape \(formatShape(t.shape)), tensor 0 has \(formatShape(first.shape)); only axis \(axis) may differ")
            }
        }
        var outShape = first.shape
        // Added with overflow checks: a list of many huge tensors can sum past Int.max.
        var joined = 0
        for t in tensors {
            let (sum, overflow) = joined.addingReportingOverflow(t.shape[a])
            guard !overflow else {
                throw EngineError.argument(op, "the result is too large to allocate (its length along axis \(axis) overflows a 64-bit integer)")
            }
            joined = sum
        }
        outShape[a] = joined
        let out = try Tensor(uninitializedShape: outShape, dtype: dtype, op: op)
        let outer = first.shape[..<a].reduce(1, *), inner = first.shape[(a + 1)...].reduce(1, *)
        let size = dtype.byteSize
        var start = 0
        var ranges: [(Int, Int)] = []
        for t in tensors {
            let src = t.contiguousData()
            let width = t.shape[a] * inner * size
            for o in 0..<outer {
                (out.storage.base + (o * outShape[a] * inner + start * inner) * size)
                    .copyMemory(from: src.storage.base + src.offset * size + o * width, byteCount: width)
            }
            ranges.append((start, start + t.shape[a]))
            start += t.shape[a]
        }
        guard dtype.isFloatingPoint else { return out }
        return out.recording(op, tensors) { g in
            try zip(tensors, ranges).map { t, r in t.requiresGrad ? try g.slice(axis: a, start: r.0, end: r.1) : nil }
        }
    }

    /// Joins same-shaped tensors along a new `axis`.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) throws -> Tensor {
        guard let first = tensors.first else { throw EngineError.argument("stack", "needs at least one tensor") }
        for (i, t) in tensors.enumerated() where t.shape != first.shape {
            throw EngineError.shape("stack", "tensor \(i) has shape \(formatShape(t.shape)), tensor 0 has \(formatShape(first.shape))")
        }
        return try joined(tensors.map { try $0.unsqueezed(axis) }, axis: axis, op: "stack")
    }
}

extension Tensor {
    /// A copy of this tensor with the element at each flat (row-major)
    /// position `positions[i]` replaced by element `i` of `values` (row-major,
    /// cast to this tensor's dtype); where a position repeats, the last value
    /// wins. Not recorded for gradients: it makes a new value, like `x[i] = v`
    /// in NumPy on a copy.
    public func replacing(flatPositions positions: [Int], with values: Tensor) throws -> Tensor {
        guard values.count == positions.count else {
            throw EngineError.argument("replace", "\(positions.count) positions but \(values.count) values")
        }
        if let bad = positions.first(where: { $0 < 0 || $0 >= count }) {
            throw EngineError.argument("replace", "position \(bad) is outside a tensor of \(count) elements")
        }
        let out = copied()
        let source = (values.dtype == dtype ? values : try values.cast(to: dtype)).contiguousData()
        func run<T>(_: T.Type) {
            let po = out.pointer(T.self), ps = source.pointer(T.self)
            for (i, p) in positions.enumerated() { po[p] = ps[i] }
        }
        switch dtype {
        case .float32: run(Float.self)
        case .float64: run(Double.self)
        case .int64: run(Int64.self)
        case .int32: run(Int32.self)
        }
        return out
    }
}
