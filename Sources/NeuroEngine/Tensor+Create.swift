extension Tensor {
    /// A tensor of zeros.
    ///
    /// ```swift
    /// let z = try Tensor.zeros([2, 3])
    /// ```
    public static func zeros(_ shape: [Int], dtype: DType = .float32) throws -> Tensor {
        try Tensor(zerosShape: shape, dtype: dtype, op: "zeros", what: "shape")
    }

    /// A tensor of ones.
    public static func ones(_ shape: [Int], dtype: DType = .float32) throws -> Tensor {
        try full(shape, value: 1, dtype: dtype, op: "ones")
    }

    /// A tensor with every element `value` (callers have checked that it fits the dtype).
    static func full(_ shape: [Int], value: Double, dtype: DType, op: String) throws -> Tensor {
        let out = try Tensor(uninitializedShape: shape, dtype: dtype, op: op, what: "shape")
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
        if !dtype.isFloatingPoint && !(value.isFinite && value.rounded() == value && Swift.abs(value) < 9e18) {
            throw EngineError.argument("full", "\(value) is not an integer for dtype \(dtype.shortName)")
        }
        return try full(shape, value: value, dtype: dtype, op: "full")
    }

    /// `start, start+step, …` up to but excluding `end`, like `torch.arange`.
    public static func arange(_ start: Double = 0, _ end: Double, step: Double = 1, dtype: DType = .float32) throws -> Tensor {
        guard step != 0, step.isFinite, start.isFinite, end.isFinite else {
            throw EngineError.argument("arange", "needs finite bounds and a non-zero step, got \(start)..<\(end) by \(step)")
        }
        // Checked as a Double first: arange(1e300) has more elements than Int can count.
        let count = Swift.max(0, ((end - start) / step).rounded(.up))
        guard count <= Double(SizeLimit.maxElements) else {
            throw EngineError.argument("arange", "\(start)..<\(end) by \(step) has too many elements to allocate")
        }
        let n = Int(count)
        // Filled in place: a list of Float64 values first would double the memory at the limit.
        let out = try Tensor(uninitializedShape: [n], dtype: dtype, op: "arange", what: "the result")
        switch dtype {
        case .float32: let p = out.pointer(Float.self); for i in 0..<n { p[i] = Float(start + Double(i) * step) }
        case .float64: let p = out.pointer(Double.self); for i in 0..<n { p[i] = start + Double(i) * step }
        case .int64, .int32:
            for i in 0..<n {
                let v = (start + Double(i) * step).rounded(.towardZero)
                guard v.isFinite, Swift.abs(v) < 9.2e18, dtype == .int64 || Int32(exactly: v) != nil else {
                    throw EngineError.argument("arange", "value \(v) at index \(i) does not fit in \(dtype.shortName)")
                }
                if dtype == .int64 { out.pointer(Int64.self)[i] = Int64(v) } else { out.pointer(Int32.self)[i] = Int32(v) }
            }
        }
        return out
    }

    /// `count` evenly spaced numbers from `start` to `end`, both included
    /// (`start` alone when `count` is 1), like `torch.linspace`. Computed in
    /// Float64 and stored in `dtype`; the count is checked against the size
    /// limit before anything is allocated.
    ///
    /// ```swift
    /// try Tensor.linspace(0, 1, count: 5)   // [0, 0.25, 0.5, 0.75, 1]
    /// ```
    public static func linspace(_ start: Double, _ end: Double, count: Int, dtype: DType = .float32) throws -> Tensor {
        guard count >= 1 else { throw EngineError.argument("linspace", "needs a count of at least 1, got \(count)") }
        var i = 0
        return try filled([count], dtype: dtype, op: "linspace", what: "the result") {
            defer { i += 1 }
            return count == 1 ? start : start + (end - start) * Double(i) / Double(count - 1)
        }
    }

    /// The n×n identity matrix.
    public static func eye(_ n: Int, dtype: DType = .float32) throws -> Tensor {
        guard dtype.isFloatingPoint else { throw EngineError.dtype("eye", "needs a floating-point dtype, got \(dtype.shortName)") }
        let out = try Tensor(zerosShape: [n, n], dtype: dtype, op: "eye", what: "shape")
        for i in 0..<n {
            if dtype == .float32 { out.pointer(Float.self)[i * n + i] = 1 } else { out.pointer(Double.self)[i * n + i] = 1 }
        }
        return out
    }

    /// Samples from a normal distribution.
    public static func randn(_ shape: [Int], mean: Double = 0, std: Double = 1, dtype: DType = .float32,
                             using generator: inout RandomGenerator) throws -> Tensor {
        try filled(shape, dtype: dtype, op: "randn") { mean + std * generator.nextNormal() }
    }

    /// Samples uniformly from `[low, high)`.
    public static func uniform(_ shape: [Int], low: Double = 0, high: Double = 1, dtype: DType = .float32,
                               using generator: inout RandomGenerator) throws -> Tensor {
        guard low <= high else { throw EngineError.argument("uniform", "low \(low) is above high \(high)") }
        return try filled(shape, dtype: dtype, op: "uniform") { low + (high - low) * generator.nextUniform() }
    }

    /// A floating-point tensor of `shape` filled in row-major order by `next`,
    /// computed in Float64 and stored straight into the result, so a large
    /// request costs the result only (not a Float64 array and a copy besides).
    /// `what` names the shape in a size error.
    private static func filled(_ shape: [Int], dtype: DType, op: String, what: String = "shape",
                               _ next: () -> Double) throws -> Tensor {
        guard dtype.isFloatingPoint else {
            throw EngineError.dtype(op, "needs a floating-point dtype, got \(dtype.shortName)")
        }
        let out = try Tensor(uninitializedShape: shape, dtype: dtype, op: op, what: what)
        let n = out.count
        if dtype == .float32 {
            let p = out.pointer(Float.self)
            for i in 0..<n { p[i] = Float(next()) }
        } else {
            let p = out.pointer(Double.self)
            for i in 0..<n { p[i] = next() }
        }
        return out
    }
}
