import Foundation
import NeuroEngine
import NeuroModels

/// The Fourier picture of a model trained on modular arithmetic (Nanda et
/// al. 2023): which frequencies its embedding uses, how its neurons cluster
/// by frequency, how its output weights and logits follow the operation's
/// formula — cos(w(a+b−c)) for addition, cos(w(a−b−c)) for subtraction, and
/// over the discrete logarithm for multiplication and division (see
/// `ModularStructure`). When no frequency stands out, `key.frequencies` is
/// empty, there are no circles and no logit fit.
///
/// ```swift
/// let f = try FourierAnalysis(model: model, p: 113)
/// f.key.frequencies        // e.g. [14, 35, 41, 42, 52], found from the weights
/// let g = try FourierAnalysis(model: other, p: 59, operation: .multiply)
/// g.structure.basisDescription   // "discrete log, generator 2, over ℤ_58"
/// ```
public struct FourierAnalysis {
    /// The operation's group, basis order and logit formula.
    public let structure: ModularStructure
    public var p: Int { structure.p }
    public var basis: FourierBasis { structure.basis }
    /// Spectrum of W_E's rows for the residues in the group, in basis order.
    public let embedding: FourierSpectrum
    /// The frequencies that stand out in the embedding (none, when none does).
    public let key: KeyFrequencies
    /// Spectrum of W_logit = W_out·W_U over the output classes in the group
    /// (last layer), if the model has an MLP and its outputs are residues.
    public let logitWeights: FourierSpectrum?
    /// Each neuron's dominant frequency and the share of its variance that
    /// frequency explains, over the grid of pairs in the group.
    public let neurons: [(frequency: Int, fraction: Double)]
    /// Share of the (centred) logits' squared norm explained by Σ_k of the
    /// structure's formula over the key frequencies; nil when the operation
    /// has no known formula or no frequency stands out (`logitFitNote` says which).
    public let logitFit: Double?
    /// For each key frequency, W_E's rows for residues 0..<p (row a is
    /// residue a) projected on the frequency's cos and sin directions: [p, 2].
    public let circles: [(frequency: Int, points: Tensor)]

    /// Share of the embedding's non-constant energy in the key frequencies:
    /// near 1 for a model that grokked, 0 when none stands out.
    /// (Projecting on the whole basis would give 1 for every model.)
    public var circularity: Double { key.explained }

    /// Why `logitFit` is nil, e.g. "no key frequency to test"; nil when there is a fit.
    public var logitFitNote: String? {
        if let reason = structure.noFormulaReason { return reason }
        if logitFit == nil { return "no key frequency to test" }
        return nil
    }

    /// The analysis of `a op b mod p` (addition unless told).
    public init(model: any HookedModel, p: Int, operation: ModularOperation = .add) throws {
        try self.init(model: model, structure: ModularStructure(operation, p: p))
    }

    public init(model: any HookedModel, structure: ModularStructure) throws {
        let config = model.config
        let p = structure.p
        guard config.dVocab > p, config.dVocabOut >= p, config.nCtx >= 3 else {
            throw EngineError(.argument, "Fourier analysis needs a model of modular arithmetic over p = \(p): tokens 0..\(p) and \(p) outputs; this model has d_vocab \(config.dVocab), d_vocab_out \(config.dVocabOut)")
        }
        guard let wE = model.parameter("embed.W_E")?.detached() else { throw EngineError(.argument, "the model has no embedding") }
        let n = structure.order
        let basis = structure.basis
        self.structure = structure
        let groupRows = try structure.rowsInBasisOrder(wE)                                               // [n, d_model]
        embedding = try FourierSpectrum(groupRows, basis: basis)
        key = embedding.keyFrequencies()

        let last = config.nLayers - 1
        if structure.outputsAreResidues, let wOut = model.parameter("blocks.\(last).mlp.W_out"), let wU = model.parameter("unembed.W_U") {
            let wLogit = try wOut.detached().matmul(wU.detached())                                       // [d_mlp, d_vocab_out]
            logitWeights = try FourierSpectrum(structure.rowsInBasisOrder(wLogit.transposed().contiguous()), basis: basis)   // [n, d_mlp]
        } else {
            logitWeights = nil
        }

        let tokens = try structure.gridTokens()                                                          // [n², 3]
        let post = HookPoint(.mlpPost, layer: last)
        let wantsNeurons = !config.attentionOnly
        let (logits, cache) = try GradMode.withNoGrad {
            try model.run(tokens, cache: wantsNeurons ? .only([post]) : .none)
        }
        if wantsNeurons, let acts = cache[post] {
            let grid = try acts.select(axis: 1, index: -1).reshaped([n, n, config.dMLP])                   // [a, b, neuron]
            neurons = try FourierAnalysis.neuronFrequencies(grid, basis: basis)
        } else {
            neurons = []
        }
        logitFit = key.standsOut ? try structure.logitFit(logits.select(axis: 1, index: -1), frequencies: key.frequencies) : nil   // [n², d_vocab_out]
        circles = try key.frequencies.map { k in (k, try FourierAnalysis.circle(wE.slice(axis: 0, start: 0, end: p), k, structure)) }
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

    /// W_E [p, d] (row a is residue a) projected on the directions its
    /// cos-k and sin-k components point in, those read over the group's rows: [p, 2].
    ///
    /// ```swift
    /// let plane = try FourierAnalysis.circle(wE, 14, ModularStructure(.add, p: 113))   // [113, 2]
    /// ```
    public static func circle(_ wE: Tensor, _ k: Int, _ structure: ModularStructure) throws -> Tensor {
        let basis = structure.basis
        let f = try basis.transform(structure.rowsInBasisOrder(wE))                                     // [n, d]
        guard let rows = basis.frequencyRows.first(where: { $0.frequency == k })?.rows else {
            throw EngineError(.argument, "no frequency \(k) in \(structure.basisDescription)")
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
