import XCTest
import NeuroEngine
import NeuroModels
@testable import NeuroAnalysis

/// Models and inputs shared by the patching tests.
enum PatchingFixtures {
    /// A 1-layer relu model without LayerNorm trained on (a + b) mod 11 until
    /// it gets the training split right, with its data. Trained once per run.
    static let trained: Result<(model: HookedTransformer, data: Dataset), Error> = Result {
        let data = try Dataset.modular(.add, p: 11, trainFraction: 0.9, seed: 1)
        let config = try TransformerConfig(nLayers: 1, nHeads: 2, dModel: 32, dHead: 16, dMLP: 64, actFn: .relu,
                                           normalizationType: .none, dVocab: 12, dVocabOut: 11, nCtx: 3, seed: 3)
        let model = try HookedTransformer(config: config)
        let trainer = try Trainer(model: model, data: data,
                                  options: TrainingOptions(learningRate: 1e-2, weightDecay: 0.01, freezeBiases: false))
        try trainer.train(epochs: 100)
        return (model, data)
    }

    /// A random 2-layer model with LayerNorm (or none), gelu, vocabulary 10, 5 positions.
    static func twoLayer(norm: NormalizationType = .layerNorm, seed: UInt64 = 21) throws -> HookedTransformer {
        let config = try TransformerConfig(nLayers: 2, nHeads: 2, dModel: 16, dHead: 8, dMLP: 32, actFn: .gelu,
                                           normalizationType: norm, dVocab: 10, nCtx: 5, seed: seed, initializerRange: 0.5)
        return try HookedTransformer(config: config)
    }

    /// Seeded random tokens [batch, pos] below `vocab`.
    static func tokens(_ batch: Int, _ pos: Int, vocab: Int = 10, seed: UInt64) throws -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return try Tensor(ints: (0..<(batch * pos)).map { _ in rng.nextInt(below: vocab) }, shape: [batch, pos])
    }

    /// `tokens` with the first `count` positions moved to other random tokens.
    static func corrupt(_ tokens: Tensor, positions count: Int, vocab: Int = 10, seed: UInt64) throws -> Tensor {
        var rng = RandomGenerator(seed: seed)
        let pos = tokens.shape[1]
        let values = tokens.toInts().enumerated().map { i, t in i % pos < count ? (t + 1 + rng.nextInt(below: vocab - 1)) % vocab : t }
        return try Tensor(ints: values, shape: tokens.shape)
    }

    /// The model's own last-position argmax: labels it gets all right.
    static func ownLabels(_ model: HookedTransformer, _ tokens: Tensor) throws -> Tensor {
        try GradMode.withNoGrad { try model.run(tokens, positions: .last).logits.argmax(axis: -1) }
    }
}
