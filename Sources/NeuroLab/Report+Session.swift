import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroModels
import NeuroPlots

// What the session's report shows: each result's heading, the command that
// made it, its summary and picture, and each model's configuration;
// NeuroPlots lays out the page.

extension Report {
    /// The page for the session's results so far.
    ///
    /// ```swift
    /// let html = Report.html(interpreter.session, title: "grokking")
    /// ```
    static func html(_ session: Session, title: String) -> String {
        let entries = session.results.map { result -> Entry in
            let kind = (result as? ResultValue)?.kind ?? result.typeName
            let command = session.command(of: result) ?? ""
            do {
                return Entry(kind: kind, heading: heading(result), summary: result.summary, figure: try Figure.of(.object(result)),
                             command: command)
            } catch {
                return Entry(kind: kind, heading: heading(result), summary: result.summary, figure: nil, note: String(describing: error),
                             command: command)
            }
        }
        return html(title: title, models: models(session), entries: entries)
    }

    /// What a result is, for its heading: its own (`Fourier analysis`, `training`, `patch embed`).
    static func heading(_ result: NativeObject) -> String {
        (result as? Pictured)?.heading ?? result.typeName
    }

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
