import Foundation
import NeuroEngine

/// Hyperparameters of a full-batch training run (the TransformerLens grokking
/// demo's defaults: AdamW lr 1e-3, wd 1, betas (0.9, 0.98), biases frozen).
public struct TrainingOptions: Equatable {
    public var learningRate: Double
    public var weightDecay: Double
    public var betas: (Double, Double)
    /// Keep every bias at its initial value, as the grokking demo does.
    public var freezeBiases: Bool
    /// Keep a copy of the weights every this many epochs (0: none).
    public var checkpointEvery: Int

    public init(learningRate: Double = 1e-3, weightDecay: Double = 1.0, betas: (Double, Double) = (0.9, 0.98),
                freezeBiases: Bool = true, checkpointEvery: Int = 0) {
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.betas = betas
        self.freezeBiases = freezeBiases
        self.checkpointEvery = checkpointEvery
    }

    public static func == (a: TrainingOptions, b: TrainingOptions) -> Bool {
        a.learningRate == b.learningRate && a.weightDecay == b.weightDecay && a.betas == b.betas
            && a.freezeBiases == b.freezeBiases && a.checkpointEvery == b.checkpointEvery
    }

    func validate() throws {
        guard learningRate.isFinite, learningRate > 0 else { throw EngineError(.argument, "train: lr must be positive, got \(learningRate)") }
        guard weightDecay.isFinite, weightDecay >= 0 else { throw EngineError(.argument, "train: wd must be 0 or more, got \(weightDecay)") }
        guard (0..<1).contains(betas.0), (0..<1).contains(betas.1) else {
            throw EngineError(.argument, "train: betas must be in [0, 1), got (\(betas.0), \(betas.1))")
        }
        guard checkpointEvery >= 0 else { throw EngineError(.argument, "train: checkpoint interval must be 0 or more, got \(checkpointEvery)") }
    }

    /// AdamW with these hyperparameters over `parameters`, the biases among
    /// them frozen or not as `freezeBiases` says.
    func optimizer(for parameters: [NamedParameter]) throws -> AdamW {
        try TrainingOptions.freezeBiases(parameters, freezeBiases)
        return try AdamW(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay, betas: betas)
    }

    /// Sets whether each bias (a parameter named `….b_…`) is trained; every other parameter is.
    static func freezeBiases(_ parameters: [NamedParameter], _ freeze: Bool) throws {
        for p in parameters {
            let isBias = p.name.split(separator: ".").last?.hasPrefix("b_") ?? false
            try p.tensor.requiringGrad(!(freeze && isBias))
        }
    }
}

/// Trains a model on a dataset the way the TransformerLens grokking demo
/// does: full batch, AdamW, cross-entropy of the last position in Float64,
/// the test loss after every step, all through the shared `TrainingLoop`;
/// adds the options and their changes, and run files (`save`, `resume`).
/// Deterministic: the same model, data and options give the same weights,
/// and a run saved and resumed continues the identical trajectory.
///
/// ```swift
/// let trainer = try Trainer(model: model, data: data, options: TrainingOptions(checkpointEvery: 100))
/// let outcome = try trainer.train(epochs: 2000) { progress in print(progress.epoch) }
/// ```
public final class Trainer {
    public let model: HookedTransformer
    public let data: Dataset
    /// The options training continues with (see `settings` for earlier ones).
    public private(set) var options: TrainingOptions
    /// Every change of options: the first epoch trained with them, and the
    /// options. The first entry is the run's start (epoch 1).
    public private(set) var settings: [(epoch: Int, options: TrainingOptions)]
    public let optimizer: AdamW
    /// The loop that trains: the training split as one batch, the test split evaluated after every epoch.
    public let loop: TrainingLoop
    /// The most epochs a run may reach (`TrainingLoop.maxEpoch`).
    public static let maxEpoch = TrainingLoop.maxEpoch
    /// Epochs completed so far (across resumes).
    public var epoch: Int { loop.epoch }
    public var history: TrainingHistory { loop.history }
    /// Weights kept every `options.checkpointEvery` epochs (and at epoch 0).
    public var checkpoints: [Checkpoint] { loop.checkpoints }

    public init(model: HookedTransformer, data: Dataset, options: TrainingOptions = TrainingOptions()) throws {
        try options.validate()
        guard data.dVocab <= model.config.dVocab else {
            throw EngineError(.argument, "train: the dataset uses tokens up to \(data.dVocab - 1) but the model's d_vocab is \(model.config.dVocab)")
        }
        guard data.dVocabOut <= model.config.dVocabOut else {
            throw EngineError(.argument, "train: the dataset's labels go up to \(data.dVocabOut - 1) but the model outputs only \(model.config.dVocabOut) classes (d_vocab_out)")
        }
        guard data.nCtx <= model.config.nCtx else {
            throw EngineError(.argument, "train: the dataset has \(data.nCtx) positions but the model's n_ctx is \(model.config.nCtx)")
        }
        self.model = model
        self.data = data
        self.options = options
        self.settings = [(1, options)]
        optimizer = try options.optimizer(for: model.parameters)
        loop = try TrainingLoop(model: model, optimizer: optimizer, batches: .full(Batch(data.train)))
        // The test loss of epoch e reads the weights after step e, as does
        // the training step of epoch e + 1: each of two threads takes half of
        // both (the training split's mean loss is a mean over its rows).
        loop.sharedEvaluation = SharedEvaluation(batch: try Batch(data.test)) { [model] rows in
            try Trainer.evaluate(model, tokens: rows[0], labels: rows[1])
        }
        loop.checkpointEvery = options.checkpointEvery
    }

    /// Continues with other options: the weights, the optimizer's moments and
    /// the history stay; `settings` records from which epoch the new options
    /// hold. Returns whether anything changed.
    @discardableResult
    public func update(_ new: TrainingOptions) throws -> Bool {
        try new.validate()
        guard new != options else { return false }
        optimizer.learningRate = new.learningRate
        optimizer.weightDecay = new.weightDecay
        optimizer.beta1 = new.betas.0
        optimizer.beta2 = new.betas.1
        if new.freezeBiases != options.freezeBiases { try TrainingOptions.freezeBiases(model.parameters, new.freezeBiases) }
        loop.checkpointEvery = new.checkpointEvery
        options = new
        if let last = settings.last, last.epoch == epoch + 1 {
            settings[settings.count - 1] = (epoch + 1, new)      // changed again before any epoch ran
        } else {
            settings.append((epoch + 1, new))
        }
        return true
    }

    /// Runs `epochs` more epochs (see `TrainingLoop.train`). `shouldStop` is
    /// polled after every epoch (Ctrl-C); `progress` is called after every epoch.
    @discardableResult
    public func train(epochs: Int, shouldStop: () -> Bool = { false },
                      progress: (TrainingProgress) -> Void = { _ in }) throws -> TrainingOutcome {
        try loop.train(epochs: epochs, shouldStop: shouldStop, progress: progress)
    }

    /// Loss and accuracy on a split, without recording gradients.
    public func evaluate(_ split: DatasetSplit) throws -> (loss: Double, accuracy: Double) {
        let result = try Trainer.evaluate(model, split)
        return (result.loss, result.accuracy)
    }

    static func evaluate(_ model: some SequenceModel, _ split: DatasetSplit) throws -> TrainingEvaluation {
        try evaluate(model, tokens: split.tokens, labels: split.labels)
    }

    static func evaluate(_ model: some SequenceModel, tokens: Tensor, labels: Tensor) throws -> TrainingEvaluation {
        try GradMode.withNoGrad {
            let logits = try model.lastLogits(tokens)                             // [count, d_vocab_out]
            return TrainingEvaluation(loss: try Metrics.crossEntropy(logits, labels: labels).item(),
                                      accuracy: try Metrics.accuracy(logits, labels: labels))
        }
    }

    /// Restores the state a run file recorded (used by `resume`).
    func restore(settings: [(epoch: Int, options: TrainingOptions)]?) {
        if let settings, !settings.isEmpty { self.settings = settings }
    }
}

extension Batch {
    /// A split's tokens [count, pos] and labels [count].
    public init(_ split: DatasetSplit) throws {
        try self.init([split.tokens, split.labels])
    }
}
