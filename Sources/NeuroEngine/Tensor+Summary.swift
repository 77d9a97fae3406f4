/// Statistics of a tensor's elements for printing: its finite elements'
/// count, mean, population standard deviation, minimum and maximum, and how
/// many elements are NaN or infinite.
///
/// ```swift
/// let s = try Tensor([1, 2, 3, .nan], shape: [4]).summary()
/// // s.finiteCount 3, s.mean 2, s.min 1, s.max 3, s.nonFiniteCount 1
/// ```
public struct TensorSummary: Equatable, Sendable {
    /// How many elements are finite.
    public let finiteCount: Int
    /// How many elements are NaN or ±infinity.
    public let nonFiniteCount: Int
    /// Mean of the finite elements (0 when there are none).
    public let mean: Double
    /// Population standard deviation of the finite elements (0 when there are none).
    public let std: Double
    /// Smallest finite element (0 when there are none).
    public let min: Double
    /// Largest finite element (0 when there are none).
    public let max: Double
}

extension Tensor {
    /// Summary statistics of every element, in row-major order, read in
    /// place through the strides: no copy is made, so summarising a large
    /// tensor (or a broadcast view) costs no memory beyond O(rank).
    public func summary() -> TensorSummary {
        var finite = 0, nonFinite = 0
        var total = 0.0, low = Double.infinity, high = -Double.infinity
        forEachValue { v in
            guard v.isFinite else { nonFinite += 1; return }
            finite += 1
            total += v
            low = Swift.min(low, v)
            high = Swift.max(high, v)
        }
        guard finite > 0 else {
            return TensorSummary(finiteCount: 0, nonFiniteCount: nonFinite, mean: 0, std: 0, min: 0, max: 0)
        }
        let mean = total / Double(finite)
        // A second pass for the spread: it stays accurate when the mean is far from zero.
        var squares = 0.0
        forEachValue { v in if v.isFinite { squares += (v - mean) * (v - mean) } }
        return TensorSummary(finiteCount: finite, nonFiniteCount: nonFinite, mean: mean,
                             std: (squares / Double(finite)).squareRoot(), min: low, max: high)
    }

    /// Calls `body` with every element as a Double, in row-major order.
    private func forEachValue(_ body: (Double) -> Void) {
        switch dtype {
        case .float32: forEachElement(Float.self) { body(Double($0)) }
        case .float64: forEachElement(Double.self, body)
        case .int64: forEachElement(Int64.self) { body(Double($0)) }
        case .int32: forEachElement(Int32.self) { body(Double($0)) }
        }
    }

    private func forEachElement<T>(_: T.Type, _ body: (T) -> Void) {
        let base = pointer(T.self)
        forEachRow(shape: shape, strides: [strides]) { offsets, inner, innerStrides in
            var at = offsets[0]
            for _ in 0..<inner {
                body(base[at])
                at += innerStrides[0]
            }
        }
    }
}
