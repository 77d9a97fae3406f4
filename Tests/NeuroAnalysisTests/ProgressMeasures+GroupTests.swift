import XCTest
import NeuroEngine
import NeuroModels
@testable import NeuroAnalysis

/// Progress measures in the group case (Chughtai et al. 2023): the key
/// representations' ρ(a·b) entries play the part of the key frequencies.
final class ProgressMeasuresGroupTests: XCTestCase {
    /// A short run on `data` with checkpoints every 10 epochs.
    func run(_ data: Dataset, epochs: Int = 30, seed: UInt64 = 2) throws -> (TransformerConfig, Trainer) {
        let config = try TransformerConfig(nLayers: 1, nHeads: 2, dModel: 16, dHead: 8, dMLP: 32, normalizationType: .none,
                                           dVocab: data.dVocab, dVocabOut: data.dVocabOut, nCtx: 3, seed: seed)
        let trainer = try Trainer(model: HookedTransformer(config: config), data: data,
                                  options: TrainingOptions(learningRate: 3e-3, checkpointEvery: 10))
        try trainer.train(epochs: epochs)
        return (config, trainer)
    }

    /// C_n's rotation k is the Fourier case's frequency k: the same checkpoints give the same
    /// restricted and excluded losses through either basis (one implementation, two bases).
    func testCyclicGroupMatchesTheFourierCase() throws {
        let modular = try Dataset.modular(.add, p: 13, trainFraction: 0.5, seed: 1)
        let cyclic = try Dataset.cyclicGroup(n: 13, trainFraction: 0.5, seed: 1)
        XCTAssertEqual(modular.trainIndices, cyclic.trainIndices)
        let (config, trainer) = try run(modular)
        let fourier = try ProgressMeasures(config: config, checkpoints: trainer.checkpoints, data: modular, keyFrequencies: [1, 3])
        let group = try ProgressMeasures(config: config, checkpoints: trainer.checkpoints, data: cyclic, keyRepresentations: ["k=1", "k=3"])
        XCTAssertEqual(group.basis.keys, ["k=1", "k=3"])
        for i in fourier.epochs.indices {
            XCTAssertEqual(group.restrictedLoss[i], fourier.restrictedLoss[i], accuracy: 1e-9 * fourier.restrictedLoss[i])
            XCTAssertEqual(group.excludedLoss[i], fourier.excludedLoss[i], accuracy: 1e-9 * fourier.excludedLoss[i])
            XCTAssertEqual(group.trainLoss[i], fourier.trainLoss[i], accuracy: 1e-12)
        }
        XCTAssertEqual(group.concentration.map(\.field), ["key_share_embed", "key_share_logit"])
    }

    /// On S_3: the key share of W_E is the sum of the key representations' shares that
    /// `IrrepAnalysis` reports; keeping no representation excludes nothing; every share is a fraction.
    func testSymmetricGroupMeasures() throws {
        let data = try Dataset.symmetricGroup(n: 3, trainFraction: 0.6, seed: 0)
        let (config, trainer) = try run(data, epochs: 40)
        let m = try ProgressMeasures(config: config, checkpoints: trainer.checkpoints, data: data, keyRepresentations: ["[2,1]"])
        XCTAssertEqual(m.epochs, [0, 10, 20, 30, 40])
        let last = try HookedTransformer(config: config, weights: Dictionary(uniqueKeysWithValues: trainer.checkpoints.last!.weights))
        let irreps = try IrrepAnalysis(model: last, data: data)
        let standard = try XCTUnwrap(irreps.group.representations.firstIndex { $0.name == "[2,1]" })
        XCTAssertEqual(m.concentration[0].values.last!, irreps.embeddingExplained[standard], accuracy: 1e-9)
        for curve in m.concentration { XCTAssertTrue(curve.values.allSatisfy { (0...1 + 1e-12).contains($0) }, "\(curve.name)") }
        // A representation named twice is kept once.
        let twice = try ProgressMeasures(config: config, checkpoints: trainer.checkpoints, data: data, keyRepresentations: ["[2,1]", "[2,1]"])
        XCTAssertEqual(twice.basis.keys, ["[2,1]"])
        for (once, doubled) in zip(m.restrictedLoss, twice.restrictedLoss) { XCTAssertEqual(doubled, once, accuracy: 1e-9 * once) }
        let none = try ProgressMeasures(config: config, checkpoints: trainer.checkpoints, data: data, keyRepresentations: [])
        for (excluded, train) in zip(none.excludedLoss, none.trainLoss) { XCTAssertEqual(excluded, train, accuracy: 1e-9) }
        // Found in the last checkpoint when not given: the representations above the irreps threshold.
        let found = try ProgressMeasures(config: config, checkpoints: trainer.checkpoints, data: data)
        XCTAssertEqual(found.basis.keys, irreps.key.map { irreps.group.representations[$0].name })
    }

    func testKeyDirectionsOfTheWrongKindAreRefused() throws {
        let data = try Dataset.symmetricGroup(n: 3, trainFraction: 0.6, seed: 0)
        let (config, trainer) = try run(data, epochs: 10)
        XCTAssertThrowsError(try ProgressMeasures(config: config, checkpoints: trainer.checkpoints, data: data,
                                                  keyRepresentations: ["[2,2]"])) { error in
            XCTAssertEqual("\(error)", "S_3 has no representation '[2,2]' (did you mean [2,1]?); it has [3], [2,1], [1,1,1]")
        }
        XCTAssertThrowsError(try ProgressMeasures(config: config, checkpoints: trainer.checkpoints, data: data, keyFrequencies: [1])) { error in
            XCTAssertTrue("\(error)".contains("key frequencies are for modular arithmetic; S_3"), "\(error)")
        }
    }
}
