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

    /// A one-layer model without LayerNorm, asked only for last-position
    /// logits, folds W_O, W_in, W_out and W_U into its values
    /// (`foldedLastLogits`): logits and every parameter's gradient must equal
    /// the blocks one after the other — with biases that are not zero, ReLU
    /// and GELU, three and four positions, one last token or several, and
    /// without gradients. With LayerNorm nothing is folded; still equal.
    func testFoldedLastPositionMatchesTheBlocks() throws {
        var rng = RandomGenerator(seed: 21)
        let identity = Hook(HookPoint(.embed)) { x, _ in x }   // any hook function takes the blocks' path
        for (act, norm, positions, lastTokens) in [(ActivationFunction.relu, NormalizationType.none, 3, 1), (.gelu, .none, 4, 3),
                                                   (.relu, .none, 3, 5), (.relu, .layerNorm, 3, 1)] {
            let config = try TransformerConfig(nLayers: 1, nHeads: 3, dModel: 12, dHead: 4, dMLP: 40, actFn: act,
                                               normalizationType: norm, dVocab: 12, dVocabOut: 7, nCtx: 4, seed: 5)
            var weights: [String: Tensor] = [:]
            for (name, shape) in HookedTransformer.parameterShapes(config) { weights[name] = try Tensor.randn(shape, std: 0.5, using: &rng) }
            let model = try HookedTransformer(config: config, weights: weights)
            let rows = 40
            var ids: [Int] = []
            for r in 0..<rows {
                for j in 0..<positions - 1 { ids.append((r * (j + 2) + j) % 6) }
                ids.append(6 + r % lastTokens)                                        // the "=" position: one token or several
            }
            let tokens = try Tensor(ints: ids, shape: [rows, positions])
            let labels = try Tensor(ints: (0..<rows).map { $0 % 7 }, shape: [rows])
            XCTAssertEqual(model.foldsAfterAttention(ForwardPass(hooks: [], request: .none, resolver: model.hooks), positions: positions),
                           norm == .none)
            let label = "\(act), \(norm), \(positions) positions, \(lastTokens) last tokens"
            func run(_ hooks: [Hook]) throws -> (logits: Tensor, grads: [[Double]]) {
                let logits = try model.run(tokens, hooks: hooks, positions: .last).logits
                try Metrics.crossEntropy(logits, labels: labels).backward()
                defer { model.parameters.forEach { $0.tensor.zeroGrad(keepBuffer: false) } }
                return (logits, model.parameters.map { $0.tensor.grad?.toDoubles() ?? [] })
            }
            let (folded, blocks) = (try run([]), try run([identity]))
            XCTAssertEqual(folded.logits.shape, [rows, 7])
            assertClose(folded.logits, blocks.logits, rtol: 1e-5, atol: 1e-5, "logits, \(label)")
            for (parameter, (a, b)) in zip(model.parameters, zip(folded.grads, blocks.grads)) {
                XCTAssertFalse(a.isEmpty, "\(parameter.name) has no gradient, \(label)")
                assertClose(a, b, rtol: 1e-4, atol: 1e-5, "d\(parameter.name), \(label)")
            }
            let noGrad = try GradMode.withNoGrad { try model.run(tokens, positions: .last).logits }
            assertClose(noGrad, blocks.logits, rtol: 1e-5, atol: 1e-5, "logits without gradients, \(label)")
            let one = try model.run(tokens.select(axis: 0, index: 2), positions: .last).logits
            assertClose(one, try blocks.logits.select(axis: 0, index: 2), rtol: 1e-5, atol: 1e-5, "one row of tokens, \(label)")
        }
    }

    /// Without gradients or hook functions, block 0 of a model without
    /// LayerNorm folds W_O and W_in into its values (`foldedFirstBlock`):
    /// every cached activation, at every position or the last, and the
    /// logits must equal the blocks one after the other — random non-zero
    /// biases, ReLU and GELU, one layer and two, three and four positions.
    /// With LayerNorm, or gradients recorded, or `hook_result` asked for,
    /// nothing is folded.
    func testFoldedFirstBlockMatchesTheBlocks() throws {
        var rng = RandomGenerator(seed: 33)
        let identity = Hook(HookPoint(.embed)) { x, _ in x }   // any hook function takes the blocks' path
        for (act, norm, layers, positions) in [(ActivationFunction.relu, NormalizationType.none, 1, 3), (.gelu, .none, 2, 4),
                                               (.relu, .layerNorm, 1, 3)] {
            let config = try TransformerConfig(nLayers: layers, nHeads: 3, dModel: 12, dHead: 4, dMLP: 40, actFn: act,
                                               normalizationType: norm, dVocab: 9, dVocabOut: 7, nCtx: 4, seed: 5)
            var weights: [String: Tensor] = [:]
            for (name, shape) in HookedTransformer.parameterShapes(config) { weights[name] = try Tensor.randn(shape, std: 0.25, using: &rng) }
            let model = try HookedTransformer(config: config, weights: weights)
            let ids = (0..<60 * positions).map { i in i % positions == positions - 1 ? 8 : (i / positions * (i % positions + 3) + i) % 8 }
            let tokens = try Tensor(ints: ids, shape: [60, positions])
            let label = "\(act), \(norm), \(layers) layers, \(positions) positions"
            let folds = { (f: ForwardPass) in GradMode.withNoGrad { model.foldsFirstBlock(f, positions: positions) } }
            XCTAssertEqual(folds(ForwardPass(hooks: [], request: .all, resolver: model.hooks)), norm == .none, label)
            XCTAssertFalse(model.foldsFirstBlock(ForwardPass(hooks: [], request: .all, resolver: model.hooks), positions: positions), "gradients on, \(label)")
            XCTAssertFalse(folds(ForwardPass(hooks: [], request: .only([HookPoint(.result, layer: 0)]), resolver: model.hooks)), label)
            let someHooks: Set<HookPoint> = [HookPoint(.mlpPost, layer: 0), HookPoint(.pattern, layer: 0), HookPoint(.residMid, layer: 0)]
            for (request, at) in [(CacheRequest.all, LogitPositions.all), (.all, .last), (.none, .all), (.only(someHooks), .all),
                                  (.atLastPosition(someHooks), .last)] {                             // the last: block 0 trimmed when alone
                let (fast, fastCache) = try GradMode.withNoGrad { try model.run(tokens, cache: request, positions: at) }
                let (direct, directCache) = try GradMode.withNoGrad { try model.run(tokens, hooks: [identity], cache: request, positions: at) }
                assertClose(fast, direct, rtol: 1e-5, atol: 1e-5, "logits, \(label)")
                XCTAssertEqual(fastCache.points, directCache.points, label)
                for point in directCache.points {
                    XCTAssertEqual(fastCache[point]!.shape, directCache[point]!.shape, "\(point.name), \(label)")
                    assertClose(fastCache[point]!, directCache[point]!, rtol: 1e-5, atol: 1e-5, "\(point.name), \(label)")
                }
            }
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
