import Foundation
import NeuroEngine
import NeuroModels

/// Nanda et al. 2023's progress measures over the checkpoints of a run:
/// restricted loss (neuron activations kept only along the key frequencies'
/// cos/sin(w(a ± b)) directions and the constant), excluded loss (those
/// directions removed, on the training set), the Gini coefficients of the
/// Fourier norms of W_E and W_logit, the sum of squared weights, train and
/// test loss; and the phases located from them by `GrokkingPhases`'s stated
/// rules (the cleanup watches Σw² and both Gini coefficients settle).
///
/// The directions and bases follow the data's operation (`ModularStructure`):
/// a+b and a−b over ℤ_p; a·b and a÷b over the discrete logarithm, where the
/// restricted and excluded losses are taken over the inputs with a, b ≠ 0
/// (residue 0 is outside the group). Operations with no known Fourier
/// structure are refused.
///
/// ```swift
/// let m = try ProgressMeasures(config: model.config, checkpoints: trainer.checkpoints, data: data)
/// print(m.phases)   // memorisation 0–1400, circuit formation 1400–9400, cleanup 9400–13300
/// ```
public struct ProgressMeasures {
    public let epochs: [Int]
    public let trainLoss: [Double]
    public let testLoss: [Double]
    public let restrictedLoss: [Double]
    public let excludedLoss: [Double]
    public let giniEmbedding: [Double]
    public let giniLogit: [Double]
    public let weightNorm: [Double]
    /// The key frequencies used: given, or found from the last checkpoint
    /// (empty when none stands out there; then the restricted loss keeps only the mean).
    public let keyFrequencies: [Int]
    /// The last checkpoint's key-frequency finding; nil when the frequencies were given.
    public let found: KeyFrequencies?
    /// The operation's group, basis order and formula.
    public let structure: ModularStructure
    public let phases: GrokkingPhases

    /// Measures every checkpoint in order; `progress` hears of each one
    /// measured (and stops the work when it throws), `shouldStop` is asked before each.
    public init(config: TransformerConfig, checkpoints: [Checkpoint], data: Dataset, keyFrequencies given: [Int]? = nil,
                rules: PhaseRules = PhaseRules(), shouldStop: () -> Bool = { false }, progress: StepProgress? = nil) throws {
        guard let lastCheckpoint = checkpoints.last else {
            throw EngineError(.argument, "progress measures need checkpoints; train with a checkpoint interval (e.g. checkpoint 100)")
        }
        guard case .modular = data.task else {
            throw EngineError(.argument, "progress measures need modular arithmetic data (a+b, a−b, a·b or a÷b mod p); this is \(data.task)")
        }
        let structure = try ModularStructure(task: data.task)
        guard structure.sign != nil else {
            throw EngineError(.argument, "progress measures need an operation with a known Fourier structure (a+b, a−b, a·b or a÷b mod p); "
                + "\(data.task) has none")
        }
        guard !config.attentionOnly else { throw EngineError(.argument, "progress measures need a model with an MLP") }
        let n = structure.order
        if let bad = given?.first(where: { $0 < 1 || $0 > n / 2 }) {
            throw EngineError(.argument, "key frequency \(bad) is outside 1...\(n / 2) for \(structure.basisDescription)")
        }
        let finalModel = try HookedTransformer(config: config, weights: Dictionary(uniqueKeysWithValues: lastCheckpoint.weights))
        let found = try given == nil ? FourierAnalysis(model: finalModel, structure: structure).key : nil
        let frequencies = given ?? found?.frequencies ?? []
        // The rows in the group (all of them for + and −; a, b ≠ 0 for · and ÷).
        let a = data.fieldValues[0], b = data.fieldValues[1]
        let inGroup = (0..<data.count).filter { structure.position(of: a[$0]) != nil && structure.position(of: b[$0]) != nil }
        let directions = try structure.sumDirections(a: inGroup.map { a[$0] }, b: inGroup.map { b[$0] }, frequencies: frequencies)   // [rows, 2K]
        let isTrain = Set(data.trainIndices)
        let groupTrain = inGroup.indices.filter { isTrain.contains(inGroup[$0]) }
        let rows = ProgressRows(
            train: try Tensor(ints: data.trainIndices, shape: [data.trainIndices.count]),
            test: try Tensor(ints: data.testIndices, shape: [data.testIndices.count]),
            group: try Tensor(ints: inGroup, shape: [inGroup.count]),
            groupTrain: try Tensor(ints: groupTrain, shape: [groupTrain.count]))

        var measured: [[Double]] = []
        try progress?(0, checkpoints.count)
        for checkpoint in checkpoints {
            if shouldStop() { throw EngineError(.interrupted, "progress measures interrupted") }
            let model = try HookedTransformer(config: config, weights: Dictionary(uniqueKeysWithValues: checkpoint.weights))
            measured.append(try ProgressMeasures.measure(model, data: data, structure: structure, directions: directions, rows: rows))
            try progress?(measured.count, checkpoints.count)
        }
        epochs = checkpoints.map(\.epoch)
        trainLoss = measured.map { $0[0] }
        testLoss = measured.map { $0[1] }
        restrictedLoss = measured.map { $0[2] }
        excludedLoss = measured.map { $0[3] }
        giniEmbedding = measured.map { $0[4] }
        giniLogit = measured.map { $0[5] }
        weightNorm = measured.map { $0[6] }
        keyFrequencies = frequencies
        self.found = found
        self.structure = structure
        phases = GrokkingPhases(PhaseCurves(
            epochs: epochs, trainLoss: trainLoss, testLoss: testLoss, restrictedLoss: restrictedLoss, excludedLoss: excludedLoss,
            settling: [("Σw²", weightNorm), ("Gini W_E", giniEmbedding), ("Gini W_logit", giniLogit)],
            chanceLoss: Foundation.log(Double(data.dVocabOut))), rules: rules)
    }

    /// Row indices: the train and test splits into the grid, the grid rows in
    /// the group, and the positions among those of the rows in the train split.
    struct ProgressRows {
        let train: Tensor
        let test: Tensor
        let group: Tensor
        let groupTrain: Tensor
    }

    /// [train loss, test loss, restricted loss, excluded loss, Gini W_E, Gini W_logit, Σ w²] of one model.
    static func measure(_ model: any HookedModel, data: Dataset, structure: ModularStructure, directions: Tensor,
                        rows: ProgressRows) throws -> [Double] {
        try GradMode.withNoGrad {
            let last = model.config.nLayers - 1
            let post = HookPoint(.mlpPost, layer: last)
            // Only the last position is read: the last block is computed for it alone.
            let (lastLogits, cache) = try model.run(data.tokens, cache: .atLastPosition([post]), positions: .last)
            let allLogits = try lastLogits.unsqueezed(1)                                                 // [rows, 1, vocab]
            guard let acts = cache[post], let wOut = model.parameter("blocks.\(last).mlp.W_out"),
                  let wU = model.parameter("unembed.W_U"), let wE = model.parameter("embed.W_E") else {
                throw EngineError(.argument, subject: "progress measures", "the model lacks an MLP or unembedding")
            }
            let logits = try allLogits.select(axis: 1, index: -1).cast(to: .float64)                    // [rows, vocab]
            let groupLogits = try logits.indexSelect(axis: 0, indices: rows.group)                       // [group rows, vocab]
            let groupLabels = try data.labels.indexSelect(axis: 0, indices: rows.group)                  // [group rows]
            let neurons = try acts.select(axis: 1, index: -1).cast(to: .float64)
                .indexSelect(axis: 0, indices: rows.group)                                               // [group rows, d_mlp]
            let wLogit = try wOut.cast(to: .float64).matmul(wU.cast(to: .float64))                       // [d_mlp, vocab]
            let coefficients = try directions.transposed().matmul(neurons)                               // [2K, d_mlp]
            let keyPart = try directions.matmul(coefficients.matmul(wLogit))                             // [group rows, vocab]: key directions' logits
            // Restricted: only the mean activation and the key directions reach the logits; the mean of
            // everything else (residual stream, attention) is kept as a bias, as in the grokking demo.
            let meanPart = try neurons.mean(axes: [0], keepDims: true).matmul(wLogit)                    // [1, vocab]
            var restricted = try keyPart + meanPart
            restricted = try restricted + (groupLogits.mean(axes: [0], keepDims: true) - restricted.mean(axes: [0], keepDims: true))
            let excluded = try groupLogits - keyPart
            func loss(_ l: Tensor, _ labels: Tensor, _ picks: Tensor?) throws -> Double {
                guard let picks else { return try Metrics.crossEntropy(l, labels: labels).item() }
                return try Metrics.crossEntropy(l.indexSelect(axis: 0, indices: picks), labels: labels.indexSelect(axis: 0, indices: picks)).item()
            }
            let squares = try model.parameters.reduce(0.0) { $0 + (try $1.tensor.square().sum().item()) }
            let outputs = try structure.rowsInBasisOrder(wLogit.transposed().contiguous())               // [n, d_mlp]
            return [try loss(logits, data.labels, rows.train), try loss(logits, data.labels, rows.test),
                    try loss(restricted, groupLabels, nil), try loss(excluded, groupLabels, rows.groupTrain),
                    try FourierSpectrum(structure.rowsInBasisOrder(wE), basis: structure.basis).gini,
                    try FourierSpectrum(outputs, basis: structure.basis).gini,
                    squares]
        }
    }
}
