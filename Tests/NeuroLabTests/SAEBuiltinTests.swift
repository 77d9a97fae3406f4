import Foundation
import XCTest
import NeuroEngine
import NeuroModels
import NeuroAnalysis
@testable import NeuroLanguage
@testable import NeuroLab

/// `sae`, `features` and `reconstruct` through the language: fields, the
/// splice into a model trained here, and bad input.
final class SAEBuiltinTests: XCTestCase, ScriptTesting {
    func object(_ interpreter: Interpreter, _ name: String) throws -> SAEObject {
        guard case .object(let s as SAEObject)? = interpreter.globals.lookup(name) else { throw XCTSkip("no sae \(name)") }
        return s
    }

    func testTrainsOnATensorAndEncodesWithIt() throws {
        let (interpreter, output) = run("""
        acts = randn([400, 6])
        s = sae(acts, kind: "gated", d_sae: 12, steps: 30, batch: 64)
        f = features(s, acts[0:7])
        x = reconstruct(s, acts[0:7])
        print(s)
        """)
        let s = try object(interpreter, "s")
        XCTAssertEqual(s.sae.config.kind, .gated)
        XCTAssertEqual(s.sae.W_enc.shape, [6, 12])
        XCTAssertEqual(s.metrics?.count, 40, "a tenth held out")
        XCTAssertEqual(s.losses.count, 5, "passes of ⌈360/64⌉ = 6 steps until 30 steps are taken")
        guard case .tensor(let f)? = interpreter.globals.lookup("f"), case .tensor(let x)? = interpreter.globals.lookup("x"),
              case .tensor(let acts)? = interpreter.globals.lookup("acts") else { return XCTFail("no results") }
        XCTAssertEqual(f.shape, [7, 12])
        XCTAssertEqual(x.shape, [7, 6])
        let direct = try s.sae.features(of: acts.slice(axis: 0, start: 0, end: 7))
        for (a, b) in zip(f.toDoubles(), direct.toDoubles()) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
        XCTAssertTrue(output.joined().contains("gated sparse autoencoder 6 → 12"), output.joined(separator: "\n"))
        XCTAssertTrue(output.joined().contains("held out (40 inputs)"))
    }

    /// On a model trained here, the splice's numbers: CE with the SAE between
    /// (or undefined) and the recovered share from them.
    func testSplicedIntoAModelTrainedHere() throws {
        let (interpreter, _) = run("""
        d = modular(op: "+", p: 7, train: 0.8, seed: 1)
        m = transformer(d, layers: 1, heads: 2, d_model: 16, d_mlp: 32, seed: 3)
        train m on d epochs 150 lr 1e-2 wd 0.1
        s = sae(m, d, site: "mlp_post 0", pos: -1, d_sae: 64, steps: 200, batch: 49)
        """)
        let s = try object(interpreter, "s")
        let splice = try XCTUnwrap(s.splice)
        XCTAssertTrue(s.source.contains("blocks.0.mlp.hook_post at position 2 over 49 inputs"), s.source)
        XCTAssertGreaterThan(splice.zeroAblated, splice.clean, "zero-ablating the MLP of a trained model hurts")
        XCTAssertEqual(splice.recovered, (splice.zeroAblated - splice.spliced) / (splice.zeroAblated - splice.clean), accuracy: 1e-12)
        XCTAssertGreaterThanOrEqual(splice.kl, -1e-9)
    }

    func testBadInputIsAClearError() throws {
        let cases: [(String, String)] = [
            ("sae(randn([50, 4]), kind: \"gatd\")", "did you mean 'gated'?"),
            ("sae(randn([50, 4]), d_sae: 0)", "d_sae must be 1 or more"),
            ("sae(randn([50, 4]), d_sae: 1000000000000)", "too large"),
            ("sae(randn([50, 4]), kind: \"topk\", k: 17, d_sae: 16)", "k must be 1 to d_sae (16)"),
            ("sae(randn([50, 4]), k: 3)", "'k' is for kind: \"topk\""),
            ("z = zeros([6, 3])\nsae(z / z)", "activation row 0 holds NaN (column 0)"),
            ("sae(randn([1, 4]))", "at least 2 activation rows"),
            ("sae(randn([50, 4]), holdout: 1)", "'holdout' must be between 0 and 1"),
            ("d = modular(op: \"+\", p: 5)\nm = transformer(d, seed: 1)\nsae(m, d, site: \"pattern 0\")", "one feature axis"),
            ("d = modular(op: \"+\", p: 5)\nm = transformer(d, seed: 1)\nsae(m, d)", "needs site:"),
            ("s = sae(randn([50, 4]), steps: 2)\nfeatures(s, randn([3, 5]))", "must end in d_in = 4"),
        ]
        for (code, message) in cases {
            let error = failure(code)
            XCTAssertTrue(error.contains(message), "\(code): \(error)")
        }
    }
}

extension SAEBuiltinTests {
    /// Saved as a SAELens folder and loaded back: the same features, the hook kept.
    func testSavesAndLoadsSAELensFolders() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sae-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (interpreter, _) = run("""
        d = modular(op: "+", p: 5, seed: 1)
        m = transformer(d, layers: 1, heads: 2, d_model: 8, d_mlp: 16, seed: 3)
        s = sae(m, d, site: "mlp_post 0", d_sae: 32, kind: "jumprelu", steps: 20, batch: 25)
        save(s, "\(folder)")
        u = load("\(folder)")
        x = run(m, d)["mlp_post 0"][:, -1]
        same = (features(u, x) - features(s, x)).abs().max()
        """)
        let u = try object(interpreter, "u")
        XCTAssertEqual(u.sae.config.kind, .jumprelu)
        XCTAssertNil(u.metrics)
        guard case .number(let same)? = interpreter.globals.lookup("same") else { return XCTFail("no comparison") }
        XCTAssertLessThan(same, 1e-4)
        let config = try String(contentsOfFile: folder + "/cfg.json", encoding: .utf8)
        XCTAssertTrue(config.contains("blocks.0.mlp.hook_post"), config)
        XCTAssertTrue(failure("s = sae(randn([50, 4]), steps: 2)\nsave(s, \"/tmp/x.npy\")").contains("saves as a folder in SAELens's layout"))
    }
}

extension SAEBuiltinTests {
    /// A GPT-2-format decoder over texts: every real token trained on, the
    /// next-token loss spliced; held-out curves recorded as training goes.
    func testSplicedIntoADecoderOverTexts() throws {
        let gpt2 = fixturePath("tiny-gpt2")
        let (interpreter, _) = run("""
        g = load("\(gpt2)")
        s = sae(g, ["the model knows the text", "a cat and the garden", "what the network learned"], site: "mlp_post 0", d_sae: 64, steps: 30, batch: 8)
        """)
        let s = try object(interpreter, "s")
        let splice = try XCTUnwrap(s.splice, "a decoder with a head is spliced")
        XCTAssertTrue(s.source.contains("blocks.0.mlp.hook_post over"), s.source)
        if splice.recovered.isNaN {
            XCTAssertLessThanOrEqual(splice.zeroAblated - splice.clean, 1e-9 * max(1, abs(splice.clean)))
        } else {
            XCTAssertEqual(splice.recovered, (splice.zeroAblated - splice.spliced) / (splice.zeroAblated - splice.clean), accuracy: 1e-12)
        }
        XCTAssertGreaterThanOrEqual(splice.kl, -1e-9)
        XCTAssertFalse(s.curve.isEmpty)
        XCTAssertEqual(s.curve.last?.pass, s.losses.count)
        XCTAssertEqual(s.curve.last?.l0 ?? .nan, s.metrics?.l0 ?? .nan, accuracy: 1e-9, "the last point is the final held-out L0")
        XCTAssertEqual(try s.figure().panels.count, 4)
    }
}

extension SAEBuiltinTests {
    /// One feature: its top inputs are its largest activations, in order,
    /// and its logit effect is its decoder row through W_out and W_U.
    func testOneFeatureUpClose() throws {
        let (interpreter, _) = run("""
        d = modular(op: "+", p: 7, train: 0.8, seed: 1)
        m = transformer(d, layers: 1, heads: 2, d_model: 16, d_mlp: 32, seed: 3)
        s = sae(m, d, site: "mlp_post 0", pos: -1, d_sae: 32, steps: 40, batch: 49)
        x = run(m, d)["mlp_post 0"][:, -1]
        f = features(s, x)
        r = feature(s, 2, k: 3)
        """)
        guard case .object(let r as ResultValue)? = interpreter.globals.lookup("r"), case .tensor(let f)? = interpreter.globals.lookup("f"),
              case .object(let m as ModelObject)? = interpreter.globals.lookup("m") else { return XCTFail("no results") }
        let s = try object(interpreter, "s")
        let column = try f.slice(axis: 1, start: 2, end: 3).toDoubles()
        let expected = column.filter { $0 > 0 }.sorted(by: >).prefix(3)
        guard case .list(let top)? = r.fields["top"] else { return XCTFail("no top") }
        let activations = top.compactMap { item -> Double? in
            if case .record(let record) = item, case .number(let v)? = record["activation"] { return v }
            return nil
        }
        XCTAssertEqual(activations.count, expected.count)
        for (a, b) in zip(activations, expected) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        let direction = try s.sae.W_dec.detached().slice(axis: 0, start: 2, end: 3) * (1 / s.sae.inputScale)
        let path = try XCTUnwrap(m.model.parameter("blocks.0.mlp.W_out")).matmul(XCTUnwrap(m.model.parameter("unembed.W_U")))
        let effect = try direction.matmul(path).toDoubles()
        guard case .tensor(let given)? = r.fields["logit_effect"] else { return XCTFail("no logit effect") }
        for (a, b) in zip(given.toDoubles(), effect) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertTrue(failure("s = sae(randn([50, 4]), steps: 2)\nfeature(s, 16)").contains("feature 16 is out of range"))
    }
}
