import Foundation
import XCTest

/// `neuromap`'s exit codes and what it prints on errors, from the built
/// binary: 0 success, 1 runtime error, 65 syntax error, 66 missing file.
final class ExitCodeTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("neuromap-exit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func testExitCodesAndMessages() throws {
        func script(_ name: String, _ text: String) throws -> String {
            let url = directory.appendingPathComponent(name)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
        let ok = try script("ok.nmap", "print(\"hi\")\n")
        let runtime = try script("runtime.nmap", "x = 1\ny = x / 0\n")
        let nested = try script("nested.nmap", "fn f(x) { x + \"a\" }\nf(1)\n")
        let syntax = try script("syntax.nmap", "x = 1 +\ny = 2 2\n")
        let names = try script("names.nmap", "prnt(len([1]))\n")
        let knobs = try script("knobs.nmap", "metric = \"loss\"\nseeds = [3]\nepochs = 10\nprint(metric, seeds, epochs)\n")
        let missing = directory.appendingPathComponent("missing.nmap").path
        let folder = directory.path

        let cases: [(arguments: [String], status: Int32, output: String, errors: String)] = [
            (["-e", "1 + 2"], 0, "3\n", ""),
            (["run", ok], 0, "hi\n", ""),
            (["check", ok], 0, "\(ok): ok\n", ""),
            (["run", runtime], 1, "", "\(runtime):2:5: error: division by zero\n  y = x / 0\n      ^^^^^\n"),
            (["run", nested], 1, "",
             "\(nested):1:11: error: cannot apply '+' to a number and a string\n  fn f(x) { x + \"a\" }\n            ^^^^^^^\n  note: in f() called at 2:1\n"),
            (["-e", "zeros([1000000, 1000000])"], 1, "",
             "<-e>:1:1: error: zeros: shape [1000000, 1000000] (4 TB) is too large to allocate (more than half of this machine's memory)\n  zeros([1000000, 1000000])\n  ^^^^^^^^^^^^^^^^^^^^^^^^^\n"),
            (["run", syntax], 65, "",
             "\(syntax):1:8: error: expected an expression, found end of line\n  x = 1 +\n         ^\n"
             + "\(syntax):2:7: error: expected end of line after the assignment, found '2'\n  y = 2 2\n        ^\n"
             + "2 syntax errors in \(syntax)\n"),
            (["check", names], 65, "", "\(names):1:1: error: unknown name 'prnt'; did you mean 'print'?\n  prnt(len([1]))\n  ^^^^\n"),
            (["run", missing], 66, "", "neuromap: \(missing): no such file\n"),
            (["check", missing], 66, "", "neuromap: \(missing): no such file\n"),
            (["run", folder], 66, "", "neuromap: \(folder): cannot be read\n"),
            // --set: values by the language's literal rules, names the script assigns, types it expects.
            (["run", knobs, "--set", "seeds=[1, 2]", "--set", "metric=acc", "--set", "epochs=-5"], 0, "acc [1, 2] -5\n", ""),
            (["run", knobs, "--set", "metric=\"kl\"", "--set", "seeds=[]"], 0, "kl [] 10\n", ""),
            (["run", knobs, "--set", "metrc=loss"], 64, "",
             "neuromap: --set metrc: \(knobs) never assigns 'metrc' at top level; did you mean 'metric'? (it assigns metric, seeds, epochs)\n"),
            (["run", knobs, "--set", "epochs=1+2"], 64, "",
             "neuromap: --set epochs: '1+2' is not a value: give a number, a string (in quotes, or one bare word), true, false, none, a list [1, 2] or a record {a: 1}\n"),
            (["run", knobs, "--set", "epochs=\"ten\""], 1, "",
             "\(knobs):3:1: error: --set epochs: the script assigns epochs a number here, but --set gave a string\n  epochs = 10\n  ^^^^^^^^^^^\n"),
            (["-e", "1", "-e", "2"], 64, "", "neuromap: -e is given 2 times; give the code once\n"),
            (["-e", "1", "run", ok], 64, "", "neuromap: -e runs code on its own; it cannot be combined with 'run'\n"),
        ]
        for c in cases {
            let result = try run(c.arguments)
            let label = c.arguments.joined(separator: " ")
            XCTAssertEqual(result.status, c.status, "\(label): \(result.errors)")
            XCTAssertEqual(result.output, c.output, label)
            XCTAssertEqual(result.errors, c.errors, label)
        }
    }

    private func run(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = try NeuromapBinary.locate()
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let stdout = Pipe(), stderr = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Read both to the end before waiting: a full pipe would block the child.
        let errors = ThreadResult<Data>()
        let group = DispatchGroup()
        group.enter()
        Thread { errors.value = stderr.fileHandleForReading.readDataToEndOfFile(); group.leave() }.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: errors.value ?? Data(), as: UTF8.self))
    }
}
