import Foundation
import XCTest
@testable import NeuroPlots

/// Terminal sketches: sparklines, block heatmaps, bars, scatters and circuit
/// edge lists, the same text for the same figure.
final class SketchTests: XCTestCase {
    func testSparklines() {
        XCTAssertEqual(Sketch.sparkline([1, 2, 4, 8], width: 4), "▁▂▄█")
        XCTAssertEqual(Sketch.sparkline([1, 10, 100], log: true), "▁▅█")
        XCTAssertEqual(Sketch.sparkline([3, 3, 3]), "▄▄▄", "a constant is drawn mid-height")
        XCTAssertEqual(Sketch.sparkline([1, .nan, 0, 2], log: true), "▁  █", "gaps for NaN and for ≤ 0 on a log scale")
        XCTAssertEqual(Sketch.sparkline(Array(0..<120).map(Double.init), width: 8), "▁▂▃▄▅▆▇█", "long series are averaged in buckets")
        XCTAssertEqual(Sketch.sparkline([]), "")
    }

    func testHeatmapSketches() {
        let panel = HeatmapPanel(title: "grid", facets: [.init(title: "", values: [[0, 1], [2, 3]])], rowLabels: ["a", "b"],
                                 columnLabels: ["x", "y"], xLabel: "col", yLabel: "row", diverging: false)
        XCTAssertEqual(Sketch.heatmap(panel, colour: false), ["  grid", "  a  ░", "  b ▓█", "    col x … y", "     ░▒▓█ 0 … 3"])
        var diverging = panel
        diverging.facets = [.init(title: "", values: [[-2, 0], [1, 2]])]
        diverging.diverging = true
        let lines = Sketch.heatmap(diverging, colour: false)
        XCTAssertEqual(Array(lines[1...2]), ["  a ■ ", "  b ▒█"], "negative cells use their own shades")
        let coloured = Sketch.heatmap(diverging, colour: true)
        XCTAssert(coloured[1].contains("\u{1B}[38;5;21m█"), "full negative is blue: \(coloured[1])")
        XCTAssert(coloured[2].contains("\u{1B}[38;5;196m█"), "full positive is red: \(coloured[2])")
        XCTAssertEqual(coloured, Sketch.heatmap(diverging, colour: true))
    }

    func testBarAndScatterAndCircuitSketches() {
        let few = BarPanel(title: "metric", xLabel: "", yLabel: "acc", categories: ["clean", "patched"],
                           groups: [.init(name: "acc", values: [1, 0.25])])
        XCTAssertEqual(Sketch.bars(few), ["  metric", "  clean   " + String(repeating: "█", count: 40) + " 1",
                                          "  patched " + String(repeating: "█", count: 10) + " 0.25"])
        let spectrum = BarPanel(title: "spectrum", xLabel: "frequency", yLabel: "norm", categories: (1...20).map(String.init),
                                groups: [.init(name: "cos", values: (1...20).map { $0 == 14 ? 2 : 0.1 })])
        let lines = Sketch.bars(spectrum)
        XCTAssertEqual(lines.count, 6)
        XCTAssert(lines.last?.contains("largest: 14 (2)") == true, lines.last ?? "")
        let circle = ScatterPanel(title: "circle", xLabel: "x", yLabel: "y",
                                  groups: [.init(name: "k", points: (0..<12).map { (cos(Double($0) * .pi / 6), sin(Double($0) * .pi / 6)) })],
                                  square: true)
        let drawn = Sketch.scatter(circle)
        XCTAssertEqual(drawn.count, 1 + Sketch.height + 2)
        XCTAssertEqual(drawn.joined().filter { $0 == "•" }.count, 12)
        let circuit = CircuitPanel(title: "c", nodes: [.init(name: "embed", type: "embed"), .init(name: "unembed", type: "unembed")],
                                   edges: [.init(source: "embed", target: "unembed", input: nil, weight: 0.5)])
        XCTAssertEqual(Sketch.circuit(circuit), ["  c", "  components: embed unembed", "  embed → unembed  0.5"])
        let missing = CircuitPanel(title: "c", nodes: circuit.nodes, edges: [.init(source: "embed", target: "unembed", weight: .nan)])
        XCTAssertEqual(Sketch.circuit(missing).last, "  embed → unembed  nan", "a weight that is not a number says so")
    }

    func testAWholeFigureStartsWithItsTitle() {
        let line = LinePanel(title: "loss", xLabel: "epoch", yLabel: "loss", series: [.init(name: "train", x: [1, 2, 3, 4], y: [1, 2, 4, 8])])
        XCTAssertEqual(Sketch.render(Figure(title: "run", panels: [.lines(line)])).split(separator: "\n").first, "run")
    }
}
