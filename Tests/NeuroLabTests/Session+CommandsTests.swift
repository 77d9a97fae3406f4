import Foundation
import XCTest
@testable import NeuroLanguage
@testable import NeuroLab

/// Each result knows the command that made it: the source lines of the
/// built-in call under way when it joined the session, in text the front
/// end handed over.
final class SessionCommandsTests: XCTestCase {
    func commands(_ code: String, remember: Bool = true) throws -> [String?] {
        let interpreter = NeuroLab.makeInterpreter()
        interpreter.output = { _ in }
        if remember { interpreter.session.remember(SourceText(name: "t", text: code, input: 1)) }
        var parser = Parser(source: code, input: 1, grammar: NeuroLab.grammar)
        let program = parser.parseProgram()
        XCTAssertEqual(parser.diagnostics.count, 0)
        try interpreter.run(program)
        return interpreter.session.results.map { interpreter.session.command(of: $0) }
    }

    func testTopLevelCallsQuoteTheirLine() throws {
        XCTAssertEqual(try commands("a = line([1, 2])\n  bar([3])   \nx = 1"), ["a = line([1, 2])", "bar([3])"])
    }

    func testACallInsideAFunctionQuotesItsOwnLine() throws {
        let code = """
            fn draw(ys) {
                return line(ys, title: "inside")
            }
            draw([1, 2])
            for i in 0..2 { bar([i, 1]) }
            """
        XCTAssertEqual(try commands(code), ["return line(ys, title: \"inside\")", "for i in 0..2 { bar([i, 1]) }", "for i in 0..2 { bar([i, 1]) }"])
    }

    func testACallOverSeveralLinesQuotesThemAll() throws {
        let code = "f = line([1, 2],\n         title: \"two lines\")"
        XCTAssertEqual(try commands(code), ["f = line([1, 2],\n         title: \"two lines\")"])
    }

    func testTextNotHandedOverQuotesNothing() throws {
        XCTAssertEqual(try commands("line([1, 2])", remember: false), [nil])
    }
}
