import NeuroEngine
import NeuroModels
import NeuroLanguage
import NeuroPlots

/// What a session remembers besides variables: the current model and data
/// (set only by `use`, `train` and `load`: making a model or a dataset does
/// not change what later statements measure), and every result in order,
/// for reports.
public final class Session {
    /// Setting a current model or dataset ends a current text target.
    public var model: ModelObject? { didSet { textTarget = nil } }
    public var data: DatasetObject? { didSet { textTarget = nil } }
    /// The pretrained model and clean text(s) made current by
    /// `use m on "text"`: what `patch`, `ablate` and `hook` measure until
    /// another `use` (or training or loading a model) replaces them.
    public var textTarget: TextTarget?
    /// The pretrained language model loaded last: text built-ins use it when given no model.
    public var languageModel: LanguageModelObject?
    /// The dataset made last: where `transformer(…)` takes its vocabulary when
    /// given no data and none is current.
    public var lastMadeData: DatasetObject?
    /// How many models and datasets the session has made or loaded; with more
    /// than one, printed results name the model and data they measured.
    public var madeModels = 0
    public var madeDatasets = 0
    /// Model and data pairs already warned about (trained on another task).
    var warnedMismatches: Set<String> = []
    /// Results in the order they were made (trainings, interventions, analyses);
    /// each new one is noted with the command that made it (Session+Commands.swift).
    public var results: [NativeObject] = [] { didSet { noteCommands(after: oldValue) } }
    /// The source text of each input run so far, by its number (`SourceLocation.input`), to quote commands from.
    var sources: [Int: SourceText] = [:]
    /// The places of the built-in calls under way, outermost first.
    var calls: [SourceRange] = []
    /// The command that made each result, by the result's identity.
    var commands: [ObjectIdentifier: String] = [:]
    /// Remarks to show the user once (e.g. a variable hiding a built-in): the interpreter's.
    public var notes: [String] {
        get { interpreter?.notes ?? [] }
        set { interpreter?.notes = newValue }
    }
    /// The interpreter this session belongs to.
    private weak var interpreter: Interpreter?
    /// Where long computations (training, sweeps, circuits, scans, …) draw
    /// their progress line: set by the front end to the terminal; silent by default.
    public var progressDisplay: ProgressDisplay = .silent
    /// The seconds progress lines time themselves by (tests give a clock of their own).
    public var progressClock: () -> Double = monotonicSeconds

    /// The session of `interpreter` (see `Interpreter.session`).
    init(_ interpreter: Interpreter) {
        self.interpreter = interpreter
    }

    /// A key for a (model, dataset) pair.
    func pairKey(_ model: ModelObject, _ data: DatasetObject) -> String {
        "\(ObjectIdentifier(model).hashValue)-\(ObjectIdentifier(data).hashValue)"
    }

    /// The current model, or an error saying how to set one.
    public func requireModel(_ function: String) throws -> ModelObject {
        guard let model else {
            throw RuntimeError("\(function): no current model; say 'use MODEL on DATA' (or train it, or load one), or give model: MODEL")
        }
        return model
    }

    /// The current dataset, or an error saying how to set one.
    public func requireData(_ function: String) throws -> DatasetObject {
        guard let data else {
            throw RuntimeError("\(function): no current dataset; say 'use MODEL on DATA' (or train the model on it), or give data: DATA")
        }
        return data
    }
}

extension Interpreter {
    /// The current model and dataset, results so far, and other session state.
    public var session: Session { attachment { Session(self) } }
}
