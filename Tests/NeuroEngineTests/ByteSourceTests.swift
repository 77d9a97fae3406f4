import Foundation
import Glibc
import XCTest
import NeuroTestSupport
@testable import NeuroEngine

/// Runs `body` on another thread and waits at most `seconds` for it, so a
/// read that blocks (a FIFO with no writer) fails the test instead of
/// hanging it. On timeout the FIFO at `fifo` gets a writer, which unblocks
/// the reader, and the test fails.
func withinSeconds<T>(_ seconds: Double, unblocking fifo: String? = nil, file: StaticString = #filePath, line: UInt = #line,
                      _ body: @escaping @Sendable () throws -> T) -> Result<T, Error>? {
    let box = ResultBox<T>(), done = DispatchSemaphore(value: 0)
    Thread {
        box.result = Result { try body() }
        done.signal()
    }.start()
    guard done.wait(timeout: .now() + seconds) == .success else {
        XCTFail("did not finish within \(seconds) s (blocked?)", file: file, line: line)
        if let fifo {
            let fd = open(fifo, O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
        }
        return nil
    }
    return box.result
}

/// Where the worker thread of `withinSeconds` leaves its result; read only after the semaphore.
final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}

/// Asserts that `result` is an `EngineError` with exactly `message`.
func assertFailure<T>(_ result: Result<T, Error>?, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
    guard let result else { return }
    switch result {
    case .success: XCTFail("expected the error '\(message)'", file: file, line: line)
    case .failure(let error): XCTAssertEqual((error as? EngineError)?.message, message, file: file, line: line)
    }
}

/// Makes `path` a sparse file of `size` bytes that starts with `prefix`
/// (no disk space is used for the rest); skips the test where the file
/// system cannot hold a file that large.
func writeSparse(_ prefix: [UInt8], size: Int, to path: String) throws {
    try writeAtomically(prefix, to: path)
    guard truncate(path, off_t(size)) == 0 else {
        throw XCTSkip("cannot make a sparse file of \(size) bytes here: \(String(cString: strerror(errno)))")
    }
}

final class ByteSourceTests: XCTestCase {
    /// Directories, FIFOs and devices are refused by name before anything is
    /// read: a FIFO would block forever, /dev/zero would never end.
    func testNonRegularFilesAreRefusedByName() throws {
        let directory = try temporaryDirectory(self)
        let fifo = directory + "/pipe.safetensors"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let readers: [(String, @Sendable (String) throws -> Void)] = [
            ("safetensors", { _ = try SafeTensors.read($0) }),
            ("npy", { _ = try NPY.read($0) }),
            ("bytes", { _ = try readFileBytes($0) }),
        ]
        for (name, read) in readers {
            assertFailure(withinSeconds(10, unblocking: fifo) { try read(fifo) }, "\(fifo): is a FIFO, not a regular file")
            assertFailure(withinSeconds(10) { try read(directory) }, "\(directory): is a directory, not a regular file")
            assertFailure(withinSeconds(10) { try read("/dev/zero") }, "/dev/zero: is a device, not a regular file")
            XCTAssertTrue(FileManager.default.fileExists(atPath: fifo), name)
        }
    }

    func testAFileCutWhileBeingReadIsAnError() throws {
        let path = try temporaryDirectory(self) + "/cut.bin"
        try writeAtomically(Array(repeating: 7, count: 100), to: path)
        let file = try RegularFile(path: path)
        XCTAssertEqual(file.size, 100)
        XCTAssertEqual(try file.bytes(at: 96, count: 4), [7, 7, 7, 7])
        XCTAssertEqual(truncate(path, 50), 0)
        XCTAssertThrowsError(try file.bytes(at: 40, count: 20)) { error in
            XCTAssertEqual("\(error)", "\(path): ended at byte 50 while reading bytes 40..<60; was it changed while being read?")
        }
    }

    func testMemoryBytesRefuseRangesOutsideThem() {
        let source = MemoryBytes(contents: [1, 2, 3], label: "m")
        XCTAssertEqual(try source.bytes(at: 1, count: 2), [2, 3])
        XCTAssertThrowsError(try source.bytes(at: 2, count: 2)) { error in
            XCTAssertEqual("\(error)", "m: needs bytes 2..<4 but has 3")
        }
    }
}
