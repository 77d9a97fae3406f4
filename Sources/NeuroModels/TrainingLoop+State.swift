import NeuroEngine

/// A loop's state as safetensors entries, for a run file: the optimizer
/// (`optimizer.` tensors and metadata), the history (`history.` tensors),
/// the checkpoints (`checkpoint.<epoch>.<parameter>`), the `epoch` and the
/// `checkpoint_epochs`. The file's owner adds what the model and data need.
extension TrainingLoop {
    /// The optimizer's state, its keys under `optimizer.`.
    func optimizerTensors() -> [(String, Tensor)] {
        optimizer.state().tensors.map { ("optimizer.\($0.0)", $0.1) }
    }

    func historyTensors() throws -> [(String, Tensor)] {
        [
            ("history.epoch", try Tensor(ints: history.epochs, shape: [history.count])),
            ("history.train_loss", try Tensor(float64: history.trainLoss, shape: [history.count])),
            ("history.test_loss", try Tensor(float64: history.testLoss, shape: [history.count])),
            ("history.test_accuracy", try Tensor(float64: history.testAccuracy, shape: [history.count])),
        ]
    }

    func checkpointTensors() -> [(String, Tensor)] {
        checkpoints.flatMap { checkpoint in checkpoint.weights.map { ("checkpoint.\(checkpoint.epoch).\($0.0)", $0.1) } }
    }

    /// `epoch`, `checkpoint_epochs` and the optimizer's metadata under `optimizer.`.
    func stateMetadata() -> [String: String] {
        var metadata = ["epoch": "\(epoch)", "checkpoint_epochs": checkpoints.map { "\($0.epoch)" }.joined(separator: ",")]
        for (key, value) in optimizer.state().metadata { metadata["optimizer.\(key)"] = value }
        return metadata
    }

    /// Reads back what the functions above wrote, for a run at `epoch`,
    /// checking every number before it is used (errors name the field).
    func restoreState(tensors: [String: Tensor], metadata: [String: String], epoch: Int) throws {
        func tensor(_ key: String) throws -> Tensor {
            guard let value = tensors[key] else { throw EngineError(.file, "missing tensor '\(key)'") }
            return value
        }
        func entries(prefix: String) -> [String: Tensor] {
            var out: [String: Tensor] = [:]
            for (key, value) in tensors where key.hasPrefix(prefix) { out[String(key.dropFirst(prefix.count))] = value }
            return out
        }
        var optimizerMeta: [String: String] = [:]
        for (key, value) in metadata where key.hasPrefix("optimizer.") { optimizerMeta[String(key.dropFirst(10))] = value }
        try optimizer.loadState(tensors: entries(prefix: "optimizer."), metadata: optimizerMeta)

        let history = try TrainingLoop.decodeHistory(tensor: tensor, epoch: epoch)
        guard let listed = metadata["checkpoint_epochs"] else { throw EngineError(.file, "metadata is missing 'checkpoint_epochs'") }
        var checkpointEpochs: [Int] = []
        for part in listed.split(separator: ",") {
            let e = try TrainingLoop.wholeNumber(String(part), field: "metadata 'checkpoint_epochs'", in: 0...epoch)
            guard e > (checkpointEpochs.last ?? -1) else {
                throw EngineError(.file, "metadata 'checkpoint_epochs' must list each epoch once, in increasing order; \(e) follows \(checkpointEpochs.last ?? 0)")
            }
            checkpointEpochs.append(e)
        }
        let checkpoints = try checkpointEpochs.map { e -> Checkpoint in
            let table = entries(prefix: "checkpoint.\(e).")
            return Checkpoint(epoch: e, weights: try parameters.map { p in
                guard let t = table[p.name], t.shape == p.tensor.shape else {
                    throw EngineError(.file, "checkpoint \(e) is missing '\(p.name)' or has the wrong shape")
                }
                guard t.dtype == p.tensor.dtype else {
                    throw EngineError(.file, "tensor 'checkpoint.\(e).\(p.name)' is \(t.dtype.shortName), expected \(p.tensor.dtype.shortName)")
                }
                return (p.name, t)
            })
        }
        restore(epoch: epoch, history: history, checkpoints: checkpoints)
    }

    /// `text` as a whole number in `range`, or an error naming `field`.
    /// Parsed as an integer, never through Double, so no value can trap.
    static func wholeNumber(_ text: String, field: String, in range: ClosedRange<Int>) throws -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw EngineError(.file, "\(field) must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return value
    }

    /// The history tensors: epochs as integers, strictly increasing, within
    /// 1...`epoch` (the epochs the run has done); the curves as floats of the
    /// same length.
    private static func decodeHistory(tensor: (String) throws -> Tensor, epoch: Int) throws -> TrainingHistory {
        let epochTensor = try tensor("history.epoch")
        guard !epochTensor.dtype.isFloatingPoint, epochTensor.rank == 1 else {
            throw EngineError(.file, "tensor 'history.epoch' must be a vector of I64 or I32 epochs, got \(epochTensor.dtype.shortName) \(formatShape(epochTensor.shape))")
        }
        let epochs = epochTensor.toInts()
        for (i, e) in epochs.enumerated() {
            let earlier = i == 0 ? 0 : epochs[i - 1]
            guard e > earlier, e <= epoch else {
                throw EngineError(.file, "tensor 'history.epoch' has \(e) at position \(i); epochs must increase from 1 to at most the run's epoch \(epoch)")
            }
        }
        func curve(_ key: String) throws -> [Double] {
            let t = try tensor(key)
            guard t.dtype.isFloatingPoint, t.shape == [epochs.count] else {
                throw EngineError(.file, "tensor '\(key)' must be a float vector of \(epochs.count) values like 'history.epoch', got \(t.dtype.shortName) \(formatShape(t.shape))")
            }
            return t.toDoubles()
        }
        let (train, test, accuracy) = (try curve("history.train_loss"), try curve("history.test_loss"), try curve("history.test_accuracy"))
        var history = TrainingHistory()
        for i in 0..<epochs.count { history.append(epoch: epochs[i], train: train[i], test: test[i], accuracy: accuracy[i]) }
        return history
    }
}
