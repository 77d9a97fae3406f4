import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroPlots
import NeuroModels
import NeuroAnalysis

/// Built-ins for circuit discovery, probes, neuron statistics and PCA; each
/// returns a `ResultValue`. Circuits save as `.json` or Graphviz `.dot`:
///
/// ```
/// r = importance(model, method: "mean", threshold: 0.05)
/// c = circuit(model, tau: 0.01, with: corrupt(a + 1))
/// save(c, "circuit.dot")
/// p = probe(cache["blocks.0.hook_resid_post"][:, -1], data.a + data.b, kind: "linear")
/// ```
extension Builtins {
    static var circuits: [Builtin] { [importance, circuit, probe, correlate, neuronGrid, explainedVariance, scan] }

    // MARK: - Circuit discovery

    static let circuitParameters = ["model", "data", "method", "with", "metric", "split", "minimal", "sample", "seed"]

    /// The model, inputs, labels, ablation and metric a circuit built-in
    /// works on. `sample: n` keeps a seeded random n of the split's inputs
    /// (each pass of ACDC runs the model on all of them).
    static func circuitTarget(_ args: CallArguments) throws
        -> (model: any HookedModel, tokens: Tensor, labels: Tensor, ablation: CircuitAblation, detail: String, metric: Metric) {
        let target = try evaluationTarget(args)
        var rows = target.split.indices
        if args.value(nil, "sample") != nil {
            let sample = try args.int(nil, "sample")
            guard sample >= 1 else { throw args.error("'sample' must be at least 1, got \(sample)") }
            var rng = RandomGenerator(seed: try args.seed(nil, default: 0))
            rows = rng.permutation(rows.count).prefix(sample).sorted().map { rows[$0] }
        }
        let picked = try args.engine { try Tensor(ints: rows, shape: [rows.count]) }
        func select(_ t: Tensor) throws -> Tensor { try args.engine { try t.indexSelect(axis: 0, indices: picked) } }
        let data = target.data
        let corruption = try args.object(nil, "with", as: CorruptionObject.self, what: "corrupted inputs, corrupt(…)")
        let methodName = try args.string(nil, "method", default: corruption == nil ? "mean" : "patch")
        let ablation: CircuitAblation
        var detail = methodName
        switch methodName {
        case "zero": ablation = .zero
        case "mean": ablation = .mean
        case "patch":
            guard let corruption else { throw args.error("method \"patch\" needs 'with: corrupt(…)', the inputs to take activations from") }
            ablation = .patch(corrupted: try select(corruptedTokens(corruption, data.dataset, args.interpreter)))
            detail = "patch \(corruption.summary)"
        default:
            throw args.error("unknown method '\(methodName)' (zero, mean or patch)")
        }
        detail += " · \(target.description)"
        return (target.model.model, try select(data.dataset.tokens), try select(data.dataset.labels), ablation, detail,
                try metricArgument(args, default: .logitDiff))
    }

    /// A circuit's components and edges as language values, and its scores.
    static func circuitFields(_ c: Circuit) -> [(String, Value)] {
        func number(_ x: Double?) -> Value { x.map { .number($0) } ?? .none }
        let components: [Value] = c.components.map { component in
            .record(Record([("name", .string(component.name)), ("type", .string(component.node.kind.rawValue)),
                            ("layer", number(component.node.layer.map(Double.init))), ("importance", number(component.importance))]))
        }
        let edges: [Value] = c.links.map { link in
            .record(Record([("source", .string(link.source.name)), ("target", .string(link.target.name)),
                            ("input", link.input.map { .string($0.rawValue) } ?? .none), ("weight", .number(link.weight))]))
        }
        let s = c.scores
        return [("components", .list(components)), ("edges", .list(edges)),
                ("faithfulness", .number(s.faithfulness)), ("completeness", .number(s.completeness)),
                ("minimality", .number(s.minimality)), ("kl", .number(s.kl)), ("metric", .string(s.metric.rawValue)),
                ("full", .number(s.full)), ("circuit", .number(s.circuit)), ("complement", .number(s.complement)),
                ("empty", .number(s.empty))]
    }

    /// `faithfulness 98.1% · completeness 91.0% · minimality 100%`
    static func circuitScoreLine(_ s: CircuitScores) -> String {
        "faithfulness \(Formatter.percent(s.faithfulness)) · completeness \(Formatter.percent(s.completeness)) · minimality \(Formatter.percent(s.minimality))"
    }

    /// A result that also saves as the circuit's JSON and DOT.
    static func circuitResult(_ c: Circuit, kind: String, title: String, fields: [(String, Value)], header: [String],
                              rows: [[String]], mainTensor: Tensor?, _ args: CallArguments) -> Value {
        let result = ResultValue(figure: kind == "importance" ? Figure.importance : Figure.circuit,
                                 kind: kind, title: title, fields: fields, header: header, rows: rows, mainTensor: mainTensor)
        result.textFormats = ["json": { c.toJSON() }, "dot": { c.toDOT() }]
        result.circuit = c
        args.interpreter.session.results.append(result)
        return .object(result)
    }

    static let importance = Builtin(
        "importance", "importance(model, method: \"mean\", with: corrupt(a + 1), threshold: 0.05, metric: \"logit_diff\")",
        "importance of every head and MLP by zero/mean ablation or patching; those above the threshold form a circuit (save as .json or .dot)",
        parameters: circuitParameters + ["threshold"]
    ) { args in
        let t = try circuitTarget(args)
        let threshold = try args.number(nil, "threshold", default: 0.05)
        let minimal = try args.number(nil, "minimal", default: 0.01)
        let reporter = args.interpreter.session.reporter("importance (\(t.ablation.name) ablation): components")
        defer { reporter.finish() }
        let r = try args.engine {
            try CircuitDiscovery.importance(t.model, tokens: t.tokens, labels: t.labels, ablation: t.ablation, metric: t.metric,
                                            threshold: threshold, minimality: minimal, shouldStop: { Interruption.requested },
                                            progress: reporter.callback)
        }
        let kept = Set(r.circuit.components.map(\.node))
        let rows = r.components.map { row in
            [row.node.name, Formatter.number(row.ablated), Formatter.percent(row.importance), kept.contains(row.node) ? "✓" : ""]
        }
        let names = r.circuit.components.map(\.name).filter { $0 != "embed" && $0 != "unembed" }
        let title = "importance by \(t.detail) (\(t.metric.label) \(Formatter.number(r.clean)), baseline \(Formatter.number(r.baseline))): "
            + "circuit \(names.isEmpty ? "(none)" : names.joined(separator: " ")) · " + circuitScoreLine(r.circuit.scores)
        let fields: [(String, Value)] = [
            ("names", .list(r.components.map { .string($0.node.name) })),
            ("importance", try tensor(r.components.map(\.importance))), ("ablated", try tensor(r.components.map(\.ablated))),
            ("clean", .number(r.clean)), ("baseline", .number(r.baseline)), ("threshold", .number(threshold)),
            ("method", .string(t.detail)),
        ] + circuitFields(r.circuit)
        return circuitResult(r.circuit, kind: "importance", title: title, fields: fields,
                             header: ["component", "\(t.metric.label) ablated", "importance", "circuit"], rows: rows,
                             mainTensor: try vector(r.components.map(\.importance)), args)
    }

    static let circuit = Builtin(
        "circuit", "circuit(model, tau: 0.01, with: corrupt(a + 1), method: \"patch\", metric: \"logit_diff\")",
        "ACDC: prune every edge whose removal raises KL(full ∥ circuit) by less than tau (models without LayerNorm); save as .json or .dot",
        parameters: circuitParameters + ["tau"]
    ) { args in
        let t = try circuitTarget(args)
        let tau = try args.number(nil, "tau", default: 0.01)
        let minimal = try args.number(nil, "minimal", default: 0.01)
        let reporter = args.interpreter.session.reporter("circuit (ACDC τ = \(Formatter.number(tau)), \(t.ablation.name)): edges")
        defer { reporter.finish() }
        let r = try args.engine {
            try CircuitDiscovery.acdc(t.model, tokens: t.tokens, labels: t.labels, ablation: t.ablation, tau: tau, metric: t.metric,
                                      minimality: minimal, shouldStop: { Interruption.requested }, progress: reporter.callback)
        }
        let c = r.circuit
        let rows = c.links.sorted { $0.weight > $1.weight }.map { link in
            [link.source.name, link.target.name, link.input.map(\.rawValue) ?? "", Formatter.number(link.weight)]
        }
        let title = "ACDC τ = \(Formatter.number(tau)) by \(t.detail): kept \(c.links.count) of \(r.edgeCount) edges, "
            + "\(c.components.count - 2) components · KL \(Formatter.number(c.scores.kl)) · " + circuitScoreLine(c.scores)
        let fields: [(String, Value)] = [("tau", .number(tau)), ("edge_count", .number(Double(r.edgeCount))),
                                         ("passes", .number(Double(r.passes))), ("method", .string(t.detail))] + circuitFields(c)
        return circuitResult(c, kind: "circuit", title: title, fields: fields, header: ["source", "target", "input", "ΔKL"],
                             rows: rows, mainTensor: try vector(c.links.map(\.weight)), args)
    }

    // MARK: - Probes and neuron statistics

    static let probe = Builtin(
        "probe", "probe(acts, target, kind: \"linear\", holdout: 0.2, seed: 0)",
        "linear (least squares, R²) or logistic (softmax regression, accuracy) probe of activations [samples, features] on a held-out split",
        parameters: ["acts", "target", "kind", "holdout", "seed", "steps", "lr"]
    ) { args in
        let acts = try args.floats(0, "acts")
        let target = try args.tensor(1, "target")
        let kind = try args.string(nil, "kind", default: "linear")
        let holdout = try args.number(nil, "holdout", default: 0.2)
        let seed = try args.seed(nil, default: 0)
        let result: ResultValue
        switch kind {
        case "linear":
            let p = try args.engine { try LinearProbe(x: acts, y: target, holdout: holdout, seed: seed) }
            let test = p.testR2.map { Formatter.number(round3($0)) } ?? "–"
            result = ResultValue(
                figure: Figure.probe,
                kind: "probe", title: "linear probe: R² \(Formatter.number(round3(p.trainR2))) on \(p.split.train.count) training samples, \(test) on \(p.split.test.count) held out",
                fields: [("kind", .string(kind)), ("weights", .tensor(p.weights)), ("bias", .tensor(p.bias)),
                         ("train_r2", .number(p.trainR2)), ("test_r2", p.testR2.map { .number($0) } ?? .none),
                         ("train_count", .number(Double(p.split.train.count))), ("test_count", .number(Double(p.split.test.count)))],
                header: ["split", "samples", "R²"],
                rows: [["train", String(p.split.train.count), Formatter.number(round3(p.trainR2))], ["held out", String(p.split.test.count), test]],
                mainTensor: p.weights)
        case "logistic":
            let steps = try args.int(nil, "steps", default: 300)
            let lr = try args.number(nil, "lr", default: 0.1)
            let p = try args.engine {
                try LogisticProbe(x: acts, labels: target, holdout: holdout, seed: seed, steps: steps, learningRate: lr,
                                  shouldStop: { Interruption.requested })
            }
            let test = p.testAccuracy.map(Formatter.percent) ?? "–"
            result = ResultValue(
                figure: Figure.probe,
                kind: "probe", title: "logistic probe over \(p.classes) classes: accuracy \(Formatter.percent(p.trainAccuracy)) on \(p.split.train.count) training samples, \(test) on \(p.split.test.count) held out",
                fields: [("kind", .string(kind)), ("weights", .tensor(p.weights)), ("bias", .tensor(p.bias)),
                         ("classes", .number(Double(p.classes))), ("train_accuracy", .number(p.trainAccuracy)),
                         ("test_accuracy", p.testAccuracy.map { .number($0) } ?? .none), ("train_loss", .number(p.trainLoss)),
                         ("train_count", .number(Double(p.split.train.count))), ("test_count", .number(Double(p.split.test.count)))],
                header: ["split", "samples", "accuracy"],
                rows: [["train", String(p.split.train.count), Formatter.percent(p.trainAccuracy)], ["held out", String(p.split.test.count), test]],
                mainTensor: p.weights)
        default:
            throw args.error("unknown kind '\(kind)' (linear or logistic)")
        }
        args.interpreter.session.results.append(result)
        return .object(result)
    }

    static func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

    /// Numbers as a Float64 tensor [count].
    static func vector(_ values: [Double]) throws -> Tensor { try Tensor(float64: values, shape: [values.count]) }

    static let correlate = Builtin(
        "correlate", "correlate(acts, target)",
        "Pearson correlation of every neuron (last axis of acts) with a target such as data.a + data.b, strongest first",
        parameters: ["acts", "target"]
    ) { args in
        let acts = try args.floats(0, "acts")
        let target = try args.tensor(1, "target")
        let c = try args.engine { try NeuronCorrelation(activations: acts, target: target) }
        let title = c.ranking.first.map { "\(c.correlations.count) neurons · strongest: neuron \($0.neuron), r = \(Formatter.number(round3($0.r)))" }
            ?? "no neurons"
        let result = ResultValue(
            heading: "neuron correlation", figure: Figure.correlation,
            kind: "correlation", title: title,
            fields: [("r", try tensor(c.correlations)), ("ranking", numbers(c.ranking.map(\.neuron))),
                     ("top", .list(c.ranking.prefix(10).map { .number(Double($0.neuron)) }))],
            header: ["neuron", "r"], rows: c.ranking.map { [String($0.neuron), Formatter.number(round3($0.r))] },
            mainTensor: try vector(c.correlations))
        result.shownRows = 10
        args.interpreter.session.results.append(result)
        return .object(result)
    }

    static let neuronGrid = Builtin(
        "neuron_grid", "neuron_grid(model, layer: 0, site: \"mlp_post\", p: 113)",
        "last-position activations over every input pair: grid[a, b, neuron], [p, p, neurons]",
        parameters: ["model", "layer", "site", "p"]
    ) { args in
        let (model, p) = try modularTarget(args)
        let layer = try args.int(nil, "layer", default: 0)
        let siteName = try args.string(nil, "site", default: "mlp_post")
        let resolver = model.model.hooks
        let point = try args.engine {
            try siteName.contains(".") ? resolver.point(named: siteName) : resolver.point(short: siteName, layer: layer)
        }
        let site = point.site
        let grid = try args.engine { try NeuronGrid.activations(model.model, p: p, layer: point.layer ?? 0, site: site) }   // [p, p, features]
        let features = grid.shape[2]
        let flat = try args.engine { try grid.reshaped([p * p, features]) }
        let mean = try args.engine { try flat.mean(axes: [0]).toDoubles() }
        let spread = try args.engine { try flat.variance(axes: [0], correction: 0).sqrt().toDoubles() }
        let peak = try args.engine { try flat.max(axis: 0).toDoubles() }
        let order = (0..<features).sorted { spread[$0] != spread[$1] ? spread[$0] > spread[$1] : $0 < $1 }
        let result = ResultValue(
            heading: "neuron activations", figure: Figure.neuronGrid,
            kind: "grid", title: "\(point.name) over (a, b): grid \(formatShape(grid.shape)) · most varying first",
            fields: [("grid", .tensor(grid)), ("p", .number(Double(p))), ("layer", point.layer.map { .number(Double($0)) } ?? .none),
                     ("site", .string(point.name)), ("std", try tensor(spread))],
            header: ["neuron", "mean", "std", "max"],
            rows: order.map { [String($0), Formatter.number(round3(mean[$0])), Formatter.number(round3(spread[$0])), Formatter.number(round3(peak[$0]))] },
            mainTensor: grid)
        result.shownRows = 10
        args.interpreter.session.results.append(result)
        return .object(result)
    }

    // MARK: - PCA

    static let explainedVariance = Builtin(
        "explained_variance", "explained_variance(x, k: 10, center: true)",
        "PCA of any activation (all dimensions but the last are samples) with each component's share of the variance",
        parameters: ["x", "k", "center"]
    ) { args in
        let x = try args.floats(0, "x")
        let k = args.value(1, "k") == nil ? nil : try args.int(1, "k")
        let center = try args.bool(nil, "center", default: true)
        let r = try args.engine { try ActivationPCA(x, components: k, center: center) }
        let variances = r.explainedVariance.toDoubles()
        let rows = r.ratios.indices.map { i in
            [String(i), Formatter.number(round3(variances[i])), Formatter.percent(r.ratios[i]), Formatter.percent(r.cumulative[i])]
        }
        let title = "PCA of \(r.samples) samples × \(r.features) features: \(r.ratios.count) components explain \(Formatter.percent(r.cumulative.last ?? 0))"
        let result = ResultValue(
            heading: "PCA", figure: Figure.pca,
            kind: "pca", title: title,
            fields: [("components", .tensor(r.components)), ("projected", .tensor(r.projected)),
                     ("explained_variance", .tensor(r.explainedVariance)), ("explained_variance_ratio", try tensor(r.ratios)),
                     ("cumulative", try tensor(r.cumulative)), ("singular_values", try tensor(r.singularValues)), ("mean", .tensor(r.mean))],
            header: ["component", "variance", "share", "cumulative"], rows: rows, mainTensor: r.projected)
        result.shownRows = 10
        args.interpreter.session.results.append(result)
        return .object(result)
    }
}

// MARK: - Pictures

extension Figure {
    /// An `importance` result: each component's importance as bars, and the circuit it keeps.
    static func importance(_ r: ResultValue) throws -> Figure {
        Figure(title: r.title, panels: [.bars(BarPanel(title: "importance", xLabel: "component", yLabel: "importance",
                                                       categories: r.strings("names"), groups: [.init(name: "importance", values: try r.doubles("importance"))])),
                                        .circuit(try circuitPanel(r))])
    }

    /// A `circuit` result: its diagram.
    static func circuit(_ r: ResultValue) throws -> Figure { Figure(title: r.title, panels: [.circuit(try circuitPanel(r))]) }

    /// A `probe` result: its weights.
    static func probe(_ r: ResultValue) throws -> Figure {
        Figure(title: r.title, panels: [try tensorPanel(r.tensor("weights"), title: "probe weights", xLabel: "output", yLabel: "feature")])
    }

    /// A `correlate` result: each neuron's correlation with the target.
    static func correlation(_ r: ResultValue) throws -> Figure {
        let rs = try r.doubles("r")
        return Figure(title: r.title, panels: [.scatter(ScatterPanel(title: "correlation of each neuron with the target", xLabel: "neuron", yLabel: "r",
                                                                     groups: [.init(name: "r", points: rs.enumerated().map { (Double($0.offset), $0.element) },
                                                                                    labels: rs.indices.map { "neuron \($0)" })]))])
    }

    /// A `neuron_grid` result: the most varying neurons over (a, b).
    static func neuronGrid(_ r: ResultValue) throws -> Figure { Figure(title: r.title, panels: [.heatmap(try neuronGridPanel(r))]) }

    /// An `explained_variance` result: samples on two components, and each component's share.
    static func pca(_ r: ResultValue) throws -> Figure { Figure(title: r.title, panels: try pcaPanels(r)) }

    /// The first two principal components as a scatter, and each component's share of the variance.
    static func pcaPanels(_ r: ResultValue) throws -> [Panel] {
        let projected = try r.tensor("projected")
        let ratios = try r.doubles("explained_variance_ratio")
        let bars = Panel.bars(BarPanel(title: "share of the variance", xLabel: "component", yLabel: "share",
                                       categories: ratios.indices.map(String.init), groups: [.init(name: "share", values: ratios)]))
        guard projected.rank == 2, projected.shape[1] >= 2 else { return [bars] }
        let values = projected.toDoubles(), k = projected.shape[1]
        let points = (0..<projected.shape[0]).map { (values[$0 * k], values[$0 * k + 1]) }
        let scatter = ScatterPanel(title: "samples on the first two principal components", xLabel: "PC 0", yLabel: "PC 1",
                                   groups: [.init(name: "samples", points: points, labels: points.indices.map { "sample \($0)" })])
        return [.scatter(scatter), bars]
    }

    /// A tensor field: 1-D (or one column) as bars, 2-D as a heatmap.
    static func tensorPanel(_ t: Tensor, title: String, xLabel: String, yLabel: String) throws -> Panel {
        let values = t.toDoubles()
        if t.rank <= 1 || t.shape.dropFirst().reduce(1, *) == 1 {
            return .bars(BarPanel(title: title, xLabel: yLabel, yLabel: "weight", categories: values.indices.map(String.init),
                                  groups: [.init(name: title, values: values)]))
        }
        let rows = t.shape[0], columns = values.count / max(rows, 1)
        return .heatmap(heatmap(title: title, facets: [.init(title: "", values: grid(values, rows: rows, columns: columns))],
                                rowLabels: (0..<rows).map(String.init), columnLabels: (0..<columns).map(String.init),
                                xLabel: xLabel, yLabel: yLabel))
    }

    /// The six neurons whose activations vary most, each over the (a, b) grid.
    static func neuronGridPanel(_ r: ResultValue) throws -> HeatmapPanel {
        let g = try r.tensor("grid")   // [p, p, neurons]
        guard g.rank == 3 else { throw RuntimeError("a grid result holds a [p, p, neurons] grid, not \(formatShape(g.shape))") }
        let (p, q, n) = (g.shape[0], g.shape[1], g.shape[2])
        let spread = try r.doubles("std")
        let order = (0..<n).sorted { spread[$0] != spread[$1] ? spread[$0] > spread[$1] : $0 < $1 }.prefix(6)
        let values = g.toDoubles()
        let facets = order.map { neuron in
            HeatmapPanel.Facet(title: "neuron \(neuron)",
                               values: (0..<p).map { a in (0..<q).map { b in values[(a * q + b) * n + neuron] } })
        }
        return heatmap(title: "\(r.string("site")): the most varying neurons over (a, b)", facets: facets,
                       rowLabels: (0..<p).map(String.init), columnLabels: (0..<q).map(String.init), xLabel: "b", yLabel: "a")
    }

    /// A circuit's components and edges, read off the circuit the result was made from.
    static func circuitPanel(_ r: ResultValue) throws -> CircuitPanel {
        guard let c = r.circuit else { throw RuntimeError("a \(r.kind) result holds no circuit to draw") }
        let nodes = c.components.map { component in
            CircuitDiagram.Node(name: component.name, type: component.node.kind.rawValue, layer: component.node.layer,
                                head: component.node.head, importance: component.importance)
        }
        let edges = c.links.map { link in
            CircuitDiagram.Edge(source: link.source.name, target: link.target.name, input: link.input?.rawValue, weight: link.weight)
        }
        let scores = ["faithfulness", "completeness", "minimality"].map { "\($0) \(Formatter.percent(r.number($0)))" }
        return CircuitPanel(title: "circuit · " + scores.joined(separator: " · "), nodes: nodes, edges: edges)
    }
}
