import NeuroEngine
import NeuroModels

/// Which way activations move in a patching experiment.
public enum PatchDirection: String, CaseIterable, Sendable {
    /// Run the corrupted inputs and patch in clean activations, as
    /// TransformerLens's `patching` sweeps do: a cell says how much of the
    /// clean behaviour that one activation restores.
    case denoise
    /// Run the clean inputs and patch in corrupted activations: a cell says
    /// how much of the behaviour breaks when that activation is corrupted.
    case noise
}

/// The number a patching experiment reads off the logits: a built-in
/// `Metric` against labels, or any function of the logits.
///
/// A metric that reads only the last position (the default) lets the
/// forward pass skip the other positions of the last block, and lets a sweep
/// know which cells the output cannot see. Attribution patching needs a
/// differentiable metric (one made from a tensor-valued function).
///
/// ```swift
/// let m = PatchingMetric(.logitDiff, labels: data.labels)
/// let custom = PatchingMetric(name: "p(7)") { logits in try logits.softmax().select(axis: -1, index: 7).mean() }
/// ```
public struct PatchingMetric {
    /// How the metric is named when printed (`logit_diff`, `loss`, …).
    public let name: String
    /// Whether the metric looks only at the last position's logits; it then
    /// receives [batch, d_vocab_out], otherwise [batch, pos, d_vocab_out].
    public let readsLastPositionOnly: Bool
    private let scalar: (Tensor) throws -> Double
    private let graph: ((Tensor) throws -> Tensor)?

    /// A metric given as a number-valued function of the logits (it has no gradient).
    public init(name: String, lastPositionOnly: Bool = true, _ measure: @escaping (Tensor) throws -> Double) {
        self.name = name
        self.readsLastPositionOnly = lastPositionOnly
        self.scalar = measure
        self.graph = nil
    }

    /// A differentiable metric: a function from the logits to a one-element tensor.
    public init(name: String, lastPositionOnly: Bool = true, differentiable: @escaping (Tensor) throws -> Tensor) {
        self.name = name
        self.readsLastPositionOnly = lastPositionOnly
        self.scalar = { try differentiable($0).item() }
        self.graph = differentiable
    }

    /// A built-in metric against `labels` [batch]: accuracy (no gradient),
    /// loss or logit difference (differentiable), on the last position.
    public init(_ metric: Metric, labels: Tensor) {
        switch metric {
        case .accuracy:
            self.init(name: metric.rawValue) { try Metrics.accuracy($0, labels: labels) }
        case .loss:
            self.init(name: metric.rawValue, differentiable: { try Metrics.crossEntropy($0, labels: labels) })
        case .logitDiff:
            self.init(name: metric.rawValue, differentiable: { try PatchingMetric.logitDifference($0, labels: labels) })
        }
    }

    /// Whether attribution patching can use this metric.
    public var isDifferentiable: Bool { graph != nil }

    /// The metric's value on `logits`.
    public func measure(_ logits: Tensor) throws -> Double { try scalar(logits) }

    /// The metric as a recorded tensor, for gradients; throws for metrics without one.
    func differentiable(_ logits: Tensor) throws -> Tensor {
        guard let graph else {
            throw EngineError(.argument, "the metric '\(name)' has no gradient; attribution patching needs a differentiable metric such as logit_diff or loss")
        }
        let value = try graph(logits)
        guard value.count == 1 else {
            throw EngineError(.shape, "the metric '\(name)' must give one number, got shape \(formatShape(value.shape))")
        }
        return value
    }

    /// `Metric.logitDiff` as a differentiable tensor: the mean over inputs of
    /// the label's logit minus the mean of the other logits, last position.
    static func logitDifference(_ logits: Tensor, labels: Tensor) throws -> Tensor {
        let last = try logits.rank == 3 ? logits.select(axis: 1, index: -1) : logits              // [batch, vocab]
        let correct = try last.takeAlong(axis: -1, indices: labels.unsqueezed(-1)).squeezed(-1)  // [batch]
        let others = try (last.sum(axes: [-1]) - correct) / Double(last.shape[1] - 1)
        return try (correct - others).mean()
    }
}
