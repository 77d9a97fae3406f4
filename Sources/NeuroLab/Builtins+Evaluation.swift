import NeuroEngine
import NeuroLanguage
import NeuroPlots
import NeuroModels

/// Where a built-in that evaluates a model measures it: a model, a dataset
/// and one split of it, with the words its printed line names them by.
///
/// The rule, in one place: every built-in that evaluates a model (`accuracy`,
/// `loss`, `logits`, `run`, `patch`, `ablate`, `hook`, the sweeps,
/// `path_patch`, `pc_ablate`, the circuit built-ins) takes `split:` — `"all"`
/// by default (every input, in grid order, as the analyses of the grokking
/// work use), `"train"` or `"test"` — and the model and data given, else the
/// session's current ones.
struct EvaluationTarget {
    let model: ModelObject
    let data: DatasetObject
    let split: DatasetSplit
    /// `all inputs`, `test split`, or `test split of a-b mod 59 · model 'm2'`
    /// when the session holds more than one model or dataset.
    let description: String

    var dataset: Dataset { data.dataset }
    var tokens: Tensor { split.tokens }
    var labels: Tensor { split.labels }

    /// The split's inputs with a corruption applied: computed on the whole
    /// dataset (corruptions are written in its fields), then the split's rows.
    func corrupted(_ corruption: CorruptionObject, _ interpreter: Interpreter) throws -> Tensor {
        let all = try Builtins.corruptedTokens(corruption, dataset, interpreter)
        return try all.indexSelect(axis: 0, indices: Tensor(ints: split.indices, shape: [split.count]))
    }
}

extension Builtins {
    /// The splits a `split:` argument names.
    static let splitNames = ["train", "test", "all"]
    /// The split every built-in that evaluates a model uses unless told otherwise.
    static let defaultEvaluationSplit = "all"

    /// The model (positional `modelIndex` or `model:`), dataset (`dataIndex`
    /// or `data:`) and `split:` of an evaluating built-in. A model whose
    /// vocabulary or context does not fit the data is an error; one trained
    /// on another task is measured with a printed warning.
    static func evaluationTarget(_ args: CallArguments, modelIndex: Int? = 0, dataIndex: Int? = 1,
                                 defaultSplit: String = defaultEvaluationSplit) throws -> EvaluationTarget {
        let interpreter = args.interpreter, session = interpreter.session
        let model = try args.object(modelIndex, "model", as: ModelObject.self, what: "a model") ?? session.requireModel(args.function)
        let data = try args.object(dataIndex, "data", as: DatasetObject.self, what: "a dataset") ?? session.requireData(args.function)
        let name = try args.string(nil, "split", default: defaultSplit)
        let dataset = data.dataset
        let split: DatasetSplit
        if let given = try tokenInput(args.value(nil, "on"), args) {
            // Interventions on chosen inputs: rows of the dataset, so they have labels and fields.
            guard args.value(nil, "split") == nil else { throw args.error("give either on: tokens or split:, not both") }
            try checkFit(model, data, args)
            let split = try args.engine { try dataset.split(ofTokens: given) }
            let description = "\(split.count) given input\(split.count == 1 ? "" : "s") of \(dataset.task)"
            return EvaluationTarget(model: model, data: data, split: split, description: description)
        }
        switch name {
        case "train": split = dataset.train
        case "test": split = dataset.test
        case "all": split = dataset.all
        default:
            let hint = Suggest.closest(name, among: splitNames).map { "; did you mean '\($0)'?" } ?? ""
            throw args.error("unknown split '\(name)'\(hint) (train, test or all)")
        }
        guard split.count > 0 else {
            let others = splitNames.filter { $0 != name }.map { "\"\($0)\"" }.joined(separator: " or ")
            throw args.error("the \(name) split of \(dataset.task) is empty (train fraction \(Formatter.number(dataset.trainFraction))); give split: \(others)")
        }
        try checkFit(model, data, args)
        var description = name == "all" ? "all inputs" : "\(name) split"
        if session.madeDatasets > 1 { description += " of \(dataset.task)" }
        if session.madeModels > 1 { description += " · model " + (interpreter.globalName(of: model).map { "'\($0)'" } ?? "(unnamed)") }
        return EvaluationTarget(model: model, data: data, split: split, description: description)
    }

    /// Refuses a model whose vocabulary or context does not fit the data, and
    /// warns (once per pair) when it was trained on another task.
    static func checkFit(_ model: ModelObject, _ data: DatasetObject, _ args: CallArguments) throws {
        let c = model.model.config, d = data.dataset
        guard c.dVocab >= d.dVocab, c.dVocabOut == d.dVocabOut, c.nCtx == d.nCtx else {
            throw args.error("the model (vocab \(c.dVocab)→\(c.dVocabOut), n_ctx \(c.nCtx)) does not fit \(d.task) "
                             + "(vocab \(d.dVocab)→\(d.dVocabOut), n_ctx \(d.nCtx)); say 'use MODEL on DATA' with a pair that fits")
        }
        let session = args.interpreter.session
        if let trained = model.trainer?.data.task, trained != d.task, session.warnedMismatches.insert(session.pairKey(model, data)).inserted {
            args.interpreter.output("warning: this model was trained on \(trained); \(args.function) measures it on \(d.task)")
        }
    }
}

extension Interpreter {
    /// The name of the user's global variable that holds `object`, if any (the first in name order).
    func globalName(of object: NativeObject) -> String? {
        globals.localNames.first { name in
            if case .object(let held)? = globals.lookup(name) { return held === object }
            return false
        }
    }
}

/// Built-ins that measure a model on a dataset: accuracy, loss, logits,
/// and the activations of a run.
extension Builtins {
    static func lastLogits(_ model: any HookedModel, _ split: DatasetSplit) throws -> Tensor {
        try GradMode.forEvaluation { try model.run(split.tokens, positions: .last).logits }
    }

    static let accuracy = Builtin("accuracy", "accuracy(model, data, split: \"all\")",
                                  "fraction of inputs whose last-position argmax is the label", parameters: ["model", "data", "split"]) { args in
        let t = try evaluationTarget(args)
        return .number(try Metrics.accuracy(lastLogits(t.model.model, t.split), labels: t.labels))
    }

    static let loss = Builtin("loss", "loss(model, data, split: \"all\")",
                              "mean cross-entropy of the last position (Float64)", parameters: ["model", "data", "split"]) { args in
        let t = try evaluationTarget(args)
        return .number(try Metrics.crossEntropy(lastLogits(t.model.model, t.split), labels: t.labels).item())
    }

    static let logits = Builtin("logits", "logits(model, data, split: \"all\", hooks: {site: fn(x) {…}}) or logits(model, tokens) or logits(model, text)",
                                "last-position logits [inputs, d_vocab_out] of a dataset, in grid order for split all; of token ids or text, every position [batch, pos, d_vocab]",
                                parameters: ["model", "data", "split", "hooks", "text", "prepend_bos", "truncate"]) { args in
        if case .object(let model as LanguageModelObject)? = args.value(0, "model") { return try textLogits(model, args) }
        if let tokens = try tokenInput(args.value(1, "data"), args) {
            let model = try modelArgument(args)
            let (hooks, _) = try runOptions(model.hooks, args)
            return .tensor(try args.engine { try GradMode.forEvaluation { try model.run(tokens, hooks: hooks).logits } })
        }
        let t = try evaluationTarget(args)
        guard args.value(nil, "hooks") != nil else { return .tensor(try lastLogits(t.model.model, t.split)) }
        let (hooks, _) = try runOptions(t.model.model.hooks, args)
        return .tensor(try args.engine { try GradMode.forEvaluation { try t.model.model.run(t.tokens, hooks: hooks, positions: .last).logits } })
    }

    static let run = Builtin("run", "run(model, data, split: \"all\", hooks: {site: fn(x) {…}}, cache: [..]) or run(model, text, …)",
                             "run and cache every activation (or those in cache: [..]), with hooks: {site: fn(x) {…}} replacing activations on the way; a pretrained model runs a text or a list of texts",
                             parameters: ["model", "data", "split", "hooks", "cache", "text", "prepend_bos", "truncate"]) { args in
        if case .object(let model as LanguageModelObject)? = args.value(0, "model") { return try textRun(model, args) }
        let model: any HookedModel, tokens: Tensor
        if let given = try tokenInput(args.value(1, "data"), args) {
            model = try modelArgument(args)
            tokens = given
        } else {
            let t = try evaluationTarget(args)
            (model, tokens) = (t.model.model, t.tokens)
        }
        let (hooks, request) = try runOptions(model.hooks, args)
        let (_, cache) = try args.engine { try GradMode.forEvaluation { try model.run(tokens, hooks: hooks, cache: request) } }
        return .object(CacheObject(cache))
    }

    /// The model argument 0 (or `model:`), else the session's current one.
    static func modelArgument(_ args: CallArguments) throws -> any HookedModel {
        try (args.object(0, "model", as: ModelObject.self, what: "a model") ?? args.interpreter.session.requireModel(args.function)).model
    }

    /// `run`'s `hooks:` and `cache:`, as TransformerLens's `run_with_hooks`
    /// and `run_with_cache` together: functions that replace activations on
    /// the way (a record `{site: fn(x) {…}}` or a list of `[site, fn]`
    /// pairs, as `fwd_hooks`), and the activations to keep (all by default).
    static func runOptions(_ resolver: HookResolver, _ args: CallArguments) throws -> (hooks: [Hook], cache: CacheRequest) {
        var request = CacheRequest.all
        if let listed = args.value(nil, "cache") {
            guard case .list(let names) = listed else { throw args.error("'cache' must be a list of hook names, like [\"mlp_post 0\"]") }
            request = .only(Set(try names.map { item in try args.engine { try resolver.point(for: item, what: "cache") } }))
        }
        guard let given = args.value(nil, "hooks") else { return ([], request) }
        let pairs: [(Value, Value)]
        switch given {
        case .record(let record): pairs = record.pairs.map { (.string($0.0), $0.1) }
        case .list(let items) where items.allSatisfy({ if case .list(let pair) = $0 { return pair.count == 2 } else { return false } }):
            pairs = items.compactMap { if case .list(let pair) = $0 { return (pair[0], pair[1]) } else { return nil } }
        case .list:
            throw args.error("'hooks' takes functions to run at hook points, {\"mlp_post 0\": fn(x) { … }} or [[\"mlp_post 0\", fn(x) { … }]]; "
                             + "to keep only some activations, write cache: [\"mlp_post 0\", …]")
        default:
            throw args.error("'hooks' must be a record {site: fn(x) { … }} or a list of [site, fn] pairs, got \(given.typeName)")
        }
        let interpreter = args.interpreter, range = args.range
        let hooks = try pairs.map { site, function -> Hook in
            let point = try args.engine { try resolver.point(for: site, what: "hooks") }
            guard case .function(let body) = function else {
                throw args.error("the hook at \(point.name) must be a function fn(x) { … } returning the new activation, got \(function.typeName)")
            }
            return Hook(point) { activation, _ in
                let replaced = try interpreter.apply(body, positional: [.tensor(activation)], range: range)
                guard case .tensor(let tensor) = replaced else {
                    throw RuntimeError("the hook at \(point.name) must return a tensor, got \(replaced.typeName)", at: range)
                }
                guard tensor.shape == activation.shape else {
                    throw RuntimeError("the hook at \(point.name) returned \(formatShape(tensor.shape)), not the activation's \(formatShape(activation.shape))", at: range)
                }
                return tensor
            }
        }
        return (hooks, request)
    }
}
