import Foundation
import XCTest
@testable import NeuroEngine

/// Atomic writes keep what the file was (its mode) and leave nothing behind.
final class AtomicFileTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("neuromap-atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func mode(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    func testWritingOverAFileKeepsItsMode() throws {
        let path = directory.appendingPathComponent("private.json").path
        try writeAtomically(Array("old".utf8), to: path)
        XCTAssertEqual(chmod(path, 0o600), 0)
        try writeAtomically(Array("new".utf8), to: path)
        XCTAssertEqual(try mode(path), 0o600, "a private file stays private")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "new")
        XCTAssertEqual(chmod(path, 0o640), 0)
        try writeAtomically(Array("newer".utf8), to: path)
        XCTAssertEqual(try mode(path), 0o640)
    }

    func testNothingIsLeftBehind() throws {
        let path = directory.appendingPathComponent("x.bin").path
        try writeAtomically([1, 2, 3], to: path)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["x.bin"])
    }

    /// What a SIGTERM handler does mid-write: the temporary file goes, the
    /// file being replaced stays as it was.
    func testTheSignalHandlerRemovesThePendingTemporaryFile() throws {
        let path = directory.appendingPathComponent("x.bin").path
        try writeAtomically([1], to: path)
        let temporary = directory.appendingPathComponent(".x.bin.tmp-test").path
        FileManager.default.createFile(atPath: temporary, contents: Data([9, 9]))
        PendingWrite.begin(temporary)
        PendingWrite.removeFromSignalHandler()
        PendingWrite.end()
        XCTAssertFalse(FileManager.default.fileExists(atPath: temporary))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), Data([1]))
        PendingWrite.removeFromSignalHandler()   // nothing pending: does nothing
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
    }
}
