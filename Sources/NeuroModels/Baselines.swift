import NeuroEngine

/// A model of the algorithmic tasks seen from outside: tokens [batch, pos]
/// in, logits of the last position [batch, d_vocab_out] out. The hooked
/// transformer is one; the baselines below are the others. Trainable on a
/// batch of tokens and labels by the cross-entropy of the last position.
public protocol SequenceModel: Trainable {
    /// Logits for the last position of each row: [batch, d_vocab_out].
    func lastLogits(_ tokens: Tensor) throws -> Tensor
}

extension SequenceModel {
    /// Mean cross-entropy (Float64) of the last position on a batch of
    /// tokens [batch, pos] and labels [batch].
    public func loss(on batch: Batch) throws -> Tensor {
        guard batch.tensors.count == 2 else {
            throw EngineError(.argument, "a sequence model's batch holds tokens and labels, got \(batch.tensors.count) tensors")
        }
        return try Metrics.crossEntropy(lastLogits(batch[0]), labels: batch[1])
    }
}

extension HookedTransformer: SequenceModel {
    public func lastLogits(_ tokens: Tensor) throws -> Tensor {
        try run(tokens, positions: .last).logits
    }
}

/// The "memory" baseline (as in NeuroMap): one learned logit vector per
/// distinct (a, b) input and nothing shared between inputs, so it can
/// memorise the training set but has no way to generalise to the test set.
///
/// ```swift
/// let memory = try LookupTableBaseline(dVocab: 114, dVocabOut: 113)
/// ```
public final class LookupTableBaseline: SequenceModel {
    public let dVocab: Int
    public let parameters: [NamedParameter]
    private let table: Tensor

    public init(dVocab: Int, dVocabOut: Int) throws {
        guard dVocab >= 1, dVocabOut >= 1, dVocab * dVocab <= 1 << 24 else {
            throw EngineError(.argument, "lookup table: needs a vocabulary of 1 to 4096 tokens, got \(dVocab)")
        }
        self.dVocab = dVocab
        table = try Tensor.zeros([dVocab * dVocab, dVocabOut]).requiringGrad()       // [a·vocab + b, d_vocab_out]
        parameters = [NamedParameter("table", table)]
    }

    public func lastLogits(_ tokens: Tensor) throws -> Tensor {
        guard tokens.rank == 2, tokens.shape[1] >= 2 else {
            throw EngineError(.shape, "lookup table: tokens must be [batch, pos] with pos ≥ 2, got \(formatShape(tokens.shape))")
        }
        let values = tokens.toInts(), width = tokens.shape[1]
        let keys = try (0..<tokens.shape[0]).map { row -> Int in
            let (a, b) = (values[row * width], values[row * width + 1])
            guard (0..<dVocab).contains(a), (0..<dVocab).contains(b) else {
                throw EngineError(.index, "lookup table: token \((0..<dVocab).contains(a) ? b : a) in row \(row) is outside 0..<\(dVocab)")
            }
            return a * dVocab + b
        }
        return try table.indexSelect(axis: 0, indices: Tensor(ints: keys, shape: [keys.count]))
    }
}

/// An MLP over the concatenated embeddings of the input tokens (all but the
/// final `=`): embed, concatenate, one ReLU hidden layer, unembed.
///
/// ```swift
/// let mlp = try MLPBaseline(dVocab: 114, dVocabOut: 113, inputs: 2, dModel: 128, dHidden: 512, seed: 0)
/// ```
public final class MLPBaseline: SequenceModel {
    public let inputs: Int
    public let parameters: [NamedParameter]
    private let wE, wIn, bIn, wOut, bOut: Tensor

    public init(dVocab: Int, dVocabOut: Int, inputs: Int = 2, dModel: Int = 128, dHidden: Int = 512, seed: UInt64 = 0) throws {
        for (name, value) in [("d_vocab", dVocab), ("d_vocab_out", dVocabOut), ("inputs", inputs), ("d_model", dModel), ("d_hidden", dHidden)]
            where value < 1 || value > 1 << 16 {
            throw EngineError(.argument, "MLP baseline: \(name) must be between 1 and 65536, got \(value)")
        }
        var rng = RandomGenerator(seed: seed)
        let std = 0.8 / Double(dModel).squareRoot()                                   // TransformerLens's initialiser range
        self.inputs = inputs
        wE = try Tensor.randn([dVocab, dModel], std: std, using: &rng).requiringGrad()
        wIn = try Tensor.randn([inputs * dModel, dHidden], std: std, using: &rng).requiringGrad()
        bIn = try Tensor.zeros([dHidden]).requiringGrad()
        wOut = try Tensor.randn([dHidden, dVocabOut], std: std, using: &rng).requiringGrad()
        bOut = try Tensor.zeros([dVocabOut]).requiringGrad()
        parameters = [NamedParameter("embed.W_E", wE), NamedParameter("mlp.W_in", wIn), NamedParameter("mlp.b_in", bIn),
                      NamedParameter("unembed.W_U", wOut), NamedParameter("unembed.b_U", bOut)]
    }

    public func lastLogits(_ tokens: Tensor) throws -> Tensor {
        guard tokens.rank == 2, tokens.shape[1] >= inputs else {
            throw EngineError(.shape, "MLP baseline: tokens must be [batch, pos] with pos ≥ \(inputs), got \(formatShape(tokens.shape))")
        }
        let embedded = try wE.indexSelect(axis: 0, indices: tokens.slice(axis: 1, start: 0, end: inputs))   // [batch, inputs, d_model]
        let joined = try embedded.reshaped([tokens.shape[0], -1])                                           // [batch, inputs·d_model]
        return try joined.linear(wIn, bias: bIn).relu().linear(wOut, bias: bOut)                           // [batch, d_vocab_out]
    }
}

extension SequenceModel {
    /// Full-batch AdamW on the training split, the grokking recipe, with the
    /// test loss and accuracy after every step (`TrainingLoop`). For the
    /// transformer `Trainer` adds checkpoints, resuming and run files.
    /// Throws when the training loss becomes NaN or infinite.
    public func fit(_ data: Dataset, epochs: Int, options: TrainingOptions = TrainingOptions(freezeBiases: false),
                    shouldStop: () -> Bool = { false }) throws -> TrainingHistory {
        try options.validate()
        guard epochs >= 0 else { throw EngineError(.argument, "fit: epochs must be 0 or more, got \(epochs)") }
        let loop = try TrainingLoop(model: self, optimizer: options.optimizer(for: parameters), batches: .full(Batch(data.train)), name: "fit")
        loop.evaluate = { try Trainer.evaluate(self, data.test) }
        if case .diverged = try loop.train(epochs: epochs, shouldStop: shouldStop), let divergence = loop.divergence {
            throw EngineError(.numeric, "fit: the training loss became \(divergence.loss) at epoch \(divergence.step)")
        }
        return loop.history
    }
}
