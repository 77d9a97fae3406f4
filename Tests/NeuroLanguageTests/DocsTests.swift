import Foundation
import XCTest
@testable import NeuroLanguage
import NeuroLab

/// Keeps docs/LANGUAGE.md true: every built-in has a reference entry, and
/// every ```nmap example runs, in order, in one interpreter with the standard
/// library loaded, printing what the ```output block after it shows: the
/// same text, and the same numbers to the precision they are printed at
/// (float32 sums differ in their last bits between CPUs and BLAS kernels).
///
/// A block fenced ```nmap fails must stop with an error; its output block
/// shows what it printed and then the diagnostic.
///
/// When a change of output is intended, refresh the output blocks with
/// `NEUROMAP_UPDATE_DOCS=1 swift test --filter DocsTests` and read the diff.
final class DocsTests: XCTestCase {
    static let documentPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs").appendingPathComponent("LANGUAGE.md").path

    static let refresh = " (if the change is intended: NEUROMAP_UPDATE_DOCS=1 swift test --filter DocsTests)"

    func testEveryBuiltinHasAReferenceEntry() throws {
        let headings = try document().lines.filter { $0.hasPrefix("#") }
        let missing = NeuroLab.makeInterpreter().builtins.keys.sorted().filter { name in
            !headings.contains { $0.contains("`\(name)`") || $0.contains("`\(name)(") }
        }
        XCTAssert(missing.isEmpty, "built-ins without a heading in docs/LANGUAGE.md: \(missing.joined(separator: ", "))")
    }

    /// Help (`:help train`, built from each built-in's signature) and the
    /// reference agree on every default they both state.
    func testReferenceDefaultsAgreeWithHelp() throws {
        let doc = try document()
        let pair = try NSRegularExpression(pattern: "([a-z_0-9]+): ([^,)]+)")
        func defaults(_ text: String) -> [String: String] {
            var found: [String: String] = [:]
            let ns = text as NSString
            for m in pair.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
                found[ns.substring(with: m.range(at: 1))] = ns.substring(with: m.range(at: 2)).trimmingCharacters(in: .whitespaces)
            }
            return found
        }
        // Only literal defaults are compared; placeholders (`H`, `…`, `corrupt(…)`) say nothing.
        func literal(_ v: String) -> Bool {
            Double(v) != nil || ["true", "false", "none"].contains(v) || (v.count >= 2 && v.hasPrefix("\"") && v.hasSuffix("\""))
        }
        func same(_ a: String, _ b: String) -> Bool {
            if let x = Double(a), let y = Double(b) { return x == y }
            return a == b || !literal(a) || !literal(b)
        }
        for builtin in NeuroLab.makeInterpreter().builtins.values {
            guard let heading = doc.lines.firstIndex(where: { $0.hasPrefix("#") && $0.contains("`\(builtin.name)`") }) else { continue }
            // The entry's signature: the first code span after the heading, which may wrap lines.
            let entry = doc.lines[(heading + 1)...].prefix { !$0.hasPrefix("#") && !$0.hasPrefix("```") }.joined(separator: " ")
            guard let open = entry.firstIndex(of: "`"), let close = entry[entry.index(after: open)...].firstIndex(of: "`") else { continue }
            let documented = defaults(String(entry[entry.index(after: open)..<close]))
            for (name, value) in defaults(builtin.signature) {
                if let stated = documented[name], !same(stated, value) {
                    XCTFail("\(builtin.name): help says \(name): \(value), docs/LANGUAGE.md says \(name): \(stated)")
                }
            }
        }
    }

    func testBuiltinNamesAreUnique() {
        // The language's own, and the workbench's (which may replace one of the language's by name).
        for names in [Builtins.all.map(\.name), NeuroLab.vocabulary.builtins.map(\.name)] {
            let repeated = Set(names.filter { name in names.filter { $0 == name }.count > 1 })
            XCTAssert(repeated.isEmpty, "built-ins defined twice: \(repeated.sorted().joined(separator: ", "))")
        }
    }

    func testExamplesRunAndPrintWhatTheDocumentShows() throws {
        let doc = try document()
        let interpreter = NeuroLab.makeInterpreter()
        XCTAssertEqual(interpreter.loadStandardLibrary(), [], "the standard library should load cleanly")
        interpreter.baseDirectory = "."   // as for `neuromap run file.nmap` in the file's folder
        var printed = ""
        interpreter.output = { printed += $0 + "\n" }
        var updates: [(lines: Range<Int>, text: [String])] = []
        let record = ProcessInfo.processInfo.environment["NEUROMAP_UPDATE_DOCS"] == "1"
        let examples = doc.blocks.enumerated().filter { $0.element.language == "nmap" }
        XCTAssertFalse(examples.isEmpty, "docs/LANGUAGE.md has no ```nmap examples")

        for (index, block) in examples {
            printed = ""
            let place = "docs/LANGUAGE.md:\(block.lines.lowerBound)"
            let source = block.body.joined(separator: "\n")
            let parsed = NeuroLab.parse(source)
            var failure: String? = nil
            if !parsed.diagnostics.isEmpty {
                failure = parsed.diagnostics.map { $0.render(file: "example.nmap", source: source) }.joined()
            } else {
                do {
                    try interpreter.run(parsed.program)
                } catch let error as RuntimeError {
                    failure = error.diagnostic.render(file: "example.nmap", source: source)
                }
            }
            let expectsFailure = block.options.contains("fails")
            if let failure, !expectsFailure {
                XCTFail("\(place): the example failed:\n\(failure)")
            } else if failure == nil, expectsFailure {
                XCTFail("\(place): the example is marked 'fails' but ran without error")
            }
            let actual = (printed + (failure ?? "")).split(separator: "\n", omittingEmptySubsequences: false)
                .map { String($0).replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }
            let shown = Array((actual.last == "" ? actual.dropLast() : actual[...]))
            let next = index + 1 < doc.blocks.count ? doc.blocks[index + 1] : nil
            let output = next.flatMap { n in n.language == "output" && doc.onlyBlank(block.lines.upperBound..<n.lines.lowerBound) ? n : nil }
            if record {
                let fenced = ["", "```output"] + shown + ["```"]
                if let output {
                    updates.append((output.lines, shown))
                } else if !shown.isEmpty {
                    updates.append((block.lines.upperBound..<block.lines.upperBound, fenced))
                }
            } else if let output {
                if !PrintedNumbers.agree(shown, output.body) {
                    XCTAssertEqual(shown, output.body, "\(place): printed output differs from the ```output block after it\(DocsTests.refresh)")
                }
            } else {
                XCTAssert(shown.isEmpty, "\(place): the example printed\n\(shown.joined(separator: "\n"))\nbut no ```output block follows it\(DocsTests.refresh)")
            }
        }
        if record { try doc.write(updates, to: DocsTests.documentPath) }
    }

    // MARK: - The TransformerLens cheat-sheet

    static let cheatSheetPath = URL(fileURLWithPath: documentPath).deletingLastPathComponent()
        .appendingPathComponent("TRANSFORMERLENS.md").path

    /// docs/TRANSFORMERLENS.md: its setup blocks and the NeuroMap cell of every
    /// table row run, in order, in one session, without an error. A cell's
    /// code spans run one after another (`x = zeros([2])` then `x[0] = 1`).
    func testTransformerLensCheatSheetRuns() throws {
        let text = try String(contentsOfFile: DocsTests.cheatSheetPath, encoding: .utf8)
        let interpreter = NeuroLab.makeInterpreter()
        XCTAssertEqual(interpreter.loadStandardLibrary(), [])
        interpreter.baseDirectory = "."
        interpreter.output = { _ in }
        func run(_ source: String, _ place: String) {
            let parsed = NeuroLab.parse(source)
            if let first = parsed.diagnostics.first {
                return XCTFail("docs/TRANSFORMERLENS.md:\(place): `\(source)` does not parse: \(first.message)")
            }
            do {
                try interpreter.run(parsed.program)
            } catch let error as RuntimeError {
                XCTFail("docs/TRANSFORMERLENS.md:\(place): `\(source)` failed: \(error.message)")
            } catch {
                XCTFail("docs/TRANSFORMERLENS.md:\(place): `\(source)` failed: \(error)")
            }
        }
        let lines = text.components(separatedBy: "\n")
        var rows = 0, i = 0
        let span = try NSRegularExpression(pattern: "`([^`]+)`")
        while i < lines.count {
            let line = lines[i]
            if line.hasPrefix("```nmap") {
                var end = i + 1
                while end < lines.count && lines[end] != "```" { end += 1 }
                run(lines[(i + 1)..<end].joined(separator: "\n"), "\(i + 2)")
                i = end + 1
                continue
            }
            // A table row other than a header (its next line is |---|) or the separator itself.
            if line.hasPrefix("|"), !line.hasPrefix("|--"), !(i + 1 < lines.count && lines[i + 1].hasPrefix("|--")) {
                let cells = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                let ours = cells.count >= 3 ? cells[cells.count - 2] : ""
                let range = NSRange(ours.startIndex..., in: ours)
                let code = span.matches(in: ours, range: range).compactMap { Range($0.range(at: 1), in: ours).map { String(ours[$0]) } }
                XCTAssertFalse(code.isEmpty, "docs/TRANSFORMERLENS.md:\(i + 1): a row without NeuroMap code")
                for snippet in code { run(snippet, "\(i + 1)") }
                rows += 1
            }
            i += 1
        }
        XCTAssertGreaterThanOrEqual(rows, 50, "expected the cheat-sheet's rows")
    }

    // MARK: - Reading the document

    struct Block {
        /// The first word of the info string (`nmap`, `output`) and the rest (`fails`).
        let language: String
        let options: [String]
        /// Lines of the body, without the fences.
        let body: [String]
        /// Line numbers (0-based) of the body: the opening fence is just before, the closing one at the end.
        let lines: Range<Int>
    }

    struct Document {
        let lines: [String]
        let blocks: [Block]

        func onlyBlank(_ range: Range<Int>) -> Bool {
            // From the closing fence of one block up to the opening fence of the next.
            let between = (range.lowerBound + 1)..<max(range.lowerBound + 1, range.upperBound - 1)
            return lines[between].allSatisfy { $0.trimmingCharacters(in: .whitespaces).isEmpty }
        }

        /// Replaces each range of lines by its text (an empty range inserts after the closing fence there).
        func write(_ updates: [(lines: Range<Int>, text: [String])], to path: String) throws {
            var result = lines
            for update in updates.sorted(by: { $0.lines.lowerBound > $1.lines.lowerBound }) {
                if update.lines.isEmpty {
                    result.insert(contentsOf: update.text, at: update.lines.lowerBound + 1)
                } else {
                    result.replaceSubrange(update.lines, with: update.text)
                }
            }
            try result.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
    }

    func document() throws -> Document {
        let text = try String(contentsOfFile: DocsTests.documentPath, encoding: .utf8)
        let lines = text.components(separatedBy: "\n")
        var blocks: [Block] = []
        var i = 0
        while i < lines.count {
            guard lines[i].hasPrefix("```") else {
                i += 1
                continue
            }
            let info = lines[i].dropFirst(3).split(separator: " ").map(String.init)
            let start = i + 1
            var end = start
            while end < lines.count && lines[end] != "```" { end += 1 }
            blocks.append(Block(language: info.first ?? "", options: Array(info.dropFirst()), body: Array(lines[start..<min(end, lines.count)]),
                                lines: start..<end))
            i = end + 1
        }
        return Document(lines: lines, blocks: blocks)
    }
}

/// Compares printed text whose numbers may differ in their last digits.
enum PrintedNumbers {
    /// A number as printed: `12`, `-0.0465538`, `1.5e-07`, `61.2` (of `61.2%`).
    static let pattern = try! NSRegularExpression(pattern: "-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?")

    /// Whether the lines are equal but for numbers that agree to the
    /// precision printed: within one unit of the last printed digit, plus
    /// 1e-4 of their size.
    static func agree(_ actual: [String], _ expected: [String]) -> Bool {
        actual.count == expected.count && zip(actual, expected).allSatisfy { agree($0, $1) }
    }

    static func agree(_ actual: String, _ expected: String) -> Bool {
        if actual == expected { return true }
        let a = split(actual), e = split(expected)
        guard a.text == e.text, a.numbers.count == e.numbers.count else { return false }
        return zip(a.numbers, e.numbers).allSatisfy { x, y in
            guard let u = Double(x), let v = Double(y) else { return false }
            return abs(u - v) <= max(unit(x), unit(y)) + 1e-4 * max(abs(u), abs(v))
        }
    }

    /// The text with every number replaced by `#`, and the numbers.
    static func split(_ line: String) -> (text: String, numbers: [String]) {
        let ns = line as NSString
        var text = "", numbers: [String] = [], last = 0
        for match in pattern.matches(in: line, range: NSRange(location: 0, length: ns.length)) {
            text += ns.substring(with: NSRange(location: last, length: match.range.location - last)) + "#"
            numbers.append(ns.substring(with: match.range))
            last = match.range.location + match.range.length
        }
        return (text + ns.substring(from: last), numbers)
    }

    /// One unit in the last printed place of `number`: 1e-7 for `0.0465538`, 1e-9 for `1.5e-07`.
    static func unit(_ number: String) -> Double {
        let parts = number.lowercased().split(separator: "e", maxSplits: 1)
        let decimals = parts[0].split(separator: ".", maxSplits: 1).dropFirst().first?.count ?? 0
        let exponent = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        return pow(10, Double(exponent - decimals))
    }
}
