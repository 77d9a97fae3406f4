import Foundation
import NeuroEngine
import NeuroModels

/// The three phases of grokking located on a run's curves.
public struct GrokkingPhases: Sendable, CustomStringConvertible {
    /// Epochs of memorisation: from the start until the training loss is small.
    public let memorization: ClosedRange<Int>
    /// Circuit formation: memorised, the test loss still high while the Fourier circuit grows.
    public let circuitFormation: ClosedRange<Int>
    /// Cleanup: the test loss falls as the memorising components decay.
    public let cleanup: ClosedRange<Int>

    public var description: String {
        "memorisation \(memorization.lowerBound)–\(memorization.upperBound), circuit formation \(circuitFormation.lowerBound)–\(circuitFormation.upperBound), cleanup \(cleanup.lowerBound)–\(cleanup.upperBound)"
    }
}

/// Nanda et al. 2023's progress measures over the checkpoints of a run:
/// restricted loss (neuron activations kept only along the key frequencies'
/// cos/sin(w(a+b)) directions and the constant, on all inputs), excluded loss
/// (those directions removed, on the training set), the Gini coefficients of
/// the Fourier norms of W_E and W_logit, the sum of squared weights, train and
/// test loss; and the phases located from them.
///
/// ```swift
/// let m = try ProgressMeasures(config: model.config, checkpoints: trainer.checkpoints, data: data)
/// print(m.phases)   // memorisation 0–1400, circuit formation 1400–9400, cleanup 9400–13000
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
    /// The key frequencies used, found from the last checkpoint unless given.
    public let keyFrequencies: [Int]
    public let phases: GrokkingPhases

    public init(config: TransformerConfig, checkpoints: [Checkpoint], data: Dataset, keyFrequencies given: [Int]? = nil,
                shouldStop: () -> Bool = { false }) throws {
        guard let lastCheckpoint = checkpoints.last else {
            throw EngineError(.argument, "progress measures need checkpoints; train with a checkpoint interval (e.g. checkpoint 100)")
        }
        guard case .modular(let op, let p) = data.task, op == .add || op == .subtract, data.gridShape == [p, p] else {
            throw EngineError(.argument, "progress measures follow cos(w(a+b)) and need a+b mod p data (this is \(data.task))")
        }
        guard !config.attentionOnly else { throw EngineError(.argument, "progress measures need a model with an MLP") }
        let finalModel = try HookedTransformer(config: config, weights: Dictionary(uniqueKeysWithValues: lastCheckpoint.weights))
        let frequencies = try given ?? FourierAnalysis(model: finalModel, p: p).key.frequencies
        let directions = try ProgressMeasures.sumDirections(p: p, frequencies: frequencies, sign: op == .add ? 1 : -1)   // [p², 2K]
        let basis = try FourierBasis(p: p)
        let trainRows = try Tensor(ints: data.trainIndices, shape: [data.trainIndices.count])
        let testRows = try Tensor(ints: data.testIndices, shape: [data.testIndices.count])

        var rows: [[Double]] = []
        for checkpoint in checkpoints {
            if shouldStop() { throw EngineError(.interrupted, "progress measures interrupted") }
            let model = try HookedTransformer(config: config, weights: Dictionary(uniqueKeysWithValues: checkpoint.weights))
            rows.append(try ProgressMeasures.measure(model, data: data, p: p, directions: directions, basis: basis,
                                                     trainRows: trainRows, testRows: testRows))
        }
        epochs = checkpoints.map(\.epoch)
        trainLoss = rows.map { $0[0] }
        testLoss = rows.map { $0[1] }
        restrictedLoss = rows.map { $0[2] }
        excludedLoss = rows.map { $0[3] }
        giniEmbedding = rows.map { $0[4] }
        giniLogit = rows.map { $0[5] }
        weightNorm = rows.map { $0[6] }
        keyFrequencies = frequencies
        phases = ProgressMeasures.locatePhases(epochs: epochs, trainLoss: trainLoss, testLoss: testLoss)
    }

    /// Unit vectors over the p² grid along cos(w(a ± b)) and sin(w(a ± b)) for each key frequency: [p², 2K].
    static func sumDirections(p: Int, frequencies: [Int], sign: Int) throws -> Tensor {
        var columns: [[Double]] = []
        for k in frequencies {
            for trig in [cos, sin] as [(Double) -> Double] {
                var column = [Double](repeating: 0, count: p * p)
                for a in 0..<p { for b in 0..<p { column[a * p + b] = trig(2 * Double.pi * Double(k * ((a + sign * b) % p + p)) / Double(p)) } }
                let norm = column.reduce(0) { $0 + $1 * $1 }.squareRoot()
                if norm > 1e-9 { columns.append(column.map { $0 / norm }) }
            }
        }
        var flat = [Double](repeating: 0, count: p * p * columns.count)
        for (j, column) in columns.enumerated() { for i in 0..<(p * p) { flat[i * columns.count + j] = column[i] } }
        return try Tensor(float64: flat, shape: [p * p, columns.count])
    }

    /// [train loss, test loss, restricted loss, excluded loss, Gini W_E, Gini W_logit, Σ w²] of one model.
    static func measure(_ model: HookedTransformer, data: Dataset, p: Int, directions: Tensor, basis: FourierBasis,
                        trainRows: Tensor, testRows: Tensor) throws -> [Double] {
        try GradMode.withNoGrad {
            let last = model.config.nLayers - 1
            let post = HookPoint(.mlpPost, layer: last)
            // Only the last position is read: the last block is computed for it alone.
            let (lastLogits, cache) = try model.run(data.tokens, cache: .atLastPosition([post]), positions: .last)
            let allLogits = try lastLogits.unsqueezed(1)                                                 // [p², 1, vocab]
            guard let acts = cache[post], let wOut = model.parameter("blocks.\(last).mlp.W_out"),
                  let wU = model.parameter("unembed.W_U"), let wE = model.parameter("embed.W_E") else {
                throw EngineError(.argument, "progress measures: the model lacks an MLP or unembedding")
            }
            let logits = try allLogits.select(axis: 1, index: -1).cast(to: .float64)                    // [p², vocab]
            let neurons = try acts.select(axis: 1, index: -1).cast(to: .float64)                         // [p², d_mlp]
            let wLogit = try wOut.cast(to: .float64).matmul(wU.cast(to: .float64))                       // [d_mlp, vocab]
            let coefficients = try directions.transposed().matmul(neurons)                               // [2K, d_mlp]
            let keyPart = try directions.matmul(coefficients.matmul(wLogit))                             // [p², vocab]: key directions' logits
            // Restricted: only the mean activation and the key directions reach the logits; the mean of
            // everything else (residual stream, attention) is kept as a bias, as in the grokking demo.
            let meanPart = try neurons.mean(axes: [0], keepDims: true).matmul(wLogit)                    // [1, vocab]
            var restricted = try keyPart + meanPart
            restricted = try restricted + (logits.mean(axes: [0], keepDims: true) - restricted.mean(axes: [0], keepDims: true))
            let excluded = try logits - keyPart
            func loss(_ l: Tensor, _ rows: Tensor) throws -> Double {
                try Metrics.crossEntropy(l.indexSelect(axis: 0, indices: rows), labels: data.labels.indexSelect(axis: 0, indices: rows)).item()
            }
            let allRows = try Tensor.arange(0, Double(p * p), dtype: .int64)
            let squares = try model.parameters.reduce(0.0) { $0 + (try $1.tensor.square().sum().item()) }
            return [try loss(logits, trainRows), try loss(logits, testRows), try loss(restricted, allRows), try loss(excluded, trainRows),
                    try FourierSpectrum(wE.slice(axis: 0, start: 0, end: p), basis: basis).gini,
                    try FourierSpectrum(wLogit.slice(axis: 1, start: 0, end: p).transposed().contiguous(), basis: basis).gini,
                    squares]
        }
    }

    /// Phases from the curves (heuristics, stated so they can be checked):
    /// memorisation ends at the first checkpoint whose training loss is below
    /// 1% of its first value; cleanup starts once the test loss (log scale) has
    /// fallen a quarter of the way from its peak to its final value, and ends
    /// once it is within a tenth of that range of the final value; circuit
    /// formation lies in between.
    static func locatePhases(epochs: [Int], trainLoss: [Double], testLoss: [Double]) -> GrokkingPhases {
        guard let first = epochs.first, let last = epochs.last else {
            return GrokkingPhases(memorization: 0...0, circuitFormation: 0...0, cleanup: 0...0)
        }
        let threshold = (trainLoss.first ?? 1) * 0.01
        let memorized = epochs[trainLoss.firstIndex { $0 < threshold } ?? (epochs.count - 1)]
        let logs = testLoss.map { Foundation.log10(Swift.max($0, 1e-12)) }
        let peakIndex = logs.indices.filter { epochs[$0] >= memorized }.max { logs[$0] < logs[$1] } ?? 0
        let final = logs.last ?? 0
        let range = Swift.max(logs[peakIndex] - final, 0)
        let startIndex = (peakIndex..<logs.count).first { logs[$0] <= logs[peakIndex] - 0.25 * range } ?? (logs.count - 1)
        let endIndex = (startIndex..<logs.count).first { logs[$0] <= final + 0.1 * range } ?? (logs.count - 1)
        let cleanupStart = Swift.max(epochs[startIndex], memorized)
        let cleanupEnd = Swift.max(epochs[endIndex], cleanupStart)
        return GrokkingPhases(memorization: first...memorized, circuitFormation: memorized...cleanupStart,
                              cleanup: cleanupStart...Swift.min(cleanupEnd, last))
    }
}
