import NeuroEngine
import NeuroModels

// Neuron–feature correlation, neuron activation grids over the inputs (a, b)
// of a modular task, and PCA/SVD of any activation with explained variance.

/// The Pearson correlation of every neuron with a target, and the neurons
/// ranked by |r|.
///
/// ```swift
/// let c = try NeuronCorrelation(activations: post, target: aPlusB)   // post [n, d_mlp], target [n]
/// c.ranking.first    // (neuron: 17, r: 0.93)
/// ```
public struct NeuronCorrelation: Sendable {
    /// r for each neuron in index order; NaN for a constant neuron.
    public let correlations: [Double]
    /// Every neuron by decreasing |r| (ties by index), constant neurons last.
    public let ranking: [(neuron: Int, r: Double)]

    /// Correlates each column of `activations` [samples, neurons] (leading
    /// dimensions are flattened into samples) with `target` [samples], in
    /// Float64. Throws when the sample counts differ or there are fewer than 2
    /// samples. A constant target gives NaN everywhere.
    public init(activations: Tensor, target: Tensor) throws {
        let x = try sampleMatrix(activations, op: "correlate")                                         // [n, neurons]
        let n = x.shape[0]
        guard target.count == n else {
            throw EngineError(.shape, subject: "correlate", "\(n) samples of activations \(formatShape(activations.shape)) but \(target.count) target values")
        }
        guard n >= 2 else { throw EngineError(.shape, subject: "correlate", "needs at least 2 samples, got \(n)") }
        func standardized(_ m: Tensor) throws -> Tensor {
            let centered = try m - m.mean(axes: [0], keepDims: true)
            return try centered / centered.norm(axes: [0], keepDims: true)
        }
        let y = try target.cast(to: .float64).reshaped([n, 1])
        let r = try standardized(x).transposed().matmul(standardized(y)).toDoubles()                    // [neurons]
        correlations = r
        ranking = r.enumerated().map { (neuron: $0.offset, r: $0.element) }.sorted { a, b in
            if a.r.isNaN != b.r.isNaN { return b.r.isNaN }
            let (x, y) = (Swift.abs(a.r), Swift.abs(b.r))
            return x != y && !x.isNaN ? x > y : a.neuron < b.neuron
        }
    }
}

/// Activations over every input pair (a, b) of a modular task.
public enum NeuronGrid {
    /// The last-position activation at `site` of layer `layer` for the
    /// inputs [a, b, =] of every pair a, b in 0..<p, as [p, p, features]:
    /// entry [a, b, i] is feature i on input (a, b). Features are the
    /// activation's trailing dimensions flattened (neurons for `mlp_post`,
    /// head·d_head for `z`, head·key for `pattern`, whose last query row is taken).
    ///
    /// Throws when the model cannot read the tokens 0...p (d_vocab ≤ p or
    /// n_ctx < 3), the layer is out of range, or the site does not exist in
    /// this model (e.g. `mlp_post` of an attention-only model).
    ///
    /// ```swift
    /// let grid = try NeuronGrid.activations(model, p: 113, layer: 0)   // [113, 113, d_mlp]
    /// ```
    public static func activations(_ model: any HookedModel, p: Int, layer: Int = 0, site: HookSite = .mlpPost) throws -> Tensor {
        let config = model.config
        guard p >= 2, config.dVocab > p, config.nCtx >= 3 else {
            throw EngineError(.argument, subject: "neuron grid", "needs a model reading [a, b, =] with tokens 0...\(p) (d_vocab > p, n_ctx ≥ 3); "
                + "this one has d_vocab \(config.dVocab), n_ctx \(config.nCtx)")
        }
        guard layer >= -config.nLayers && layer < config.nLayers else {
            throw EngineError(.index, subject: "neuron grid", "layer \(layer) is out of range for a model with \(config.nLayers) layers")
        }
        let point = HookPoint(site, layer: layer < 0 ? layer + config.nLayers : layer)
        guard model.hasHook(point) else {
            throw EngineError(.argument, subject: "neuron grid", "this model has no \(point.name)")
        }
        let (_, cache) = try GradMode.withNoGrad { try model.run(FourierAnalysis.gridTokens(p), cache: .only([point])) }
        guard let acts = cache[point] else { throw EngineError(.argument, subject: "neuron grid", "\(point.name) was not reached") }
        let queryAxis = site == .pattern || site == .attnScores ? 2 : 1
        let last = try acts.select(axis: queryAxis, index: -1)                                          // [p², …]
        return try last.reshaped([p, p, last.count / (p * p)])                                          // [a, b, feature]
    }
}

/// PCA of any activation, with the explained variance of every component.
///
/// ```swift
/// let r = try ActivationPCA(resid, components: 3)    // resid [batch, pos, d_model]: batch·pos samples
/// r.ratios       // share of variance of each of the 3 components
/// r.cumulative   // running total
/// ```
public struct ActivationPCA {
    /// Principal directions as unit rows, by decreasing variance: [k, features].
    public let components: Tensor
    /// The samples in component coordinates: [samples, k].
    public let projected: Tensor
    /// Variance along each kept component, s² / (samples − 1): [k].
    public let explainedVariance: Tensor
    /// The per-feature mean subtracted (zeros without centring): [features].
    public let mean: Tensor
    /// Share of the total variance of each kept component.
    public let ratios: [Double]
    /// Running totals of `ratios`.
    public let cumulative: [Double]
    /// The singular values of the (centred) data matrix, all min(samples, features) of them.
    public let singularValues: [Double]
    /// How many samples and features the flattened activation had.
    public let samples: Int, features: Int

    /// Flattens every dimension but the last into samples (a vector is one
    /// feature) and decomposes it in Float64 with `Tensor.pca`, keeping
    /// `components` (all when nil). Throws as `Tensor.pca` does.
    public init(_ x: Tensor, components: Int? = nil, center: Bool = true) throws {
        let matrix = try sampleMatrix(x, op: "pca")                                                     // [samples, features]
        let full = try matrix.pca(components: nil, center: center)
        let available = full.explainedVariance.count
        let k = components ?? available
        guard k >= 1 && k <= available else {
            throw EngineError(.argument, subject: "pca", "components must be between 1 and \(available) for \(matrix.shape[0]) samples of \(matrix.shape[1]) features, got \(k)")
        }
        self.components = try full.components.slice(axis: 0, start: 0, end: k)                         // [k, features]
        projected = try full.projected.slice(axis: 1, start: 0, end: k)                                 // [samples, k]
        explainedVariance = try full.explainedVariance.slice(axis: 0, start: 0, end: k)
        mean = full.mean
        ratios = Array(full.explainedVarianceRatio.toDoubles().prefix(k))
        var running = 0.0
        cumulative = ratios.map { running += $0; return running }
        singularValues = full.explainedVariance.toDoubles().map { ($0 * Double(matrix.shape[0] - 1)).squareRoot() }
        samples = matrix.shape[0]
        features = matrix.shape[1]
    }
}
