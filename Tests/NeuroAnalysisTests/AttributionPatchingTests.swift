import XCTest
import NeuroEngine
import NeuroModels
import NeuroTestSupport
@testable import NeuroAnalysis

final class AttributionPatchingTests: XCTestCase {
    /// A model whose token 9 embeds almost exactly as token 3, and inputs
    /// where 3 becomes 9: every activation moves a little, so the gradient
    /// approximation should hold.
    func nearlyIdentical(norm: NormalizationType) throws -> ActivationPatching {
        let model = try PatchingFixtures.twoLayer(norm: norm)
        guard let embed = model.parameter("embed.W_E") else { throw EngineError(.argument, "no W_E") }
        var rows = embed.toFloats()
        var rng = RandomGenerator(seed: 9)
        for d in 0..<16 { rows[9 * 16 + d] = rows[3 * 16 + d] + Float(0.002 * rng.nextNormal()) }
        try embed.assign(try Tensor(rows, shape: [10, 16]))
        let clean = try Tensor(ints: (0..<40).map { $0 % 3 == 0 ? 3 : ($0 * 7) % 10 == 9 ? 1 : ($0 * 7) % 10 }, shape: [8, 5])
        let corrupted = try Tensor(ints: clean.toInts().map { $0 == 3 ? 9 : $0 }, shape: [8, 5])
        return try ActivationPatching(model, clean: clean, corrupted: corrupted,
                                      metric: PatchingMetric(.logitDiff, labels: PatchingFixtures.ownLabels(model, clean)))
    }

    func testAttributionAgreesWithPatchingForSmallChanges() throws {
        let patching = try nearlyIdentical(norm: .layerNorm)
        let cases: [[SweepSpec]] = [SweepSpec.everyBlock, SweepSpec.everyHead(byPosition: true), [.residMid], [.heads(.pattern)],
                                    [SweepSpec(.embed, by: [.pos])], [SweepSpec(.mlpPost, by: [.neuron], layer: 0)]]
        for specs in cases {
            let estimate = try patching.attribute(specs)
            let actual = try patching.sweep(specs)
            let agreement = try AttributionAgreement(estimate: estimate, actual: actual)
            let scale = actual.values.toDoubles().map { abs($0 - actual.baseline) }.max() ?? 0
            XCTAssertGreaterThan(scale, 1e-4, estimate.title)
            XCTAssertGreaterThan(agreement.correlation, 0.99, estimate.title)
            XCTAssertGreaterThan(agreement.signAgreement, 0.9, estimate.title)
            XCTAssertLessThan(agreement.maxError, 0.1 * scale, estimate.title)
            XCTAssertEqual(estimate.axes, actual.axes)
        }
    }

    /// Without LayerNorm the logits, and so the logit difference, are linear
    /// in the last residual stream: there the estimate is exact, for any change.
    func testAttributionIsExactWhereTheMetricIsLinear() throws {
        let model = try PatchingFixtures.twoLayer(norm: .none)
        let clean = try PatchingFixtures.tokens(8, 5, seed: 10)
        let corrupted = try PatchingFixtures.corrupt(clean, positions: 5, seed: 11)
        for direction in PatchDirection.allCases {
            let patching = try ActivationPatching(model, clean: clean, corrupted: corrupted,
                                                  metric: PatchingMetric(.logitDiff, labels: PatchingFixtures.ownLabels(model, clean)),
                                                  direction: direction)
            for spec in [SweepSpec(.residPost, by: [.pos], layer: 1), SweepSpec(.unembedIn, by: [.pos, .neuron])] {
                let estimate = try patching.attribute([spec]), actual = try patching.sweep([spec])
                // Both come from float32 forward passes over d_model-long sums: agreement to a
                // few float32 ulps of the metric's size, not to the last bit.
                let scale = actual.values.toDoubles().map(abs).max() ?? 0
                assertClose(estimate.values, actual.values, rtol: 1e-5, atol: 1e-5 * scale, "\(direction) \(spec.name)")
            }
        }
    }

    func testAttributionLeavesTheParametersAlone() throws {
        let patching = try nearlyIdentical(norm: .layerNorm)
        let model = patching.model
        try model.parameters[3].tensor.requiringGrad(false)
        let flags = model.parameters.map(\.tensor.requiresGrad)
        _ = try patching.attribute([.residPre])
        XCTAssertEqual(model.parameters.map(\.tensor.requiresGrad), flags)
        XCTAssertTrue(model.parameters.allSatisfy { $0.tensor.grad == nil })
    }

    func testAccuracyHasNoGradient() throws {
        let model = try PatchingFixtures.twoLayer()
        let tokens = try PatchingFixtures.tokens(2, 5, seed: 12)
        let patching = try ActivationPatching(model, clean: tokens, corrupted: tokens,
                                              metric: PatchingMetric(.accuracy, labels: try Tensor(ints: [0, 1], shape: [2])))
        XCTAssertThrowsError(try patching.attribute([.residPre])) {
            XCTAssertEqual("\($0)", "attribute: the metric 'accuracy' has no gradient; use a differentiable one such as logit_diff or loss")
        }
    }
}
