import Foundation
import XCTest
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import NeuroLanguage
@testable import NeuroLab

/// Shared by the plot, report and viewer tests: a small trained model, a
/// temporary working directory, an XML check and headless Chromium.
enum PictureTestSupport {
    /// A modular-addition model trained briefly, with checkpoints, on the current dataset.
    static let setup = """
        data = modular(p: 7, train: 0.5, seed: 1)
        model = transformer(data, layers: 1, heads: 2, d_model: 16, d_mlp: 32, seed: 0)
        train model on data epochs 30 lr 1e-2 wd 1.0 checkpoint 10
        post = run(model, data)["blocks.0.mlp.hook_post"][:, -1]
        """

    /// A fresh empty directory under the system's temporary one.
    static func temporaryDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("neuromap-\(name)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs `code` (after the setup when asked); the interpreter, what it printed, and the runtime error's message if any.
    static func run(_ code: String, setup: Bool = true) -> (interpreter: Interpreter, output: [String], error: String?) {
        let interpreter = NeuroLab.makeInterpreter()
        var printed: [String] = []
        interpreter.output = { printed.append($0) }
        let source = (setup ? PictureTestSupport.setup + "\n" : "") + code
        interpreter.session.remember(SourceText(name: "t", text: source))   // as the front end does, for the report's commands
        let parsed = NeuroLab.parse(source)
        guard parsed.diagnostics.isEmpty else {
            return (interpreter, printed, parsed.diagnostics.map { $0.render(file: "t", source: source) }.joined())
        }
        do {
            _ = try interpreter.run(parsed.program)
            return (interpreter, printed, nil)
        } catch let error as RuntimeError {
            return (interpreter, printed, error.message)
        } catch {
            return (interpreter, printed, "\(error)")
        }
    }

    /// Whether `text` parses as XML whose root element is `root`; the parser's error otherwise.
    static func xmlProblem(_ text: String, root: String = "svg") -> String? {
        final class Root: NSObject, XMLParserDelegate {
            var first: String?
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                        attributes: [String: String] = [:]) {
                if first == nil { first = name }
            }
        }
        let parser = XMLParser(data: Data(text.utf8))
        let delegate = Root()
        parser.delegate = delegate
        guard parser.parse() else { return "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "unknown error")" }
        return delegate.first == root ? nil : "the root element is \(delegate.first ?? "missing"), not \(root)"
    }

    /// The Chromium executable on PATH, if any.
    static var chromium: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
            for directory in path.split(separator: ":") {
                let candidate = "\(directory)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }

    /// Loads a file in headless Chromium; the DOM after its scripts ran, and what Chromium logged.
    /// Skips the test when Chromium is not installed.
    static func loadInChromium(_ file: URL) throws -> (dom: String, log: String) {
        guard let chromium else { throw XCTSkip("headless Chromium is not installed (apt-get install -y chromium)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        let profile = try temporaryDirectory("chromium-profile")
        defer { try? FileManager.default.removeItem(at: profile) }
        process.arguments = ["--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-extensions",
                             "--user-data-dir=\(profile.path)", "--enable-logging=stderr", "--v=0",
                             "--virtual-time-budget=3000", "--dump-dom", file.absoluteString]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes while it runs, so a full pipe cannot stall it.
        var log = Data()
        let reader = Thread { log = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let dom = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !reader.isFinished { Thread.sleep(forTimeInterval: 0.01) }
        return (String(decoding: dom, as: UTF8.self), String(decoding: log, as: UTF8.self))
    }

    /// Console errors and uncaught exceptions in Chromium's log.
    static func scriptErrors(_ log: String) -> [String] {
        log.split(separator: "\n").map(String.init).filter {
            $0.contains("Uncaught") || ($0.contains("CONSOLE") && $0.lowercased().contains("error"))
        }
    }
}

/// Running scripts from a test case in a fresh workbench interpreter.
protocol ScriptTesting {}

extension ScriptTesting {
    /// Runs `code`, failing the test on an error; the interpreter and what it printed.
    @discardableResult
    func run(_ code: String, file: StaticString = #filePath, line: UInt = #line) -> (Interpreter, [String]) {
        let (interpreter, output, error) = PictureTestSupport.run(code, setup: false)
        if let error { XCTFail(error, file: file, line: line) }
        return (interpreter, output)
    }

    /// The error `code` stops with (failing the test when it runs through).
    func failure(_ code: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        let (_, _, error) = PictureTestSupport.run(code, setup: false)
        XCTAssertNotNil(error, "expected an error from: \(code)", file: file, line: line)
        return error ?? ""
    }
}
