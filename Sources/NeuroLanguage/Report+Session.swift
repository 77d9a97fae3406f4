import Foundation
import NeuroEngine
import NeuroModels
import NeuroPlots

// What the session's report shows: each result's heading, summary and
// picture, and each model's configuration; NeuroPlots lays out the page.

extension Report {
    /// The page for the session's results so far.
    ///
    /// ```swift
    /// let html = Report.html(interpreter.session, title: "grokking")
    /// ```
    static func html(_ session: Session, title: String) -> String {
        let entries = session.results.map { result -> Entry in
            let kind = (result as? ResultValue)?.kind ?? result.typeName
            do {
                return Entry(kind: kind, heading: heading(result), summary: result.summary, figure: try Figure.of(.object(result)))
            } catch {
                return Entry(kind: kind, heading: heading(result), summary: result.summary, figure: nil, note: String(describing: error))
            }
        }
        return html(title: title, models: models(session), entries: entries)
    }

    /// What a result is, for its heading: `fourier`, `training`, `intervention`.
    static func heading(_ result: NativeObject) -> String {
        switch result {
        case let r as ResultValue: return headings[r.kind] ?? r.kind
        case is TrainingObject: return "training"
        case let i as InterventionObject: return i.result.kind.rawValue + " " + i.result.point.name
        default: return result.typeName
        }
    }

    /// Headings of result kinds whose name is terse.
    static let headings = ["fourier": "Fourier analysis", "progress": "progress measures", "sweep": "activation patching",
                           "attribution": "attribution patching", "path_patch": "path patching", "pc_ablation": "principal-component ablation",
                           "pca": "PCA", "grid": "neuron activations", "correlation": "neuron correlation"]

    /// Each distinct model's configuration: the current one and every one trained.
    static func models(_ session: Session) -> [ModelTable] {
        var models: [HookedTransformer] = []
        let candidates = [session.model?.model] + session.results.map { ($0 as? TrainingObject)?.trainer.model }
        for case let model? in candidates where !models.contains(where: { $0 === model }) { models.append(model) }
        return models.map { model in
            ModelTable(summary: ModelObject(model).summary,
                       config: ModelObject.configRecord(model.config).pairs.map { ($0.0, Formatter.printed($0.1)) })
        }
    }
}
