import Foundation
import XCTest
@testable import NeuroLanguage

/// `view`: an interactive page of a model's embeddings with the projections
/// embedded as JSON, one per checkpoint; its script runs without errors.
final class ViewerTests: XCTestCase {
    /// Writes the page with `call`, in which `PATH` stands for the file; its text.
    func page(_ directory: URL, _ call: String = "view model to \"PATH\"") throws -> String {
        let path = directory.appendingPathComponent("viewer.html").path
        let (_, output, error) = PictureTestSupport.run(call.replacingOccurrences(of: "PATH", with: path))
        XCTAssertNil(error)
        XCTAssertEqual(output.last, "wrote \(path)")
        return try String(contentsOfFile: path, encoding: .utf8)
    }

    /// The JSON the page embeds.
    func data(_ html: String) throws -> [String: Any] {
        guard let start = html.range(of: "<script id=\"data\" type=\"application/json\">"),
              let end = html.range(of: "</script>", range: start.upperBound..<html.endIndex) else {
            throw XCTSkip("no embedded data")
        }
        let json = html[start.upperBound..<end.lowerBound].replacingOccurrences(of: "<\\/", with: "</")
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    func testThePageEmbedsAProjectionPerCheckpoint() throws {
        let directory = try PictureTestSupport.temporaryDirectory("viewer")
        defer { try? FileManager.default.removeItem(at: directory) }
        let d = try data(try page(directory))
        XCTAssertEqual(d["p"] as? Int, 7)
        let snapshots = try XCTUnwrap(d["snapshots"] as? [[String: Any]])
        XCTAssertEqual(snapshots.map { $0["label"] as? String }, ["epoch 0", "epoch 10", "epoch 20", "epoch 30", "now (epoch 30)"])
        let keys = try XCTUnwrap(d["keys"] as? [Int])
        XCTAssertEqual(keys.count, 3, "p = 7 has three frequencies")
        for snapshot in snapshots {
            let pca = try XCTUnwrap(snapshot["pca"] as? [[Double]])
            XCTAssertEqual(pca.count, 7)
            XCTAssertEqual(pca.first?.count, 3)
            let planes = try XCTUnwrap(snapshot["planes"] as? [String: [[Double]]])
            XCTAssertEqual(Set(planes.keys), Set(keys.map(String.init)))
        }
    }

    func testThePageIsSelfContained() throws {
        let directory = try PictureTestSupport.temporaryDirectory("viewer-offline")
        defer { try? FileManager.default.removeItem(at: directory) }
        let html = try page(directory, "viewer(model, to: \"PATH\")")
            .replacingOccurrences(of: "\"http://www.w3.org/2000/svg\"", with: "")   // the SVG namespace names, it does not fetch
        for reference in ["http://", "https://", "<link", "@import", "src="] {
            XCTAssertFalse(html.contains(reference), "the page must not contain \(reference)")
        }
    }

    func testTheProjectionOfAPerfectCircleIsThatCircle() {
        let p = 11, k = 3
        let w = (0..<p).map { a -> [Double] in
            let angle = 2 * Double.pi * Double(k * a) / Double(p)
            return [cos(angle), sin(angle), 0]
        }
        XCTAssertEqual(Viewer.keyFrequencies(w, p: p).first, k)
        let plane = Viewer.plane(w, k: k, p: p)
        for (a, point) in plane.enumerated() {
            XCTAssertEqual(point[0], w[a][0], accuracy: 1e-9)
            XCTAssertEqual(point[1], w[a][1], accuracy: 1e-9)
        }
        XCTAssertEqual(Viewer.aligned([[1, -2]], to: [[1, 2]]), [[1, 2]], "a flipped component is flipped back")
    }

    func testErrors() {
        XCTAssertEqual(PictureTestSupport.run("view(model, to: \"v.svg\")").error,
                       "view: writes an HTML page; name the file with .html, not 'v.svg'")
        XCTAssertEqual(PictureTestSupport.run("view(model, to: \"v.html\", p: 100)").error,
                       "view: p = 100 does not fit the embedding's 8 rows (give p: between 3 and 8)")
    }

    func testTheScriptRunsInChromium() throws {
        let directory = try PictureTestSupport.temporaryDirectory("viewer-chromium")
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try page(directory)
        let (dom, log) = try PictureTestSupport.loadInChromium(directory.appendingPathComponent("viewer.html"))
        XCTAssertEqual(PictureTestSupport.scriptErrors(log), [])
        XCTAssert(dom.contains("data-ready=\"ok\""), "the script finished without an error: \(dom.prefix(400))")
        XCTAssertEqual(dom.components(separatedBy: "<circle").count - 1, 14, "both panels drew the 7 residues")
        XCTAssert(dom.contains("token 3 · residue 3"), "points carry hover labels")
    }
}
