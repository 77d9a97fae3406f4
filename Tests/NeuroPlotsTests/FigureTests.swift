import Foundation
import XCTest
@testable import NeuroPlots

/// Figures as SVG: one chart is that chart's own document; several are
/// placed in rows in one document, their gradients shared, never by
/// editing SVG text.
final class FigureTests: XCTestCase {
    let heat = HeatmapPanel(title: "h", facets: [.init(title: "", values: [[0, 1], [2, 3]])], rowLabels: ["0", "1"],
                            columnLabels: ["0", "1"], xLabel: "x", yLabel: "y", diverging: false)
    let line = LinePanel(title: "loss", xLabel: "epoch", yLabel: "loss", series: [.init(name: "train", x: [1, 2, 3], y: [3, 2, 1])])

    func testOneChartIsThatChartsOwnDocument() throws {
        let figure = Figure(title: "t", panels: [.lines(line)])
        XCTAssertEqual(try figure.svg(), try Figure.charts(.lines(line))[0].render())
    }

    func testChartsAreLaidOutInRowsWithTheirGradientsSharedOnce() throws {
        let figure = Figure(title: "two <maps>", panels: [.heatmap(heat), .heatmap(heat), .lines(line)])
        let drawing = try figure.drawing()
        let charts = try figure.panels.flatMap(Figure.charts).map { try $0.draw() }
        XCTAssertEqual(charts.count, 3)
        // Two heatmaps side by side, the line chart below them (it does not fit the row).
        XCTAssertEqual(drawing.width, max(charts[0].width + charts[1].width, charts[2].width))
        XCTAssertEqual(drawing.height, max(charts[0].height, charts[1].height) + charts[2].height)
        let svg = try figure.svg()
        XCTAssertEqual(svg.components(separatedBy: "<?xml").count - 1, 1)
        XCTAssertEqual(svg.components(separatedBy: "<svg ").count - 1, 4, "the document and each chart")
        XCTAssertEqual(svg.components(separatedBy: "xmlns=").count - 1, 1, "only the document names the namespace")
        XCTAssert(svg.contains("<svg x=\"\(SVG.number(charts[0].width))\" y=\"0\" width="), "the second map sits right of the first")
        XCTAssert(svg.contains("<svg x=\"0\" y=\"\(SVG.number(charts[0].height))\" width="), "the line chart starts the next row")
        XCTAssert(svg.contains("<title>two &lt;maps&gt;</title>"))
        let ids = svg.components(separatedBy: " id=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        XCTAssertEqual(ids.count, 1, "the two maps' equal colour bars share one gradient")
        XCTAssertEqual(svg.components(separatedBy: "url(#\(ids[0]))").count - 1, 2, "both maps use it")
    }

    func testIdsAreNamespacedWhenRendered() throws {
        let drawing = try Figure(title: "t", panels: [.heatmap(heat)]).drawing()
        let inline = drawing.render(idPrefix: "r1-", standalone: false)
        XCTAssertFalse(inline.contains("<?xml"))
        XCTAssertFalse(inline.contains("xmlns"))
        let ids = inline.components(separatedBy: " id=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        XCTAssertEqual(ids.count, 1)
        XCTAssert(ids[0].hasPrefix("r1-colorbar-"), ids[0])
        XCTAssert(inline.contains("fill=\"url(#\(ids[0]))\""))
        XCTAssertEqual(drawing.render(), try Heatmap(title: "h", panels: [.init("", values: [[0, 1], [2, 3]])], rowLabels: ["0", "1"],
                                                     columnLabels: ["0", "1"], xLabel: "x", yLabel: "y").render(),
                       "without a prefix the document is the chart's own")
    }

    func testLargeGridsAreAveragedInBlocks() {
        let values = (0..<300).map { r in [Double(r), Double(-r)] }
        let panel = Figure.heatmap(title: "big", facets: [.init(title: "", values: values)], rowLabels: (0..<300).map(String.init),
                                   columnLabels: ["a", "b"], xLabel: "", yLabel: "")
        XCTAssertEqual(panel.facets[0].values.count, 100, "300 rows in blocks of 3")
        XCTAssertEqual(panel.facets[0].values[1], [4, -4], "rows 3, 4, 5 averaged")
        XCTAssertEqual(panel.rowLabels.prefix(3), ["0", "3", "6"])
        XCTAssertTrue(panel.diverging, "values of both signs diverge from 0")
        XCTAssertEqual(Figure.grid([1, 2, 3, 4, 5, 6], rows: 2, columns: 3), [[1, 2, 3], [4, 5, 6]])
    }

    func testAChartThatCannotDrawIsAPlotError() {
        let empty = Figure(title: "e", panels: [.lines(LinePanel(title: "e", xLabel: "", yLabel: "", series: []))])
        XCTAssertThrowsError(try empty.svg()) { error in
            XCTAssertEqual(error as? PlotError, PlotError("line chart: no data (the list of series is empty)"))
        }
    }
}
