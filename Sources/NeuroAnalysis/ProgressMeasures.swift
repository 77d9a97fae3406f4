import Foundation
import NeuroEngine
import NeuroModels

/// Nanda et al. 2023's progress measures over the checkpoints of a run, for
/// modular arithmetic (the Fourier case) and for composition in a finite
/// group (Chughtai et al. 2023, the group case), with one implementation:
///
/// - **restricted loss**: the last MLP layer's neuron activations kept only
///   along the key directions (and their mean) on the way to the logits, on
///   every input of the group;
/// - **excluded loss**: those directions removed, on the training inputs;
/// - what **cleanup** watches settle: Σw², and how concentrated W_E and
///   W_logit = W_out·W_U are on the key directions;
/// - train and test loss; the phases located from all of them by
///   `GrokkingPhases`'s stated rules.
///
/// The key directions are functions of the input pair (a, b) through their
/// composition a·b. In the Fourier case they are cos(w(a ± b)) and
/// sin(w(a ± b)) for each key frequency w, and concentration is the Gini
/// coefficient of the Fourier norms; the bases follow the data's operation
/// (`ModularStructure`): a+b and a−b over ℤ_p; a·b and a÷b over the discrete
/// logarithm, where the losses are taken over the inputs with a, b ≠ 0
/// (residue 0 is outside the group). In the group case they are the matrix
/// entries (a, b) ↦ ρ(a·b)_ij of each key representation ρ, orthonormalised
/// (for C_n these are exactly the Fourier case's cos and sin), and
/// concentration is the key representations' share of the variance of W_E's
/// and W_logit's group rows. Operations with neither structure are refused.
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
    public let weightNorm: [Double]
    /// How concentrated W_E and W_logit are on the key directions, per checkpoint:
    /// the Gini coefficients of their Fourier norms (fields `gini_embed`, `gini_logit`),
    /// or the key representations' share of their variance (`key_share_embed`, `key_share_logit`).
    public let concentration: [Concentration]
    /// The basis, and the key frequencies or representations used.
    public let basis: ProgressBasis
    public let phases: GrokkingPhases

    /// One concentration curve: its name in the output, its field and its values.
    public struct Concentration: Sendable {
        public let name: String
        public let field: String
        public let values: [Double]
    }

    /// Measures every checkpoint in order; `progress` hears of each one
    /// measured (and stops the work when it throws), `shouldStop` is asked before each.
    /// `keyFrequencies` (the Fourier case) or `keyRepresentations` (names, the group case)
    /// fix the key directions; without them they are found in the last checkpoint.
    public init(config: TransformerConfig, checkpoints: [Checkpoint], data: Dataset, keyFrequencies: [Int]? = nil,
                keyRepresentations: [String]? = nil, rules: PhaseRules = PhaseRules(),
                shouldStop: () -> Bool = { false }, progress: StepProgress? = nil) throws {
        guard let lastCheckpoint = checkpoints.last else {
            throw EngineError(.argument, "progress measures need checkpoints; train with a checkpoint interval (e.g. checkpoint 100)")
        }
        guard !config.attentionOnly else { throw EngineError(.argument, "progress measures need a model with an MLP") }
        let finalModel = try HookedTransformer(config: config, weights: Dictionary(uniqueKeysWithValues: lastCheckpoint.weights))
        let setup: Setup
        switch data.task {
        case .modular:
            if keyRepresentations != nil {
                throw EngineError(.argument, "key representations are for group datasets; \(data.task) is modular arithmetic: give key frequencies")
            }
            setup = try ProgressMeasures.fourier(finalModel, data: data, given: keyFrequencies)
        case .symmetricGroup, .cyclicGroup, .dihedralGroup:
            if keyFrequencies != nil {
                throw EngineError(.argument, "key frequencies are for modular arithmetic; \(data.task) is a group dataset: give key representations")
            }
            setup = try ProgressMeasures.group(finalModel, data: data, given: keyRepresentations)
        default:
            throw EngineError(.argument, "progress measures need modular arithmetic data (a+b, a−b, a·b or a÷b mod p) "
                + "or a group dataset (S_n, C_n, D_n); this is \(data.task)")
        }
        let isTrain = Set(data.trainIndices)
        let groupTrain = setup.inGroup.indices.filter { isTrain.contains(setup.inGroup[$0]) }
        let rows = ProgressRows(
            train: try Tensor(ints: data.trainIndices, shape: [data.trainIndices.count]),
            test: try Tensor(ints: data.testIndices, shape: [data.testIndices.count]),
            group: try Tensor(ints: setup.inGroup, shape: [setup.inGroup.count]),
            groupTrain: try Tensor(ints: groupTrain, shape: [groupTrain.count]))

        var measured: [[Double]] = []
        try progress?(0, checkpoints.count)
        for checkpoint in checkpoints {
            if shouldStop() { throw EngineError(.interrupted, "progress measures interrupted") }
            let model = try HookedTransformer(config: config, weights: Dictionary(uniqueKeysWithValues: checkpoint.weights))
            measured.append(try ProgressMeasures.measure(model, data: data, directions: setup.directions, rows: rows,
                                                         concentration: setup.concentration))
            try progress?(measured.count, checkpoints.count)
        }
        epochs = checkpoints.map(\.epoch)
        trainLoss = measured.map { $0[0] }
        testLoss = measured.map { $0[1] }
        restrictedLoss = measured.map { $0[2] }
        excludedLoss = measured.map { $0[3] }
        weightNorm = measured.map { $0[4] }
        concentration = setup.names.enumerated().map { i, name in
            Concentration(name: name.name, field: name.field, values: measured.map { $0[5 + i] })
        }
        basis = setup.basis
        phases = GrokkingPhases(PhaseCurves(
            epochs: epochs, trainLoss: trainLoss, testLoss: testLoss, restrictedLoss: restrictedLoss, excludedLoss: excludedLoss,
            settling: [("Σw²", weightNorm)] + concentration.map { ($0.name, $0.values) },
            chanceLoss: Foundation.log(Double(data.dVocabOut))), rules: rules)
    }

    /// What a basis gives the shared measurement: the key directions over the rows in the
    /// group, those rows, and how to measure W_E's and W_logit's concentration.
    struct Setup {
        let basis: ProgressBasis
        /// Row indices into the dataset of the inputs in the group.
        let inGroup: [Int]
        /// `[inGroup.count, r]`, orthonormal columns: the key directions over those rows.
        let directions: Tensor
        let names: [(name: String, field: String)]
        /// W_E `[d_vocab, d_model]` and W_logit `[d_mlp, d_vocab_out]` → one value per name.
        let concentration: (_ wE: Tensor, _ wLogit: Tensor) throws -> [Double]
    }

    /// `items` in order, each once (a key given twice must not count its directions twice).
    static func once<T: Hashable>(_ items: [T]) -> [T] {
        var seen = Set<T>()
        return items.filter { seen.insert($0).inserted }
    }

    /// The Fourier case: cos/sin(w(a ± b)) for the key frequencies over the operation's group.
    static func fourier(_ finalModel: HookedTransformer, data: Dataset, given: [Int]?) throws -> Setup {
        let structure = try ModularStructure(task: data.task)
        guard structure.sign != nil else {
            throw EngineError(.argument, "progress measures need an operation with a known Fourier structure (a+b, a−b, a·b or a÷b mod p); "
                + "\(data.task) has none")
        }
        let n = structure.order
        if let bad = given?.first(where: { $0 < 1 || $0 > n / 2 }) {
            throw EngineError(.argument, "key frequency \(bad) is outside 1...\(n / 2) for \(structure.basisDescription)")
        }
        let found = try given == nil ? FourierAnalysis(model: finalModel, structure: structure).key : nil
        // A frequency given twice would count its directions twice: each is kept once.
        let frequencies = given.map(ProgressMeasures.once) ?? found?.frequencies ?? []
        // The rows in the group (all of them for + and −; a, b ≠ 0 for · and ÷).
        let a = data.fieldValues[0], b = data.fieldValues[1]
        let inGroup = (0..<data.count).filter { structure.position(of: a[$0]) != nil && structure.position(of: b[$0]) != nil }
        let directions = try structure.sumDirections(a: inGroup.map { a[$0] }, b: inGroup.map { b[$0] }, frequencies: frequencies)
        return Setup(basis: .fourier(structure, frequencies: frequencies, found: found), inGroup: inGroup, directions: directions,
                     names: [("Gini W_E", "gini_embed"), ("Gini W_logit", "gini_logit")]) { wE, wLogit in
            let outputs = try structure.rowsInBasisOrder(wLogit.transposed().contiguous())               // [n, d_mlp]
            return [try FourierSpectrum(structure.rowsInBasisOrder(wE), basis: structure.basis).gini,
                    try FourierSpectrum(outputs, basis: structure.basis).gini]
        }
    }

    /// The group case: the entries of ρ(a·b) for the key representations.
    static func group(_ finalModel: HookedTransformer, data: Dataset, given: [String]?) throws -> Setup {
        let group = try FiniteGroup(task: data.task)
        let reps = group.representations
        let n = group.order
        var found: IrrepAnalysis? = nil
        let key: [Int]
        if let given {
            key = try ProgressMeasures.once(given).map { name in
                guard let i = reps.firstIndex(where: { $0.name == name }) else {
                    let hint = Suggest.closest(name, among: reps.map(\.name)).map { " (did you mean \($0)?)" } ?? ""
                    throw EngineError(.argument, "\(group.name) has no representation '\(name)'\(hint); it has \(reps.map(\.name).joined(separator: ", "))")
                }
                return i
            }
        } else {
            let analysis = try IrrepAnalysis(model: finalModel, data: data)
            found = analysis
            key = analysis.key
        }
        let labels = try data.labels.toInts()
        guard labels.count == n * n else {
            throw EngineError(.argument, "\(data.task): expected \(n * n) rows, one per pair of elements, got \(labels.count)")
        }
        let spans = key.map { IrrepAnalysis.entrySpan(reps[$0]) }
        let columns = spans.flatMap { $0 }
        // Column u ∘ (a·b): orthogonal over the full grid (each product appears n times); normalised here.
        var flat = [Double](repeating: 0, count: labels.count * columns.count)
        for (j, u) in columns.enumerated() {
            let norm = labels.reduce(0.0) { $0 + u[$1] * u[$1] }.squareRoot()
            for (row, t) in labels.enumerated() { flat[row * columns.count + j] = norm > 0 ? u[t] / norm : 0 }
        }
        let directions = try Tensor(float64: flat, shape: [labels.count, columns.count])
        return Setup(basis: .group(group, key: key, found: found), inGroup: Array(0..<labels.count), directions: directions,
                     names: [("key share W_E", "key_share_embed"), ("key share W_logit", "key_share_logit")]) { wE, wLogit in
            let embedding = try wE.slice(axis: 0, start: 0, end: n).contiguous().toDoubles()          // [n, d_model]
            let outputs = try wLogit.transposed().contiguous().toDoubles()                            // [n, d_mlp]
            let keyShare = { (rows: [Double], width: Int) in
                IrrepAnalysis.explained(rows, width: width, spans: spans).reduce(0, +)
            }
            return [keyShare(embedding, wE.shape[1]), keyShare(outputs, wLogit.shape[0])]
        }
    }

    /// Row indices: the train and test splits into the grid, the grid rows in
    /// the group, and the positions among those of the rows in the train split.
    struct ProgressRows {
        let train: Tensor
        let test: Tensor
        let group: Tensor
        let groupTrain: Tensor
    }

    /// [train loss, test loss, restricted loss, excluded loss, Σ w², concentration…] of one model.
    static func measure(_ model: any HookedModel, data: Dataset, directions: Tensor, rows: ProgressRows,
                        concentration: (_ wE: Tensor, _ wLogit: Tensor) throws -> [Double]) throws -> [Double] {
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
            return [try loss(logits, data.labels, rows.train), try loss(logits, data.labels, rows.test),
                    try loss(restricted, groupLabels, nil), try loss(excluded, groupLabels, rows.groupTrain), squares]
                + (try concentration(wE, wLogit))
        }
    }
}

/// The basis of a run's progress measures, with the key directions it used.
public enum ProgressBasis {
    /// A modular task's Fourier basis and key frequencies: given, or found in the
    /// last checkpoint (`found`, nil when they were given).
    case fourier(ModularStructure, frequencies: [Int], found: KeyFrequencies?)
    /// A group's representations and the key ones (indices into `representations`):
    /// given, or found in the last checkpoint by `IrrepAnalysis` (`found`).
    case group(FiniteGroup, key: [Int], found: IrrepAnalysis?)

    /// "ℤ_113", "discrete log, generator 3, over ℤ_6", "S_4 representations (ρ(a·b) entries)".
    public var description: String {
        switch self {
        case .fourier(let structure, _, _): return structure.basisDescription
        case .group(let group, _, _): return "\(group.name) representations (ρ(a·b) entries)"
        }
    }

    /// Which inputs the measures leave out, when some are ("residue 0 excluded").
    public var exclusionNote: String? {
        if case .fourier(let structure, _, _) = self { return structure.exclusionNote }
        return nil
    }

    /// How the key directions were chosen, in words.
    public var keySummary: String {
        switch self {
        case .fourier(_, let frequencies, let found):
            guard let found else { return "key frequencies \(frequencies.map(String.init).joined(separator: " ")) (given)" }
            return found.standsOut ? found.summary
                : "no frequency stands out in the last checkpoint (\(found.spread)): the restricted loss keeps only the mean"
        case .group(let group, let key, let found):
            let names = key.map { group.representations[$0].name }.joined(separator: ", ")
            guard let found else { return "key representations \(names) (given)" }
            if key.isEmpty {
                return "no representation has logit similarity > \(found.threshold) in the last checkpoint: the restricted loss keeps only the mean"
            }
            return "key representations \(names) (logit similarity > \(found.threshold) in the last checkpoint)"
        }
    }

    /// The key frequencies (Fourier case) or representation names (group case).
    public var keys: [String] {
        switch self {
        case .fourier(_, let frequencies, _): return frequencies.map(String.init)
        case .group(let group, let key, _): return key.map { group.representations[$0].name }
        }
    }
}
