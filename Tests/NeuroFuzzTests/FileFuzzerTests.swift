import Foundation
import XCTest
import NeuroEngine
@testable import NeuroFuzz

/// Crafted and special files through every reader: each is read or refused
/// with a named error, none crashes or hangs. (`neuromap-bench --only fuzz`
/// runs many more.)
final class FileFuzzerTests: XCTestCase {
    func testCraftedFilesAreReadOrRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("neuromap-filefuzz-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let report = try FileFuzzer.run(count: 400, seed: 20_261_205, directory: directory)
        XCTAssertTrue(report.findings.isEmpty, report.description)
        XCTAssertGreaterThan(report.refused, 100, report.description)
        XCTAssertGreaterThan(report.accepted, 10, "some mutations leave a readable file: \(report.description)")
    }

    func testMutationsAreReproducible() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("neuromap-filefuzz-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let seeds = try FileFuzzer.validFiles(in: directory)
        let original = try XCTUnwrap(seeds[.safetensors])
        var a = RandomGenerator(seed: 9), b = RandomGenerator(seed: 9)
        XCTAssertEqual(FileFuzzer.mutate(original, kind: .safetensors, &a), FileFuzzer.mutate(original, kind: .safetensors, &b))
    }
}
