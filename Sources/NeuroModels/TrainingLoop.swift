import Foundation
import NeuroEngine

/// Something the training loop can train: named parameters and a
/// differentiable scalar loss on a batch. The transformer and the baselines
/// are trainable through `SequenceModel`; a sparse autoencoder or a toy model
/// of superposition is one by giving its weights and its loss.
public protocol Trainable: AnyObject {
    /// The trainable tensors, by name.
    var parameters: [NamedParameter] { get }
    /// A scalar loss of `batch` that records its graph, ready for `backward()`.
    func loss(on batch: Batch) throws -> Tensor
}

/// The one training loop: a loss over batches, an optimizer, and after each
/// epoch an optional evaluation, a checkpoint of the weights, a progress
/// report and a check for a stop request (Ctrl-C). A non-finite loss stops
/// the run with the weights from before the step that caused it.
/// Deterministic: the same weights, batches and optimizer give the same run,
/// also across `train` calls.
///
/// ```swift
/// let loop = try TrainingLoop(optimizer: SGD(parameters: model.parameters, learningRate: 0.1),
///                             batches: .minibatches(batch, size: 32, seed: 0), loss: model.loss(on:))
/// let outcome = try loop.train(epochs: 100)
/// ```
public final class TrainingLoop {
    public let optimizer: any Optimizer
    public let batches: BatchSource
    /// The differentiable scalar loss of one batch.
    public let loss: (Batch) throws -> Tensor
    /// Measured after every epoch and recorded in `history` (none: NaN is recorded).
    public var evaluate: (() throws -> TrainingEvaluation)?
    /// Runs the evaluation of an epoch on a second thread beside the first
    /// forward and backward pass of the next epoch, which read the same
    /// weights; the numbers are those of running them one after the other.
    /// Only for a loss and an evaluation that may run at the same time.
    public var overlapsEvaluation = false
    /// Shares every epoch out between two threads by halves of the rows:
    /// each thread runs the forward and backward pass of half the training
    /// batch and evaluates half of `sharedEvaluation`'s batch (that of the
    /// epoch before, beside the step, as `overlapsEvaluation` does); the
    /// two gradients are added before the step. Used instead of `evaluate`
    /// when set, with a full batch of at least two rows and a loss that is
    /// the mean of one term per row (the halves' losses are weighted by
    /// their rows). The numbers are those of the whole batch but for the
    /// order of the sums.
    public var sharedEvaluation: SharedEvaluation?
    /// Keep a copy of the weights every this many epochs (0: none), and at epoch 0.
    public var checkpointEvery = 0
    /// The name errors start with ("train", "fit", …).
    public let name: String

    /// The most epochs a run may reach, so that epoch arithmetic cannot
    /// overflow and a run file cannot claim an absurd epoch (a billion
    /// full-batch epochs is far beyond any run made here).
    public static let maxEpoch = 1_000_000_000
    /// Epochs completed so far (across calls and resumes).
    public private(set) var epoch = 0
    /// Optimizer steps taken so far; ahead of `epoch · stepsPerEpoch` when a
    /// run was stopped inside an epoch.
    public private(set) var step = 0
    public private(set) var history = TrainingHistory()
    /// Weights kept every `checkpointEvery` epochs (and at epoch 0).
    public private(set) var checkpoints: [Checkpoint] = []
    /// The last non-finite loss met: the step whose forward pass gave it
    /// (counted from 1) and its value.
    public private(set) var divergence: (step: Int, loss: Double)?

    /// The parameters the optimizer updates.
    public var parameters: [NamedParameter] { optimizer.parameters }
    /// The weights before the last step, restored if the next loss is not finite.
    private var lastGood: [Tensor] = []
    /// Losses of the steps taken in the current epoch; those of the epoch
    /// before, for undoing its last step.
    private var epochLosses: [Double] = [], previousEpochLosses: [Double] = []
    /// The minibatch order of one epoch, kept while the epoch runs.
    private var order: (epoch: Int, rows: [Int])?

    public init(optimizer: any Optimizer, batches: BatchSource, name: String = "train",
                loss: @escaping (Batch) throws -> Tensor) throws {
        try batches.validate(name)
        self.optimizer = optimizer
        self.batches = batches
        self.name = name
        self.loss = loss
    }

    /// The loop over a trainable model's own loss.
    public convenience init(model: some Trainable, optimizer: any Optimizer, batches: BatchSource, name: String = "train") throws {
        try self.init(optimizer: optimizer, batches: batches, name: name, loss: { try model.loss(on: $0) })
    }

    /// Runs `epochs` more epochs. `shouldStop` is polled after every step
    /// (Ctrl-C); the run then ends with the epochs recorded so far. `progress`
    /// is called after every epoch.
    @discardableResult
    public func train(epochs: Int, shouldStop: () -> Bool = { false },
                      progress: (TrainingProgress) -> Void = { _ in }) throws -> TrainingOutcome {
        guard epochs >= 0 else { throw EngineError(.argument, "\(name): epochs must be 0 or more, got \(epochs)") }
        guard epochs <= TrainingLoop.maxEpoch - epoch else {
            throw EngineError(.argument, "\(name): \(epochs) more epochs from epoch \(epoch) would pass the limit of \(TrainingLoop.maxEpoch) epochs")
        }
        let mode = try stepMode()
        // With the work on two threads, one engine thread per thread uses two
        // cores without oversubscribing them (measured faster).
        let blasThreads = BLASThreads.current
        if mode.usesTwoThreads { BLASThreads.set(1) }
        defer { if mode.usesTwoThreads { BLASThreads.set(blasThreads) } }
        if checkpoints.isEmpty && checkpointEvery > 0 && epoch == 0 && step == 0 { keepCheckpoint() }
        let start = monotonicSeconds()
        let target = epoch + epochs
        var done = 0
        func record(_ trainLoss: Double, _ test: TrainingEvaluation) {
            history.append(epoch: epoch, train: trainLoss, test: test.loss, accuracy: test.accuracy)
            if checkpointEvery > 0 && epoch % checkpointEvery == 0 { keepCheckpoint() }
            done += 1
            progress(TrainingProgress(epoch: epoch, totalEpochs: target, trainLoss: trainLoss, testLoss: test.loss,
                                      testAccuracy: test.accuracy, msPerEpoch: (monotonicSeconds() - start) * 1000 / Double(done)))
        }
        let perEpoch = batches.stepsPerEpoch
        // The training loss of the last epoch, whose evaluation is still to come (beside the next step).
        var pendingLoss: Double? = nil
        while epoch < target {
            let batch = try batchForNextStep(perEpoch)
            let (loss, evaluation) = runStep(batch, mode, evaluating: pendingLoss != nil)
            if let trainLoss = pendingLoss, let evaluation {
                record(trainLoss, try evaluation.get())
                pendingLoss = nil
                if shouldStop() {
                    optimizer.zeroGrad()
                    return .interrupted(epoch: epoch)
                }
            }
            let value = try loss.get()
            guard value.isFinite else {
                divergence = (step + 1, value)
                try undoLastStep(perEpoch)
                return .diverged(epoch: epoch + 1)
            }
            try rememberWeights()
            try optimizer.step()
            optimizer.zeroGrad()
            step += 1
            epochLosses.append(value)
            guard epochLosses.count == perEpoch else {
                if shouldStop() { return .interrupted(epoch: epoch) }
                continue
            }
            epoch += 1
            let trainLoss = epochLosses.reduce(0, +) / Double(perEpoch)
            (previousEpochLosses, epochLosses) = (epochLosses, [])
            if mode.usesTwoThreads {
                pendingLoss = trainLoss
            } else {
                record(trainLoss, try evaluate?() ?? .notMeasured)
                if epoch < target && shouldStop() { return .interrupted(epoch: epoch) }
            }
        }
        if let trainLoss = pendingLoss { record(trainLoss, try evaluateNow(mode)) }
        return .completed
    }

    /// How the steps of a `train` call run: one thing at a time; the
    /// evaluation of an epoch beside the next step; or both by halves.
    private enum StepMode {
        case plain
        case overlapped(evaluate: () throws -> TrainingEvaluation)
        case halves(Halves)

        /// Whether the work runs on two threads, the evaluation of an epoch
        /// then waiting for the next step (at one engine thread each).
        var usesTwoThreads: Bool { if case .plain = self { false } else { true } }
    }

    /// The halves of the training batch and of the evaluation batch, with
    /// each half's share of the mean.
    private struct Halves {
        let train: (Batch, Batch), evaluation: (Batch, Batch)
        let trainWeights: (Double, Double)
        let evaluate: (Batch) throws -> TrainingEvaluation
        /// The parameters whose gradients are worked out (those that require them).
        let trained: [Tensor]

        /// The evaluation of the whole batch from those of its halves: the
        /// losses weighted by rows, the accuracy from the rows each got right
        /// (so that it is the same fraction as over the whole batch).
        func combine(_ a: TrainingEvaluation, _ b: TrainingEvaluation) -> TrainingEvaluation {
            let (n0, n1) = (Double(evaluation.0.rows), Double(evaluation.1.rows))
            let right = (a.accuracy * n0).rounded() + (b.accuracy * n1).rounded()
            return TrainingEvaluation(loss: (n0 * a.loss + n1 * b.loss) / (n0 + n1), accuracy: right / (n0 + n1))
        }
    }

    private func stepMode() throws -> StepMode {
        if let shared = sharedEvaluation, case let .full(batch) = batches,
           let train = try batch.halves(), let evaluation = try shared.batch.halves() {
            func weights(_ halves: (Batch, Batch)) -> (Double, Double) {
                let total = Double(halves.0.rows + halves.1.rows)
                return (Double(halves.0.rows) / total, Double(halves.1.rows) / total)
            }
            return .halves(Halves(train: train, evaluation: evaluation, trainWeights: weights(train), evaluate: shared.evaluate,
                                  trained: parameters.map(\.tensor).filter(\.requiresGrad)))
        }
        if let shared = sharedEvaluation { return .overlapped(evaluate: { try shared.evaluate(shared.batch) }) }
        if overlapsEvaluation, let evaluate { return .overlapped(evaluate: evaluate) }
        return .plain
    }

    /// One step's forward and backward pass (its loss; the gradients wait on
    /// the parameters) and, when `evaluating`, the evaluation of the weights
    /// it starts from, run as `mode` says.
    private func runStep(_ batch: Batch, _ mode: StepMode, evaluating: Bool)
        -> (loss: Result<Double, Error>, evaluation: Result<TrainingEvaluation, Error>?) {
        switch mode {
        case .plain:
            return (Result { try forwardBackward(batch) }, nil)
        case let .overlapped(evaluate):
            let evaluation = evaluating ? BackgroundWork { try evaluate() } : nil
            let loss = Result { try forwardBackward(batch) }
            return (loss, evaluation.map { work in Result { try work.wait() } })
        case let .halves(halves):
            func half(_ train: Batch, _ weight: Double, _ test: Batch) -> (Result<(Double, [Tensor]?), Error>, Result<TrainingEvaluation, Error>?) {
                (Result { try gradients(train, weight: weight, of: halves.trained) },
                 evaluating ? Result { try halves.evaluate(test) } : nil)
            }
            let second = BackgroundWork { half(halves.train.1, halves.trainWeights.1, halves.evaluation.1) }
            let first = half(halves.train.0, halves.trainWeights.0, halves.evaluation.0)
            let other: (Result<(Double, [Tensor]?), Error>, Result<TrainingEvaluation, Error>?)
            do { other = try second.wait() } catch { return (.failure(error), evaluating ? .failure(error) : nil) }
            let loss = Result { () throws -> Double in
                let (a, b) = (try first.0.get(), try other.0.get())
                let value = halves.trainWeights.0 * a.0 + halves.trainWeights.1 * b.0
                if value.isFinite, let ga = a.1, let gb = b.1 {
                    for (p, (x, y)) in zip(halves.trained, zip(ga, gb)) { try p.accumulateGrad(try x + y) }
                }
                return value
            }
            var evaluation: Result<TrainingEvaluation, Error>? = nil
            if let a = first.1, let b = other.1 { evaluation = Result { try halves.combine(a.get(), b.get()) } }
            return (loss, evaluation)
        }
    }

    /// The evaluation of the current weights, by halves on two threads when `mode` shares them.
    private func evaluateNow(_ mode: StepMode) throws -> TrainingEvaluation {
        switch mode {
        case .plain: return try evaluate?() ?? .notMeasured
        case let .overlapped(evaluate): return try evaluate()
        case let .halves(halves):
            let second = BackgroundWork { try halves.evaluate(halves.evaluation.1) }
            let first = try halves.evaluate(halves.evaluation.0)
            return halves.combine(first, try second.wait())
        }
    }

    /// The loss of the current weights on `batch` and, when it is finite, the
    /// gradients of `weight` times it with respect to `parameters` (nothing's
    /// `grad` is touched).
    private func gradients(_ batch: Batch, weight: Double, of parameters: [Tensor]) throws -> (Double, [Tensor]?) {
        try GradMode.withGrad {
            let value = try checkedLoss(batch)
            let number = try value.item()
            guard number.isFinite, value.requiresGrad else { return (number, nil) }
            return (number, try value.gradients(of: parameters, seed: weight))
        }
    }

    /// The loss of `batch`, which must be a single number.
    private func checkedLoss(_ batch: Batch) throws -> Tensor {
        let value = try loss(batch)
        guard value.count == 1 else {
            throw EngineError(.shape, "\(name): the loss must be a single number, got shape \(formatShape(value.shape))")
        }
        return value
    }

    /// The batch of the step after `step`.
    private func batchForNextStep(_ perEpoch: Int) throws -> Batch {
        let index = epochLosses.count                        // steps already taken in this epoch
        switch batches {
        case let .full(batch): return batch
        case let .minibatches(batch, size, seed):
            if order?.epoch != epoch + 1 { order = (epoch + 1, BatchSource.order(rows: batch.rows, seed: seed, epoch: epoch + 1)) }
            let rows = order?.rows ?? []
            return try batch.rows(Array(rows[(index * size)..<Swift.min((index + 1) * size, rows.count)]))
        case let .generated(_, make): return try make(step + 1)
        }
    }

    /// The loss of the current weights on `batch` and, when it is finite, its
    /// gradients (accumulated on the parameters, not yet applied).
    private func forwardBackward(_ batch: Batch) throws -> Double {
        try GradMode.withGrad {
            let value = try checkedLoss(batch)
            let number = try value.item()
            if number.isFinite { try value.backward() }
            return number
        }
    }

    private func rememberWeights() throws {
        if lastGood.count != parameters.count {
            lastGood = parameters.map { $0.tensor.detached().clone().detached() }
            return
        }
        for (copy, p) in zip(lastGood, parameters) { try copy.assign(p.tensor.detached()) }
    }

    /// Puts back the weights from before the last step (whose result gave a
    /// non-finite loss) and forgets that step, and its epoch if it ended one.
    /// The optimizer's moments keep the last step's update.
    private func undoLastStep(_ perEpoch: Int) throws {
        optimizer.zeroGrad()
        guard lastGood.count == parameters.count, step > 0 else { return }
        try GradMode.withNoGrad {
            for (copy, p) in zip(lastGood, parameters) { try p.tensor.assign(copy) }
        }
        step -= 1
        if epochLosses.isEmpty {
            epoch -= 1
            history.removeLast()
            if let last = checkpoints.last, last.epoch > epoch { checkpoints.removeLast() }
            epochLosses = Array(previousEpochLosses.dropLast())
        } else {
            epochLosses.removeLast()
        }
        lastGood = []
    }

    private func keepCheckpoint() {
        checkpoints.append(Checkpoint(epoch: epoch, weights: parameters.map { ($0.name, $0.tensor.detached().clone().detached()) }))
    }

    /// Restores a recorded state (a run read back from a file): `epoch`
    /// whole epochs done, with their history and checkpoints.
    func restore(epoch: Int, history: TrainingHistory, checkpoints: [Checkpoint]) {
        self.epoch = epoch
        self.step = epoch * batches.stepsPerEpoch
        self.history = history
        self.checkpoints = checkpoints
        (epochLosses, previousEpochLosses, lastGood, order) = ([], [], [], nil)
    }
}
