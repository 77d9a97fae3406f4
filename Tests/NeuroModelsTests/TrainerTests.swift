import XCTest
import NeuroEngine
@testable import NeuroModels

final class TrainerTests: XCTestCase {
    func makeTrainer(lr: Double = 1e-2, checkpointEvery: Int = 0) throws -> Trainer {
        let data = try Dataset.modular(.add, p: 11, trainFraction: 0.5, seed: 3)
        let config = try TransformerConfig(nLayers: 1, nHeads: 2, dModel: 16, dHead: 8, dMLP: 32, normalizationType: .none,
                                           dVocab: data.dVocab, dVocabOut: data.dVocabOut, nCtx: 3, seed: 5)
        return try Trainer(model: HookedTransformer(config: config), data: data,
                           options: TrainingOptions(learningRate: lr, checkpointEvery: checkpointEvery))
    }

    func weights(_ trainer: Trainer) -> [[Float]] { trainer.model.parameters.map { $0.tensor.toFloats() } }

    func testTrainingLowersTheLossAndRecordsEveryEpoch() throws {
        let trainer = try makeTrainer()
        XCTAssertEqual(try trainer.train(epochs: 30), .completed)
        XCTAssertEqual(trainer.history.epochs, Array(1...30))
        XCTAssertLessThan(trainer.history.trainLoss.last!, trainer.history.trainLoss.first! * 0.8)
        // Biases are frozen, as in the grokking demo.
        XCTAssertTrue(trainer.model.parameter("blocks.0.mlp.b_in")!.toFloats().allSatisfy { $0 == 0 })
    }

    func testEvaluationByHalvesGivesTheWholeSplitsNumbers() throws {
        // The test split is evaluated in two halves beside the next step;
        // the recorded loss is that of the whole split to float32 accuracy
        // (the products are summed in another order), the accuracy exactly.
        let trainer = try makeTrainer()
        try trainer.train(epochs: 5)
        let (loss, accuracy) = try trainer.evaluate(trainer.data.test)
        XCTAssertEqual(try XCTUnwrap(trainer.history.testLoss.last), loss, accuracy: 1e-6 * loss)
        XCTAssertEqual(trainer.history.testAccuracy.last, accuracy)
    }

    func testResumedRunContinuesTheIdenticalTrajectory() throws {
        let straight = try makeTrainer(checkpointEvery: 4)
        try straight.train(epochs: 12)

        let first = try makeTrainer(checkpointEvery: 4)
        try first.train(epochs: 6)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try first.save(to: path)
        let resumed = try Trainer.resume(from: path)
        XCTAssertEqual(resumed.epoch, 6)
        XCTAssertEqual(resumed.data.trainIndices, first.data.trainIndices)
        try resumed.train(epochs: 6)

        XCTAssertEqual(weights(resumed), weights(straight))
        XCTAssertEqual(resumed.history, straight.history)
        XCTAssertEqual(resumed.checkpoints.map(\.epoch), [0, 4, 8, 12])
        XCTAssertEqual(resumed.checkpoints[1].weights.map { $0.1.toFloats() }, straight.checkpoints[1].weights.map { $0.1.toFloats() })
    }

    func testDivergenceStopsAndKeepsTheLastGoodWeights() throws {
        let trainer = try makeTrainer(lr: 1e30)
        let initial = weights(trainer)
        let outcome = try trainer.train(epochs: 10)
        guard case .diverged(let epoch) = outcome else { return XCTFail("expected divergence, got \(outcome)") }
        XCTAssertEqual(epoch, trainer.epoch + 1)
        XCTAssertEqual(trainer.history.count, trainer.epoch)
        XCTAssertTrue(trainer.history.trainLoss.allSatisfy(\.isFinite))
        if trainer.epoch == 0 { XCTAssertEqual(weights(trainer), initial) }
        XCTAssertTrue(weights(trainer).joined().allSatisfy(\.isFinite))
    }

    func testInterruptEndsAtTheCurrentEpoch() throws {
        let trainer = try makeTrainer()
        var polls = 0
        let outcome = try trainer.train(epochs: 50, shouldStop: { polls += 1; return polls >= 3 })
        XCTAssertEqual(outcome, .interrupted(epoch: 3))
        XCTAssertEqual(trainer.epoch, 3)
        XCTAssertEqual(trainer.history.count, 3)
        // Continuing afterwards works from the same state.
        XCTAssertEqual(try trainer.train(epochs: 2), .completed)
        XCTAssertEqual(trainer.history.epochs, [1, 2, 3, 4, 5])
    }

    func testLabelsTheModelCannotOutputAreRefused() throws {
        let data = try Dataset.addition(p: 11, trainFraction: 0.5, seed: 1)
        let config = try TransformerConfig(nLayers: 1, nHeads: 1, dModel: 8, dMLP: 8, dVocab: 12, dVocabOut: 11, nCtx: 3)
        XCTAssertThrowsError(try Trainer(model: HookedTransformer(config: config), data: data)) { error in
            XCTAssertEqual("\(error)", "train: the dataset's labels go up to 20 but the model outputs only 11 classes (d_vocab_out)")
        }
    }

    func testResumeRefusesAPlainWeightsFile() throws {
        let trainer = try makeTrainer()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("weights-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try trainer.model.save(to: path)
        XCTAssertThrowsError(try Trainer.resume(from: path)) { error in
            XCTAssertTrue("\(error)".contains("not a NeuroMap training run"), "\(error)")
        }
    }
}
