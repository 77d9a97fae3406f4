import Foundation
#if canImport(FoundationXML)
import FoundationXML      // XMLParser lives here on Linux
#endif
import XCTest
import NeuroPlots

// One golden SVG per chart type (Golden/<name>.svg, made from ChartExamples).
// The test compares bytes. To regenerate after an intended change:
//
//     NEUROMAP_UPDATE_GOLDEN=1 swift test --filter NeuroPlotsTests.GoldenTests
//
// which rewrites the files in the source tree; look at them (rsvg-convert
// x.svg -o x.png) before keeping them.

final class GoldenTests: XCTestCase {
    private var goldenDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    }

    func testEveryChartMatchesItsGoldenFile() throws {
        let update = ProcessInfo.processInfo.environment["NEUROMAP_UPDATE_GOLDEN"] == "1"
        for (name, chart) in ChartExamples.all {
            let svg = try chart.render()
            if update {
                try svg.write(to: goldenDirectory.appendingPathComponent("\(name).svg"), atomically: true, encoding: .utf8)
                continue
            }
            guard let url = Bundle.module.url(forResource: "\(name)", withExtension: "svg", subdirectory: "Golden") else {
                XCTFail("no golden file Golden/\(name).svg; run with NEUROMAP_UPDATE_GOLDEN=1 to make it")
                continue
            }
            let golden = try String(contentsOf: url, encoding: .utf8)
            XCTAssertTrue(svg == golden, "\(name).svg differs from its golden file; regenerate with NEUROMAP_UPDATE_GOLDEN=1 if intended")
        }
    }

    func testSameInputGivesSameBytes() throws {
        for (name, chart) in ChartExamples.all {
            let first = try chart.render()
            let second = try chart.render()
            XCTAssertEqual(Array(first.utf8), Array(second.utf8), name)
        }
    }

    func testEveryChartIsWellFormedXML() throws {
        for (name, chart) in ChartExamples.all {
            XCTAssertTrue(try isWellFormed(chart.render()), "\(name) is not well-formed XML")
        }
    }
}

/// Whether `text` parses as XML with Foundation's parser.
func isWellFormed(_ text: String) -> Bool {
    XMLParser(data: Data(text.utf8)).parse()
}
