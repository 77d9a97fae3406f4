import Foundation
import XCTest
@testable import NeuroLanguage
@testable import NeuroLab
@testable import NeuroPlots

/// The picture of `progress`: each phase shaded and labelled where it is
/// (not stacked at the top left), the end of cleanup marked, and test and
/// excluded loss told apart at a glance.
final class AnalysisBuiltinTests: XCTestCase {
    /// A progress result over epochs 0…1000 with the phases given.
    static func progress(phases: [(String, Double, Double)]) -> ResultValue {
        let epochs = (0...10).map { Double($0 * 100) }
        func numbers(_ f: (Double) -> Double) -> Value { .list(epochs.map { .number(f($0)) }) }
        return ResultValue(heading: "progress measures", figure: Figure.progress, kind: "progress", title: "progress", fields: [
            ("epochs", numbers { $0 }), ("train_loss", numbers { 2 * exp(-$0 / 100) + 1e-4 }),
            ("test_loss", numbers { $0 < 500 ? 2 + $0 / 100 : 7 * exp(-($0 - 500) / 100) + 1e-3 }),
            ("restricted_loss", numbers { 3 * exp(-$0 / 300) + 1e-3 }), ("excluded_loss", numbers { 2 + $0 / 300 }),
            ("phases", .record(Record(phases.map { ($0.0, .list([.number($0.1), .number($0.2)])) }))),
        ])
    }

    /// Texts of a drawing with their left edge and font size.
    static func texts(_ svg: String) -> [(text: String, x: Double)] {
        svg.components(separatedBy: "<text ").dropFirst().compactMap { element in
            guard let x = element.components(separatedBy: "x=\"").dropFirst().first.flatMap({ Double($0.prefix { $0 != "\"" }) }),
                  let open = element.firstIndex(of: ">"), let close = element.range(of: "</text>") else { return nil }
            return (String(element[element.index(after: open)..<close.lowerBound]), x)
        }
    }

    func testEachPhaseIsLabelledAtItsPhaseAndTheEndOfCleanupIsMarked() throws {
        let result = Self.progress(phases: [("memorization", 0, 200), ("circuit_formation", 200, 600), ("cleanup", 600, 800)])
        let svg = try result.figure().svg()
        let texts = Self.texts(svg)
        // The x axis: its tick labels 0 and 1000 are centred on their values.
        let zero = try XCTUnwrap(texts.first { $0.text == "0" }).x, thousand = try XCTUnwrap(texts.first { $0.text == "1000" }).x
        func px(_ epoch: Double) -> Double { zero + epoch / 1000 * (thousand - zero) }
        for (label, from, to) in [("memorization", 0.0, 200.0), ("circuit formation", 200, 600), ("cleanup", 600, 800)] {
            let found = try XCTUnwrap(texts.first { $0.text == label }, "the phase \(label) is labelled")
            let centre = found.x + textWidth(label, size: 11) / 2
            let (left, right) = (px(from), px(to))
            XCTAssertLessThan(abs(centre - (left + right) / 2), (right - left) / 4, "\(label) is labelled in the middle of its phase")
        }
        XCTAssertEqual(Set(["memorization", "circuit formation", "cleanup"].compactMap { l in texts.first { $0.text == l }?.x }).count, 3,
                       "no two phase labels share a place")
        let end = try XCTUnwrap(texts.first { $0.text == "cleanup ends" }, "the end of cleanup is marked")
        XCTAssertEqual(end.x + textWidth("cleanup ends", size: 11) / 2, px(800), accuracy: 1)
        XCTAssert(svg.contains("x1=\"\(SVG.number(px(800)))\""), "a line marks the end of cleanup")
    }

    func testPhasesNotFoundDrawNoLabelsAtTheLeftEdge() throws {
        let result = Self.progress(phases: [("memorization", 0, 0), ("circuit_formation", 0, 0), ("cleanup", 0, 0)])
        let texts = Self.texts(try result.figure().svg()).map(\.text)
        for label in ["memorization", "circuit formation", "cleanup", "cleanup ends"] {
            XCTAssertFalse(texts.contains(label), "no phases were found, so \(label) is not stacked at the left edge")
        }
    }

    /// Hue in degrees of "#rrggbb".
    static func hue(_ hex: String) -> Double {
        let v = Int(hex.dropFirst(), radix: 16) ?? 0
        let (r, g, b) = (Double((v >> 16) & 255) / 255, Double((v >> 8) & 255) / 255, Double(v & 255) / 255)
        let hi = max(r, g, b), lo = min(r, g, b)
        guard hi > lo else { return 0 }
        let h: Double = hi == r ? (g - b) / (hi - lo) : hi == g ? 2 + (b - r) / (hi - lo) : 4 + (r - g) / (hi - lo)
        return (h * 60 + 360).truncatingRemainder(dividingBy: 360)
    }

    func testTestAndExcludedLossAreToldApart() throws {
        let panel = try Figure.progressPanel(Self.progress(phases: []))
        let colours = panel.series.enumerated().map { $0.element.color ?? Palette.color($0.offset) }
        let names = panel.series.map(\.name)
        let test = try XCTUnwrap(names.firstIndex(of: "test")), excluded = try XCTUnwrap(names.firstIndex(of: "excluded"))
        let apart = abs(Self.hue(colours[test]) - Self.hue(colours[excluded]))
        XCTAssertGreaterThan(min(apart, 360 - apart), 90, "test (\(colours[test])) and excluded (\(colours[excluded])) differ in hue")
        XCTAssertNotEqual(panel.series[test].dashed, panel.series[excluded].dashed, "and in dash")
        XCTAssertEqual(Set(colours).count, colours.count, "every curve has its own colour")
    }
}
