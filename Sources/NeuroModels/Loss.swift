import NeuroEngine

/// Losses and metrics of the algorithmic tasks, computed as the
/// TransformerLens grokking demo computes them.
public enum Metrics {
    /// Logits at the last position: [batch, vocab] from [batch, pos, vocab] (or as is).
    static func lastPosition(_ logits: Tensor) throws -> Tensor {
        switch logits.rank {
        case 2: return logits
        case 3: return try logits.select(axis: 1, index: -1)
        default:
            throw EngineError(.shape, "logits must be [batch, vocab] or [batch, pos, vocab], got \(formatShape(logits.shape))")
        }
    }

    static func checkLabels(_ logits: Tensor, _ labels: Tensor) throws -> [Int] {
        guard labels.rank == 1, labels.shape[0] == logits.shape[0] else {
            throw EngineError(.shape, "labels \(formatShape(labels.shape)) do not match \(logits.shape[0]) rows of logits")
        }
        let values = labels.toInts()
        let vocab = logits.shape[1]
        if let bad = values.firstIndex(where: { $0 < 0 || $0 >= vocab }) {
            throw EngineError(.index, "label \(values[bad]) at row \(bad) is outside the model's outputs 0..<\(vocab) (d_vocab_out)")
        }
        return values
    }

    /// Mean cross-entropy of the last position, in Float64:
    /// `-mean(log_softmax(logits[:, -1].double())[label])`. Differentiable.
    public static func crossEntropy(_ logits: Tensor, labels: Tensor) throws -> Tensor {
        let last = try lastPosition(logits)                                    // [batch, vocab]
        return try last.crossEntropy(labels: checkLabels(last, labels))        // one fused pass, Float64 sums
    }

    /// Fraction of rows whose last-position argmax equals the label.
    public static func accuracy(_ logits: Tensor, labels: Tensor) throws -> Double {
        let last = try lastPosition(logits)
        let truth = try checkLabels(last, labels)
        guard !truth.isEmpty else { return 0 }
        let predicted = try last.argmax(axis: -1).toInts()
        return Double(zip(predicted, truth).filter { $0 == $1 }.count) / Double(truth.count)
    }
}
