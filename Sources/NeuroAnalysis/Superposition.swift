import NeuroEngine

/// How a toy model of superposition lays its features out in the hidden
/// space (Elhage et al. 2022), read off W [d_hidden, n_features], whose
/// column Wᵢ is feature i's direction:
///
/// - the norm ‖Wᵢ‖: about 1 for a represented feature, about 0 for one left out;
/// - superposition Σⱼ≠ᵢ (Ŵᵢ·Wⱼ)², with Ŵᵢ = Wᵢ / ‖Wᵢ‖: how much of the
///   other features lies along feature i's direction (0 when it has a
///   dimension of its own);
/// - dimensionality Dᵢ = ‖Wᵢ‖² / Σⱼ (Ŵᵢ·Wⱼ)² (j over every feature, i
///   included): the share of a dimension feature i takes, 1 alone, 1/2 in
///   an antipodal pair, 2/5 in a pentagon in 2 dimensions;
/// - dimensions per feature d_hidden / ‖W‖_F².
///
/// A feature whose norm is below `unrepresented` has no direction; it is
/// given superposition 0 and dimensionality 0 (it takes no dimension, the
/// limit of Dᵢ as its norm goes to 0).
///
/// ```swift
/// let g = try SuperpositionGeometry(weights: try Tensor(float64: [1, 0, 1, 0, 2, 1], shape: [2, 3]))
/// g.norms            // [1, 2, 1.414…]
/// g.dimensionality   // [0.5, 0.8, 0.444…]
/// ```
public struct SuperpositionGeometry {
    /// Below this norm a feature counts as not represented.
    public static let unrepresented = 1e-6

    /// ‖Wᵢ‖ per feature.
    public let norms: [Double]
    /// Σⱼ≠ᵢ (Ŵᵢ·Wⱼ)² per feature (0 for a feature that is not represented).
    public let superposition: [Double]
    /// Dᵢ per feature (0 for a feature that is not represented).
    public let dimensionality: [Double]
    /// d_hidden / ‖W‖_F² (infinite when W is 0).
    public let dimensionsPerFeature: Double
    /// WᵀW [n_features, n_features], Float64: the overlaps of the features' directions.
    public let gram: Tensor

    /// Reads W [d_hidden, n_features]. Throws for another rank, an empty W
    /// or a W holding NaN or infinite values.
    public init(weights: Tensor) throws {
        guard weights.rank == 2, weights.count > 0 else {
            throw EngineError(.shape, subject: "superposition", "W must be a non-empty matrix [d_hidden, n_features], got \(formatShape(weights.shape))")
        }
        guard weights.summary().nonFiniteCount == 0 else {
            throw EngineError(.numeric, subject: "superposition", "W holds NaN or infinite values")
        }
        let w = try weights.detached().cast(to: .float64)
        let n = w.shape[1]
        gram = try w.transposed().matmul(w)                                   // [n, n]: Wᵢ·Wⱼ
        let g = gram.toDoubles()
        var norms: [Double] = [], superposition: [Double] = [], dimensionality: [Double] = []
        for i in 0..<n {
            let squared = g[i * n + i]                                        // ‖Wᵢ‖²
            norms.append(squared.squareRoot())
            guard squared.squareRoot() >= SuperpositionGeometry.unrepresented else {
                superposition.append(0)
                dimensionality.append(0)
                continue
            }
            // (Ŵᵢ·Wⱼ)² = (Wᵢ·Wⱼ)² / ‖Wᵢ‖²; the j = i term is ‖Wᵢ‖².
            let others = (0..<n).reduce(0.0) { sum, j in j == i ? sum : sum + g[i * n + j] * g[i * n + j] } / squared
            superposition.append(others)
            dimensionality.append(squared / (squared + others))
        }
        self.norms = norms
        self.superposition = superposition
        self.dimensionality = dimensionality
        let frobenius = norms.reduce(0) { $0 + $1 * $1 }
        dimensionsPerFeature = Double(w.shape[0]) / frobenius
    }
}
