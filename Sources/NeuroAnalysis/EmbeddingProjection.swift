import NeuroEngine

/// An embedding of the residues 0..<p seen the ways the embedding viewer
/// shows it: on its first principal components, and on the cos/sin plane
/// of each of some frequencies read in a modular structure's basis (the
/// basis `FourierAnalysis` finds the key frequencies in).
///
/// ```swift
/// let f = try FourierAnalysis(model: model, p: 113)
/// let view = try EmbeddingProjection(wE, structure: f.structure, frequencies: f.offeredFrequencies(count: 5))
/// view.planes[0].points     // [113][2]
/// ```
public struct EmbeddingProjection {
    /// Each residue on the first `components` principal components: [p][components].
    public let pca: [[Double]]
    /// Each component's share of the variance.
    public let ratios: [Double]
    /// Each frequency's plane: every residue's (cos, sin) coordinates, [p][2] (`FourierAnalysis.circle`).
    public let planes: [(frequency: Int, points: [[Double]])]

    /// The projections of `embedding` [≥ p, d] (row a is residue a; rows past p are left out).
    public init(_ embedding: Tensor, structure: ModularStructure, frequencies: [Int], components: Int = 3) throws {
        let p = structure.p
        guard embedding.rank == 2, embedding.shape[0] >= p else {
            throw EngineError(.shape, "an embedding of \(p) residues needs [\(p), d_model] rows, got \(formatShape(embedding.shape))")
        }
        let w = try embedding.slice(axis: 0, start: 0, end: p)
        let analysis = try ActivationPCA(w.cast(to: .float64), components: min(components, p, w.shape[1]))
        pca = try EmbeddingProjection.rows(analysis.projected)
        ratios = analysis.ratios
        planes = try frequencies.map { k in (k, try EmbeddingProjection.rows(FourierAnalysis.circle(w, k, structure))) }
    }

    /// A [n, m] tensor as n rows of m numbers.
    static func rows(_ t: Tensor) throws -> [[Double]] {
        let values = try t.cast(to: .float64).toDoubles()
        let columns = t.rank == 2 ? t.shape[1] : 1
        return (0..<(values.count / max(columns, 1))).map { r in Array(values[(r * columns)..<((r + 1) * columns)]) }
    }
}

extension FourierAnalysis {
    /// The frequencies worth a look: the key ones, then the strongest others
    /// by the same ranking, up to `count` (more when more are key).
    ///
    /// ```swift
    /// f.offeredFrequencies(count: 5)   // e.g. [14, 35, 41, 42, 52]
    /// ```
    public func offeredFrequencies(count: Int) -> [Int] {
        let key = self.key.frequencies
        return Array((key + embedding.ranked.filter { !key.contains($0) }).prefix(max(count, key.count)))
    }
}
