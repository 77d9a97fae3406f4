import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroModels
import NeuroAnalysis
import NeuroPlots

/// The toy model of superposition (Elhage et al. 2022) in the language:
/// `superposition` trains one and reads its geometry; `superposition_sweep`
/// trains one per sparsity and shows how many dimensions each feature takes.
///
/// ```
/// r = superposition(n_features: 5, d_hidden: 2, sparsity: 0.95)
/// r.norms            # about 1.13 each: a regular pentagon
/// s = superposition_sweep(n_features: 5, d_hidden: 2, sparsities: [0, 0.9, 0.99])
/// ```
extension Builtins {
    static var toyModels: [Builtin] { [superposition, superpositionSweep] }

    /// The recipe both built-ins train with unless told: Adam at lr 1e-2 on
    /// 2000 fresh batches of 1024 (the paper's notebook: lr 1e-3, 10,000
    /// steps). Five features at sparsity 0.95 reach the pentagon within
    /// 1.5° for seeds 0–7; about half a second in a release build.
    static let toyDefaults = (steps: 2000, batch: 1024, lr: 1e-2)
    /// The sparsities a sweep trains at when not told: 1/(1 − S) = 1, 2, 5, 10, 20, 50, 100.
    static let defaultSparsities = [0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99]
    /// The most runs one sweep may make.
    static let maxSweepRuns = 100

    static let toyParameters = ["n_features", "d_hidden", "importance", "steps", "batch", "lr", "seed"]

    static let superposition = Builtin(
        "superposition",
        "superposition(n_features: 5, d_hidden: 2, sparsity: 0.95, importance: 1.0, steps: \(toyDefaults.steps), "
            + "batch: \(toyDefaults.batch), lr: \(Formatter.number(toyDefaults.lr)), seed: 0)",
        "train the toy model of superposition ReLU(WᵀW x + b) (Elhage et al. 2022) on sparse features and read its geometry: "
            + "per feature the norm ‖Wᵢ‖, superposition Σⱼ≠ᵢ (Ŵᵢ·Wⱼ)² and dimensionality",
        parameters: toyParameters + ["sparsity"], effects: .training
    ) { args in
        try args.expectAtMost(3)
        let settings = try toySettings(args)
        let sparsity = try args.number(2, "sparsity", default: 0.95)
        let reporter = args.interpreter.session.reporter("superposition: steps")
        defer { reporter.finish() }
        let (model, run) = try trainToy(settings, sparsity: sparsity, args: args, reporter: reporter)
        let g = try toyEngine(args) { try SuperpositionGeometry(weights: model.W) }
        let represented = g.norms.filter { $0 >= 0.5 }.count
        let result = ResultValue(
            heading: "toy model of superposition", figure: Figure.superposition, kind: "superposition",
            title: "toy model: \(settings.nFeatures) features in \(settings.dHidden) dimensions at sparsity \(Formatter.number(sparsity)) · "
                + "\(represented) with ‖Wᵢ‖ ≥ 0.5 · \(short(g.dimensionsPerFeature)) dimensions per feature · "
                + "loss \(short(run.finalLoss)) after \(run.losses.count) steps",
            fields: [("W", .tensor(model.W.detached())), ("b", .tensor(model.b.detached())),
                     ("norms", try tensor(g.norms)), ("superposition", try tensor(g.superposition)),
                     ("dimensionality", try tensor(g.dimensionality)),
                     ("dimensions_per_feature", .number(g.dimensionsPerFeature)),
                     ("loss", .number(run.finalLoss)), ("losses", try tensor(run.losses)),
                     ("sparsity", .number(sparsity)), ("importance", try tensor(settings.importance)),
                     ("n_features", .number(Double(settings.nFeatures))), ("d_hidden", .number(Double(settings.dHidden))),
                     ("steps", .number(Double(settings.steps))), ("batch", .number(Double(settings.batch))),
                     ("lr", .number(settings.lr)), ("seed", .number(Double(settings.seed)))],
            header: ["feature", "‖W‖", "superposition", "dimensionality", "importance"],
            rows: (0..<settings.nFeatures).map { i in
                [String(i), short(g.norms[i]), short(g.superposition[i]), short(g.dimensionality[i]), short(settings.importance[i])]
            },
            mainTensor: model.W.detached())
        return adoptResult(result, args)
    }

    static let superpositionSweep = Builtin(
        "superposition_sweep",
        "superposition_sweep(n_features: 5, d_hidden: 2, sparsities: [0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99], importance: 1.0, "
            + "steps: \(toyDefaults.steps), batch: \(toyDefaults.batch), lr: \(Formatter.number(toyDefaults.lr)), seed: 0)",
        "one toy model of superposition per sparsity (same seed): the dimensions per feature d_hidden / ‖W‖_F² and every feature's dimensionality",
        parameters: toyParameters + ["sparsities"], effects: .training
    ) { args in
        try args.expectAtMost(3)
        let settings = try toySettings(args)
        let sparsities = try sweepSparsities(args)
        var runs: [(geometry: SuperpositionGeometry, loss: Double)] = []
        // One line for the whole sweep: every model's steps counted together.
        let reporter = args.interpreter.session.reporter("superposition_sweep: \(sparsities.count) models, steps")
        defer { reporter.finish() }
        for (index, sparsity) in sparsities.enumerated() {
            let (model, run) = try trainToy(settings, sparsity: sparsity, args: args, reporter: reporter,
                                            stepsBefore: index * settings.steps, totalSteps: sparsities.count * settings.steps)
            let g = try toyEngine(args) { try SuperpositionGeometry(weights: model.W) }
            runs.append((g, run.finalLoss))
        }
        let n = settings.nFeatures, k = sparsities.count
        let grid = { (values: [Double]) in Value.tensor(try Tensor(float64: values, shape: [k, n])) }
        let perFeature = runs.map(\.geometry.dimensionsPerFeature)
        let result = ResultValue(
            heading: "superposition over sparsity", figure: Figure.superpositionSweep, kind: "superposition_sweep",
            title: "toy models: \(n) features in \(settings.dHidden) dimensions at \(k) sparsities · dimensions per feature "
                + "\(short(perFeature.first ?? .nan)) → \(short(perFeature.last ?? .nan))",
            fields: [("sparsities", try tensor(sparsities)), ("inverse_density", try tensor(sparsities.map { 1 / (1 - $0) })),
                     ("dimensions_per_feature", try tensor(perFeature)),
                     ("dimensionality", try grid(runs.flatMap(\.geometry.dimensionality))),
                     ("norms", try grid(runs.flatMap(\.geometry.norms))),
                     ("superposition", try grid(runs.flatMap(\.geometry.superposition))),
                     ("loss", try tensor(runs.map(\.loss))), ("importance", try tensor(settings.importance)),
                     ("n_features", .number(Double(n))), ("d_hidden", .number(Double(settings.dHidden))),
                     ("steps", .number(Double(settings.steps))), ("batch", .number(Double(settings.batch))),
                     ("lr", .number(settings.lr)), ("seed", .number(Double(settings.seed)))],
            header: ["sparsity", "1/(1−S)", "dims per feature", "min Dᵢ", "max Dᵢ", "loss"],
            rows: zip(sparsities, runs).map { sparsity, run in
                let d = run.geometry.dimensionality
                return [Formatter.number(sparsity), short(1 / (1 - sparsity)), short(run.geometry.dimensionsPerFeature),
                        short(d.min() ?? .nan), short(d.max() ?? .nan), short(run.loss)]
            },
            mainTensor: try Tensor(float64: runs.flatMap(\.geometry.dimensionality), shape: [k, n]))
        return adoptResult(result, args)
    }

    // MARK: - Arguments and training

    /// What both built-ins read besides the sparsity.
    struct ToySettings {
        let nFeatures, dHidden: Int
        let importance: [Double]
        let steps, batch: Int
        let lr: Double
        let seed: UInt64
    }

    static func toySettings(_ args: CallArguments) throws -> ToySettings {
        let n = try args.int(0, "n_features", default: 5)
        let d = try args.int(1, "d_hidden", default: 2)
        // Sizes first: the importance of an absurd n_features is never made.
        try toyEngine(args) {
            try ToySuperposition.checkSize(n, "n_features")
            try ToySuperposition.checkSize(d, "d_hidden")
        }
        let importance: [Double]
        switch args.value(nil, "importance") ?? .number(1) {
        case .number(let r): importance = try toyEngine(args) { try ToySuperposition.decayingImportance(r, count: n) }
        case let value:
            guard let list = numberList(value) else {
                throw args.error("'importance' must be a ratio r (Iᵢ = rⁱ) or a list of n_features numbers, got \(value.typeName)")
            }
            importance = list
        }
        return ToySettings(nFeatures: n, dHidden: d, importance: importance,
                           steps: try args.int(nil, "steps", default: toyDefaults.steps),
                           batch: try args.int(nil, "batch", default: toyDefaults.batch),
                           lr: try args.number(nil, "lr", default: toyDefaults.lr), seed: try args.seed(nil, default: 0))
    }

    /// The sweep's sparsities: a list of 1 to `maxSweepRuns` numbers, each in [0, 1).
    static func sweepSparsities(_ args: CallArguments) throws -> [Double] {
        guard let given = args.value(2, "sparsities") else { return defaultSparsities }
        guard let values = numberList(given), values.count >= 1, values.count <= maxSweepRuns else {
            throw args.error("'sparsities' must be a list of 1 to \(maxSweepRuns) numbers in [0, 1), got \(given.typeName)")
        }
        if let bad = values.firstIndex(where: { !($0 >= 0 && $0 < 1) }) {
            throw args.error("sparsities[\(bad)] must be in [0, 1) (the probability that a feature is 0), got \(Formatter.number(values[bad]))")
        }
        return values
    }

    /// A list of numbers as written (not rounded to float32 as a tensor
    /// made from it would be), or a 1-D tensor's values; nil for anything else.
    static func numberList(_ value: Value) -> [Double]? {
        switch value {
        case .list(let items):
            let numbers = items.compactMap { item -> Double? in if case .number(let n) = item { return n }; return nil }
            return numbers.count == items.count ? numbers : nil
        case .tensor(let t) where t.rank == 1: return t.toDoubles()
        default: return nil
        }
    }

    /// Trains a fresh toy model at `sparsity`, its steps shown on `reporter`'s
    /// line after `stepsBefore` of `totalSteps` (a sweep's earlier models).
    static func trainToy(_ s: ToySettings, sparsity: Double, args: CallArguments, reporter: ProgressReporter,
                         stepsBefore: Int = 0, totalSteps: Int? = nil) throws -> (ToySuperposition, ToyTrainingRun) {
        try toyEngine(args) {
            let model = try ToySuperposition(nFeatures: s.nFeatures, dHidden: s.dHidden, importance: s.importance, seed: s.seed)
            let features = try SyntheticFeatures(nFeatures: s.nFeatures, sparsity: sparsity)
            let run = try model.train(on: features, steps: s.steps, batchSize: s.batch, learningRate: s.lr, seed: s.seed,
                                      shouldStop: { Interruption.requested }) { p in
                reporter.show(stepsBefore + p.epoch, of: totalSteps ?? p.totalEpochs,
                              detail: "sparsity \(Formatter.number(sparsity))  loss \(String(format: "%.2g", p.trainLoss))")
            }
            return (model, run)
        }
    }

    /// Engine errors named by the built-in that was called (`superposition_sweep: sparsity …`).
    static func toyEngine<T>(_ args: CallArguments, _ body: () throws -> T) throws -> T {
        try args.engine {
            do { return try body() } catch let error as EngineError { throw error.about(args.function) }
        }
    }

    /// Four significant digits: `1.135`, `0.008919`, `2.5e-05`.
    static func short(_ x: Double) -> String {
        x.isFinite ? Formatter.number(Double(String(format: "%.4g", x)) ?? x) : Formatter.number(x)
    }
}

// MARK: - Pictures

extension Figure {
    /// The simple fractions of a dimension the paper's geometries give a
    /// feature: alone 1, tetrahedron 3/4, triangle 2/3, antipodal pair 1/2,
    /// pentagon 2/5, square antiprism 3/8.
    static let superpositionFractions: [(y: Double, label: String)] = [
        (1, "1"), (0.75, "3/4"), (2.0 / 3, "2/3"), (0.5, "1/2"), (0.4, "2/5"), (0.375, "3/8"),
    ]

    /// A `superposition` result: WᵀW and b as heatmaps, each feature's norm
    /// and superposition, its direction in the plane (for d_hidden = 2), the loss curve.
    static func superposition(_ r: ResultValue) throws -> Figure {
        let w = try r.tensor("W"), b = try r.doubles("b")
        let n = b.count
        let gram = try SuperpositionGeometry(weights: w).gram.toDoubles()
        let features = (0..<n).map(String.init)
        // b as a last column, on WᵀW's colour scale.
        let beside = (0..<n).map { i in Array(gram[(i * n)..<((i + 1) * n)]) + [b[i]] }
        var panels: [Panel] = [
            .heatmap(heatmap(title: "WᵀW (how features overlap) and b", facets: [.init(title: "", values: beside)],
                             rowLabels: features, columnLabels: features + ["b"], xLabel: "feature", yLabel: "feature")),
            .bars(BarPanel(title: "per feature: norm ‖Wᵢ‖ and superposition Σⱼ≠ᵢ (Ŵᵢ·Wⱼ)²", xLabel: "feature", yLabel: "",
                           categories: features, groups: [.init(name: "‖Wᵢ‖", values: try r.doubles("norms")),
                                                          .init(name: "superposition", values: try r.doubles("superposition"))])),
        ]
        if w.shape.first == 2 {
            let values = w.toDoubles()                                                        // [2, n]
            panels.append(.scatter(ScatterPanel(
                title: "feature directions Wᵢ in the hidden plane", xLabel: "hidden 0", yLabel: "hidden 1",
                groups: [.init(name: "features", points: (0..<n).map { (values[$0], values[n + $0]) }, labels: features)],
                square: true, fromOrigin: true, showLabels: true)))
        }
        let losses = try r.doubles("losses")
        panels.append(.lines(LinePanel(title: "training loss", xLabel: "step", yLabel: "loss",
                                       series: [.init(name: "loss", x: losses.indices.map { Double($0 + 1) }, y: losses)], logY: true)))
        return Figure(title: r.title, panels: panels)
    }

    /// A `superposition_sweep` result: every feature's dimensionality
    /// against 1/(1 − S) with the geometries' fractions as guides, and the
    /// dimensions per feature.
    static func superpositionSweep(_ r: ResultValue) throws -> Figure {
        let x = try r.doubles("inverse_density"), sparsities = try r.doubles("sparsities")
        let d = try r.doubles("dimensionality")
        let n = d.count / max(x.count, 1)
        var points: [(x: Double, y: Double)] = [], labels: [String] = []
        for (run, inverse) in x.enumerated() {
            for feature in 0..<n {
                points.append((inverse, d[run * n + feature]))
                labels.append("sparsity \(Formatter.number(sparsities[run])), feature \(feature)")
            }
        }
        let scatter = ScatterPanel(title: "dimensionality Dᵢ of every feature", xLabel: "1/(1−S)", yLabel: "dimensionality",
                                   groups: [.init(name: "features", points: points, labels: labels)],
                                   logX: true, guides: superpositionFractions)
        let perFeature = LinePanel(title: "dimensions per feature d_hidden / ‖W‖_F²", xLabel: "1/(1−S)", yLabel: "dimensions per feature",
                                   series: [.init(name: "dimensions per feature", x: x, y: try r.doubles("dimensions_per_feature"))],
                                   logX: true)
        return Figure(title: r.title, panels: [.scatter(scatter), .lines(perFeature)])
    }
}
