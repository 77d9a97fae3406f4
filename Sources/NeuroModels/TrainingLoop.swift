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
        let overlap = overlapsEvaluation && evaluate != nil
        // With the evaluation on a second thread, one engine thread per thread
        // uses two cores without oversubscribing them (measured faster).
        let blasThreads = BLASThreads.current
        if overlap { BLASThreads.set(1) }
        defer { if overlap { BLASThreads.set(blasThreads) } }
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
        // The training loss of the last epoch, whose evaluation is still to come (overlapped).
        var pendingLoss: Double? = nil
        while epoch < target {
            let batch = try batchForNextStep(perEpoch)
            let evaluation = pendingLoss.flatMap { _ in evaluate.map { body in BackgroundWork { try body() } } }
            let loss = Result { try forwardBackward(batch) }
            if let trainLoss = pendingLoss, let evaluation {
                record(trainLoss, try evaluation.wait())
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
            if overlap {
                pendingLoss = trainLoss
            } else {
                record(trainLoss, try evaluate?() ?? .notMeasured)
                if epoch < target && shouldStop() { return .interrupted(epoch: epoch) }
            }
        }
        if let trainLoss = pendingLoss, let evaluate { record(trainLoss, try evaluate()) }
        return .completed
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
            let value = try loss(batch)
            guard value.count == 1 else {
                throw EngineError(.shape, "\(name): the loss must be a single number, got shape \(formatShape(value.shape))")
            }
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
