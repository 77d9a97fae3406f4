import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroPlots
import NeuroModels
import NeuroAnalysis

/// Built-ins for analyzers; each returns a `ResultValue`.
extension Builtins {
    static var analysis: [Builtin] { [fourier, progress] + circuits + patching + plotting + autoencoders + toyModels + residual + [factoredMatrix, irreps] }

    /// The model, and p from the dataset (or the model's outputs), for modular analyses.
    static func modularTarget(_ args: CallArguments) throws -> (ModelObject, Int) {
        let session = args.interpreter.session
        let model = try args.object(0, "model", as: ModelObject.self, what: "a model") ?? session.requireModel(args.function)
        if args.value(nil, "p") != nil { return (model, try args.int(nil, "p")) }
        if let data = try modularData(args) {
            guard data.isModular else {
                throw args.error("needs modular arithmetic data; the \(args.value(nil, "data") == nil ? "current " : "")dataset is \(data.task) (give p: to analyse anyway)")
            }
            return (model, data.modulus)
        }
        return (model, model.model.config.dVocabOut)
    }

    /// The dataset a modular analysis reads its task from: `data:` when the
    /// built-in takes it and it is given, else the session's current dataset.
    static func modularData(_ args: CallArguments) throws -> Dataset? {
        try args.object(nil, "data", as: DatasetObject.self, what: "a dataset")?.dataset ?? args.interpreter.session.data?.dataset
    }

    static func tensor(_ values: [Double]) throws -> Value { .tensor(try Tensor(float64: values, shape: [values.count])) }
    static func numbers(_ values: [Int]) -> Value { .list(values.map { .number(Double($0)) }) }

    /// The Fourier structure `fourier` reads the model in: `op:` when given,
    /// else the operation of `data:` or the current dataset, else addition.
    /// Plain a+b data and non-arithmetic data are read in the additive basis
    /// with no logit formula.
    static func fourierStructure(_ args: CallArguments, p: Int) throws -> ModularStructure {
        if args.value(nil, "op") != nil {
            let name = try args.string(nil, "op")
            guard let op = ModularOperation(rawValue: name) else {
                let names = ModularOperation.allCases.map(\.rawValue)
                let hint = Suggest.closest(name, among: names).map { "; did you mean '\($0)'?" } ?? ""
                throw args.error("unknown operation '\(name)'\(hint) (one of \(names.joined(separator: ", ")))")
            }
            return try args.engine { try ModularStructure(op, p: p) }
        }
        guard let data = try modularData(args) else { return try args.engine { try ModularStructure(.add, p: p) } }
        return try args.engine {
            switch data.task {
            case let .modular(op, _): return try ModularStructure(op, p: p)
            case .addition where data.modulus == p: return try ModularStructure(task: data.task)
            default: return try ModularStructure.embeddingOnly(p: p, reason: "the dataset is \(data.task), not arithmetic mod \(p)")
            }
        }
    }

    static let fourier = Builtin("fourier", "fourier(model, data: d, p: 113, op: \"+\")",
                                 "Fourier analysis of a modular-arithmetic model in its operation's basis: key frequencies from W_E, neuron clusters, W_logit, logit fit",
                                 parameters: ["model", "data", "p", "op"]) { args in
        let (model, p) = try modularTarget(args)
        let structure = try fourierStructure(args, p: p)
        let f = try args.engine { try FourierAnalysis(model: model.model, structure: structure) }
        let logitFractions = f.logitWeights?.fractions ?? []
        var neuronCounts = [Int: Int]()
        for n in f.neurons where n.fraction >= 0.5 { neuronCounts[n.frequency, default: 0] += 1 }
        let rows = zip(f.key.frequencies, f.key.fractions).map { k, share -> [String] in
            [String(k), Formatter.percent(share), logitFractions.isEmpty ? "–" : Formatter.percent(logitFractions[k - 1]),
             String(neuronCounts[k] ?? 0)]
        }
        let basis = "basis: " + structure.basisDescription + (structure.exclusionNote.map { ", " + $0 } ?? "")
        let embedding = f.key.standsOut
            ? "\(f.key.summary) · explain \(Formatter.percent(f.circularity)) of the embedding (an even spread would give \(Formatter.percent(f.key.chance)))"
            : f.key.summary
        let fit: String
        if let value = f.logitFit, let formula = structure.logitFormula {
            fit = "logits fit \(formula) \(Formatter.percent(value))"
        } else {
            fit = "logit fit n/a: \(f.logitFitNote ?? "no formula")"
        }
        let result = ResultValue(
            heading: "Fourier analysis", figure: Figure.fourier,
            kind: "fourier", title: [basis, embedding, fit].joined(separator: " · "),
            fields: [("key_freqs", numbers(f.key.frequencies)), ("key_fractions", try tensor(f.key.fractions)),
                     ("stands_out", .bool(f.key.standsOut)), ("largest_share", .number(f.key.largestShare)),
                     ("lift", .number(f.key.lift)),
                     ("norms", try tensor(f.embedding.norms)), ("cos_norms", try tensor(f.embedding.cosNorms)),
                     ("sin_norms", try tensor(f.embedding.sinNorms)), ("constant_norm", .number(f.embedding.constantNorm)),
                     ("circularity", .number(f.circularity)), ("chance", .number(f.key.chance)),
                     ("sharpness", .number(f.key.sharpness)), ("gini", .number(f.embedding.gini)),
                     ("logit_norms", f.logitWeights.map { try? tensor($0.norms) }.flatMap { $0 } ?? .none),
                     ("logit_fit", f.logitFit.map { .number($0) } ?? .none),
                     ("logit_formula", structure.logitFormula.map { .string($0) } ?? .none),
                     ("neuron_freqs", .tensor(try Tensor(ints: f.neurons.map(\.frequency), shape: [f.neurons.count]))),
                     ("neuron_fractions", try tensor(f.neurons.map(\.fraction))),
                     ("circles", .record(Record(f.circles.map { (String($0.frequency), .tensor($0.points)) }))),
                     ("basis", .string(structure.basisDescription)), ("residues", numbers(structure.residues)),
                     ("p", .number(Double(p)))],
            header: ["freq", "embedding share", "W_logit share", "neurons (≥50%)"], rows: rows,
            mainTensor: try Tensor(float64: f.embedding.norms, shape: [f.embedding.norms.count]))
        args.interpreter.session.results.append(result)
        return .object(result)
    }

    static let progress = Builtin("progress", "progress(model, key_freqs: [..], key_reps: [..], settle_window: 1000, settle_tol: 0.01)",
                                  "progress measures over the training checkpoints: restricted and excluded loss, Gini or key share, weight norm, phases by stated rules",
                                  parameters: ["model", "key_freqs", "key_reps", "settle_window", "settle_tol"]) { args in
        let session = args.interpreter.session
        let model = try args.object(0, "model", as: ModelObject.self, what: "a model") ?? session.requireModel("progress")
        guard let trainer = model.trainer else {
            throw args.error("the model has no training run; train it with a checkpoint interval (train model on data … checkpoint 100) or load a saved run")
        }
        var frequencies: [Int]? = nil
        if let listed = args.value(nil, "key_freqs") {
            guard case .list(let items) = listed else { throw args.error("'key_freqs' must be a list of frequencies") }
            frequencies = try items.map { try Operators.integer($0, what: "frequency", at: args.range) }
        }
        var representations: [String]? = nil
        if let listed = args.value(nil, "key_reps") {
            guard case .list(let items) = listed else { throw args.error("'key_reps' must be a list of representation names, e.g. [\"[3,1]\", \"[1,1,1,1]\"]") }
            representations = try items.map { item in
                guard case .string(let name) = item else {
                    throw args.error("'key_reps' holds representation names (strings such as \"[3,1]\"), got \(item.typeName)")
                }
                return name
            }
        }
        let rules = PhaseRules(settleWindow: try args.int(nil, "settle_window", default: 1000),
                               settleTolerance: try args.number(nil, "settle_tol", default: 0.01))
        guard rules.settleWindow >= 1 else { throw args.error("'settle_window' must be 1 epoch or more, got \(rules.settleWindow)") }
        guard rules.settleTolerance > 0, rules.settleTolerance.isFinite else {
            throw args.error("'settle_tol' must be a positive fraction (0.01 is 1%), got \(rules.settleTolerance)")
        }
        let reporter = args.interpreter.session.reporter("progress: checkpoints")
        defer { reporter.finish() }
        let m = try args.engine {
            try ProgressMeasures(config: model.model.config, checkpoints: trainer.checkpoints, data: trainer.data,
                                 keyFrequencies: frequencies, keyRepresentations: representations, rules: rules,
                                 shouldStop: { Interruption.requested }, progress: reporter.callback)
        }
        let step = max(1, m.epochs.count / 12)
        let rows = stride(from: 0, to: m.epochs.count, by: step).map { i -> [String] in
            let losses: [String] = [m.trainLoss[i], m.testLoss[i], m.restrictedLoss[i], m.excludedLoss[i]].map { String(format: "%.3g", $0) }
            let shares: [String] = m.concentration.map { String(format: "%.2f", $0.values[i]) }
            return [String(m.epochs[i])] + losses + shares + [String(format: "%.1f", m.weightNorm[i])]
        }
        let keyField: (String, Value)
        switch m.basis {
        case .fourier(_, let frequencies, _): keyField = ("key_freqs", numbers(frequencies))
        case .group: keyField = ("key_reps", .list(m.basis.keys.map { .string($0) }))
        }
        let result = ResultValue(
            heading: "progress measures", figure: Figure.progress,
            kind: "progress", title: "basis: \(m.basis.description)\(m.basis.exclusionNote.map { ", " + $0 } ?? "") · phases: \(m.phases) · \(m.basis.keySummary)",
            fields: [("epochs", numbers(m.epochs)), ("train_loss", try tensor(m.trainLoss)), ("test_loss", try tensor(m.testLoss)),
                     ("restricted_loss", try tensor(m.restrictedLoss)), ("excluded_loss", try tensor(m.excludedLoss))]
                + (try m.concentration.map { ($0.field, try tensor($0.values)) })
                + [("weight_norm", try tensor(m.weightNorm)), keyField,
                   ("basis", .string(m.basis.description)),
                   ("phases", phaseRanges(m.phases)), ("phase_rules", phaseRules(m.phases)),
                   ("phase_checks", .list(m.phases.checks.map { .string($0) }))],
            header: ["epoch", "train", "test", "restricted", "excluded"] + m.concentration.map(\.name) + ["Σw²"], rows: rows,
            mainTensor: try Tensor.stack([m.trainLoss, m.testLoss, m.restrictedLoss, m.excludedLoss].map {
                try Tensor(float64: $0, shape: [$0.count])
            }, axis: 1))
        result.notes = m.phases.explanation
        session.results.append(result)
        return .object(result)
    }

    /// Each phase's [start, end] epochs, or a string saying why it is undefined.
    static func phaseRanges(_ phases: GrokkingPhases) -> Value {
        .record(Record(phases.named.map { phase in
            (phase.name, phase.range.map { .list([.number(Double($0.lowerBound)), .number(Double($0.upperBound))]) }
                ?? .string("undefined: " + phase.why))
        }))
    }

    /// Each boundary's epoch (none when undefined), the rule that places it and what was measured there.
    static func phaseRules(_ phases: GrokkingPhases) -> Value {
        .record(Record([("memorization_end", phases.memorizationEnd), ("grokking_onset", phases.grokkingOnset),
                        ("cleanup_end", phases.cleanupEnd)].map { name, b in
            (name, .record(Record([("epoch", b.epoch.map { .number(Double($0)) } ?? .none), ("rule", .string(b.rule)),
                                   ("measured", .string(b.measured))])))
        }))
    }
}

// MARK: - Pictures

extension Figure {
    /// A `fourier` result: W_E's spectrum, and its circles in the key frequencies' planes.
    static func fourier(_ r: ResultValue) throws -> Figure { Figure(title: r.title, panels: try fourierPanels(r)) }

    /// A `progress` result: its losses, with the start of each phase.
    static func progress(_ r: ResultValue) throws -> Figure { Figure(title: r.title, panels: [.lines(try progressPanel(r))]) }

    /// W_E's cos and sin norms per frequency, and its circles in the key frequencies' planes.
    static func fourierPanels(_ r: ResultValue) throws -> [Panel] {
        let cos = try r.doubles("cos_norms"), sin = try r.doubles("sin_norms")
        let bars = BarPanel(title: "Fourier components of W_E", xLabel: "frequency", yLabel: "norm",
                            categories: cos.indices.map { String($0 + 1) },
                            groups: [.init(name: "cos", values: cos), .init(name: "sin", values: sin)])
        guard case .record(let circles)? = r.fields["circles"], !circles.keys.isEmpty else { return [.bars(bars)] }
        let groups = try circles.pairs.map { frequency, value -> ScatterPanel.Group in
            let points = try value.asTensor().toDoubles()   // [p, 2]
            let count = points.count / 2
            return .init(name: "k = \(frequency)", points: (0..<count).map { (points[2 * $0], points[2 * $0 + 1]) },
                         labels: (0..<count).map { "a = \($0)" })
        }
        let scatter = ScatterPanel(title: "embedding circles: W_E in each key frequency's cos/sin plane", xLabel: "cos direction",
                                   yLabel: "sin direction", groups: groups, square: true, colourByIndex: true)
        return [.bars(bars), .scatter(scatter)]
    }

    /// Train, test, restricted and excluded loss on a log scale, with each phase shaded and
    /// labelled where it is, and the end of cleanup marked. Test and excluded loss, which
    /// rise together during circuit formation, get far-apart hues and different dashes.
    static func progressPanel(_ r: ResultValue) throws -> LinePanel {
        let x = try r.doubles("epochs")
        let series = try progressSeries.map { LinePanel.Series(name: $0.name, x: x, y: try r.doubles($0.field), color: $0.color, dashed: $0.dashed) }
        var spans: [(from: Double, to: Double, label: String)] = []
        var markers: [(x: Double, label: String)] = []
        if case .record(let phases)? = r.fields["phases"] {
            let found = phases.pairs.compactMap { name, range -> (name: String, start: Double, end: Double)? in
                guard case .list(let bounds) = range, bounds.count == 2, case .number(let start) = bounds[0],
                      case .number(let end) = bounds[1], end >= start else { return nil }
                return (name, start, end)
            }
            // Phases all at one epoch mean none was found (too few checkpoints).
            if found.contains(where: { $0.end > $0.start }) {
                for phase in found {
                    if phase.end > phase.start { spans.append((phase.start, phase.end, phase.name.replacingOccurrences(of: "_", with: " "))) }
                    if phase.name == "cleanup" { markers.append((phase.end, "cleanup ends")) }
                }
            }
        }
        // A line at each boundary between phases (the spans' shades show the phases themselves).
        for (previous, next) in zip(spans, spans.dropFirst()) where previous.to == next.from && !markers.contains(where: { $0.x == next.from }) {
            markers.append((next.from, ""))
        }
        return LinePanel(title: "progress measures", xLabel: "epoch", yLabel: "loss", series: series, logY: true, markers: markers, spans: spans)
    }

    /// The progress curves: field, name, colour (Okabe–Ito) and dash.
    static let progressSeries: [(field: String, name: String, color: String, dashed: Bool)] = [
        ("train_loss", "train", "#0072b2", false),          // blue
        ("test_loss", "test", "#d55e00", false),            // vermillion
        ("restricted_loss", "restricted", "#cc79a7", true), // reddish purple
        ("excluded_loss", "excluded", "#009e73", true),     // bluish green, far from the test loss's vermillion
    ]
}
