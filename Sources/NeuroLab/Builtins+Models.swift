import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroPlots
import NeuroModels
import NeuroAnalysis

/// Built-ins for models, datasets, training and interventions.
extension Builtins {
    static var domain: [Builtin] {
        [modular, addition, group, transformer, train, use, accuracy, loss, logits, run, corrupt, patch, ablate, hook, hooks,
         baseline] + modelFiles
    }

    // MARK: - Datasets

    static let modular = Builtin("modular", "modular(op: \"+\", p: 113, train: 0.3, seed: 598)",
                                 "modular arithmetic (a op b) mod p over all p² pairs; op is + - * / a^2+b^2 a^3+ab",
                                 parameters: ["op", "p", "train", "seed"], quadratic: (1, "p")) { args in
        let opName = try args.string(0, "op", default: "+")
        guard let op = ModularOperation(rawValue: opName) else {
            let names = ModularOperation.allCases.map(\.rawValue)
            let hint = Suggest.closest(opName, among: names).map { "; did you mean '\($0)'?" } ?? ""
            throw args.error("unknown operation '\(opName)'\(hint) (one of \(names.joined(separator: ", ")))")
        }
        let data = try Dataset.modular(op, p: args.int(1, "p", default: 113), trainFraction: args.number(2, "train", default: 0.3),
                                       seed: try args.seed(3, default: 598))
        return args.interpreter.adopt(data)
    }

    static let addition = Builtin("addition", "addition(p: 113, train: 0.3, seed: 598)",
                                  "plain a + b for a, b < p (labels up to 2p - 2)", parameters: ["p", "train", "seed"],
                                  quadratic: (0, "p")) { args in
        let data = try Dataset.addition(p: args.int(0, "p", default: 113), trainFraction: args.number(1, "train", default: 0.3),
                                        seed: try args.seed(2, default: 598))
        return args.interpreter.adopt(data)
    }

    static let group = Builtin("group", "group(n: 4, train: 0.5, seed: 0)",
                               "composition a ∘ b in the symmetric group S_n (n ≤ 5)", parameters: ["n", "train", "seed"]) { args in
        let data = try Dataset.symmetricGroup(n: args.int(0, "n", default: 4), trainFraction: args.number(1, "train", default: 0.5),
                                              seed: try args.seed(2, default: 0))
        return args.interpreter.adopt(data)
    }

    // MARK: - Models

    static let transformer = Builtin(
        "transformer", "transformer(data, layers: 1, heads: 4, d_model: 128, d_mlp: 4·d_model, act: \"relu\", norm: \"none\", seed: 0)",
        "a hooked transformer (TransformerLens layout); vocabulary and context from the dataset (if not given: the current one, else the one made last)",
        parameters: ["data", "layers", "heads", "d_model", "d_head", "d_mlp", "act", "norm", "d_vocab", "d_vocab_out", "n_ctx", "seed"],
        effects: .training
    ) { args in
        let session = args.interpreter.session
        let data = try args.object(0, "data", as: DatasetObject.self, what: "a dataset") ?? session.data ?? session.lastMadeData
        let actName = try args.string(nil, "act", default: "relu")
        guard let act = ActivationFunction(rawValue: actName) else {
            throw args.error("unknown activation '\(actName)' (relu, gelu or gelu_new)")
        }
        let normName = try args.string(nil, "norm", default: "none")
        guard let norm = NormalizationType(rawValue: normName) ?? (normName == "LN" ? .layerNorm : nil) else {
            throw args.error("unknown normalization '\(normName)' (none, LN or LNPre)")
        }
        func size(_ name: String, _ fromData: Int?) throws -> Int {
            if args.value(nil, name) != nil { return try args.int(nil, name) }
            guard let fromData else { throw args.error("needs '\(name)' or a dataset to take it from") }
            return fromData
        }
        let heads = try args.int(nil, "heads", default: 4)
        let dModel = try args.int(nil, "d_model", default: 128)
        let config = try TransformerConfig(
            nLayers: args.int(nil, "layers", default: 1), nHeads: heads, dModel: dModel,
            dHead: args.value(nil, "d_head") == nil ? nil : try args.int(nil, "d_head"),
            dMLP: args.int(nil, "d_mlp", default: 4 * dModel), actFn: act, normalizationType: norm,
            dVocab: size("d_vocab", data?.dataset.dVocab), dVocabOut: size("d_vocab_out", data?.dataset.dVocabOut),
            nCtx: size("n_ctx", data?.dataset.nCtx), seed: try args.seed(nil, default: 0))
        let model = ModelObject(try HookedTransformer(config: config))
        session.madeModels += 1
        return .object(model)
    }

    // MARK: - Training

    /// What `train` uses for an option not given when it starts a run (a
    /// run that continues keeps its own): the grokking demo's recipe, with a
    /// checkpoint every 100 epochs so `progress` works without a retrain.
    static let trainingDefaults = TrainingOptions(learningRate: 1e-3, weightDecay: 1.0, betas: (0.9, 0.98),
                                                  freezeBiases: true, checkpointEvery: 100)
    static let defaultEpochs = 1000
    /// Long runs keep at most this many checkpoints by default (about 1 MB each for the p = 113 model).
    static let defaultCheckpointLimit = 200

    /// The default checkpoint spacing for a run that will reach `epochs`:
    /// every 100 epochs, widened to 200, 250, 500, 1000, … so that at most
    /// `defaultCheckpointLimit` are kept.
    static func defaultCheckpointSpacing(forEpochs epochs: Int) -> Int {
        var spacing = trainingDefaults.checkpointEvery
        let steps = [2, 2.5, 5, 10].map { Double(trainingDefaults.checkpointEvery) * $0 }
        var scale = 1.0
        while epochs / spacing > defaultCheckpointLimit {
            for step in steps {
                spacing = Int(step * scale)
                if epochs / spacing <= defaultCheckpointLimit { break }
            }
            scale *= 10
        }
        return spacing
    }

    static let train = Builtin(
        "train", "train(model, data, epochs: \(defaultEpochs), lr: \(Formatter.number(trainingDefaults.learningRate)), "
            + "wd: \(Formatter.number(trainingDefaults.weightDecay)), checkpoint: \(trainingDefaults.checkpointEvery))",
        "full-batch AdamW as in the grokking demo (betas 0.9, 0.98, biases frozen); a checkpoint every \(trainingDefaults.checkpointEvery) epochs "
            + "(wider for long runs: at most \(defaultCheckpointLimit) kept; 0 for none); training the same model on the same data again "
            + "continues the run, and options not given keep their values; `train model on data epochs 2000 lr 1e-3 wd 1.0`",
        parameters: ["on", "data", "epochs", "lr", "wd", "checkpoint", "beta1", "beta2", "freeze_biases"], effects: .training
    ) { args in
        let session = args.interpreter.session
        let model = try args.object(0, "model", as: ModelObject.self, what: "a model") ?? session.requireModel("train")
        let data = try args.object(1, "on", as: DatasetObject.self, what: "a dataset")
            ?? args.object(nil, "data", as: DatasetObject.self, what: "a dataset") ?? session.requireData("train")
        let epochs = try args.int(nil, "epochs", default: defaultEpochs)
        guard epochs >= 0 else { throw args.error("'epochs' must be 0 or more, got \(epochs)") }
        let existing = model.trainer.flatMap { t in
            t.data.task == data.dataset.task && t.data.trainIndices == data.dataset.trainIndices ? t : nil
        }
        // A run that continues keeps the options it has unless told otherwise.
        let base = existing?.options ?? trainingDefaults
        let given = { (name: String) in args.value(nil, name) != nil }
        let options = TrainingOptions(
            learningRate: try args.number(nil, "lr", default: base.learningRate),
            weightDecay: try args.number(nil, "wd", default: base.weightDecay),
            betas: (try args.number(nil, "beta1", default: base.betas.0), try args.number(nil, "beta2", default: base.betas.1)),
            freezeBiases: try args.bool(nil, "freeze_biases", default: base.freezeBiases),
            checkpointEvery: given("checkpoint") || existing != nil ? try args.int(nil, "checkpoint", default: base.checkpointEvery)
                : defaultCheckpointSpacing(forEpochs: epochs))
        let trainer: Trainer
        var note: String? = nil
        if let existing {
            let before = existing.options
            if try args.engine({ try existing.update(options) }) {
                note = "continued from epoch \(existing.epoch) with \(TrainingObject.describe(options, since: before)) "
                    + "(same optimizer state, history kept; the change is marked in plots)"
            }
            trainer = existing
        } else {
            trainer = try args.engine { try Trainer(model: model.model, data: data.dataset, options: options) }
            if let previous = model.trainer {
                note = "a fresh optimizer and history: the model was last trained on \(previous.data.task)"
                    + (previous.data.task == data.dataset.task ? " with another train/test split" : "")
                    + " (\(previous.epoch) epochs; its weights are where training starts)"
            }
        }
        model.trainer = trainer
        session.model = model
        session.data = data
        var lastShown = 0.0
        let outcome = try trainer.train(epochs: epochs, shouldStop: { Interruption.requested }) { p in
            let now = monotonicSeconds()
            guard now - lastShown > 0.1 || p.epoch == p.totalEpochs else { return }
            lastShown = now
            session.progress(progressLine(p))
        }
        session.progressDone()
        let result = TrainingObject(trainer: trainer, outcome: outcome, note: note)
        session.results.append(result)
        return .object(result)
    }

    /// `epoch 1200/2000 ━━━━━━━━━╸──────  train 1.2e-06  test 0.41  acc 93.1%  38 ms/ep  ETA 30s`
    static func progressLine(_ p: TrainingProgress) -> String {
        let width = 20
        let done = Double(p.epoch) / Double(max(p.totalEpochs, 1))
        // Clamped: the bar must draw whatever the numbers (a negative count would trap).
        let full = done.isFinite ? Int(Swift.min(Swift.max(done, 0), 1) * Double(width)) : 0
        let bar = String(repeating: "━", count: full) + (full < width ? "╸" + String(repeating: "─", count: width - full - 1) : "")
        return String(format: "  epoch %d/%d %@  train %.2g  test %.2g  acc %@  %.1f ms/ep  ETA %@",
                      p.epoch, p.totalEpochs, bar, p.trainLoss, p.testLoss, Formatter.percent(p.testAccuracy), p.msPerEpoch,
                      duration(p.secondsRemaining))
    }

    static func duration(_ seconds: Double) -> String {
        // Int(seconds) traps on NaN and past Int's range; a week is already "long".
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        guard seconds < 7 * 24 * 3600 else { return "days" }
        return seconds < 90 ? String(format: "%.0fs", seconds) : String(format: "%dm%02ds", Int(seconds) / 60, Int(seconds) % 60)
    }

    static let baseline = Builtin(
        "baseline", "baseline(data, kind: \"mlp\", epochs: 1000, lr: 1e-3, wd: 1.0, d_model: 128, d_hidden: 512, seed: 0)",
        "train a baseline to compare with the transformer: \"memory\" (a lookup table per input) or \"mlp\" (an MLP over the concatenated embeddings)",
        parameters: ["data", "kind", "epochs", "lr", "wd", "d_model", "d_hidden", "seed"], effects: .training
    ) { args in
        let data = try args.object(0, "data", as: DatasetObject.self, what: "a dataset") ?? args.interpreter.session.requireData("baseline")
        let d = data.dataset
        let kind = try args.string(nil, "kind", default: "mlp")
        let model: SequenceModel
        switch kind {
        case "memory": model = try LookupTableBaseline(dVocab: d.dVocab, dVocabOut: d.dVocabOut)
        case "mlp":
            model = try MLPBaseline(dVocab: d.dVocab, dVocabOut: d.dVocabOut, inputs: d.nCtx - 1,
                                    dModel: args.int(nil, "d_model", default: 128), dHidden: args.int(nil, "d_hidden", default: 512),
                                    seed: try args.seed(nil, default: 0))
        default: throw args.error("unknown kind '\(kind)' (memory or mlp)")
        }
        let epochs = try args.int(nil, "epochs", default: 1000)
        let history = try model.fit(d, epochs: epochs, options: TrainingOptions(learningRate: args.number(nil, "lr", default: 1e-3),
                                                                               weightDecay: args.number(nil, "wd", default: 1.0),
                                                                               freezeBiases: false),
                                    shouldStop: { Interruption.requested })
        let trainAccuracy = try GradMode.withNoGrad { try Metrics.accuracy(model.lastLogits(d.train.tokens), labels: d.train.labels) }
        let testAccuracy = history.testAccuracy.last ?? 0
        let result = ResultValue(
            figure: Figure.baseline,
            kind: "baseline",
            title: "baseline \(kind) on \(d.task), \(history.count) epochs: train acc \(Formatter.percent(trainAccuracy)), test acc \(Formatter.percent(testAccuracy))",
            fields: [("kind", .string(kind)), ("epochs", .number(Double(history.count))), ("train_acc", .number(trainAccuracy)),
                     ("test_acc", .number(testAccuracy)), ("train_loss", try Builtins.tensor(history.trainLoss)),
                     ("test_loss", try Builtins.tensor(history.testLoss)), ("test_acc_curve", try Builtins.tensor(history.testAccuracy))])
        args.interpreter.session.results.append(result)
        return .object(result)
    }

    static let use = Builtin("use", "use(model, on: data)", "make a model and dataset the session's current ones: `use model on data`",
                             parameters: ["on", "data"]) { args in
        let session = args.interpreter.session
        let model = try args.object(0, "model", as: ModelObject.self, what: "a model")
        let data = try args.object(1, "on", as: DatasetObject.self, what: "a dataset")
            ?? args.object(nil, "data", as: DatasetObject.self, what: "a dataset")
        if let pairModel = model ?? session.model, let pairData = data ?? session.data { try checkFit(pairModel, pairData, args) }
        if let model { session.model = model }
        if let data { session.data = data }
        return .none
    }

    // MARK: - Evaluation

    static func lastLogits(_ model: any HookedModel, _ split: DatasetSplit) throws -> Tensor {
        try GradMode.withNoGrad { try model.run(split.tokens, positions: .last).logits }
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

    static let logits = Builtin("logits", "logits(model, data, split: \"all\")",
                                "last-position logits [inputs, d_vocab_out], in grid order for split all", parameters: ["model", "data", "split"]) { args in
        let t = try evaluationTarget(args)
        return .tensor(try lastLogits(t.model.model, t.split))
    }

    static let run = Builtin("run", "run(model, data, split: \"all\", hooks: [..])",
                             "run and cache every activation (or the listed hooks): cache[\"blocks.0.attn.hook_pattern\"]",
                             parameters: ["model", "data", "split", "hooks"]) { args in
        let t = try evaluationTarget(args)
        let model = t.model.model
        var request = CacheRequest.all
        if let listed = args.value(nil, "hooks") {
            guard case .list(let names) = listed else { throw args.error("'hooks' must be a list of hook names") }
            request = .only(Set(try names.map { item -> HookPoint in
                try model.hooks.point(for: item, what: "hooks")
            }))
        }
        let (_, cache) = try GradMode.withNoGrad { try model.run(t.tokens, cache: request) }
        return .object(CacheObject(cache))
    }

    static let hooks = Builtin("hooks", "hooks(model)", "every hook name of the model, in forward order", parameters: ["model"]) { args in
        let model = try args.object(0, "model", as: ModelObject.self, what: "a model") ?? args.interpreter.session.requireModel("hooks")
        return .list(model.model.hookPoints.map { .string($0.name) })
    }

    // MARK: - Interventions

    static let corrupt = Builtin("corrupt", "corrupt(a + 1) or corrupt(a: b, b: a)",
                                 "a change to the inputs, written in the dataset's fields; results are taken mod p",
                                 parameters: [], lazy: true) { args in
        var changes: [(field: String, expression: Expr)] = []
        for argument in args.expressions {
            if let label = argument.label {
                changes.append((label, argument.value))
            } else {
                let mentioned = fieldsMentioned(argument.value).filter { ["a", "b"].contains($0) }
                guard mentioned.count == 1, let field = mentioned.first else {
                    throw args.error("cannot tell which field '\(render(argument.value))' replaces; name it, as in corrupt(a: \(render(argument.value)))")
                }
                changes.append((field, argument.value))
            }
        }
        guard !changes.isEmpty else { throw args.error("needs an expression, such as corrupt(a + 1)") }
        let text = args.expressions.map { ($0.label.map { "\($0): " } ?? "") + render($0.value) }.joined(separator: ", ")
        return .object(CorruptionObject(changes: changes, environment: args.environment, text: text))
    }

    /// The inputs, resolved site, slice and metric of an intervention built-in.
    static func interventionTarget(_ args: CallArguments) throws -> (EvaluationTarget, HookPoint, ActivationSlice, Metric) {
        let target = try evaluationTarget(args, modelIndex: nil, dataIndex: nil)
        let point = try target.model.model.hooks.point(for: try args.required(0, "site"), what: "site")
        func optionalInt(_ name: String) throws -> Int? { args.value(nil, name) == nil ? nil : try args.int(nil, name) }
        let slice = ActivationSlice(head: try optionalInt("head"), position: try optionalInt("pos"), neuron: try optionalInt("neuron"))
        let metric = try metricArgument(args, default: .accuracy)
        return (target, point, slice, metric)
    }

    static let interventionParameters = ["site", "with", "head", "pos", "neuron", "metric", "model", "data", "split", "seed"]

    static let patch = Builtin("patch", "patch(\"embed\", with: corrupt(a + 1), head: 0, pos: 2, neuron: 5, metric: \"accuracy\")",
                               "run clean inputs with one activation taken from corrupted inputs: `patch embed with corrupt(a+1)`",
                               parameters: interventionParameters) { args in
        let (target, point, slice, metric) = try interventionTarget(args)
        guard case .object(let corruption as CorruptionObject)? = args.value(1, "with") else {
            throw args.error("needs 'with: corrupt(…)', the inputs to take the activation from")
        }
        let corrupted = try target.corrupted(corruption, args.interpreter)
        let result = try Intervention.patch(target.model.model, clean: target.tokens, corrupted: corrupted, labels: target.labels, at: point,
                                            slice: slice, metric: metric, detail: corruption.summary)
        return args.interpreter.adopt(result, on: target)
    }

    static let ablate = Builtin("ablate", "ablate(\"mlp_post 0\", with: \"mean\", neuron: 5)",
                                "replace an activation by zero, its mean or other inputs' values: `ablate mlp_post 0 with mean`",
                                parameters: interventionParameters) { args in
        let (target, point, slice, metric) = try interventionTarget(args)
        let methodName = try args.string(1, "with", default: "mean")
        guard let method = Intervention.AblationMethod(rawValue: methodName) else {
            throw args.error("unknown ablation '\(methodName)' (zero, mean or resample)")
        }
        let result = try Intervention.ablate(target.model.model, tokens: target.tokens, labels: target.labels, at: point, method: method,
                                             slice: slice, metric: metric, seed: try args.seed(nil, default: 0))
        return args.interpreter.adopt(result, on: target)
    }

    static let hook = Builtin("hook", "hook(\"mlp_post 0\", with: fn(x) { x * 0 })",
                              "run with a function replacing an activation: `hook blocks.0.mlp.hook_post with fn(x) { x * 0 }`",
                              parameters: interventionParameters) { args in
        let (target, point, slice, metric) = try interventionTarget(args)
        guard case .function(let function)? = args.value(1, "with") else {
            throw args.error("needs 'with: fn(x) { … }', a function from the activation to its replacement")
        }
        let interpreter = args.interpreter
        let result = try Intervention.hook(target.model.model, tokens: target.tokens, labels: target.labels, at: point, slice: slice,
                                           metric: metric, detail: function.name) { activation in
            let replaced = try interpreter.apply(function, positional: [.tensor(activation)], range: args.range)
            guard case .tensor(let tensor) = replaced else {
                throw RuntimeError("the hook function must return a tensor, got \(replaced.typeName)", at: args.range)
            }
            return tensor
        }
        return args.interpreter.adopt(result, on: target)
    }

    /// The dataset's tokens with the corruption applied to its fields (mod p).
    static func corruptedTokens(_ corruption: CorruptionObject, _ data: Dataset, _ interpreter: Interpreter) throws -> Tensor {
        let scope = Environment(parent: corruption.environment)
        for (name, values) in zip(data.fieldNames, data.fieldValues) {
            scope.define(name, .tensor(try Tensor(float64: values.map(Double.init), shape: [values.count])))
        }
        scope.define("p", .number(Double(data.modulus)))
        var fields = data.fieldValues
        for (field, expression) in corruption.changes {
            guard let index = data.fieldNames.firstIndex(of: field) else {
                throw RuntimeError("corrupt: the dataset has no field '\(field)' (its fields are \(data.fieldNames.joined(separator: ", ")))", at: expression.range)
            }
            let value = try interpreter.evaluate(expression, in: scope)
            let tensor = try value.asTensor()
            let values = tensor.count == 1 ? [Double](repeating: try tensor.item(), count: data.count) : tensor.toDoubles()
            guard values.count == data.count else {
                throw RuntimeError("corrupt: '\(field)' must get \(data.count) values, got \(values.count)", at: expression.range)
            }
            guard values.allSatisfy({ $0.isFinite && $0 == $0.rounded() }) else {
                throw RuntimeError("corrupt: '\(field)' must stay whole numbers", at: expression.range)
            }
            fields[index] = values.map { Int(floorMod($0, Double(data.modulus))) }
        }
        return try data.tokens(fields: fields)
    }

    /// Names a corruption expression reads.
    static func fieldsMentioned(_ expr: Expr) -> Set<String> {
        switch expr.kind {
        case .variable(let name): return [name]
        case .unary(_, let e): return fieldsMentioned(e)
        case .binary(_, let a, let b), .logical(_, let a, let b), .range(let a, let b): return fieldsMentioned(a).union(fieldsMentioned(b))
        case .call(let f, let arguments): return arguments.reduce(fieldsMentioned(f)) { $0.union(fieldsMentioned($1.value)) }
        case .list(let items): return items.reduce([]) { $0.union(fieldsMentioned($1)) }
        case .index(let e, _), .field(let e, _): return fieldsMentioned(e)
        default: return []
        }
    }
}

extension Interpreter {
    /// A new dataset: counted, and remembered as the one made last, but not
    /// made current (only `use`, `train` and `load` change what is current).
    func adopt(_ data: Dataset) -> Value {
        let object = DatasetObject(data)
        session.lastMadeData = object
        session.madeDatasets += 1
        return .object(object)
    }

    /// An intervention's result, naming the inputs it measured, is kept for reports and returned.
    func adopt(_ result: InterventionResult, on target: EvaluationTarget) -> Value {
        let object = InterventionObject(result, inputs: target.description)
        session.results.append(object)
        return .object(object)
    }
}


// MARK: - Pictures

extension Figure {
    /// A `baseline` result: its curves, drawn like a training run's.
    static func baseline(_ r: ResultValue) throws -> Figure {
        let (train, test, accuracy) = (try r.tensor("train_loss").toDoubles(), try r.tensor("test_loss").toDoubles(),
                                       try r.tensor("test_acc_curve").toDoubles())
        var history = TrainingHistory()
        for i in train.indices { history.append(epoch: i + 1, train: train[i], test: test[i], accuracy: accuracy[i]) }
        return try trainingFigure(history, title: r.title)
    }
}
