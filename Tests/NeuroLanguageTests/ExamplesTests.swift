import Foundation
import XCTest
@testable import NeuroLanguage
import NeuroLab
import NeuroModels

/// Runs every `examples/*.nmap` in-process, as `neuromap run` would, with the
/// standard library loaded, in a temporary working directory (so the files
/// examples save do not land in the repository), and fails on any syntax or
/// runtime error.
///
/// Long examples run with reduced knobs, the `--set` overrides listed in
/// `reductions`; an example not listed runs as it is and must be quick.
final class ExamplesTests: XCTestCase {
    /// Example → top-level assignments to override (what `--set name=value` does).
    /// Tiny sizes and a few epochs: the test checks that every line runs, not
    /// that the model learns (the debug engine is slow).
    static let reductions: [String: [String: Value]] = [
        "quickstart.nmap": ["p": .number(13), "epochs": .number(3)],
        "grokking.nmap": ["p": .number(13), "epochs": .number(4), "checkpoint_every": .number(2)],
        "interventions.nmap": ["p": .number(13), "epochs": .number(3)],
        "fourier.nmap": ["p": .number(13), "epochs": .number(3)],
        "models.nmap": ["p": .number(11), "epochs": .number(3)],
        "progress.nmap": ["p": .number(13), "epochs": .number(6), "every": .number(2)],
        "patching.nmap": ["p": .number(13), "epochs": .number(3)],
        "circuits.nmap": ["p": .number(13), "epochs": .number(3), "sample": .number(100)],
        // Two scans and two runs of MiniLM (about 12 s in a debug build); its control found from here.
        "scan.nmap": ["control_path": .string(tinyBERT)],
        "sae.nmap": ["p": .number(13), "epochs": .number(3), "steps": .number(40), "d_sae": .number(64)],
        // Nine toy models of superposition: 200 steps of 256 each.
        "superposition.nmap": ["steps": .number(200), "batch": .number(256)],
        // Two seeds of S_3 for a few epochs: the table, the tally and the JSON, not the learning.
        "universality.nmap": ["n": .number(3), "epochs": .number(4), "seeds": .number(2)],
    ]

    /// The pretrained example reads the real MiniLM from the model cache; where
    /// it was not fetched, the tiny BERT of the tests stands in (2 layers).
    static var pretrainedReductions: [String: [String: Value]] {
        guard (try? ModelCache.isPresent("all-minilm-l6-v2")) != true else { return [:] }
        return ["language_model.nmap": ["model_path": .string(tinyBERT), "layer": .number(1)],
                "scan.nmap": ["model_path": .string(tinyBERT)]]
    }

    static let tinyBERT = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("NeuroLabTests/Fixtures/tiny-bert").path

    /// What an example runs with: its reductions, and the tiny BERT where it needs MiniLM and the cache lacks it.
    static func overrides(_ name: String) -> [String: Value] {
        (reductions[name] ?? [:]).merging(pretrainedReductions[name] ?? [:]) { _, pretrained in pretrained }
    }

    static let examplesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples")

    static var examples: [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: examplesDirectory.path)) ?? []
        return names.filter { $0.hasSuffix(".nmap") }.sorted().map { examplesDirectory.appendingPathComponent($0) }
    }

    func testTheExamplesTheREADMEPromisesExist() {
        let names = Set(Self.examples.map(\.lastPathComponent))
        for name in ["quickstart.nmap", "grokking.nmap", "tensors.nmap", "interventions.nmap", "models.nmap", "datasets.nmap",
                     "fourier.nmap", "patching.nmap", "circuits.nmap", "progress.nmap"] {
            XCTAssert(names.contains(name), "examples/\(name) is missing")
        }
        for name in Self.reductions.keys {
            XCTAssert(names.contains(name), "the reductions table names examples/\(name), which does not exist")
        }
    }

    /// Each example opens with a comment block saying what it shows and how long it takes.
    func testEveryExampleSaysWhatItShowsAndHowLongItTakes() throws {
        for url in Self.examples {
            let text = try String(contentsOf: url, encoding: .utf8)
            let header = text.split(separator: "\n", omittingEmptySubsequences: false).prefix { $0.hasPrefix("#") }
            XCTAssertGreaterThanOrEqual(header.count, 3, "\(url.lastPathComponent) should open with a comment block")
            XCTAssert(header.contains { $0.lowercased().contains("how long") },
                      "\(url.lastPathComponent): the opening comment should say how long it takes")
        }
    }

    func testEveryExampleRuns() throws {
        let examples = Self.examples
        XCTAssertFalse(examples.isEmpty, "no examples in \(Self.examplesDirectory.path)")
        let workDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("neuromap-examples-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        let previousDirectory = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(workDirectory.path)
        defer {
            FileManager.default.changeCurrentDirectoryPath(previousDirectory)
            try? FileManager.default.removeItem(at: workDirectory)
        }
        for url in examples {
            let name = url.lastPathComponent
            let started = Date()
            let (output, failure, unused) = try runExample(url, overrides: Self.overrides(name), in: workDirectory)
            let seconds = Date().timeIntervalSince(started)
            if let failure {
                XCTFail("examples/\(name) failed:\n\(failure)\n--- its output ---\n\(output.suffix(40).joined(separator: "\n"))")
            }
            XCTAssertFalse(output.isEmpty, "examples/\(name) printed nothing")
            XCTAssert(unused.isEmpty, "examples/\(name) never assigns the knobs \(unused.sorted()) the reductions table overrides")
            if Self.reductions[name] == nil {
                XCTAssertLessThan(seconds, 20, "examples/\(name) runs unreduced in CI, so it must stay quick; add it to the reductions table")
            }
            print("examples/\(name): ok in \(String(format: "%.1f", seconds)) s")
        }
    }

    /// Runs one script; returns what it printed, the rendered error if it failed, and the overrides it never used.
    private func runExample(_ url: URL, overrides: [String: Value], in directory: URL) throws -> ([String], String?, Set<String>) {
        let source = try String(contentsOf: url, encoding: .utf8)
        let interpreter = NeuroLab.makeInterpreter()
        let problems = interpreter.loadStandardLibrary()
        guard problems.isEmpty else { return ([], "the standard library did not load:\n" + problems.joined(), []) }
        var printed: [String] = []
        interpreter.output = { printed.append($0) }
        interpreter.overrides = overrides
        interpreter.baseDirectory = directory.path
        let file = "examples/\(url.lastPathComponent)"
        let parsed = NeuroLab.parse(source)
        guard parsed.diagnostics.isEmpty else {
            return (printed, parsed.diagnostics.map { $0.render(file: file, source: source) }.joined(), [])
        }
        do {
            try interpreter.run(parsed.program)
        } catch let error as RuntimeError {
            return (printed, error.diagnostic.render(file: file, source: source), [])
        }
        return (printed, nil, Set(overrides.keys).subtracting(interpreter.usedOverrides))
    }
}
