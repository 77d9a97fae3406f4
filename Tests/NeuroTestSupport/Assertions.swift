import XCTest
import NeuroEngine

// The one set of numeric assertions every test target shares.

/// Asserts that two arrays agree elementwise within `atol + rtol·|expected|`,
/// reporting the first index that does not.
public func assertClose(_ actual: [Double], _ expected: [Double], rtol: Double = 1e-5, atol: Double = 1e-6,
                 _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("\(message) count \(actual.count) != \(expected.count)", file: file, line: line)
        return
    }
    for i in 0..<actual.count {
        let a = actual[i], e = expected[i]
        if a.isNaN && e.isNaN { continue }
        if a == e { continue }
        if !(Swift.abs(a - e) <= atol + rtol * Swift.abs(e)) {
            XCTFail("\(message) index \(i): \(a) vs expected \(e) (|diff| \(Swift.abs(a - e)))", file: file, line: line)
            return
        }
    }
}

/// Tensor form of `assertClose`, also checking the shape.
public func assertClose(_ actual: Tensor, _ expected: Tensor, rtol: Double = 1e-5, atol: Double = 1e-6,
                 _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, expected.shape, "\(message) shape", file: file, line: line)
    assertClose(actual.toDoubles(), expected.toDoubles(), rtol: rtol, atol: atol, message, file: file, line: line)
}

/// Asserts that `body` throws an `EngineError` whose message contains `fragment`.
public func assertThrows<T>(_ fragment: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T) {
    do {
        _ = try body()
        XCTFail("expected an error containing '\(fragment)'", file: file, line: line)
    } catch {
        XCTAssertTrue("\(error)".contains(fragment), "error '\(error)' does not contain '\(fragment)'", file: file, line: line)
    }
}
