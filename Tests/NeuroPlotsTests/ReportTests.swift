import Foundation
import XCTest
@testable import NeuroPlots

/// The report page: a section per entry with its picture inline, ids
/// namespaced per picture, and a note where there is no picture.
final class ReportTests: XCTestCase {
    func testEntriesBecomeSectionsWithTheirPicturesInline() {
        let heat = HeatmapPanel(title: "h", facets: [.init(title: "", values: [[0, 1], [2, 3]])], rowLabels: ["0", "1"],
                                columnLabels: ["0", "1"], xLabel: "x", yLabel: "y", diverging: false)
        let figure = Figure(title: "map", panels: [.heatmap(heat)])
        let html = Report.html(title: "R & D", models: [.init(summary: "a model", config: [("d_model", "8")])], entries: [
            .init(kind: "grid", heading: "first", summary: "x < y", figure: figure),
            .init(kind: "grid", heading: "second", summary: "again", figure: figure),
            .init(kind: "text", heading: "third", summary: "words", figure: nil, note: "cannot plot a string"),
        ])
        XCTAssert(html.contains("<title>R &amp; D</title>"))
        XCTAssert(html.contains("<pre>x &lt; y</pre>"))
        XCTAssert(html.contains("<tr><th>d_model</th><td>8</td></tr>"))
        XCTAssertEqual(html.components(separatedBy: "<figure><svg").count - 1, 2)
        XCTAssert(html.contains("<p class=\"note\">No picture: cannot plot a string</p>"))
        XCTAssert(html.contains("data-kind=\"text\""))
        let ids = html.components(separatedBy: " id=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        XCTAssertEqual(ids.count, Set(ids).count, "each picture's ids are its own")
        XCTAssert(ids.contains { $0.hasPrefix("r1-colorbar-") } && ids.contains { $0.hasPrefix("r2-colorbar-") })
        XCTAssertFalse(html.contains("http://"), "inline pictures name no namespace URL")
    }

    /// Each result shows the command that made it above its summary.
    func testTheCommandIsShownAboveItsResult() throws {
        let html = Report.html(title: "t", models: [], entries: [
            .init(kind: "intervention", heading: "ablate embed", summary: "acc 100% → 0%", figure: nil, note: "n",
                  command: "ablate embed with zero"),
            .init(kind: "x", heading: "no command", summary: "s", figure: nil, note: "n"),
        ])
        let command = try XCTUnwrap(html.range(of: "<pre class=\"command\">ablate embed with zero</pre>"))
        let summary = try XCTUnwrap(html.range(of: "<pre>acc 100% → 0%</pre>"))
        XCTAssert(command.lowerBound < summary.lowerBound, "the command comes first")
        XCTAssertEqual(html.components(separatedBy: "<pre class=\"command\">").count - 1, 1, "a result with no known command shows none")
    }

    func testNoModelsSaysSo() {
        XCTAssert(Report.html(title: "t", models: [], entries: []).contains("No model in this session."))
    }
}
