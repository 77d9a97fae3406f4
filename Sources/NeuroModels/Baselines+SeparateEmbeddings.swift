import NeuroEngine

/// The one-layer MLP of Chughtai et al. 2023 ("A toy model of universality",
/// `OneLayerMLP` in the authors' code): a separate embedding for each input
/// (W_a for the left operand a, W_b for the right operand b), the two
/// embeddings concatenated, one ReLU hidden layer and an unembedding, with
/// no biases anywhere:
///
///     logits = ReLU([W_a[a] ; W_b[b]] · W_in) · W_U
///
/// Initialised as the authors' code does, each matrix N(0, 1/fan-in):
/// W_a and W_b with std 1/√d_model, W_in with 1/√(2·d_model), W_U with
/// 1/√d_hidden. The paper trains it with d_model 256 and d_hidden 128. The
/// embeddings have a row for every token of the vocabulary (the `=` row is
/// never read); only the first two positions are read.
///
/// ```swift
/// let mlp = try SeparateEmbeddingMLP(dVocab: 121, dVocabOut: 120, dModel: 256, dHidden: 128, seed: 0)
/// ```
public final class SeparateEmbeddingMLP: SequenceModel {
    public let parameters: [NamedParameter]
    private let wA, wB, wIn, wU: Tensor

    public init(dVocab: Int, dVocabOut: Int, dModel: Int = 256, dHidden: Int = 128, seed: UInt64 = 0) throws {
        for (name, value) in [("d_vocab", dVocab), ("d_vocab_out", dVocabOut), ("d_model", dModel), ("d_hidden", dHidden)]
            where value < 1 || value > 1 << 16 {
            throw EngineError(.argument, "separate-embedding MLP: \(name) must be between 1 and 65536, got \(value)")
        }
        var rng = RandomGenerator(seed: seed)
        func std(_ fanIn: Int) -> Double { 1 / Double(fanIn).squareRoot() }
        wA = try Tensor.randn([dVocab, dModel], std: std(dModel), using: &rng).requiringGrad()        // [d_vocab, d_model]
        wB = try Tensor.randn([dVocab, dModel], std: std(dModel), using: &rng).requiringGrad()        // [d_vocab, d_model]
        wIn = try Tensor.randn([2 * dModel, dHidden], std: std(2 * dModel), using: &rng).requiringGrad()   // [2·d_model, d_hidden]
        wU = try Tensor.randn([dHidden, dVocabOut], std: std(dHidden), using: &rng).requiringGrad()    // [d_hidden, d_vocab_out]
        parameters = [NamedParameter("embed_a.W_E", wA), NamedParameter("embed_b.W_E", wB),
                      NamedParameter("mlp.W_in", wIn), NamedParameter("unembed.W_U", wU)]
    }

    public func lastLogits(_ tokens: Tensor) throws -> Tensor {
        guard tokens.rank == 2, tokens.shape[1] >= 2 else {
            throw EngineError(.shape, "separate-embedding MLP: tokens must be [batch, pos] with pos ≥ 2, got \(formatShape(tokens.shape))")
        }
        let a = try wA.indexSelect(axis: 0, indices: tokens.select(axis: 1, index: 0))    // [batch, d_model]
        let b = try wB.indexSelect(axis: 0, indices: tokens.select(axis: 1, index: 1))    // [batch, d_model]
        let joined = try Tensor.concat([a, b], axis: 1)                               // [batch, 2·d_model]
        return try joined.matmul(wIn).relu().matmul(wU)                                    // [batch, d_vocab_out]
    }
}
