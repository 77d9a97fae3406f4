import Foundation
import XCTest
@testable import NeuroLanguage
@testable import NeuroLab
import NeuroPlots

/// `line`, `bar`, `scatter` and `imshow`: pictures of one's own numbers,
/// with the title, axis titles, names and ticks the call gives; printed as
/// their sketch, written as SVG, and part of the session's report.
final class PicturesBuiltinTests: XCTestCase {
    /// Runs `code` with `DIR` standing for a fresh directory; the output, the error and the directory.
    func run(_ code: String, setup: Bool = false) throws -> (output: [String], error: String?, directory: URL, interpreter: Interpreter) {
        let directory = try PictureTestSupport.temporaryDirectory("pictures")
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let (interpreter, output, error) = PictureTestSupport.run(code.replacingOccurrences(of: "DIR", with: directory.path), setup: setup)
        return (output, error, directory, interpreter)
    }

    func svg(_ directory: URL, _ name: String) throws -> String {
        let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        XCTAssertNil(PictureTestSupport.xmlProblem(text), name)
        return text
    }

    func testLineDrawsNamedSeriesOverTheirX() throws {
        let r = try run("""
            fig = line({"train": [2, 1, 0.5], "test": [2.1, 1.9, 1.2]}, x: [0, 100, 200], title: "loss", xlabel: "epoch", ylabel: "cross-entropy", to: "DIR/line.svg")
            print(fig)
            print(type(fig), fig.kind, fig.title)
            """)
        XCTAssertNil(r.error)
        let text = try svg(r.directory, "line.svg")
        for label in ["loss", "epoch", "cross-entropy", "train", "test", "200"] {
            XCTAssert(text.contains(">\(label)</text>"), "the SVG shows \(label)")
        }
        XCTAssertEqual(r.output.first, "wrote \(r.directory.path)/line.svg")
        let printed = r.output.joined(separator: "\n").split(separator: "\n").map(String.init)
        XCTAssert(printed.contains { $0.hasPrefix("  train ") && $0.hasSuffix("2 → 0.5") }, "printed, it is its sketch: \(printed)")
        XCTAssertEqual(r.output.last, "figure line chart loss")
    }

    func testLineOfARowPerSeriesWithLabelsAndNoLegend() throws {
        let r = try run("""
            line(tensor([[1, 2, 3], [3, 2, 1]]), labels: ["up", "down"], to: "DIR/rows.svg")
            line(tensor([[1, 2, 3], [3, 2, 1]]), legend: false, to: "DIR/bare.svg")
            """)
        XCTAssertNil(r.error)
        let rows = try svg(r.directory, "rows.svg")
        XCTAssert(rows.contains(">up</text>") && rows.contains(">down</text>"), "one named line per row")
        let bare = try svg(r.directory, "bare.svg")
        XCTAssertFalse(bare.contains(">row 0</text>"), "legend: false draws no legend")
    }

    func testBarNamesItsBarsAndShowsAZero() throws {
        let r = try run("b = bar([0.98, 0, 0.5], labels: [\"clean\", \"ablated\", \"patched\"], title: \"accuracy\", ylabel: \"acc\", to: \"DIR/bar.svg\")")
        XCTAssertNil(r.error)
        let text = try svg(r.directory, "bar.svg")
        for label in ["accuracy", "acc", "clean", "ablated", "patched", "0.98", "0"] {
            XCTAssert(text.contains(">\(label)</text>"), "the SVG shows \(label)")
        }
        let grouped = try run("bar({\"cos\": [1, 2], \"sin\": [2, 1]}, labels: [\"k = 1\", \"k = 2\"], to: \"DIR/g.svg\")")
        XCTAssertNil(grouped.error)
        let g = try svg(grouped.directory, "g.svg")
        XCTAssert(g.contains(">cos</text>") && g.contains(">sin</text>") && g.contains(">k = 2</text>"), "groups in a legend, bars named")
    }

    func testScatterColoursByGroupWithALegend() throws {
        let r = try run("scatter([0, 1, 2, 3], [1, 0, 1, 0], groups: [\"even\", \"odd\", \"even\", \"odd\"], labels: [\"a\", \"b\", \"c\", \"d\"], xlabel: \"cos\", ylabel: \"sin\", to: \"DIR/s.svg\")")
        XCTAssertNil(r.error)
        let text = try svg(r.directory, "s.svg")
        for label in ["even", "odd", "cos", "sin", "c"] { XCTAssert(text.contains(">\(label)</text>"), "the SVG shows \(label)") }
        XCTAssert(text.contains("fill=\"\(Palette.color(0))\"") && text.contains("fill=\"\(Palette.color(1))\""), "each group its colour")
    }

    func testImshowPutsTickNamesOnItsAxes() throws {
        let r = try run("imshow(tensor([[1, 2, 3], [4, 5, 6]]), x_ticks: [\"a\", \"b\", \"=\"], y_ticks: [\"L0\", \"L1\"], xlabel: \"token\", ylabel: \"layer\", title: \"acts\", to: \"DIR/m.svg\")")
        XCTAssertNil(r.error)
        let text = try svg(r.directory, "m.svg")
        for label in ["acts", "token", "layer", "a", "b", "=", "L0", "L1"] {
            XCTAssert(text.contains(">\(SVG.escape(label))</text>"), "the SVG shows \(label)")
        }
    }

    func testFiguresJoinTheReportWithTheirCommands() throws {
        let r = try run("""
            fig = line([3, 2, 1], title: "falling")
            report("DIR/r.html")
            """)
        XCTAssertNil(r.error)
        let html = try String(contentsOf: r.directory.appendingPathComponent("r.html"), encoding: .utf8)
        XCTAssert(html.contains("<pre class=\"command\">fig = line([3, 2, 1], title: &quot;falling&quot;)</pre>"), "the command is above the figure")
        XCTAssert(html.contains("line chart: falling"), "headed by its kind and title")
        XCTAssertEqual(html.components(separatedBy: "<figure><svg").count - 1, 1)
    }

    func testPlotAndSaveTakeAFigure() throws {
        let r = try run("""
            fig = line([3, 2, 1])
            plot(fig, to: "DIR/p.svg", title: "renamed", labels: ["only"], colour: false)
            save(fig, "DIR/s.svg")
            """)
        XCTAssertNil(r.error)
        let plotted = try svg(r.directory, "p.svg")
        XCTAssert(plotted.contains(">renamed</text>") && plotted.contains(">only</text>"))
        XCTAssert(try svg(r.directory, "s.svg").contains("<svg"))
    }

    func testBadArgumentsNameTheArgumentAndTheCounts() throws {
        let cases: [(code: String, message: String)] = [
            ("line([1, 2], x: [1, 2, 3])", "line: 'x' has 3 values but series 'y' has 2"),
            ("line({})", "line: 'ys' is an empty record; give each series a field, like {\"train\": a}"),
            ("line(zeros([2, 2, 2]))", "line: 'ys' must be numbers, a 2-D tensor (one line per row) or a record of series, got a tensor [2, 2, 2]"),
            ("line([1, 2], labels: [\"a\", \"b\"])", "line: labels: 2 names for 1 series (y)"),
            ("line([1, 2], title: 3)", "line: 'title' must be a string, got number"),
            ("line([1, 2], legend: \"no\")", "line: 'legend' must be true or false, got string"),
            ("line([1, 2], to: \"x.png\")", "line: writes SVG; name the file with .svg, not 'x.png' (report(\"x.html\") writes a page)"),
            ("bar([1, 2, 3], labels: [\"a\", \"b\"])", "bar: 'labels' has 2 names for 3 bars"),
            ("bar([1, 2], labels: \"ab\")", "bar: 'labels' must be a list of names, like [\"a\", \"b\"], got string"),
            ("bar({\"a\": [1, 2], \"b\": [1]})", "bar: every group needs one value per bar: 'a' has 2, 'b' has 1"),
            ("scatter([1, 2], [1])", "scatter: 'xs' has 2 values but 'ys' has 1"),
            ("scatter([1, 2], [1, 2], groups: [\"a\"])", "scatter: 'groups' has 1 name for 2 points (one group name per point)"),
            ("imshow([1, 2, 3])", "imshow: 'matrix' must be a 2-D tensor (rows × columns), got [3]"),
            ("imshow(zeros([2, 3]), x_ticks: [\"a\"])", "imshow: 'x_ticks' has 1 name for 3 columns"),
            ("imshow(zeros([2, 3]), y_ticks: [\"a\", \"b\", \"c\"])", "imshow: 'y_ticks' has 3 names for 2 rows"),
            ("plot([1, 2], labels: [\"a\", \"b\"])", "plot: labels: 2 names for 1 series (tensor)"),
            ("plot([1, 2], xlabel: true)", "plot: 'xlabel' must be a string, got bool"),
            ("plot(model.history, labels: [\"a\"])", "plot: labels: names the series of a picture of one chart; this one has 2 charts (loss; test accuracy)"),
        ]
        for c in cases {
            let (_, _, error) = PictureTestSupport.run(c.code)
            XCTAssertEqual(error, c.message, c.code)
        }
    }
}
