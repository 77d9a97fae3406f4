import Foundation
import XCTest
import NeuroEngine
@testable import NeuroLanguage
@testable import NeuroLab

/// The standard library (`stdlib/*.nmap`): it loads cleanly, hides no
/// built-in, leaves user variables alone, and its helpers compute the
/// right numbers (checked here in Swift, independently of the language).
final class StdlibTests: XCTestCase {
    // MARK: - Support

    /// An interpreter with the standard library loaded, after running `code`.
    private func run(_ code: String, file: StaticString = #filePath, line: UInt = #line) throws -> Interpreter {
        let interpreter = NeuroLab.makeInterpreter()
        let problems = interpreter.loadStandardLibrary()
        XCTAssertEqual(problems, [], "the standard library should load cleanly", file: file, line: line)
        var printed: [String] = []
        interpreter.output = { printed.append($0) }
        let parsed = NeuroLab.parse(code)
        guard parsed.diagnostics.isEmpty else {
            XCTFail(parsed.diagnostics.map { $0.render(file: "test.nmap", source: code) }.joined(), file: file, line: line)
            return interpreter
        }
        do {
            try interpreter.run(parsed.program)
        } catch let error as RuntimeError {
            XCTFail(error.diagnostic.render(file: "test.nmap", source: code), file: file, line: line)
        }
        lastOutput = printed
        return interpreter
    }

    private var lastOutput: [String] = []

    private func tensor(_ name: String, in interpreter: Interpreter, file: StaticString = #filePath, line: UInt = #line) throws -> Tensor {
        guard case .tensor(let t)? = interpreter.globals.lookup(name) else {
            XCTFail("'\(name)' is not a tensor", file: file, line: line)
            throw EngineError(.argument, "not a tensor")
        }
        return t
    }

    private func number(_ name: String, in interpreter: Interpreter, file: StaticString = #filePath, line: UInt = #line) throws -> Double {
        switch interpreter.globals.lookup(name) {
        case .number(let n)?: return n
        case .tensor(let t)? where t.count == 1: return try t.item()
        default:
            XCTFail("'\(name)' is not a number", file: file, line: line)
            return .nan
        }
    }

    private func numbers(_ name: String, in interpreter: Interpreter, file: StaticString = #filePath, line: UInt = #line) throws -> [Double] {
        switch interpreter.globals.lookup(name) {
        case .list(let items)?:
            return items.map { item -> Double in
                if case .number(let n) = item { return n }
                if case .tensor(let t) = item, let n = try? t.item() { return n }
                return .nan
            }
        case .tensor(let t)?: return t.toDoubles()
        default:
            XCTFail("'\(name)' is not a list or tensor", file: file, line: line)
            return []
        }
    }

    private func assertClose(_ actual: [Double], _ expected: [Double], atol: Double, _ message: String = "",
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "\(message): lengths differ", file: file, line: line)
        let worst = zip(actual, expected).map { Swift.abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, atol, "\(message): largest difference \(worst)", file: file, line: line)
    }

    /// The basis built independently: const, then cos k and sin k rows, unit norm.
    private func expectedBasis(_ p: Int) -> [[Double]] {
        var rows: [[Double]] = [[Double](repeating: 1, count: p)]
        for k in 1...(p / 2) {
            rows.append((0..<p).map { Foundation.cos(2 * Double.pi * Double(k * $0) / Double(p)) })
            if 2 * k != p { rows.append((0..<p).map { Foundation.sin(2 * Double.pi * Double(k * $0) / Double(p)) }) }
        }
        return rows.map { row in
            let n = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return row.map { $0 / n }
        }
    }

    // MARK: - Loading

    func testLoadsCleanlyAndHidesNoBuiltin() {
        let interpreter = NeuroLab.makeInterpreter()
        XCTAssertEqual(interpreter.loadStandardLibrary(), [])
        XCTAssertFalse(interpreter.standardNames.isEmpty, "the standard library defined nothing")
        let clashes = interpreter.standardNames.filter { interpreter.builtins[$0] != nil }
        XCTAssert(clashes.isEmpty, "standard-library names hide built-ins: \(clashes.sorted().joined(separator: ", "))")
        XCTAssert(interpreter.session.notes.isEmpty, "loading left notes: \(interpreter.session.notes)")
        for name in ["fourier_basis", "fourier_norms", "frequency_norms", "top_frequencies", "grid", "logit_diff",
                     "a_plus_b_grid", "print_table", "percent"] {
            XCTAssert(interpreter.standardNames.contains(name), "missing \(name)")
        }
    }

    func testEveryFileStartsWithACommentSayingWhatItHolds() throws {
        XCTAssertFalse(StandardLibrary.files.isEmpty)
        for path in StandardLibrary.files {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            XCTAssert(text.hasPrefix("# "), "\(path) should start with a comment")
        }
    }

    /// Assigning inside a function changes a global of the same name, so the
    /// library's functions must not use names a user script might hold.
    func testHelpersLeaveUserVariablesAlone() throws {
        let names = ["p", "k", "w", "x", "n", "s", "v", "rows", "out", "names", "norms", "freqs", "angle", "picked",
                     "best", "xs", "c", "total_", "line", "widths", "texts", "energy", "share", "same", "order", "i", "r"]
        let setup = names.map { "\($0) = \"mine\"" }.joined(separator: "\n")
        let interpreter = try run("""
        \(setup)
        g = reshape(arange(7 * 7 * 2), [7, 7, 2])
        w2 = reshape(wave(7, 2), [7, 1])
        B = fourier_basis(7)
        n2 = fourier_basis_names(7)
        f = frequency_norms(w2)
        t = top_frequencies(f, 2)
        e = fraction_explained(w2, [2])
        h = fourier_transform_2d(g)
        nf = neuron_frequencies(g)
        q = grid(arange(49))
        a = a_plus_b_grid(5)
        d = logit_diff(tensor([[1, 2, 3]]), tensor([2]))
        ce = cross_entropy(tensor([[1, 2, 3]]), tensor([2]))
        ti = top_indices([3, 1, 2], 2)
        l = largest([3, 1, 2])
        print_table(["a", "b"], [[1, 2.5], [3, "x"]])
        print_bars(["a", "b"], [1, 2])
        m = map([1, 2], fn(y) { y * 2 })
        u = unit(tensor([3, 4]))
        """)
        for name in names {
            guard case .string("mine")? = interpreter.globals.lookup(name) else {
                XCTFail("a standard-library function overwrote the user's '\(name)' (now \(interpreter.globals.lookup(name).map { Formatter.display($0) } ?? "gone"))")
                continue
            }
        }
    }

    // MARK: - Fourier

    func testFourierBasisIsOrthonormal() throws {
        for p in [2, 7, 8, 59, 113] {
            let interpreter = try run("B = fourier_basis(\(p))\nI = B @ B.T")
            let basis = try tensor("B", in: interpreter)
            XCTAssertEqual(basis.shape, [p, p])
            let product = try tensor("I", in: interpreter).toDoubles()
            let identity = (0..<(p * p)).map { $0 / p == $0 % p ? 1.0 : 0.0 }
            assertClose(product, identity, atol: 1e-5, "B·Bᵀ = I for p = \(p)")
        }
    }

    func testFourierBasisRowsAreConstantThenCosAndSin() throws {
        for p in [7, 8, 113] {
            let interpreter = try run("B = fourier_basis(\(p))\nnames = fourier_basis_names(\(p))")
            assertClose(try tensor("B", in: interpreter).toDoubles(), expectedBasis(p).flatMap { $0 }, atol: 1e-5, "basis p = \(p)")
            guard case .list(let names)? = interpreter.globals.lookup("names") else { return XCTFail("no names") }
            XCTAssertEqual(names.count, p)
            XCTAssertEqual(names.prefix(3).map(Formatter.printed), ["const", "cos 1", "sin 1"])
            XCTAssertEqual(Formatter.printed(names[p - 1]), p % 2 == 0 ? "cos \(p / 2)" : "sin \(p / 2)")
        }
    }

    func testFourierNormsOfAPureCosinePutAllMassOnItsFrequency() throws {
        let p = 59, k = 7
        let interpreter = try run("""
        w = reshape(wave(\(p), \(k)), [\(p), 1])
        components = fourier_norms(w)
        norms = frequency_norms(w)
        top = top_frequencies(norms, 1)
        explained = fraction_explained(w, [\(k)])
        """)
        let components = try numbers("components", in: interpreter)
        XCTAssertEqual(components.count, p)
        // cos(2πkx/p) has norm √(p/2); all of it on the "cos k" row, 2k - 1.
        var expected = [Double](repeating: 0, count: p)
        expected[2 * k - 1] = (Double(p) / 2).squareRoot()
        assertClose(components, expected, atol: 1e-4, "component norms")
        let norms = try numbers("norms", in: interpreter)
        XCTAssertEqual(norms.count, p / 2 + 1)
        var byFrequency = [Double](repeating: 0, count: p / 2 + 1)
        byFrequency[k] = (Double(p) / 2).squareRoot()
        assertClose(norms, byFrequency, atol: 1e-4, "frequency norms")
        XCTAssertEqual(try numbers("top", in: interpreter), [Double(k)])
        XCTAssertEqual(try number("explained", in: interpreter), 1, accuracy: 1e-6)
    }

    func testFrequencyNormsCombineCosAndSinAndRankFrequencies() throws {
        let interpreter = try run("""
        p = 31
        w = stack([2 * wave(p, 3) + 0.5 * wave(p, 11, sine: true), wave(p, 5, sine: true) + 0.1], axis: 1)   # [31, 2]
        norms = frequency_norms(w)
        top = top_frequencies(norms, 3)
        part = fraction_explained(w, [3])
        """)
        // Column norms²: 4·p/2 on cos 3, 0.25·p/2 on sin 11, p/2 on sin 5, 0.01·p on the constant.
        let half = 31.0 / 2
        let norms = try numbers("norms", in: interpreter)
        XCTAssertEqual(norms[3], (4 * half).squareRoot(), accuracy: 1e-4)
        XCTAssertEqual(norms[5], half.squareRoot(), accuracy: 1e-4)
        XCTAssertEqual(norms[11], (0.25 * half).squareRoot(), accuracy: 1e-4)
        XCTAssertEqual(norms[0], (0.01 * 31).squareRoot(), accuracy: 1e-4)
        XCTAssertEqual(try numbers("top", in: interpreter), [3, 5, 11])
        let all = 4 * half + half + 0.25 * half + 0.01 * 31
        XCTAssertEqual(try number("part", in: interpreter), 4 * half / all, accuracy: 1e-5)
    }

    func testFourierTransform2DOfASeparableGrid() throws {
        // g[a, b, 0] = cos(2π·2a/p)·sin(2π·3b/p): one coefficient, at (cos 2, sin 3).
        let p = 11
        let interpreter = try run("""
        g = reshape(wave(\(p), 2), [\(p), 1, 1]) * reshape(wave(\(p), 3, sine: true), [1, \(p), 1])
        g = cat([g, g * 2], axis: 2)
        F = fourier_transform_2d(g)
        """)
        let f = try tensor("F", in: interpreter)
        XCTAssertEqual(f.shape, [p, p, 2])
        var expected = [Double](repeating: 0, count: p * p * 2)
        let peak = Double(p) / 2                                   // √(p/2) · √(p/2)
        expected[((2 * 2 - 1) * p + 2 * 3) * 2] = peak
        expected[((2 * 2 - 1) * p + 2 * 3) * 2 + 1] = 2 * peak
        assertClose(f.toDoubles(), expected, atol: 1e-4, "2-D transform")
    }

    func testNeuronFrequencies() throws {
        let interpreter = try run("""
        p = 11
        a = reshape(arange(p), [p, 1, 1])
        b = reshape(arange(p), [1, p, 1])
        n0 = cos((a * 3 % p) * tau / p) * cos((b * 3 % p) * tau / p)
        n1 = cos(((a + b) * 2 % p) * tau / p) + 0.5
        n2 = sin((a * 4 % p) * tau / p) + b * 0
        n3 = cos((a * 1 % p) * tau / p) + cos((b * 5 % p) * tau / p) * 0.5
        r = neuron_frequencies(cat([n0, n1, n2, n3], axis: 2))
        freqs = r.frequency
        fractions = r.fraction
        """)
        XCTAssertEqual(try numbers("freqs", in: interpreter), [3, 2, 4, 1])
        assertClose(try numbers("fractions", in: interpreter), [1, 1, 1, 0.8], atol: 1e-4, "fractions")
    }

    func testTopIndicesAndLargest() throws {
        let interpreter = try run("""
        t = top_indices([3, 9, 1, 7], 2)
        all = top_indices(tensor([3, 9, 1, 7]), 10)
        ties = top_indices([5, 5, 1], 2)
        l = largest([3, 9, 1])
        """)
        XCTAssertEqual(try numbers("t", in: interpreter), [1, 3])
        XCTAssertEqual(try numbers("all", in: interpreter), [1, 3, 0, 2])
        XCTAssertEqual(try numbers("ties", in: interpreter), [0, 1])
        guard case .record(let l)? = interpreter.globals.lookup("l") else { return XCTFail("largest gives a record") }
        XCTAssertEqual(l["value"].map { Formatter.display($0) }, "9")
        XCTAssertEqual(l["index"].map { Formatter.display($0) }, "1")
    }

    // MARK: - Grids and logits

    func testGridAndTheAdditionTable() throws {
        let p = 5
        let interpreter = try run("""
        g = grid(reshape(arange(\(p * p) * 2), [\(p * p), 2]))
        table = a_plus_b_grid(\(p))
        times = op_grid(\(p), fn(a, b) { a * b })
        data = modular(op: "+", p: \(p), train: 0.5, seed: 1)
        agree = item(amax(abs(grid(data.labels, \(p)) - table)))
        """)
        XCTAssertEqual(try tensor("g", in: interpreter).shape, [p, p, 2])
        let g = try tensor("g", in: interpreter)
        XCTAssertEqual(try g.select(axis: 0, index: 2).select(axis: 0, index: 3).toDoubles(), [26, 27])   // row 2·5 + 3 = 13
        let table = try tensor("table", in: interpreter).toDoubles()
        XCTAssertEqual(table, (0..<(p * p)).map { Double(($0 / p + $0 % p) % p) })
        XCTAssertEqual(try tensor("times", in: interpreter).toDoubles(), (0..<(p * p)).map { Double(($0 / p) * ($0 % p) % p) })
        XCTAssertEqual(try number("agree", in: interpreter), 0, "the dataset's labels are the a + b table in grid order")
    }

    func testGridRefusesANonSquareFirstDimension() {
        let interpreter = NeuroLab.makeInterpreter()
        interpreter.loadStandardLibrary()
        XCTAssertThrowsError(try interpreter.run(NeuroLab.parse("grid(arange(10))").program)) { error in
            XCTAssert("\(error)".contains("not p²"), "\(error)")
        }
    }

    func testLogitDiffCrossEntropyAndAccuracy() throws {
        let interpreter = try run("""
        L = tensor([[1, 2, 3], [3, 0, 0]])
        y = tensor([2, 0])
        d = logit_diff(L, y)
        each = logit_diff(L, y, per_input: true)
        right = correct_logits(L, y)
        ce = cross_entropy(L, y)
        acc = accuracy_of(L, tensor([2, 1]))
        """)
        // Row 0: 3 − (1 + 2)/2 = 1.5; row 1: 3 − 0 = 3.
        XCTAssertEqual(try number("d", in: interpreter), 2.25, accuracy: 1e-6)
        XCTAssertEqual(try numbers("each", in: interpreter), [1.5, 3])
        XCTAssertEqual(try numbers("right", in: interpreter), [3, 3])
        let ce0 = Foundation.log(Foundation.exp(1.0) + Foundation.exp(2.0) + Foundation.exp(3.0)) - 3
        let ce1 = Foundation.log(Foundation.exp(3.0) + 2) - 3
        XCTAssertEqual(try number("ce", in: interpreter), (ce0 + ce1) / 2, accuracy: 1e-5)
        XCTAssertEqual(try number("acc", in: interpreter), 0.5)
    }

    // MARK: - Text

    func testNumbersAsText() throws {
        let interpreter = try run("""
        a = fmt(3.14159, digits: 2)
        b = percent(0.99123)
        c = pad("ab", 4) + "|"
        d = pad(7, 3, right: true)
        e = fmt(tensor([2.5]))
        f = cell(2.123456) + " " + cell("x")
        g = percent(1)
        h = fixed(2, digits: 2)
        i = fixed(0.5, digits: 3)
        j = fixed(-1.25, digits: 0)
        """)
        let texts = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"].map { interpreter.globals.lookup($0).map(Formatter.printed) ?? "?" }
        XCTAssertEqual(texts, ["3.14", "99.1%", "ab  |", "  7", "2.5", "2.1235 x", "100.0%", "2.00", "0.500", "-1"])
    }

    func testPrintTableAndBars() throws {
        _ = try run("""
        print_table(["freq", "norm"], [[14, 3.21234567], [5, "x"]])
        print_bars(["a", "bb"], [2, 1], width: 4)
        """)
        XCTAssertEqual(lastOutput, [
            "  freq  norm",
            "  ────  ──────",
            "  14    3.2123",
            "  5     x",
            "  a   ████  2",
            "  bb  ██    1",
        ])
    }
}
