import XCTest
import NeuroEngine
import NeuroTestSupport
@testable import NeuroText

/// WordPiece against Hugging Face's BertTokenizerFast on the real MiniLM
/// vocabulary (Fixtures/make_tokenizer_fixtures.py), read both from
/// tokenizer.json and from vocab.txt.
final class WordPieceTokenizerTests: XCTestCase {
    static let expected = Result { try TokenizerExpectations.load("wordpiece_expected.json") }

    private func expected() throws -> TokenizerExpectations { try Self.expected.get() }

    /// The two folders, each read once: tokenizer.json (with its config) and vocab.txt (with its config).
    static let loaded = Result {
        [("minilm-json", try TokenizerLoader.load(folder: fixturePath("minilm-json"))),
         ("minilm-vocab", try TokenizerLoader.load(folder: fixturePath("minilm-vocab")))]
    }

    private func tokenizers() throws -> [(String, any Tokenizer)] { try Self.loaded.get() }

    private func minilm() throws -> any Tokenizer { try tokenizers()[0].1 }

    func testLoaderPicksWordPieceFromEitherFile() throws {
        for (name, tokenizer) in try tokenizers() {
            XCTAssertTrue(tokenizer is WordPieceTokenizer, name)
        }
    }

    func testIdsEqualHuggingFaceOnEveryLine() throws {
        let expected = try expected()
        for (name, tokenizer) in try tokenizers() {
            for (line, item) in expected.cases.enumerated() {
                XCTAssertEqual(tokenizer.encode(item.text), item.ids, "\(name) line \(line): \(item.text.debugDescription)")
                XCTAssertEqual(tokenizer.encode(item.text, addSpecialTokens: false), item.ids_plain, "\(name) line \(line) without specials")
            }
        }
    }

    /// Ids grouped by word as Hugging Face's `word_ids` groups them (what a
    /// neuron scan matches category words against).
    func testWordsEqualHuggingFaceWordIDs() throws {
        let expected = try expected()
        for (name, tokenizer) in try tokenizers() {
            for (line, item) in expected.cases.enumerated() {
                XCTAssertEqual(tokenizer.encodeWords(item.text), item.words, "\(name) line \(line): \(item.text.debugDescription)")
            }
        }
    }

    func testTokensAsStringsEqualToStrTokens() throws {
        let expected = try expected()
        for (name, tokenizer) in try tokenizers() {
            for (line, item) in expected.cases.enumerated() {
                XCTAssertEqual(tokenizer.tokens(item.text), item.tokens, "\(name) line \(line)")
            }
        }
    }

    func testDecodeEqualsHuggingFace() throws {
        let expected = try expected()
        for (name, tokenizer) in try tokenizers() {
            for (line, item) in expected.cases.enumerated() {
                XCTAssertEqual(try tokenizer.decode(item.ids), item.decoded, "\(name) line \(line)")
                XCTAssertEqual(try tokenizer.decode(item.ids, skipSpecialTokens: true), item.decoded_skip, "\(name) line \(line) skipping specials")
            }
        }
    }

    /// Decoding the ids of lower-case ASCII words gives the words back (the
    /// uncased normalizer changes nothing there).
    func testDecodeRoundTripsNormalizedText() throws {
        for (name, tokenizer) in try tokenizers() {
            let text = "the model attends to the previous token, and the mlp reads it. interpretability!"
            XCTAssertEqual(try tokenizer.decode(tokenizer.encode(text, addSpecialTokens: false)), text, name)
        }
    }

    func testSpecialTokensVocabularySizeAndLimit() throws {
        let expected = try expected()
        for (name, tokenizer) in try tokenizers() {
            XCTAssertEqual(tokenizer.vocabularySize, expected.vocab_size, name)
            let special = tokenizer.specialTokens
            XCTAssertEqual(special.pad, expected.special["pad"], name)
            XCTAssertEqual(special.unk, expected.special["unk"], name)
            XCTAssertEqual(special.cls, expected.special["cls"], name)
            XCTAssertEqual(special.sep, expected.special["sep"], name)
            XCTAssertEqual(special.mask, expected.special["mask"], name)
            XCTAssertNil(special.bos, name)
            XCTAssertEqual(tokenizer.modelMaxLength, expected.model_max_length, name)
            XCTAssertEqual(tokenizer.specialTokensPerText, 2, name)
            XCTAssertEqual(tokenizer.token(for: 7592), "hello", name)
            XCTAssertEqual(tokenizer.id(for: "##ing"), 2075, name)
            XCTAssertTrue(tokenizer.isSpecial(101), name)
            XCTAssertFalse(tokenizer.isSpecial(7592), name)
        }
    }

    func testTruncationKeepsTheFrameAsHuggingFaceDoes() throws {
        let expected = try expected()
        for (name, tokenizer) in try tokenizers() {
            for item in expected.truncation {
                let encoded = try tokenizer.encode(item.text, maxLength: item.max_length, overflow: .truncate)
                XCTAssertEqual(encoded.ids, item.ids, "\(name) max length \(item.max_length)")
                let full = tokenizer.encode(item.text).count
                XCTAssertEqual(encoded.truncatedTokens, full - item.max_length, name)
                XCTAssertEqual(encoded.warning, "the text of \(full) tokens truncated to the first \(item.max_length) (\(full - item.max_length) dropped)")
            }
        }
    }

    func testOverflowErrorNamesLengthAndLimit() throws {
        let tokenizer = try minilm()
        let text = "Hello, world! This is a simple sentence."   // 12 tokens with [CLS] and [SEP]
        assertThrows("tokenize: the text is 12 tokens long, more than the 8 allowed") {
            try tokenizer.encode(text, maxLength: 8, overflow: .error)
        }
        let fits = try tokenizer.encode(text, maxLength: 12, overflow: .error)
        XCTAssertEqual(fits.ids, tokenizer.encode(text))
        XCTAssertEqual(fits.truncatedTokens, 0)
        XCTAssertNil(fits.warning)
        assertThrows("max length 1 leaves no room for text after the 2 special tokens") {
            try tokenizer.encode(text, maxLength: 1, overflow: .truncate)
        }
        // Without special tokens the whole limit is for the text.
        XCTAssertEqual(try tokenizer.encode(text, addSpecialTokens: false, maxLength: 1, overflow: .truncate).ids, [7592])
    }

    func testBatchPadsAndMasksAsHuggingFace() throws {
        let expected = try expected()
        for (name, tokenizer) in try tokenizers() {
            let batch = try tokenizer.encodeBatch(expected.batch.texts)
            XCTAssertEqual(batch.ids, expected.batch.ids, name)
            XCTAssertEqual(batch.attentionMask, expected.batch.attention_mask, name)
            XCTAssertEqual(batch.lengths, expected.batch.attention_mask.map { $0.reduce(0, +) }, name)
            XCTAssertEqual(batch.warnings, [], name)
        }
    }

    func testBatchTruncatesLeftPadsAndNamesTheText() throws {
        let tokenizer = try minilm()
        let batch = try tokenizer.encodeBatch(["a b c d e", "a"], maxLength: 4, overflow: .truncate, paddingSide: .left)
        XCTAssertEqual(batch.ids, [[101, 1037, 1038, 102], [0, 101, 1037, 102]])
        XCTAssertEqual(batch.attentionMask, [[1, 1, 1, 1], [0, 1, 1, 1]])
        XCTAssertEqual(batch.warnings, ["text 0 of 7 tokens truncated to the first 4 (3 dropped)"])
        assertThrows("tokenize: text 1 is 7 tokens long, more than the 4 allowed") {
            try tokenizer.encodeBatch(["a", "a b c d e"], maxLength: 4, overflow: .error)
        }
        let fixed = try tokenizer.encodeBatch(["a", ""], padTo: 5)
        XCTAssertEqual(fixed.ids, [[101, 1037, 102, 0, 0], [101, 102, 0, 0, 0]])
        assertThrows("pad length 2 is shorter than text 0, which has 3 tokens") {
            try tokenizer.encodeBatch(["a", ""], padTo: 2)
        }
    }

    func testEmptyAndBlankTextGiveOnlyTheFrame() throws {
        for (name, tokenizer) in try tokenizers() {
            XCTAssertEqual(tokenizer.encode(""), [101, 102], name)
            XCTAssertEqual(tokenizer.encode("", addSpecialTokens: false), [], name)
            XCTAssertEqual(tokenizer.encode(" \t\n\u{3000}\u{85}"), [101, 102], name)
            XCTAssertEqual(tokenizer.tokens(""), ["[CLS]", "[SEP]"], name)
            XCTAssertEqual(try tokenizer.decode([]), "", name)
        }
    }

    /// Words of more than 100 characters (counted after normalization) are [UNK]
    /// whole; a word of exactly 100 is split into pieces.
    func testLongWordsAndUnknownCharacters() throws {
        let tokenizer = try minilm()
        XCTAssertEqual(tokenizer.encode(String(repeating: "a", count: 101), addSpecialTokens: false), [100])
        XCTAssertEqual(tokenizer.encode(String(repeating: "é", count: 101), addSpecialTokens: false), [100])
        let hundred = tokenizer.encode(String(repeating: "ab", count: 50), addSpecialTokens: false)
        XCTAssertGreaterThan(hundred.count, 1)
        XCTAssertFalse(hundred.contains(100))
        // A word with one character the vocabulary lacks is [UNK] as a whole.
        XCTAssertEqual(tokenizer.encode("hi😀there ☃", addSpecialTokens: false), [100, 100])
        // Every scalar alone: never a crash, never an empty result for a visible character.
        for v in stride(from: UInt32(0x20), to: 0x3_0000, by: 97) {
            guard let scalar = Unicode.Scalar(v) else { continue }
            _ = tokenizer.encode("x" + String(Character(scalar)) + "y")
        }
    }

    func testDecodeRefusesAnUnknownId() throws {
        let tokenizer = try minilm()
        assertThrows("decode: id 30522 at position 1 is not in the vocabulary (ids 0..<30522)") {
            try tokenizer.decode([101, 30522])
        }
        assertThrows("decode: id -1 at position 0") { try tokenizer.decode([-1]) }
    }

    /// The normalizer's steps one by one: cleaning, CJK spacing, accents, case.
    func testBertNormalizerSteps() throws {
        func normalized(_ text: String, _ normalizer: BertNormalizer) -> String {
            var text = text
            return text.withUTF8 { bytes in
                var out: [UInt8] = []
                normalizer.normalize(bytes, 0..<bytes.count, into: &out, decompositions: DecompositionCache())
                return String(decoding: out, as: UTF8.self)
            }
        }
        let bert = BertNormalizer()
        XCTAssertEqual(normalized("Ångström CAFÉ", bert), "angstrom cafe")
        XCTAssertEqual(normalized("a\tb\nc\r\nd\u{0B}e\u{85}f\u{A0}g", bert), "a b c  def g")
        XCTAssertEqual(normalized("x\u{0}y\u{FFFD}z\u{200B}w\u{AD}v\u{E000}u", bert), "xyzwvu")
        XCTAssertEqual(normalized("北京a\u{2B820}b", bert), " 北  京 a\u{2B820}b")
        // İ decomposes to I + combining dot, which goes with the accents.
        XCTAssertEqual(normalized("İ", bert), "i")
        // Marks out of canonical order are reordered before the nonspacing ones go.
        XCTAssertEqual(normalized("a\u{301}\u{316}b", bert), "ab")
        let cased = BertNormalizer(cleanText: true, handleChineseChars: false, stripAccents: false, lowercase: false)
        XCTAssertEqual(normalized("Ångström 北京", cased), "Ångström 北京")
    }
}
