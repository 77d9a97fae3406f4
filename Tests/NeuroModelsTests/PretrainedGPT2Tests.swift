import XCTest
import Foundation
import NeuroEngine
@testable import NeuroModels

/// A GPT-2 loaded from a Hugging Face folder against Hugging Face's logits and
/// TransformerLens's cache, unprocessed and with TransformerLens's default
/// weight processing (Fixtures/pretrained/make_pretrained_fixtures.py).
final class PretrainedGPT2Tests: XCTestCase {
    typealias S = PretrainedSupport

    func testTinyGPT2LogitsAndEveryHookMatch() throws {
        let model = try Pretrained.load(S.folder("tiny_gpt2"))
        XCTAssertTrue(model is HookedGPT2)
        XCTAssertEqual(model.config.actFn, .geluNew)
        let expected = try S.expected("tiny_gpt2_expected.safetensors")
        let ids = try S.tensor(expected, "input_ids")
        let (logits, cache) = try model.run(ids, cache: .all)
        S.assertClose(logits, try S.tensor(expected, "logits"), "logits")
        try S.assertEveryHook(model, cache, expected)
        let last = try model.run(ids, positions: .last).logits
        S.assertClose(last, try logits.select(axis: 1, index: -1), "last position")
    }

    func testTransformerLensProcessingMatchesWeightsLogitsAndHooks() throws {
        let model = try Pretrained.load(S.folder("tiny_gpt2"), options: PretrainedOptions(processWeights: true))
        XCTAssertEqual(model.config.normalizationType, .layerNormPre)
        let expected = try S.expected("tiny_gpt2_tl_processed_expected.safetensors")
        let weightNames = expected.order.filter { $0.hasPrefix("weights.") }
        XCTAssertFalse(weightNames.isEmpty)
        for key in weightNames {
            let name = String(key.dropFirst("weights.".count))
            guard let ours = model.parameter(name) else { XCTFail("no parameter \(name)"); continue }
            S.assertClose(ours, try S.tensor(expected, key), name, atol: 1e-6)
        }
        XCTAssertEqual(Set(model.parameters.map(\.name)), Set(weightNames.map { String($0.dropFirst("weights.".count)) }))
        let ids = try S.tensor(expected, "input_ids")
        let (logits, cache) = try model.run(ids, cache: .all)
        S.assertClose(logits, try S.tensor(expected, "logits"), "logits")
        try S.assertEveryHook(model, cache, expected)
    }

    func testTiedHeadAndPrefixFreeNames() throws {
        let untied = try S.editedCopy(of: "tiny_gpt2", tensors: { tensors in
            let wte = try XCTUnwrap(tensors.first { $0.0 == "transformer.wte.weight" }?.1)
            tensors = tensors.map { (String($0.0.dropFirst("transformer.".count)), $0.1) } + [("lm_head.weight", try wte.scaled(2))]
        })
        defer { S.remove(untied) }
        let tied = try Pretrained.load(S.folder("tiny_gpt2"))
        let own = try Pretrained.load(untied)
        let ids = try S.tensor(try S.expected("tiny_gpt2_expected.safetensors"), "input_ids")
        let (a, cacheA) = try tied.run(ids, cache: .only([HookPoint(.unembedIn)]))
        let (b, cacheB) = try own.run(ids, cache: .only([HookPoint(.unembedIn)]))
        S.assertClose(try XCTUnwrap(cacheB[HookPoint(.unembedIn)]), try XCTUnwrap(cacheA[HookPoint(.unembedIn)]), "same body")
        S.assertClose(b, try a.scaled(2), "lm_head.weight is used when present")
    }

    func testPaddingMaskGivesTheUnpaddedLogits() throws {
        let model = try Pretrained.load(S.folder("tiny_gpt2"))
        let ids = try S.tensor(try S.expected("tiny_gpt2_expected.safetensors"), "input_ids").slice(axis: 0, start: 0, end: 1)
        let tokens = ids.toInts(), n = tokens.count
        let plain = try model.run(ids).logits                                                   // [1, n, vocab]
        // Left padding (two pad tokens in front) and right padding (two after), with their masks.
        let left = try Tensor(ints: [0, 0] + tokens, shape: [1, n + 2])
        let leftMask = try Tensor(ints: [0, 0] + Array(repeating: 1, count: n), shape: [1, n + 2])
        let right = try Tensor(ints: tokens + [5, 5], shape: [1, n + 2])
        let rightMask = try Tensor(ints: Array(repeating: 1, count: n) + [0, 0], shape: [1, n + 2])
        let (l, leftCache) = try model.run(left, attentionMask: leftMask, cache: .all)
        S.assertClose(try l.slice(axis: 1, start: 2), plain, "left padded")
        let r = try model.run(right, attentionMask: rightMask).logits
        S.assertClose(try r.slice(axis: 1, start: 0, end: n), plain, "right padded")
        // Padding gets no position embedding and, as a query with nothing to attend to, a zero pattern.
        XCTAssertEqual(try leftCache["hook_pos_embed"].select(axis: 1, index: 0).abs().sum().item(), 0)
        XCTAssertEqual(try leftCache["blocks.0.attn.hook_pattern"].select(axis: 2, index: 0).abs().sum().item(), 0)
        XCTAssertThrowsError(try model.run(ids, attentionMask: nil, tokenTypes: ids))
    }

    func testAnalysesSeeAHookedModel() throws {
        let model: any HookedModel = try Pretrained.load(S.folder("tiny_gpt2"))
        let ids = try S.tensor(try S.expected("tiny_gpt2_expected.safetensors"), "input_ids")
        let point = try model.hooks.point(named: "z 1")
        let clean = try model.run(ids).logits
        let ablated = try model.run(ids, hooks: [Hook(point) { x, _ in try x.scaled(0) }]).logits
        XCTAssertGreaterThan(try (clean - ablated).abs().max().item(), 1e-3, "zeroing z changes the logits")
        XCTAssertThrowsError(try model.run(ids, hooks: [Hook(point) { x, _ in try x.slice(axis: 1, start: 1) }]))
        XCTAssertEqual(model.parameter("blocks.0.attn.W_Q")?.shape, [4, 32, 8])
    }
}
