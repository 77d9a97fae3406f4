extension Tensor {
    /// The shape two shapes broadcast to (NumPy/PyTorch rules), or an error
    /// naming both.
    public static func broadcastShapes(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
        let rank = Swift.max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 {
                out[i] = da
            } else if da == 1 {
                out[i] = db
            } else {
                throw EngineError.shapes(op, a, b)
            }
        }
        return out
    }

    /// Strides that read this tensor as if expanded to `target` (0 along
    /// broadcast dimensions). `target` must be a broadcast of `shape`.
    func broadcastStrides(to target: [Int]) -> [Int] {
        let lead = target.count - rank
        var out = [Int](repeating: 0, count: target.count)
        for i in 0..<rank where shape[i] == target[lead + i] && shape[i] != 1 {
            out[lead + i] = strides[i]
        }
        return out
    }

    /// A view of this tensor expanded to `target` without copying (stride 0
    /// along broadcast dimensions), like `torch.Tensor.expand`.
    public func expanded(to target: [Int]) throws -> Tensor {
        let joint = try Tensor.broadcastShapes(shape, target, op: "expand")
        guard joint == target else {
            throw EngineError.shape("expand", "cannot expand \(formatShape(shape)) to \(formatShape(target))")
        }
        if shape == target { return self }
        // The one view that can see more elements than its storage holds: it
        // passes the size check, so that copying any tensor stays within it.
        _ = try Tensor.checkedCount(target, dtype: dtype, op: "expand")
        let view = broadcastView(to: target)
        let sourceShape = shape
        return view.recording("expand", [self]) { g in [try g.summed(toShape: sourceShape)] }
    }

    /// `expanded(to:)` without the size check or recording, for kernels that
    /// read the view piece by piece and never copy it whole (matmul's batch
    /// broadcasting). `target` must be a broadcast of `shape`.
    func broadcastView(to target: [Int]) -> Tensor {
        Tensor(storage: storage, shape: target, strides: broadcastStrides(to: target), offset: offset, dtype: dtype)
    }

    /// Sums a gradient down to `target`, the shape of an input that was
    /// broadcast: over leading extra dimensions and over dimensions of size 1.
    public func summed(toShape target: [Int]) throws -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        guard lead >= 0 else { throw EngineError.shapes("sum to shape", shape, target) }
        var axes = Array(0..<lead)
        for i in 0..<target.count where target[i] == 1 && shape[lead + i] != 1 {
            axes.append(lead + i)
        }
        for i in 0..<target.count where target[i] != 1 && target[i] != shape[lead + i] {
            throw EngineError.shapes("sum to shape", shape, target)
        }
        let reduced = axes.isEmpty ? self : try sum(axes: axes, keepDims: true)
        return try reduced.reshaped(target)
    }
}
