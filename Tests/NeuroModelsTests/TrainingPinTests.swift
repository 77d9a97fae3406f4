import XCTest
import NeuroEngine
@testable import NeuroModels

/// Short training runs pinned to the numbers the training code gave before
/// the training loop was shared by the transformer, the baselines and the
/// probes (recorded once from that code): the same seed must keep giving the
/// same loss curves, to float32 accuracy.
final class TrainingPinTests: XCTestCase {
    func data() throws -> Dataset { try Dataset.modular(.add, p: 11, trainFraction: 0.5, seed: 3) }

    func assertCurve(_ actual: [Double], _ expected: [Double], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, what, file: file, line: line)
        for (i, (a, e)) in zip(actual, expected).enumerated() {
            XCTAssertEqual(a, e, accuracy: 1e-5 * Swift.max(1, abs(e)), "\(what)[\(i)]", file: file, line: line)
        }
    }

    func testTransformerRun() throws {
        let data = try data()
        let config = try TransformerConfig(nLayers: 1, nHeads: 2, dModel: 16, dHead: 8, dMLP: 32, normalizationType: .none,
                                           dVocab: data.dVocab, dVocabOut: data.dVocabOut, nCtx: 3, seed: 5)
        let trainer = try Trainer(model: HookedTransformer(config: config), data: data,
                                  options: TrainingOptions(learningRate: 1e-2, checkpointEvery: 4))
        XCTAssertEqual(try trainer.train(epochs: 8), .completed)
        let h = trainer.history
        XCTAssertEqual(h.epochs, Array(1...8))
        assertCurve(h.trainLoss, [2.403574949828083, 2.3591620623661216, 2.3389088252770147, 2.326580746697068,
                                  2.315878215745299, 2.304184266294954, 2.290960541319974, 2.2771438442571923], "train loss")
        assertCurve(h.testLoss, [2.4843354437880207, 2.5373080142710656, 2.5848439738918514, 2.6217746734509544,
                                 2.644768151115206, 2.6620713555579294, 2.677719550650783, 2.6971151441000267], "test loss")
        assertCurve(h.testAccuracy, [3, 3, 2, 1, 2, 0, 0, 0].map { Double($0) / 61 }, "test accuracy")
        XCTAssertEqual(trainer.checkpoints.map(\.epoch), [0, 4, 8])
        let unembed = try XCTUnwrap(trainer.model.parameter("unembed.W_U")).toDoubles()
        XCTAssertEqual(unembed.reduce(0, +), 0.7498779275920242, accuracy: 1e-4)
    }

    func testMLPBaselineRun() throws {
        let data = try data()
        let mlp = try MLPBaseline(dVocab: data.dVocab, dVocabOut: data.dVocabOut, inputs: 2, dModel: 16, dHidden: 32, seed: 7)
        let h = try mlp.fit(data, epochs: 8, options: TrainingOptions(learningRate: 1e-2, weightDecay: 0.5, freezeBiases: false))
        assertCurve(h.trainLoss, [2.4162955232407874, 2.367720970482501, 2.32644910921797, 2.2897355835486755,
                                  2.2559727321414424, 2.2232240797677583, 2.1911233998627053, 2.158406967820423], "train loss")
        assertCurve(h.testLoss, [2.434297055864096, 2.4636769669483463, 2.4939825749613966, 2.5261275656748863,
                                 2.56056938626794, 2.598720010210463, 2.64202549783232, 2.6904958517588917], "test loss")
        assertCurve(h.testAccuracy, [5, 2, 0, 0, 0, 0, 0, 0].map { Double($0) / 61 }, "test accuracy")
    }

    func testLookupBaselineRun() throws {
        let data = try data()
        let memory = try LookupTableBaseline(dVocab: data.dVocab, dVocabOut: data.dVocabOut)
        let h = try memory.fit(data, epochs: 5, options: TrainingOptions(learningRate: 1e-1, weightDecay: 1, freezeBiases: false))
        assertCurve(h.trainLoss, [2.397895272798368, 2.2178235433964595, 2.0591458485210445, 1.9195466623520228, 1.796899924783035],
                    "train loss")
        // Unseen inputs keep zero logits: the test loss stays log 11 and the accuracy at chance.
        assertCurve(h.testLoss, [Double](repeating: 2.3978952727983684, count: 5), "test loss")
        assertCurve(h.testAccuracy, [Double](repeating: 6.0 / 61, count: 5), "test accuracy")
    }
}
