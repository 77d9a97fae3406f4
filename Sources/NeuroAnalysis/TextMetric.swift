import Foundation
import NeuroEngine

/// Token ids of one text or a batch of texts for a pretrained model:
/// [batch, pos] ids padded on the right, the attention mask (nil when no
/// row is padded) and each row's real length.
public struct TextInputs {
    public let ids: Tensor
    public let mask: Tensor?
    public let lengths: [Int]

    public init(ids: Tensor, mask: Tensor?, lengths: [Int]) throws {
        guard ids.rank == 2, lengths.count == ids.shape[0],
              lengths.allSatisfy({ $0 >= 1 && $0 <= ids.shape[1] }) else {
            throw EngineError(.shape, subject: "text inputs", "ids \(formatShape(ids.shape)) do not fit the row lengths \(lengths)")
        }
        self.ids = ids
        self.mask = mask
        self.lengths = lengths
    }

    public var batchSize: Int { lengths.count }

    /// Fails unless `corrupted` has this input's token length, text by text.
    public func checkSameLength(_ corrupted: TextInputs, subject: String) throws {
        guard lengths == corrupted.lengths, ids.shape == corrupted.ids.shape else {
            if batchSize == 1, corrupted.batchSize == 1 {
                throw EngineError(.shape, subject: subject, "the corrupted text has \(corrupted.lengths[0]) tokens but the clean text has \(lengths[0]); they must have the same token length")
            }
            throw EngineError(.shape, subject: subject, "the corrupted texts have \(corrupted.lengths) tokens but the clean texts have \(lengths); each pair must have the same token length")
        }
    }
    /// Whether every row has the same number of real tokens (no padding).
    public var isRectangular: Bool { lengths.allSatisfy { $0 == ids.shape[1] } }
}

/// What an intervention on text measures, fitting the model:
///
/// - `loss`: next-token cross-entropy of a decoder with a head, averaged
///   over every real position that has a next token (TransformerLens's
///   `loss`, with its attention-mask rule), mean over the batch's tokens.
/// - `answerLoss`: cross-entropy of one answer token at each text's last
///   real position (the loss when an answer is given), mean over the batch.
/// - `logitDiff`: logit of `answer` minus logit of `wrong` at each text's
///   last real position, mean over the batch.
/// - `cosine`: cosine similarity of the mean-pooled (over real tokens)
///   final hidden state to the clean run's, mean over the batch; the clean
///   run against itself gives 1.
///
/// ```swift
/// let m = TextMetric.logitDiff(answer: 42, wrong: 17)
/// let v = try m.measure(logits, inputs: clean)          // [batch, pos, vocab]
/// ```
public enum TextMetric: Equatable, Sendable {
    case loss
    case answerLoss(answer: Int)
    case logitDiff(answer: Int, wrong: Int)
    case cosine

    /// The name used in `metric:` and results (`loss`, `logit_diff`, `cosine`).
    public var name: String {
        switch self {
        case .loss, .answerLoss: return "loss"
        case .logitDiff: return "logit_diff"
        case .cosine: return "cosine"
        }
    }

    /// The short name used when printing.
    public var label: String {
        switch self {
        case .loss, .answerLoss: return "loss"
        case .logitDiff: return "logit diff"
        case .cosine: return "cosine"
        }
    }

    /// Whether a smaller value is better (the losses).
    public var lowerIsBetter: Bool {
        switch self {
        case .loss, .answerLoss: return true
        case .logitDiff, .cosine: return false
        }
    }

    /// Whether the metric reads token logits (a model with a head) rather
    /// than the final hidden state.
    public var needsLogits: Bool { self != .cosine }

    /// The metric of `output` ([batch, pos, vocab] logits, or for `cosine`
    /// the final hidden states [batch, pos, d_model]) on `inputs`;
    /// `reference` is the clean run's pooled hidden state [batch, d_model]
    /// (`cosine` only; nil compares with `output` itself, giving 1).
    public func measure(_ output: Tensor, inputs: TextInputs, reference: [[Double]]? = nil) throws -> Double {
        let shape = output.shape
        guard shape.count == 3, shape[0] == inputs.batchSize, shape[1] == inputs.ids.shape[1] else {
            throw EngineError(.shape, subject: name, "outputs \(formatShape(output.shape)) do not match the inputs \(formatShape(inputs.ids.shape))")
        }
        let width = shape[2]
        // One position's logits at a time: a real vocabulary times every position is too much to copy at once.
        func row(_ b: Int, _ t: Int) throws -> [Double] { try output.select(axis: 0, index: b).select(axis: 0, index: t).toDoubles() }
        func checkToken(_ id: Int, _ what: String) throws {
            guard id >= 0 && id < width else {
                throw EngineError(.index, subject: name, "the \(what) token id \(id) is outside the model's \(width) logits")
            }
        }
        switch self {
        case .loss:
            let ids = inputs.ids.toInts()
            var total = 0.0, count = 0
            for (b, length) in inputs.lengths.enumerated() where length > 1 {
                for t in 0..<(length - 1) {
                    let target = ids[b * shape[1] + t + 1]
                    try checkToken(target, "next")
                    let logits = try row(b, t)
                    total += TextMetric.logSumExp(logits) - logits[target]
                    count += 1
                }
            }
            guard count > 0 else {
                throw EngineError(.argument, subject: name, "every text is a single token, so there is no next token to predict; give an answer token or a longer text")
            }
            return total / Double(count)
        case .answerLoss(let answer):
            try checkToken(answer, "answer")
            let losses = try inputs.lengths.enumerated().map { b, length in
                let logits = try row(b, length - 1)
                return TextMetric.logSumExp(logits) - logits[answer]
            }
            return losses.reduce(0, +) / Double(losses.count)
        case .logitDiff(let answer, let wrong):
            try checkToken(answer, "answer")
            try checkToken(wrong, "wrong")
            let diffs = try inputs.lengths.enumerated().map { b, length in
                let logits = try row(b, length - 1)
                return logits[answer] - logits[wrong]
            }
            return diffs.reduce(0, +) / Double(diffs.count)
        case .cosine:
            let pooled = try TextMetric.meanPooled(output, lengths: inputs.lengths)
            let against = reference ?? pooled
            guard against.count == pooled.count, zip(against, pooled).allSatisfy({ $0.count == $1.count }) else {
                throw EngineError(.shape, subject: name, "the clean pooled state does not match this run's (\(pooled.count) × \(width))")
            }
            let cosines = try zip(pooled, against).enumerated().map { index, pair -> Double in
                guard let value = TextMetric.cosine(pair.0, pair.1) else {
                    throw EngineError(.argument, subject: name, "text \(index)'s mean-pooled final state is zero here, so its cosine to the clean run's is undefined")
                }
                return value
            }
            return cosines.reduce(0, +) / Double(cosines.count)
        }
    }

    /// Each text's final hidden state [batch, pos, d] averaged over its real
    /// (unpadded) positions: [batch][d], in Float64.
    public static func meanPooled(_ hidden: Tensor, lengths: [Int]) throws -> [[Double]] {
        let shape = hidden.shape
        guard shape.count == 3, shape[0] == lengths.count, lengths.allSatisfy({ $0 >= 1 && $0 <= shape[1] }) else {
            throw EngineError(.shape, subject: "mean pooling", "hidden states \(formatShape(shape)) do not fit the row lengths \(lengths)")
        }
        let values = hidden.toDoubles()
        let d = shape[2]
        return lengths.enumerated().map { b, length in
            var sum = [Double](repeating: 0, count: d)
            for t in 0..<length {
                let start = (b * shape[1] + t) * d
                for i in 0..<d { sum[i] += values[start + i] }
            }
            return sum.map { $0 / Double(length) }
        }
    }

    /// The cosine similarity of two vectors; nil (undefined) when either is zero.
    static func cosine(_ a: [Double], _ b: [Double]) -> Double? {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) {
            dot += x * y
            na += x * x
            nb += y * y
        }
        let norm = (na * nb).squareRoot()
        return norm > 0 ? dot / norm : nil
    }

    static func logSumExp(_ values: [Double]) -> Double {
        guard let top = values.max(), top.isFinite else { return values.max() ?? -.infinity }
        return top + log(values.reduce(0) { $0 + exp($1 - top) })
    }
}

extension PatchingMetric {
    /// A text metric for patching sweeps and attribution patching, on texts
    /// of one token length (no padding, so every text's last position is the
    /// last column). `logit_diff` and an answer's loss read the last position
    /// and have gradients; next-token `loss` and `cosine` read every position
    /// (`reference`: the clean run's pooled state, for cosine).
    public init(_ metric: TextMetric, clean: TextInputs, reference: [[Double]]?) throws {
        guard clean.isRectangular else {
            throw EngineError(.argument, subject: metric.name, "sweeps need texts of one token length, got \(clean.lengths)")
        }
        func last(_ logits: Tensor) throws -> Tensor { logits.rank == 3 ? try logits.select(axis: 1, index: logits.shape[1] - 1) : logits }
        switch metric {
        case .logitDiff(let answer, let wrong):
            self.init(name: metric.name, differentiable: { logits in
                let l = try last(logits)
                return try (l.select(axis: -1, index: answer) - l.select(axis: -1, index: wrong)).mean()
            })
        case .answerLoss(let answer):
            self.init(name: metric.name, differentiable: { logits in
                try last(logits).logSoftmax(axis: -1).select(axis: -1, index: answer).mean().negated()
            })
        case .loss, .cosine:
            self.init(name: metric.name, lastPositionOnly: false) { output in try metric.measure(output, inputs: clean, reference: reference) }
        }
    }
}
