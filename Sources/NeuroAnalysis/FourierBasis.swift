import Foundation
import NeuroEngine

/// The real Fourier basis over ℤ_p, as in the TransformerLens grokking demo:
/// row 0 is the constant, then a cos row and a sin row for each frequency
/// k = 1, 2, …, every row scaled to unit norm, so the matrix is orthonormal.
/// For even p the top frequency p/2 has only its cos row (its sin is zero).
///
/// ```swift
/// let basis = try FourierBasis(p: 113)      // basis.matrix is [113, 113]
/// basis.names[1]                            // "cos 1"
/// ```
public struct FourierBasis {
    public let p: Int
    /// [p, p], rows the basis vectors, in Float64.
    public let matrix: Tensor
    /// "const", "cos 1", "sin 1", "cos 2", …
    public let names: [String]
    /// The frequencies 1...K with their basis rows (cos, then sin when present).
    public let frequencyRows: [(frequency: Int, rows: [Int])]

    public init(p: Int) throws {
        guard p >= 2 else { throw EngineError(.argument, "Fourier basis: p must be at least 2, got \(p)") }
        guard p <= 4096 else { throw EngineError(.argument, "Fourier basis: p = \(p) is too large") }
        var rows: [[Double]] = [[Double](repeating: 1, count: p)]
        var names = ["const"]
        var frequencyRows: [(Int, [Int])] = []
        for k in 1...(p / 2) {
            let angle = { (x: Int) in 2 * Double.pi * Double(k * x % p) / Double(p) }
            var indices = [rows.count]
            rows.append((0..<p).map { cos(angle($0)) })
            names.append("cos \(k)")
            if 2 * k != p {
                indices.append(rows.count)
                rows.append((0..<p).map { sin(angle($0)) })
                names.append("sin \(k)")
            }
            frequencyRows.append((k, indices))
        }
        let normalized = rows.map { row -> [Double] in
            let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return row.map { $0 / norm }
        }
        self.p = p
        self.matrix = try Tensor(float64: normalized.flatMap { $0 }, shape: [p, p])
        self.names = names
        self.frequencyRows = frequencyRows
    }

    /// Number of non-constant frequencies.
    public var frequencyCount: Int { frequencyRows.count }

    /// `x` [p, …] in the basis: `matrix · x` along the first axis.
    public func transform(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1, x.shape[0] == p else {
            throw EngineError(.shape, "Fourier transform over p = \(p) needs a first dimension of \(p), got \(formatShape(x.shape))")
        }
        let flat = try x.cast(to: .float64).reshaped([p, -1])
        return try matrix.matmul(flat).reshaped(x.shape)
    }

    /// A [p, p, …] grid in the basis along both of its first two axes.
    public func transform2D(_ grid: Tensor) throws -> Tensor {
        guard grid.rank >= 2, grid.shape[0] == p, grid.shape[1] == p else {
            throw EngineError(.shape, "2-D Fourier transform over p = \(p) needs a [\(p), \(p), …] grid, got \(formatShape(grid.shape))")
        }
        let alongA = try transform(grid)                                        // [p(freq a), p, …]
        let swapped = try alongA.transposed(0, 1).contiguous()                  // [p, p(freq a), …]
        return try transform(swapped).transposed(0, 1).contiguous()             // [p(freq a), p(freq b), …]
    }
}

/// How the rows of a [p, d] matrix (one per residue) spread over
/// frequencies: the norm of its cos and sin components for each k.
public struct FourierSpectrum {
    public let frequencies: [Int]
    public let cosNorms: [Double]
    public let sinNorms: [Double]
    public let constantNorm: Double

    /// Norm per frequency, √(cos² + sin²).
    public var norms: [Double] { zip(cosNorms, sinNorms).map { ($0 * $0 + $1 * $1).squareRoot() } }

    /// Share of the non-constant energy (squared norm) at each frequency; sums to 1.
    public var fractions: [Double] {
        let energy = norms.map { $0 * $0 }
        let total = energy.reduce(0, +)
        return energy.map { total > 0 ? $0 / total : 0 }
    }

    /// The spectrum of `w` [p, d] (rows are residues 0..<p).
    public init(_ w: Tensor, basis: FourierBasis) throws {
        let f = try basis.transform(w)                                          // [p(component), d]
        let rowNorms = try f.norm(axes: [1]).toDoubles()                        // [p]
        frequencies = basis.frequencyRows.map(\.frequency)
        cosNorms = basis.frequencyRows.map { rowNorms[$0.rows[0]] }
        sinNorms = basis.frequencyRows.map { $0.rows.count > 1 ? rowNorms[$0.rows[1]] : 0 }
        constantNorm = rowNorms[0]
    }

    /// The frequencies that stand out, found from the spectrum itself: sorted
    /// by energy, cut where the next one is smallest relative to the last kept
    /// (the largest drop), among the top `limit`. A flat spectrum still gives
    /// an answer; `KeyFrequencies.sharpness` tells how much they stand out.
    public func keyFrequencies(limit: Int = 12) -> KeyFrequencies {
        let order = fractions.indices.sorted { fractions[$0] > fractions[$1] }
        let top = Array(order.prefix(min(limit + 1, order.count)))
        var cut = 1, bestRatio = 0.0
        for i in 0..<(top.count - 1) {
            let ratio = fractions[top[i]] / max(fractions[top[i + 1]], 1e-300)
            if ratio > bestRatio {
                bestRatio = ratio
                cut = i + 1
            }
        }
        let chosen = Array(top.prefix(cut))
        return KeyFrequencies(frequencies: chosen.map { frequencies[$0] }, fractions: chosen.map { fractions[$0] },
                              sharpness: bestRatio, total: frequencies.count)
    }

    /// The Gini coefficient of the per-frequency norms: 0 when every
    /// frequency has the same norm, near 1 when a few hold everything.
    public var gini: Double { giniCoefficient(norms) }
}

/// The frequencies a model uses, with how much each explains.
public struct KeyFrequencies: Sendable {
    public let frequencies: [Int]
    /// Share of the non-constant energy of each key frequency.
    public let fractions: [Double]
    /// How many times the weakest key frequency outweighs the strongest other one.
    public let sharpness: Double
    /// Frequencies in the spectrum.
    public let total: Int

    /// Share of the energy in all key frequencies together.
    public var explained: Double { fractions.reduce(0, +) }
    /// The share the same number of frequencies would hold if energy were spread evenly.
    public var chance: Double { total > 0 ? Double(frequencies.count) / Double(total) : 0 }
}

/// The Gini coefficient of non-negative values (0: all equal; → 1: one holds all).
public func giniCoefficient(_ values: [Double]) -> Double {
    let sorted = values.map { Swift.max($0, 0) }.sorted()
    let n = Double(sorted.count)
    let total = sorted.reduce(0, +)
    guard n > 0, total > 0 else { return 0 }
    var weighted = 0.0
    for (i, v) in sorted.enumerated() { weighted += Double(i + 1) * v }
    return (2 * weighted) / (n * total) - (n + 1) / n
}
