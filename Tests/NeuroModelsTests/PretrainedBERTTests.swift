import XCTest
import Foundation
import NeuroEngine
@testable import NeuroModels

/// A BERT loaded from a Hugging Face folder against Hugging Face's logits and
/// TransformerLens's `HookedEncoder` cache (Fixtures/pretrained/make_pretrained_fixtures.py).
final class PretrainedBERTTests: XCTestCase {
    typealias S = PretrainedSupport

    func inputs(_ file: SafeTensorsFile) throws -> (ids: Tensor, mask: Tensor, types: Tensor) {
        (try S.tensor(file, "input_ids"), try S.tensor(file, "attention_mask"), try S.tensor(file, "token_type_ids"))
    }

    func testTinyBertLogitsAndEveryHookMatchTransformerLens() throws {
        let model = try Pretrained.load(S.folder("tiny_bert"))
        XCTAssertTrue(model is HookedBERT)
        XCTAssertTrue(model.hasHead)
        XCTAssertEqual(model.config.eps, 1e-12)
        XCTAssertEqual(model.config.actFn, .gelu)
        let expected = try S.expected("tiny_bert_expected.safetensors")
        let (ids, mask, types) = try inputs(expected)
        let (logits, cache) = try model.run(ids, attentionMask: mask, tokenTypes: types, cache: .all)
        S.assertClose(logits, try S.tensor(expected, "logits"), "logits")
        try S.assertEveryHook(model, cache, expected)
        // Without gradients or a cache, LayerNorm runs in one pass per row: the same logits.
        let inference = try GradMode.withNoGrad { try model.run(ids, attentionMask: mask, tokenTypes: types).logits }
        S.assertClose(inference, try S.tensor(expected, "logits"), "logits without gradients")
        // Padding keys get -inf scores, and no attention.
        let pattern = try cache["blocks.0.attn.hook_pattern"]                                   // [batch, head, q, k]
        XCTAssertEqual(try pattern.select(axis: 0, index: 1).slice(axis: 2, start: 7).sum().item(), 0)
    }

    func testWithoutHeadOrPrefixTheLogitsAreTheLastHiddenState() throws {
        let folder = try S.editedCopy(of: "tiny_bert", tensors: { tensors in
            tensors = tensors.filter { !$0.0.hasPrefix("cls.") }.map { (String($0.0.dropFirst("bert.".count)), $0.1) }
        })
        defer { S.remove(folder) }
        let model = try Pretrained.load(folder)
        XCTAssertFalse(model.hasHead)
        XCTAssertEqual(model.config.dVocabOut, model.config.dModel)
        let expected = try S.expected("tiny_bert_expected.safetensors")
        let (ids, mask, types) = try inputs(expected)
        let (hidden, cache) = try model.run(ids, attentionMask: mask, tokenTypes: types, cache: .all)
        S.assertClose(hidden, try S.tensor(expected, "last_hidden_state"), "last_hidden_state")
        XCTAssertFalse(model.hookPoints.contains { $0.name.hasPrefix("unembed") || $0.name.hasPrefix("mlm_head") })
        S.assertClose(try cache["blocks.1.hook_normalized_resid_post"], try S.tensor(expected, "cache.blocks.1.hook_normalized_resid_post"), "final")
        // The same through the protocol, without mask or types, on the unpadded row.
        let row = try ids.slice(axis: 0, start: 0, end: 1)
        let plain = try model.run(row).logits
        let typed = try model.run(row, attentionMask: nil, tokenTypes: try Tensor.zeros([1, ids.shape[1]], dtype: .int64)).logits
        S.assertClose(plain, typed, "no types is type 0")
    }

    func testTokenTypesMaskAndShortNames() throws {
        let model = try Pretrained.load(S.folder("tiny_bert"))
        let expected = try S.expected("tiny_bert_expected.safetensors")
        let (ids, mask, types) = try inputs(expected)
        let withTypes = try model.run(ids, attentionMask: mask, tokenTypes: types).logits
        let withoutTypes = try model.run(ids, attentionMask: mask).logits
        XCTAssertGreaterThan(try (withTypes - withoutTypes).abs().max().item(), 1e-3, "token types change row 0")
        XCTAssertEqual(try model.hooks.point(named: "token_type_embed").name, "embed.hook_token_type_embed")
        XCTAssertEqual(try model.hooks.point(named: "normalized_resid_post 1").name, "blocks.1.hook_normalized_resid_post")
        XCTAssertEqual(HookSite.q.dimensions, "[batch, pos, head, d_head]")
        XCTAssertThrowsError(try model.run(ids, attentionMask: try Tensor.ones([2, 3], dtype: .int64))) { error in
            XCTAssertTrue("\(error)".contains("attention mask has shape [2, 3]"), "\(error)")
        }
        XCTAssertThrowsError(try model.run(ids, attentionMask: nil, tokenTypes: try Tensor.full([2, 10], value: 2, dtype: .int64))) { error in
            XCTAssertTrue("\(error)".contains("token type id 2"), "\(error)")
        }
    }

    func testTLNamedWeightsAreTheFilesWeights() throws {
        let model = try Pretrained.load(S.folder("tiny_bert"))
        let file = try SafeTensors.read(S.folder("tiny_bert") + "/model.safetensors")
        let query = try XCTUnwrap(file.tensors["bert.encoder.layer.1.attention.self.query.weight"])       // [h·e, d]
        let wQ = try XCTUnwrap(model.parameter("blocks.1.attn.W_Q"))                                    // [h, d, e]
        XCTAssertEqual(wQ.shape, [4, 32, 8])
        S.assertClose(try wQ.permuted([0, 2, 1]).contiguous().reshaped([32, 32]), query, "W_Q", rtol: 0, atol: 0)
        XCTAssertNotNil(model.parameter("unembed.W_U"))
        XCTAssertEqual(model.parameters.count, 5 + 2 * 16 + 6)
    }

    func testBadFoldersAreErrorsNamingTheProblem() throws {
        func message(_ body: () throws -> Any) -> String {
            do { _ = try body(); return "no error" } catch { return "\(error)" }
        }
        let missing = try S.editedCopy(of: "tiny_bert", tensors: { $0.removeAll { $0.0 == "bert.encoder.layer.1.output.dense.weight" } })
        defer { S.remove(missing) }
        XCTAssertTrue(message { try Pretrained.load(missing) }.contains("missing tensor 'bert.encoder.layer.1.output.dense.weight' [32, 64]"))
        let misshapen = try S.editedCopy(of: "tiny_bert", tensors: { tensors in
            tensors = try tensors.map { $0.0 == "bert.embeddings.LayerNorm.bias" ? ($0.0, try Tensor.zeros([31])) : $0 }
        })
        defer { S.remove(misshapen) }
        XCTAssertTrue(message { try Pretrained.load(misshapen) }.contains("'bert.embeddings.LayerNorm.bias' has shape [31], expected [32]"))
        let llama = try S.editedCopy(of: "tiny_bert", config: { $0["model_type"] = "llama" })
        defer { S.remove(llama) }
        XCTAssertTrue(message { try Pretrained.load(llama) }.contains("model_type 'llama' is not supported (supported: bert, gpt2)"))
        let noField = try S.editedCopy(of: "tiny_bert", config: { $0["hidden_size"] = nil })
        defer { S.remove(noField) }
        XCTAssertTrue(message { try Pretrained.load(noField) }.contains("config.json: missing field 'hidden_size'"))
        XCTAssertTrue(message { try Pretrained.load(NSTemporaryDirectory()) }.contains("no config.json"))
        XCTAssertTrue(message { try Pretrained.load("/no/such/folder") }.contains("not a model folder"))
    }

    /// The real all-MiniLM-L6-v2 (BertModel, no head) against Hugging Face,
    /// when `neuromap fetch all-minilm-l6-v2` has put it in the cache.
    func testMiniLMMatchesHuggingFace() throws {
        let folder = try ModelCache.folder(for: "all-minilm-l6-v2")
        guard try ModelCache.isPresent("all-minilm-l6-v2") else {
            throw XCTSkip("MiniLM is not in the cache (\(folder)); run `\(ModelCache.fetchCommand(for: "all-minilm-l6-v2"))`")
        }
        let started = Date()
        let model = try Pretrained.load(folder)
        let seconds = Date().timeIntervalSince(started)
        XCTAssertLessThan(seconds, 0.5, "MiniLM loads in under 0.5 s")
        XCTAssertFalse(model.hasHead)
        let reference = try S.expected("minilm_reference.safetensors")
        let (ids, mask, types) = (try S.tensor(reference, "input_ids"), try S.tensor(reference, "attention_mask"),
                                  try S.tensor(reference, "token_type_ids"))
        let post = try model.hooks.point(named: "blocks.3.mlp.hook_post")
        let (hidden, cache) = try model.run(ids, attentionMask: mask, tokenTypes: types, cache: .only([post]))
        // And as the benchmarks and scans run it: no gradients, no cache (LayerNorm in one pass per row).
        let inference = try GradMode.withNoGrad { try model.run(ids, attentionMask: mask, tokenTypes: types).logits }
        let real = mask.toInts()
        // Hugging Face's values at padding positions depend on its mask constant; compare real tokens.
        for (name, actual) in [("last_hidden_state", hidden), ("blocks.3.mlp.hook_post", try XCTUnwrap(cache[post])),
                               ("last_hidden_state", inference)] {
            let expected = try S.tensor(reference, name)
            for row in 0..<ids.shape[0] {
                let n = real[(row * ids.shape[1])..<((row + 1) * ids.shape[1])].reduce(0, +)
                S.assertClose(try actual.select(axis: 0, index: row).slice(axis: 0, start: 0, end: n),
                              try expected.select(axis: 0, index: row).slice(axis: 0, start: 0, end: n), "\(name) row \(row)", atol: 1e-5)
            }
        }
    }
}
