import Foundation
import XCTest
@testable import NeuroLanguage
@testable import NeuroLab
import NeuroEngine
import NeuroModels
import NeuroAnalysis
import NeuroPlots

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

    /// `view` names the key frequencies `fourier` finds, by the same rule in the
    /// same basis: on a model whose embedding is a circle in the discrete log
    /// of a·b mod 13, read in the additive basis it would name others.
    func testViewAndFourierNameTheSameKeyFrequencies() throws {
        let p = 13, k = 5
        let structure = try ModularStructure(.multiply, p: p)
        let config = try TransformerConfig(nLayers: 1, nHeads: 2, dModel: 8, dHead: 4, dMLP: 16, normalizationType: .none,
                                           dVocab: p + 1, dVocabOut: p, nCtx: 3, seed: 3)
        let model = try HookedTransformer(config: config)
        var values = [Float](repeating: 0, count: (p + 1) * 8)
        for (logarithm, residue) in structure.residues.enumerated() {
            let angle = 2 * Double.pi * Double(k * logarithm) / Double(p - 1)
            values[residue * 8] = Float(cos(angle))
            values[residue * 8 + 1] = Float(sin(angle))
        }
        try XCTUnwrap(model.parameter("embed.W_E")).assign(try Tensor(values, shape: [p + 1, 8]))
        let additive = try FourierSpectrum(XCTUnwrap(model.parameter("embed.W_E")).slice(axis: 0, start: 0, end: p).cast(to: .float64),
                                           basis: FourierBasis(p: p)).keyFrequencies().frequencies
        XCTAssertNotEqual(additive, [k], "read in the additive basis the circle is not at frequency \(k)")

        let directory = try PictureTestSupport.temporaryDirectory("viewer-keys")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("viewer.html").path
        let interpreter = NeuroLab.makeInterpreter()
        interpreter.output = { _ in }
        interpreter.globals.define("hand", .object(ModelObject(model)))
        let source = "data = modular(op: \"*\", p: \(p), train: 0.5, seed: 1)\nuse hand on data\nf = fourier(hand)\nview hand to \"\(path)\""
        let parsed = NeuroLab.parse(source)
        XCTAssertEqual(parsed.diagnostics.count, 0)
        _ = try interpreter.run(parsed.program)
        guard case .object(let result as ResultValue)? = interpreter.globals.lookup("f"),
              case .list(let named)? = result.fields["key_freqs"] else { return XCTFail("fourier gave no key frequencies") }
        let fourierKeys = named.compactMap { value -> Int? in if case .number(let n) = value { return Int(n) }; return nil }
        XCTAssertEqual(fourierKeys, [k])
        let d = try data(try String(contentsOfFile: path, encoding: .utf8))
        XCTAssertEqual(d["key_freqs"] as? [Int], fourierKeys, "view and fourier name the same key frequencies")
        XCTAssertEqual(d["basis"] as? String, "discrete log, generator 2, over ℤ_12")
        XCTAssertEqual((d["keys"] as? [Int])?.first, k, "the key frequency's plane is offered first")
        XCTAssertEqual(d["default_projection"] as? String, "plane\(k)", "the page opens on the key frequency's plane, where the circle is")
    }

    /// An untrained model has no key frequency: its page opens on PCA.
    func testWithoutAKeyFrequencyThePageOpensOnPCA() throws {
        let directory = try PictureTestSupport.temporaryDirectory("viewer-pca")
        defer { try? FileManager.default.removeItem(at: directory) }
        let d = try data(try page(directory))
        XCTAssertEqual(d["key_freqs"] as? [Int], [])
        XCTAssertEqual(d["default_projection"] as? String, "pca2")
    }

    /// In a browser the page shows the key frequency's plane first, and PCA stays in the menu.
    func testThePageOpensOnTheKeyFrequencysPlaneInChromium() throws {
        guard PictureTestSupport.chromium != nil else { throw XCTSkip("headless Chromium is not installed") }
        let directory = try PictureTestSupport.temporaryDirectory("viewer-plane")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("viewer.html")
        let circle = (0..<5).map { a in [cos(2 * Double.pi * 2 * Double(a) / 5), sin(2 * Double.pi * 2 * Double(a) / 5)] }
        let snapshot = Viewer.Snapshot(label: "now", pca: [[1, 0, 0], [0, 1, 0], [-1, 0, 0], [0, -1, 0], [0, 0, 1]], ratios: [0.5, 0.3, 0.2],
                                       planes: [(2, circle), (1, Array(repeating: [0, 0], count: 5))])
        let html = Viewer.html(title: "t", p: 5, frequencies: .init(offered: [2, 1], key: [2], summary: "key frequencies 2", basis: "additive ℤ_5"),
                               snapshots: [snapshot])
        try html.write(to: file, atomically: true, encoding: .utf8)
        let (dom, log) = try PictureTestSupport.loadInChromium(file)
        XCTAssertEqual(PictureTestSupport.scriptErrors(log), [])
        XCTAssert(dom.contains("W_E on the cos/sin plane of k = 2"), "the learned panel shows the key frequency's plane: \(dom.prefix(600))")
        XCTAssert(dom.contains("<option value=\"pca2\">PCA, 2-D</option>"), "PCA is still offered")
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
