import Foundation
import XCTest
@testable import NeuroLanguage
import NeuroLab

/// After Ctrl-C, nothing more runs: not the next statement, not the next
/// turn of a loop, not the next call; a script exits with status 130.
final class InterruptionTests: XCTestCase {
    override func tearDown() {
        Interruption.clear()
    }

    /// Calls of `mark()` (a bare call, like `save(…)` on its own line).
    var marks = 0

    /// An interpreter with `press_ctrl_c()`, a built-in that returns normally
    /// after the flag was raised, as one LAPACK call or a file write does.
    func interpreter() -> Interpreter {
        let interpreter = NeuroLab.makeInterpreter()
        interpreter.output = { _ in }
        interpreter.register(Builtin("mark", "mark()", "counts its calls") { [unowned self] _ in
            marks += 1
            return .none
        })
        interpreter.register(Builtin("press_ctrl_c", "press_ctrl_c()", "raises the interruption flag") { _ in
            Interruption.request()
            return .number(1)
        })
        return interpreter
    }

    func testNoStatementRunsAfterAnInterruptedBuiltin() throws {
        for source in ["r = press_ctrl_c()\nmark()", "press_ctrl_c()\nmark()\nran = 1", "r = press_ctrl_c()\nran = 1", "press_ctrl_c()\nran = 1", "press_ctrl_c(); ran = 1",
                       "for i in 0..3 { press_ctrl_c()\nran = 1 }", "fn f() { press_ctrl_c()\nran = 1 }\nf()"] {
            Interruption.clear()
            let interpreter = interpreter()
            let parsed = NeuroLab.parse(source)
            XCTAssertEqual(parsed.diagnostics, [], source)
            XCTAssertThrowsError(try interpreter.run(parsed.program), source) { error in
                XCTAssertEqual((error as? RuntimeError)?.message, "interrupted", source)
            }
            XCTAssertNil(interpreter.globals.lookup("ran"), source)
            XCTAssertEqual(marks, 0, source)
        }
    }

    /// The binary: Ctrl-C in a long loop stops the script before its next
    /// statement (which would have overwritten a file) with status 130.
    func testAnInterruptedScriptStopsAndExitsWith130() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("neuromap-ctrlc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = directory.appendingPathComponent("long.nmap")
        try "x = 0\nfor i in 0..1e12 { x = i }\nsave(zeros([2]), \"important.npy\")\n".write(to: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = try NeuromapBinary.locate()
        process.arguments = ["run", script.path]
        process.currentDirectoryURL = directory
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        Thread.sleep(forTimeInterval: 0.5)
        process.interrupt()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130, message)
        XCTAssertTrue(message.contains("error: interrupted"), message)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("important.npy").path))
    }
}
