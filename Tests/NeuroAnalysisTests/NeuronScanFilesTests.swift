import XCTest
import NeuroEngine
@testable import NeuroAnalysis

/// A scan's CSV and JSON as Python reads them: the files a small scan with
/// awkward tokens (commas, quotes, bars, backslashes, colons, accents) writes
/// are committed with what Python's `csv`, pandas and `json` read from them
/// (Fixtures/scan_files/read_scan_files.py); the writer must still write
/// those files, and what Python read must be the scan's numbers and tokens.
final class NeuronScanFilesTests: XCTestCase {
    static let model = "tiny, \"quoted\" model"

    /// Six words over 8 tokens, two neurons, one undefined selectivity (neuron 1 is constant).
    /// Every activation is a short binary fraction, so every sum and mean is
    /// exact in float32 whatever order a BLAS kernel adds in: the files'
    /// text is the same on every machine.
    static func awkwardScan() throws -> NeuronScan {
        let words: [ScanText.Word] = [
            .init(key: "a,b", tokens: ["a,b"]), .init(key: "say \"hi\"", tokens: ["say \"hi\""]),
            .init(key: "x|y", tokens: ["x|y", "\\"]), .init(key: "c:d", tokens: ["c:d"]),
            .init(key: "naïve", tokens: ["naïve", "=1+1"]), .init(key: "dog", tokens: ["dog"]),
        ]
        let text = ScanText(words: words, categories: [("odd, \"marks\"", ["x|y", "c:d"]), ("plain", ["dog", "a,b"])]) { [$0] }
        let a: [Float] = [0.25, 1, 0.5, 1, 1.75, 1, -0.5, 1, 0.125, 1, 2.5, 1, 0.0625, 1, 1.5, 1]
        return try NeuronScan(text: text, activations: a, neurons: [.init(layer: 0, index: 0), .init(layer: 2, index: 7)],
                              threshold: 0.2, topK: 8, permutations: 0)
    }

    static let config: [(String, String)] = [("site", jsonQuoted("mlp_post")), ("threshold", "0.2")]

    static func folder() -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/scan_files")
    }

    func testWriterStillWritesTheFilesPythonRead() throws {
        let scan = try Self.awkwardScan()
        let csv = scan.csv(model: Self.model), json = scan.json(model: Self.model, config: Self.config)
        let folder = Self.folder()
        if ProcessInfo.processInfo.environment["NEUROMAP_UPDATE_FIXTURES"] == "1" {
            try csv.write(to: folder.appendingPathComponent("scan.csv"), atomically: true, encoding: .utf8)
            try json.write(to: folder.appendingPathComponent("scan.json"), atomically: true, encoding: .utf8)
        }
        XCTAssertEqual(csv, try String(contentsOf: folder.appendingPathComponent("scan.csv"), encoding: .utf8))
        XCTAssertEqual(json, try String(contentsOf: folder.appendingPathComponent("scan.json"), encoding: .utf8))
    }

    func testPythonReadTheScansNumbersAndTokens() throws {
        let scan = try Self.awkwardScan()
        let data = try Data(contentsOf: Self.folder().appendingPathComponent("python_read.json"))
        let read = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])

        // csv.DictReader: one row per passing (neuron, category), MechaMap's columns first.
        let rows = try XCTUnwrap(read["csv_rows"] as? [[String: Any]])
        let expected = scan.neurons.indices.flatMap { n in (0..<scan.categoryCount).filter { scan.mean(neuron: n, category: $0) >= 0.2 }.map { (n, $0) } }
        XCTAssertEqual(rows.count, expected.count)
        XCTAssertEqual(read["csv_columns"] as? [String], NeuronScan.csvHeader)
        for (row, (n, c)) in zip(rows, expected) {
            XCTAssertEqual(row["model"] as? String, Self.model)
            XCTAssertEqual(row["layer"] as? String, String(scan.neurons[n].layer))
            XCTAssertEqual(row["neuron"] as? String, String(scan.neurons[n].index))
            XCTAssertEqual(row["category"] as? String, scan.categories[c])
            XCTAssertEqual(Double(row["avg_activation"] as? String ?? "") ?? .nan, scan.mean(neuron: n, category: c), accuracy: 1e-6)
            let s = scan.selectivity(neuron: n, category: c)
            if s.isNaN { XCTAssertEqual(row["selectivity"] as? String, "") } else {
                XCTAssertEqual(Double(row["selectivity"] as? String ?? "") ?? .nan, s, accuracy: 1e-6)
            }
            // top_tokens split as documented: at bars after no backslash, then each item at its last colon.
            let top = try XCTUnwrap(row["top_tokens_parsed"] as? [[Any]])
            XCTAssertEqual(top.map { $0[0] as? String }, scan.topTokens[n].map(\.token))
            for (item, want) in zip(top, scan.topTokens[n]) { XCTAssertEqual(item[1] as? Double ?? .nan, want.activation, accuracy: 1e-6) }
        }

        // pandas: numeric columns numeric, the rest text, nothing lost.
        let pandas = try XCTUnwrap(read["pandas"] as? [String: Any])
        XCTAssertEqual(pandas["rows"] as? Int, expected.count)
        let dtypes = try XCTUnwrap(pandas["dtypes"] as? [String: String])
        for column in ["layer", "neuron"] { XCTAssertEqual(dtypes[column], "int64", column) }
        for column in ["avg_activation", "selectivity"] { XCTAssertEqual(dtypes[column], "float64", column) }

        // json.load: every neuron, its means, selectivities (null where undefined) and top tokens.
        let json = try XCTUnwrap(read["json"] as? [String: Any])
        XCTAssertEqual(json["model"] as? String, Self.model)
        let neurons = try XCTUnwrap(json["neurons"] as? [[String: Any]])
        XCTAssertEqual(neurons.count, scan.neurons.count)
        for (n, neuron) in neurons.enumerated() {
            XCTAssertEqual(neuron["layer"] as? Int, scan.neurons[n].layer)
            let means = try XCTUnwrap(neuron["means"] as? [String: Any])
            let selectivity = try XCTUnwrap(neuron["selectivity"] as? [String: Any])
            for (c, name) in scan.categories.enumerated() {
                XCTAssertEqual(means[name] as? Double ?? .nan, scan.mean(neuron: n, category: c), accuracy: 1e-6)
                let s = scan.selectivity(neuron: n, category: c)
                if s.isNaN { XCTAssertTrue(selectivity[name] is NSNull, "\(name): \(String(describing: selectivity[name]))") } else {
                    XCTAssertEqual(selectivity[name] as? Double ?? .nan, s, accuracy: 1e-6)
                }
            }
            let top = try XCTUnwrap(neuron["top_tokens"] as? [[Any]])
            XCTAssertEqual(top.map { $0[0] as? String }, scan.topTokens[n].map(\.token))
        }
        XCTAssertTrue((neurons[1]["selectivity"] as? [String: Any])?.values.allSatisfy { $0 is NSNull } ?? false, "neuron 1 is constant")
    }
}
