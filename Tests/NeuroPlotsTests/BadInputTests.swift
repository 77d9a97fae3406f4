import Foundation
import XCTest
import NeuroEngine
import NeuroPlots

// Bad input gives a clear error or a visible mark, never a crash.

final class BadInputTests: XCTestCase {
    private func message(_ body: () throws -> Any) -> String? {
        do { _ = try body(); return nil } catch let error as PlotError { return error.message } catch { return "\(error)" }
    }

    // MARK: - Empty data

    func testEmptyDataIsAClearError() throws {
        XCTAssertEqual(message { try LineChart(series: []).render() }, "line chart: no data (the list of series is empty)")
        XCTAssertEqual(message { try LineChart(series: [.init("train", y: [])]).render() }, "line chart: series 'train' has no points")
        XCTAssertEqual(message { try Heatmap(values: []).render() }, "heatmap: no data (the matrix has no rows)")
        XCTAssertEqual(message { try Heatmap(values: [[]]).render() }, "heatmap: no data (row 0 of the matrix is empty)")
        XCTAssertEqual(message { try Heatmap(panels: []).render() }, "heatmap: no data (the list of panels is empty)")
        XCTAssertEqual(message { try ScatterPlot(x: [], y: []).render() }, "scatter plot: no data (the list of points is empty)")
        XCTAssertEqual(message { try GroupedBarChart(groups: [], series: []).render() }, "bar chart: no data (the list of groups is empty)")
        XCTAssertEqual(message { try CircuitDiagram(nodes: [], edges: []).render() },
                       "circuit diagram: no data (the list of components is empty)")
    }

    func testEmptyTensorIsAClearError() throws {
        let empty = try Tensor([], shape: [0, 3])
        XCTAssertEqual(message { try Heatmap(tensor: empty) }, "heatmap: no data (tensor of shape [0, 3])")
        let vector = try Tensor([1, 2, 3], shape: [3])
        XCTAssertEqual(message { try Heatmap(tensor: vector) },
                       "heatmap: needs a tensor of shape [rows, cols] or [facets, rows, cols], not [3]")
    }

    func testMismatchedShapesAreClearErrors() throws {
        XCTAssertEqual(message { try LineChart(series: [.init("train", x: [0, 1], y: [1])]).render() },
                       "line chart: series 'train' has 2 x values but 1 y values")
        XCTAssertEqual(message { try Heatmap(values: [[1, 2], [3]]).render() },
                       "heatmap: matrix is ragged: row 0 has 2 values, row 1 has 1")
        XCTAssertEqual(message { try Heatmap(values: [[1, 2]], rowLabels: ["a", "b"]).render() },
                       "heatmap: 2 row labels for 1 rows")
        XCTAssertEqual(message { try GroupedBarChart(groups: ["1", "2"], series: [.init("cos", values: [1])]).render() },
                       "bar chart: series 'cos' has 1 values for 2 groups")
        XCTAssertEqual(message { try ScatterPlot(x: [1, 2], y: [1]).render() }, "scatter plot: 2 x values but 1 y values")
    }

    func testBadCircuitsAreClearErrors() throws {
        XCTAssertEqual(message { try CircuitDiagram(json: #"{"edges": []}"#) },
                       #"circuit diagram: JSON needs an object with a "components" list"#)
        XCTAssertNotNil(message { try CircuitDiagram(json: "{not json") }?.hasPrefix("circuit diagram: invalid JSON"))
        let unknown = CircuitDiagram(nodes: [.init(name: "embed", type: "embed")],
                                     edges: [.init(source: "embed", target: "a9.9", weight: 1)])
        XCTAssertEqual(message { try unknown.render() },
                       "circuit diagram: edge 0 (embed → a9.9) names 'a9.9', which is not a component")
    }

    // MARK: - NaN and infinity

    func testHeatmapShowsNaNCellsInGreyWithANote() throws {
        let svg = try Heatmap(values: [[1, .nan], [-.infinity, -1]]).render()
        XCTAssertTrue(svg.contains("fill=\"\(Palette.missing)\""))
        XCTAssertTrue(svg.contains(">NaN / inf</text>"))
        XCTAssertTrue(svg.contains("<title>0, 1: NaN</title>"))
        XCTAssertTrue(isWellFormed(svg))
        XCTAssertEqual(message { try Heatmap(values: [[.nan]]).render() },
                       "heatmap: every value is NaN or infinite, nothing to colour by")
    }

    func testLineChartBreaksAtNaNAndMarksIt() throws {
        let svg = try LineChart(series: [.init("loss", y: [3, 2, .nan, 1, .infinity, 0.5])]).render()
        XCTAssertTrue(svg.contains(">loss (2 not shown)</text>"))
        XCTAssertTrue(svg.contains(">NaN or inf</text>"))
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 1)   // [3, 2] is a line; 1 and 0.5 are dots
        XCTAssertTrue(isWellFormed(svg))
        // Zero on a log axis cannot be drawn either.
        let log = try LineChart(yAxis: Axis(scale: .log), series: [.init("loss", y: [1, 0, 0.1])]).render()
        XCTAssertTrue(log.contains(">NaN, inf or ≤ 0</text>"))
    }

    func testScatterAndBarsShowNaN() throws {
        let scatter = try ScatterPlot(x: [0, 1, .nan], y: [0, 1, 2], values: [1, .nan, 3]).render()
        XCTAssertTrue(scatter.contains(">1 point not shown (NaN or inf coordinates)</text>"))
        XCTAssertTrue(scatter.contains("fill=\"\(Palette.missing)\""))
        let bars = try GroupedBarChart(groups: ["1", "2"], series: [.init("cos", values: [1, .nan])]).render()
        XCTAssertTrue(bars.contains("<title>2, cos: NaN</title>"))
        XCTAssertTrue(bars.contains(">NaN or inf</text>"))
        XCTAssertTrue(isWellFormed(scatter) && isWellFormed(bars))
    }

    func testExtremeValuesDoNotCrash() throws {
        let extremes: [Double] = [-Double.greatestFiniteMagnitude, 0, Double.greatestFiniteMagnitude]
        let tiny: [Double] = [0, 5e-324, 1e-320]
        for values in [extremes, tiny, [7, 7, 7]] {
            let charts: [Chart] = [
                LineChart(series: [.init("a", x: values, y: values)]),
                LineChart(xAxis: Axis(scale: .log), yAxis: Axis(scale: .log), series: [.init("a", x: values, y: values)]),
                Heatmap(values: [values, values]),
                ScatterPlot(x: values, y: values, values: values, equalAspect: true),
                GroupedBarChart(groups: ["a", "b", "c"], series: [.init("s", values: values)]),
            ]
            for chart in charts {
                do { XCTAssertTrue(isWellFormed(try chart.render())) } catch let error as PlotError { XCTAssertFalse(error.message.isEmpty) }
            }
        }
    }

    // MARK: - Files

    func testUnwritablePathIsAClearError() throws {
        let chart = LineChart(series: [.init("a", y: [1, 2])])
        let path = "/nonexistent-neuromap-dir/plot.svg"
        let text = message { try chart.write(to: path) }
        XCTAssertEqual(text?.hasPrefix("cannot write plot to '\(path)'"), true, text ?? "no error")
    }

    func testWriteReplacesTheFileAtomically() throws {
        let path = NSTemporaryDirectory() + "neuromap-plot-\(getpid()).svg"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let chart = ScatterPlot(x: [0, 1], y: [1, 0])
        try chart.write(to: path)
        try chart.write(to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), try chart.render())
    }

    func testTensorHeatmapMakesOneFacetPerHead() throws {
        let pattern = try Tensor((0..<12).map(Float.init), shape: [3, 2, 2])
        let map = try Heatmap(title: "pattern", tensor: pattern, facetName: "head")
        XCTAssertEqual(map.panels.map(\.title), ["head 0", "head 1", "head 2"])
        XCTAssertEqual(map.panels[1].values, [[4, 5], [6, 7]])
        XCTAssertTrue(isWellFormed(try map.render()))
    }
}
