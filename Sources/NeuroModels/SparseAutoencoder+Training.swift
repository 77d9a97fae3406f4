import NeuroEngine

/// Training a sparse autoencoder with the project's one training loop:
/// Adam (no weight decay) on minibatches of the scaled activations.
extension SparseAutoencoder {
    /// How long and how fast to train.
    public struct Schedule: Sendable {
        public var steps: Int
        public var batchSize: Int
        public var learningRate: Double
        public var seed: UInt64

        public init(steps: Int = 2000, batchSize: Int = 1024, learningRate: Double = 1e-3, seed: UInt64 = 0) {
            self.steps = steps
            self.batchSize = batchSize
            self.learningRate = learningRate
            self.seed = seed
        }
    }

    /// Trains on `activations` [N, d_in] (their own scale) for `schedule.steps`
    /// steps, rounded up to whole passes over the data. Returns the loop, whose
    /// history holds the loss of every pass and whose outcome says whether the
    /// run finished, was stopped or diverged (then with the last good weights).
    @discardableResult
    public func train(on activations: Tensor, schedule: Schedule, shouldStop: () -> Bool = { false },
                      progress: (TrainingProgress) -> Void = { _ in }) throws -> (TrainingLoop, TrainingOutcome) {
        try checkInput(activations)
        guard schedule.steps >= 0 else { throw EngineError(.argument, subject: "sae", "steps must be 0 or more, got \(schedule.steps)") }
        guard schedule.batchSize >= 1 else { throw EngineError(.argument, subject: "sae", "the batch size must be 1 or more, got \(schedule.batchSize)") }
        guard schedule.learningRate > 0, schedule.learningRate.isFinite else {
            throw EngineError(.argument, subject: "sae", "the learning rate must be positive, got \(schedule.learningRate)")
        }
        let data = try Batch([scaled(activations).contiguous()])
        let size = min(schedule.batchSize, data.rows)
        let optimizer = try AdamW(parameters: parameters, learningRate: schedule.learningRate, weightDecay: 0)
        let loop = try TrainingLoop(model: self, optimizer: optimizer, batches: .minibatches(data, size: size, seed: schedule.seed), name: "sae")
        let perEpoch = loop.batches.stepsPerEpoch
        let epochs = (schedule.steps + perEpoch - 1) / perEpoch
        let outcome = try loop.train(epochs: epochs, shouldStop: shouldStop, progress: progress)
        if config.kind == .gated { try normalizeDecoder() }
        return (loop, outcome)
    }
}
