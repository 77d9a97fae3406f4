import Foundation
import XCTest
@testable import NeuroPlots

/// The viewer page embeds the numbers it is given, with PCA signs kept
/// steady between frames; it computes none of its own.
final class ViewerTests: XCTestCase {
    func testThePageEmbedsTheGivenNumbers() throws {
        let first = Viewer.Snapshot(label: "epoch 0", pca: [[1, 2], [3, 4], [5, 6]], ratios: [0.75, 0.25],
                                    planes: [(frequency: 2, points: [[1, 0], [0, 1], [-1, 0]])])
        let flipped = Viewer.Snapshot(label: "now", pca: [[-1, 2], [-3, 4], [-5, 6]], ratios: [0.5, 0.5], planes: [(2, [[0, 0], [0, 0], [0, 0]])])
        let html = Viewer.html(title: "W_E <p>", p: 3, frequencies: .init(offered: [2, 1], key: [2], summary: "1 key frequency", basis: "additive ℤ_3"),
                               snapshots: [first, flipped])
        XCTAssert(html.contains("<title>W_E &lt;p&gt;</title>"))
        let start = try XCTUnwrap(html.range(of: "<script id=\"data\" type=\"application/json\">"))
        let end = try XCTUnwrap(html.range(of: "</script>", range: start.upperBound..<html.endIndex))
        let json = html[start.upperBound..<end.lowerBound].replacingOccurrences(of: "<\\/", with: "</")
        let d = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(d["keys"] as? [Int], [2, 1])
        XCTAssertEqual(d["key_freqs"] as? [Int], [2])
        XCTAssertEqual(d["basis"] as? String, "additive ℤ_3")
        let snapshots = try XCTUnwrap(d["snapshots"] as? [[String: Any]])
        XCTAssertEqual(snapshots.map { $0["label"] as? String }, ["epoch 0", "now"])
        XCTAssertEqual(snapshots[1]["pca"] as? [[Double]], [[1, 2], [3, 4], [5, 6]], "the flipped component is flipped back")
        XCTAssertEqual((snapshots[0]["planes"] as? [String: [[Double]]])?["2"], [[1, 0], [0, 1], [-1, 0]])
    }

    func testSignsAlignWithThePreviousFrame() {
        XCTAssertEqual(Viewer.aligned([[1, -2]], to: [[1, 2]]), [[1, 2]], "a flipped component is flipped back")
        XCTAssertEqual(Viewer.aligned([[1, 2]], to: [[1, 2], [3, 4]]), [[1, 2]], "frames of different sizes are left alone")
        XCTAssertEqual(Viewer.json([[1.234567, .nan]]), "[[1.2346,null]]")
    }

    /// The page opens on the strongest key frequency's cos/sin plane, where a
    /// grokked model's circle shows; on PCA when no frequency stands out.
    func testThePageOpensOnTheStrongestKeyFrequencysPlane() throws {
        let keyed = Viewer.Frequencies(offered: [14, 35, 3], key: [14, 35], summary: "key frequencies 14 35", basis: "additive ℤ_113")
        XCTAssertEqual(Viewer.defaultProjection(keyed), "plane14")
        let none = Viewer.Frequencies(offered: [3, 1, 2], key: [], summary: "no frequency stands out", basis: "additive ℤ_7")
        XCTAssertEqual(Viewer.defaultProjection(none), "pca2")
        let html = Viewer.html(title: "t", p: 3, frequencies: keyed, snapshots: [])
        XCTAssert(html.contains("\"default_projection\": \"plane14\""), "the page says where it opens")
        XCTAssert(html.contains("$(\"projection\").value = data.default_projection"), "and its script opens there")
        XCTAssert(html.contains("\"pca2\", \"PCA, 2-D\""), "PCA stays in the menu")
    }
}
