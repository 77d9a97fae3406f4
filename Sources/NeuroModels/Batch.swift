import NeuroEngine

/// Tensors that share their first axis, one row per example: tokens
/// [n, pos] and labels [n] for the algorithmic tasks, activations [n, d]
/// for a sparse autoencoder, features [n, f] for a toy model.
///
/// ```swift
/// let batch = try Batch([data.train.tokens, data.train.labels])
/// batch[0].shape   // [3830, 3]
/// ```
public struct Batch {
    public let tensors: [Tensor]
    /// The length of the shared first axis.
    public let rows: Int

    /// Refuses an empty list, a scalar, or tensors whose first axes differ.
    public init(_ tensors: [Tensor]) throws {
        guard let first = tensors.first else { throw EngineError(.argument, "batch: needs at least one tensor") }
        for (i, t) in tensors.enumerated() where t.rank == 0 || t.shape[0] != first.shape.first {
            throw EngineError(.shape, "batch: tensor \(i) has shape \(formatShape(t.shape)); every tensor must have "
                              + "\(first.shape.first.map { "\($0) rows (first axis)" } ?? "a first axis") like tensor 0 \(formatShape(first.shape))")
        }
        self.tensors = tensors
        self.rows = first.shape[0]
    }

    public subscript(index: Int) -> Tensor { tensors[index] }

    /// The given rows of every tensor, in the given order.
    public func rows(_ indices: [Int]) throws -> Batch {
        let picks = try Tensor(ints: indices, shape: [indices.count])
        return try Batch(tensors.map { try $0.indexSelect(axis: 0, indices: picks) })
    }

    /// Rows `range` of every tensor, as contiguous copies.
    public func rows(in range: Range<Int>) throws -> Batch {
        try Batch(tensors.map { try $0.slice(axis: 0, start: range.lowerBound, end: range.upperBound).clone() })
    }

    /// The first and the second half of the rows (the first has one row
    /// fewer when the count is odd); nil for fewer than two rows.
    public func halves() throws -> (Batch, Batch)? {
        guard rows >= 2 else { return nil }
        return (try self.rows(in: 0..<rows / 2), try self.rows(in: rows / 2..<rows))
    }
}

/// Where the batch of each step comes from. An epoch is one pass: one step
/// for the full batch, one step per minibatch, or `stepsPerEpoch` made batches.
public enum BatchSource {
    /// The whole batch at every step (the grokking recipe).
    case full(Batch)
    /// Minibatches of `size` rows (the last one may be smaller) in an order
    /// drawn afresh each epoch from `seed` and the epoch number, so the same
    /// seed gives the same batches, also in a run that was stopped and continued.
    case minibatches(Batch, size: Int, seed: UInt64)
    /// `stepsPerEpoch` batches made by `make(step)`, the step counted from 1
    /// over the whole run (e.g. fresh synthetic features for a toy model).
    case generated(stepsPerEpoch: Int, make: (Int) throws -> Batch)

    /// Steps in one epoch.
    public var stepsPerEpoch: Int {
        switch self {
        case .full: return 1
        case let .minibatches(batch, size, _): return (batch.rows + size - 1) / Swift.max(size, 1)
        case let .generated(steps, _): return steps
        }
    }

    func validate(_ op: String) throws {
        switch self {
        case let .full(batch):
            guard batch.rows > 0 else { throw EngineError(.argument, "\(op): the batch has no rows") }
        case let .minibatches(batch, size, _):
            guard batch.rows > 0 else { throw EngineError(.argument, "\(op): the batch has no rows") }
            guard size >= 1 else { throw EngineError(.argument, "\(op): the minibatch size must be 1 or more, got \(size)") }
        case let .generated(steps, _):
            guard steps >= 1 else { throw EngineError(.argument, "\(op): steps per epoch must be 1 or more, got \(steps)") }
        }
    }

    /// The order of the rows in `epoch` (counted from 1) for minibatches.
    static func order(rows: Int, seed: UInt64, epoch: Int) -> [Int] {
        // One generator per epoch, seeded from the run's seed and the epoch,
        // so epoch e's order does not depend on how the run got there.
        var rng = RandomGenerator(seed: seed ^ (UInt64(truncatingIfNeeded: epoch) &* 0xD1B5_4A32_D192_ED03))
        return rng.permutation(rows)
    }
}
