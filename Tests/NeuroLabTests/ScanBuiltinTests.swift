import Foundation
import XCTest
import NeuroEngine
import NeuroModels
import NeuroTestSupport
@testable import NeuroLanguage
@testable import NeuroLab

/// `scan` through the language on the tiny BERT and GPT-2 folders and on a
/// model trained here: its numbers against a computation from the cached
/// activations, its statement form, its config file and its errors.
final class ScanBuiltinTests: XCTestCase, ScriptTesting {
    let bert = fixturePath("tiny-bert")
    let gpt2 = fixturePath("tiny-gpt2")
    static let text = "the cat is in the garden and the dog sat by the pond, a cat and birds"
    static let categories = "{animal: [\"cat\", \"dog\", \"birds\"], place: [\"garden\", \"pond\"]}"

    func result(_ interpreter: Interpreter, _ name: String = "r") throws -> ResultValue {
        guard case .object(let r as ResultValue)? = interpreter.globals.lookup(name) else { throw XCTSkip("no result \(name)") }
        return r
    }

    func tensor(_ interpreter: Interpreter, _ name: String) throws -> Tensor {
        guard case .tensor(let t)? = interpreter.globals.lookup(name) else { throw XCTSkip("no tensor \(name)") }
        return t
    }

    /// Two scans' numbers agree to float32 rounding.
    func assertClose(_ a: [Double], _ b: [Double], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) where Swift.abs(x - y) > 1e-5 * Swift.max(1, Swift.abs(x)) {
            return XCTFail("\(x) and \(y) differ", file: file, line: line)
        }
    }

    func field(_ r: ResultValue, _ name: String) throws -> Tensor {
        guard case .tensor(let t)? = r.fields[name] else { throw XCTSkip("no field \(name)") }
        return t
    }

    /// The words of WordPiece tokens (a piece without `##` starts one), as
    /// token index ranges, special tokens left out.
    func wordPieceWords(_ tokens: [String]) -> [(word: String, range: Range<Int>)] {
        var words: [(String, Range<Int>)] = []
        for (i, token) in tokens.enumerated() where !["[CLS]", "[SEP]"].contains(token) {
            if token.hasPrefix("##"), let last = words.last, last.1.upperBound == i {
                words[words.count - 1] = (last.0 + token.dropFirst(2), last.1.lowerBound..<(i + 1))
            } else {
                words.append((token, i..<(i + 1)))
            }
        }
        return words
    }

    /// Every mean and selectivity equals one computed here from `run`'s cache.
    func testNumbersEqualADirectComputationFromTheCache() throws {
        let (interpreter, _) = run("""
        m = load("\(bert)")
        t = "\(Self.text)"
        r = scan(m, t, categories: \(Self.categories), permutations: 0)
        c = run(m, t)
        a0 = c["blocks.0.mlp.hook_post"]
        a1 = c["blocks.1.mlp.hook_post"]
        toks = str_tokens(m, t)
        """)
        let r = try result(interpreter)
        guard case .list(let items)? = interpreter.globals.lookup("toks") else { return XCTFail("no tokens") }
        let tokens = items.map { if case .string(let s) = $0 { return s } else { return "" } }
        let words = wordPieceWords(tokens)
        let categories = [["cat", "dog", "birds"], ["garden", "pond"]]
        let scanned = Array(1..<(tokens.count - 1))
        let means = try field(r, "means").toDoubles(), selectivity = try field(r, "selectivity").toDoubles()
        XCTAssertEqual(try field(r, "means").shape, [2, 64, 2])
        for layer in 0..<2 {
            let acts = try tensor(interpreter, "a\(layer)")   // [1, pos, 64]
            XCTAssertEqual(acts.shape, [1, tokens.count, 64])
            let values = acts.toDoubles()
            for j in 0..<64 {
                let at = { (pos: Int) in values[pos * 64 + j] }
                let all = scanned.map(at)
                let mean = all.reduce(0, +) / Double(all.count)
                let sd = (all.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(all.count)).squareRoot()
                for (c, entries) in categories.enumerated() {
                    let occurrences = words.filter { entries.contains($0.word) }
                    XCTAssertEqual(occurrences.count, c == 0 ? 4 : 2)
                    let occurrenceMeans = occurrences.map { o in o.range.map(at).reduce(0, +) / Double(o.range.count) }
                    let expected = occurrenceMeans.reduce(0, +) / Double(occurrenceMeans.count)
                    let inside = Set(occurrences.flatMap { Array($0.range) })
                    let rest = scanned.filter { !inside.contains($0) }.map(at)
                    let restMean = rest.reduce(0, +) / Double(rest.count)
                    let index = (layer * 64 + j) * 2 + c
                    XCTAssertEqual(means[index], expected, accuracy: 1e-4, "layer \(layer) neuron \(j) category \(c)")
                    XCTAssertEqual(selectivity[index], (expected - restMean) / sd, accuracy: 1e-4 * max(1, Swift.abs(selectivity[index])),
                                   "selectivity, layer \(layer) neuron \(j) category \(c)")
                }
            }
        }
        // "dog" is three tokens here (d ##o ##g): one occurrence, not three, nor none.
        guard case .record(let occurrences)? = r.fields["occurrences"] else { return XCTFail("no occurrences") }
        XCTAssertEqual(Formatter.printed(occurrences["animal"] ?? .none), "4")
    }

    /// A text longer than the model's 64 positions is cut into windows
    /// between words; every token is scanned once, special tokens never.
    func testLongTextsRunInWindowsAndSpecialTokensNeverCount() throws {
        let long = Array(repeating: Self.text, count: 5).joined(separator: " ")
        let (interpreter, _) = run("""
        m = load("\(bert)")
        r = scan(m, "\(long)", categories: \(Self.categories), permutations: 0)
        n = len(tokenize(m, "\(Self.text)"))
        w = scan(m, "\(long)", categories: \(Self.categories), permutations: 0, window: 20)
        g = load("\(gpt2)")
        q = scan(g, "\(Self.text)", categories: \(Self.categories), permutations: 0, top_k: 50)
        """)
        let r = try result(interpreter), w = try result(interpreter, "w")
        guard case .number(let perText)? = interpreter.globals.lookup("n") else { return XCTFail("no n") }
        XCTAssertEqual(r.number("tokens"), 5 * (perText - 2))
        XCTAssertEqual(w.number("tokens"), 5 * (perText - 2))
        XCTAssertTrue(r.title.contains("in 2 rows"), r.title)   // 115 tokens, 62 to a row of 64
        XCTAssertTrue(w.title.contains("rows"), w.title)
        guard case .record(let occurrences)? = w.fields["occurrences"] else { return XCTFail("no occurrences") }
        XCTAssertEqual(Formatter.printed(occurrences["animal"] ?? .none), "20")
        // GPT-2: the beginning token is read by the model but is no top token; " cat" matches "cat".
        let q = try result(interpreter, "q")
        let json = try XCTUnwrap(q.textFormats["json"])()
        XCTAssertFalse(json.contains("<|endoftext|>"), "the beginning token is never a top token")
        guard case .record(let gptOccurrences)? = q.fields["occurrences"] else { return XCTFail("no occurrences") }
        XCTAssertEqual(Formatter.printed(gptOccurrences["animal"] ?? .none), "4")
        XCTAssertEqual(Formatter.printed(gptOccurrences["place"] ?? .none), "2")
    }

    /// A model trained here: categories are sets of input tokens, read at
    /// their positions, the `=` token never.
    func testModelsTrainedHereScanTheirDataset() throws {
        let (interpreter, _) = run("""
        d = modular(op: "+", p: 7, train: 0.5, seed: 1)
        m = transformer(d, layers: 1, heads: 2, d_model: 16, d_mlp: 32, seed: 3)
        r = scan(m, d, categories: {small: [0, 1, 2], large: [4, 5, 6]}, permutations: 20)
        c = run(m, d)
        a = c["blocks.0.mlp.hook_post"]
        """)
        let r = try result(interpreter)
        XCTAssertEqual(r.number("tokens"), 49 * 2)
        let acts = try tensor(interpreter, "a").toDoubles()   // [49, 3, 32], rows in grid order: a = row / 7, b = row % 7
        let means = try field(r, "means").toDoubles()
        for j in 0..<32 {
            for (c, set) in [[0, 1, 2], [4, 5, 6]].enumerated() {
                var values: [Double] = []
                for row in 0..<49 {
                    if set.contains(row / 7) { values.append(acts[(row * 3 + 0) * 32 + j]) }
                    if set.contains(row % 7) { values.append(acts[(row * 3 + 1) * 32 + j]) }
                }
                XCTAssertEqual(means[j * 2 + c], values.reduce(0, +) / Double(values.count), accuracy: 1e-4)
            }
        }
        XCTAssertTrue(failure("d = modular(op: \"+\", p: 7)\nm = transformer(d, seed: 1)\nscan(m, d, categories: {eq: [7]})")
            .contains("is not an input token"))
        XCTAssertTrue(failure("d = modular(op: \"+\", p: 7)\nm = transformer(d, seed: 1)\nscan(m, d)").contains("needs categories"))
    }

    /// `scan m on "text"` is `scan(m, on: "text")`; with no text, the default text and categories.
    func testStatementFormAndDefaults() throws {
        let (interpreter, output) = run("""
        m = load("\(bert)")
        scan m on "\(Self.text)" categories \(Self.categories) permutations 10
        r = scan(m, permutations: 0)
        """)
        XCTAssertTrue(output.contains { $0.contains("neuron scan of tiny-bert") && $0.contains("animal") }, output.joined(separator: "\n"))
        let r = try result(interpreter)
        XCTAssertEqual(r.strings("categories"), ["location", "number", "food", "date", "animal", "vehicle", "colour", "language"])
    }

    func testConfigFileGivesTheSameScan() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("scan-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("categories.json").path
        try """
        {"categories": {"animal": ["cat", "dog", "birds"], "place": ["garden", "pond"]},
         "text": "\(Self.text)", "threshold": 0.3, "top_k": 2}
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let (interpreter, _) = run("""
        m = load("\(bert)")
        a = scan(m, config: "\(config)", permutations: 0)
        b = scan(m, "\(Self.text)", categories: \(Self.categories), threshold: 0.3, top_k: 2, permutations: 0)
        c = scan(m, config: "\(config)", permutations: 0, threshold: 0.5)
        save(a, "\(folder.path)/a.csv")
        save(a, "\(folder.path)/a.json")
        d = scan(m, config: "\(folder.path)/a.json")
        g = load("\(gpt2)")
        e = scan(g, config: "\(folder.path)/a.json", permutations: 0)
        """)
        let a = try result(interpreter, "a"), b = try result(interpreter, "b"), c = try result(interpreter, "c")
        // A scan's own file repeats it: on the same model the same numbers, on another model the same study.
        let d = try result(interpreter, "d"), e = try result(interpreter, "e")
        assertClose(try field(d, "means").toDoubles(), try field(a, "means").toDoubles())
        XCTAssertEqual(d.number("threshold"), 0.3)
        XCTAssertEqual(e.strings("categories"), ["animal", "place"])
        XCTAssertEqual(try field(e, "means").shape, [2, 128, 2])
        assertClose(try field(a, "means").toDoubles(), try field(b, "means").toDoubles())
        XCTAssertEqual(c.number("threshold"), 0.5, "an argument overrides the file")
        let csv = try String(contentsOfFile: "\(folder.path)/a.csv", encoding: .utf8)
        XCTAssertTrue(csv.hasPrefix("model,layer,neuron,category,avg_activation,top_tokens,selectivity\n"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(folder.path)/a.json"))) as? [String: Any]
        XCTAssertEqual((json?["config"] as? [String: Any])?["top_k"] as? Int, 2)
        XCTAssertEqual((json?["neurons"] as? [Any])?.count, 128)

        // Bad files: not JSON, a field missing, a field misspelt.
        let broken = folder.appendingPathComponent("broken.json").path
        try "{\"categories\": {\"a\": [\"cat\"]}, \"text\": ".write(toFile: broken, atomically: true, encoding: .utf8)
        XCTAssertTrue(failure("m = load(\"\(bert)\")\nscan(m, config: \"\(broken)\")").contains("not valid JSON"))
        try "{\"categories\": {\"a\": [\"cat\"]}}".write(toFile: broken, atomically: true, encoding: .utf8)
        XCTAssertTrue(failure("m = load(\"\(bert)\")\nscan(m, config: \"\(broken)\")").contains("lacks the field 'text'"))
        try "{\"categories\": {\"a\": [\"cat\"]}, \"text\": \"a cat\", \"treshold\": 1}".write(toFile: broken, atomically: true, encoding: .utf8)
        XCTAssertTrue(failure("m = load(\"\(bert)\")\nscan(m, config: \"\(broken)\")").contains("did you mean 'threshold'"))
    }

    func testBadInputIsAClearError() throws {
        let load = "m = load(\"\(bert)\")\n"
        let cases: [(String, String)] = [
            ("scan(m, \"the cat\", categories: {fruit: [\"mango\"]})", "no word of 'fruit' occurs in the text"),
            ("scan(m, \"   \", categories: {a: [\"cat\"]})", "the text is empty"),
            ("scan(m, \"the cat\", categories: {a: [\"cat\"]}, site: \"pattern\")", "one neuron axis"),
            ("scan(m, \"the cat\", categories: {a: [\"cat\"]}, site: \"embed\")", "not in a layer"),
            ("scan(m, \"the cat\", categories: {a: [\"cat\"]}, neurons: 65)", "more than the 64 neurons"),
            ("scan(m, \"the cat\", categories: {a: [\"cat\"]}, layers: [2])", "layer 2 is out of range"),
            ("scan(m, \"the cat\", categories: {a: []})", "category 'a' has no words"),
            ("scan(m, \"the cat\", categories: [\"cat\"])", "'categories' must be a record"),
            ("scan(m, \"the cat\", categories: {a: [\"cat\"]}, config: \"/nonexistent/scan.json\")", "/nonexistent/scan.json"),
        ]
        for (code, message) in cases {
            let error = failure(load + code)
            XCTAssertTrue(error.contains(message), "\(code): \(error)")
        }
        // A word that never occurs is a warning that names it; the scan goes on.
        let (_, output) = run(load + "scan(m, \"the cat and the dog\", categories: {a: [\"cat\", \"moon\", \"sun\"]}, permutations: 0)")
        XCTAssertTrue(output.contains { $0.contains("2 words of 'a' never occur in the text: moon, sun") }, output.joined(separator: "\n"))
    }

    func testPictureAndReport() throws {
        let (interpreter, _) = run("""
        m = load("\(bert)")
        r = scan(m, "\(Self.text)", categories: \(Self.categories), permutations: 0)
        """)
        let figure = try result(interpreter).figure()
        XCTAssertEqual(figure.panels.count, 3, "the layer × category heatmap and one chart per category")
        guard case .heatmap(let map) = figure.panels[0] else { return XCTFail("first panel is not the heatmap") }
        XCTAssertEqual(map.columnLabels, ["animal", "place"])
        XCTAssertEqual(map.rowLabels, ["layer 0", "layer 1"])
        XCTAssertTrue(try figure.svg().contains("most selective neurons"))
    }
}
