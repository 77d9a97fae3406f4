import Foundation
import XCTest
@testable import NeuroPlots

/// Bars that are 0 are seen: a mark on the baseline in the bar's colour and
/// the value written above each bar (the report's one-bar-per-intervention charts).
final class GroupedBarChartTests: XCTestCase {
    func testAZeroBarHasAVisibleMarkAndItsValue() throws {
        let chart = GroupedBarChart(title: "accuracy", groups: ["clean", "ablated", "patched"],
                                    series: [.init("accuracy", values: [0.98, 0, 0.5])], yAxis: Axis("accuracy"))
        let svg = try chart.render()
        let rects = HeatmapTests.rects(svg).filter { $0.fill == Palette.color(0) && $0.width > 20 }   // bars, not the legend swatch
        let tallest = try XCTUnwrap(rects.map(\.height).max())
        let marks = rects.filter { $0.height >= GroupedBarChart.minimumBarHeight && $0.height < tallest / 10 }
        XCTAssertEqual(marks.count, 1, "the 0 bar is drawn as a mark of at least \(GroupedBarChart.minimumBarHeight) px")
        for value in ["0.98", "0", "0.5"] {
            XCTAssert(svg.contains(">\(value)</text>"), "the value \(value) is written above its bar")
        }
    }

    func testManyBarsAreNotLabelled() throws {
        let values = (0..<40).map { Double($0) + 100.25 }
        let svg = try GroupedBarChart(groups: values.indices.map(String.init), series: [.init("v", values: values)]).render()
        XCTAssertFalse(svg.contains(">100.2</text>") || svg.contains(">139.2</text>"), "a spectrum of 40 bars is not crowded with values")
        let unlabelled = try GroupedBarChart(groups: ["a", "b"], series: [.init("v", values: [1.25, 2.75])], valueLabels: false).render()
        XCTAssertFalse(unlabelled.contains(">1.25</text>"), "valueLabels: false writes no values")
    }

    func testTheLegendCanBeHidden() throws {
        let series: [GroupedBarChart.Series] = [.init("cos", values: [1, 2]), .init("sin", values: [2, 1])]
        XCTAssert(try GroupedBarChart(groups: ["1", "2"], series: series).render().contains(">cos</text>"))
        XCTAssertFalse(try GroupedBarChart(groups: ["1", "2"], series: series, showLegend: false).render().contains(">cos</text>"))
    }
}
