import Foundation
import XCTest
@testable import NeuroLanguage
import NeuroLab

/// `neuromap check`: what it finds without running, with exact messages and
/// places, that a run says the same, and that nothing valid is flagged.
final class NameCheckTests: XCTestCase {
    private static let model = """
        data = modular(p: 5, train: 0.5, seed: 1)
        model = transformer(data, layers: 1, heads: 1, d_model: 8, d_mlp: 16, seed: 0)
        use model on data

        """

    private func interpreter() -> Interpreter {
        let interpreter = NeuroLab.makeInterpreter()
        XCTAssertEqual(interpreter.loadStandardLibrary(), [])
        interpreter.output = { _ in }
        return interpreter
    }

    /// `LINE:COL message` for each problem.
    private func check(_ source: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        let parsed = NeuroLab.parse(source)
        XCTAssertEqual(parsed.diagnostics.map(\.description), [], "does not parse", file: file, line: line)
        return NameCheck.unresolved(parsed.program, interpreter: interpreter(), source: source).map { "\($0.range.start) \($0.message)" }
    }

    /// The message a run stops with.
    private func runtimeMessage(_ source: String) -> String? {
        let interpreter = interpreter()
        do {
            _ = try onLargeStack { try interpreter.run(NeuroLab.parse(source).program) }
            return nil
        } catch let error as RuntimeError {
            return error.message
        } catch {
            return "\(error)"
        }
    }

    // MARK: - Arguments

    func testUnknownArgumentsOfBuiltins() {
        XCTAssertEqual(check("zeros([2], shap: [3])"), ["1:12 zeros: unknown argument 'shap'; did you mean 'shape'?"])
        XCTAssertEqual(check("x = zeros([2])\nprint(mean(x, dim: 0))"), ["2:15 mean: unknown argument 'dim'; NeuroMap calls it 'axis' (axis: …)"])
        XCTAssertEqual(check("print(1, sep: \" \")"), ["1:10 print: unknown argument 'sep' (it takes no named arguments)"])
        XCTAssertEqual(check("m = modular(p: 7,\n    trian: 0.3)"), ["2:5 modular: unknown argument 'trian'; did you mean 'train'?"])
    }

    /// A command's words are its named arguments: `epoch` is one `train` does not take.
    func testCommandWords() {
        let source = NameCheckTests.model + "train model on data epoch 10 lr 1e-3\n"
        XCTAssertEqual(check(source), ["4:21 train: unknown argument 'epoch'; did you mean 'epochs'?"])
        let parsed = NeuroLab.parse(source)
        let rendered = NameCheck.unresolved(parsed.program, interpreter: interpreter(), source: source).map { $0.render(file: "t.nmap", source: source) }
        XCTAssertEqual(rendered, ["""
            t.nmap:4:21: error: train: unknown argument 'epoch'; did you mean 'epochs'?
              train model on data epoch 10 lr 1e-3
                                  ^^^^^

            """])
    }

    func testUserFunctions() {
        XCTAssertEqual(check("""
            fn scale(x, factor: 2) { x * factor }
            scale(3, facter: 4)
            scale(1, 2, 3)
            scale()
            scale(factor: 1)
            print(scale(1), scale(1, 2), scale(x: 1, factor: 3))
            """), [
                "2:10 scale() has no parameter 'facter'; did you mean 'factor'?",
                "3:13 scale() takes 2 arguments, got 3",
                "4:1 scale() is missing argument 'x'",
                "5:1 scale() is missing argument 'x'",
            ])
        XCTAssertEqual(check("print(pad(\"a\"))"), ["1:7 pad() is missing argument 'width'"], "standard-library functions are known too")
        XCTAssertEqual(check("fn outer() {\n    fn inner(a) { a }\n    inner(1, 2)\n}"), ["3:14 inner() takes 1 argument, got 2"])
    }

    func testArgumentsGivenTwiceOrOutOfOrder() {
        XCTAssertEqual(check("zeros([2], shape: [2], shape: [3])"), ["1:24 argument 'shape' is given twice"])
        XCTAssertEqual(check("m = modular(p: 7, \"+\")"), ["1:19 positional arguments must come before named ones"])
    }

    /// Only a callee that is sure is checked: not one a variable, a parameter,
    /// a second declaration or a nested function's assignment may replace.
    func testUncertainCalleesAreNotChecked() {
        XCTAssertEqual(check("""
            fn mean(x, dim: 0) { x }
            print(mean(1, dim: 0))
            fn f(zeros) { zeros(shap: 1) }
            sum = fn(a, key: 0) { a }
            print(sum(1, key: 2))
            fn twice(a) { a }
            fn twice(a, b) { a + b }
            print(twice(1, 2))
            fn outer() {
                fn h(a) { a }
                fn rebind() { h = fn(a, b) { a } }
                rebind()
                h(1, 2)
            }
            fn ablate(what, with: 0) { what }
            ablate mlp_pst with 1
            """), [])
        // Before its declaration runs, a top-level call reaches the standard library's `pad`.
        XCTAssertEqual(check("print(pad(\"a\", 3))\nfn pad(s) { s }\nprint(pad(\"a\"))\nprint(pad(\"a\", 3))"),
                       ["4:16 pad() takes 1 argument, got 2"])
        // Nor from a function written before the declaration (it may run first); nor a declaration in a block.
        XCTAssertEqual(check("fn g() { pad(\"a\", 3) }\nprint(g())\nfn pad(s) { s }\nif false { fn total(a, b) { a } }\nprint(total([1, 2]))"), [])
        XCTAssertEqual(check("fn g() { later(1, 2) }\nfn later(a) { a }"), ["1:19 later() takes 1 argument, got 2"],
                           "a function of the script's own, declared later, is still known")
    }

    // MARK: - Hook names

    func testHookNames() {
        XCTAssertEqual(check(NameCheckTests.model + """
            ablate mlp_pst 0 with mean
            patch blocks.0.mlp.hook_pst with corrupt(a + 1)
            hook patern (1 - 1) with fn(x) { x }
            ablate mlp_post with zero
            ablate embed 0 with mean
            r = ablate("resid_pst 0", with: "mean")
            c = run(model, data, cache: ["pattern 0", "patern 1"])
            """), [
                "4:8 ablate: unknown hook 'mlp_pst'; did you mean 'mlp_post', 'mlp_out', 'mlp_pre'?",
                "5:7 patch: unknown hook 'blocks.0.mlp.hook_pst'; did you mean 'blocks.0.mlp.hook_post', 'blocks.0.mlp.hook_pre'?",
                "6:6 hook: unknown hook 'patern'; did you mean 'pattern'?",
                "7:8 ablate: hook 'mlp_post' needs a layer, e.g. 'mlp_post 0' or 'blocks.0.mlp.hook_post'",
                "8:8 ablate: hook 'embed' takes no layer (it is outside the blocks); did you mean 'embed'?",
                "9:12 ablate: unknown hook 'resid_pst 0'; did you mean 'resid_post 0', 'resid_pre 0', 'resid_mid 0'?",
                "10:43 run: unknown hook 'patern 1'; did you mean 'pattern 1'?",
            ])
    }

    func testEveryWayOfNamingAHookPasses() {
        XCTAssertEqual(check(NameCheckTests.model + """
            ablate pattern0 with mean
            ablate "scale 0 ln1" with mean
            ablate blocks.0.ln1.hook_scale with mean
            ablate blocks.7.mlp.hook_post with mean
            patch resid_pre -1 with corrupt(a + 1)
            for l in 0..1 { ablate mlp_post (l + 0) with mean }
            hook attn 0 head 1 with fn(x) { x }
            ablate scale with mean
            ablate post0 with zero
            ablate hook_embed with zero
            patch("z 0", with: corrupt(b + 1), head: 1)
            site = "mlp_pst 0"
            ablate(site, with: "mean")
            """), [])
    }

    /// The caret is under the hook's name, not its layer.
    func testCaretUnderTheHookName() {
        let source = NameCheckTests.model + "ablate mlp_pst (0 + 0) with mean\n"
        let parsed = NeuroLab.parse(source)
        XCTAssertEqual(NameCheck.unresolved(parsed.program, interpreter: interpreter(), source: source).map { $0.render(file: "t.nmap", source: source) }, ["""
            t.nmap:4:8: error: ablate: unknown hook 'mlp_pst'; did you mean 'mlp_post', 'mlp_out', 'mlp_pre'?
              ablate mlp_pst (0 + 0) with mean
                     ^^^^^^^

            """])
    }

    // MARK: - Agreement and no false alarms

    /// Where a check and a run both see a problem, they say it in the same words.
    func testARunSaysTheSame() {
        let snippets = [
            "zeros([2], shap: [3])",
            "x = zeros([2])\nmean(x, dim: 0)",
            "print(1, sep: \" \")",
            "fn f(a) { a }\nf(1, 2)",
            "fn scale(x, factor: 2) { x * factor }\nscale(3, facter: 4)",
            "fn f(a, b) { a + b }\nf(1)",
            "pad(\"a\")",
            "zeros([2], shape: [2], shape: [3])",
            "modular(p: 7, \"+\")",
            NameCheckTests.model + "train model on data epoch 10",
            NameCheckTests.model + "ablate(\"mlp_pst 0\", with: \"mean\")",
            NameCheckTests.model + "ablate(\"blocks.0.mlp.hook_pst\", with: \"mean\")",
            NameCheckTests.model + "ablate embd with mean",
        ]
        for source in snippets {
            let found = check(source)
            XCTAssertEqual(found.count, 1, source)
            let message = found.first.map { String($0.drop { $0 != " " }.dropFirst()) }
            XCTAssertEqual(message, runtimeMessage(source), source)
        }
    }

    /// The examples, the standard library and every documented example that
    /// runs pass the check.
    func testNothingValidIsFlagged() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var scripts: [(String, String)] = []
        for folder in ["examples", "stdlib"] {
            let directory = root.appendingPathComponent(folder)
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".nmap") {
                scripts.append(("\(folder)/\(name)", try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)))
            }
        }
        XCTAssertGreaterThanOrEqual(scripts.count, 10)
        // The documentation's examples run in order in one session: check them as one script.
        var documented: [String] = []
        var inBlock = false, keep = false
        for line in try String(contentsOf: root.appendingPathComponent("docs/LANGUAGE.md"), encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                keep = !inBlock && line.trimmingCharacters(in: .whitespaces) == "```nmap"
                inBlock.toggle()
            } else if inBlock && keep {
                documented.append(String(line))
            }
        }
        XCTAssertGreaterThan(documented.count, 100)
        scripts.append(("docs/LANGUAGE.md", documented.joined(separator: "\n")))
        for (name, source) in scripts {
            XCTAssertEqual(check(source), [], name)
        }
    }
}
