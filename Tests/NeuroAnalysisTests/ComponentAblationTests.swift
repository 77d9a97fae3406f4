import XCTest
import NeuroEngine
import NeuroModels
@testable import NeuroAnalysis

final class ComponentAblationTests: XCTestCase {
    /// Removing every component leaves each row at the mean: mean ablation of that slice.
    func testRemovingEveryComponentIsMeanAblation() throws {
        let (model, data) = try PatchingFixtures.trained.get()
        let split = data.train
        let cases: [(HookPoint, Int?, Int?, Int)] = [
            (HookPoint(.residPost, layer: 0), nil, 2, 32),
            (HookPoint(.mlpPost, layer: 0), nil, 2, 64),
            (HookPoint(.z, layer: 0), 1, 2, 16),
            (HookPoint(.embed), nil, 0, 32),
        ]
        for (point, head, position, features) in cases {
            let r = try ComponentAblation(model, tokens: split.tokens, labels: split.labels, at: point, components: Array(0..<features),
                                          head: head, position: position, metric: .loss)
            let mean = try Intervention.ablate(model, tokens: split.tokens, labels: split.labels, at: point, method: .mean,
                                               slice: ActivationSlice(head: head, position: position), metric: .loss)
            XCTAssertEqual(r.before, mean.clean, accuracy: 1e-9, "\(point)")
            XCTAssertEqual(r.after, mean.intervened, accuracy: 1e-3 * max(1, mean.intervened), "\(point)")
            XCTAssertEqual(r.explainedVarianceRatio.reduce(0, +), 1, accuracy: 1e-3, "\(point)")
        }
    }

    func testTheTopComponentsCarryTheAnswerAndTheFlipsAreListed() throws {
        let (model, data) = try PatchingFixtures.trained.get()
        let split = data.train
        let point = HookPoint(.residPost, layer: 0)
        let top = try ComponentAblation(model, tokens: split.tokens, labels: split.labels, at: point, components: Array(0..<10), position: 2)
        let bottom = try ComponentAblation(model, tokens: split.tokens, labels: split.labels, at: point, components: [31], position: 2)
        XCTAssertGreaterThan(top.accuracy.before, 0.95)
        XCTAssertLessThan(top.accuracy.after, 0.5)
        XCTAssertGreaterThan(bottom.accuracy.after, 0.9)
        XCTAssertGreaterThan(top.explainedVarianceRatio.reduce(0, +), bottom.explainedVarianceRatio[0])
        for r in [top, bottom] {
            let truth = split.labels.toInts()
            let right = { (p: [Int]) in zip(p, truth).filter { $0 == $1 }.count }
            XCTAssertEqual(right(r.predictions.before) - r.broken.count + r.fixed.count, right(r.predictions.after))
            XCTAssertEqual(Double(right(r.predictions.after)) / Double(truth.count), r.accuracy.after, accuracy: 1e-12)
            XCTAssertTrue(r.broken.allSatisfy { r.predictions.before[$0] == truth[$0] && r.predictions.after[$0] != truth[$0] })
        }
        XCTAssertFalse(top.broken.isEmpty)
    }

    func testMistakesAreNamed() throws {
        let (model, data) = try PatchingFixtures.trained.get()
        let split = data.train
        let cases: [(HookPoint, [Int], Int?, Int?, String)] = [
            (HookPoint(.residPost, layer: 0), [], nil, nil, "pc ablation: name at least one component to remove"),
            (HookPoint(.residPost, layer: 0), [1, 1], nil, nil, "pc ablation: components must be distinct ranks 0, 1, …; got [1, 1]"),
            (HookPoint(.residPost, layer: 0), [32], nil, nil,
             "pc ablation: component 32 does not exist; blocks.0.hook_resid_post has 32 (min of \(3 * split.count) samples and 32 features)"),
            (HookPoint(.residPost, layer: 0), [0], 1, nil, "pc ablation: resid_post [batch, pos, d_model] has no heads"),
            (HookPoint(.z, layer: 0), [0], 2, nil, "pc ablation: head 2 is out of range (2 heads)"),
            (HookPoint(.z, layer: 0), [0], nil, 3, "pc ablation: position 3 is out of range (3 positions)"),
            (HookPoint(.residPost, layer: 1), [0], nil, nil, "pc ablation: this model has no blocks.1.hook_resid_post"),
        ]
        for (point, components, head, position, message) in cases {
            XCTAssertThrowsError(try ComponentAblation(model, tokens: split.tokens, labels: split.labels, at: point,
                                                       components: components, head: head, position: position)) {
                XCTAssertEqual("\($0)", message)
            }
        }
    }
}
