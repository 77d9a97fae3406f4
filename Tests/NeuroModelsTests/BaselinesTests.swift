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

    func testThePapersMLPHasSeparateEmbeddingsAndNoBiases() throws {
        let mlp = try SeparateEmbeddingMLP(dVocab: data.dVocab, dVocabOut: data.dVocabOut, dModel: 16, dHidden: 32, seed: 3)
        XCTAssertEqual(mlp.parameters.map(\.name), ["embed_a.W_E", "embed_b.W_E", "mlp.W_in", "unembed.W_U"])
        XCTAssertEqual(mlp.parameters.map(\.tensor.shape), [[12, 16], [12, 16], [32, 32], [32, 11]])
        XCTAssertEqual(mlp.parameters.reduce(0) { $0 + $1.tensor.count }, 2 * 12 * 16 + 32 * 32 + 32 * 11)
        // The logits are ReLU([W_a[a] ; W_b[b]] · W_in) · W_U, computed here by hand for one input.
        let (a, b) = (3, 7)
        let weights = Dictionary(uniqueKeysWithValues: mlp.parameters.map { ($0.name, $0.tensor.toDoubles()) })
        let (wA, wB, wIn, wU) = (weights["embed_a.W_E"]!, weights["embed_b.W_E"]!, weights["mlp.W_in"]!, weights["unembed.W_U"]!)
        let joined = (0..<16).map { wA[a * 16 + $0] } + (0..<16).map { wB[b * 16 + $0] }
        let hidden = (0..<32).map { h in max(0, (0..<32).reduce(0.0) { $0 + joined[$1] * wIn[$1 * 32 + h] }) }
        let expected = (0..<11).map { c in (0..<32).reduce(0.0) { $0 + hidden[$1] * wU[$1 * 11 + c] } }
        let logits = try mlp.lastLogits(Tensor(ints: [a, b, 11], shape: [1, 3])).toDoubles()
        for (x, y) in zip(logits, expected) { XCTAssertEqual(x, y, accuracy: 1e-5) }
        // Swapping a and b changes the logits: the two operands have their own embeddings.
        let swapped = try mlp.lastLogits(Tensor(ints: [b, a, 11], shape: [1, 3])).toDoubles()
        XCTAssertGreaterThan(zip(logits, swapped).map { abs($0 - $1) }.max()!, 1e-3)
        // The paper's initialisation: N(0, 1/fan-in).
        XCTAssertEqual(standardDeviation(wIn), 1 / 32.0.squareRoot(), accuracy: 0.02)
    }

    func testThePapersMLPTrains() throws {
        let mlp = try SeparateEmbeddingMLP(dVocab: data.dVocab, dVocabOut: data.dVocabOut, dModel: 16, dHidden: 64, seed: 3)
        let before = try Metrics.crossEntropy(mlp.lastLogits(data.train.tokens), labels: data.train.labels).item()
        let history = try mlp.fit(data, epochs: 300, options: TrainingOptions(learningRate: 1e-2, weightDecay: 0, freezeBiases: false))
        XCTAssertLessThan(history.trainLoss.last!, before * 0.2)
        XCTAssertEqual(try Metrics.accuracy(mlp.lastLogits(data.train.tokens), labels: data.train.labels), 1, accuracy: 0.05)
        XCTAssertThrowsError(try mlp.lastLogits(Tensor(ints: [1], shape: [1, 1]))) { error in
            XCTAssertEqual("\(error)", "separate-embedding MLP: tokens must be [batch, pos] with pos ≥ 2, got [1, 1]")
        }
    }

    func standardDeviation(_ values: [Double]) -> Double {
        let mean = values.reduce(0, +) / Double(values.count)
        return (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)).squareRoot()
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
