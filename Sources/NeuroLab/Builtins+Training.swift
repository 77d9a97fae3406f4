import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroPlots
import NeuroModels
import NeuroAnalysis

/// Built-ins that train: `train` (with its defaults, checkpoints and
/// progress line) and `baseline` (the same data through a model that is
/// not a transformer).
extension Builtins {
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
        // The last line stays on screen: the final losses, as the run ended.
        let reporter = session.reporter("train")
        defer { reporter.finish(keep: true) }
        let outcome = try trainer.train(epochs: epochs, shouldStop: { Interruption.requested }) { p in
            reporter.draw(force: p.epoch == p.totalEpochs) { _ in progressLine(p) }
        }
        let result = TrainingObject(trainer: trainer, outcome: outcome, note: note)
        session.results.append(result)
        return .object(result)
    }

    /// Training's own progress text (its losses and accuracy; the bar and
    /// times are `ProgressLine`'s):
    /// `epoch 1200/2000 ━━━━━━━━━╸──────  train 1.2e-06  test 0.41  acc 93.1%  38 ms/ep  ETA 30s`
    static func progressLine(_ p: TrainingProgress) -> String {
        String(format: "  epoch %d/%d %@  train %.2g  test %.2g  acc %@  %.1f ms/ep  ETA %@",
               p.epoch, p.totalEpochs, ProgressLine.bar(Double(p.epoch) / Double(max(p.totalEpochs, 1))), p.trainLoss, p.testLoss,
               Formatter.percent(p.testAccuracy), p.msPerEpoch, ProgressLine.duration(p.secondsRemaining))
    }

    static let baseline = Builtin(
        "baseline", "baseline(data, kind: \"mlp\", epochs: 1000, lr: 1e-3, wd: 1.0, d_model: 128, d_hidden: 512, seed: 0)",
        "train a baseline to compare with the transformer: \"memory\" (a lookup table per input), \"mlp\" (an MLP over the concatenated embeddings) or \"mlp_separate\" (Chughtai et al.'s MLP: separate embeddings for a and b)",
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
        case "mlp_separate":
            guard d.nCtx - 1 == 2 else {
                throw args.error("kind \"mlp_separate\" embeds two inputs (a and b); this data has \(d.nCtx - 1) before the answer")
            }
            model = try SeparateEmbeddingMLP(dVocab: d.dVocab, dVocabOut: d.dVocabOut, dModel: args.int(nil, "d_model", default: 128),
                                             dHidden: args.int(nil, "d_hidden", default: 512), seed: try args.seed(nil, default: 0))
        default:
            let hint = Suggest.closest(kind, among: ["memory", "mlp", "mlp_separate"]).map { "; did you mean '\($0)'?" } ?? ""
            throw args.error("unknown kind '\(kind)' (memory, mlp or mlp_separate)\(hint)")
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
