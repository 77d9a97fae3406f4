import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroModels
import NeuroAnalysis
import NeuroPlots

// The natural picture of each value `plot` accepts: tensors by rank,
// training runs and interventions, and every analysis result by the
// figure its built-in gave it (beside the built-in, in its file).

/// A value of the workbench with a heading and a picture of its own (an
/// analysis result, a training run, an intervention, a model), so `plot`
/// and the report need no list of kinds.
public protocol Pictured: NativeObject {
    /// What it is, for a report's heading: `Fourier analysis`, `training`.
    var heading: String { get }
    /// Its natural picture, or an error saying why it has none.
    func figure() throws -> Figure
}

extension TrainingObject: Pictured {
    public var heading: String { "training" }
    public func figure() throws -> Figure { try Figure.trainingFigure(self) }
}

extension InterventionObject: Pictured {
    public var heading: String { result.kind.rawValue + " " + result.siteName }
    public func figure() throws -> Figure { Figure.interventionFigure(self) }
}

extension ModelObject: Pictured {
    public var heading: String { typeName }
    /// A trained model's training curves.
    public func figure() throws -> Figure {
        guard let trainer, trainer.history.count > 0 else {
            throw RuntimeError("an untrained model has no natural picture; plot model.W_E (a heatmap), or view(model, to: \"viewer.html\") "
                + "for its embeddings; plot can draw \(Figure.plottable)")
        }
        return try Figure.trainingFigure(TrainingObject(trainer: trainer, outcome: nil))
    }
}

extension Figure {
    /// What `plot` can draw, for the error on anything else.
    static let plottable = "a tensor or list of numbers (1-D line, 2-D heatmap, 3-D heatmaps), a training run (model.history or "
        + "the result of train), a trained model, an intervention (patch, ablate, hook), or the result of fourier, progress, sweep, "
        + "attribute, path_patch, pc_ablate, importance, circuit, probe, correlate, neuron_grid, explained_variance, scan, "
        + "superposition or superposition_sweep, or a figure (line, bar, scatter, imshow)"

    /// Most facets drawn from a 3-D tensor (the rest are left out, and the title says so).
    static let maxFacets = 16

    /// The natural picture of a value, or an error saying what can be plotted.
    static func of(_ value: Value) throws -> Figure {
        switch value {
        case .tensor, .list, .range:
            return try tensorFigure(try value.asTensor(), title: "tensor")
        case .object(let pictured as Pictured):
            return try pictured.figure()
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
        let bars = BarPanel(title: r.siteName, xLabel: "", yLabel: r.metric.label, categories: categories,
                            groups: [.init(name: r.metric.label, values: values)])
        return Figure(title: object.summary, panels: [.bars(bars)])
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
