import XCTest
import NeuroEngine
import NeuroTestSupport
@testable import NeuroText

/// Bad folders and files: each a clear error naming the folder, file and field.
final class TokenizerLoaderTests: XCTestCase {
    /// A folder holding `files` (name → contents).
    private func folder(_ files: [String: String]) throws -> String {
        let path = try temporaryFolder()
        for (name, contents) in files {
            try contents.write(toFile: path + "/" + name, atomically: true, encoding: .utf8)
        }
        return path
    }

    private func assertLoadFails(_ files: [String: String], _ fragment: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let path = try folder(files)
        assertThrows(fragment, file: file, line: line) { try TokenizerLoader.load(folder: path) }
    }

    /// A small valid WordPiece tokenizer.json with one field replaced.
    private func wordPieceJSON(model: String = ###"{"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "a": 3, "##b": 4}}"###,
                               normalizer: String = #"{"type": "BertNormalizer", "lowercase": true}"#,
                               preTokenizer: String = #"{"type": "BertPreTokenizer"}"#,
                               postProcessor: String = #"{"type": "BertProcessing", "cls": ["[CLS]", 1], "sep": ["[SEP]", 2]}"#,
                               decoder: String = ###"{"type": "WordPiece", "prefix": "##", "cleanup": true}"###) -> String {
        """
        {"version": "1.0", "added_tokens": [], "normalizer": \(normalizer), "pre_tokenizer": \(preTokenizer),
         "post_processor": \(postProcessor), "decoder": \(decoder), "model": \(model)}
        """
    }

    func testASmallTokenizerJSONWorks() throws {
        let path = try folder(["tokenizer.json": wordPieceJSON()])
        let tokenizer = try TokenizerLoader.load(folder: path)
        XCTAssertEqual(tokenizer.encode("AB a ab c"), [1, 3, 4, 3, 3, 4, 0, 2])
        XCTAssertEqual(try tokenizer.decode([1, 3, 4, 3]), "[CLS] ab a")
        // do_lower_case in tokenizer_config.json wins over the file's normalizer, as in BertTokenizerFast.
        let cased = try folder(["tokenizer.json": wordPieceJSON(), "tokenizer_config.json": #"{"do_lower_case": false}"#])
        XCTAssertEqual(try TokenizerLoader.load(folder: cased).encode("AB ab"), [1, 0, 3, 4, 2])
    }

    func testMissingFolderAndMissingFiles() throws {
        assertThrows("/no/such/place: no such folder") { try TokenizerLoader.load(folder: "/no/such/place") }
        let empty = try folder([:])
        assertThrows("\(empty): no tokenizer here; expected tokenizer.json, vocab.txt, or vocab.json with merges.txt") {
            try TokenizerLoader.load(folder: empty)
        }
        let onlyVocab = try folder(["vocab.json": #"{"a": 0}"#])
        assertThrows("\(onlyVocab)/merges.txt: no such file (vocab.json needs the merges next to it)") {
            try TokenizerLoader.load(folder: onlyVocab)
        }
        let plainFile = try folder(["x": ""]) + "/x"
        assertThrows("\(plainFile): is a file; give the folder") { try TokenizerLoader.load(folder: plainFile) }
    }

    func testTokenizerJSONThatDoesNotParse() throws {
        try assertLoadFails(["tokenizer.json": "{\"model\": {"], "tokenizer.json: is not valid JSON")
        try assertLoadFails(["tokenizer.json": "[1, 2]"], "tokenizer.json: must be an object, not an array")
        try assertLoadFails(["tokenizer.json": "{}"], "tokenizer.json: field 'model' is missing")
    }

    func testWrongFieldsAreNamed() throws {
        try assertLoadFails(["tokenizer.json": wordPieceJSON(model: #"{"type": "WordPiece", "vocab": [1, 2]}"#)],
                            "tokenizer.json: field 'model.vocab' must be an object, not an array")
        try assertLoadFails(["tokenizer.json": wordPieceJSON(model: #"{"type": "WordPiece", "vocab": {"a": "zero"}}"#)],
                            "tokenizer.json: field 'model.vocab.a' must be a whole number, not a string")
        try assertLoadFails(["tokenizer.json": wordPieceJSON(model: #"{"type": "WordPiece", "vocab": {"a": 0}}"#)],
                            "tokenizer.json: the unknown token \"[UNK]\" is not in the vocabulary")
        try assertLoadFails(["tokenizer.json": wordPieceJSON(model: #"{"type": "Unigram", "vocab": []}"#)],
                            "tokenizer.json: field 'model.type' is \"Unigram\"; supported: \"WordPiece\", \"BPE\"")
        try assertLoadFails(["tokenizer.json": wordPieceJSON(model: #"{"type": "WordPiece", "vocab": {"[UNK]": -4}}"#)],
                            "tokenizer.json: token \"[UNK]\" has id -4, outside 0..<16777216")
        try assertLoadFails(["tokenizer.json": wordPieceJSON(normalizer: #"{"type": "BertNormalizer", "lowercase": "yes"}"#)],
                            "tokenizer.json: field 'normalizer.lowercase' must be true or false, not a string")
        try assertLoadFails(["tokenizer.json": wordPieceJSON(normalizer: #"{"type": "NFKC"}"#)],
                            "tokenizer.json: field 'normalizer.type' is \"NFKC\", which is not supported here; supported: \"BertNormalizer\" or null")
        try assertLoadFails(["tokenizer.json": wordPieceJSON(preTokenizer: #"{"type": "Metaspace"}"#)],
                            "field 'pre_tokenizer.type' is \"Metaspace\", which is not supported here")
        try assertLoadFails(["tokenizer.json": wordPieceJSON(postProcessor: #"{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[X]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {}}"#)],
                            "tokenizer.json: field 'post_processor.single[0].SpecialToken.id' names \"[X]\", which 'special_tokens' does not list")
        try assertLoadFails(["tokenizer.json": wordPieceJSON(postProcessor: #"{"type": "BertProcessing", "cls": ["[CLS]", 1], "sep": ["[SEP]", 99]}"#)],
                            "tokenizer.json: field 'post_processor' adds id 99, which is not in the vocabulary (ids 0..<5)")
        try assertLoadFails(["tokenizer.json": wordPieceJSON(decoder: #"{"type": "ByteLevel"}"#)],
                            "field 'decoder.type' is \"ByteLevel\", which is not supported here; supported: \"WordPiece\" or null")
        try assertLoadFails(["tokenizer.json": #"{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}, "added_tokens": [{"id": 5}]}"#],
                            "tokenizer.json: field 'added_tokens[0].content' is missing")
    }

    func testBadBPEFiles() throws {
        let vocab = #"{"a": 0, "b": 1, "ab": 2, "Ġ": 3}"#
        try assertLoadFails(["vocab.json": vocab, "merges.txt": "#version: 0.2\na b\na c\n"],
                            "merges.txt: line 3 (\"a\" \"c\") needs \"c\", which is not in the vocabulary")
        try assertLoadFails(["vocab.json": vocab, "merges.txt": "a b c\n"],
                            "merges.txt: line 1 must be two entries separated by one space, not \"a b c\"")
        try assertLoadFails(["vocab.json": "{\"a\": 0", "merges.txt": ""], "vocab.json: is not valid JSON")
        try assertLoadFails(["vocab.json": #"{"a": true}"#, "merges.txt": ""], "vocab.json: field 'a' must be a whole number, not a boolean")
        let bpeJSON = #"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": [["a", "b"]]}, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false}}"#
        try assertLoadFails(["tokenizer.json": bpeJSON],
                            "tokenizer.json: field 'model.merges': merge 0 (\"a\" \"b\") needs \"ab\", which is not in the vocabulary")
        let noPre = #"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}"#
        try assertLoadFails(["tokenizer.json": noPre], "tokenizer.json: field 'pre_tokenizer' is missing; byte-level BPE needs the ByteLevel pre-tokenizer")
        let fallback = #"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [], "byte_fallback": true}}"#
        try assertLoadFails(["tokenizer.json": fallback], "field 'model.byte_fallback' is true; BPE with byte fallback")
        let badMerge = #"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a"]}}"#
        try assertLoadFails(["tokenizer.json": badMerge], "field 'model.merges[0]' must be two entries separated by one space")
    }

    func testBadVocabTxtAndConfig() throws {
        try assertLoadFails(["vocab.txt": "[UNK]\n[CLS]\nhello\n"], "vocab.txt: has no [SEP] entry")
        try assertLoadFails(["vocab.txt": "[CLS]\n[SEP]\nhello\n"], "vocab.txt: the unknown token \"[UNK]\" is not in the vocabulary")
        try assertLoadFails(["vocab.txt": ""], "vocab.txt: is empty")
        try assertLoadFails(["vocab.txt": "[UNK]\n[CLS]\n[SEP]\n", "tokenizer_config.json": "{\"do_lower_case\": 1}"],
                            "tokenizer_config.json: field 'do_lower_case' must be true or false, not a number")
        try assertLoadFails(["vocab.txt": "[UNK]\n[CLS]\n[SEP]\n", "tokenizer_config.json": "{\"model_max_length\": 0}"],
                            "tokenizer_config.json: field 'model_max_length' must be at least 1, not 0")
        try assertLoadFails(["vocab.txt": "[UNK]\n[CLS]\n[SEP]\n", "special_tokens_map.json": "{\"unk_token\": {}}"],
                            "special_tokens_map.json: field 'unk_token.content' is missing")
        let path = try folder(["vocab.txt": "[UNK]\n[CLS]\n[SEP]\n"])
        try FileManager.default.removeItem(atPath: path + "/vocab.txt")
        try Data([0x5B, 0xFF, 0x0A]).write(to: URL(fileURLWithPath: path + "/vocab.txt"))
        assertThrows("vocab.txt: is not UTF-8 text") { try TokenizerLoader.load(folder: path) }
    }

    /// A vocab.txt with Windows line ends and a cased config reads as BERT cased would.
    func testVocabTxtOptionsFromConfig() throws {
        let path = try folder(["vocab.txt": "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nCafé\r\ncafe\r\n",
                               "tokenizer_config.json": #"{"do_lower_case": false, "model_max_length": 1000000000000000019884624838656}"#])
        let tokenizer = try TokenizerLoader.load(folder: path)
        XCTAssertEqual(tokenizer.encode("Café"), [2, 4, 3])
        XCTAssertEqual(tokenizer.encode("café"), [2, 1, 3])
        XCTAssertNil(tokenizer.modelMaxLength)
        XCTAssertEqual(tokenizer.specialTokens, SpecialTokens(pad: 0, unk: 1, cls: 2, sep: 3))
    }

    /// Entries Swift's `String` calls equal (canonically equivalent) stay
    /// distinct, as in Hugging Face: Å (U+00C5) and Å (U+212B), 豈 (U+F900) and 豈 (U+8C48).
    func testCanonicallyEquivalentEntriesStayDistinct() throws {
        let vocabTxt = try folder(["vocab.txt": "[UNK]\n[CLS]\n[SEP]\n\u{C5}\n\u{212B}\n\u{8C48}\n\u{F900}\n",
                                   "tokenizer_config.json": #"{"do_lower_case": false}"#])
        let json = try folder(["tokenizer.json": wordPieceJSON(
            model: #"{"type": "WordPiece", "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "\u00c5": 3, "\u212b": 4, "\u8c48": 5, "\uf900": 6}}"#,
            normalizer: "null")])
        for path in [vocabTxt, json] {
            let tokenizer = try TokenizerLoader.load(folder: path)
            XCTAssertEqual(tokenizer.encode("\u{C5} \u{212B}", addSpecialTokens: false), [3, 4], path)
            XCTAssertEqual(tokenizer.encode("\u{8C48} \u{F900}", addSpecialTokens: false), [5, 6], path)
            XCTAssertEqual(tokenizer.id(for: "\u{212B}"), 4, path)
            XCTAssertEqual(tokenizer.token(for: 6)?.unicodeScalars.map(\.value), [0xF900], path)
        }
    }

    /// Mutated tokenizer files (bytes changed, removed, inserted; cut short)
    /// either load or throw an EngineError; what loads encodes and decodes
    /// without trapping. The loader must never crash on a file.
    func testMutatedFilesLoadOrFailCleanly() throws {
        let sources: [(String, [UInt8])] = [
            ("tokenizer.json", Array(wordPieceJSON().utf8)),
            ("tokenizer.json", Array(try Data(contentsOf: URL(fileURLWithPath: fixturePath("bpe-json/tokenizer.json"))))),
            ("merges.txt", Array(try Data(contentsOf: URL(fileURLWithPath: fixturePath("bpe-files/merges.txt"))))),
            ("vocab.txt", Array("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n##lo\nhe\n".utf8)),
        ]
        let alphabet = Array("{}[]\",:0123456789-.e \\#u\n".utf8) + [0xC3, 0xFF, 0x00]
        var rng = RandomGenerator(seed: 5)
        func below(_ n: Int) -> Int { Int(rng.nextUniform() * Double(n)) % max(n, 1) }
        var loaded = 0, refused = 0
        for round in 0..<240 {
            let (name, original) = sources[round % sources.count]
            var bytes = original
            for _ in 0..<(1 + below(4)) {
                let at = below(bytes.count)
                switch below(4) {
                case 0: if !bytes.isEmpty { bytes[at] = alphabet[below(alphabet.count)] }
                case 1: if !bytes.isEmpty { bytes.remove(at: at) }
                case 2: bytes.insert(alphabet[below(alphabet.count)], at: at)
                default: bytes = Array(bytes.prefix(at))
                }
            }
            let path = try folder([:])
            try Data(bytes).write(to: URL(fileURLWithPath: path + "/" + name))
            if name == "merges.txt" {
                try FileManager.default.copyItem(atPath: fixturePath("bpe-files/vocab.json"), toPath: path + "/vocab.json")
            }
            let tokenizer: any Tokenizer
            do {
                tokenizer = try TokenizerLoader.load(folder: path)
                loaded += 1
            } catch let error as EngineError {
                refused += 1
                XCTAssertEqual(error.kind, .file, "\(error)")
                XCTAssertTrue(error.message.contains(path), "the error names the file: \(error)")
                continue
            }
            for text in ["Hello [CLS] world, héllo!", "", "  <|endoftext|> 😀 北京\u{0}"] {
                let ids = tokenizer.encode(text)
                XCTAssertNoThrow(try tokenizer.decode(ids))
                _ = tokenizer.tokens(text)
                // A tokenizer without pad or end-of-text token cannot pad: an error, not a trap.
                _ = try? tokenizer.encodeBatch([text, "a"], maxLength: 3, overflow: .truncate)
            }
        }
        XCTAssertEqual(loaded + refused, 240)
        XCTAssertGreaterThan(loaded, 0)
        XCTAssertGreaterThan(refused, 0)
    }
}
