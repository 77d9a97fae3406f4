import XCTest
@testable import NeuroLanguage

/// Values nested far deeper than the main thread's stack could recurse:
/// `xs = [xs]` in a loop. Comparing, printing, making tensors of them and
/// freeing them (when the interpreter goes, as at the end of `neuromap run`
/// or on `:reset`) used to crash.
final class DeepValueTests: XCTestCase {
    func testDeeplyNestedValuesCompareConvertAndAreFreed() throws {
        let source = """
            xs = []
            ys = []
            r = {}
            for i in 0..300000 {
              xs = [xs]
              ys = [ys]
              r = {a: r}
            }
            same = xs == ys
            differ = xs == [ys]
            shown = len(str(r))
            """
        let (run, error) = runSnippet(source)   // on this (the main) thread, as the REPL's :reset frees
        XCTAssertNil(error)
        XCTAssertEqual(Formatter.display(try XCTUnwrap(run.globals.lookup("same"))), "true")
        XCTAssertEqual(Formatter.display(try XCTUnwrap(run.globals.lookup("differ"))), "false")
        XCTAssertEqual(Formatter.display(try XCTUnwrap(run.globals.lookup("shown"))), "323")
        XCTAssertThrowsError(try run.run(Interpreter.parse("tensor(xs)").program)) { error in
            XCTAssertEqual((error as? RuntimeError)?.message, "tensor: lists nested more than 64 deep make no tensor")
        }
        // `run` is freed at the end of this scope, with its deep values.
    }
}
