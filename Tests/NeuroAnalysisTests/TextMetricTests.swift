import Foundation
import XCTest
import NeuroEngine
import NeuroModels
@testable import NeuroAnalysis

/// `TextMetric` on hand-made logits and hidden states (values worked out
/// by hand below), and the text interventions on the tiny GPT-2 and BERT
/// of NeuroModelsTests' fixtures, fed token ids directly.
final class TextMetricTests: XCTestCase {
    func inputs(_ ids: [[Int]], lengths: [Int]) throws -> TextInputs {
        let width = ids[0].count
        let mask: Tensor? = lengths.allSatisfy({ $0 == width }) ? nil
            : try Tensor(ints: lengths.flatMap { [Int](repeating: 1, count: $0) + [Int](repeating: 0, count: width - $0) }, shape: [ids.count, width])
        return try TextInputs(ids: Tensor(ints: ids.flatMap { $0 }, shape: [ids.count, width]), mask: mask, lengths: lengths)
    }

    func testNextTokenLossAveragesEveryRealPositionWithANextToken() throws {
        // Row 0 (3 tokens): position 0 predicts id 2 from [0, 0, 0] → log 3;
        // position 1 predicts id 1 from [ln 2, 0, 0] → log 4. Position 2 has no next token.
        // Row 1 (2 real tokens, then padding): position 0 predicts id 0 from [ln 5, 0, 0] → log 7 − ln 5.
        let logits = try Tensor([0, 0, 0, Float(log(2.0)), 0, 0, 100, -100, 5,
                                 Float(log(5.0)), 0, 0, 9, 9, 9, 7, 7, 7], shape: [2, 3, 3])
        let text = try inputs([[0, 2, 1], [1, 0, 2]], lengths: [3, 2])
        let expected = (log(3.0) + log(4.0) + (log(7.0) - log(5.0))) / 3
        XCTAssertEqual(try TextMetric.loss.measure(logits, inputs: text), expected, accuracy: 1e-6)
    }

    func testLogitDiffAndAnswerLossReadEachTextsLastRealPosition() throws {
        let logits = try Tensor([0, 0, 0, 0, 0, 0, 1, 4, 2,
                                 0, 0, 0, 3, -1, 0, 50, 50, 50], shape: [2, 3, 3])
        let text = try inputs([[0, 1, 2], [0, 1, 2]], lengths: [3, 2])
        // Last positions: row 0 → [1, 4, 2], row 1 → [3, −1, 0].
        XCTAssertEqual(try TextMetric.logitDiff(answer: 1, wrong: 2).measure(logits, inputs: text), ((4 - 2) + (-1 - 0)) / 2.0, accuracy: 1e-6)
        let lse0 = log(exp(1.0) + exp(4.0) + exp(2.0)), lse1 = log(exp(3.0) + exp(-1.0) + 1)
        XCTAssertEqual(try TextMetric.answerLoss(answer: 0).measure(logits, inputs: text), ((lse0 - 1) + (lse1 - 3)) / 2, accuracy: 1e-6)
        XCTAssertThrowsError(try TextMetric.logitDiff(answer: 1, wrong: 3).measure(logits, inputs: text)) { error in
            XCTAssertTrue("\(error)".contains("wrong token id 3"), "\(error)")
        }
    }

    func testCosineMeanPoolsRealTokensOnly() throws {
        // Row 0 pools (1,0),(0,1),(2,2) to (1,1); row 1 pools only (3,4) (the rest is padding).
        let hidden = try Tensor([1, 0, 0, 1, 2, 2, 3, 4, 100, -100, 7, 7], shape: [2, 3, 2])
        let text = try inputs([[0, 0, 0], [0, 0, 0]], lengths: [3, 1])
        XCTAssertEqual(try TextMetric.meanPooled(hidden, lengths: [3, 1]), [[1, 1], [3, 4]])
        let value = try TextMetric.cosine.measure(hidden, inputs: text, reference: [[1, 0], [4, 3]])
        XCTAssertEqual(value, (1 / 2.0.squareRoot() + 24.0 / 25) / 2, accuracy: 1e-9)
        XCTAssertEqual(try TextMetric.cosine.measure(hidden, inputs: text), 1, accuracy: 1e-12, "a run against itself")
        // A zero pooled state has no direction: the cosine is undefined, never a number.
        let zero = try Tensor([0, 0, 0, 0, 0, 0, 3, 4, 0, 0, 0, 0], shape: [2, 3, 2])
        XCTAssertThrowsError(try TextMetric.cosine.measure(zero, inputs: text, reference: [[1, 0], [4, 3]])) { error in
            XCTAssertEqual((error as? EngineError)?.message, "cosine: text 0's mean-pooled final state is zero here, so its cosine to the clean run's is undefined")
        }
    }

    func testSingleTokenTextsHaveNoNextTokenLoss() throws {
        let text = try inputs([[3]], lengths: [1])
        XCTAssertThrowsError(try TextMetric.loss.measure(Tensor.zeros([1, 1, 4]), inputs: text)) { error in
            XCTAssertTrue("\(error)".contains("no next token"), "\(error)")
        }
    }

    // MARK: - Interventions on the tiny pretrained models

    static func pretrained(_ name: String) throws -> any PretrainedModel {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("NeuroModelsTests/Fixtures/pretrained/\(name)").path
        guard FileManager.default.fileExists(atPath: folder) else { throw XCTSkip("no fixture at \(folder)") }
        return try Pretrained.load(folder)
    }

    func testPatchingTheWholeResidualStreamGivesTheCorruptedRun() throws {
        let gpt2 = try Self.pretrained("tiny_gpt2")
        let clean = try inputs([[96, 5, 17, 33, 8, 41]], lengths: [6])
        let corrupted = try inputs([[96, 5, 17, 60, 8, 41]], lengths: [6])
        let resid = HookPoint(.residPre, layer: 0)
        for metric in [TextMetric.loss, .logitDiff(answer: 3, wrong: 9), .answerLoss(answer: 3), .cosine] {
            let r = try Intervention.patch(gpt2, clean: clean, corrupted: corrupted, at: [resid], metric: metric)
            XCTAssertEqual(r.intervened, try XCTUnwrap(r.corrupted), accuracy: 1e-5 * max(1, abs(r.clean)), "\(metric)")
            XCTAssertNotEqual(r.clean, r.corrupted ?? r.clean, accuracy: 1e-4, "the corruption changes \(metric)")
            XCTAssertEqual(r.effect ?? .nan, 1, accuracy: 1e-3)
            let same = try Intervention.patch(gpt2, clean: clean, corrupted: clean, at: [resid], metric: metric)
            XCTAssertEqual(same.intervened, same.clean, accuracy: 1e-5 * max(1, abs(same.clean)))
            XCTAssertNil(same.effect, "a corruption that changes nothing has no normalized effect")
        }
        // Logit difference is the difference of the two logits at the last position.
        let logits = try gpt2.run(clean.ids, attentionMask: nil).logits.toDoubles()   // [1, 6, 97]
        let last = 5 * 97
        let r = try Intervention.hook(gpt2, inputs: clean, at: [resid], metric: .logitDiff(answer: 3, wrong: 9)) { $0 }
        XCTAssertEqual(r.clean, logits[last + 3] - logits[last + 9], accuracy: 1e-5)
        XCTAssertEqual(r.intervened, r.clean, accuracy: 1e-5, "an identity hook changes nothing")
    }

    func testCosineOnTheEncoderAndAblationRules() throws {
        let bert = try Self.pretrained("tiny_bert")
        let text = try inputs([[2, 14, 30, 7, 3]], lengths: [5])
        let point = HookPoint(.mlpPost, layer: 0)
        let zero = try Intervention.ablate(bert, inputs: text, at: [point], method: .zero, metric: .cosine)
        XCTAssertEqual(zero.clean, 1, accuracy: 1e-9)
        XCTAssertLessThan(zero.intervened, 0.9999, "zeroing an MLP moves the pooled state")
        XCTAssertEqual(zero.effect ?? .nan, 1 - zero.intervened, accuracy: 1e-12)
        XCTAssertThrowsError(try Intervention.ablate(bert, inputs: text, at: [point], method: .mean, metric: .cosine)) { error in
            XCTAssertTrue("\(error)".contains("single text; use zero"), "\(error)")
        }
        // The mean of a batch of one repeated text is that text: mean-ablation changes nothing.
        let twice = try inputs([[2, 14, 30, 7, 3], [2, 14, 30, 7, 3]], lengths: [5, 5])
        let mean = try Intervention.ablate(bert, inputs: twice, at: [point], method: .mean, metric: .cosine)
        XCTAssertEqual(mean.intervened, 1, accuracy: 1e-5)
        let ragged = try inputs([[2, 14, 30, 7, 3], [2, 14, 3, 0, 0]], lengths: [5, 3])
        XCTAssertThrowsError(try Intervention.ablate(bert, inputs: ragged, at: [point], method: .mean, metric: .cosine))
        XCTAssertThrowsError(try Intervention.patch(bert, clean: text, corrupted: ragged, at: [point], metric: .cosine))
    }

    func testSweepOnTextRestoresTheCleanRunWhereTheTextsDiffer() throws {
        let gpt2 = try Self.pretrained("tiny_gpt2")
        let clean = try inputs([[96, 5, 17, 33, 8, 41]], lengths: [6])
        let corrupted = try inputs([[96, 5, 17, 60, 8, 41]], lengths: [6])
        for metric in [TextMetric.logitDiff(answer: 3, wrong: 9), .loss] {
            let engine = try ActivationPatching(gpt2, clean: clean.ids, corrupted: corrupted.ids,
                                                metric: PatchingMetric(metric, clean: clean, reference: nil), direction: .denoise)
            let s = try engine.sweep([SweepSpec(.residPre, by: [.pos], layer: 0)])
            let values = s.values.toDoubles()
            XCTAssertEqual(values.count, 6)
            // Only position 3 differs at the first residual stream: patching it in restores the clean run; elsewhere nothing changes.
            XCTAssertEqual(values[3], s.clean, accuracy: 1e-4 * max(1, abs(s.clean)), "\(metric)")
            for p in [0, 1, 2, 4, 5] { XCTAssertEqual(values[p], s.corrupted, accuracy: 1e-4 * max(1, abs(s.clean)), "\(metric) pos \(p)") }
            let direct = try Intervention.patch(gpt2, clean: clean, corrupted: corrupted, at: [HookPoint(.residPre, layer: 0)], metric: metric)
            XCTAssertEqual(s.clean, direct.clean, accuracy: 1e-4 * max(1, abs(s.clean)))
            XCTAssertEqual(s.corrupted, try XCTUnwrap(direct.corrupted), accuracy: 1e-4 * max(1, abs(s.clean)))
        }
        let engine = try ActivationPatching(gpt2, clean: clean.ids, corrupted: corrupted.ids,
                                            metric: PatchingMetric(.logitDiff(answer: 3, wrong: 9), clean: clean, reference: nil), direction: .denoise)
        let estimate = try engine.attribute([SweepSpec(.residPre, by: [.pos], layer: 0)])
        let cells = estimate.values.toDoubles()
        XCTAssertTrue(cells.allSatisfy(\.isFinite))
        // Cells are the corrupted metric plus the estimated change: none where the texts agree.
        for p in [0, 1, 2, 4, 5] { XCTAssertEqual(cells[p], estimate.corrupted, accuracy: 1e-5, "no difference at pos \(p), so no attribution") }
        XCTAssertGreaterThan(abs(cells[3] - estimate.corrupted), 1e-3)
    }
}
