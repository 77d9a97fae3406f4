import XCTest
@testable import NeuroPlots

/// A scatter's guide lines, arrows from the origin and log x axis, in SVG
/// and in the sketch; without them a scatter draws as before (the golden files).
final class ScatterPlotTests: XCTestCase {
    func count(_ text: String, _ piece: String) -> Int { text.components(separatedBy: piece).count - 1 }

    func testGuidesAreLabelledDashedLinesTheAxisReaches() throws {
        let plain = ScatterPlot(x: [1, 2, 3], y: [0.2, 0.3, 0.25])
        let guided = ScatterPlot(x: [1, 2, 3], y: [0.2, 0.3, 0.25], guides: [(y: 1, label: "1"), (y: 0.4, label: "2/5")])
        let (before, after) = (try plain.render(), try guided.render())
        XCTAssertEqual(count(after, "stroke-dasharray=\"5 4\"") - count(before, "stroke-dasharray=\"5 4\""), 2, "one dashed line per guide")
        XCTAssert(after.contains(">2/5</text>"))
        XCTAssertFalse(before.contains(">2/5</text>"))
        // The y axis stretches to the guide at 1, above every point.
        let yr = try ResolvedAxis.resolve(Axis(), values: [0.2, 0.3, 0.25, 1], chart: "", name: "y")
        XCTAssertGreaterThanOrEqual(yr.hi, 1)
        XCTAssert(after.contains(">1</text>"))
    }

    func testArrowsFromTheOrigin() throws {
        let x = [1.0, -0.5, 0.2], y = [0.5, 0.8, -1]
        let arrow = "stroke=\"\(Palette.axis)\" stroke-width=\"1.5\""       // axes and ticks are 1 wide
        XCTAssertEqual(count(try ScatterPlot(x: x, y: y, equalAspect: true).render(), arrow), 0)
        let arrows = try ScatterPlot(x: x, y: y, equalAspect: true, fromOrigin: true)
        XCTAssertEqual(count(try arrows.render(), arrow), 3, "one line per point")
        // Points all on one side of 0: the axes still reach the origin the arrows start from (a tick labelled 0 on each).
        let oneSide = try ScatterPlot(x: [1, 2], y: [1, 2], fromOrigin: true).render()
        XCTAssertEqual(count(oneSide, arrow), 2)
        XCTAssertEqual(count(oneSide, ">0</text>"), 2)
        XCTAssertEqual(count(try ScatterPlot(x: [1, 2], y: [1, 2]).render(), ">0</text>"), 0)
    }

    func testAPanelPassesItsOptionsToTheChart() throws {
        let panel = ScatterPanel(title: "D", xLabel: "1/(1−S)", yLabel: "dimensionality",
                                 groups: [.init(name: "features", points: [(1, 1), (10, 0.5), (100, 0.4)], labels: ["a", "b", "c"])],
                                 logX: true, guides: [(y: 0.5, label: "1/2")], fromOrigin: false, showLabels: true)
        let charts = try Figure.charts(.scatter(panel))
        let chart = try XCTUnwrap(charts.first as? ScatterPlot)
        XCTAssertEqual(chart.xAxis.scale, .log)
        XCTAssertEqual(chart.guides.map(\.y), [0.5])
        XCTAssertTrue(chart.showLabels)
        XCTAssertFalse(chart.fromOrigin)
        let defaults = try XCTUnwrap(Figure.charts(.scatter(ScatterPanel(title: "t", xLabel: "x", yLabel: "y",
                                                                         groups: panel.groups))).first as? ScatterPlot)
        XCTAssertEqual(defaults.xAxis.scale, .linear)
        XCTAssert(defaults.guides.isEmpty)
        XCTAssertFalse(defaults.showLabels)
    }

    func testTheSketchDrawsGuidesAndALogAxis() {
        let panel = ScatterPanel(title: "D", xLabel: "x", yLabel: "D", groups: [.init(name: "f", points: [(1, 1), (10, 0.5), (100, 0)])],
                                 logX: true, guides: [(y: 0.5, label: "1/2")])
        let lines = Sketch.scatter(panel)
        XCTAssertEqual(lines.count, 1 + Sketch.height + 3)
        XCTAssertEqual(lines.last, "   ┈ at 1/2")
        XCTAssert(lines[lines.count - 2].contains("x 1 … 100 (log)"), lines[lines.count - 2])
        // Log x puts 10 halfway between 1 and 100: the middle point sits in the middle column, on the guide's row.
        let middle = try? XCTUnwrap(lines.first { $0.contains("┈") && $0.contains("•") })
        XCTAssertNotNil(middle)
        let row = Array(middle ?? "")
        XCTAssertEqual(row.firstIndex(of: "•").map { $0 - 3 }, Sketch.width / 2 * 2 / 2, "column of x = 10")
        let plain = Sketch.scatter(ScatterPanel(title: "D", xLabel: "x", yLabel: "D", groups: panel.groups))
        XCTAssertFalse(plain.joined().contains("┈"))
        XCTAssert(plain.last?.hasSuffix("x 1 … 100 · D 0 … 1") == true, plain.last ?? "")
    }
}
