import Foundation
import NeuroEngine
import NeuroModels

/// The Fourier picture of a model trained on modular arithmetic (Nanda et
/// al. 2023): which frequencies its embedding uses, how its neurons cluster
/// by frequency, how its output weights and logits follow cos(w(a+b−c)).
///
/// ```swift
/// let f = try FourierAnalysis(model: model, p: 113)
/// f.key.frequencies        // e.g. [14, 35, 41, 42, 52], found from the weights
/// ```
public struct FourierAnalysis {
    public let p: Int
    public let basis: FourierBasis
    /// Spectrum of W_E's rows for the residues 0..<p.
    public let embedding: FourierSpectrum
    /// The frequencies that stand out in the embedding.
    public let key: KeyFrequencies
    /// Spectrum of W_logit = W_out·W_U over the output classes (last layer), if the model has an MLP.
    public let logitWeights: FourierSpectrum?
    /// Each neuron's dominant frequency and the share of its variance that frequency explains.
    public let neurons: [(frequency: Int, fraction: Double)]
    /// Share of the (centred) logits' squared norm explained by Σ_k cos(w_k(a+b−c)) over the key frequencies.
    public let logitFit: Double
    /// For each key frequency, W_E projected on its cos and sin directions: the embedding circle.
    public let circles: [(frequency: Int, points: Tensor)]

    /// Share of the embedding's non-constant energy in the key frequencies:
    /// near 1 for a model that grokked, near `key.chance` for a random one.
    /// (Projecting on the whole basis would give 1 for every model.)
    public var circularity: Double { key.explained }

    public init(model: HookedTransformer, p: Int) throws {
        let config = model.config
        guard config.dVocab >= p, config.dVocabOut >= p, config.nCtx >= 3 else {
            throw EngineError(.argument, "Fourier analysis needs a model of modular arithmetic over p = \(p): tokens 0..\(p) and \(p) outputs; this model has d_vocab \(config.dVocab), d_vocab_out \(config.dVocabOut)")
        }
        guard let wE = model.parameter("embed.W_E") else { throw EngineError(.argument, "the model has no embedding") }
        let basis = try FourierBasis(p: p)
        self.p = p
        self.basis = basis
        embedding = try FourierSpectrum(wE.detached().slice(axis: 0, start: 0, end: p), basis: basis)
        key = embedding.keyFrequencies()

        let last = config.nLayers - 1
        if let wOut = model.parameter("blocks.\(last).mlp.W_out"), let wU = model.parameter("unembed.W_U") {
            let wLogit = try wOut.detached().matmul(wU.detached().slice(axis: 1, start: 0, end: p))      // [d_mlp, p]
            logitWeights = try FourierSpectrum(wLogit.transposed().contiguous(), basis: basis)
        } else {
            logitWeights = nil
        }

        let tokens = try FourierAnalysis.gridTokens(p)                                                    // [p², 3]
        let post = HookPoint(.mlpPost, layer: last)
        let wantsNeurons = !config.attentionOnly
        let (logits, cache) = try GradMode.withNoGrad {
            try model.run(tokens, cache: wantsNeurons ? .only([post]) : .none)
        }
        if wantsNeurons, let acts = cache[post] {
            let grid = try acts.select(axis: 1, index: -1).reshaped([p, p, config.dMLP])                   // [a, b, neuron]
            neurons = try FourierAnalysis.neuronFrequencies(grid, basis: basis)
        } else {
            neurons = []
        }
        logitFit = try FourierAnalysis.logitFit(logits.select(axis: 1, index: -1).slice(axis: 1, start: 0, end: p),
                                                p: p, frequencies: key.frequencies)
        circles = try key.frequencies.map { k in (k, try FourierAnalysis.circle(wE.detached().slice(axis: 0, start: 0, end: p), k, basis)) }
    }

    /// Tokens [a, b, =] for every pair, a-major: row a·p + b.
    public static func gridTokens(_ p: Int) throws -> Tensor {
        var values: [Int] = []
        values.reserveCapacity(p * p * 3)
        for a in 0..<p { for b in 0..<p { values += [a, b, p] } }
        return try Tensor(ints: values, shape: [p * p, 3])
    }

    /// For each neuron, the frequency whose components (alone or with the
    /// constant, on either input) hold most of its non-constant variance.
    static func neuronFrequencies(_ grid: Tensor, basis: FourierBasis) throws -> [(frequency: Int, fraction: Double)] {
        let p = basis.p
        let f = try basis.transform2D(grid)                                                              // [p, p, neuron]
        let n = grid.shape[2]
        let energy = try f.square().toDoubles()                                                          // a-component, b-component, neuron
        var totals = [Double](repeating: 0, count: n)
        for i in 0..<p { for j in 0..<p where i != 0 || j != 0 { for m in 0..<n { totals[m] += energy[(i * p + j) * n + m] } } }
        var best = [(frequency: Int, fraction: Double)](repeating: (0, 0), count: n)
        for (k, rows) in basis.frequencyRows {
            let axis = [0] + rows
            var share = [Double](repeating: 0, count: n)
            for i in axis { for j in axis where i != 0 || j != 0 { for m in 0..<n { share[m] += energy[(i * p + j) * n + m] } } }
            for m in 0..<n where totals[m] > 0 {
                let fraction = share[m] / totals[m]
                if fraction > best[m].fraction { best[m] = (k, fraction) }
            }
        }
        return best
    }

    /// How much of the logits (centred over outputs) lies along cos(w_k(a+b−c)).
    static func logitFit(_ logits: Tensor, p: Int, frequencies: [Int]) throws -> Double {
        let centred = try logits.cast(to: .float64) - logits.cast(to: .float64).mean(axes: [1], keepDims: true)   // [p², p]
        let values = centred.toDoubles()
        let total = values.reduce(0) { $0 + $1 * $1 }
        guard total > 0 else { return 0 }
        var explained = 0.0
        for k in frequencies {
            var dot = 0.0, norm = 0.0
            for a in 0..<p {
                for b in 0..<p {
                    let row = (a * p + b) * p
                    for c in 0..<p {
                        let v = cos(2 * Double.pi * Double(k * ((a + b - c) % p + p) % p) / Double(p))
                        dot += values[row + c] * v
                        norm += v * v
                    }
                }
            }
            if norm > 0 { explained += dot * dot / norm }
        }
        return explained / total
    }

    /// W_E [p, d] projected on the directions its cos-k and sin-k components point in: [p, 2].
    static func circle(_ wE: Tensor, _ k: Int, _ basis: FourierBasis) throws -> Tensor {
        let f = try basis.transform(wE)                                                                  // [p, d]
        guard let rows = basis.frequencyRows.first(where: { $0.frequency == k })?.rows else {
            throw EngineError(.argument, "no frequency \(k) for p = \(basis.p)")
        }
        let directions = try rows.map { row -> Tensor in
            let v = try f.select(axis: 0, index: row)
            let norm = try v.norm().item()
            return norm > 0 ? try v / norm : v
        }
        let plane = try Tensor.stack(directions.count == 2 ? directions : directions + [Tensor.zeros([wE.shape[1]], dtype: .float64)], axis: 1)
        return try wE.cast(to: .float64).matmul(plane)                                                   // [p, 2]
    }
}
