import NeuroEngine
import NeuroModels

/// What a session remembers besides variables: the current model and data
/// (set by `use`, `train`, `load` and by creating them), and every result
/// in order, for reports.
public final class Session {
    public var model: ModelObject?
    public var data: DatasetObject?
    /// Results in the order they were made (trainings, interventions, analyses).
    public var results: [NativeObject] = []
    /// Remarks to show the user once (e.g. a variable hiding a built-in).
    public var notes: [String] = []
    /// Shows a progress line while training (set by the front end; silent by default).
    public var progress: (String) -> Void = { _ in }
    /// Ends a progress line once training stops.
    public var progressDone: () -> Void = {}

    public init() {}

    /// The current model, or an error saying how to set one.
    public func requireModel(_ function: String) throws -> ModelObject {
        guard let model else {
            throw RuntimeError("\(function): no current model; make one with transformer(…) or load(…), or say 'use MODEL on DATA'")
        }
        return model
    }

    /// The current dataset, or an error saying how to set one.
    public func requireData(_ function: String) throws -> DatasetObject {
        guard let data else {
            throw RuntimeError("\(function): no current dataset; make one with modular(…), or say 'use MODEL on DATA'")
        }
        return data
    }
}
