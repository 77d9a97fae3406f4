import XCTest
@testable import NeuroLanguage

/// The candidates behind the REPL's Tab key.
final class CompletionTests: XCTestCase {
    private func interpreter(_ source: String = "") throws -> Interpreter {
        let interpreter = Interpreter()
        let parsed = Interpreter.parse(source)
        XCTAssertTrue(parsed.diagnostics.isEmpty, "\(parsed.diagnostics)")
        try interpreter.run(parsed.program)
        return interpreter
    }

    func testKeywordsBuiltinsAndVariables() throws {
        let interpreter = try self.interpreter("model_size = 3\nfn whisper(x) { x }")
        XCTAssertEqual(interpreter.completions(for: "mod").filter { $0.hasPrefix("mode") || $0.hasPrefix("modu") },
                       ["model_size", "modular"])
        XCTAssertTrue(interpreter.completions(for: "whi").contains("while"))
        XCTAssertTrue(interpreter.completions(for: "whi").contains("whisper"))
        XCTAssertTrue(interpreter.completions(for: "").contains("fn"))
        XCTAssertEqual(interpreter.completions(for: "zzz"), [])
    }

    func testFieldsAfterADot() throws {
        let interpreter = try self.interpreter("""
            r = {lr: 1e-3, wd: 1}
            t = tensor([1, 2])
            data = modular(p: 7, train: 0.5)
            model = transformer(layers: 1, heads: 2, d_model: 8, d_mlp: 16)
            """)
        XCTAssertEqual(interpreter.completions(for: "r."), ["r.lr", "r.wd"])
        XCTAssertTrue(interpreter.completions(for: "t.s").contains("t.shape"))
        XCTAssertTrue(interpreter.completions(for: "t.s").contains("t.sum"))
        XCTAssertTrue(interpreter.completions(for: "model.W_").contains("model.W_pos"))
        XCTAssertEqual(interpreter.completions(for: "model.history."), [], "no history before training")
        XCTAssertTrue(interpreter.completions(for: "data.tr").contains("data.train"))
        XCTAssertEqual(interpreter.completions(for: "nothing.x"), [])
    }

    func testHookNames() throws {
        let interpreter = try self.interpreter("""
            data = modular(p: 7, train: 0.5)
            model = transformer(layers: 2, heads: 2, d_model: 8, d_mlp: 16, norm: "LN")
            """)
        XCTAssertEqual(interpreter.completions(for: "blocks.1.attn.hook_p"), ["blocks.1.attn.hook_pattern"])
        XCTAssertTrue(interpreter.hookNames.contains("pattern 1"))
        XCTAssertTrue(interpreter.hookNames.contains("embed"))
        XCTAssertTrue(interpreter.hookNames.contains("scale 0 ln2"), "ambiguous short forms name their layer norm")
        XCTAssertEqual(interpreter.completions(for: "pattern", after: "cache[\""), ["pattern 0", "pattern 1"])
        XCTAssertTrue(interpreter.completions(for: "pat", after: "ablate ").contains("pattern 0"))
        XCTAssertFalse(interpreter.completions(for: "pat", after: "x = ").contains("pattern 0"))
    }

    func testNamedArguments() throws {
        let interpreter = try self.interpreter("fn scaled(x, factor: 2) { x * factor }")
        XCTAssertTrue(interpreter.completions(for: "o", after: "modular(p: 7, ").contains("op:"))
        XCTAssertFalse(interpreter.completions(for: "o", after: "modular(p: 7, ").contains("p:"))
        XCTAssertTrue(interpreter.completions(for: "fac", after: "scaled(1, ").contains("factor:"))
        XCTAssertTrue(interpreter.completions(for: "ep", after: "train model on data ").contains("epochs"))
    }

    func testContext() {
        XCTAssertTrue(CompletionContext.isInsideString("cache[\""))
        XCTAssertFalse(CompletionContext.isInsideString("f(\"a\", "))
        XCTAssertTrue(CompletionContext.isInsideString("f('it\\'s "))
        XCTAssertEqual(CompletionContext.openCall("f(a, g(b), "), "f")
        XCTAssertNil(CompletionContext.openCall("f(a) + "))
        XCTAssertEqual(CompletionContext.command("train model on "), "train")
        XCTAssertNil(CompletionContext.command("x = train "))
    }

    func testUserVariablesLeaveOutTheStandardLibrary() throws {
        let interpreter = Interpreter()
        interpreter.loadStandardLibrary()
        try interpreter.run(Interpreter.parse("a = 1").program)
        XCTAssertEqual(interpreter.userVariableNames, ["a"])
        XCTAssertTrue(interpreter.completions(for: "").contains("a"))
        if let library = interpreter.standardNames.sorted().first {
            XCTAssertTrue(interpreter.completions(for: library).contains(library), "standard-library names complete")
        }
    }
}
