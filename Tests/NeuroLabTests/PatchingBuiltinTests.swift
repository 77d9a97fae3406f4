import XCTest
import NeuroEngine
import NeuroModels
import NeuroAnalysis
@testable import NeuroLanguage
@testable import NeuroLab

/// `sweep`, `attribute`, `path_patch` and `pc_ablate` in the language: the
/// results they make, that they agree with the Swift API, and their errors.
final class PatchingBuiltinTests: XCTestCase {
    static let setup = """
        data = modular(p: 7, train: 0.5, seed: 1)
        model = transformer(data, layers: 1, heads: 2, d_model: 16, d_mlp: 32, seed: 0)
        use model on data
        """

    /// Runs the setup and `code`; the interpreter, and the error's message if any.
    func run(_ code: String) -> (Interpreter, String?) { runSnippet(PatchingBuiltinTests.setup + "\n" + code) }

    func result(_ code: String) throws -> ResultValue {
        let (interpreter, error) = run("r = " + code)
        XCTAssertNil(error, code)
        guard case .object(let r as ResultValue)? = interpreter.globals.lookup("r") else { throw EngineError(.argument, "\(code): not a result") }
        return r
    }

    func testResultsHaveTheirKindShapeAndAxes() throws {
        let cases: [(code: String, kind: String, shape: [Int], axes: [String])] = [
            ("sweep(\"resid_pre\", with: corrupt(a + 1))", "sweep", [1, 3], ["layer", "pos"]),
            ("sweep(\"z\", with: corrupt(a + 1), by: \"layer,pos,head\")", "sweep", [1, 3, 2], ["layer", "pos", "head"]),
            ("sweep(\"every_head\", with: corrupt(a + 1))", "sweep", [5, 1, 2], ["site", "layer", "head"]),
            ("sweep(\"every_head\", with: corrupt(b + 2), by: \"layer × pos × head\", direction: \"noise\")", "sweep", [5, 1, 3, 2],
             ["site", "layer", "pos", "head"]),
            ("sweep(\"every_block\", with: corrupt(a + 1), metric: \"loss\")", "sweep", [3, 1, 3], ["site", "layer", "pos"]),
            ("sweep(\"mlp_post 0\", with: corrupt(a + 1), by: \"neuron\")", "sweep", [32], ["neuron"]),
            ("sweep(\"pattern\", with: corrupt(a + 1), by: \"layer head dest_pos src_pos\")", "sweep", [1, 2, 3, 3],
             ["layer", "head", "dest_pos", "src_pos"]),
            ("sweep(\"embed\", with: corrupt(a + 1), by: \"\")", "sweep", [], []),
            ("attribute(\"every_head\", with: corrupt(a + 1))", "attribution", [5, 1, 2], ["site", "layer", "head"]),
            ("attribute(\"z\", with: corrupt(a + 1), by: \"layer,pos,head\", check: false)", "attribution", [1, 3, 2], ["layer", "pos", "head"]),
        ]
        for c in cases {
            let r = try result(c.code)
            XCTAssertEqual(r.kind, c.kind, c.code)
            guard case .tensor(let values)? = try r.field("values"), case .tensor(let normalized)? = try r.field("normalized"),
                  case .list(let axes)? = try r.field("axes") else { XCTFail(c.code); continue }
            XCTAssertEqual(values.shape, c.shape, c.code)
            XCTAssertEqual(normalized.shape, c.shape, c.code)
            XCTAssertEqual(r.mainTensor?.shape, c.shape, c.code)
            XCTAssertEqual(axes.map { Formatter.printed($0) }, c.axes, c.code)
            XCTAssertTrue(r.summary.hasPrefix(c.kind == "sweep" ? "patching " : "attribution of "), r.summary)
        }
        let checked = try result("attribute(\"every_block\", with: corrupt(a + 1))")
        XCTAssertNotNil(try checked.field("correlation"))
        XCTAssertNotNil(try checked.field("actual"))
    }

    /// The built-in gives the numbers the Swift API gives for the same inputs.
    func testSweepMatchesTheSwiftAPI() throws {
        let (interpreter, error) = run("s = sweep(\"z\", with: corrupt(a + 1), by: \"layer,pos,head\")")
        XCTAssertNil(error)
        guard case .object(let s as ResultValue)? = interpreter.globals.lookup("s"), case .tensor(let values)? = try s.field("values"),
              let model = interpreter.session.model?.model, let data = interpreter.session.data?.dataset else {
            return XCTFail("no sweep")
        }
        let corrupted = try data.tokens(fields: [data.fieldValues[0].map { ($0 + 1) % 7 }, data.fieldValues[1]])
        let direct = try ActivationPatching(model, clean: data.tokens, corrupted: corrupted, metric: PatchingMetric(.logitDiff, labels: data.labels))
            .sweep([.headsByPosition(.z)])
        XCTAssertEqual(values.toDoubles(), direct.values.toDoubles())
    }

    func testPathPatchAndComponentAblation() throws {
        // Every reader of the embedding as receiver: the ordinary patch of the embedding.
        let path = try result("path_patch(sender: \"embed\", receiver: [\"q 0\", \"k 0\", \"v 0\", \"mlp 0\", \"logits\"], with: corrupt(a + 1))")
        let whole = try result("sweep(\"embed\", with: corrupt(a + 1), by: \"\")")
        guard case .number(let patched)? = try path.field("patched"), case .tensor(let value)? = try whole.field("values") else {
            return XCTFail("missing fields")
        }
        XCTAssertEqual(patched, try value.item(), accuracy: 1e-5)
        XCTAssertEqual(path.kind, "path_patch")
        XCTAssertTrue(path.summary.hasPrefix("path patching embed → q 0, k 0, v 0, mlp 0, logits"), path.summary)

        let pc = try result("pc_ablate(\"resid_post 0\", components: [0, 1, 2], pos: 2)")
        XCTAssertEqual(pc.kind, "pc_ablation")
        guard case .list(let broken)? = try pc.field("broken") else { return XCTFail("no broken list") }
        XCTAssertEqual(pc.rows.count, broken.count)
        XCTAssertEqual(pc.header, ["a", "b", "label", "before", "after"])
        XCTAssertEqual(pc.mainTensor?.shape, [broken.count, 2])
        if case .record(let first)? = broken.first { XCTAssertEqual(first.keys, ["a", "b", "label"]) }
    }

    func testMistakesAreNamed() {
        let cases: [(code: String, message: String)] = [
            ("sweep(\"resid_pre\")", "sweep: needs 'with: corrupt(…)', the inputs that differ from the clean ones"),
            ("sweep(\"z\", with: corrupt(a + 1), by: \"layer,poss\")",
             "sweep: unknown axis 'poss'; did you mean 'pos'? (layer, pos, head, dest_pos, src_pos, neuron)"),
            ("sweep(\"resid_pre\", with: corrupt(a + 1), by: \"layer,head\")", "sweep: resid_pre [batch, pos, d_model] has no 'head' axis"),
            ("sweep(\"every_head\", with: corrupt(a + 1), by: \"pos\")", "sweep: every_head sweeps by \"layer,head\" or \"layer,pos,head\""),
            ("sweep(\"z\", with: corrupt(a + 1), direction: \"sideways\")",
             "sweep: unknown direction 'sideways' (denoise: run corrupted, patch in clean; noise: the reverse)"),
            ("sweep(\"z\", with: corrupt(a + 1), metric: \"kl\")", "sweep: unknown metric 'kl' (accuracy, loss, logit_diff)"),
            ("attribute(\"resid_pre\", with: corrupt(a + 1), metric: \"accuracy\")",
             "attribute: the metric 'accuracy' has no gradient; use a differentiable one such as logit_diff or loss"),
            ("path_patch(sender: \"z 0\", receiver: \"resid_pre 0\", with: corrupt(a + 1))",
             "path_patch: 'resid_pre 0' cannot receive; a receiver is q, k or v of a layer (\"q 1\"), the MLP of a layer (\"mlp 1\") or \"logits\""),
            ("path_patch(sender: \"z 0\", head: 1, receiver: \"q 0\", with: corrupt(a + 1))",
             "path_patch: q 0 reads the residual stream before z 0 head 1 writes to it; choose a later receiver"),
            ("pc_ablate(\"resid_post 0\", components: [40])",
             "pc_ablate: component 40 does not exist; blocks.0.hook_resid_post has 16 (min of 147 samples and 16 features)"),
        ]
        for c in cases {
            XCTAssertEqual(run(c.code).1, c.message, c.code)
        }
        XCTAssertTrue(run("sweep(\"resid_pree\", with: corrupt(a + 1))").1?.hasPrefix("sweep: unknown hook 'resid_pree'; did you mean") == true)
    }
}
