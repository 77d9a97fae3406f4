import XCTest
@testable import NeuroLanguage

/// The language knows no domain: an interpreter takes its domain words —
/// built-ins, statement sugar, site values, completions — from a vocabulary.
final class VocabularyTests: XCTestCase {
    /// A site value of a toy domain: its name and layer as a record.
    static let toy = Vocabulary(
        builtins: [
            Builtin("poke", "poke(site, with: v, times: 1)", "a toy statement's built-in", parameters: ["site", "with", "times", "depth"]) { args in
                .list([try args.required(0, "site"), try args.required(nil, "with"), args.value(nil, "times") ?? .none])
            },
            Builtin("len", "len(x)", "a replacement of the language's own", parameters: ["x"]) { _ in .number(-1) },
        ],
        statements: [StatementSugar("poke", qualifiers: ["depth"], bareWords: ["gently"])],
        site: { name, layer in .record(Record([("site", .string(name)), ("layer", layer.map { .number(Double($0)) } ?? .none)])) },
        siteProblem: { name, _ in name == "nowhere" ? "no site 'nowhere'" : nil },
        hookNames: { _ in ["a.hook_b", "b 0"] },
        siteNames: { _ in ["b"] })

    func run(_ source: String, _ interpreter: Interpreter) throws -> Value? {
        let parsed = interpreter.parse(source)
        XCTAssertEqual(parsed.diagnostics.map(\.message), [])
        return try interpreter.run(parsed.program)
    }

    func testStatementSugarIsACallOfTheVocabularysBuiltin() throws {
        let interpreter = Interpreter(vocabulary: Self.toy)
        _ = try run("poke thing 2 depth 3 with gently times 4", interpreter)
        let result = try run("x = poke(\"s\", with: 1)\nx", interpreter)
        XCTAssertEqual(result.map(Formatter.printed), "[\"s\", 1, none]")
        // The statement's site is the vocabulary's value; a bare word after `with` is its name.
        var seen: [String] = []
        interpreter.output = { seen.append($0) }
        _ = try run("print(poke(1, with: 2))", interpreter)
        XCTAssertEqual(seen, ["[1, 2, none]"])
        let parsed = interpreter.parse("poke thing 2 with gently")
        guard case .command(let call) = parsed.program.first?.kind, case .call(_, let arguments) = call.kind else {
            return XCTFail("the statement is a command")
        }
        XCTAssertEqual(arguments.map(\.label), [nil, "with"])
        XCTAssertEqual(arguments.map { render($0.value) }, ["thing 2", "\"gently\""])
        let site = try interpreter.evaluate(arguments[0].value, in: interpreter.globals)
        XCTAssertEqual(Formatter.printed(site), "{site: \"thing\", layer: 2}")
    }

    func testTheLanguageAloneKnowsNoDomainWords() {
        let plain = Interpreter()
        XCTAssertNil(plain.builtins["poke"])
        XCTAssertNil(plain.builtins["modular"], "the language has no datasets of its own")
        XCTAssertNotNil(plain.builtins["save"], "it saves tensors and plain values itself")
        // Without the sugar, `poke thing with 1` is an ordinary command: `thing` is a variable, not a site.
        for (grammar, isSite) in [(Grammar.plain, false), (Self.toy.grammar, true)] {
            guard case .command(let call)? = Interpreter.parse("poke thing with 1", grammar: grammar).program.first?.kind,
                  case .call(_, let arguments) = call.kind, let first = arguments.first else { return XCTFail("a command") }
            if case .site = first.value.kind { XCTAssertTrue(isSite) } else { XCTAssertFalse(isSite) }
        }
        XCTAssertEqual(plain.hookNames, [])
        XCTAssertEqual(plain.siteNames, [])
    }

    func testAVocabularyReplacesABuiltinOfTheSameNameAndKeepsTheOrder() throws {
        let interpreter = Interpreter(vocabulary: Self.toy)
        XCTAssertEqual(try run("len([1, 2])", interpreter).map(Formatter.printed), "-1")
        let names = Builtins.all(with: Self.toy).map(\.name)
        XCTAssertEqual(names.filter { $0 == "len" }.count, 1)
        XCTAssertEqual(Array(names.suffix(2)), ["poke", "len"], "the vocabulary's come after the language's")
    }

    func testSitesAreCheckedAndCompletedByTheVocabulary() {
        let interpreter = Interpreter(vocabulary: Self.toy)
        let parsed = interpreter.parse("poke nowhere with 1")
        let problems = NameCheck.unresolved(parsed.program, interpreter: interpreter).map(\.message)
        XCTAssertEqual(problems, ["poke: no site 'nowhere'"])
        XCTAssertEqual(interpreter.completions(for: "", after: "poke "), ["b"])
        XCTAssertEqual(interpreter.hookNames, ["a.hook_b", "b 0"])
    }

    func testAVocabularyKeepsItsStateOnTheInterpreter() {
        final class Counter { var count = 0 }
        let interpreter = Interpreter()
        interpreter.attachment { Counter() }.count += 2
        XCTAssertEqual(interpreter.attachment { Counter() }.count, 2, "made once, then found")
        XCTAssertEqual(Interpreter().attachment { Counter() }.count, 0, "each interpreter has its own")
    }
}
