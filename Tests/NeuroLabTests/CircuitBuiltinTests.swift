import Foundation
import XCTest
import NeuroEngine
import NeuroModels
import NeuroAnalysis
@testable import NeuroLanguage
@testable import NeuroLab

/// `importance`, `circuit`, `probe`, `correlate`, `neuron_grid` and
/// `explained_variance` in the language: their results, agreement with the
/// Swift API, saving circuits as JSON and DOT, and their errors.
final class CircuitBuiltinTests: XCTestCase {
    static let setup = """
        data = modular(p: 7, train: 0.5, seed: 1)
        model = transformer(data, layers: 1, heads: 2, d_model: 16, d_mlp: 32, seed: 0)
        train model on data epochs 30 lr 1e-2 wd 1.0
        post = run(model, data)["blocks.0.mlp.hook_post"][:, -1]
        """

    /// Runs the setup and `code`; the interpreter, and the error's message if any.
    func run(_ code: String) -> (Interpreter, String?) { runSnippet(CircuitBuiltinTests.setup + "\n" + code) }

    func result(_ code: String, file: StaticString = #filePath, line: UInt = #line) throws -> (ResultValue, Interpreter) {
        let (interpreter, error) = run("r = " + code)
        XCTAssertNil(error, code, file: file, line: line)
        guard case .object(let r as ResultValue)? = interpreter.globals.lookup("r") else {
            throw EngineError(.argument, "\(code): not a result")
        }
        return (r, interpreter)
    }

    func testResultsHaveTheirKindAndFields() throws {
        let cases: [(code: String, kind: String, fields: [String])] = [
            ("importance(model, method: \"mean\")", "importance", ["names", "importance", "faithfulness", "components", "edges"]),
            ("importance(model, with: corrupt(a + 1), threshold: 0.2, metric: \"accuracy\")", "importance", ["baseline", "minimality"]),
            ("circuit(model, tau: 0.01, with: corrupt(a + 1))", "circuit", ["edges", "components", "kl", "completeness", "edge_count"]),
            ("circuit(model, method: \"zero\", sample: 20, seed: 2)", "circuit", ["passes", "tau"]),
            ("probe(post, data.a + data.b)", "probe", ["weights", "bias", "train_r2", "test_r2"]),
            ("probe(post, data.labels, kind: \"logistic\", steps: 20)", "probe", ["train_accuracy", "test_accuracy", "classes"]),
            ("correlate(post, data.a)", "correlation", ["r", "ranking", "top"]),
            ("neuron_grid(model, layer: 0)", "grid", ["grid", "p", "site"]),
            ("neuron_grid(model, site: \"blocks.0.attn.hook_pattern\")", "grid", ["grid"]),
            ("explained_variance(post, 3)", "pca", ["components", "explained_variance_ratio", "cumulative", "projected"]),
        ]
        for c in cases {
            let (r, _) = try result(c.code)
            XCTAssertEqual(r.kind, c.kind, c.code)
            for name in c.fields { XCTAssertNotNil(try r.field(name), "\(c.code) has no field \(name)") }
            XCTAssertFalse(r.summary.isEmpty)
        }
        let (grid, _) = try result("neuron_grid(model)")
        guard case .tensor(let g)? = try grid.field("grid") else { return XCTFail("grid is not a tensor") }
        XCTAssertEqual(g.shape, [7, 7, 32])
    }

    func testImportanceAgreesWithTheSwiftAPI() throws {
        let (r, interpreter) = try result("importance(model, method: \"zero\", metric: \"loss\", threshold: 0.1)")
        guard case .object(let model as ModelObject)? = interpreter.globals.lookup("model"),
              case .object(let data as DatasetObject)? = interpreter.globals.lookup("data"),
              case .tensor(let importance)? = try r.field("importance") else { return XCTFail("missing values") }
        let direct = try CircuitDiscovery.importance(model.model, tokens: data.dataset.tokens, labels: data.dataset.labels,
                                                     ablation: .zero, metric: .loss, threshold: 0.1)
        XCTAssertEqual(importance.toDoubles(), direct.components.map(\.importance))
    }

    func testCircuitsSaveAsJSONAndDOT() throws {
        let directory = NSTemporaryDirectory() + "circuit-builtins-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (_, error) = run("""
            c = circuit(model, tau: 0.01, with: corrupt(a + 1))
            save(c, "\(directory)/c.json")
            save(c, "\(directory)/c.dot")
            save(importance(model), "\(directory)/i.dot")
            save(c, "\(directory)/c.csv")
            """)
        XCTAssertNil(error)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(directory)/c.json"))) as? [String: Any]
        XCTAssertNotNil(json?["components"] as? [[String: Any]])
        XCTAssertNotNil(json?["edges"] as? [[String: Any]])
        for name in ["c.dot", "i.dot"] {
            let dot = try String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8)
            XCTAssertTrue(dot.hasPrefix("digraph circuit {"), name)
            XCTAssertTrue(dot.contains("\"embed\"") && dot.contains("\"unembed\""), name)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(directory)/c.csv"))
    }

    func testErrors() {
        let cases: [(code: String, message: String)] = [
            ("importance(model, method: \"patch\")", "importance: method \"patch\" needs 'with: corrupt(…)'"),
            ("importance(model, method: \"noise\")", "importance: unknown method 'noise' (zero, mean or patch)"),
            ("circuit(model, metric: \"kl\")", "circuit: unknown metric 'kl'"),
            ("circuit(model, tau: -1)", "tau must be a finite number ≥ 0"),
            ("circuit(model, sample: 0)", "circuit: 'sample' must be at least 1, got 0"),
            ("circuit(transformer(data, layers: 1, heads: 2, d_model: 16, norm: \"LN\"))", "exact only for models without LayerNorm"),
            ("probe(post, data.a, kind: \"svm\")", "probe: unknown kind 'svm' (linear or logistic)"),
            ("probe(post, [1, 2, 3])", "but 3 target values"),
            ("probe(post, data.a, holdout: 1)", "holdout must be a fraction in [0, 1)"),
            ("correlate(post, [1, 2])", "but 2 target values"),
            ("neuron_grid(model, layer: 3)", "neuron_grid:"),
            ("save(importance(model), \"x.txt\")", "or .dot; 'x.txt' ends in .txt"),
        ]
        for c in cases {
            let (_, error) = run(c.code)
            XCTAssertTrue(error?.contains(c.message) ?? false, "\(c.code): \(error ?? "no error")")
        }
    }
}
