import NeuroEngine

/// The toy model of superposition of Elhage et al. (2022), "Toy Models of
/// Superposition": `n_features` features squeezed through `d_hidden`
/// dimensions and read back, x′ = ReLU(WᵀW x + b), with W [d_hidden,
/// n_features] and b [n_features]. Trained to reconstruct its input under
/// the importance-weighted squared error, mean over the batch of
/// Σᵢ Iᵢ (xᵢ − x′ᵢ)². Column i of W is feature i's direction in the hidden space.
///
/// ```swift
/// let model = try ToySuperposition(nFeatures: 5, dHidden: 2, importance: [1, 1, 1, 1, 1], seed: 0)
/// let features = try SyntheticFeatures(nFeatures: 5, sparsity: 0.95)
/// let run = try model.train(on: features, steps: 2000, batchSize: 1024, learningRate: 1e-2, seed: 0)
/// ```
public final class ToySuperposition: Trainable {
    /// The most features (and hidden dimensions) a toy model may have: the
    /// analysis reads the [n_features, n_features] matrix WᵀW, and the
    /// paper's largest model has 400.
    public static let maxFeatures = 2048
    /// The most elements one batch of features may have (rows × n_features):
    /// about as many as a training step can hold in its autograd graph
    /// several times over without crowding memory (64 MB per tensor).
    public static let maxBatchElements = 1 << 24

    public let nFeatures: Int
    public let dHidden: Int
    /// Iᵢ, how much each feature's error counts.
    public let importance: [Double]
    /// [d_hidden, n_features]: column i is feature i's direction.
    public let W: Tensor
    /// [n_features].
    public let b: Tensor
    public let parameters: [NamedParameter]
    private let weights: Tensor            // importance as a [n_features] float32 tensor

    /// Xavier-normal W (std √(2 / (n_features + d_hidden)), as PyTorch's
    /// `xavier_normal_` on a [d_hidden, n_features] matrix, the paper's
    /// notebook) from `seed`, and b = 0. Throws for sizes outside
    /// 1…`maxFeatures` or an importance that is not `n_features`
    /// finite numbers ≥ 0, not all 0.
    public init(nFeatures: Int, dHidden: Int, importance: [Double], seed: UInt64 = 0) throws {
        try ToySuperposition.checkSize(nFeatures, "n_features")
        try ToySuperposition.checkSize(dHidden, "d_hidden")
        guard importance.count == nFeatures else {
            throw EngineError(.argument, subject: "superposition", "importance has \(importance.count) numbers for \(nFeatures) features; give one per feature (or a single ratio r for Iᵢ = rⁱ)")
        }
        if let bad = importance.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
            throw EngineError(.argument, subject: "superposition", "importance must be finite and 0 or more; feature \(bad) has \(importance[bad])")
        }
        guard importance.contains(where: { $0 > 0 }) else {
            throw EngineError(.argument, subject: "superposition", "importance is 0 for every feature, so there is nothing to learn")
        }
        self.nFeatures = nFeatures
        self.dHidden = dHidden
        self.importance = importance
        var rng = RandomGenerator(seed: seed)
        let std = (2 / Double(nFeatures + dHidden)).squareRoot()
        W = try Tensor.randn([dHidden, nFeatures], std: std, using: &rng).requiringGrad()
        b = try Tensor.zeros([nFeatures]).requiringGrad()
        weights = try Tensor(importance.map(Float.init), shape: [nFeatures])
        parameters = [NamedParameter("W", W), NamedParameter("b", b)]
    }

    /// Importance Iᵢ = rⁱ for features i = 0, 1, …, n − 1 (r = 1: all equal).
    public static func decayingImportance(_ r: Double, count: Int) throws -> [Double] {
        guard r.isFinite, r > 0 else {
            throw EngineError(.argument, subject: "superposition", "importance must be a positive ratio r (Iᵢ = rⁱ) or a list of numbers, got \(r)")
        }
        var power = 1.0
        return (0..<Swift.max(count, 0)).map { _ in
            defer { power *= r }
            return power
        }
    }

    /// A size argument in 1…`maxFeatures`, or an error naming it.
    public static func checkSize(_ value: Int, _ name: String) throws {
        guard value >= 1, value <= maxFeatures else {
            throw EngineError(.argument, subject: "superposition", "\(name) must be from 1 to \(maxFeatures), got \(value)")
        }
    }

    /// The reconstruction x′ = ReLU(WᵀW x + b) of features [batch, n_features].
    public func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank == 2, x.shape[1] == nFeatures else {
            throw EngineError(.shape, subject: "superposition", "features must be [batch, \(nFeatures)], got \(formatShape(x.shape))")
        }
        let hidden = try x.linear(W.transposed())                 // [batch, d_hidden]
        return try hidden.linear(W, bias: b).relu()               // [batch, n_features]
    }

    /// Mean over the batch of Σᵢ Iᵢ (xᵢ − x′ᵢ)², on a batch holding one
    /// tensor of features [batch, n_features].
    public func loss(on batch: Batch) throws -> Tensor {
        guard batch.tensors.count == 1 else {
            throw EngineError(.argument, subject: "superposition", "a batch holds one tensor of features, got \(batch.tensors.count) tensors")
        }
        let x = batch[0]
        return try ((x - forward(x)).square() * weights).sum(axes: [1]).mean()
    }
}

/// The toy model's inputs: each feature independently 0 with probability
/// `sparsity`, else uniform in [0, 1). Batches are a function of a seed and
/// a step number alone, so a run is the same however it is split up.
///
/// ```swift
/// let features = try SyntheticFeatures(nFeatures: 5, sparsity: 0.9)
/// let x = try features.batch(rows: 1024, seed: 0, step: 1)    // [1024, 5], about 10% nonzero
/// ```
public struct SyntheticFeatures: Sendable {
    public let nFeatures: Int
    /// The probability that a feature is 0, in [0, 1).
    public let sparsity: Double

    public init(nFeatures: Int, sparsity: Double) throws {
        try ToySuperposition.checkSize(nFeatures, "n_features")
        guard sparsity.isFinite, sparsity >= 0, sparsity < 1 else {
            throw EngineError(.argument, subject: "superposition", "sparsity must be in [0, 1) (the probability that a feature is 0), got \(sparsity)")
        }
        self.nFeatures = nFeatures
        self.sparsity = sparsity
    }

    /// `rows` samples [rows, n_features] drawn from `seed` and `step`.
    public func batch(rows: Int, seed: UInt64, step: Int) throws -> Tensor {
        try SyntheticFeatures.checkBatch(rows, nFeatures: nFeatures)
        // A stream of its own per step, apart from the weights' (seeded with `seed` alone).
        var rng = RandomGenerator(seed: seed ^ 0x5851_F42D_4C95_7F2D ^ (UInt64(truncatingIfNeeded: step) &* 0xD1B5_4A32_D192_ED03))
        var values = [Float](repeating: 0, count: rows * nFeatures)
        for i in values.indices where rng.nextUniform() >= sparsity { values[i] = Float(rng.nextUniform()) }
        return try Tensor(values, shape: [rows, nFeatures])
    }

    /// A batch size in 1… with rows × n_features within `ToySuperposition.maxBatchElements`.
    static func checkBatch(_ rows: Int, nFeatures: Int) throws {
        guard rows >= 1, rows <= ToySuperposition.maxBatchElements / Swift.max(nFeatures, 1) else {
            throw EngineError(.argument, subject: "superposition", "batch must be from 1 to \(ToySuperposition.maxBatchElements / Swift.max(nFeatures, 1)) "
                              + "for \(nFeatures) features (at most \(ToySuperposition.maxBatchElements) numbers per batch), got \(rows)")
        }
    }
}

/// What training a toy model gave: the loss of every step and the loss of
/// the trained weights on a batch it was not trained on.
public struct ToyTrainingRun {
    /// The training loss of each step, in order.
    public let losses: [Double]
    /// The loss of the final weights on a fresh batch of
    /// `ToySuperposition.evaluationRows` samples (sparse features make the
    /// loss of one training batch vary by tens of percent).
    public let finalLoss: Double
}

extension ToySuperposition {
    /// The most steps one run may take.
    public static let maxSteps = 1_000_000

    /// How many samples the final loss is measured on: 65,536, fewer when
    /// that many would pass `maxBatchElements`.
    public static func evaluationRows(nFeatures: Int) -> Int {
        Swift.min(1 << 16, maxBatchElements / Swift.max(nFeatures, 1))
    }

    /// Adam (AdamW without weight decay, betas 0.9, 0.999) on a fresh batch
    /// of `features` at every step, through the one `TrainingLoop`.
    /// Deterministic for a given seed. Throws when stopped (`shouldStop`,
    /// Ctrl-C) or when the loss becomes NaN or infinite. `progress` gets
    /// the steps done and each step's loss.
    public func train(on features: SyntheticFeatures, steps: Int, batchSize: Int, learningRate: Double, seed: UInt64,
                      shouldStop: () -> Bool = { false }, progress: (TrainingProgress) -> Void = { _ in }) throws -> ToyTrainingRun {
        guard features.nFeatures == nFeatures else {
            throw EngineError(.argument, subject: "superposition", "the features have \(features.nFeatures) dimensions, the model \(nFeatures)")
        }
        guard steps >= 1, steps <= ToySuperposition.maxSteps else {
            throw EngineError(.argument, subject: "superposition", "steps must be from 1 to \(ToySuperposition.maxSteps), got \(steps)")
        }
        guard learningRate.isFinite, learningRate > 0 else {
            throw EngineError(.argument, subject: "superposition", "lr must be a positive number, got \(learningRate)")
        }
        try SyntheticFeatures.checkBatch(batchSize, nFeatures: nFeatures)
        let optimizer = try AdamW(parameters: parameters, learningRate: learningRate, weightDecay: 0)
        // One step per epoch, so the history is the loss of every step.
        let batches = BatchSource.generated(stepsPerEpoch: 1) { step in
            try Batch([features.batch(rows: batchSize, seed: seed, step: step)])
        }
        let loop = try TrainingLoop(model: self, optimizer: optimizer, batches: batches, name: "superposition")
        switch try loop.train(epochs: steps, shouldStop: shouldStop, progress: progress) {
        case .completed: break
        case .interrupted: throw EngineError(.interrupted, subject: "superposition", "interrupted")
        case .diverged(let epoch):
            throw EngineError(.numeric, subject: "superposition", "the loss became NaN or infinite at step \(epoch); try a smaller lr")
        }
        // Step 0 is never a training batch.
        let held = try Batch([features.batch(rows: ToySuperposition.evaluationRows(nFeatures: nFeatures), seed: seed, step: 0)])
        let finalLoss = try GradMode.withNoGrad { try loss(on: held).item() }
        return ToyTrainingRun(losses: loop.history.trainLoss, finalLoss: finalLoss)
    }
}
