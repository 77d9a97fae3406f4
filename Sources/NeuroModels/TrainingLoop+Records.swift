import Foundation
import NeuroEngine

/// Per-epoch curves of a run: the training loss of the epoch (the loss
/// before its step for a full batch, the mean over its steps for
/// minibatches) and the evaluation after it (NaN when the run has none).
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

/// A copy of the weights (every parameter of the run, by name) at one epoch, for progress measures.
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
    /// The training loss became NaN or infinite after the step of this epoch
    /// (epoch 1 also when the starting weights already give it); the weights
    /// are those of the last step whose loss was finite.
    case diverged(epoch: Int)

    /// Why a run that recorded no epoch has none, as a sentence (nil when it completed).
    public var withoutEpochs: String? {
        switch self {
        case .completed: return nil
        case .diverged(let e):
            return "training stopped in epoch \(e): after its step the loss was NaN or infinite, so no epoch is recorded "
                + "and the weights are as they were before it (try a smaller lr)"
        case .interrupted: return "training interrupted before the first epoch ended; the weights are as they were"
        }
    }

    /// How a run that recorded epochs stopped early, as a note in parentheses (nil when it completed).
    public var stopNote: String? {
        switch self {
        case .completed: return nil
        case .interrupted(let e): return "(interrupted at epoch \(e))"
        case .diverged(let e): return "(stopped: loss became NaN or infinite at epoch \(e); kept the last good weights)"
        }
    }
}

/// What a run measures after each epoch besides the training loss, e.g. the
/// loss and accuracy on a held-out split.
public struct TrainingEvaluation: Equatable {
    public var loss: Double
    public var accuracy: Double

    public init(loss: Double, accuracy: Double) {
        self.loss = loss
        self.accuracy = accuracy
    }

    /// What a run without an evaluation records: NaN, "not measured".
    public static let notMeasured = TrainingEvaluation(loss: .nan, accuracy: .nan)
}


/// A batch evaluated after every epoch, and how: the mean loss and the
/// fraction of rows right over any of its rows (so that halves of it can be
/// evaluated apart and put together, see `TrainingLoop.sharedEvaluation`).
public struct SharedEvaluation {
    public let batch: Batch
    public let evaluate: (Batch) throws -> TrainingEvaluation

    public init(batch: Batch, evaluate: @escaping (Batch) throws -> TrainingEvaluation) {
        self.batch = batch
        self.evaluate = evaluate
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
