import XCTest
import NeuroTestSupport
@testable import NeuroAnalysis
@testable import NeuroModels
import NeuroEngine

/// The residual stream taken apart, against TransformerLens 3.9's
/// `ActivationCache` on the same weights and tokens
/// (Fixtures/make_residual_fixtures.py writes tl_residual_<case>.safetensors):
/// `hook_result`, `decompose_resid`, `accumulated_resid`,
/// `stack_head_results` (stacks and labels, with and without `apply_ln`) and
/// `logit_attrs`, on a LayerNorm model, an LNPre attention-only one and one
/// without normalisation.
final class ResidualDecompositionTests: XCTestCase {
    static let cases = ["small", "attn_only", "plain"]

    struct Case {
        let name: String
        let file: SafeTensorsFile
        let model: HookedTransformer
        let cache: ActivationCache
        var decomposition: ResidualDecomposition { get throws { try ResidualDecomposition(cache) } }

        func expected(_ key: String) throws -> Tensor {
            guard let t = file.tensors[key] else { throw EngineError(.argument, "\(name): fixture has no '\(key)'") }
            return t
        }

        func labels(_ key: String) -> [String] {
            (file.metadata[key] ?? "").split(separator: ",").map(String.init)
        }
    }

    /// The model of a fixture, run on its tokens with everything cached.
    static func load(_ name: String, cache request: CacheRequest = .all) throws -> Case {
        let file = try SafeTensors.read(fixturePath("tl_residual_\(name).safetensors"))
        let m = file.metadata
        func int(_ key: String) throws -> Int {
            guard let text = m[key], let value = Int(text) else { throw EngineError(.argument, "\(name): no metadata '\(key)'") }
            return value
        }
        let norm = NormalizationType(rawValue: m["normalization_type"] ?? "") ?? .none
        let config = try TransformerConfig(nLayers: int("n_layers"), nHeads: int("n_heads"), dModel: int("d_model"), dHead: int("d_head"),
                                           dMLP: m["attn_only"] == "true" ? 0 : int("d_mlp"),
                                           actFn: ActivationFunction(rawValue: m["act_fn"] ?? "") ?? .relu,
                                           normalizationType: norm, dVocab: int("d_vocab"), dVocabOut: int("d_vocab_out"), nCtx: int("n_ctx"))
        var weights: [String: Tensor] = [:]
        for (key, tensor) in file.tensors where key.hasPrefix("model.") { weights[String(key.dropFirst(6))] = tensor }
        let model = try HookedTransformer(config: config, weights: weights)
        guard let tokens = file.tensors["tokens"] else { throw EngineError(.argument, "\(name): no tokens") }
        let (_, cache) = try GradMode.withNoGrad { try model.run(tokens, cache: request) }
        return Case(name: name, file: file, model: model, cache: cache)
    }

    func check(_ actual: ResidualStack, _ c: Case, _ key: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(actual.labels, c.labels(key), "\(c.name) \(key) labels", file: file, line: line)
        assertClose(actual.stack, try c.expected(key), rtol: 1e-4, atol: 1e-5, "\(c.name) \(key)", file: file, line: line)
    }

    // MARK: - hook_result

    func testHookResultMatchesTransformerLensAndSumsToAttnOut() throws {
        for name in Self.cases {
            let base = try Self.load(name)
            let nLayers = base.model.config.nLayers
            let results = (0..<nLayers).map { HookPoint(.result, layer: $0) }
            let outs = (0..<nLayers).map { HookPoint(.attnOut, layer: $0) }
            let (_, cache) = try base.model.run(try base.expected("tokens"), cache: .only(Set(results + outs)))
            for l in 0..<nLayers {
                let result = try XCTUnwrap(cache[results[l]])
                assertClose(result, try base.expected("result.\(l)"), rtol: 1e-4, atol: 1e-5, "\(name) result \(l)")
                let bO = try XCTUnwrap(base.model.parameter("blocks.\(l).attn.b_O"))
                assertClose(try result.sum(axes: [2]) + bO, try XCTUnwrap(cache[outs[l]]), rtol: 1e-4, atol: 1e-5, "\(name) sum of heads + b_O")
            }
        }
    }

    func testHookResultIsOnlyComputedWhenAskedFor() throws {
        let c = try Self.load("small")
        XCTAssertNil(c.cache[HookPoint(.result, layer: 0)], "caching everything leaves hook_result out, as TransformerLens without use_attn_result")
        XCTAssertFalse(c.model.hookPoints.contains(HookPoint(.result, layer: 0)))
        XCTAssertEqual(try c.model.hooks.point(named: "result 1"), HookPoint(.result, layer: 1))
        XCTAssertEqual(try c.model.hooks.point(named: "blocks.0.attn.hook_result"), HookPoint(.result, layer: 0))
        XCTAssertEqual(try c.model.hooks.point(short: "result", layer: -1), HookPoint(.result, layer: 1))
        assertThrows("did you mean 'result 0'") { try c.model.hooks.point(named: "reslt 0") }
        XCTAssertNil(HookResolver.problem(spelling: "result 3"), "neuromap check knows the name")
        // The head decomposition computed from z agrees with the one the run records.
        assertClose(try c.decomposition.headResult(layer: 1), try c.expected("result.1"), rtol: 1e-4, atol: 1e-5, "from z")
    }

    func testAHookOnTheResultChangesAttnOut() throws {
        let c = try Self.load("small")
        let tokens = try c.expected("tokens")
        // Zero head 1 of layer 0: attn_out is then head 0's result plus b_O, and what follows changes.
        let point = HookPoint(.result, layer: 0)
        let hook = Hook(point) { x, _ in
            let keep = try Tensor([1, 0], shape: [1, 1, 2, 1])
            return try x * keep
        }
        let out0 = HookPoint(.attnOut, layer: 0), post = HookPoint(.residPost, layer: 1)
        let (logits, hooked) = try c.model.run(tokens, hooks: [hook], cache: .only([point, out0, post]))
        let head0 = try c.expected("result.0").select(axis: 2, index: 0)
        let bO = try XCTUnwrap(c.model.parameter("blocks.0.attn.b_O"))
        assertClose(try XCTUnwrap(hooked[out0]), try head0 + bO, rtol: 1e-4, atol: 1e-5, "attn_out after the hook")
        assertClose(try XCTUnwrap(hooked[point]).select(axis: 2, index: 1), try Tensor.zeros([3, 4, 8]), "the cache sees the replacement")
        let clean = try c.model(tokens)
        let change = zip(logits.toDoubles(), clean.toDoubles()).map { Swift.abs($0 - $1) }.max() ?? 0
        XCTAssertGreaterThan(change, 1e-3, "the logits change")
        // A trimmed last-position run still hooks every head of the last block.
        let last = HookPoint(.result, layer: 1)
        let seen = Hook(last) { x, _ in
            XCTAssertEqual(x.shape, [3, 4, 2, 8])
            return x
        }
        _ = try c.model.run(tokens, hooks: [seen], positions: .last)
    }

    // MARK: - Stacks

    func testDecomposeResid() throws {
        for name in Self.cases {
            let c = try Self.load(name)
            let d = try c.decomposition
            try check(try d.decompose(), c, "decompose.all")
            try check(try d.decompose(applyLN: true), c, "decompose.all_ln")
            try check(try d.decompose(layer: 1, mode: .attn), c, "decompose.attn_l1")
            try check(try d.decompose(mode: .mlp, position: -1), c, "decompose.mlp_pos")
            try check(try d.decompose(layer: 1, applyLN: true, includeEmbeddings: false), c, "decompose.noembed_ln")
            // The parts add up to the stream.
            let whole = try d.decompose().stack.sum(axes: [0])
            let final = try XCTUnwrap(c.cache[HookPoint(.residPost, layer: c.model.config.nLayers - 1)])
            assertClose(whole, final, rtol: 1e-4, atol: 1e-5, "\(name) sum of the parts")
        }
    }

    func testAccumulatedResid() throws {
        for name in Self.cases {
            let c = try Self.load(name)
            let d = try c.decomposition
            try check(try d.accumulated(), c, "accumulated.all")
            try check(try d.accumulated(applyLN: true), c, "accumulated.all_ln")
            try check(try d.accumulated(layer: 1, applyLN: true, position: -1), c, "accumulated.l1_ln")
            if c.model.config.attentionOnly {
                assertThrows("attention-only: it has no resid_mid") { try d.accumulated(layer: 1, includeMid: true) }
            } else {
                try check(try d.accumulated(layer: 1, includeMid: true), c, "accumulated.l1_mid")
            }
        }
    }

    func testStackHeadResults() throws {
        for name in Self.cases {
            let c = try Self.load(name)
            let d = try c.decomposition
            try check(try d.headResults(), c, "heads.all")
            try check(try d.headResults(applyLN: true), c, "heads.all_ln")
            try check(try d.headResults(layer: 1, position: -1), c, "heads.l1_pos")
            let empty = try d.headResults(layer: 0)
            XCTAssertEqual(empty.stack.shape, [0, 3, 4, c.model.config.dModel])
            XCTAssertEqual(empty.labels, [])
            // With the remainder the rows add up to the stream after the last block.
            let all = try d.headResults(includeRemainder: true)
            XCTAssertEqual(all.labels.last, "remainder")
            let final = try XCTUnwrap(c.cache[HookPoint(.residPost, layer: c.model.config.nLayers - 1)])
            assertClose(try all.stack.sum(axes: [0]), final, rtol: 1e-4, atol: 1e-5, "\(name) heads + remainder")
        }
    }

    func testLogitAttributions() throws {
        for name in Self.cases {
            let c = try Self.load(name)
            let d = try c.decomposition
            let answer = try c.expected("answer"), wrong = try c.expected("wrong")
            let parts = try d.decompose(position: -1)
            assertClose(try d.logitAttributions(parts.stack, tokens: answer, incorrect: wrong, position: -1),
                        try c.expected("logit_attrs.diff"), rtol: 1e-4, atol: 1e-5, "\(name) logit_attrs diff")
            let heads = try d.headResults(position: -1)
            assertClose(try d.logitAttributions(heads.stack, tokens: answer, position: -1),
                        try c.expected("logit_attrs.answer"), rtol: 1e-4, atol: 1e-5, "\(name) logit_attrs answer")
        }
    }

    // MARK: - Errors

    func testErrorsNameWhatIsMissing() throws {
        let c = try Self.load("small")
        let d = try c.decomposition
        assertThrows("layer 3 is out of range: 0 to 2") { try d.decompose(layer: 3) }
        assertThrows("position 7 is out of range for 4 positions") { try d.accumulated(position: 7) }
        assertThrows("token 10 is outside the output vocabulary 0..<10") {
            try d.logitAttributions(d.decompose(position: -1).stack, tokens: Tensor(ints: [10, 0, 0], shape: [3]), position: -1)
        }
        assertThrows("must have the same shape") {
            try d.logitAttributions(d.decompose(position: -1).stack, tokens: Tensor(ints: [1, 0, 0], shape: [3]),
                                    incorrect: Tensor(ints: [1], shape: [1]), position: -1)
        }
        assertThrows("tokens [3] do not match the stack [6, 3, 4, 8]: give one token, or one per [3, 4]") {
            try d.logitAttributions(d.decompose().stack, tokens: Tensor(ints: [1, 0, 0], shape: [3]))
        }
        XCTAssertEqual(try d.logitAttributions(d.decompose().stack, tokens: Tensor(ints: [2], shape: [])).shape, [6, 3, 4], "one token for every row")
        let partial = try Self.load("small", cache: .only([HookPoint(.embed), HookPoint(.posEmbed)]))
        assertThrows("decompose_resid: needs 'blocks.0.hook_attn_out' in the cache") { try partial.decomposition.decompose() }
        assertThrows("needs 'blocks.0.attn.hook_z' (or 'blocks.0.attn.hook_result') in the cache") { try partial.decomposition.headResults() }
        assertThrows("does not know the model") { try ResidualDecomposition(ActivationCache(resolver: c.model.hooks)) }
    }
}
