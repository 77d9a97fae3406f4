import Foundation
import XCTest
@testable import NeuroPlots

/// A figure in the user's words: title, axis titles, names of its series
/// (rows, groups, bars) and the legend, with counts checked.
final class FigureStyleTests: XCTestCase {
    static let lines = Figure(title: "loss", panels: [.lines(LinePanel(title: "loss", xLabel: "epoch", yLabel: "loss", series: [
        .init(name: "row 0", x: [0, 1, 2], y: [3, 2, 1]), .init(name: "row 1", x: [0, 1, 2], y: [2, 2, 2]),
    ]))])

    func testTitleAxisTitlesAndNamesReachTheDrawing() throws {
        let styled = try Self.lines.styled(FigureStyle(title: "Grokking", xLabel: "step", yLabel: "cross-entropy", labels: ["train", "test"]))
        XCTAssertEqual(styled.title, "Grokking")
        let svg = try styled.svg()
        for text in ["Grokking", "step", "cross-entropy", "train", "test"] {
            XCTAssert(svg.contains(">\(text)</text>"), "the drawing shows \(text)")
        }
        XCTAssertFalse(svg.contains(">row 0</text>"), "the old series names are gone")
        XCTAssert(Sketch.render(styled).contains("train"), "the sketch names the series too")
    }

    func testTheLegendCanBeHidden() throws {
        let svg = try Self.lines.styled(FigureStyle(legend: false)).svg()
        XCTAssertFalse(svg.contains(">row 0</text>"), "no legend entries")
        XCTAssert(try Self.lines.svg().contains(">row 0</text>"), "a legend by default")
    }

    func testRowsOfAHeatmapAndBarsAreNamed() throws {
        let heat = Figure(title: "h", panels: [.heatmap(HeatmapPanel(title: "h", facets: [.init(title: "", values: [[1, 2], [3, 4]])],
                                                                    rowLabels: ["0", "1"], columnLabels: ["0", "1"], xLabel: "",
                                                                    yLabel: "", diverging: false))])
        XCTAssert(try heat.styled(FigureStyle(labels: ["first", "second"])).svg().contains(">second</text>"))
        let bars = Figure(title: "b", panels: [.bars(BarPanel(title: "b", xLabel: "", yLabel: "", categories: ["0", "1"],
                                                              groups: [.init(name: "v", values: [1, 2])]))])
        XCTAssert(try bars.styled(FigureStyle(labels: ["clean", "patched"])).svg().contains(">patched</text>"))
    }

    func testLabelsOfTheWrongCountNameTheArgumentAndTheCounts() {
        XCTAssertThrowsError(try Self.lines.styled(FigureStyle(labels: ["a", "b", "c"]))) { error in
            XCTAssertEqual(error as? PlotError, PlotError("labels: 3 names for 2 series (row 0, row 1)"))
        }
        let two = Figure(title: "t", panels: Self.lines.panels + Self.lines.panels)
        XCTAssertThrowsError(try two.styled(FigureStyle(labels: ["a", "b"]))) { error in
            XCTAssertEqual(error as? PlotError, PlotError("labels: names the series of a picture of one chart; this one has 2 charts (loss; loss)"))
        }
    }
}
