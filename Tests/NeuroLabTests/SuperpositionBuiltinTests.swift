import Foundation
import XCTest
import NeuroEngine
import NeuroModels
import NeuroAnalysis
import NeuroPlots
import NeuroTestSupport
@testable import NeuroLanguage
@testable import NeuroLab

/// `superposition` and `superposition_sweep` through the language: the
/// numbers of the Swift model trained the same way, their fields, file,
/// errors and pictures. (The geometry they find is tested in
/// ToySuperpositionTests and SuperpositionTests.)
final class SuperpositionBuiltinTests: XCTestCase, ScriptTesting {
    func result(_ interpreter: Interpreter, _ name: String) throws -> ResultValue {
        guard case .object(let r as ResultValue)? = interpreter.globals.lookup(name) else { throw XCTSkip("no result \(name)") }
        return r
    }

    func field(_ r: ResultValue, _ name: String) throws -> [Double] { try r.doubles(name) }

    func testTheBuiltinIsTheModelTrainedTheSameWay() throws {
        let (interpreter, output) = run("""
        r = superposition(n_features: 5, d_hidden: 2, sparsity: 0.9, importance: 0.8, steps: 120, batch: 64, lr: 0.02, seed: 3)
        print(r)
        """)
        let r = try result(interpreter, "r")
        let model = try ToySuperposition(nFeatures: 5, dHidden: 2, importance: ToySuperposition.decayingImportance(0.8, count: 5), seed: 3)
        let training = try model.train(on: SyntheticFeatures(nFeatures: 5, sparsity: 0.9), steps: 120, batchSize: 64, learningRate: 0.02, seed: 3)
        XCTAssertEqual(try r.tensor("W").shape, [2, 5])
        XCTAssertEqual(try field(r, "W"), model.W.toDoubles())
        XCTAssertEqual(try field(r, "b"), model.b.toDoubles())
        XCTAssertEqual(try field(r, "losses"), training.losses)
        XCTAssertEqual(r.number("loss"), training.finalLoss)
        let g = try SuperpositionGeometry(weights: model.W)
        XCTAssertEqual(try field(r, "norms"), g.norms)
        XCTAssertEqual(try field(r, "superposition"), g.superposition)
        XCTAssertEqual(try field(r, "dimensionality"), g.dimensionality)
        XCTAssertEqual(r.number("dimensions_per_feature"), g.dimensionsPerFeature)
        assertClose(try field(r, "importance"), [1, 0.8, 0.64, 0.512, 0.4096])
        XCTAssertEqual([r.number("sparsity"), r.number("n_features"), r.number("d_hidden"), r.number("steps"), r.number("batch"),
                        r.number("lr"), r.number("seed")], [0.9, 5, 2, 120, 64, 0.02, 3])
        XCTAssertEqual(r.kind, "superposition")
        // The printed table: one row per feature with its norm, superposition, dimensionality and importance.
        let printed = output.joined(separator: "\n").split(separator: "\n").map(String.init)
        XCTAssert(printed[0].hasPrefix("toy model: 5 features in 2 dimensions at sparsity 0.9 · "), printed[0])
        XCTAssertEqual(printed[1].split(separator: " ", omittingEmptySubsequences: true),
                       ["feature", "‖W‖", "superposition", "dimensionality", "importance"])
        XCTAssertEqual(printed.count, 3 + 5)
        let row = printed[3 + 2].split(separator: " ").map(String.init)
        XCTAssertEqual(row[0], "2")
        XCTAssertEqual(Double(row[1]) ?? .nan, g.norms[2], accuracy: 1e-3 * g.norms[2])
        XCTAssertEqual(row[4], "0.64")
    }

    func testImportanceAsAList() throws {
        let (interpreter, _) = run("r = superposition(n_features: 3, d_hidden: 1, importance: [3, 2, 0], steps: 5, batch: 8)")
        XCTAssertEqual(try field(try result(interpreter, "r"), "importance"), [3, 2, 0])
    }

    func testSavedAsJSONWithEveryField() throws {
        let directory = try PictureTestSupport.temporaryDirectory("superposition")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("r.json").path
        run("r = superposition(steps: 10, batch: 16)\nsave(r, \"\(path)\")")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        let json = try XCTUnwrap(object)
        for name in ["W", "b", "norms", "superposition", "dimensionality", "loss", "losses", "sparsity", "importance", "n_features", "d_hidden"] {
            XCTAssertNotNil(json[name], name)
        }
        XCTAssertEqual((json["losses"] as? [Double])?.count, 10)
        XCTAssertEqual(json["sparsity"] as? Double, 0.95)
        XCTAssertEqual((json["W"] as? [[Double]])?.map(\.count), [5, 5])
    }

    func testTheSweepIsOneModelPerSparsity() throws {
        let (interpreter, output) = run("""
        s = superposition_sweep(n_features: 4, d_hidden: 2, sparsities: [0, 0.9], steps: 40, batch: 32, seed: 2)
        r = superposition(n_features: 4, d_hidden: 2, sparsity: 0.9, steps: 40, batch: 32, seed: 2)
        print(s)
        """)
        let s = try result(interpreter, "s"), r = try result(interpreter, "r")
        XCTAssertEqual(s.kind, "superposition_sweep")
        XCTAssertEqual(try s.tensor("dimensionality").shape, [2, 4])
        XCTAssertEqual(try s.tensor("norms").shape, [2, 4])
        XCTAssertEqual(Array(try field(s, "dimensionality")[4...]), try field(r, "dimensionality"), "the run at 0.9 is superposition's")
        XCTAssertEqual(Array(try field(s, "norms")[4...]), try field(r, "norms"))
        XCTAssertEqual(try field(s, "dimensions_per_feature")[1], r.number("dimensions_per_feature"))
        XCTAssertEqual(try field(s, "loss")[1], r.number("loss"))
        XCTAssertEqual(try field(s, "sparsities"), [0, 0.9])
        assertClose(try field(s, "inverse_density"), [1, 10])
        let lines = output.joined(separator: "\n").split(separator: "\n")
        XCTAssertEqual(lines.count, 3 + 2, "title, header, rule, a row per sparsity")
        XCTAssert(lines[4].hasPrefix("  0.9 "), String(lines[4]))
    }

    func testBadArgumentsAreClearErrorsNamingThem() {
        let cases: [(String, String)] = [
            ("superposition(sparsity: 1)", "superposition: sparsity must be in [0, 1) (the probability that a feature is 0), got 1.0"),
            ("superposition(sparsity: -0.1)", "superposition: sparsity must be in [0, 1)"),
            ("superposition(n_features: 0)", "superposition: n_features must be from 1 to 2048, got 0"),
            ("superposition(n_features: 100000000)", "superposition: n_features must be from 1 to 2048, got 100000000"),
            ("superposition(d_hidden: -3)", "superposition: d_hidden must be from 1 to 2048, got -3"),
            ("superposition(n_features: 2.5)", "superposition: 'n_features' must be a whole number, got 2.5"),
            ("superposition(importance: [1, 2])", "superposition: importance has 2 numbers for 5 features"),
            ("superposition(importance: [1, 1, -1, 1, 1])", "superposition: importance must be finite and 0 or more; feature 2 has -1.0"),
            ("superposition(importance: 0)", "superposition: importance must be a positive ratio r"),
            ("superposition(importance: \"flat\")", "superposition: 'importance' must be a ratio r (Iᵢ = rⁱ) or a list of n_features numbers, got string"),
            ("superposition(batch: 1000000000)", "superposition: batch must be from 1 to 3355443 for 5 features"),
            ("superposition(batch: 0)", "superposition: batch must be from 1"),
            ("superposition(steps: 0)", "superposition: steps must be from 1 to 1000000, got 0"),
            ("superposition(lr: 0)", "superposition: lr must be a positive number, got 0.0"),
            ("superposition(seed: -1)", "superposition: 'seed' must be 0 or more, got -1"),
            ("superposition(5, 2, 0.9, 4)", "superposition: takes at most 3 positional arguments, got 4"),
            ("superposition_sweep(sparsities: [0.5, 1.2])", "superposition_sweep: sparsities[1] must be in [0, 1) (the probability that a feature is 0), got 1.2"),
            ("superposition_sweep(sparsities: [])", "superposition_sweep: 'sparsities' must be a list of 1 to 100 numbers in [0, 1), got list"),
            ("superposition_sweep(sparsities: 0.5)", "superposition_sweep: 'sparsities' must be a list of 1 to 100 numbers"),
            ("superposition_sweep(sparsities: linspace(0, 0.5, 101))", "superposition_sweep: 'sparsities' must be a list of 1 to 100 numbers"),
            ("superposition_sweep(n_features: 3, importance: [1])", "superposition_sweep: importance has 1 numbers for 3 features"),
            ("superposition_sweep(sparsity: 0.5)", "superposition_sweep: unknown argument 'sparsity'"),
        ]
        for (code, message) in cases {
            let error = failure(code)
            XCTAssertTrue(error.contains(message), "\(code): \(error)")
        }
    }

    func testThePictureOfOneModel() throws {
        let (interpreter, _) = run("""
        r = superposition(steps: 20, batch: 16)
        r3 = superposition(n_features: 4, d_hidden: 3, steps: 5, batch: 16)
        """)
        let figure = try result(interpreter, "r").figure()
        guard figure.panels.count == 4, case .heatmap(let heat) = figure.panels[0], case .bars(let bars) = figure.panels[1],
              case .scatter(let plane) = figure.panels[2], case .lines(let loss) = figure.panels[3] else {
            return XCTFail("expected WᵀW and b, norms, directions and loss: \(figure.panels)")
        }
        // WᵀW with b as its last column.
        let r = try result(interpreter, "r")
        let w = try field(r, "W"), b = try field(r, "b")
        XCTAssertEqual(heat.columnLabels, ["0", "1", "2", "3", "4", "b"])
        XCTAssertEqual(heat.facets[0].values[1][3], w[1] * w[3] + w[6] * w[8], accuracy: 1e-6)
        XCTAssertEqual(heat.facets[0].values.map(\.[5]), b)
        XCTAssertEqual(bars.groups.map(\.values), [try field(r, "norms"), try field(r, "superposition")])
        // Each feature's direction from the origin, on square axes.
        XCTAssertTrue(plane.square && plane.fromOrigin && plane.showLabels)
        XCTAssertEqual(plane.groups[0].points.map(\.x), Array(w[0..<5]))
        XCTAssertEqual(plane.groups[0].points.map(\.y), Array(w[5..<10]))
        XCTAssertEqual(loss.series[0].y, try field(r, "losses"))
        // In three dimensions there is no plane to draw.
        let three = try result(interpreter, "r3").figure()
        XCTAssertEqual(three.panels.count, 3)
        XCTAssertNil(PictureTestSupport.xmlProblem(try figure.svg()))
    }

    func testThePictureOfASweep() throws {
        let (interpreter, output) = run("""
        s = superposition_sweep(n_features: 3, d_hidden: 2, sparsities: [0, 0.5, 0.99], steps: 5, batch: 16)
        plot(s)
        """)
        let s = try result(interpreter, "s")
        let figure = try s.figure()
        guard case .scatter(let points) = figure.panels[0], case .lines(let perFeature) = figure.panels[1] else {
            return XCTFail("expected the dimensionalities and the dimensions per feature")
        }
        XCTAssertTrue(points.logX && perFeature.logX)
        assertClose(points.groups[0].points.map(\.x), [1, 1, 1, 2, 2, 2, 100, 100, 100], rtol: 1e-9)
        XCTAssertEqual(points.groups[0].points.map(\.y), try field(s, "dimensionality"))
        XCTAssertEqual(points.guides.map(\.label), ["1", "3/4", "2/3", "1/2", "2/5", "3/8"])
        assertClose(points.guides.map(\.y), [1, 0.75, 2.0 / 3, 0.5, 0.4, 0.375])
        XCTAssertEqual(perFeature.series[0].y, try field(s, "dimensions_per_feature"))
        XCTAssert(output.joined().contains("┈ at 1, 3/4, 2/3, 1/2, 2/5, 3/8"), "plot sketches it")
        XCTAssertNil(PictureTestSupport.xmlProblem(try figure.svg()))
    }
}
