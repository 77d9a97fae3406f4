import XCTest
@testable import NeuroLanguage
import NeuroLab

/// The candidates behind the REPL's Tab key.
final class CompletionTests: XCTestCase {
    private func interpreter(_ source: String = "") throws -> Interpreter {
        let interpreter = NeuroLab.makeInterpreter()
        let parsed = NeuroLab.parse(source)
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
        XCTAssertEqual(interpreter.completions(for: "mlp_post", after: "cache[\""), ["mlp_post 0", "mlp_post 1"])
        XCTAssertFalse(interpreter.completions(for: "pat", after: "x = ").contains("pattern 0"))
    }

    /// After `ablate`, every site name that matches, not one guess with a layer (`mlp_out 0`).
    func testSiteNamesAfterAHookStatement() throws {
        let interpreter = try self.interpreter("""
            data = modular(p: 7, train: 0.5)
            model = transformer(layers: 2, heads: 2, d_model: 8, d_mlp: 16)
            """)
        XCTAssertEqual(interpreter.completions(for: "mlp_", after: "ablate "), ["mlp_out", "mlp_post", "mlp_pre"])
        XCTAssertEqual(interpreter.completions(for: "pat", after: "  patch "), ["pattern"])
        XCTAssertEqual(interpreter.completions(for: "resid_p", after: "hook "), ["resid_post", "resid_pre"])
        XCTAssertEqual(interpreter.completions(for: "blocks.1.mlp.hook_p", after: "ablate "),
                       ["blocks.1.mlp.hook_post", "blocks.1.mlp.hook_pre"])
        XCTAssertFalse(interpreter.completions(for: "mlp_", after: "ablate mlp_post 0 with ").contains("mlp_post"),
                       "only the word after the statement word names a site")
        let attentionOnly = try self.interpreter("data = modular(p: 7, train: 0.5)\nmodel = transformer(data, layers: 1, heads: 2, d_model: 8, d_mlp: 0)")
        XCTAssertEqual(attentionOnly.completions(for: "mlp_", after: "ablate "), [], "no MLP, no MLP sites")
        XCTAssertEqual(NeuroLab.makeInterpreter().completions(for: "mlp_", after: "ablate "), ["mlp_out", "mlp_post", "mlp_pre"],
                       "without a model, every site")
    }

    /// Every hook name offered in a string, typed into a cache index, resolves.
    func testOfferedHookNamesResolve() throws {
        let interpreter = try self.interpreter("""
            data = modular(p: 7, train: 0.5)
            model = transformer(layers: 2, heads: 2, d_model: 8, d_mlp: 16, norm: "LN")
            cache = run(model, data)
            """)
        let names = interpreter.completions(for: "", after: "cache[\"")
        XCTAssertGreaterThan(names.count, 40)
        for name in names {
            XCTAssertNoThrow(try interpreter.run(NeuroLab.parse("cache[\"\(name)\"]").program), name)
        }
        // A site name is the statement's word, with a layer inside the blocks (`scale` is both: ln_final's, or a block's).
        for site in interpreter.siteNames {
            let works = ["ablate \(site) with mean", "ablate \(site) 0 with mean"].filter { statement in
                do {
                    _ = try interpreter.run(NeuroLab.parse(statement + " model model data data").program)
                    return true
                } catch {
                    return false
                }
            }
            XCTAssertFalse(works.isEmpty, "ablate \(site) …")
        }
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
        let interpreter = NeuroLab.makeInterpreter()
        interpreter.loadStandardLibrary()
        try interpreter.run(NeuroLab.parse("a = 1").program)
        XCTAssertEqual(interpreter.userVariableNames, ["a"])
        XCTAssertTrue(interpreter.completions(for: "").contains("a"))
        if let library = interpreter.standardNames.sorted().first {
            XCTAssertTrue(interpreter.completions(for: library).contains(library), "standard-library names complete")
        }
    }
}
