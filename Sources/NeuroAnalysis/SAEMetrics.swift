import NeuroEngine
import NeuroModels

/// How well a sparse autoencoder does on held-out activations, in their
/// own scale.
///
/// ```swift
/// let m = try SAEMetrics(sae, on: heldOut)
/// m.l0, m.explainedVariance, m.deadFeatures
/// ```
public struct SAEMetrics: Sendable, Equatable {
    /// Inputs measured.
    public let count: Int
    /// Mean number of active features per input.
    public let l0: Double
    /// 1 − Var(x − x̂) / Var(x), both variances about their mean, summed over dimensions.
    public let explainedVariance: Double
    /// Mean squared error per element.
    public let mse: Double
    /// Mean cosine similarity of x̂ and x (inputs of norm 0 left out).
    public let cosine: Double
    /// Mean ‖x̂‖ / ‖x‖ (inputs of norm 0 left out).
    public let l2Ratio: Double
    /// Features that never fire on these inputs, and those that fire on more than `denseAbove` of them.
    public let deadFeatures: Int
    public let denseFeatures: Int
    /// Each feature's firing frequency.
    public let frequencies: [Double]

    /// A feature firing on more than this share of inputs counts as dense.
    public static let denseAbove = 0.1

    public init(_ sae: SparseAutoencoder, on activations: Tensor) throws {
        let features = try sae.features(of: activations)
        let reconstruction = try sae.reconstruction(of: activations)
        let x = try activations.cast(to: .float32)
        let n = x.shape[0], d = x.shape[1], m = sae.config.dSAE
        guard n >= 1 else { throw EngineError(.argument, subject: "sae", "no activations to measure on") }
        let xs = x.toDoubles(), rs = reconstruction.toDoubles(), fs = features.toFloats()
        var active = [Int](repeating: 0, count: m)
        var l0 = 0
        for i in 0..<n {
            for j in 0..<m where fs[i * m + j] != 0 {
                active[j] += 1
                l0 += 1
            }
        }
        var meanX = [Double](repeating: 0, count: d), meanError = [Double](repeating: 0, count: d)
        for i in 0..<n {
            for j in 0..<d {
                meanX[j] += xs[i * d + j] / Double(n)
                meanError[j] += (xs[i * d + j] - rs[i * d + j]) / Double(n)
            }
        }
        var total = 0.0, residual = 0.0, squared = 0.0, cosine = 0.0, ratio = 0.0, counted = 0
        for i in 0..<n {
            var dot = 0.0, xx = 0.0, rr = 0.0
            for j in 0..<d {
                let a = xs[i * d + j], b = rs[i * d + j], e = a - b
                total += (a - meanX[j]) * (a - meanX[j])
                residual += (e - meanError[j]) * (e - meanError[j])
                squared += e * e
                dot += a * b
                xx += a * a
                rr += b * b
            }
            guard xx > 0 else { continue }
            counted += 1
            cosine += rr > 0 ? dot / (xx * rr).squareRoot() : 0
            ratio += (rr / xx).squareRoot()
        }
        self.count = n
        self.l0 = Double(l0) / Double(n)
        self.explainedVariance = total > 0 ? 1 - residual / total : .nan
        self.mse = squared / Double(n * d)
        self.cosine = counted > 0 ? cosine / Double(counted) : .nan
        self.l2Ratio = counted > 0 ? ratio / Double(counted) : .nan
        self.frequencies = active.map { Double($0) / Double(n) }
        self.deadFeatures = active.filter { $0 == 0 }.count
        self.denseFeatures = frequencies.filter { $0 > SAEMetrics.denseAbove }.count
    }

    /// For each row of `directions` [k, d_in], the largest cosine similarity
    /// with any decoder row of `sae`; their mean says how many known
    /// directions it recovered.
    public static func recovery(of directions: Tensor, by sae: SparseAutoencoder) throws -> [Double] {
        guard directions.rank == 2, directions.shape[1] == sae.config.dIn else {
            throw EngineError(.shape, subject: "sae", "directions must be [k, d_in = \(sae.config.dIn)], got \(formatShape(directions.shape))")
        }
        let unit = { (t: Tensor) throws -> Tensor in try t / (t.norm(axes: [1], keepDims: true) + 1e-12) }
        let cos = try GradMode.withNoGrad { try unit(directions.cast(to: .float32)).matmul(unit(sae.W_dec).transposed()) }
        let k = directions.shape[0], m = sae.config.dSAE, values = cos.toDoubles()
        return (0..<k).map { i in (0..<m).map { values[i * m + $0] }.max() ?? .nan }
    }
}

/// Activations built from known sparse directions in superposition: `features`
/// random unit directions in `dimensions`, each input a sum of the features
/// that fire (each independently with probability `expectedActive / features`)
/// with magnitudes uniform in [0, 1]. The benchmark of the autoencoders: do
/// their decoder rows find the directions?
///
/// ```swift
/// let data = try KnownDirections(features: 64, dimensions: 32, expectedActive: 4, samples: 20_000, seed: 0)
/// let found = try SAEMetrics.recovery(of: data.directions, by: sae)
/// ```
public struct KnownDirections {
    /// [features, dimensions], unit rows.
    public let directions: Tensor
    /// [samples, dimensions].
    public let activations: Tensor

    /// New inputs over the same `directions` when given (held-out data), else new directions too.
    public init(features: Int, dimensions: Int, expectedActive: Double, samples: Int, seed: UInt64, directions given: Tensor? = nil) throws {
        guard features >= 1, dimensions >= 1, samples >= 1, expectedActive > 0, expectedActive <= Double(features) else {
            throw EngineError(.argument, subject: "known directions",
                              "needs features, dimensions and samples ≥ 1 and 0 < expected active ≤ features")
        }
        var rng = RandomGenerator(seed: seed)
        let raw = try Tensor.randn([features, dimensions], using: &rng)
        if let given {
            guard given.shape == [features, dimensions] else {
                throw EngineError(.shape, subject: "known directions", "directions must be [\(features), \(dimensions)], got \(formatShape(given.shape))")
            }
            directions = given
            rng = RandomGenerator(seed: seed &+ 0x9E37_79B9_7F4A_7C15)
        } else {
            directions = try (raw / raw.norm(axes: [1], keepDims: true)).contiguous()
        }
        let p = expectedActive / Double(features)
        var coefficients = [Float](repeating: 0, count: samples * features)
        for i in coefficients.indices where rng.nextUniform() < p { coefficients[i] = Float(rng.nextUniform()) }
        activations = try Tensor(coefficients, shape: [samples, features]).matmul(directions)
    }
}
