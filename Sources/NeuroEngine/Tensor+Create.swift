import Glibc

/// The most elements one tensor may have: half of physical memory in the
/// widest element type, so a request that cannot fit is refused before
/// anything is allocated.
private let maxElements: Int = {
    let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
    guard pages > 0, pageSize > 0 else { return 1 << 30 }
    return Swift.max(1 << 20, pages / 2 * pageSize / 8)
}()

extension Tensor {
    static func checkAllocation(_ shape: [Int], op: String) throws {
        if let bad = shape.firstIndex(where: { $0 < 0 }) {
            throw EngineError.shape(op, "dimension \(bad) of \(formatShape(shape)) is negative")
        }
        var total = 1
        for d in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: d)
            guard !overflow, product <= maxElements else {
                throw EngineError.argument(op, "shape \(formatShape(shape)) is too large to allocate (more than half of this machine's memory)")
            }
            total = product
        }
    }

    /// A tensor of zeros.
    ///
    /// ```swift
    /// let z = try Tensor.zeros([2, 3])
    /// ```
    public static func zeros(_ shape: [Int], dtype: DType = .float32) throws -> Tensor {
        try checkAllocation(shape, op: "zeros")
        return Tensor(zerosShape: shape, dtype: dtype)
    }

    /// A tensor of ones.
    public static func ones(_ shape: [Int], dtype: DType = .float32) throws -> Tensor {
        try checkAllocation(shape, op: "ones")
        return full(shape, value: 1, dtype: dtype)
    }

    /// A tensor with every element `value` (callers have checked the shape).
    static func full(_ shape: [Int], value: Double, dtype: DType) -> Tensor {
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        let n = out.count
        switch dtype {
        case .float32: out.pointer(Float.self).update(repeating: Float(value), count: n)
        case .float64: out.pointer(Double.self).update(repeating: value, count: n)
        case .int64: out.pointer(Int64.self).update(repeating: Int64(value), count: n)
        case .int32: out.pointer(Int32.self).update(repeating: Int32(clamping: Int64(value)), count: n)
        }
        return out
    }

    /// A tensor with every element `value`.
    public static func full(_ shape: [Int], value: Double, dtype: DType = .float32, checked: Void = ()) throws -> Tensor {
        try checkAllocation(shape, op: "full")
        if !dtype.isFloatingPoint && !(value.isFinite && value.rounded() == value && Swift.abs(value) < 9e18) {
            throw EngineError.argument("full", "\(value) is not an integer for dtype \(dtype.shortName)")
        }
        return full(shape, value: value, dtype: dtype)
    }

    /// `start, start+step, …` up to but excluding `end`, like `torch.arange`.
    public static func arange(_ start: Double = 0, _ end: Double, step: Double = 1, dtype: DType = .float32) throws -> Tensor {
        guard step != 0, step.isFinite, start.isFinite, end.isFinite else {
            throw EngineError.argument("arange", "needs finite bounds and a non-zero step, got \(start)..<\(end) by \(step)")
        }
        // Checked as a Double first: arange(1e300) has more elements than Int can count.
        let count = Swift.max(0, ((end - start) / step).rounded(.up))
        guard count <= Double(maxElements) else {
            throw EngineError.argument("arange", "\(start)..<\(end) by \(step) has too many elements to allocate")
        }
        let n = Int(count)
        try checkAllocation([n], op: "arange")
        let values = (0..<n).map { start + Double($0) * step }
        if dtype.isFloatingPoint {
            return try Tensor(float64: values, shape: [n]).cast(to: dtype)
        }
        return try Tensor(ints: values.map { Int($0) }, shape: [n], dtype: dtype)
    }

    /// The n×n identity matrix.
    public static func eye(_ n: Int, dtype: DType = .float32) throws -> Tensor {
        let out = try zeros([n, n], dtype: dtype)
        try out.requireFloat("eye")
        for i in 0..<n {
            if dtype == .float32 { out.pointer(Float.self)[i * n + i] = 1 } else { out.pointer(Double.self)[i * n + i] = 1 }
        }
        return out
    }

    /// Samples from a normal distribution.
    public static func randn(_ shape: [Int], mean: Double = 0, std: Double = 1, dtype: DType = .float32,
                             using generator: inout RandomGenerator) throws -> Tensor {
        try checkAllocation(shape, op: "randn")
        let n = shape.reduce(1, *)
        var values = [Double](repeating: 0, count: n)
        for i in 0..<n { values[i] = mean + std * generator.nextNormal() }
        return try Tensor(float64: values, shape: shape).cast(to: dtype)
    }

    /// Samples uniformly from `[low, high)`.
    public static func uniform(_ shape: [Int], low: Double = 0, high: Double = 1, dtype: DType = .float32,
                               using generator: inout RandomGenerator) throws -> Tensor {
        try checkAllocation(shape, op: "uniform")
        guard low <= high else { throw EngineError.argument("uniform", "low \(low) is above high \(high)") }
        let n = shape.reduce(1, *)
        var values = [Double](repeating: 0, count: n)
        for i in 0..<n { values[i] = low + (high - low) * generator.nextUniform() }
        return try Tensor(float64: values, shape: shape).cast(to: dtype)
    }
}
