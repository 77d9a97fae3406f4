import XCTest
import NeuroLanguage

/// Tokens, their places, and the lexer's own errors.
final class LexerTests: XCTestCase {
    private func lex(_ source: String) -> (kinds: [TokenKind], tokens: [Token], diagnostics: [Diagnostic]) {
        var lexer = Lexer(source)
        let tokens = lexer.tokenize()
        XCTAssertEqual(tokens.last?.kind, .end, "the last token of \(source.debugDescription) is the end")
        return (tokens.dropLast().map(\.kind), Array(tokens.dropLast()), lexer.diagnostics)
    }

    func testTokenKinds() {
        let cases: [(String, [TokenKind])] = [
            ("42", [.number(42)]),
            ("1.5 1e3 2.5e-3 1E+2 1_000", [.number(1.5), .number(1000), .number(0.0025), .number(100), .number(1000)]),
            // `.5` is a number where a value can start; after one, the dot reads a field.
            ("x = .5", [.identifier("x"), .symbol(.equal), .number(0.5)]),
            ("1.5 .5", [.number(1.5), .symbol(.dot), .number(5)]),
            ("1..5", [.number(1), .symbol(.dotDot), .number(5)]),
            ("blocks.0.mlp", [.identifier("blocks"), .symbol(.dot), .number(0), .symbol(.dot), .identifier("mlp")]),
            ("x.5", [.identifier("x"), .symbol(.dot), .number(5)]),
            ("1.", [.number(1), .symbol(.dot)]),
            ("\"a\\n\\t\\\\\\\"\" 'it\\'s'", [.string("a\n\t\\\""), .string("it's")]),
            ("fn if else for in while return import true false none and or not break continue",
             Keyword.allCases.map { .keyword($0) }),
            ("iffy _x x1 fn_", [.identifier("iffy"), .identifier("_x"), .identifier("x1"), .identifier("fn_")]),
            ("== != <= >= += -= *= /= ..", [.symbol(.equalEqual), .symbol(.bangEqual), .symbol(.lessEqual), .symbol(.greaterEqual),
                                            .symbol(.plusEqual), .symbol(.minusEqual), .symbol(.starEqual), .symbol(.slashEqual),
                                            .symbol(.dotDot)]),
            ("a=-b", [.identifier("a"), .symbol(.equal), .symbol(.minus), .identifier("b")]),
            ("@^%", [.symbol(.at), .symbol(.caret), .symbol(.percent)]),
            ("x # a comment\ny", [.identifier("x"), .newline, .identifier("y")]),
            ("x \\\n + y", [.identifier("x"), .symbol(.plus), .identifier("y")]),
            // CRLF line ends: "\r\n" is one line end, also after a continuing backslash.
            ("x \\\r\n + y\r\nz # note\r\n", [.identifier("x"), .symbol(.plus), .identifier("y"), .newline, .identifier("z"), .newline]),
            ("a;b", [.identifier("a"), .symbol(.semicolon), .identifier("b")]),
        ]
        for (source, expected) in cases {
            let lexed = lex(source)
            XCTAssertEqual(lexed.kinds, expected, source)
            XCTAssertEqual(lexed.diagnostics, [], source)
        }
    }

    /// Newlines end statements, except inside `(` and `[` — and even there,
    /// inside a `{` block or before a line that starts a statement.
    func testNewlines() {
        let cases: [(String, [TokenKind])] = [
            ("f(1,\n2)", [.identifier("f"), .symbol(.leftParen), .number(1), .symbol(.comma), .number(2), .symbol(.rightParen)]),
            ("[1,\n2]", [.symbol(.leftBracket), .number(1), .symbol(.comma), .number(2), .symbol(.rightBracket)]),
            ("{\na\n}", [.symbol(.leftBrace), .newline, .identifier("a"), .newline, .symbol(.rightBrace)]),
            ("f(fn() {\na\nb\n})", [.identifier("f"), .symbol(.leftParen), .keyword(.fn), .symbol(.leftParen), .symbol(.rightParen),
                                   .symbol(.leftBrace), .newline, .identifier("a"), .newline, .identifier("b"), .newline,
                                   .symbol(.rightBrace), .symbol(.rightParen)]),
            ("f(1,\nif", [.identifier("f"), .symbol(.leftParen), .number(1), .symbol(.comma), .newline, .keyword(.if)]),
            ("f(\nfn g", [.identifier("f"), .symbol(.leftParen), .newline, .keyword(.fn), .identifier("g")]),
            ("f(\nfn(", [.identifier("f"), .symbol(.leftParen), .keyword(.fn), .symbol(.leftParen)]),
            ("(\n)\nx", [.symbol(.leftParen), .symbol(.rightParen), .newline, .identifier("x")]),
            ("{ ( }\nx", [.symbol(.leftBrace), .symbol(.leftParen), .symbol(.rightBrace), .newline, .identifier("x")]),
        ]
        for (source, expected) in cases {
            XCTAssertEqual(lex(source).kinds, expected, source.debugDescription)
        }
    }

    func testPlaces() {
        let tokens = lex("x = 1\n  s = \"é\" + y").tokens
        let places = tokens.map { "\($0.start) \($0.range.end.column) \($0.text)" }
        XCTAssertEqual(places, ["1:1 2 x", "1:3 4 =", "1:5 6 1", "1:6 1 \n", "2:3 4 s", "2:5 6 =", "2:7 10 \"é\"", "2:11 12 +", "2:13 14 y"])
        // Columns count characters; offsets count UTF-8 bytes.
        XCTAssertEqual(tokens[7].start.offset, 17)
    }

    func testErrors() {
        let cases: [(String, [String])] = [
            ("x = \"open", ["1:5 unterminated string; add a closing \""]),
            ("x = 'open\ny = 1", ["1:5 unterminated string; add a closing '"]),
            ("\"a\\q\"", ["1:1 unknown escape '\\q' in string"]),
            ("x = 1 $ 2", ["1:7 unexpected character '$'"]),
            ("a € b ` c", ["1:3 unexpected character '€'", "1:7 unexpected character '`'"]),
        ]
        for (source, expected) in cases {
            XCTAssertEqual(lex(source).diagnostics.map { "\($0.range.start) \($0.message)" }, expected, source)
        }
    }

    /// Runs of skipped characters are a loop, not recursion.
    func testLongRunsOfSkippedInputDoNotExhaustTheStack() {
        let strays = lex(String(repeating: "$", count: 200_000))
        XCTAssertEqual(strays.kinds, [])
        XCTAssertEqual(strays.diagnostics.count, 200_000)
        XCTAssertEqual(lex("(" + String(repeating: "\n", count: 200_000) + ")").kinds, [.symbol(.leftParen), .symbol(.rightParen)])
    }

    /// A script's bytes: UTF-8 text (after a byte-order mark, if any), or
    /// what is wrong with them and where, counted as the lexer counts.
    func testDecodingScriptBytes() {
        let cases: [([UInt8], Result<String, SourceBytesProblem>)] = [
            (Array("x = 1\n".utf8), .success("x = 1\n")),
            ([0xEF, 0xBB, 0xBF] + Array("x".utf8), .success("x")),
            (Array("# é\nx = ".utf8) + [0xC3, 0x28], .failure(.invalidUTF8(byte: 0xC3, line: 2, column: 5))),
            (Array("é".utf8) + [0xFF], .failure(.invalidUTF8(byte: 0xFF, line: 1, column: 2))),
            ([0xED, 0xA0, 0x80], .failure(.invalidUTF8(byte: 0xED, line: 1, column: 1))),   // a UTF-16 surrogate
            ([0xFF, 0xFE, 0x78, 0x00], .failure(.utf16)),
            ([0xFE, 0xFF, 0x00, 0x78], .failure(.utf16)),
            ([0x78, 0x00], .failure(.nul(line: 1, column: 2))),
        ]
        for (bytes, expected) in cases {
            XCTAssertEqual(SourceText.decode(bytes), expected, "\(bytes)")
        }
    }
}
