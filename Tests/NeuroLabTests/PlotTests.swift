import Foundation
import XCTest
@testable import NeuroLanguage
@testable import NeuroLab
import NeuroPlots

/// `plot`: every kind of value it draws writes a well-formed SVG, anything
/// else is a clear error, and terminal sketches are deterministic.
final class PlotTests: XCTestCase {
    /// Expressions whose natural picture `plot` draws, with a file name each.
    static let plottable: [(code: String, file: String)] = [
        ("model.history", "history"), ("model", "model"),
        ("[1, 3, 2, 5]", "list"), ("model.W_E", "we"), ("model.W_Q[0]", "wq"), ("model.W_Q[0, 0, :, :]", "wq2"),
        ("fourier(model)", "fourier"), ("progress(model)", "progress"),
        ("sweep(\"resid_pre\", with: corrupt(a + 1))", "sweep"),
        ("sweep(\"z\", with: corrupt(a + 1), by: \"layer,pos,head\")", "sweep3"),
        ("attribute(\"every_head\", with: corrupt(a + 1))", "attribution"),
        ("path_patch(sender: \"z 0\", head: 1, receiver: \"logits\", with: corrupt(a + 1))", "path"),
        ("pc_ablate(\"resid_post 0\", components: [0])", "pc"),
        ("importance(model, method: \"mean\")", "importance"),
        ("circuit(model, tau: 0.01, with: corrupt(a + 1))", "circuit"),
        ("probe(post, data.a + data.b)", "probe"), ("probe(post, data.labels, kind: \"logistic\", steps: 10)", "logistic"),
        ("correlate(post, data.a)", "correlation"), ("neuron_grid(model)", "grid"), ("explained_variance(post, 3)", "pca"),
        ("patch(\"embed\", with: corrupt(a + 1))", "patch"), ("ablate(\"blocks.0.mlp.hook_post\", with: \"mean\")", "ablate"),
        ("superposition(steps: 20, batch: 32)", "superposition"),
        ("superposition_sweep(sparsities: [0, 0.9], steps: 10, batch: 32)", "superposition_sweep"),
        ("train(model, data, epochs: 2)", "train"),   // last: a new training run has no checkpoints for progress
    ]

    func testEveryKindWritesAWellFormedSVGAndASketch() throws {
        let directory = try PictureTestSupport.temporaryDirectory("plots")
        defer { try? FileManager.default.removeItem(at: directory) }
        let lines = Self.plottable.map { "plot(\($0.code), to: \"\(directory.path)/\($0.file).svg\", colour: false)" }
        let (_, output, error) = PictureTestSupport.run(lines.joined(separator: "\n"))
        XCTAssertNil(error)
        for c in Self.plottable {
            let path = directory.appendingPathComponent("\(c.file).svg").path
            guard let svg = try? String(contentsOfFile: path, encoding: .utf8) else {
                XCTFail("plot(\(c.code)) wrote no \(c.file).svg")
                continue
            }
            XCTAssertNil(PictureTestSupport.xmlProblem(svg), "plot(\(c.code))")
            XCTAssert(svg.hasPrefix("<?xml"), "plot(\(c.code)) starts with the XML declaration")
            XCTAssert(output.contains("wrote \(path)"), "plot(\(c.code)) says what it wrote")
        }
        XCTAssertFalse(output.joined().contains("\u{1B}["), "colour: false sketches have no escape codes")
    }

    func testAPictureOfSeveralChartsNestsThemWithDistinctIDs() throws {
        let directory = try PictureTestSupport.temporaryDirectory("nested")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("f.svg").path
        // A training run is drawn as two charts, loss and accuracy. (The setup's
        // model has not grokked, so its Fourier picture is the spectrum alone.)
        XCTAssertNil(PictureTestSupport.run("plot model.history to \"\(path)\"").error)
        let svg = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertGreaterThan(svg.components(separatedBy: "<svg ").count - 1, 2, "the figure and each of its charts are SVGs of their own")
        let ids = svg.components(separatedBy: " id=\"").dropFirst().map { $0.prefix { $0 != "\"" } }
        XCTAssertEqual(ids.count, Set(ids).count, "ids are unique across the nested charts")
    }

    func testTheSameValueGivesTheSameFileAndSketch() throws {
        let directory = try PictureTestSupport.temporaryDirectory("same")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (a, b) = (directory.appendingPathComponent("a.svg").path, directory.appendingPathComponent("b.svg").path)
        let (_, output, error) = PictureTestSupport.run("f = fourier(model)\nplot(f, to: \"\(a)\", colour: false)\nplot(f, to: \"\(b)\", colour: false)")
        XCTAssertNil(error)
        XCTAssertEqual(try String(contentsOfFile: a, encoding: .utf8), try String(contentsOfFile: b, encoding: .utf8))
        let sketches = output.filter { !$0.hasPrefix("wrote") && !$0.hasPrefix("trained") }
        XCTAssertEqual(sketches.count, 2)
        XCTAssertEqual(sketches.first, sketches.last)
    }

    func testPlotWithoutAFilePrintsOnlyTheSketch() {
        let (_, output, error) = PictureTestSupport.run("plot([1, 2, 4, 8], colour: false)", setup: false)
        XCTAssertNil(error)
        XCTAssertEqual(output, ["tensor [4]\n  tensor [4] · index 0 … 3\n  tensor ▁▂▄█ 1 → 8"])
    }

    /// Each example leaves at least one picture in its working directory (ExamplesTests runs them).
    func testEveryExampleWritesAPicture() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".nmap") }.sorted()
        XCTAssertFalse(names.isEmpty)
        for url in names.map(directory.appendingPathComponent) {
            let text = try String(contentsOf: url, encoding: .utf8)
            let writes = text.split(separator: "\n").contains { line in
                line.hasPrefix("plot ") && line.contains(" to \"") && line.contains(".svg\"")
            }
            XCTAssert(writes, "\(url.lastPathComponent) should write a picture with plot … to \"….svg\"")
        }
    }

    // MARK: - Errors

    func testWhatCannotBePlottedIsAClearError() {
        let cases: [(code: String, message: String)] = [
            ("plot \"text\"", "plot: cannot plot a string; plot can draw a tensor or list of numbers"),
            ("plot data", "plot: cannot plot a dataset; plot can draw"),
            ("plot(transformer(data, d_model: 8, heads: 2))", "plot: an untrained model has no natural picture"),
            ("plot(zeros([2, 2, 2, 2]))", "plot: cannot plot a 4-D tensor [2, 2, 2, 2]"),
            ("plot(model.W_E, to: \"x.png\")", "plot: writes SVG; name the file with .svg, not 'x.png'"),
            ("plot(model.W_E, to: \"/no/such/dir/x.svg\")", "plot: "),
        ]
        for c in cases {
            let (_, _, error) = PictureTestSupport.run(c.code)
            XCTAssert(error?.hasPrefix(c.message) == true, "\(c.code): \(error ?? "no error")")
        }
        let (_, _, error) = PictureTestSupport.run("plot \"text\"", setup: false)
        for kind in ["fourier", "progress", "sweep", "circuit", "training run"] {
            XCTAssert(error?.contains(kind) == true, "the error lists \(kind) among what can be plotted")
        }
    }
}
