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
}

/// Per-epoch curves of a run: the loss on the training set before each step,
/// and the test loss and accuracy after it.
public struct TrainingHistory: Equatable {
    public var epochs: [Int] = []
    public var trainLoss: [Double] = []
    public var testLoss: [Double] = []
    public var testAccuracy: [Double] = []

    public init() {}

    /// Number of recorded epochs.
    public var count: Int { epochs.count }

    mutating func removeLast() {
        guard !epochs.isEmpty else { return }
        epochs.removeLast(); trainLoss.removeLast(); testLoss.removeLast(); testAccuracy.removeLast()
    }

    /// Records one epoch.
    public mutating func append(epoch: Int, train: Double, test: Double, accuracy: Double) {
        epochs.append(epoch)
        trainLoss.append(train)
        testLoss.append(test)
        testAccuracy.append(accuracy)
    }

    /// The first epoch whose test accuracy reached `threshold`, if any.
    public func firstEpoch(testAccuracyAtLeast threshold: Double) -> Int? {
        zip(epochs, testAccuracy).first { $0.1 >= threshold }?.0
    }
}

/// A copy of the weights at one epoch, for progress measures.
public struct Checkpoint {
    public let epoch: Int
    public let weights: [(String, Tensor)]

    public init(epoch: Int, weights: [(String, Tensor)]) {
        self.epoch = epoch
        self.weights = weights
    }
}

/// One epoch's numbers, handed to the progress callback.
public struct TrainingProgress {
    public let epoch: Int
    public let totalEpochs: Int
    public let trainLoss: Double
    public let testLoss: Double
    public let testAccuracy: Double
    /// Mean wall time per epoch so far in this call, in milliseconds.
    public let msPerEpoch: Double

    /// Seconds left at the current pace.
    public var secondsRemaining: Double { Double(totalEpochs - epoch) * msPerEpoch / 1000 }
}

/// How a call to `train` ended.
public enum TrainingOutcome: Equatable {
    case completed
    /// Stopped on request (Ctrl-C) after finishing the given epoch.
    case interrupted(epoch: Int)
    /// The training loss became NaN or infinite at this epoch; the weights are
    /// those of the last epoch whose loss was finite.
    case diverged(epoch: Int)
}

/// Trains a model on a dataset the way the TransformerLens grokking demo
/// does: full batch, AdamW, cross-entropy of the last position in Float64,
/// the test loss after every step. Deterministic: the same model, data and
/// options give the same weights, and a run saved and resumed continues the
/// identical trajectory.
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
    /// Epochs completed so far (across resumes).
    public private(set) var epoch = 0
    /// The most epochs a run may reach, so that epoch arithmetic cannot
    /// overflow and a run file cannot claim an absurd epoch (a billion
    /// full-batch epochs is far beyond any run this trainer makes).
    public static let maxEpoch = 1_000_000_000
    public private(set) var history = TrainingHistory()
    /// Weights kept every `options.checkpointEvery` epochs (and at epoch 0).
    public private(set) var checkpoints: [Checkpoint] = []
    /// The weights before the last step, restored if the next loss is not finite.
    private var lastGood: [Tensor] = []

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
        try Trainer.freezeBiases(model, options.freezeBiases)
        self.optimizer = try AdamW(parameters: model.parameters, learningRate: options.learningRate,
                                   weightDecay: options.weightDecay, betas: options.betas)
    }

    private static func freezeBiases(_ model: HookedTransformer, _ freeze: Bool) throws {
        for p in model.parameters {
            let isBias = p.name.split(separator: ".").last?.hasPrefix("b_") ?? false
            try p.tensor.requiringGrad(!(freeze && isBias))
        }
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
        if new.freezeBiases != options.freezeBiases { try Trainer.freezeBiases(model, new.freezeBiases) }
        options = new
        if let last = settings.last, last.epoch == epoch + 1 {
            settings[settings.count - 1] = (epoch + 1, new)      // changed again before any epoch ran
        } else {
            settings.append((epoch + 1, new))
        }
        return true
    }

    /// Runs `epochs` more epochs. `shouldStop` is polled after every epoch
    /// (Ctrl-C); `progress` is called after every epoch.
    ///
    /// The test loss of epoch e is computed with the weights after step e,
    /// which are also the weights the training forward pass of epoch e + 1
    /// reads, so the two run at the same time on two threads; the step waits
    /// for both. The numbers are those of running them one after the other.
    @discardableResult
    public func train(epochs: Int, shouldStop: () -> Bool = { false },
                      progress: (TrainingProgress) -> Void = { _ in }) throws -> TrainingOutcome {
        guard epochs >= 0 else { throw EngineError(.argument, "train: epochs must be 0 or more, got \(epochs)") }
        guard epochs <= Trainer.maxEpoch - epoch else {
            throw EngineError(.argument, "train: \(epochs) more epochs from epoch \(epoch) would pass the limit of \(Trainer.maxEpoch) epochs")
        }
        // The test evaluation runs on a second thread; one BLAS thread per
        // thread uses two cores without oversubscribing them (measured faster).
        let blasThreads = BLASThreads.current
        BLASThreads.set(1)
        defer { BLASThreads.set(blasThreads) }
        if checkpoints.isEmpty && options.checkpointEvery > 0 && epoch == 0 { keepCheckpoint() }
        let start = monotonicSeconds()
        let target = epoch + epochs
        var done = 0
        // The training loss of the last step, whose test evaluation is still to come.
        var pendingLoss: Double? = nil
        func record(_ trainLoss: Double, _ test: (loss: Double, accuracy: Double)) {
            history.append(epoch: epoch, train: trainLoss, test: test.loss, accuracy: test.accuracy)
            if options.checkpointEvery > 0 && epoch % options.checkpointEvery == 0 { keepCheckpoint() }
            done += 1
            progress(TrainingProgress(epoch: epoch, totalEpochs: target, trainLoss: trainLoss, testLoss: test.loss,
                                      testAccuracy: test.accuracy, msPerEpoch: (monotonicSeconds() - start) * 1000 / Double(done)))
        }
        while epoch < target {
            let evaluation = pendingLoss.map { _ in BackgroundWork { try self.evaluate(self.data.test) } }
            let loss = Result { try forwardBackward() }
            if let trainLoss = pendingLoss, let evaluation {
                record(trainLoss, try evaluation.wait())
                if shouldStop() {
                    optimizer.zeroGrad()
                    return .interrupted(epoch: epoch)
                }
            }
            let value = try loss.get()
            guard value.isFinite else {
                try restoreLastGood()
                return .diverged(epoch: epoch + 1)
            }
            try rememberWeights()
            try optimizer.step()
            optimizer.zeroGrad()
            epoch += 1
            pendingLoss = value
        }
        if let trainLoss = pendingLoss { record(trainLoss, try evaluate(data.test)) }
        return .completed
    }

    /// The training loss of the current weights and, when it is finite, its
    /// gradients (accumulated on the parameters, not yet applied).
    private func forwardBackward() throws -> Double {
        let logits = try model.run(data.train.tokens, positions: .last).logits        // [train, d_vocab_out]
        let loss = try Metrics.crossEntropy(logits, labels: data.train.labels)
        let value = try loss.item()
        if value.isFinite { try loss.backward() }
        return value
    }

    /// Loss and accuracy on a split, without recording gradients.
    public func evaluate(_ split: DatasetSplit) throws -> (loss: Double, accuracy: Double) {
        try GradMode.withNoGrad {
            let logits = try model.run(split.tokens, positions: .last).logits
            return (try Metrics.crossEntropy(logits, labels: split.labels).item(), try Metrics.accuracy(logits, labels: split.labels))
        }
    }

    private func rememberWeights() throws {
        if lastGood.count != model.parameters.count {
            lastGood = model.parameters.map { $0.tensor.detached().clone().detached() }
            return
        }
        for (copy, p) in zip(lastGood, model.parameters) { try copy.assign(p.tensor.detached()) }
    }

    /// Puts back the weights from before the last step (whose result gave a
    /// non-finite loss) and forgets that epoch. The optimizer's moments keep
    /// the last step's update.
    private func restoreLastGood() throws {
        optimizer.zeroGrad()
        guard lastGood.count == model.parameters.count, epoch > 0 else { return }
        try GradMode.withNoGrad {
            for (copy, p) in zip(lastGood, model.parameters) { try p.tensor.assign(copy) }
        }
        epoch -= 1
        history.removeLast()
        if let last = checkpoints.last, last.epoch > epoch { checkpoints.removeLast() }
    }

    private func keepCheckpoint() {
        checkpoints.append(Checkpoint(epoch: epoch, weights: model.parameters.map { ($0.name, $0.tensor.detached().clone().detached()) }))
    }

    /// Restores the state a checkpoint file recorded (used by `resume`).
    func restore(epoch: Int, history: TrainingHistory, checkpoints: [Checkpoint],
                 settings: [(epoch: Int, options: TrainingOptions)]? = nil) {
        self.epoch = epoch
        self.history = history
        self.checkpoints = checkpoints
        if let settings, !settings.isEmpty { self.settings = settings }
    }
}


/// Seconds on a monotonic clock.
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Work started on another thread; `wait` returns its result (or rethrows its error).
final class BackgroundWork<T> {
    private var result: Result<T, Error>?
    private let done = DispatchSemaphore(value: 0)

    init(_ body: @escaping () throws -> T) {
        let thread = Thread { [self] in
            result = Result { try body() }
            done.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    func wait() throws -> T {
        done.wait()
        guard let result else { throw EngineError(.argument, "background work ended without a result") }
        return try result.get()
    }
}
