import XCTest
@testable import NeuroLanguage

/// `x = v`, `xs[i] = v`, `r.k = v`, `xs += [v]`: a value nothing else holds
/// is changed in place (no copy per assignment), a value held elsewhere is
/// copied first, and a failed assignment changes nothing.
final class AssignmentTests: XCTestCase {
    /// Each of these was quadratic (every assignment copied the whole list or
    /// record): 100,000 appends took 33 s, so 200,000 take over two minutes.
    /// Linear code takes a second or two in a debug build, up to 15 s on a
    /// machine busy with other builds; the bound of 60 s tells the two apart
    /// on either.
    func testAssigningIntoAListOrRecordInALoopIsLinear() throws {
        let cases: [(source: String, check: String, expected: String)] = [
            ("xs = []\nfor i in 0..200000 { xs += [i] }", "[len(xs), xs[199999]]", "[200000, 199999]"),
            ("r = {}\nfor i in 0..200000 { r[\"k\" + str(i)] = i }", "[len(r), r.k199999]", "[200000, 199999]"),
            ("r = {n: 0}\nfor i in 0..200000 { r.n = i }", "r", "{n: 199999}"),
            ("xs = []\nfor i in 0..200000 { xs += [0] }\nfor i in 0..200000 { xs[i] = i }", "xs[199999]", "199999"),
            ("m = {a: {b: []}}\nfor i in 0..200000 { m.a.b += [i] }", "len(m.a.b)", "200000"),
            ("s = \"\"\nfor i in 0..200000 { s += \"x\" }", "len(s)", "200000"),
            ("fn fill(n) {\n  out = []\n  for i in 0..n { out += [i] }\n  out\n}\nys = fill(200000)", "len(ys)", "200000"),
        ]
        for c in cases {
            let started = Date()
            let (interpreter, error) = runSnippet(c.source)
            XCTAssertNil(error, c.source)
            XCTAssertLessThan(Date().timeIntervalSince(started), 60, c.source)
            XCTAssertEqual(try display(c.check, interpreter), c.expected, c.source)
        }
    }

    /// Changing a value in place never changes another variable, an element
    /// of another list, a caller's argument or a global seen from a function.
    func testOtherHoldersOfAValueAreLeftAlone() throws {
        let cases: [(source: String, check: String, expected: String)] = [
            ("xs = [1]\nys = xs\nxs += [2]", "[xs, ys]", "[[1, 2], [1]]"),
            ("xs = [1, 2]\nys = xs\nxs[0] = 9", "[xs, ys]", "[[9, 2], [1, 2]]"),
            ("r = {a: 1}\ns = r\nr.a = 2\nr.b = 3", "[r, s]", "[{a: 2, b: 3}, {a: 1}]"),
            ("m = {a: [1]}\nn = m\nm.a[0] = 5", "[m, n]", "[{a: [5]}, {a: [1]}]"),
            ("inner = [1]\nouter = [inner, inner]\nouter[0][0] = 9", "[inner, outer]", "[[1], [[9], [1]]]"),
            ("fn grow(v) {\n  v += [0]\n  v\n}\nxs = [1]\nys = grow(xs)", "[xs, ys]", "[[1], [1, 0]]"),
            ("xs = [1]\nfn f() {\n  mine = xs\n  mine += [2]\n  mine[0] = 7\n  mine\n}\nys = f()", "[xs, ys]", "[[1], [7, 2]]"),
            ("fn counter() {\n  seen = []\n  fn add(x) {\n    seen += [x]\n    seen\n  }\n  add\n}\nadd = counter()\nadd(1)\nzs = add(2)",
             "zs", "[1, 2]"),
            ("xs = [1, 2]\nfor x in xs { xs += [x] }", "xs", "[1, 2, 1, 2]"),
            ("t = 1\nt += 2\nt *= 5", "t", "15"),
        ]
        for c in cases {
            let (interpreter, error) = runSnippet(c.source)
            XCTAssertNil(error, c.source)
            XCTAssertEqual(try display(c.check, interpreter), c.expected, c.source)
        }
    }

    /// `x[…] = v` on a tensor takes any index `x[…]` reads (numbers, slices,
    /// lists of picks, negative indices), broadcasts the value to the region,
    /// and makes a new tensor: another variable holding the old one keeps it.
    func testAssigningIntoATensorReplacesTheIndexedRegion() throws {
        let cases: [(source: String, check: String, expected: String)] = [
            ("x = zeros([2, 3])\nx[0, 1:3] = 5", "x", "tensor F32 [2, 3] [[0, 5, 5], [0, 0, 0]]"),
            ("x = zeros([2, 3])\ny = x\nx[:, 0] = [7, 8]", "[x, y]", "[tensor F32 [2, 3] [[7, 0, 0], [8, 0, 0]], tensor F32 [2, 3] [[0, 0, 0], [0, 0, 0]]]"),
            ("x = ones([2, 3])\nx[-1] += tensor([1, 2, 3])\nx[0, [0, 2]] *= -1", "x", "tensor F32 [2, 3] [[-1, 1, -1], [2, 3, 4]]"),
            ("x = arange(6).reshape([2, 3])\nx[1][2] = 0", "x", "tensor F32 [2, 3] [[0, 1, 2], [3, 4, 0]]"),
            ("r = {w: zeros([3])}\nr.w[::2] = 1", "r.w", "tensor F32 [3] [1, 0, 1]"),
            ("x = argmax(tensor([[1, 3], [4, 2]]), axis: 1)\nx[0] = 9", "x", "tensor I64 [2] [9, 0]"),
        ]
        for c in cases {
            let (interpreter, error) = runSnippet(c.source)
            XCTAssertNil(error, c.source)
            XCTAssertEqual(try display(c.check, interpreter), c.expected, c.source)
        }
    }

    /// What each wrong assignment says, and that it leaves the value as it was.
    func testFailedAssignmentsSayWhyAndChangeNothing() throws {
        let cases: [(source: String, error: String, check: String, expected: String)] = [
            ("xs[0] = 1", "unknown name 'xs'", "1", "1"),
            ("count += 1", "unknown name 'count'", "1", "1"),
            ("fn f() { count += 1 }\nf()", "unknown name 'count'", "1", "1"),
            ("xs = [1]\nxs[3] = 2", "index 3 is out of range for length 1", "xs", "[1]"),
            ("m = {a: [1]}\nm.a[5] = 1", "index 5 is out of range for length 1", "m", "{a: [1]}"),
            ("r = {ab: 1}\nr.ac.x = 1", "record has no field 'ac'; did you mean 'ab'?", "r", "{ab: 1}"),
            ("r = {ab: 1}\nr.ac += 1", "record has no field 'ac'; did you mean 'ab'?", "r", "{ab: 1}"),
            ("r = {}\nr[1] = 2", "record keys are strings", "r", "{}"),
            ("x = 1\nx.a = 2", "only record fields can be assigned", "x", "1"),
            ("t = zeros([2])\nxs = [t]\nxs[0][1:] = [1, 2]", "cannot assign a value of shape [2] to a region of shape [1]", "xs[0]", "tensor F32 [2] [0, 0]"),
            ("t = zeros([2, 2])\nt[0, 5] = 1", "index 5 is out of range for dimension 1 (size 2) of shape [2, 2]", "t", "tensor F32 [2, 2] [[0, 0], [0, 0]]"),
            ("xs = [1]\nxs[0, 1] = 2", "a list takes one index in an assignment, like x[i] = v; several indices and slices assign into a tensor", "xs", "[1]"),
            ("xs = [1]\nxs += 5", "cannot apply '+' to a list and a number; to add an item to a list, write xs + [x] (or xs += [x])", "xs", "[1]"),
            ("n = 0\nfn f() { n += 1 }\nf()", "'n' is a global, which a function cannot change ('+=' here would change nothing outside); return the new value and assign it at the top level (n = f(n)), or work on a local copy (mine = n)", "n", "0"),
            ("xs = [1]\nfn f() { xs[0] = 7 }\nf()", "'xs' is a global, which a function cannot change (assigning into it here would change nothing outside); return the new value and assign it at the top level (xs = f(xs)), or work on a local copy (mine = xs)", "xs", "[1]"),
            ("r = {a: [1]}\nr.a[0] += \"s\"", "cannot apply '+' to a number and a string; make it text first: str(x) + …, or format(\"{} …\", x)", "r", "{a: [1]}"),
        ]
        for c in cases {
            let (interpreter, error) = runSnippet(c.source)
            XCTAssertEqual(error, c.error, c.source)
            XCTAssertEqual(try display(c.check, interpreter), c.expected, c.source)
        }
    }

    private func display(_ expression: String, _ interpreter: Interpreter) throws -> String {
        let value = try interpreter.run(Interpreter.parse(expression).program)
        return Formatter.display(try XCTUnwrap(value))
    }
}
