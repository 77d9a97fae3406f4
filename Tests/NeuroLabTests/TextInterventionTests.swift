import Foundation
import XCTest
import NeuroEngine
import NeuroModels
import NeuroAnalysis
@testable import NeuroLanguage
@testable import NeuroLab

/// `patch`, `ablate` and `hook` on text with the tiny GPT-2 and BERT
/// folders of Fixtures/: the metrics against what `logits` and `tokenize`
/// give, and the rules (same token length, single-token answers, no mean
/// over one text).
final class TextInterventionTests: XCTestCase, ScriptTesting {
    var gpt2: String { folder("tiny-gpt2") }
    var bert: String { folder("tiny-bert") }

    /// A tiny model folder of Fixtures/ (made by make_text_model_fixtures.py), read in place.
    func folder(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
    }

    override func setUpWithError() throws {
        for name in ["tiny-gpt2", "tiny-bert"] where !FileManager.default.fileExists(atPath: folder(name) + "/config.json") {
            throw XCTSkip("the text fixture \(name) is missing from Tests/NeuroLabTests/Fixtures")
        }
    }
    let clean = "The model knows the"
    let corrupted = "The model knows it"

    func number(_ interpreter: Interpreter, _ expression: String, file: StaticString = #filePath, line: UInt = #line) throws -> Double {
        guard case .object(let object)? = interpreter.globals.lookup(String(expression.prefix { $0 != "." })),
              let value = try object.field(String(expression.drop { $0 != "." }.dropFirst())), case .number(let n) = value else {
            XCTFail("\(expression) is not a number", file: file, line: line)
            return .nan
        }
        return n
    }

    func tensor(_ interpreter: Interpreter, _ name: String) throws -> Tensor {
        guard case .tensor(let t)? = interpreter.globals.lookup(name) else { throw XCTSkip("\(name) is not a tensor") }
        return t
    }

    func testPatchingTheWholeResidualStreamOnTextGivesTheCorruptedLogitDiff() throws {
        let (i, output) = run("""
            m = load("\(gpt2)")
            use m on "\(clean)" answer " model" wrong " is"
            r = patch("resid_pre 0", with: "\(corrupted)")
            same = patch("resid_pre 0", with: "\(clean)")
            patch resid_pre 0 with "\(corrupted)"
            a = tokenize(m, " model", prepend_bos: false)
            w = tokenize(m, " is", prepend_bos: false)
            lc = logits(m, "\(clean)")
            lx = logits(m, "\(corrupted)")
            """)
        let answer = try tensor(i, "a").toInts(), wrong = try tensor(i, "w").toInts()
        XCTAssertEqual(answer.count, 1)
        XCTAssertEqual(wrong.count, 1)
        func diff(_ logits: Tensor) -> Double {
            let v = logits.toDoubles(), vocab = logits.shape[2], last = (logits.shape[1] - 1) * vocab
            return v[last + answer[0]] - v[last + wrong[0]]
        }
        let cleanDiff = diff(try tensor(i, "lc")), corruptedDiff = diff(try tensor(i, "lx"))
        XCTAssertGreaterThan(abs(cleanDiff - corruptedDiff), 1e-3, "the corruption must change the metric for this test to mean anything")
        XCTAssertEqual(try number(i, "r.clean"), cleanDiff, accuracy: 1e-4)
        XCTAssertEqual(try number(i, "r.corrupted"), corruptedDiff, accuracy: 1e-4)
        XCTAssertEqual(try number(i, "r.patched"), corruptedDiff, accuracy: 1e-4, "the whole residual stream carries the corrupted run")
        XCTAssertEqual(try number(i, "r.effect"), 1, accuracy: 1e-3)
        XCTAssertEqual(try number(i, "same.patched"), cleanDiff, accuracy: 1e-4, "patching with the clean text itself changes nothing")
        XCTAssertTrue(output.contains { $0.contains("blocks.0.hook_resid_pre ← \"\(corrupted)\": clean logit diff") && $0.contains("on \"\(clean)\"") },
                      output.joined(separator: "\n"))
        guard case .object(let same as InterventionObject)? = i.globals.lookup("same") else { return XCTFail("no result") }
        XCTAssertTrue(same.summary.contains(NormalizedEffect.undefinedText), same.summary)
    }

    func testNextTokenLossIsTheDefaultForADecoder() throws {
        let (i, _) = run("""
            m = load("\(gpt2)")
            r = patch("resid_pre 0", model: m, on: "\(clean)", with: "\(corrupted)")
            z = ablate("resid_pre 1", model: m, on: "\(clean)", with: "zero")
            ids = tokenize(m, "\(clean)")
            l = logits(m, "\(clean)")
            """)
        let ids = try tensor(i, "ids").toInts(), logits = try tensor(i, "l")
        let v = logits.toDoubles(), vocab = logits.shape[2]
        var total = 0.0
        for t in 0..<(ids.count - 1) {
            let row = v[(t * vocab)..<((t + 1) * vocab)]
            let top = row.max()!
            total += top + log(row.reduce(0) { $0 + exp($1 - top) }) - row[row.startIndex + ids[t + 1]]
        }
        XCTAssertEqual(try number(i, "r.clean"), total / Double(ids.count - 1), accuracy: 1e-4, "mean next-token cross-entropy")
        XCTAssertEqual(try number(i, "r.patched"), try number(i, "r.corrupted"), accuracy: 1e-4)
        XCTAssertEqual(try number(i, "z.clean"), try number(i, "r.clean"), accuracy: 1e-9)
        XCTAssertGreaterThan(abs(try number(i, "z.patched") - (try number(i, "z.clean"))), 1e-3, "zero-ablating the residual stream changes the loss")
        XCTAssertEqual(try number(i, "z.effect"), try number(i, "z.patched") - (try number(i, "z.clean")), accuracy: 1e-12, "worse is positive for loss")
    }

    func testHookAndAblationOnText() throws {
        let (i, output) = run("""
            m = load("\(gpt2)")
            use m on "\(clean)" answer " model" wrong " is"
            same = hook("post 0", with: fn(x) { x })
            zeroed = hook("post 0", with: fn(x) { x * 0 })
            z = ablate("post 0", with: "zero")
            use m on ["\(clean)", "\(corrupted)"] answer " model" wrong " is"
            mean = ablate("post 0", with: "mean")
            ablate post 0 with mean
            """)
        XCTAssertEqual(try number(i, "same.patched"), try number(i, "same.clean"), accuracy: 1e-5)
        XCTAssertEqual(try number(i, "zeroed.patched"), try number(i, "z.patched"), accuracy: 1e-5, "a hook returning zeros is zero-ablation")
        XCTAssertGreaterThan(abs(try number(i, "z.patched") - (try number(i, "z.clean"))), 1e-4)
        XCTAssertTrue(output.contains { $0.contains("blocks.0.mlp.hook_post: clean logit diff") && $0.contains("mean-ablated") && $0.contains("on 2 texts") },
                      output.joined(separator: "\n"))
        _ = try number(i, "mean.patched")
    }

    func testCosineOnAnEncoderIsOneForTheCleanRun() throws {
        let (i, output) = run("""
            b = load("\(bert)")
            use b on "the model knows the text"
            same = patch("resid_pre 0", with: "the model knows the text")
            z = ablate("post 0", with: "zero")
            ablate post 0 with zero
            """)
        XCTAssertEqual(try number(i, "same.clean"), 1, accuracy: 1e-9)
        XCTAssertEqual(try number(i, "same.patched"), 1, accuracy: 1e-5)
        XCTAssertEqual(try number(i, "z.clean"), 1, accuracy: 1e-9)
        XCTAssertLessThan(try number(i, "z.patched"), 0.9999)
        XCTAssertTrue(output.contains { $0.contains("clean cosine 1") && $0.contains("(clean = 1)") }, output.joined(separator: "\n"))
    }

    func testTextErrorsAreClear() {
        let setup = "m = load(\"\(gpt2)\")\nuse m on \"\(clean)\" answer \" model\" wrong \" is\"\n"
        let lengths = failure(setup + "patch(\"resid_pre 0\", with: \"The model knows it very well\")")
        XCTAssertTrue(lengths.contains("the corrupted text has") && lengths.contains("but the clean text has 5"), lengths)
        let mean = failure(setup + "ablate(\"post 0\", with: \"mean\")")
        XCTAssertTrue(mean.contains("use zero, or give a list of texts"), mean)
        let answer = failure("m = load(\"\(gpt2)\")\nuse m on \"\(clean)\" answer \" modelled\" wrong \" is\"")
        XCTAssertTrue(answer.contains("'answer' must be a single token, but \" modelled\" is"), answer)
        let head = failure("b = load(\"\(bert)\")\npatch(\"resid_pre 0\", model: b, on: \"the text\", with: \"the cat\", metric: \"loss\")")
        XCTAssertTrue(head.contains("no language-model head, so no logits for loss"), head)
        let metric = failure(setup + "patch(\"resid_pre 0\", with: \"\(corrupted)\", metric: \"logitdiff\")")
        XCTAssertTrue(metric.contains("did you mean 'logit_diff'"), metric)
    }

    func testSweepAttributeAndReplaceOnText() throws {
        let (i, _) = run("""
            m = load("\(gpt2)")
            use m on "\(clean)" answer " model" wrong " is"
            s = sweep("resid_pre", with: replace(" the", " it"), by: "layer,pos")
            a = attribute("resid_pre", with: "\(corrupted)", by: "layer,pos")
            p = patch("resid_pre 0", with: replace(" the", " it"))
            """)
        guard case .object(let sweep as ResultValue)? = i.globals.lookup("s"), case .tensor(let values)? = sweep.fields["values"],
              case .number(let clean)? = sweep.fields["clean"], case .number(let corrupted)? = sweep.fields["corrupted"] else {
            return XCTFail("no sweep result")
        }
        XCTAssertEqual(values.shape, [2, 5])
        let v = values.toDoubles()
        // Denoising: the clean first residual stream at the one position that differs restores the clean run.
        XCTAssertEqual(v[4], clean, accuracy: 1e-4)
        for p in 0..<4 { XCTAssertEqual(v[p], corrupted, accuracy: 1e-4, "pos \(p)") }
        XCTAssertEqual(try number(i, "p.clean"), clean, accuracy: 1e-4)
        XCTAssertEqual(try number(i, "p.corrupted"), corrupted, accuracy: 1e-4, "replace(\" the\", \" it\") is the corrupted text")
        guard case .object(let attribution as ResultValue)? = i.globals.lookup("a"), case .number(let r)? = attribution.fields["correlation"] else {
            return XCTFail("no attribution result")
        }
        XCTAssertTrue(r.isFinite)
        let missing = failure("m = load(\"\(gpt2)\")\npatch(\"resid_pre 0\", model: m, on: \"\(clean)\", with: replace(\" cat\", \" dog\"))")
        XCTAssertTrue(missing.contains("\" cat\" does not occur in the clean text"), missing)
    }

    func testAnArithmeticUseEndsTheTextTarget() throws {
        let (i, _) = run("""
            m = load("\(gpt2)")
            use m on "\(clean)"
            data = modular(op: "+", p: 5)
            model = transformer(data, layers: 1, heads: 1, d_model: 8, d_mlp: 16)
            use model on data
            r = ablate("mlp_post 0", with: "zero")
            """)
        guard case .object(let r as InterventionObject)? = i.globals.lookup("r") else { return XCTFail("no result") }
        XCTAssertEqual(r.result.metric, .labels(.accuracy))
        XCTAssertNil(i.session.textTarget)
    }
}
