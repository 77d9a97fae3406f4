import XCTest
import NeuroTestSupport
import NeuroEngine
@testable import NeuroModels

final class HookedTransformerTests: XCTestCase {
    func makeModel(norm: NormalizationType = .layerNorm, dMLP: Int = 16) throws -> HookedTransformer {
        let config = try TransformerConfig(nLayers: 2, nHeads: 2, dModel: 8, dHead: 4, dMLP: dMLP, actFn: .gelu,
                                           normalizationType: norm, dVocab: 10, nCtx: 5, seed: 1)
        return try HookedTransformer(config: config)
    }

    func testHookPointsMatchTransformerLensNames() throws {
        let model = try makeModel()
        XCTAssertEqual(model.hookPoints.count, 40)
        XCTAssertEqual(model.hookPoints.first?.name, "hook_embed")
        XCTAssertEqual(model.hookPoints.last?.name, "unembed.hook_out")
        XCTAssertEqual(try model.hookPoint(named: "pattern1").name, "blocks.1.attn.hook_pattern")
        XCTAssertEqual(try model.hooks.point(short: "resid_pre", layer: -1).name, "blocks.1.hook_resid_pre")
        XCTAssertEqual(try model.hookPoint(named: "scale0ln2").name, "blocks.0.ln2.hook_scale")
        XCTAssertThrowsError(try model.hookPoint(named: "blocks.0.attn.hook_patern")) { error in
            XCTAssertTrue("\(error)".contains("did you mean 'blocks.0.attn.hook_pattern'"), "\(error)")
        }
    }

    func testLastPositionOnlyMatchesFullForward() throws {
        let model = try makeModel()
        let tokens = try Tensor(ints: [1, 2, 3, 4, 5, 6, 7, 8, 9], shape: [3, 3])
        let full = try model.run(tokens).logits
        let last = try model.run(tokens, positions: .last).logits
        let fullLast = try full.select(axis: 1, index: -1)
        XCTAssertEqual(last.shape, [3, 10])
        let a = last.toDoubles(), b = fullLast.toDoubles()
        for i in 0..<a.count { XCTAssertEqual(a[i], b[i], accuracy: 1e-5) }
    }

    func testCacheHasEveryHookWithTransformerLensShapes() throws {
        let model = try makeModel()
        let tokens = try Tensor(ints: [1, 2, 3], shape: [1, 3])
        let (_, cache) = try model.run(tokens, cache: .all)
        XCTAssertEqual(cache.count, 40)
        XCTAssertEqual(try cache["blocks.0.attn.hook_q"].shape, [1, 3, 2, 4])
        XCTAssertEqual(try cache["blocks.0.attn.hook_pattern"].shape, [1, 2, 3, 3])
        XCTAssertEqual(try cache["blocks.1.ln2.hook_scale"].shape, [1, 3, 1])
        XCTAssertEqual(try cache["unembed.hook_out"].shape, [1, 3, 10])
    }
}

final class ForwardPathTests: XCTestCase {
    /// Block 0 computed per distinct (token, position) pair must equal the
    /// direct computation, in values and gradients, with and without caching.
    func testTokenTablePathMatchesTheDirectPath() throws {
        let data = try Dataset.modular(.add, p: 7, trainFraction: 0.5, seed: 1)
        for norm in [NormalizationType.layerNorm, .none] {
            let config = try TransformerConfig(nLayers: 2, nHeads: 2, dModel: 8, dHead: 4, dMLP: 16, actFn: .gelu,
                                               normalizationType: norm, dVocab: 8, dVocabOut: 7, nCtx: 3, seed: 2)
            let model = try HookedTransformer(config: config)
            XCTAssertNotNil(try TokenTable(data.tokens))
            let identity = Hook(HookPoint(.embed)) { x, _ in x }   // any hook function forces the direct path
            for positions in [LogitPositions.all, .last] {
                let (fast, fastCache) = try model.run(data.tokens, cache: .all, positions: positions)
                let (direct, directCache) = try model.run(data.tokens, hooks: [identity], cache: .all, positions: positions)
                assertClose(fast, direct, rtol: 1e-5, atol: 1e-6)
                XCTAssertEqual(fastCache.points, directCache.points)
                for point in directCache.points {
                    assertClose(fastCache[point]!, directCache[point]!, rtol: 1e-5, atol: 1e-6, point.name)
                }
            }
            func gradients(_ hooks: [Hook]) throws -> [[Double]] {
                let loss = try Metrics.crossEntropy(model.run(data.tokens, hooks: hooks, positions: .last).logits, labels: data.labels)
                try loss.backward()
                defer { model.parameters.forEach { $0.tensor.zeroGrad(keepBuffer: false) } }
                return model.parameters.map { $0.tensor.grad?.toDoubles() ?? [] }
            }
            let (fastGrads, directGrads) = (try gradients([]), try gradients([identity]))
            for (a, b) in zip(fastGrads, directGrads) { assertClose(a, b, rtol: 1e-4, atol: 1e-6) }
        }
    }

    /// Without gradients and hook functions, the matrix products after
    /// attention compute position 0 once per first token (SharedFirstPosition):
    /// every cached activation and the logits agree with the direct path, in
    /// both layers (position 0 depends only on the first token in each).
    func testSharedFirstPositionMatchesTheDirectPath() throws {
        let data = try Dataset.modular(.add, p: 7, trainFraction: 0.5, seed: 1)
        XCTAssertNotNil(SharedFirstPosition(firstTokens: try data.tokens.select(axis: 1, index: 0).toInts(), positions: 3))
        let config = try TransformerConfig(nLayers: 2, nHeads: 2, dModel: 8, dHead: 4, dMLP: 16, actFn: .relu,
                                           normalizationType: .layerNorm, dVocab: 8, dVocabOut: 7, nCtx: 3, seed: 3)
        let model = try HookedTransformer(config: config)
        let identity = Hook(HookPoint(.embed)) { x, _ in x }
        for positions in [LogitPositions.all, .last] {
            let (fast, fastCache) = try GradMode.withNoGrad { try model.run(data.tokens, cache: .all, positions: positions) }
            let (direct, directCache) = try model.run(data.tokens, hooks: [identity], cache: .all, positions: positions)
            assertClose(fast, direct, rtol: 1e-5, atol: 1e-6)
            XCTAssertEqual(fastCache.points, directCache.points)
            for point in directCache.points {
                assertClose(fastCache[point]!, directCache[point]!, rtol: 1e-5, atol: 1e-6, point.name)
            }
        }
    }
}
