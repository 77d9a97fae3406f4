import Foundation
import XCTest

/// Drives the `neuromap` prompt through a pseudo-terminal, as a user at a
/// terminal would: readline, history, completion, Ctrl-C and Ctrl-D. Needs the
/// executable built (`swift build`).
final class REPLTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("neuromap-repl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    private var historyFile: URL { scratch.appendingPathComponent("history") }

    /// A prompt with its own history file and home directory, ready for input.
    private func startPrompt(file: StaticString = #filePath, line: UInt = #line) throws -> TerminalSession {
        let session = try TerminalSession(try NeuromapBinary.locate(),
                                          environment: ["NEUROMAP_HISTORY": historyFile.path, "HOME": scratch.path])
        guard session.expect("nmap> ", file: file, line: line) else { throw TerminalError("no prompt") }
        return session
    }

    func testAnErrorDoesNotEndTheSession() throws {
        let prompt = try startPrompt()
        prompt.send("1 +\r")
        prompt.expect("error: expected an expression")
        prompt.expect("nmap> ")
        prompt.send("undefined_name\r")
        prompt.expect("error: unknown name 'undefined_name'")
        prompt.expect("nmap> ")
        prompt.send(":hlep\r")
        prompt.expect("did you mean ':help'?")
        prompt.expect("nmap> ")
        prompt.send("print(40 + 2)\r")
        prompt.expect("\n42\n")
        prompt.expect("nmap> ")
        prompt.send(":quit\r")
        XCTAssertEqual(prompt.waitForExit(), 0)
    }

    func testBlocksAndBracketsContinueOnTheNextLine() throws {
        let prompt = try startPrompt()
        prompt.send("fn f(x) {\r")
        prompt.expect("  ... ")
        prompt.send("x * 2\r")
        prompt.expect("  ... ")
        prompt.send("}\r")
        prompt.expect("nmap> ")
        prompt.send("f(21)\r")
        prompt.expect("\n42\n")
        prompt.expect("nmap> ")
        prompt.send("[1,\r")
        prompt.expect("  ... ")
        prompt.send("2]\r")
        prompt.expect("[1, 2]")
        prompt.expect("nmap> ")
        // A blank line inside a block is part of it.
        prompt.send("fn g() {\r")
        prompt.expect("  ... ")
        prompt.send("\r")
        prompt.expect("  ... ")
        prompt.send("6 * 7\r")
        prompt.expect("  ... ")
        prompt.send("}\r")
        prompt.expect("nmap> ")
        prompt.send("g()\r")
        prompt.expect("\n42\n")
        prompt.expect("nmap> ")
        prompt.send("[2,\r")                       // Ctrl-C drops an unfinished block
        prompt.expect("  ... ")
        prompt.send("\u{03}")
        prompt.expect("nmap> ")
        prompt.send("print(3)\r")
        prompt.expect("\n3\n")
        prompt.expect("nmap> ")
        prompt.send("\u{04}")
        XCTAssertEqual(prompt.waitForExit(), 0)
    }

    func testHistoryIsKeptAcrossSessions() throws {
        let first = try startPrompt()
        first.send("print(6 * 7)\r")
        first.expect("\n42\n")
        first.expect("nmap> ")
        first.send("x = 1\r")
        first.expect("nmap> ")
        first.send("\u{04}")
        XCTAssertEqual(first.waitForExit(), 0)
        let saved = try String(contentsOf: historyFile, encoding: .utf8)
        // Each entry follows a timestamp line (`#1733…`), which keeps multi-line entries whole.
        XCTAssertEqual(saved.split(separator: "\n").filter { !$0.hasPrefix("#") }.suffix(2), ["print(6 * 7)", "x = 1"])

        let second = try startPrompt()
        second.send("\u{1B}[A\u{1B}[A\r")          // Up twice: print(6 * 7)
        second.expect("\n42\n")
        second.expect("nmap> ")
        second.send("\u{12}6 *\r")                  // Ctrl-R finds it again
        second.expect("\n42\n")
        second.expect("nmap> ")
        second.send(":quit\r")
        XCTAssertEqual(second.waitForExit(), 0)
    }

    func testTabCompletesNamesFieldsAndHooks() throws {
        let prompt = try startPrompt()
        prompt.send("data = mod\t(p: 23, train: 0.5)\r")
        prompt.expect("nmap> ")
        prompt.send("print(type(data))\r")
        prompt.expect("\ndataset\n")
        prompt.expect("nmap> ")
        prompt.send("model = transformer(layers: 1, heads: 2, d_model: 16, d_mlp: 32)\r")
        prompt.expect("nmap> ")
        prompt.send("model.W_\t\t")                 // ambiguous: the second Tab lists the fields
        prompt.expect("W_E")
        prompt.expect("W_pos")
        prompt.send("pos.shape\r")
        prompt.expect("[3, 16]")
        prompt.expect("nmap> ")
        prompt.send("cache = run(model, data)\r")
        prompt.expect("nmap> ")
        prompt.send("cache[\"blocks.0.attn.hook_pat\t].shape\r")   // readline closes the quote
        prompt.expect("[529, 2, 3, 3]")
        prompt.expect("nmap> ")
        prompt.send(":he\tmodu\t\r")
        prompt.expect("modular arithmetic")
        prompt.expect("nmap> ")
        prompt.send(":quit\r")
        XCTAssertEqual(prompt.waitForExit(), 0)
    }

    func testCtrlCStopsTrainingAndKeepsVariables() throws {
        let prompt = try startPrompt()
        prompt.send("half typed\u{03}")              // at the prompt: drops the line
        prompt.expect("nmap> ")
        prompt.send("data = modular(p: 23, train: 0.5)\r")
        prompt.expect("nmap> ")
        prompt.send("model = transformer(layers: 1, heads: 2, d_model: 16, d_mlp: 32)\r")
        prompt.expect("nmap> ")
        prompt.send("train model on data epochs 1000000\r")
        prompt.expect("epoch ")
        Thread.sleep(forTimeInterval: 0.5)
        prompt.send("\u{03}")
        prompt.expect("interrupted at epoch", timeout: 10)
        prompt.expect("nmap[model · a+b mod 23]> ", timeout: 10)   // training made the model and data current
        prompt.send("print(model.history.epochs > 0, type(data))\r")
        prompt.expect("true dataset")
        prompt.expect("nmap[model · a+b mod 23]> ")
        prompt.send("train model on data epochs 5\r")   // the trainer continues where it stopped
        prompt.expect("trained to epoch")
        prompt.expect("nmap[model · a+b mod 23]> ")
        prompt.send(":quit\r")
        XCTAssertEqual(prompt.waitForExit(), 0)
    }

    /// Up-arrow recalls a function typed over several lines as one entry, in
    /// this session and the next.
    func testAMultiLineEntryIsOneHistoryEntry() throws {
        let first = try startPrompt()
        first.send("fn h() {\r")
        first.expect("  ... ")
        first.send("5\r")
        first.expect("  ... ")
        first.send("}\r")
        first.expect("nmap> ")
        first.send("\u{04}")
        XCTAssertEqual(first.waitForExit(), 0)

        let second = try startPrompt()
        second.send("\u{1B}[A\r")                  // Up once: the whole definition of h
        second.expect("nmap> ")
        second.send("h() + 1\r")
        second.expect("\n6\n")
        second.expect("nmap> ")
        second.send(":quit\r")
        XCTAssertEqual(second.waitForExit(), 0)
    }

    /// Without NEUROMAP_HISTORY the history file is in $HOME, as shells keep theirs.
    func testTheHistoryFileIsInHome() throws {
        let session = try TerminalSession(try NeuromapBinary.locate(), environment: ["HOME": scratch.path])
        session.expect("nmap> ")
        session.send("print(1 + 1)\r")
        session.expect("\n2\n")
        session.expect("nmap> ")
        session.send("\u{04}")
        XCTAssertEqual(session.waitForExit(), 0)
        let saved = try String(contentsOfFile: scratch.appendingPathComponent(".neuromap_history").path, encoding: .utf8)
        XCTAssertTrue(saved.contains("print(1 + 1)"), saved)
    }

    /// Ctrl-D typed while a command runs ends the session once it finishes;
    /// a line typed meanwhile runs first.
    func testCtrlDDuringACommandEndsTheSessionAfterIt() throws {
        let prompt = try startPrompt()
        prompt.send("print(\"busy\"); for i in 0..1000000 { x = i }\r")
        prompt.expect("busy")                       // the command runs: what comes now is typed ahead
        prompt.send("print(\"typed ahead\")\r")
        prompt.send("\u{04}")
        prompt.expect("typed ahead")
        XCTAssertEqual(prompt.waitForExit(), 0)
    }

    /// Ctrl-C during a built-in that cannot stop inside (one LAPACK call)
    /// stops the rest of the line once it returns; the session goes on.
    func testCtrlCDuringALongBuiltInDropsTheRestOfTheLine() throws {
        let prompt = try startPrompt()
        prompt.send("done = 0; s = svd(randn([900, 900])); done = 1\r")
        Thread.sleep(forTimeInterval: 0.3)
        prompt.send("\u{03}")
        prompt.expect("interrupted")
        prompt.expect("nmap> ")
        prompt.send("print(done)\r")
        prompt.expect("\n0\n")
        prompt.expect("nmap> ")
        prompt.send(":quit\r")
        XCTAssertEqual(prompt.waitForExit(), 0)
    }

    func testCtrlDAndQuitExitWithStatusZero() throws {
        let prompt = try startPrompt()
        prompt.send("\u{04}")
        XCTAssertEqual(prompt.waitForExit(), 0)
        let other = try startPrompt()
        other.send(":q\r")
        XCTAssertEqual(other.waitForExit(), 0)
    }

    func testPipedInputReadsPlainLines() throws {
        let (output, errors, status) = try runPiped("x = 2\nprint(x * 3)\nfn f(x) {\n  x * 2\n}\nf(4)\n:vars\n")
        XCTAssertEqual(output.split(separator: "\n").prefix(2), ["6", "8"])
        XCTAssertTrue(output.contains("x     number"), output)
        XCTAssertEqual(errors, "")
        XCTAssertEqual(status, 0)
        let script = scratch.appendingPathComponent("lesson")
        try FileManager.default.createDirectory(at: script, withIntermediateDirectories: true)
        try "fn triple(x) { x * 3 }\n".write(to: script.appendingPathComponent("lib.nmap"), atomically: true, encoding: .utf8)
        try "import \"lib.nmap\"\nz = triple(5)\n".write(to: script.appendingPathComponent("main.nmap"), atomically: true, encoding: .utf8)
        let loaded = try runPiped(":load \(script.path)/main.nmap\nprint(z)\n{w: tensor([[1, 2], [3, 4]]), big: randn([64, 64]), note: \"wide records become tables\"}\n")
        XCTAssertEqual(loaded.errors, "")
        XCTAssertEqual(loaded.output.split(separator: "\n").first, "15")
        XCTAssertTrue(loaded.output.contains("\n  big   tensor F32 [64, 64]"), loaded.output)

        let failing = try runPiped("print(missing)\nprint(1)\n")
        XCTAssertEqual(failing.output, "1\n")
        XCTAssertTrue(failing.errors.contains("unknown name 'missing'"), failing.errors)
        XCTAssertEqual(failing.status, 1)
    }

    /// `:where` names the current model and data; `:lesson N` loads a lesson
    /// of the workshop and shows its first step, `:lesson` the next one, and
    /// `:lesson run` runs the step shown, as written.
    func testWhereAndLessonShowWhereTheStudentIs() throws {
        let ran = try runPiped(":where\ndata = modular(p: 7, train: 0.5)\nm = transformer(data, d_model: 8, heads: 2)\nuse m on data\n:where\n"
                               + ":lesson 1\n:lesson run\n:lesson\n:lesson run\nprint(name)\n:where\n:lesson 99\n")
        XCTAssertTrue(ran.output.contains("model:  none (train one, load one, or say use MODEL on DATA)"), ran.output)
        XCTAssertTrue(ran.output.contains("model:  m — transformer: 1 layer, 2 heads, d_model 8"), ran.output)
        XCTAssertTrue(ran.output.contains("data:   data — dataset a+b mod 7: 49 inputs"), ran.output)
        XCTAssertTrue(ran.output.contains("lesson 1: Tensors and the language — "), ran.output)
        XCTAssertTrue(ran.output.contains("── step 1 of "), ran.output)
        XCTAssertTrue(ran.output.contains("# Numbers, strings, lists and records.\np = 59\n"), ran.output)
        XCTAssertTrue(ran.output.contains("── step 2 of "), ran.output)
        XCTAssertTrue(ran.output.contains("\na+b mod 59\n"), ran.output)       // steps 1 and 2 ran
        XCTAssertTrue(ran.output.contains("lesson: 1 (Tensors and the language), next: step 3 of "), ran.output)
        XCTAssertTrue(ran.output.contains("# What you learn: NeuroMap's values"), ran.output)   // the opening comment, shown on loading
        XCTAssertTrue(ran.errors.contains("error: there is no lesson 99; the lessons are 1,"), ran.errors)
    }

    /// An error inside a function defined on an earlier entry is shown in
    /// that entry's line, with the caret under the failing part (it was
    /// shown against the current entry: the wrong line, or none).
    func testAnErrorInAFunctionFromAnEarlierEntryShowsItsLine() throws {
        let lib = scratch.appendingPathComponent("lib.nmap")
        try "# helpers\nfn half(x) {\n  x / 0\n}\n".write(to: lib, atomically: true, encoding: .utf8)
        let piped = try runPiped("fn f(x) { x + \"a\" }\nfn g(v) {\n  w = v\n  w[5]\n}\ny = 2\nf(y)\nz = 1\ng([1])\n:load \(lib.path)\nhalf(3)\n")
        XCTAssertEqual(piped.errors, """
            <stdin>:1:11: error: cannot apply '+' to a number and a string; make it text first: str(x) + …, or format("{} …", x)
              fn f(x) { x + "a" }
                        ^^^^^^^
              note: in f() called at 1:1
            <stdin>:3:3: error: index 5 is out of range for length 1
                w[5]
                ^^^^
              note: in g() called at 1:1
            \(lib.path):3:3: error: division by zero
                x / 0
                ^^^^^
              note: in half() called at 1:1

            """)
        XCTAssertEqual(piped.status, 1)
    }

    private func runPiped(_ input: String) throws -> (output: String, errors: String, status: Int32) {
        let process = Process()
        process.executableURL = try NeuromapBinary.locate()
        process.environment = ProcessInfo.processInfo.environment.merging(["NEUROMAP_HISTORY": historyFile.path]) { $1 }
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertFalse(FileManager.default.fileExists(atPath: historyFile.path), "piped input keeps no history")
        return (String(decoding: output, as: UTF8.self), String(decoding: errors, as: UTF8.self), process.terminationStatus)
    }
}
