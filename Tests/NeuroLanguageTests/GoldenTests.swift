import Foundation
import XCTest
import NeuroLanguage
import NeuroLab

/// Runs every script under `Golden/` and checks what it prints and the
/// errors it stops with against the expectations written in it
/// (craftinginterpreters' `test/` layout):
///
///     print(1 + 2)          # expect: 3
///     train m on d          # expect-prefix: trained to epoch
///     x = (1 +              # error: 1:9 expected an expression, found end of line
///     f(0)                  # error: 2:5 division by zero
///     # note: in f() called at 4:1
///
/// `# expect:` is one printed line, in order (`# expect-prefix:` the start of
/// one, for lines with floating-point metrics). `# error: LINE:COL message`
/// is an error: every syntax error of a script that does not parse, or the
/// one runtime error a script stops at, whose call chain is the `# note:`s.
/// A script that runs to the end must also pass `neuromap check`; one that
/// stops at an unknown name must fail it at the same place.
final class GoldenTests: XCTestCase {
    func testGoldenScripts() throws {
        let root = try XCTUnwrap(Bundle.module.url(forResource: "Golden", withExtension: nil), "Golden/ is not in the test bundle")
        let scripts = GoldenScript.all(under: root)
        XCTAssertGreaterThanOrEqual(scripts.count, 40, "expected the golden scripts under \(root.path)")
        for script in scripts {
            let problems = try script.run()
            if !problems.isEmpty {
                XCTFail("\(script.name):\n" + problems.map { "  " + $0 }.joined(separator: "\n"))
            }
        }
    }
}

/// One golden script and what it expects.
struct GoldenScript {
    enum Directive: String, CaseIterable {
        case expect, expectPrefix = "expect-prefix", error, note
    }

    struct Expectation {
        let directive: Directive
        let text: String
        /// Where the comment is, for messages.
        let line: Int
    }

    let name: String
    let url: URL
    let source: String
    let expectations: [Expectation]

    /// Every `.nmap` file under `root`, by path.
    static func all(under root: URL) -> [GoldenScript] {
        let files = (FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?.allObjects ?? [])
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "nmap" }
            .sorted { $0.path < $1.path }
        return files.compactMap { url in
            guard let source = try? String(contentsOf: url, encoding: .utf8) else { return nil }
            let name = String(url.path.dropFirst(root.path.count + 1))
            return GoldenScript(name: name, url: url, source: source, expectations: parse(source))
        }
    }

    /// `# expect: …`, `# expect-prefix: …`, `# error: …` and `# note: …`,
    /// several to a line if need be.
    static func parse(_ source: String) -> [Expectation] {
        let names = Directive.allCases.map(\.rawValue).sorted { $0.count > $1.count }.joined(separator: "|")
        // A directive's text runs to the next directive on the line, or its end.
        let pattern = try? NSRegularExpression(pattern: "# (\(names)):[ ]?(.*?)[ ]*(?=# (?:\(names)):|$)")
        var found: [Expectation] = []
        for (index, line) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = String(line)
            let range = NSRange(text.startIndex..., in: text)
            for match in pattern?.matches(in: text, range: range) ?? [] {
                guard let kind = Range(match.range(at: 1), in: text), let body = Range(match.range(at: 2), in: text),
                      let directive = Directive(rawValue: String(text[kind])) else { continue }
                found.append(Expectation(directive: directive, text: String(text[body]), line: index + 1))
            }
        }
        return found
    }

    func expected(_ directives: Directive...) -> [Expectation] {
        expectations.filter { directives.contains($0.directive) }
    }

    /// Runs the script; the differences from its expectations, one per line.
    func run() throws -> [String] {
        var problems: [String] = []
        let parsed = NeuroLab.parse(source)
        let expectedErrors = expected(.error)

        if !parsed.diagnostics.isEmpty {
            let actual = parsed.diagnostics.map { "\($0.range.start) \($0.message)" }
            problems += compare(expectedErrors, actual, what: "syntax error")
            if !expected(.expect, .expectPrefix).isEmpty { problems.append("expects output, but does not parse") }
            return problems
        }

        let interpreter = NeuroLab.makeInterpreter()
        let libraryProblems = interpreter.loadStandardLibrary()
        if !libraryProblems.isEmpty { return ["the standard library did not load: \(libraryProblems)"] }
        interpreter.baseDirectory = url.deletingLastPathComponent().path
        // Before running, so the globals hold only the library's names, as in `neuromap check`.
        let unresolved = NameCheck.unresolved(parsed.program, interpreter: interpreter)
        let output = OutputLines()
        interpreter.output = { output.lines += $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
        let failure: RuntimeError? = try onLargeStack {
            do {
                try interpreter.run(parsed.program)
                return nil
            } catch let error as RuntimeError {
                return error
            } catch {
                return RuntimeError("not a RuntimeError: \(error)")
            }
        }

        problems += compareOutput(output.lines)
        let diagnostic = failure?.diagnostic
        problems += compare(expectedErrors, diagnostic.map { ["\($0.range.start) \($0.message)"] } ?? [], what: "runtime error")
        problems += compare(expected(.note), diagnostic?.notes ?? [], what: "note")
        // A script stops at its first runtime error: one error, and no output expected after it.
        if expectedErrors.count > 1 { problems.append("a script that parses stops at its first runtime error; it expects \(expectedErrors.count)") }
        if let error = expectedErrors.first,
           let late = expectations.drop(while: { $0.directive != .error }).first(where: { $0.directive == .expect || $0.directive == .expectPrefix }) {
            problems.append("line \(late.line): output is expected after the runtime error on line \(error.line)")
        }

        // `neuromap check` must agree: silent on a script that runs, and
        // finding the unknown name a script stops at.
        if let diagnostic, diagnostic.message.hasPrefix("unknown name") {
            if !unresolved.contains(where: { $0.range.start == diagnostic.range.start && $0.message == diagnostic.message }) {
                problems.append("check does not report \(diagnostic.range.start) \(diagnostic.message); it reports \(unresolved.map(\.description))")
            }
        } else if failure == nil, !unresolved.isEmpty {
            problems.append("runs, but check reports: " + unresolved.map(\.description).joined(separator: "; "))
        }
        return problems
    }

    /// Printed lines against `# expect:` and `# expect-prefix:`, line by line.
    private func compareOutput(_ actual: [String]) -> [String] {
        let expected = self.expected(.expect, .expectPrefix)
        var problems: [String] = []
        for i in 0..<max(expected.count, actual.count) {
            switch (i < expected.count ? expected[i] : nil, i < actual.count ? actual[i] : nil) {
            case (let e?, let a?):
                let matches = e.directive == .expectPrefix ? a.hasPrefix(e.text) : a == e.text
                if !matches { problems.append("line \(e.line): expected \(e.directive == .expectPrefix ? "a line starting " : "")'\(e.text)', printed '\(a)'") }
            case (let e?, nil): problems.append("line \(e.line): expected '\(e.text)', but nothing more was printed")
            case (nil, let a?): problems.append("printed '\(a)', more than expected")
            case (nil, nil): break
            }
        }
        return problems
    }

    /// Expected against actual texts (errors or notes), in order.
    private func compare(_ expected: [Expectation], _ actual: [String], what: String) -> [String] {
        var problems: [String] = []
        for i in 0..<max(expected.count, actual.count) {
            switch (i < expected.count ? expected[i] : nil, i < actual.count ? actual[i] : nil) {
            case (let e?, let a?) where e.text != a: problems.append("line \(e.line): expected \(what) '\(e.text)', got '\(a)'")
            case (let e?, nil): problems.append("line \(e.line): expected \(what) '\(e.text)', got none")
            case (nil, let a?): problems.append("unexpected \(what) '\(a)'")
            default: break
            }
        }
        return problems
    }
}

/// Lines printed by a script (written on the script's thread, read after).
final class OutputLines: @unchecked Sendable {
    var lines: [String] = []
}

/// A value made on one thread and read by another once it signals.
final class ThreadResult<T>: @unchecked Sendable {
    var value: T?
}

