import XCTest
import NeuroEngine
import NeuroModels
import NeuroTestSupport
@testable import NeuroAnalysis

/// Analyzers take the `HookedModel` protocol, not the transformer class: a
/// model of another class (here one that wraps a transformer and counts its
/// runs) gets the same results from interventions, patching sweeps and
/// circuit scores.
final class HookedModelTests: XCTestCase {
    /// Another kind of hooked model: forwards to a transformer, counting runs.
    final class CountingModel: HookedModel {
        let inner: HookedTransformer
        var runs = 0
        init(_ inner: HookedTransformer) { self.inner = inner }
        var config: TransformerConfig { inner.config }
        var parameters: [NamedParameter] { inner.parameters }
        var hookPoints: [HookPoint] { inner.hookPoints }
        var hooks: HookResolver { inner.hooks }
        func parameter(_ name: String) -> Tensor? { inner.parameter(name) }
        func forward(_ tokens: Tensor, hooks: [Hook], cache request: CacheRequest,
                     positions: LogitPositions) throws -> (logits: Tensor, cache: ActivationCache) {
            runs += 1
            return try inner.forward(tokens, hooks: hooks, cache: request, positions: positions)
        }
    }

    func testAnalyzersWorkOnAnyHookedModel() throws {
        let transformer = try PatchingFixtures.twoLayer()
        let other = CountingModel(transformer)
        let clean = try PatchingFixtures.tokens(8, 5, seed: 21)
        let corrupted = try PatchingFixtures.corrupt(clean, positions: 5, seed: 22)
        let labels = try PatchingFixtures.ownLabels(transformer, clean)
        let point = HookPoint(.mlpPost, layer: 0)

        let direct = try Intervention.ablate(transformer, tokens: clean, labels: labels, at: point, method: .mean, metric: .loss)
        let through = try Intervention.ablate(other, tokens: clean, labels: labels, at: point, method: .mean, metric: .loss)
        XCTAssertEqual(through.intervened, direct.intervened, accuracy: 1e-9 + 1e-6 * abs(direct.intervened))
        XCTAssertGreaterThan(other.runs, 0, "the analysis ran the other model")

        let spec = SweepSpec(.residPre, by: [.pos], layer: 1)
        let sweepDirect = try ActivationPatching(transformer, clean: clean, corrupted: corrupted,
                                                 metric: PatchingMetric(.logitDiff, labels: labels)).sweep([spec])
        let sweepOther = try ActivationPatching(other, clean: clean, corrupted: corrupted,
                                                metric: PatchingMetric(.logitDiff, labels: labels)).sweep([spec])
        let scale = sweepDirect.values.toDoubles().map(abs).max() ?? 0
        assertClose(sweepOther.values, sweepDirect.values, rtol: 1e-6, atol: 1e-6 * scale)
    }
}
