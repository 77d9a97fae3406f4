import XCTest
import NeuroLanguage
import NeuroLab

/// The grammar's shape (precedence, statement forms), its error messages,
/// recovery, and its limits.
final class ParserTests: XCTestCase {
    // MARK: - Precedence

    func testPrecedenceAndAssociativity() {
        let cases: [(String, String)] = [
            ("1 + 2 * 3", "(+ 1 (* 2 3))"),
            ("1 * 2 + 3", "(+ (* 1 2) 3)"),
            ("1 - 2 - 3", "(- (- 1 2) 3)"),
            ("8 / 4 / 2", "(/ (/ 8 4) 2)"),
            ("a * b % c @ d", "(@ (% (* a b) c) d)"),
            ("2 ^ 3 ^ 2", "(^ 2 (^ 3 2))"),
            ("-2 ^ 2", "(- (^ 2 2))"),
            ("2 ^ -1", "(^ 2 (- 1))"),
            ("-x ^ 2 * 3", "(* (- (^ x 2)) 3)"),
            ("-a.b", "(- (. a b))"),
            ("a + b .. c * d", "(.. (+ a b) (* c d))"),
            ("a .. b == c", "(== (.. a b) c)"),
            ("a < b == c", "(== (< a b) c)"),
            ("not a == b", "(not (== a b))"),
            ("not a and b", "(and (not a) b)"),
            ("not not a", "(not (not a))"),
            ("a or b and c", "(or a (and b c))"),
            ("a and b or c", "(or (and a b) c)"),
            ("(1 + 2) * 3", "(* (+ 1 2) 3)"),
            ("f(x)[0].y", "(. (index (call f x) 0) y)"),
            ("f(1, b: 2)(3)", "(call (call f 1 b:2) 3)"),
            ("t[0, :, 1:2:3, ::-1]", "(index t 0 : 1:2:3 ::(- 1))"),
            ("[1, 2 + 3]", "[1 (+ 2 3)]"),
            ("{a: 1, \"b c\": -2}", "{a:1 b c:(- 2)}"),
            ("fn(x, y: 2) { x }", "(fn x y)"),
        ]
        for (source, expected) in cases {
            let parsed = NeuroLab.parse(source)
            XCTAssertEqual(parsed.diagnostics, [], source)
            XCTAssertEqual(parsed.program.map(tree), [expected], source)
        }
    }

    func testStatementForms() {
        let cases: [(String, String)] = [
            ("x = 1", "(= x 1)"),
            ("x += 1", "(+= x 1)"),
            ("a[0].b /= 2", "(/= (. (index a 0) b) 2)"),
            ("train model on data epochs 2000 lr 1e-3", "(command (call train model on:data epochs:2000 lr:0.001))"),
            ("fourier model", "(command (call fourier model))"),
            ("train(model, data)", "(call train model data)"),
            ("patch embed with corrupt(a + 1)", "(command (call patch (site embed) with:(call corrupt (+ a 1))))"),
            ("ablate mlp_post 0 head 1 with mean", "(command (call ablate (site mlp_post 0) head:1 with:\"mean\"))"),
            ("ablate resid_pre -1 pos p * 2 with zero metric \"loss\"",
             "(command (call ablate (site resid_pre (- 1)) pos:(* p 2) with:\"zero\" metric:\"loss\"))"),
            ("hook blocks.0.mlp.hook_post with fn(x) { x }", "(command (call hook (site blocks.0.mlp.hook_post) with:(fn x)))"),
            ("patch(\"embed\", with: c)", "(call patch \"embed\" with:c)"),
            ("for i in 0..3 { }", "(for i (.. 0 3))"),
            ("for k, v in items(r) { }", "(for k,v (call items r))"),
            ("while x { break }", "(while x break)"),
            ("if a { } else if b { } else { }", "(if a (if b))"),
            ("if a { }\nelse { x }", "(if a x)"),
            ("fn f(a, b: 2) { return a }", "(fn f a b (return a))"),
            ("return", "(return)"),
            ("import \"lib.nmap\"", "(import lib.nmap)"),
        ]
        for (source, expected) in cases {
            let parsed = NeuroLab.parse(source)
            XCTAssertEqual(parsed.diagnostics.map(\.description), [], source)
            XCTAssertEqual(parsed.program.map(tree), [expected], source)
        }
    }

    // MARK: - Errors

    /// Messages say what was expected after what, and what was found.
    func testErrorMessages() {
        let cases: [(String, String)] = [
            ("fn f(x { }", "1:8 expected ')' after parameters, found '{'"),
            ("fn f(x) x", "1:9 expected '{' after the parameters of 'f', found 'x'"),
            ("fn (x) x", "1:8 expected '{' after the parameters of a function, found 'x'"),
            ("fn f(a, a) { }", "1:9 parameter 'a' appears twice"),
            ("for x 0..3 { }", "1:7 expected 'in' after 'for x', found '0'"),
            ("for 1 in x { }", "1:5 expected a loop variable after 'for', found '1'"),
            ("while x > 1 print(x)", "1:13 expected '{' after while condition, found 'print'"),
            ("while { }", "1:7 expected a condition after 'while', found '{'"),
            ("if x print(x)", "1:6 expected '{' after if condition, found 'print'"),
            ("if x { } else print(x)", "1:15 expected '{' after else, found 'print'"),
            ("x = 1 2", "1:7 expected end of line after the assignment, found '2'"),
            ("f(x) y", "1:6 expected end of line after the expression, found 'y'"),
            ("x = 1 annd y", "1:7 expected end of line after the assignment, found 'annd'; did you mean 'and'?"),
            ("whille x { }", "1:10 expected end of line after 'whille …', found '{'; did you mean 'while'?"),
            ("x =", "1:4 expected an expression, found end of input"),
            ("x = # nothing here\ny = 2", "1:4 expected an expression, found end of line"),
            ("f(1 2)", "1:5 expected ',' or ')' after argument, found '2'"),
            ("[1 2]", "1:4 expected ',' or ']' after list item, found '2'"),
            ("t[1 2]", "1:5 expected ',' or ']' after index, found '2'"),
            ("{a 1}", "1:4 expected ':' after record field 'a', found '1'"),
            ("{1: 2}", "1:2 expected a field name in the record, found '1'"),
            ("x[]", "1:3 expected an index inside '[]'"),
            ("x.1", "1:3 expected a field name after '.', found '1'"),
            ("x.if", "1:3 expected a field name after '.', found the keyword 'if'"),
            ("(1 + 2", "1:7 expected ')' to close '(' at 1:1, found end of input"),
            ("print(1,\n  2", "2:4 expected ')' to close '(' at 1:6, found end of input"),
            ("xs = [1,\nfor x in xs { }", "2:1 expected ']' to close '[' at 1:6, found 'for'"),
            ("ys = [x * 2 for x in xs]", "1:13 list comprehensions are not part of NeuroMap; write map(xs, fn(x) { … }) (and filter(xs, fn(x) { … }) for an 'if')"),
            ("print(mean(x, axis=0))", "1:19 arguments are named with ':', not '='; write axis: …"),
            ("print(sum(x, dim=0))", "1:17 arguments are named with ':', not '='; write axis: …"),
            ("def f(x):\n  return x", "1:1 functions are defined with fn, not def: fn name(x) { … }"),
            ("print(f\"{x}\")", "1:7 f-strings are not part of NeuroMap; write format(\"… {} …\", x) (or \"…\" + str(x))"),
            ("1 = 2", "1:1 cannot assign to this expression; assign to a name, an index or a field"),
            ("import x", "1:8 expected a file name in quotes after 'import'"),
            ("patch embed corrupt(a)", "1:23 expected 'with' after the hook name in 'patch', found end of input"),
            ("patch blocks.x.(1) with 1", "1:16 expected the rest of the hook name after 'blocks.x.'"),
            ("train model on", "1:15 expected a value after 'on', found end of input"),
            ("break", "1:1 'break' outside a loop"),
            ("while x { fn f() { continue } }", "1:20 'continue' outside a loop"),
            ("fn if() { }", "1:4 expected a function name after 'fn', found the keyword 'if'"),
        ]
        for (source, expected) in cases {
            XCTAssertEqual(NeuroLab.parse(source).diagnostics.map { "\($0.range.start) \($0.message)" }, [expected], source)
        }
    }

    /// One error per bad statement; the statements around them still parse.
    func testRecoveryReportsEveryError() {
        let source = """
            a = 1 +* 2
            b = 2
            fn f(x {
                return x
            }
            fn g(x) {
                y = )
                z = [1, 2
            }
            c = {1: 2}
            d = 3 $ 4
            print(a
            e = 5
            """
        let parsed = NeuroLab.parse(source)
        XCTAssertEqual(parsed.diagnostics.map { "\($0.range.start) \($0.message)" }, [
            "1:8 expected an expression, found '*'",
            "3:8 expected ')' after parameters, found '{'",
            "7:9 expected an expression, found ')'",
            "9:1 expected ',' or ']' after list item, found '}'",
            "10:6 expected a field name in the record, found '1'",
            "11:7 unexpected character '$'",
            "13:1 expected ',' or ')' after argument, found 'e'",
        ])
        // What did parse: b = 2 and the function g (its body minus the bad lines).
        XCTAssertEqual(parsed.program.map(tree), ["(= b 2)", "(fn g x)"])
    }

    /// The REPL asks for another line when a block or bracket is still open
    /// at the end; other errors are reported at once.
    func testIncompleteInput() {
        let cases: [(String, Bool)] = [
            ("fn f() {", true), ("print(1,", true), ("xs = [1,\n2,", true), ("r = {a: 1,", true), ("if x {\n  y = 1", true),
            ("x = 1 +", false), ("x = 1 2", false), ("x = )", false), ("print(1)", false),
        ]
        for (source, incomplete) in cases {
            XCTAssertEqual(NeuroLab.parse(source).incomplete, incomplete, source)
        }
    }

    // MARK: - Limits

    /// Trees are kept shallow enough for everything that walks them
    /// recursively (the evaluator, `check`, printing, freeing).
    func testDepthLimits() {
        let limit = 200
        let cases: [(String, String?)] = [
            (String(repeating: "(", count: limit - 1) + "1" + String(repeating: ")", count: limit - 1), nil),
            (String(repeating: "(", count: limit) + "1" + String(repeating: ")", count: limit),
             "1:201 nesting deeper than 200 levels"),
            (String(repeating: "-", count: limit) + "1", "1:201 nesting deeper than 200 levels"),
            ("x = 1" + String(repeating: " + 1", count: limit - 1), nil),
            ("x = 1" + String(repeating: " + 1", count: limit),
             "1:803 nesting deeper than 200 levels; split the expression across variables"),
            // The condition of the 200th `if` is the first thing too deep.
            ("if a { }" + String(repeating: " else if a { }", count: limit),
             "1:2804 nesting deeper than 200 levels"),
            (String(repeating: "if a { ", count: limit + 1) + String(repeating: "}", count: limit + 1),
             "1:1404 nesting deeper than 200 levels"),
        ]
        for (source, expected) in cases {
            let messages = NeuroLab.parse(source).diagnostics.map { "\($0.range.start) \($0.message)" }
            XCTAssertEqual(messages, expected.map { [$0] } ?? [], String(source.prefix(40)))
        }
    }

    /// Every rule that can contain itself, nested `n` levels deep: as the
    /// statement `x = …` (or the statement itself), with the `(line, column)`
    /// where nesting reaches 201 levels. (`-(…)`, `fn() { … }` are two levels each.)
    static func deeplyNested(_ n: Int) -> [(rule: String, source: String, place: (Int, Int))] {
        func times(_ s: String, _ k: Int) -> String { String(repeating: s, count: k) }
        return [
            ("power", "x = " + Array(repeating: "1", count: n + 1).joined(separator: "^"), (1, 5 + 2 * 200)),
            ("call", "x = " + times("f(", n) + "1" + times(")", n), (1, 5 + 2 * 200)),
            ("index", "x = " + times("a[", n) + "0" + times("]", n), (1, 5 + 2 * 200)),
            ("negation", "x = " + times("-(", n / 2) + "1" + times(")", n / 2), (1, 5 + 2 * 100)),
            ("minus", "x = " + times("-", n) + "1", (1, 5 + 200)),
            ("not", "x = " + times("not ", n) + "1", (1, 5 + 4 * 200)),
            ("parentheses", "x = " + times("(", n) + "1" + times(")", n), (1, 5 + 200)),
            ("list", "x = " + times("[", n) + times("]", n), (1, 5 + 200)),
            ("record", "x = " + times("{a: ", n) + "1" + times("}", n), (1, 5 + 4 * 200)),
            ("function literal", "x = " + times("fn() { ", n / 2) + "1" + times(" }", n / 2), (1, 5 + 7 * 100)),
            ("default value", "x = " + times("fn(a: ", n) + "1" + times(") {}", n), (1, 5 + 6 * 200)),
            ("function", times("fn f() { ", n) + times("}", n), (1, 9 * 200 + 8)),
            ("if", times("if a { ", n) + times("}", n), (1, 1 + 7 * 200 + 3)),
            ("else if", "if a { }" + times(" else if a { }", n), (1, 8 + 14 * 199 + 10)),
            ("while", times("while false { ", n) + times("}", n), (1, 1 + 14 * 200 + 6)),
            ("for", times("for i in a { ", n) + times("}", n), (1, 1 + 13 * 200 + 9)),
            ("site layer", "patch mlp_post " + times("-(", n / 2) + "1" + times(")", n / 2) + " with 0", (1, 16 + 2 * 100)),
            ("sum", "x = " + Array(repeating: "1", count: n + 1).joined(separator: " + "), (1, 5 + 4 * 199 + 2)),
            ("comparison", "x = " + Array(repeating: "1", count: n + 1).joined(separator: " == "), (1, 5 + 5 * 199 + 2)),
            ("and", "x = " + Array(repeating: "1", count: n + 1).joined(separator: " and "), (1, 5 + 6 * 199 + 2)),
            ("field", "x = a" + times(".b", n), (1, 6 + 2 * 199)),
            ("calls of calls", "x = f" + times("()", n), (1, 6 + 2 * 199)),
            ("indexes of indexes", "x = a" + times("[0]", n), (1, 6 + 3 * 199)),
        ]
    }

    /// Each recursive rule, 10,000 and 100,000 levels deep, is one error at
    /// the place nesting passes the limit, and nothing crashes: not the
    /// parser, not `check`, not running what did parse, not freeing the tree.
    func testEveryRecursiveRuleRefusesDeepNesting() throws {
        for n in [10_000, 100_000] {
            for (rule, source, place) in Self.deeplyNested(n) {
                // What did parse (the outer blocks of deep ones) runs too.
                let parsed = NeuroLab.parse("a = []\n" + source + "\ny = 2\n")
                let chain = ["sum", "comparison", "and", "field", "calls of calls", "indexes of indexes"].contains(rule)
                let message = "nesting deeper than 200 levels" + (chain ? "; split the expression across variables" : "")
                XCTAssertEqual(parsed.diagnostics.map { "\($0.range.start) \($0.message)" },
                               ["\(place.0 + 1):\(place.1) \(message)"], "\(rule) \(n)")
                XCTAssertEqual(parsed.program.map(tree).last, "(= y 2)", "\(rule) \(n)")
                XCTAssertEqual(NameCheck.unresolved(parsed.program, interpreter: NeuroLab.makeInterpreter()), [], "\(rule) \(n)")
                let interpreter = NeuroLab.makeInterpreter()
                try interpreter.run(parsed.program)
                XCTAssertEqual(Formatter.display(try XCTUnwrap(interpreter.globals.lookup("y"))), "2")
            }
        }
    }

    /// Nesting just within the limit parses, checks and runs, for every rule:
    /// what the parser lets through, the walkers can walk.
    func testTheDeepestAllowedProgramsCheckAndRun() throws {
        let prelude = "fn f(v: 0) { v }\na = [0]\n"
        for (rule, source, _) in Self.deeplyNested(195) {
            let parsed = NeuroLab.parse(prelude + source + "\n")
            XCTAssertEqual(parsed.diagnostics.map(\.message), [], rule)
            let interpreter = NeuroLab.makeInterpreter()
            interpreter.output = { _ in }
            XCTAssertEqual(NameCheck.unresolved(parsed.program, interpreter: interpreter).map(\.message), [], rule)
            // These need a model, or values nested as deeply, to run.
            if ["site layer", "field", "calls of calls", "indexes of indexes"].contains(rule) { continue }
            XCTAssertNoThrow(try interpreter.run(parsed.program), rule)
        }
    }

    /// A 100,000-term sum used to overflow the stack of `check` and the evaluator.
    func testVeryLongInputsGiveOneErrorQuickly() {
        let sum = "x = " + Array(repeating: "1", count: 100_000).joined(separator: " + ") + "\ny = 2"
        let parsed = NeuroLab.parse(sum)
        XCTAssertEqual(parsed.diagnostics.count, 1)
        XCTAssertEqual(parsed.program.map(tree), ["(= y 2)"])
        XCTAssertEqual(NameCheck.unresolved(parsed.program, interpreter: NeuroLab.makeInterpreter()), [])
    }

    // MARK: - Helpers

    /// A statement as an S-expression, for comparing shapes.
    private func tree(_ statement: Stmt) -> String {
        func block(_ statements: [Stmt]) -> String { statements.map { " " + tree($0) }.joined() }
        switch statement.kind {
        case .expression(let e): return tree(e)
        case .command(let e): return "(command \(tree(e)))"
        case .assign(let target, let value, let op): return "(\(op.map { $0.rawValue } ?? "")= \(tree(target)) \(tree(value)))"
        case .function(let decl): return "(fn \(decl.name ?? "")" + decl.parameters.map { " " + $0.name }.joined() + block(decl.body) + ")"
        case .ifElse(let condition, let then, let otherwise): return "(if \(tree(condition))\(block(then))\(block(otherwise ?? [])))"
        case .forIn(let names, let sequence, let body): return "(for \(names.joined(separator: ",")) \(tree(sequence))\(block(body)))"
        case .whileLoop(let condition, let body): return "(while \(tree(condition))\(block(body)))"
        case .returnValue(let value): return "(return" + (value.map { " " + tree($0) } ?? "") + ")"
        case .breakLoop: return "break"
        case .continueLoop: return "continue"
        case .importFile(let path): return "(import \(path))"
        }
    }

    private func tree(_ expr: Expr) -> String {
        switch expr.kind {
        case .number(let n): return Formatter.number(n)
        case .string(let s): return "\"\(s)\""
        case .bool(let b): return "\(b)"
        case .none: return "none"
        case .variable(let name): return name
        case .list(let items): return "[" + items.map(tree).joined(separator: " ") + "]"
        case .record(let entries): return "{" + entries.map { "\($0.key):\(tree($0.value))" }.joined(separator: " ") + "}"
        case .unary(let op, let e): return "(\(op.rawValue) \(tree(e)))"
        case .binary(let op, let a, let b): return "(\(op.rawValue) \(tree(a)) \(tree(b)))"
        case .logical(let isAnd, let a, let b): return "(\(isAnd ? "and" : "or") \(tree(a)) \(tree(b)))"
        case .range(let a, let b): return "(.. \(tree(a)) \(tree(b)))"
        case .call(let callee, let arguments):
            return "(call \(tree(callee))" + arguments.map { " " + ($0.label.map { "\($0):" } ?? "") + tree($0.value) }.joined() + ")"
        case .index(let base, let items):
            return "(index \(tree(base))" + items.map { item -> String in
                switch item {
                case .single(let e): return " " + tree(e)
                case .slice(let a, let b, let c):
                    return " " + (a.map(tree) ?? "") + ":" + (b.map(tree) ?? "") + (c.map { ":" + tree($0) } ?? "")
                }
            }.joined() + ")"
        case .field(let base, let name): return "(. \(tree(base)) \(name))"
        case .function(let decl): return "(fn" + decl.parameters.map { " " + $0.name }.joined() + ")"
        case .site(let name, let layer): return "(site \(name)" + (layer.map { " " + tree($0) } ?? "") + ")"
        }
    }
}
