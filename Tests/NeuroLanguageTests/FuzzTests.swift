import XCTest
@testable import NeuroLanguage
import NeuroLab
@testable import NeuroFuzz

/// The fuzzer's run in CI, its determinism, and the inputs that once
/// crashed or hung the language (each now a plain error or a quick run).
final class FuzzTests: XCTestCase {
    /// 2,000 random, generated and mutated scripts: none may crash, and none
    /// may give an error without a place in the source. (`Fuzzer.run(count:
    /// 100_000, seed:)` is the long run, behind `neuromap-bench --only fuzz`.)
    func testTwoThousandInputsRunClean() throws {
        let root = try XCTUnwrap(Bundle.module.url(forResource: "Golden", withExtension: nil))
        let corpus = Fuzzer.builtInCorpus + GoldenScript.all(under: root).map(\.source)
        let report = Fuzzer.run(count: 2_000, seed: 20_250_101, corpus: corpus)
        XCTAssertEqual(report.inputs, 2_000)
        XCTAssertTrue(report.findings.isEmpty, report.description)
        // Every stage saw plenty of inputs.
        XCTAssertGreaterThan(report.syntaxErrors, 200, report.description)
        XCTAssertGreaterThan(report.runtimeErrors, 200, report.description)
        XCTAssertGreaterThan(report.completed, 50, report.description)
    }

    /// The generators of deep nesting and of huge shapes, and Ctrl-C at
    /// every one of an input's first calls: no crash, no finding, and what
    /// each must do (refuse the size, refuse the depth, stop).
    func testDeepNestingHugeShapesAndCtrlC() throws {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<60 {
            let source = DeepNesting.make(&rng)
            let result = try onLargeStack { Fuzzer.check(source) }
            XCTAssertEqual(result.findings, [], String(source.prefix(80)))
        }
        for _ in 0..<30 {
            let source = HugeShapes.make(&rng)
            let started = Date()
            let result = try onLargeStack { Fuzzer.check(source) }
            XCTAssertEqual(result.findings, [], source)
            XCTAssertEqual(result.outcome, .runtimeError, "every huge result is refused: \(source)")
            // A hang detector, not a speed test: a refused size returns at once,
            // but the small inputs before it are built for real on a loaded debug build.
            XCTAssertLessThan(Date().timeIntervalSince(started), 120, source)
        }
        let program = "xs = []\nfor i in 0..5 { xs += [len(xs)] }\ny = sum(tensor(xs))\nprint(y)\nz = zeros([2])"
        for call in 0..<9 {
            let result = try onLargeStack { Fuzzer.check(program, interruptAtCall: call) }
            XCTAssertEqual(result.findings, [], "Ctrl-C at call \(call)")
            XCTAssertEqual(result.outcome, .interrupted, "Ctrl-C at call \(call)")
        }
    }

    func testInputsAreReproducible() {
        let corpus = Fuzzer.builtInCorpus
        for index in [0, 1, 17, 999] {
            XCTAssertEqual(Fuzzer.input(index, seed: 5, corpus: corpus), Fuzzer.input(index, seed: 5, corpus: corpus))
        }
        XCTAssertNotEqual((0..<20).map { Fuzzer.input($0, seed: 5, corpus: corpus) },
                          (0..<20).map { Fuzzer.input($0, seed: 6, corpus: corpus) })
    }

    /// Inputs that crashed the process (a trap or a stack overflow) or ran
    /// for ever, through the fuzzer's sandbox.
    func testCrashRegressions() throws {
        let sum = "x = " + Array(repeating: "1", count: 100_000).joined(separator: " + ")
        let cases: [(what: String, source: String, outcome: FuzzOutcome)] = [
            ("Int(1e300) in a hook name", "hook blocks.0. 1e300mlp.hook_post with fn(x) { x }", .syntaxErrors(1)),
            ("Int(1e300) in arange", "arange(1e300)", .runtimeError),
            ("mean over axis 0 of a scalar (an error, as in NumPy)", "print(mean(3, axis: 0))", .runtimeError),
            ("stack overflow: 100,000-term sum", sum, .syntaxErrors(1)),
            ("stack overflow: long else-if chain", "if x { }" + String(repeating: " else if x { }", count: 300), .syntaxErrors(1)),
            ("stack overflow: 20,000 stray characters", String(repeating: "$", count: 20_000), .syntaxErrors(20_000)),
            ("stack overflow: newlines in parentheses", "(" + String(repeating: "\n", count: 300_000) + "1)", .completed),
            ("a 10^14-number range, indexed", "print((0..100000000000000)[5])", .completed),
            ("a 10^14-number range, looped over", "for i in 0..100000000000000 { break }", .completed),
            ("printing a list that shares its parts", "x = [1]\nfor i in 0..40 { x = [x, x] }\ns = str(x)", .completed),
            ("printing a deeply nested list", "x = []\nfor i in 0..900 { x = [x] }\ns = str(x)\nprint(x == x)", .completed),
            ("exponential recursion made only of expressions", "fn f(n) { n > 0 and f(n - 1) == f(n - 1) }\nf(100)", .stepLimited),
            ("an error with no place", "zeros([2]) + print", .runtimeError),
        ]
        for c in cases {
            let started = Date()
            let result = try onLargeStack { Fuzzer.check(c.source) }
            XCTAssertEqual(result.outcome, c.outcome, c.what)
            XCTAssertEqual(result.findings, [], c.what)
            XCTAssertLessThan(Date().timeIntervalSince(started), 10, c.what)
        }
    }

    /// Sizes that would exhaust memory or overflow a conversion are errors
    /// before anything is allocated.
    func testOversizedRequestsAreRefused() throws {
        let model = "data = modular(p: 5, train: 0.5)\nmodel = transformer(data, layers: 1, heads: 1, d_model: 8, d_mlp: 16)\n"
        let cases: [(source: String, message: String)] = [
            ("tensor(0..1000000000000)", "tensor: the range 0..1000000000000 is too long for a tensor"),
            ("(0..100000000000000)[:]", "slice of 100000000000000 items is too long to make a list (at most 50000000)"),
            ("arange(1e300)", "arange: 0.0..<1e+300 by 1.0 has too many elements to allocate"),
            ("zeros([1000000, 1000000])", "zeros: shape [1000000, 1000000] (4 TB) is too large to allocate (more than half of this machine's memory)"),
            ("s = \"ab\"\nfor i in 0..64 { s = s + s }", "the joined string would be 67108864 long, more than the 50000000 a string may hold"),
            (model + "cache = run(model, data)\ncache[\"pattern\", 1e300]", "a cache is indexed like cache[\"pattern\", 0], with a whole-number layer"),
        ]
        for c in cases {
            let interpreter = NeuroLab.makeInterpreter()
            interpreter.output = { _ in }
            XCTAssertThrowsError(try interpreter.run(NeuroLab.parse(c.source).program), c.source) { error in
                XCTAssertEqual((error as? RuntimeError)?.message, c.message, c.source)
            }
        }
    }
}
