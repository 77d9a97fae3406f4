import NeuroEngine
import NeuroModels

// Linear probes: does an activation hold a quantity (least squares, R²) or a
// class (multinomial logistic regression, accuracy)? Both fit on a seeded
// training split and report on the held-out rest, so memorisation shows.

/// Activations as a matrix [samples, features]: every dimension but the
/// last is flattened into samples (so [batch, pos, d_model] gives
/// batch·pos rows), and a vector is one feature per sample. Float64.
func sampleMatrix(_ x: Tensor, op: String) throws -> Tensor {
    let wide = try x.cast(to: .float64)
    switch x.rank {
    case 0: throw EngineError(.shape, "\(op): needs activations [samples, features], got a single number")
    case 1: return try wide.reshaped([x.shape[0], 1])
    default: return try wide.reshaped([x.count / Swift.max(x.shape[x.rank - 1], 1), x.shape[x.rank - 1]])
    }
}

/// A seeded split of `count` samples into training and held-out rows.
///
/// ```swift
/// let split = try HoldoutSplit(count: 100, holdout: 0.2, seed: 0)   // 80 train, 20 test, shuffled
/// ```
public struct HoldoutSplit: Sendable, Equatable {
    /// Row indices to fit on, in shuffled order.
    public let train: [Int]
    /// Row indices held out, in shuffled order (empty when `holdout` is 0).
    public let test: [Int]

    /// Shuffles 0..<count with `seed` and holds out round(holdout · count)
    /// rows. Throws unless 0 ≤ holdout < 1 and at least 2 rows are left to fit on.
    public init(count: Int, holdout: Double, seed: UInt64) throws {
        guard holdout.isFinite, holdout >= 0, holdout < 1 else {
            throw EngineError(.argument, subject: "probe", "holdout must be a fraction in [0, 1), got \(holdout)")
        }
        var rng = RandomGenerator(seed: seed)
        let order = rng.permutation(count)
        let held = Int((holdout * Double(count)).rounded())
        guard count - held >= 2 else {
            throw EngineError(.argument, subject: "probe", "\(count) samples leave \(count - held) to fit on after holding out \(held); need at least 2")
        }
        test = Array(order.prefix(held))
        train = Array(order.dropFirst(held))
    }

    /// The rows of `x` at `indices`.
    func rows(_ x: Tensor, _ indices: [Int]) throws -> Tensor {
        try x.indexSelect(axis: 0, indices: Tensor(ints: indices, shape: [indices.count]))
    }
}

/// The share of variance a prediction explains, 1 − SS_res / SS_tot, per
/// column of `y` [n, k] and averaged (as scikit-learn's `r2_score`). A
/// constant column scores 1 if predicted exactly and 0 otherwise.
func rSquared(_ predicted: Tensor, _ y: Tensor) throws -> Double {
    let residual = try (y - predicted).square().sum(axes: [0]).toDoubles()                               // [k]
    let total = try (y - y.mean(axes: [0], keepDims: true)).square().sum(axes: [0]).toDoubles()
    let scores = zip(residual, total).map { res, tot in tot > 0 ? 1 - res / tot : (res <= 1e-12 ? 1 : 0) }
    return scores.reduce(0, +) / Double(Swift.max(scores.count, 1))
}

/// A least-squares linear probe y ≈ x·W + b, fitted on a seeded training
/// split; reports R² on the training rows and on the held-out rows.
///
/// ```swift
/// let probe = try LinearProbe(x: activations, y: target, holdout: 0.2, seed: 0)
/// probe.testR2       // ≈ 1 when the activation holds the target linearly
/// ```
public struct LinearProbe {
    /// [features] for a vector target, [features, k] for [samples, k].
    public let weights: Tensor
    /// A number (rank 0) for a vector target, [k] otherwise.
    public let bias: Tensor
    /// R² on the training rows.
    public let trainR2: Double
    /// R² on the held-out rows; nil when nothing was held out.
    public let testR2: Double?
    /// Which rows were fitted on and which held out.
    public let split: HoldoutSplit

    /// Fits on `x` [samples, features] (see `sampleMatrix`: leading
    /// dimensions are samples) and `y` [samples] or [samples, k], by
    /// LAPACK's minimum-norm least squares with a bias column, in Float64.
    /// Throws when the sample counts differ or the split is impossible.
    public init(x: Tensor, y: Tensor, holdout: Double = 0.2, seed: UInt64 = 0) throws {
        let features = try sampleMatrix(x, op: "probe")                                                // [n, f]
        let n = features.shape[0]
        let vector = y.rank <= 1
        let targets = try vector ? y.cast(to: .float64).reshaped([y.count, 1]) : sampleMatrix(y, op: "probe")  // [n, k]
        guard targets.shape[0] == n else {
            throw EngineError(.shape, subject: "probe", "\(n) samples of activations \(formatShape(x.shape)) but \(targets.shape[0]) target values \(formatShape(y.shape))")
        }
        split = try HoldoutSplit(count: n, holdout: holdout, seed: seed)
        let design = try Tensor.concat([features, Tensor.ones([n, 1], dtype: .float64)], axis: 1)       // [n, f + 1]
        let solution = try split.rows(design, split.train).leastSquares(split.rows(targets, split.train))  // [f + 1, k]
        let f = features.shape[1]
        let w = try solution.slice(axis: 0, start: 0, end: f)                                           // [f, k]
        let b = try solution.select(axis: 0, index: f)                                                  // [k]
        weights = vector ? try w.squeezed(1) : w
        bias = vector ? try b.squeezed(0) : b
        let predicted = try design.matmul(solution)                                                     // [n, k]
        trainR2 = try rSquared(split.rows(predicted, split.train), split.rows(targets, split.train))
        testR2 = split.test.isEmpty ? nil : try rSquared(split.rows(predicted, split.test), split.rows(targets, split.test))
    }

    /// Predictions for activations [samples, features]: [samples] or [samples, k].
    public func predict(_ x: Tensor) throws -> Tensor {
        let out = try sampleMatrix(x, op: "probe").matmul(weights.rank == 1 ? weights.unsqueezed(1) : weights) + bias
        return weights.rank == 1 ? try out.squeezed(1) : out
    }
}

/// A multinomial logistic-regression (softmax) probe, trained by full-batch
/// AdamW with our autograd from zero weights on standardised features;
/// reports accuracy on the training rows and on the held-out rows.
///
/// ```swift
/// let probe = try LogisticProbe(x: activations, labels: classes, holdout: 0.2, seed: 0)
/// probe.testAccuracy   // 1.0 for linearly separable classes
/// ```
public struct LogisticProbe {
    /// [features, classes] in the original (unstandardised) feature space.
    public let weights: Tensor
    /// [classes].
    public let bias: Tensor
    /// How many classes (largest label + 1, at least 2).
    public let classes: Int
    /// Accuracy on the training rows.
    public let trainAccuracy: Double
    /// Accuracy on the held-out rows; nil when nothing was held out.
    public let testAccuracy: Double?
    /// Final mean cross-entropy on the training rows.
    public let trainLoss: Double
    /// Which rows were fitted on and which held out.
    public let split: HoldoutSplit

    /// Fits on `x` [samples, features] (leading dimensions are samples) and
    /// whole-number `labels` [samples] in 0..<classes (classes = largest + 1,
    /// at least 2). Deterministic for a given seed (the split is the only randomness).
    /// Throws for mismatched sizes, negative or fractional labels, or bad hyperparameters.
    public init(x: Tensor, labels: Tensor, holdout: Double = 0.2, seed: UInt64 = 0, steps: Int = 300,
                learningRate: Double = 0.1, weightDecay: Double = 0, shouldStop: () -> Bool = { false }) throws {
        let features = try sampleMatrix(x, op: "probe")                                                // [n, f]
        let (n, f) = (features.shape[0], features.shape[1])
        let values = labels.toDoubles()
        guard values.count == n else {
            throw EngineError(.shape, subject: "probe", "\(n) samples of activations \(formatShape(x.shape)) but \(values.count) labels")
        }
        guard values.allSatisfy({ $0 >= 0 && $0 == $0.rounded() && $0 < 1e7 }) else {
            throw EngineError(.argument, subject: "probe", "logistic labels must be whole numbers ≥ 0 (class indices)")
        }
        guard steps >= 1, learningRate.isFinite, learningRate > 0 else {
            throw EngineError(.argument, subject: "probe", "needs steps ≥ 1 and a positive learning rate, got \(steps) and \(learningRate)")
        }
        let classes = Swift.max(2, Int(values.max() ?? 0) + 1)
        let classLabels = try Tensor(ints: values.map { Int($0) }, shape: [n])
        split = try HoldoutSplit(count: n, holdout: holdout, seed: seed)
        let trainX = try split.rows(features, split.train)
        let mean = try trainX.mean(axes: [0], keepDims: true)                                           // [1, f]
        let spread = try trainX.variance(axes: [0], correction: 0, keepDims: true).sqrt().toDoubles()
        let scale = try Tensor(float64: spread.map { $0 > 1e-12 ? $0 : 1 }, shape: [1, f])
        let standardized = try ((features - mean) / scale).cast(to: .float32)                           // [n, f]

        let w = try Tensor.zeros([f, classes]).requiringGrad()
        let b = try Tensor.zeros([classes]).requiringGrad()
        let optimizer = try AdamW(parameters: [NamedParameter("W", w), NamedParameter("b", b)], learningRate: learningRate,
                                  weightDecay: weightDecay)
        let inputs = try split.rows(standardized, split.train)
        let targets = try split.rows(classLabels, split.train)
        let loop = try TrainingLoop(optimizer: optimizer, batches: .full(Batch([inputs, targets])), name: "probe") { batch in
            try Metrics.crossEntropy(batch[0].matmul(w) + b, labels: batch[1])
        }
        switch try loop.train(epochs: steps, shouldStop: shouldStop) {
        case .completed: break
        case .interrupted: throw EngineError(.interrupted, "probe interrupted")
        case .diverged: throw EngineError(.numeric, "probe: the training loss became NaN or infinite; the activations may hold NaN or huge values")
        }
        let loss = loop.history.trainLoss.last ?? .nan
        let logits = try GradMode.withNoGrad { try standardized.matmul(w) + b }                        // [n, classes]
        trainAccuracy = try Metrics.accuracy(split.rows(logits, split.train), labels: targets)
        testAccuracy = split.test.isEmpty ? nil
            : try Metrics.accuracy(split.rows(logits, split.test), labels: split.rows(classLabels, split.test))
        trainLoss = loss
        // Back to raw features: x·(W / σ) + (b − (μ / σ)·W).
        let raw = try w.detached().cast(to: .float64) / scale.transposed()                              // [f, classes]
        weights = raw
        bias = try b.detached().cast(to: .float64) - mean.matmul(raw).squeezed(0)
        self.classes = classes
    }

    /// Predicted classes [samples] for activations [samples, features].
    public func predict(_ x: Tensor) throws -> Tensor {
        try (sampleMatrix(x, op: "probe").matmul(weights) + bias).argmax(axis: -1)
    }
}
