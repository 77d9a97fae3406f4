import XCTest
@testable import NeuroLanguage
import NeuroLab

/// How errors are shown: `file:line:col: error: message`, the line, a caret
/// as wide as the place, and the notes; and which place runtime errors name.
final class DiagnosticTests: XCTestCase {
    private func range(_ line: Int, _ column: Int, _ endLine: Int, _ endColumn: Int) -> SourceRange {
        SourceRange(SourceLocation(line: line, column: column, offset: 0), SourceLocation(line: endLine, column: endColumn, offset: 0))
    }

    func testRendering() {
        let cases: [(source: String, range: SourceRange, notes: [String], expected: String)] = [
            ("x = 1 + y\n", range(1, 9, 1, 10), [],
             "f.nmap:1:9: error: boom\n  x = 1 + y\n          ^\n"),
            ("x = zeros([2])\n", range(1, 5, 1, 15), [],
             "f.nmap:1:5: error: boom\n  x = zeros([2])\n      ^^^^^^^^^^\n"),
            ("a\nb = c\n", range(2, 5, 2, 5), [],
             "f.nmap:2:5: error: boom\n  b = c\n      ^\n"),
            // Tabs before the place are kept, so the caret lines up.
            ("\tx = y\n", range(1, 6, 1, 7), [],
             "f.nmap:1:6: error: boom\n  \tx = y\n  \t    ^\n"),
            // A place running onto the next line is underlined to the end of its first.
            ("x = (1 +\n  2)\n", range(1, 5, 2, 5), [],
             "f.nmap:1:5: error: boom\n  x = (1 +\n      ^^^^\n"),
            ("x = y\r\nz\r\n", range(1, 5, 1, 6), [],
             "f.nmap:1:5: error: boom\n  x = y\n      ^\n"),
            // A place outside the text (an error from elsewhere) still prints its header.
            ("x\n", range(7, 1, 7, 2), [], "f.nmap:7:1: error: boom\n"),
            ("f(1)\n", range(1, 1, 1, 5), ["in f() called at 2:1", "in g() called at 3:1"],
             "f.nmap:1:1: error: boom\n  f(1)\n  ^^^^\n  note: in f() called at 2:1\n  note: in g() called at 3:1\n"),
        ]
        for c in cases {
            let diagnostic = Diagnostic(message: "boom", range: c.range, notes: c.notes)
            XCTAssertEqual(diagnostic.render(file: "f.nmap", source: c.source), c.expected, c.source.debugDescription)
        }
    }

    /// Text from the user cannot move the terminal's cursor or flood it:
    /// control characters are escaped, long quotes and lines are cut.
    func testControlCharactersAndHugeTextAreShownSafely() {
        let esc = "\u{1B}"
        let longLine = "x = [" + String(repeating: "1, ", count: 400) + "1] 2"
        let cases: [(source: String, expected: String)] = [
            ("x = 1 \(esc)[2J\n",
             "f.nmap:1:7: error: unexpected character '\\u{1B}'\n  x = 1 \\u{1B}[2J\n        ^^^^^^\n"),
            ("s = \"a\u{7}b\" + c d\n",
             "f.nmap:1:15: error: expected end of line after the assignment, found 'd'\n  s = \"a\\u{7}b\" + c d\n" + String(repeating: " ", count: 20) + "^\n"),
            ("x = 1 \"" + String(repeating: "a", count: 10_000) + "\"\n",
             "f.nmap:1:7: error: expected end of line after the assignment, found string \"" + String(repeating: "a", count: 58) + "…\n"
             + "  x = 1 \"" + String(repeating: "a", count: 153) + "…\n        ^" + String(repeating: "^", count: 153) + "\n"),
            // A long line is cut to a window around the place.
            (longLine + "\n",
             "f.nmap:1:1209: error: expected end of line after the assignment, found '2'\n  …" + String(longLine.suffix(160)) + "\n"
             + "  " + String(repeating: " ", count: 160) + "^\n"),
        ]
        for c in cases {
            let parsed = NeuroLab.parse(c.source)
            XCTAssertEqual(Diagnostic.report(parsed.diagnostics, in: SourceText(name: "f.nmap", text: c.source)), c.expected,
                           String(c.source.prefix(40)).debugDescription)
        }
        let long = Diagnostic(message: "record has no field '" + String(repeating: "k", count: 5_000) + "'", range: range(1, 1, 1, 2))
        XCTAssertEqual(long.render(file: "f.nmap", source: "x\n"),
                       "f.nmap:1:1: error: record has no field '" + String(repeating: "k", count: 279) + "… (4,622 characters left out) …"
                       + String(repeating: "k", count: 99) + "'\n  x\n  ^\n")
    }

    /// 40,000 errors of each kind: the first 100 are shown, the rest
    /// counted, in linear time (it was quadratic: each rendering split the
    /// whole text into lines again).
    func testManyErrorsShowTheFirstHundredQuickly() {
        for line in ["x = )", "1 +", "x = 1 2", "$", "x = \"abc"] {
            let source = String(repeating: line + "\n", count: 40_000)
            let started = Date()
            let parsed = NeuroLab.parse(source)
            let report = Diagnostic.report(parsed.diagnostics, in: SourceText(name: "f.nmap", text: source))
            XCTAssertLessThan(Date().timeIntervalSince(started), 10, line)
            XCTAssertEqual(parsed.diagnostics.count, 40_000, line)
            XCTAssertEqual(report.components(separatedBy: ": error: ").count - 1, 100, line)
            XCTAssertTrue(report.hasPrefix("f.nmap:1:"), line)
            XCTAssertTrue(report.hasSuffix("\n… and 39,900 more errors\n"), line)
        }
        XCTAssertEqual(Diagnostic.report(Array(repeating: Diagnostic(message: "boom", range: range(1, 1, 1, 2)), count: 101),
                                         in: SourceText(name: "f", text: "x")).suffix(20), "\n… and 1 more error\n")
    }

    /// Places know which input they are in, so an error in a function from
    /// an earlier input (a line at the prompt, a loaded file) shows that text.
    func testAPlaceInAnEarlierInputIsShownThere() throws {
        let interpreter = NeuroLab.makeInterpreter()
        let first = SourceText(name: "<stdin>", text: "fn f(x) {\n  x + \"a\"\n}", input: 1)
        let second = SourceText(name: "<stdin>", text: "f(2)", input: 2)
        var parser = Parser(source: first.text, input: 1)
        try interpreter.run(parser.parseProgram())
        parser = Parser(source: second.text, input: 2)
        let program = parser.parseProgram()
        XCTAssertThrowsError(try interpreter.run(program)) { error in
            let diagnostic = (error as? RuntimeError)?.diagnostic
            XCTAssertEqual(diagnostic?.range.input, 1)
            XCTAssertEqual(diagnostic?.render(in: second, earlier: [1: first]),
                           "<stdin>:2:3: error: cannot apply '+' to a number and a string; make it text first: str(x) + …, or format(\"{} …\", x)\n    x + \"a\"\n    ^^^^^^^\n  note: in f() called at 1:1\n")
        }
    }

    func testCallNotes() {
        func calls(_ names: [String]) -> [(name: String, range: SourceRange)] {
            names.enumerated().map { ($1, range($0 + 1, 1, $0 + 1, 2)) }
        }
        let here = range(1, 14, 1, 20)
        let cases: [(calls: [(name: String, range: SourceRange)], notes: [String])] = [
            ([], []),
            (calls(["f", "g"]), ["in f() called at 1:1", "in g() called at 2:1"]),
            // Runaway recursion: the repeated call is one note with a count.
            (Array(repeating: ("down", here), count: 179) + [("down", range(2, 1, 2, 7))],
             ["in down() called at 1:14 (179 times)", "in down() called at 2:1"]),
            // A long chain of different calls keeps both ends.
            (calls((1...30).map { "f\($0)" }),
             (1...6).map { "in f\($0)() called at \($0):1" } + ["… 18 more calls …"] + (25...30).map { "in f\($0)() called at \($0):1" }),
        ]
        for c in cases {
            XCTAssertEqual(RuntimeError.callNotes(c.calls), c.notes)
        }
    }

    func testAnErrorWithNoPlaceIsShownAtTheStart() {
        XCTAssertEqual(RuntimeError("lost").diagnostic.render(file: "f.nmap", source: "x\n"), "f.nmap:1:1: error: lost\n  x\n  ^\n")
    }

    /// A runtime error names the expression that failed, not the statement.
    func testRuntimeErrorsPointAtTheFailingExpression() throws {
        let cases: [(source: String, place: String, message: String, notes: [String])] = [
            ("x = 1 + (2 / 0)", "1:9-16", "division by zero", []),
            ("print([1, 2][5])", "1:7-16", "index 5 is out of range for length 2", []),
            ("t = zeros([2])\nprint(t.shap)", "2:7-13", "a tensor has no field 'shap'; did you mean 'shape'?", []),
            ("f = 3\nf(1)", "2:1-2", "'f' is a number, not a function", []),
            ("zeros([2], shap: 1)", "1:1-20", "zeros: unknown argument 'shap'; did you mean 'shape'?", []),
            ("x = [1, 2] + tensor([1, 2, 3])", "1:5-31", "add: incompatible shapes [2] and [3]", []),
            ("zeros([2]) + print", "1:1-19", "cannot apply '+' to a tensor and a function", []),
            ("fn f(x) { x + \"a\" }\nfn g() { f(1) }\ng()", "1:11-18", "cannot apply '+' to a number and a string; make it text first: str(x) + …, or format(\"{} …\", x)",
             ["in f() called at 2:10", "in g() called at 3:1"]),
        ]
        for c in cases {
            let error = try XCTUnwrap(runtimeError(c.source), c.source)
            let d = error.diagnostic
            XCTAssertEqual("\(d.range.start.line):\(d.range.start.column)-\(d.range.end.column)", c.place, c.source)
            XCTAssertEqual(d.message, c.message, c.source)
            XCTAssertEqual(d.notes, c.notes, c.source)
        }
    }

    /// The standard library lives in other files: an error inside one of its
    /// functions is shown at the script's call, with the function's name.
    func testErrorsInsideTheStandardLibraryPointAtTheCall() throws {
        let interpreter = NeuroLab.makeInterpreter()
        let library = "fn lib_repeat(s, n) {\n    out = \"\"\n    for i in 0..n { out = out + s }\n    out\n}\nfn lib_apply(f, x) { f(x) }"
        try interpreter.run(NeuroLab.parse(library).program, in: interpreter.library)

        let inLibrary = try XCTUnwrap(runtimeError("fn go() { lib_repeat(\"a\", \"b\") }\ngo()", interpreter))
        XCTAssertEqual(inLibrary.diagnostic.description, "1:11: lib_repeat(): range end must be a whole number, got b")
        XCTAssertEqual(inLibrary.diagnostic.notes, ["in go() called at 2:1"])

        // A script's own function called by the library keeps its place.
        let inScript = try XCTUnwrap(runtimeError("lib_apply(fn(v) { v + \"a\" }, 1)", interpreter))
        XCTAssertEqual(inScript.diagnostic.description, "1:19: cannot apply '+' to a number and a string; make it text first: str(x) + …, or format(\"{} …\", x)")

        // A script may define a function over a library name; that one is the script's.
        let redefined = try XCTUnwrap(runtimeError("fn lib_repeat(s, n) { s + n }\nlib_repeat(1, \"b\")", interpreter))
        XCTAssertEqual(redefined.diagnostic.description, "1:23: cannot apply '+' to a number and a string; make it text first: str(x) + …, or format(\"{} …\", x)")
    }

    private func runtimeError(_ source: String, _ interpreter: Interpreter = NeuroLab.makeInterpreter()) -> RuntimeError? {
        let parsed = NeuroLab.parse(source)
        XCTAssertEqual(parsed.diagnostics, [], source)
        interpreter.output = { _ in }
        do {
            try interpreter.run(parsed.program)
            XCTFail("\(source) ran without an error")
        } catch let error as RuntimeError {
            return error
        } catch {
            XCTFail("\(source): not a RuntimeError: \(error)")
        }
        return nil
    }
}
