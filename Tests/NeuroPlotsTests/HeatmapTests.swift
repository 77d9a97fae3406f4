import Foundation
import XCTest
@testable import NeuroPlots

/// Heatmaps keep their cells legible: a wide grid of few rows (3 positions ×
/// 512 neurons) is wrapped into bands of cells at least `minimumCell` pixels
/// on a side, each band labelled with its own columns, rather than squashed
/// into a strip a few pixels tall.
final class HeatmapTests: XCTestCase {
    /// The rectangles of a drawing as (x, y, width, height), with their fill.
    static func rects(_ svg: String) -> [(x: Double, y: Double, width: Double, height: Double, fill: String)] {
        svg.components(separatedBy: "<rect ").dropFirst().compactMap { element in
            func attribute(_ name: String) -> String? {
                guard let start = element.range(of: " \(name)=\"") ?? (element.hasPrefix("\(name)=\"") ? element.range(of: "\(name)=\"") : nil)
                else { return nil }
                return String(element[start.upperBound...].prefix { $0 != "\"" })
            }
            guard let x = attribute("x").flatMap(Double.init), let y = attribute("y").flatMap(Double.init),
                  let w = attribute("width").flatMap(Double.init), let h = attribute("height").flatMap(Double.init) else { return nil }
            return (x, y, w, h, attribute("fill") ?? "")
        }
    }

    /// A 3 × 512 grid, as `plot` gets it from a [pos, neuron] tensor.
    static func wide() -> HeatmapPanel {
        let values = (0..<3).map { r in (0..<512).map { c in sin(Double(r * 512 + c)) } }
        return Figure.heatmap(title: "pos × neuron", facets: [.init(title: "", values: values)], rowLabels: ["0", "1", "2"],
                              columnLabels: (0..<512).map(String.init), xLabel: "neuron", yLabel: "pos")
    }

    func testAWideGridOfFewRowsKeepsEveryColumn() {
        let panel = Self.wide()
        XCTAssertEqual(panel.facets[0].values[0].count, 512, "512 neurons are not averaged in blocks of 4")
        XCTAssertEqual(panel.columnLabels.count, 512)
    }

    func testAWideGridIsWrappedIntoBandsOfLegibleCells() throws {
        let svg = try Figure(title: "t", panels: [.heatmap(Self.wide())]).svg()
        // Cells are the crisp rectangles with a tooltip-free fill; the frame and colour bar are not cells.
        let cells = Self.rects(svg).filter { $0.fill.hasPrefix("#") && $0.width < 100 && $0.height < 100 && $0.height > 0 }
        XCTAssertGreaterThanOrEqual(cells.count, 3 * 512 / 2, "the cells are drawn")
        let heights = Set(cells.map(\.height)), widths = Set(cells.map(\.width))
        XCTAssertGreaterThanOrEqual(heights.min() ?? 0, Heatmap.minimumCell, "cells are at least \(Heatmap.minimumCell) px tall, not squashed")
        XCTAssertGreaterThanOrEqual(widths.min() ?? 0, Heatmap.minimumCell, "cells are at least \(Heatmap.minimumCell) px wide")
        let bandTops = Set(cells.map(\.y)).count / 3
        XCTAssertGreaterThan(bandTops, 1, "the 512 columns wrap into several bands")
        let height = try XCTUnwrap(svg.components(separatedBy: "height=\"").dropFirst().first.flatMap { Double($0.prefix { $0 != "\"" }) })
        XCTAssertGreaterThan(height, 150, "the picture is taller than a strip")
        XCTAssert(svg.contains(">86</text>"), "the second band names its first column, 86")
        XCTAssert(svg.contains(">neuron</text>") && svg.contains(">pos</text>"), "the axis titles are drawn once each")
        XCTAssertEqual(svg.components(separatedBy: ">pos</text>").count - 1, 1, "one y title for all the bands")
    }

    func testASquareGridIsNotWrapped() throws {
        let values = (0..<40).map { r in (0..<40).map { c in Double(r - c) } }
        let svg = try Heatmap(values: values).render()
        let cells = Self.rects(svg).filter { $0.fill.hasPrefix("#") && $0.width < 100 && $0.height < 100 }
        XCTAssertEqual(Set(cells.map(\.y)).count, 40, "one band: one row of cells per row of the grid")
        XCTAssertNil(Heatmap.bandColumns(rows: 40, columns: 40, cellWidth: 10, fixedCells: false, facets: 1))
        XCTAssertEqual(Heatmap.bandColumns(rows: 3, columns: 512, cellWidth: 0.8, fixedCells: false, facets: 1), 86,
                       "512 columns in 6 bands of at most 90 (720 px at 8 px)")
    }
}
