import Foundation
import XCTest
import NeuroEngine
import NeuroModels
import NeuroAnalysis
@testable import NeuroLanguage
@testable import NeuroLab

/// The residual-stream methods of a cache, the factored circuits and the
/// attribute paths through the language: the method and built-in forms give
/// the analysis's numbers, pretrained GPT-2 and BERT have the paths their
/// weights have, and what a model lacks is a clear error.
final class ResidualBuiltinTests: XCTestCase, ScriptTesting {
    let gpt2 = fixturePath("tiny-gpt2")
    let bert = fixturePath("tiny-bert")

    func literal(_ text: String) -> String { "\"" + text + "\"" }

    func tensor(_ interpreter: Interpreter, _ name: String) throws -> Tensor {
        guard case .tensor(let t)? = interpreter.globals.lookup(name) else { throw XCTSkip("no tensor \(name)") }
        return t
    }

    func testMethodsAndBuiltinsGiveTheAnalysisNumbers() throws {
        let (interpreter, _) = run("""
        data = modular(p: 5, train: 0.6, seed: 1)
        model = transformer(data, layers: 2, heads: 2, d_model: 8, d_mlp: 16, norm: "LN", seed: 2)
        cache = run(model, data)
        a = cache.decompose_resid(apply_ln: true, pos: -1).stack
        b = decompose_resid(cache, apply_ln: true, pos: -1).stack
        attrs = cache.logit_attrs(cache.stack_head_results(pos: -1), tokens: data.labels)
        """)
        guard case .object(let cacheObject as CacheObject)? = interpreter.globals.lookup("cache"),
              case .object(let dataObject as DatasetObject)? = interpreter.globals.lookup("data") else { return XCTFail("no cache") }
        let d = try ResidualDecomposition(cacheObject.cache)
        let expected = try d.decompose(applyLN: true, position: -1).stack
        XCTAssertEqual(try tensor(interpreter, "a").toDoubles(), expected.toDoubles())
        XCTAssertEqual(try tensor(interpreter, "b").toDoubles(), expected.toDoubles())
        let attrs = try d.logitAttributions(d.headResults(position: -1).stack, tokens: dataObject.dataset.labels, position: -1)
        XCTAssertEqual(try tensor(interpreter, "attrs").toDoubles(), attrs.toDoubles())
    }

    func testPretrainedGPT2HasThePathsAndDecomposes() throws {
        let (interpreter, output) = run("""
        g = load(\(literal(gpt2)))
        cache = run(g, "hello world")
        parts = cache.decompose_resid()
        last = cache["resid_post -1"]
        gap = max(abs(sum(parts.stack, axis: 0) - last))
        heads = cache.stack_head_results(pos: -1)
        print(parts.labels[0:3], heads.labels[0:2], g.cfg.original_architecture)
        print(g.blocks[0].attn.W_Q.shape == g.blocks[0].attn.W_K.shape, g.OV.shape == g.QK.shape, g.blocks[-1].attn.OV.shape)
        print(g.embed.W_E.shape == [g.cfg.d_vocab, g.cfg.d_model], g.ln_final.w.shape)
        """)
        guard case .number(let gap)? = interpreter.globals.lookup("gap") else { return XCTFail("no gap") }
        XCTAssertLessThan(gap, 1e-4, "the parts add up to the stream")
        let c = try XCTUnwrap((interpreter.globals.lookup("g").flatMap { if case .object(let m as LanguageModelObject) = $0 { return m } else { return nil } })).model.config
        XCTAssertEqual(output, [
            "[\"embed\", \"pos_embed\", \"0_attn_out\"] [\"L0H0\", \"L0H1\"] gpt2",
            "true true [\(c.nHeads), \(c.dModel), \(c.dModel)]",
            "true [\(c.dModel)]",
        ])
    }

    func testPretrainedBERTHasPathsButDoesNotDecompose() {
        let (_, output) = run("""
        b = load(\(literal(bert)))
        print(b.blocks[0].attn.W_V.shape[0] == b.cfg.n_heads, b.OV.shape[0] == b.cfg.n_layers, b.embed.ln.w.shape == [b.cfg.d_model])
        """)
        XCTAssertEqual(output, ["true true true"])
        let error = failure("b = load(\(literal(bert)))\nc = run(b, \"hello\")\nc.decompose_resid()")
        XCTAssertTrue(error.contains("decompose_resid: this model normalises the residual stream inside each block (post-LayerNorm, as BERT)"), error)
    }

    /// The interventions reach hook_result: mean-ablating or patching one
    /// head's result is doing it to its z (the result is z · W_O, linear),
    /// and zeroing every result leaves b_O alone in attn_out.
    func testInterventionsReachTheHeadResults() {
        let (_, output) = run("""
        data = modular(p: 7, train: 0.6, seed: 1)
        model = transformer(data, layers: 1, heads: 2, d_model: 16, d_mlp: 32, seed: 0)
        train model on data epochs 30 lr 1e-2 wd 1.0
        a = ablate("result 0", head: 1, with: "mean", metric: "loss")
        b = ablate("z 0", head: 1, with: "mean", metric: "loss")
        print(a.site, abs(a.patched - b.patched) < 1e-4 * abs(b.patched), a.patched != a.clean)
        sr = sweep("result 0", with: corrupt(a + 1), by: "pos,head")
        sz = sweep("z 0", with: corrupt(a + 1), by: "pos,head")
        print(sr.values.shape, max(abs(sr.values - sz.values)) < 1e-3)
        off = run(model, data, hooks: {"result 0": fn(x) { x * 0 }}, cache: ["attn_out 0"])
        print(max(abs(off["attn_out 0"] - model.b_O[0])) < 1e-6)
        """)
        XCTAssertEqual(output.suffix(3), ["blocks.0.attn.hook_result true true", "[3, 2] true", "true"])
    }

    func testMisuseIsAClearError() {
        let setup = """
        data = modular(p: 5, train: 0.6, seed: 1)
        model = transformer(data, layers: 1, heads: 2, d_model: 8, d_mlp: 0, seed: 2)
        cache = run(model, data)

        """
        let cases: [(String, String)] = [
            ("model.OV[0, 0, 0]", "takes at most 2 indices"),
            ("model.OV[\"a\"]", "indexed by whole numbers over its leading dimensions [1, 2]"),
            ("model.blocks[2]", "layer 2 is out of range for a model with 1 layer"),
            ("model.blocks.attn", "blocks has no field 'attn'; index it by layer: blocks[0]"),
            ("model.blocks[0].mlp", "blocks.0 has no mlp: it is attention-only (d_mlp 0)"),
            ("model.blocks[0].attn.W_QQ", "module has no field 'W_QQ'; did you mean 'W_Q'"),
            ("cache.decompose_resid(layer: 5)", "decompose_resid: layer 5 is out of range: 0 to 1"),
            ("cache.decompose_resid(pos: 3)", "position 3 is out of range for 3 positions"),
            ("cache.logit_attrs(cache.decompose_resid(), tokens: [9])", "token 9 is outside the output vocabulary 0..<5"),
            ("cache.logit_attrs(cache.decompose_resid(pos: -1))", "missing argument 'tokens'"),
            ("decompose_resid(model)", "'cache' must be a cache (from run), got model"),
            ("factored_matrix(ones([2, 3]), ones([3, 4])).BA", "BA needs a square factored matrix"),
            ("factored_matrix(ones([2, 3]), ones([2, 3]))", "A's columns must match B's rows"),
            ("model.OV[0, 0].matmul(\"x\")", "'other' must be a tensor or a factored matrix, got string"),
        ]
        for (code, fragment) in cases {
            let error = failure(setup + code)
            XCTAssertTrue(error.contains(fragment), "\(code): \(error)")
        }
    }
}
