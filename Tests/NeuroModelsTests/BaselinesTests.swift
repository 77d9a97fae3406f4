import XCTest
import NeuroEngine
@testable import NeuroModels

final class BaselinesTests: XCTestCase {
    var data: Dataset!

    override func setUpWithError() throws {
        data = try Dataset.modular(.add, p: 11, trainFraction: 0.5, seed: 1)
    }

    func testLookupTableMemorisesButCannotGeneralise() throws {
        let memory = try LookupTableBaseline(dVocab: data.dVocab, dVocabOut: data.dVocabOut)
        let history = try memory.fit(data, epochs: 200, options: TrainingOptions(learningRate: 1e-1, weightDecay: 0, freezeBiases: false))
        let train = try Metrics.accuracy(memory.lastLogits(data.train.tokens), labels: data.train.labels)
        XCTAssertEqual(train, 1)
        // An unseen input's row was never updated: its logits stay 0, so it predicts class 0 — chance level.
        XCTAssertLessThan(history.testAccuracy.last!, 0.2)
        XCTAssertEqual(history.epochs, Array(1...200))
    }

    func testMLPOverEmbeddingsFitsTheTrainingSet() throws {
        let mlp = try MLPBaseline(dVocab: data.dVocab, dVocabOut: data.dVocabOut, inputs: 2, dModel: 16, dHidden: 64, seed: 3)
        let before = try Metrics.crossEntropy(mlp.lastLogits(data.train.tokens), labels: data.train.labels).item()
        _ = try mlp.fit(data, epochs: 300, options: TrainingOptions(learningRate: 1e-2, weightDecay: 0, freezeBiases: false))
        let after = try Metrics.crossEntropy(mlp.lastLogits(data.train.tokens), labels: data.train.labels).item()
        XCTAssertLessThan(after, before * 0.2)
        XCTAssertEqual(try Metrics.accuracy(mlp.lastLogits(data.train.tokens), labels: data.train.labels), 1, accuracy: 0.05)
    }

    func testTheTransformerIsASequenceModel() throws {
        let config = try TransformerConfig(nLayers: 1, nHeads: 1, dModel: 8, dMLP: 8, dVocab: 12, dVocabOut: 11, nCtx: 3, seed: 1)
        let model: SequenceModel = try HookedTransformer(config: config)
        XCTAssertEqual(try model.lastLogits(data.test.tokens).shape, [data.test.count, 11])
    }

    func testBadInputIsRefused() throws {
        let memory = try LookupTableBaseline(dVocab: 4, dVocabOut: 3)
        XCTAssertThrowsError(try memory.lastLogits(Tensor(ints: [1, 9, 4], shape: [1, 3]))) { error in
            XCTAssertEqual("\(error)", "lookup table: token 9 in row 0 is outside 0..<4")
        }
        XCTAssertThrowsError(try MLPBaseline(dVocab: 0, dVocabOut: 3)) { error in
            XCTAssertEqual("\(error)", "MLP baseline: d_vocab must be between 1 and 65536, got 0")
        }
    }
}
