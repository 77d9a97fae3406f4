import Foundation
import XCTest

/// The progress line as a user sees it: on a terminal a long sweep shows
/// what runs and how far, and Ctrl-C stops it, keeping the session; piped
/// to files, a script prints its results and nothing else. Needs the
/// executable built (`swift build`).
final class ProgressTerminalTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("neuromap-progress-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    func testASweepShowsItsLineAndCtrlCStopsItAtThePrompt() throws {
        let prompt = try TerminalSession(try NeuromapBinary.locate(),
                                         environment: ["NEUROMAP_HISTORY": scratch.appendingPathComponent("history").path,
                                                       "HOME": scratch.path])
        XCTAssertTrue(prompt.expect("nmap> "))
        prompt.send("data = modular(p: 31, train: 0.5); model = transformer(data, layers: 1, heads: 4, d_model: 64, d_mlp: 512)\r")
        prompt.expect("nmap> ")
        prompt.send("use model on data\r")
        prompt.expect("nmap[model · a+b mod 31]> ")     // the prompt shows the current model and task
        // 3 positions × 512 neurons: minutes in a debug build, so Ctrl-C comes long before the end.
        prompt.send("r = sweep(\"mlp_post 0\", with: corrupt(a + 1), by: \"pos,neuron\")\r")
        XCTAssertTrue(prompt.expect("sweep post 0 by pos × neuron  ", timeout: 60))
        XCTAssertTrue(prompt.expect("/1536 "))
        prompt.send("\u{03}")
        XCTAssertTrue(prompt.expect("error: interrupted", timeout: 30))
        XCTAssertTrue(prompt.expect("nmap[model · a+b mod 31]> "))
        prompt.send("print(r)\r")                       // nothing half made was assigned
        XCTAssertTrue(prompt.expect("unknown name 'r'"))
        prompt.expect("nmap[model · a+b mod 31]> ")
        prompt.send(":quit\r")
        XCTAssertEqual(prompt.waitForExit(), 0)
    }

    /// A script: Ctrl-C during a sweep stops it with `interrupted` and
    /// status 130, before the next statement (which would have saved it).
    func testCtrlCStopsASweepInAScript() throws {
        let script = scratch.appendingPathComponent("sweep.nmap")
        try """
            data = modular(p: 31, train: 0.5)
            model = transformer(data, layers: 1, heads: 4, d_model: 64, d_mlp: 512)
            use model on data
            print("sweeping")
            r = sweep("mlp_post 0", with: corrupt(a + 1), by: "pos,neuron")
            save(r, "sweep.csv")

            """.write(to: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = try NeuromapBinary.locate()
        process.arguments = ["run", script.path]
        process.currentDirectoryURL = scratch
        process.standardInput = FileHandle.nullDevice
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Started once it says so; the sweep itself takes minutes in a debug build.
        var printed = Data()
        while !String(decoding: printed, as: UTF8.self).contains("sweeping") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            printed += chunk
        }
        Thread.sleep(forTimeInterval: 1)
        process.interrupt()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130, message)
        XCTAssertTrue(message.contains("sweep.nmap:5:5: error: interrupted"), message)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("sweep.csv").path))
    }

    /// The golden script of every long computation, run by the binary with
    /// its output and errors going to files: exactly the printed results.
    func testAPipedScriptPrintsOnlyItsResults() throws {
        let root = try XCTUnwrap(Bundle.module.url(forResource: "Golden", withExtension: nil))
        let script = root.appendingPathComponent("study/progress.nmap")
        let source = try String(contentsOf: script, encoding: .utf8)
        let expected = GoldenScript.parse(source).filter { $0.directive == .expect || $0.directive == .expectPrefix }
        let process = Process()
        process.executableURL = try NeuromapBinary.locate()
        process.arguments = ["run", script.path]
        process.currentDirectoryURL = scratch
        process.standardInput = FileHandle.nullDevice
        let output = scratch.appendingPathComponent("out.txt"), errors = scratch.appendingPathComponent("err.txt")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        process.waitUntilExit()
        let printed = try String(contentsOf: output, encoding: .utf8)
        XCTAssertEqual(process.terminationStatus, 0, printed)
        XCTAssertEqual(try String(contentsOf: errors, encoding: .utf8), "")
        XCTAssertFalse(printed.contains("\r"), printed)
        let lines = printed.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        XCTAssertEqual(lines.count, expected.count, printed)
        for (line, expectation) in zip(lines, expected) {
            XCTAssertTrue(expectation.directive == .expect ? line == expectation.text : line.hasPrefix(expectation.text),
                          "'\(line)' against '\(expectation.text)'")
        }
    }
}
