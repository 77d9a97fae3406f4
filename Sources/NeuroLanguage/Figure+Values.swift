import Foundation
import NeuroEngine
import NeuroModels
import NeuroAnalysis
import NeuroPlots

// The natural picture of each value `plot` accepts: tensors by rank, every
// analysis result by its kind, training runs and interventions.

extension Figure {
    /// What `plot` can draw, for the error on anything else.
    static let plottable = "a tensor or list of numbers (1-D line, 2-D heatmap, 3-D heatmaps), a training run (model.history or "
        + "the result of train), a trained model, an intervention (patch, ablate, hook), or the result of fourier, progress, sweep, "
        + "attribute, path_patch, pc_ablate, importance, circuit, probe, correlate, neuron_grid or explained_variance"

    /// Most facets drawn from a 3-D tensor (the rest are left out, and the title says so).
    static let maxFacets = 16

    /// The natural picture of a value, or an error saying what can be plotted.
    static func of(_ value: Value) throws -> Figure {
        switch value {
        case .tensor, .list, .range:
            return try tensorFigure(try value.asTensor(), title: "tensor")
        case .object(let result as ResultValue):
            return try resultFigure(result)
        case .object(let training as TrainingObject):
            return try trainingFigure(training)
        case .object(let model as ModelObject):
            guard let trainer = model.trainer, trainer.history.count > 0 else {
                throw RuntimeError("an untrained model has no natural picture; plot model.W_E (a heatmap), or view(model, to: \"viewer.html\") "
                    + "for its embeddings; plot can draw \(plottable)")
            }
            return try trainingFigure(TrainingObject(trainer: trainer, outcome: nil))
        case .object(let intervention as InterventionObject):
            return interventionFigure(intervention)
        default:
            throw RuntimeError("cannot plot a \(value.typeName); plot can draw \(plottable)")
        }
    }

    // MARK: - Tensors

    /// A 1-D tensor as a line, 2-D as a heatmap, 3-D as heatmaps over its first axis.
    static func tensorFigure(_ t: Tensor, title: String) throws -> Figure {
        let values = t.toDoubles()
        switch t.rank {
        case 1:
            let line = LinePanel(title: "\(title) \(formatShape(t.shape))", xLabel: "index", yLabel: "value",
                                 series: [.init(name: title, x: values.indices.map(Double.init), y: values)])
            return Figure(title: "\(title) \(formatShape(t.shape))", panels: [.lines(line)])
        case 2, 3:
            let (count, rows, columns) = t.rank == 2 ? (1, t.shape[0], t.shape[1]) : (t.shape[0], t.shape[1], t.shape[2])
            guard rows > 0, columns > 0 else { throw RuntimeError("cannot plot an empty tensor \(formatShape(t.shape))") }
            let shown = min(count, maxFacets)
            let facets = (0..<shown).map { f in
                HeatmapPanel.Facet(title: t.rank == 3 ? "[\(f)]" : "",
                                   values: grid(Array(values[(f * rows * columns)..<((f + 1) * rows * columns)]), rows: rows, columns: columns))
            }
            let more = count > shown ? " (first \(shown) of \(count))" : ""
            let panel = heatmap(title: "\(title) \(formatShape(t.shape))\(more)", facets: facets,
                                rowLabels: (0..<rows).map(String.init), columnLabels: (0..<columns).map(String.init),
                                xLabel: "axis \(t.rank - 1)", yLabel: "axis \(t.rank - 2)")
            return Figure(title: panel.title, panels: [.heatmap(panel)])
        default:
            throw RuntimeError("cannot plot a \(t.rank)-D tensor \(formatShape(t.shape)); plot draws 1-D, 2-D and 3-D tensors (slice or sum it first)")
        }
    }

    // MARK: - Training and interventions

    /// Train and test loss on a log scale, and test accuracy.
    /// A run's loss and accuracy curves, with a line where its settings changed.
    static func trainingFigure(_ training: TrainingObject) throws -> Figure {
        try trainingFigure(training.history, title: training.summary,
                           markers: training.settingChanges.map { (x: Double($0.epoch), label: $0.text) })
    }

    /// Loss and accuracy curves.
    static func trainingFigure(_ h: TrainingHistory, title: String, markers: [(x: Double, label: String)] = []) throws -> Figure {
        guard h.count > 0 else { throw RuntimeError("the training run has no epochs yet; train first") }
        let x = h.epochs.map(Double.init)
        let loss = LinePanel(title: "loss", xLabel: "epoch", yLabel: "cross-entropy",
                             series: [.init(name: "train loss", x: x, y: h.trainLoss), .init(name: "test loss", x: x, y: h.testLoss)],
                             logY: true, markers: markers)
        let accuracy = LinePanel(title: "test accuracy", xLabel: "epoch", yLabel: "accuracy",
                                 series: [.init(name: "test accuracy", x: x, y: h.testAccuracy)], markers: markers)
        return Figure(title: title, panels: [.lines(loss), .lines(accuracy)])
    }

    /// Clean, corrupted and intervened metric as bars.
    static func interventionFigure(_ object: InterventionObject) -> Figure {
        let r = object.result
        var categories = ["clean"], values = [r.clean]
        if let corrupted = r.corrupted {
            categories.append("corrupted")
            values.append(corrupted)
        }
        categories.append(r.kind == .patch ? "patched" : r.kind == .ablate ? "ablated" : "hooked")
        values.append(r.intervened)
        let bars = BarPanel(title: r.point.name, xLabel: "", yLabel: r.metric.label, categories: categories,
                            groups: [.init(name: r.metric.label, values: values)])
        return Figure(title: object.summary, panels: [.bars(bars)])
    }
}

// MARK: - Analysis results

extension Figure {
    /// The picture of an analysis result, chosen by its kind.
    static func resultFigure(_ r: ResultValue) throws -> Figure {
        if r.kind == "baseline" {
            // A baseline's curves, drawn like a training run's.
            let (train, test, accuracy) = (try r.tensor("train_loss").toDoubles(), try r.tensor("test_loss").toDoubles(),
                                           try r.tensor("test_acc_curve").toDoubles())
            var history = TrainingHistory()
            for i in train.indices { history.append(epoch: i + 1, train: train[i], test: test[i], accuracy: accuracy[i]) }
            return try trainingFigure(history, title: r.title)
        }
        let panels: [Panel]
        switch r.kind {
        case "fourier": panels = try fourierPanels(r)
        case "progress": panels = [.lines(try progressPanel(r))]
        case "sweep", "attribution": panels = try sweepPanels(r)
        case "path_patch":
            panels = [.bars(BarPanel(title: "path patching", xLabel: "", yLabel: r.string("metric"),
                                     categories: ["clean", "corrupted", "patched"],
                                     groups: [.init(name: r.string("metric"), values: ["clean", "corrupted", "patched"].map { r.number($0) })]))]
        case "pc_ablation":
            panels = [.bars(BarPanel(title: "accuracy", xLabel: "", yLabel: "accuracy", categories: ["before", "after"],
                                     groups: [.init(name: "accuracy", values: [r.number("accuracy_before"), r.number("accuracy_after")])]))]
        case "pca": panels = try pcaPanels(r)
        case "probe": panels = [try tensorPanel(r.tensor("weights"), title: "probe weights", xLabel: "output", yLabel: "feature")]
        case "correlation":
            let rs = try r.doubles("r")
            panels = [.scatter(ScatterPanel(title: "correlation of each neuron with the target", xLabel: "neuron", yLabel: "r",
                                            groups: [.init(name: "r", points: rs.enumerated().map { (Double($0.offset), $0.element) },
                                                           labels: rs.indices.map { "neuron \($0)" })]))]
        case "grid": panels = [.heatmap(try neuronGridPanel(r))]
        case "importance":
            panels = [.bars(BarPanel(title: "importance", xLabel: "component", yLabel: "importance",
                                     categories: r.strings("names"), groups: [.init(name: "importance", values: try r.doubles("importance"))])),
                      .circuit(try circuitPanel(r))]
        case "circuit": panels = [.circuit(try circuitPanel(r))]
        default:
            throw RuntimeError("a \(r.kind) result has no natural picture; plot can draw \(plottable)")
        }
        return Figure(title: r.title, panels: panels)
    }

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

    /// Train, test, restricted and excluded loss on a log scale, with the start of each phase.
    static func progressPanel(_ r: ResultValue) throws -> LinePanel {
        let x = try r.doubles("epochs")
        let series = try [("train", "train_loss"), ("test", "test_loss"), ("restricted", "restricted_loss"), ("excluded", "excluded_loss")]
            .map { LinePanel.Series(name: $0.0, x: x, y: try r.doubles($0.1)) }
        var markers: [(x: Double, label: String)] = []
        if case .record(let phases)? = r.fields["phases"] {
            for (name, range) in phases.pairs {
                if case .list(let bounds) = range, case .number(let start)? = bounds.first {
                    markers.append((start, name.replacingOccurrences(of: "_", with: " ")))
                }
            }
        }
        return LinePanel(title: "progress measures", xLabel: "epoch", yLabel: "loss", series: series, logY: true, markers: markers)
    }

    /// The normalised effect of every cell, labelled by the sweep's axes;
    /// with three axes, one heatmap per index of the first. Attribution
    /// with a check adds real patching beside it.
    static func sweepPanels(_ r: ResultValue) throws -> [Panel] {
        let axes = r.strings("axes")
        var labels: [[String]] = []
        if case .record(let record)? = r.fields["labels"] {
            labels = axes.map { axis in
                if case .list(let items)? = record[axis] { return items.map(Formatter.printed) }
                return []
            }
        }
        func panel(_ field: String, _ title: String) throws -> Panel {
            let t = try r.tensor(field)
            let shape = t.shape
            let values = t.toDoubles()
            func axisLabels(_ i: Int) -> [String] {
                i < labels.count && labels[i].count == shape[i] ? labels[i] : (0..<shape[i]).map(String.init)
            }
            switch shape.count {
            case 0, 1:
                let columns = shape.first ?? 1
                let facet = HeatmapPanel.Facet(title: "", values: [values])
                return .heatmap(heatmap(title: title, facets: [facet], rowLabels: [""],
                                        columnLabels: shape.isEmpty ? [""] : axisLabels(0).prefix(columns).map { $0 },
                                        xLabel: axes.first ?? "", yLabel: ""))
            case 2:
                return .heatmap(heatmap(title: title, facets: [.init(title: "", values: grid(values, rows: shape[0], columns: shape[1]))],
                                        rowLabels: axisLabels(0), columnLabels: axisLabels(1), xLabel: axes[1], yLabel: axes[0]))
            default:
                let inner = shape.dropFirst().reduce(1, *)
                let (rows, columns) = (shape[1], inner / max(shape[1], 1))
                let outer = axisLabels(0)
                let facets = (0..<min(shape[0], maxFacets)).map { f in
                    HeatmapPanel.Facet(title: "\(axes[0]) \(outer[f])",
                                       values: grid(Array(values[(f * inner)..<((f + 1) * inner)]), rows: rows, columns: columns))
                }
                return .heatmap(heatmap(title: title, facets: facets, rowLabels: axisLabels(1),
                                        columnLabels: shape.count == 3 ? axisLabels(2) : (0..<columns).map(String.init),
                                        xLabel: axes.count > 2 ? axes[2] : "", yLabel: axes[1]))
            }
        }
        let name = r.kind == "attribution" ? "attribution patching" : "activation patching"
        guard try r.doubles("normalized").contains(where: { !$0.isNaN }) else {
            // The corruption changed nothing: there is no share to show, only the metric itself.
            return [try panel("values", "\(name): \(r.string("metric")) (normalized \(NormalizedEffect.undefinedText))")]
        }
        var panels = [try panel("normalized", "\(name): share of clean − corrupted restored (\(r.string("metric")))")]
        if r.fields["actual_normalized"] != nil {
            panels.append(try panel("actual_normalized", "activation patching, for comparison"))
        }
        return panels
    }

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

// MARK: - Reading fields

extension ResultValue {
    /// A tensor (or list of numbers) field, or an error naming it.
    func tensor(_ name: String) throws -> Tensor {
        guard let value = fields[name] else { throw RuntimeError("a \(kind) result has no field '\(name)' to plot") }
        return try value.asTensor()
    }

    /// A field's numbers, flattened.
    func doubles(_ name: String) throws -> [Double] { try tensor(name).toDoubles() }

    /// A number field, or nan.
    func number(_ name: String) -> Double {
        if case .number(let n)? = fields[name] { return n }
        return .nan
    }

    /// A string field, or "".
    func string(_ name: String) -> String {
        if case .string(let s)? = fields[name] { return s }
        return ""
    }

    /// A list field's items as text.
    func strings(_ name: String) -> [String] {
        guard case .list(let items)? = fields[name] else { return [] }
        return items.map(Formatter.printed)
    }
}
