import XCTest
@testable import NeuroLanguage
import NeuroLab

/// Arguments that used to be taken silently, or refused with the wrong
/// reason, and what they say now.
final class BuiltinErrorTests: XCTestCase {
    func testMessages() {
        let cases: [(source: String, message: String)] = [
            // A negative seed was clamped to 0: seed -1 and seed 0 gave the same numbers.
            ("randn([2], seed: -1)", "randn: 'seed' must be 0 or more, got -1"),
            ("rand([2], seed: -2)", "rand: 'seed' must be 0 or more, got -2"),
            ("modular(p: 7, seed: -3)", "modular: 'seed' must be 0 or more, got -3"),
            ("addition(p: 7, seed: -1)", "addition: 'seed' must be 0 or more, got -1"),
            ("group(n: 3, seed: -1)", "group: 'seed' must be 0 or more, got -1"),
            ("transformer(modular(p: 7), layers: 1, heads: 1, d_model: 8, seed: -1)", "transformer: 'seed' must be 0 or more, got -1"),
            ("randn([2], std: -1)", "randn: 'std' must be 0 or more, got -1"),
            // Whole numbers too big to be exact are too large, not "not whole".
            ("range(1e15)", "range: 'end' is too large (at most 999999999999999), got 1e+15"),
            ("range(-1e16, 0)", "range: 'start' is too small (at least -999999999999999), got -1e+16"),
            ("range(2.5)", "range: 'end' must be a whole number, got 2.5"),
            ("[1, 2][1e15]", "index is too large (at most 999999999999999), got 1e+15"),
            ("[1, 2][0.5]", "index must be a whole number, got 0.5"),
            ("0..1e300", "range end is too large (at most 999999999999999), got 1e+300"),
            ("[1][\"\(String(repeating: "x", count: 100))\"]", "index must be a whole number, got \(String(repeating: "x", count: 59))…"),
        ]
        for c in cases {
            XCTAssertEqual(runSnippet(c.source).1, c.message, c.source)
        }
        XCTAssertNil(runSnippet("randn([2], seed: 0, std: 0)").1)
    }

    /// NaN is neither less nor greater than anything, so a plain sort left
    /// lists with one out of order; it sorts last, either way, as for tensors.
    func testSortPutsNaNLast() throws {
        let cases: [(String, String)] = [
            ("sort([3, sqrt(-1), 1, 2])", "[1, 2, 3, nan]"),
            ("sort([3, sqrt(-1), 1, 2], descending: true)", "[3, 2, 1, nan]"),
            ("sort([sqrt(-1), 5, sqrt(-1), -1])", "[-1, 5, nan, nan]"),
            ("sort(tensor([3, sqrt(-1), 1]), descending: true)", "tensor F32 [3] [3, 1, nan]"),
        ]
        for (source, expected) in cases {
            let (interpreter, error) = runSnippet("v = " + source)
            XCTAssertNil(error, source)
            XCTAssertEqual(Formatter.display(try XCTUnwrap(interpreter.globals.lookup("v"))), expected, source)
        }
    }
}
