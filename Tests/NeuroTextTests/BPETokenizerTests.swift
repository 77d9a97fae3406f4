import XCTest
import NeuroEngine
import NeuroTestSupport
@testable import NeuroText

/// Byte-level BPE against Hugging Face's GPT2TokenizerFast on a tokenizer
/// trained with ByteLevelBPETokenizer (Fixtures/make_tokenizer_fixtures.py),
/// read both from tokenizer.json and from vocab.json + merges.txt.
final class BPETokenizerTests: XCTestCase {
    static let expected = Result { try TokenizerExpectations.load("bpe_expected.json") }

    private func expected() throws -> TokenizerExpectations { try Self.expected.get() }

    static let loaded = Result {
        [("bpe-json", try TokenizerLoader.load(folder: fixturePath("bpe-json"))),
         ("bpe-files", try TokenizerLoader.load(folder: fixturePath("bpe-files")))]
    }

    private func tokenizers() throws -> [(String, any Tokenizer)] { try Self.loaded.get() }

    func testLoaderPicksBPEFromEitherSource() throws {
        for (name, tokenizer) in try tokenizers() {
            XCTAssertTrue(tokenizer is BPETokenizer, name)
        }
    }

    /// GPT-2's pattern matched by hand cuts every text where Hugging Face's
    /// regex engine (Oniguruma) does.
    func testPreTokenizationPiecesEqualHuggingFace() throws {
        for (line, item) in try expected().cases.enumerated() {
            var text = item.text
            let pieces: [String] = text.withUTF8 { bytes in
                var out: [String] = []
                ByteLevel.forEachPiece(bytes, 0..<bytes.count) { out.append(ByteLevel.string(of: bytes, $0)) }
                return out
            }
            XCTAssertEqual(pieces, item.pieces, "line \(line): \(item.text.debugDescription)")
        }
    }

    func testIdsEqualHuggingFaceOnEveryLine() throws {
        let expected = try expected()
        for (name, tokenizer) in try tokenizers() {
            for (line, item) in expected.cases.enumerated() {
                XCTAssertEqual(tokenizer.encode(item.text), item.ids, "\(name) line \(line): \(item.text.debugDescription)")
                XCTAssertEqual(tokenizer.encode(item.text, addSpecialTokens: false), item.ids_plain, "\(name) line \(line)")
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

    func testDecodeEqualsHuggingFaceAndRoundTrips() throws {
        let expected = try expected()
        for (name, tokenizer) in try tokenizers() {
            for (line, item) in expected.cases.enumerated() {
                XCTAssertEqual(try tokenizer.decode(item.ids), item.decoded, "\(name) line \(line)")
                XCTAssertEqual(try tokenizer.decode(item.ids, skipSpecialTokens: true), item.decoded_skip, "\(name) line \(line)")
                XCTAssertEqual(try tokenizer.decode(tokenizer.encode(item.text)), item.text, "\(name) line \(line)")
            }
        }
    }

    /// Any string comes back from its ids: random mixes of ASCII, Latin,
    /// CJK, emoji, combining marks, every kind of whitespace, controls.
    func testRandomStringsRoundTrip() throws {
        let alphabet: [ClosedRange<UInt32>] = [0x00...0x7F, 0x80...0x24F, 0x300...0x36F, 0x370...0x3FF, 0x400...0x4FF,
                                               0x2000...0x206F, 0x3000...0x303F, 0x4E00...0x4E80, 0xAC00...0xAC40,
                                               0xFE00...0xFFFD, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0xE0000...0xE007F]
        var rng = RandomGenerator(seed: 12)
        for (name, tokenizer) in try tokenizers() {
            for _ in 0..<300 {
                var text = ""
                for _ in 0..<(Int(rng.nextUniform() * 40)) {
                    let block = alphabet[Int(rng.nextUniform() * Double(alphabet.count))]
                    let v = block.lowerBound + UInt32(rng.nextUniform() * Double(block.count))
                    if let scalar = Unicode.Scalar(v) { text.unicodeScalars.append(scalar) }
                    if rng.nextUniform() < 0.05 { text += "<|endoftext|>" }
                    if rng.nextUniform() < 0.1 { text += String(repeating: " ", count: Int(rng.nextUniform() * 4)) }
                }
                let ids = tokenizer.encode(text)
                XCTAssertEqual(try tokenizer.decode(ids), text, "\(name): \(text.debugDescription)")
            }
        }
    }

    func testSpecialTokensAndVocabularySize() throws {
        let expected = try expected()
        for (name, tokenizer) in try tokenizers() {
            XCTAssertEqual(tokenizer.vocabularySize, expected.vocab_size, name)
            XCTAssertEqual(tokenizer.specialTokens.bos, expected.special["bos"], name)
            XCTAssertEqual(tokenizer.specialTokens.eos, expected.special["eos"], name)
            XCTAssertEqual(tokenizer.specialTokens.unk, expected.special["unk"], name)
            XCTAssertNil(tokenizer.specialTokens.pad, name)
            XCTAssertNil(tokenizer.specialTokens.cls, name)
            XCTAssertNil(tokenizer.modelMaxLength, name)
            XCTAssertEqual(tokenizer.specialTokensPerText, 0, name)
            XCTAssertEqual(tokenizer.encode("<|endoftext|>"), [0], name)
            XCTAssertEqual(tokenizer.token(for: 221), "Ġ", name)
            XCTAssertEqual(tokenizer.id(for: "Ġ"), 221, name)
            XCTAssertTrue(tokenizer.isSpecial(0), name)
        }
    }

    func testTruncationAsHuggingFace() throws {
        let expected = try expected()
        for (name, tokenizer) in try tokenizers() {
            for item in expected.truncation {
                let encoded = try tokenizer.encode(item.text, maxLength: item.max_length, overflow: .truncate)
                XCTAssertEqual(encoded.ids, item.ids, "\(name) max length \(item.max_length)")
                XCTAssertEqual(encoded.truncatedTokens, tokenizer.encode(item.text).count - item.max_length, name)
                XCTAssertNotNil(encoded.warning, name)
            }
            assertThrows("tokenize: the text is 30 tokens long, more than the 5 allowed") {
                try tokenizer.encode(expected.truncation[0].text, maxLength: 5, overflow: .error)
            }
            assertThrows("max length 0 leaves no room for text") {
                try tokenizer.encode("a", maxLength: 0, overflow: .truncate)
            }
        }
    }

    /// GPT-2 has no pad token: a batch is padded with the end-of-text token,
    /// as TransformerLens sets it up (`pad_token = eos_token`).
    func testBatchPadsWithEndOfText() throws {
        let expected = try expected()
        for (name, tokenizer) in try tokenizers() {
            let batch = try tokenizer.encodeBatch(expected.batch.texts)
            XCTAssertEqual(batch.ids, expected.batch.ids, name)
            XCTAssertEqual(batch.attentionMask, expected.batch.attention_mask, name)
        }
    }

    func testEmptyText() throws {
        for (name, tokenizer) in try tokenizers() {
            XCTAssertEqual(tokenizer.encode(""), [], name)
            XCTAssertEqual(tokenizer.tokens(""), [], name)
            XCTAssertEqual(try tokenizer.decode([]), "", name)
            let batch = try tokenizer.encodeBatch(["", ""])
            XCTAssertEqual(batch.ids, [[], []], name)
        }
    }

    /// A long run of one character is merged in O(n log n), and the cache
    /// gives the same ids the second time.
    func testLongPiecesAndTheCache() throws {
        let tokenizer = try TokenizerLoader.load(folder: fixturePath("bpe-json"))
        let spaces = String(repeating: " ", count: 20_000) + "x"
        let first = tokenizer.encode(spaces)
        XCTAssertEqual(try tokenizer.decode(first), spaces)
        XCTAssertEqual(tokenizer.encode(spaces), first)
        let word = "interpretability"
        XCTAssertEqual(tokenizer.encode(word), tokenizer.encode(word))
    }

    /// `add_prefix_space` from tokenizer_config.json puts a space before the text.
    func testAddPrefixSpaceFromConfig() throws {
        let folder = try temporaryFolder()
        for name in ["vocab.json", "merges.txt"] {
            try FileManager.default.copyItem(atPath: fixturePath("bpe-files/" + name), toPath: folder + "/" + name)
        }
        try #"{"add_prefix_space": true, "model_max_length": 1024}"#.write(toFile: folder + "/tokenizer_config.json", atomically: true, encoding: .utf8)
        let spaced = try TokenizerLoader.load(folder: folder)
        let plain = try TokenizerLoader.load(folder: fixturePath("bpe-files"))
        XCTAssertEqual(spaced.encode("the dog"), plain.encode(" the dog"))
        XCTAssertEqual(spaced.encode(" the dog"), plain.encode(" the dog"))
        XCTAssertEqual(spaced.modelMaxLength, 1024)
    }
}

extension XCTestCase {
    /// A fresh empty folder, removed when the test ends.
    func temporaryFolder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("neurotext-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }
}
