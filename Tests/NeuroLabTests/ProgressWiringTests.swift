import XCTest
import NeuroEngine
@testable import NeuroLanguage
@testable import NeuroLab

/// Every long built-in draws a progress line on the session's display,
/// step by step up to its total, and ends it; Ctrl-C during one stops it
/// with `interrupted`, and nothing it would have made is kept.
final class ProgressWiringTests: XCTestCase {
    override func tearDown() {
        Interruption.clear()
    }

    static let setup = """
        data = modular(p: 7, train: 0.5, seed: 1)
        model = transformer(data, layers: 1, heads: 2, d_model: 16, d_mlp: 32, seed: 0)
        train model on data epochs 4 lr 1e-2 checkpoint 1
        """

    /// What the session's display was told. Its clock moves a second at
    /// every reading, so every step is drawn (past the quiet start, apart by
    /// more than the redraw interval).
    final class Screen {
        var shown: [String] = []
        var ended: [Bool] = []
        var now = 0.0
        /// Called at every line drawn (a test presses Ctrl-C there).
        var onShow: (String) -> Void = { _ in }
    }

    func run(_ code: String, onShow: @escaping (String) -> Void = { _ in }) -> (Interpreter, Screen, String?) {
        let interpreter = NeuroLab.makeInterpreter()
        interpreter.output = { _ in }
        let screen = Screen()
        screen.onShow = onShow
        interpreter.session.progressDisplay = ProgressDisplay(show: { line in
            screen.shown.append(line)
            screen.onShow(line)
        }, end: { screen.ended.append($0) })
        interpreter.session.progressClock = {
            screen.now += 1
            return screen.now
        }
        let source = ProgressWiringTests.setup + "\n" + code
        let parsed = NeuroLab.parse(source)
        XCTAssertEqual(parsed.diagnostics, [], code)
        do {
            try interpreter.run(parsed.program)
            return (interpreter, screen, nil)
        } catch let error as RuntimeError {
            return (interpreter, screen, error.message)
        } catch {
            return (interpreter, screen, "\(error)")
        }
    }

    /// The (done, total) of the lines that name `what`: `  what  done/total …`.
    func counts(_ lines: [String], _ what: String) -> [(done: Int, total: Int)] {
        let prefix = "  \(what)  "
        return lines.filter { $0.hasPrefix(prefix) }.compactMap { line in
            let numbers = line.dropFirst(prefix.count).prefix { $0 != " " }.split(separator: "/").compactMap { Int($0) }
            return numbers.count == 2 ? (numbers[0], numbers[1]) : nil
        }
    }

    func testEveryLongBuiltinCountsUpToItsTotalAndErasesItsLine() {
        let cases: [(code: String, what: String, total: Int?)] = [
            ("sweep(\"mlp_post 0\", with: corrupt(a + 1), by: \"pos,neuron\")", "sweep post 0 by pos × neuron", 3 * 32),
            ("sweep(\"every_block\", with: corrupt(a + 1))", "sweep resid_pre, attn_out, mlp_out", 3 * 3),
            ("attribute(\"z\", with: corrupt(a + 1), by: \"layer,pos,head\", check: false)", "attribute z by layer × pos × head", 3),
            ("path_patch(sender: \"z 0\", head: 1, receiver: \"logits\", with: corrupt(a + 1))", "path_patch z 0 head 1", 3),
            ("importance(model, method: \"mean\")", "importance (mean ablation): components", 3),
            ("circuit(model, tau: 0.01, with: corrupt(a + 1))", "circuit (ACDC τ = 0.01, patch): edges", nil),
            ("progress(model)", "progress: checkpoints", 5),
            ("scan(model, data, categories: {small: [0, 1, 2], large: [4, 5, 6]}, permutations: 40)", "scan 32 neurons: permutations", 40),
            ("sae(randn([60, 4], seed: 1), d_sae: 8, steps: 12, batch: 20)", "sae standard: passes", nil),
            ("superposition_sweep(sparsities: [0, 0.9], steps: 10, batch: 32)", "superposition_sweep: 2 models, steps", 20),
        ]
        for c in cases {
            let (interpreter, screen, error) = run("r = " + c.code)
            XCTAssertNil(error, c.code)
            let seen = counts(screen.shown, c.what)
            XCTAssertFalse(seen.isEmpty, "\(c.code): no line names '\(c.what)'; lines: \(screen.shown.filter { !$0.hasPrefix("  epoch") }.prefix(3))")
            guard let last = seen.last else { continue }
            if let total = c.total { XCTAssertEqual(last.total, total, c.code) }
            XCTAssertEqual(last.done, last.total, "\(c.code): ends at its total")
            XCTAssertTrue(seen.allSatisfy { $0.total == last.total }, c.code)
            XCTAssertTrue(zip(seen, seen.dropFirst()).allSatisfy { $0.done < $1.done }, "\(c.code): \(seen.map(\.done))")
            XCTAssertEqual(screen.ended.last, false, "\(c.code): the line is erased")
            XCTAssertNotNil(interpreter.globals.lookup("r"), c.code)
        }
    }

    /// The check of `attribute` (real patching) has a line of its own.
    func testAttributeChecksOnALineOfItsOwn() {
        let (_, screen, error) = run("r = attribute(\"resid_pre\", with: corrupt(a + 1))")
        XCTAssertNil(error)
        XCTAssertEqual(counts(screen.shown, "attribute resid_pre by layer × pos").last?.done, 3, "\(screen.shown.filter { !$0.hasPrefix("  epoch") })")
        XCTAssertEqual(counts(screen.shown, "attribute: checking resid_pre by layer × pos").last?.done, 3)
        XCTAssertEqual(screen.ended, [true, false, false], "the setup's training, then attribute and its check")
    }

    /// Training keeps its last line (the final losses) on screen.
    func testTrainingKeepsItsLastLine() {
        let (_, screen, error) = run("train model on data epochs 3")
        XCTAssertNil(error)
        XCTAssertTrue(screen.shown.last?.hasPrefix("  epoch 7/7 ━━━━━━━━━━━━━━━━━━━━  train") ?? false, "\(screen.shown)")
        XCTAssertEqual(screen.ended, [true, true], "the setup's run and this one")
    }

    /// Ctrl-C pressed while a line shows: the built-in stops with
    /// `interrupted`, its variable is not assigned and no result is kept.
    func testCtrlCStopsEachLongBuiltinAndKeepsNothing() {
        let codes = [
            "sweep(\"mlp_post 0\", with: corrupt(a + 1), by: \"pos,neuron\")",
            "attribute(\"resid_pre\", with: corrupt(a + 1))",
            "importance(model, method: \"mean\")",
            "circuit(model, tau: 0.01, with: corrupt(a + 1))",
            "progress(model)",
            "scan(model, data, categories: {small: [0, 1, 2], large: [4, 5, 6]}, permutations: 200)",
            "sae(randn([60, 4], seed: 1), d_sae: 8, steps: 50, batch: 20)",
            "superposition_sweep(sparsities: [0, 0.9], steps: 30, batch: 32)",
        ]
        for code in codes {
            Interruption.clear()
            let (interpreter, screen, error) = run("r = " + code) { line in
                // The setup's training draws lines too: press during `code` only.
                if !line.hasPrefix("  epoch") { Interruption.request() }
            }
            XCTAssertEqual(error, "interrupted", code)
            XCTAssertNil(interpreter.globals.lookup("r"), code)
            XCTAssertEqual(interpreter.session.results.count, 1, "\(code): only the setup's training is kept")
            XCTAssertEqual(screen.ended.last, false, "\(code): the line is erased")
        }
    }
}
