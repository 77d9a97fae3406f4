import Foundation
import XCTest
import NeuroEngine
import NeuroModels
import NeuroTestSupport
@testable import NeuroLanguage
@testable import NeuroLab

/// The text built-ins through the language (load, tokenize, str_tokens,
/// decode, run, logits, generate) on the tiny GPT-2 and BERT folders of
/// Fixtures/, against what Hugging Face computes (make_text_model_fixtures.py).
final class TextBuiltinTests: XCTestCase, ScriptTesting {
    static let expected = Result { try SafeTensors.read(fixturePath("text_models_expected.safetensors")) }
    let gpt2 = fixturePath("tiny-gpt2")
    let bert = fixturePath("tiny-bert")

    func reference() throws -> SafeTensorsFile { try TextBuiltinTests.expected.get() }

    func tensor(_ name: String) throws -> Tensor {
        guard let t = try reference().tensors[name] else { throw XCTSkip("fixture has no \(name)") }
        return t
    }

    /// A JSON list from the fixture's metadata.
    func meta<T: Decodable>(_ key: String, as: T.Type) throws -> T {
        let text = try XCTUnwrap(try reference().metadata[key], "fixture metadata has no \(key)")
        return try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }

    var texts: [String] { (try? meta("texts", as: [String].self)) ?? [] }

    /// A language literal of a string (quotes and backslashes escaped).
    func literal(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    var textList: String { "[" + texts.map(literal).joined(separator: ", ") + "]" }

    func global(_ interpreter: Interpreter, _ name: String) throws -> Value {
        try XCTUnwrap(interpreter.globals.lookup(name), "no \(name)")
    }

    func ints(_ value: Value) throws -> [Int] {
        guard case .tensor(let t) = value else { throw XCTSkip("not a tensor: \(value.typeName)") }
        XCTAssertFalse(t.dtype.isFloatingPoint, "token ids are integers")
        return t.toInts()
    }

    func string(_ value: Value) -> String? {
        if case .string(let s) = value { return s }
        return nil
    }

    func strings(_ value: Value) -> [String] {
        guard case .list(let items) = value else { return [] }
        return items.map { if case .string(let s) = $0 { return s } else { return "<\($0.typeName)>" } }
    }

    /// `actual` [B, T, D] against `expected` [B, T, D] on each row's first `lengths[b]` positions.
    func assertRealPositionsClose(_ actual: Tensor, _ expected: Tensor, lengths: [Int], _ what: String,
                                  file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.shape, expected.shape, "\(what) shape", file: file, line: line)
        guard actual.shape == expected.shape, actual.rank == 3 else { return }
        let (t, d) = (actual.shape[1], actual.shape[2])
        let a = actual.toDoubles(), e = expected.toDoubles()
        for (b, length) in lengths.enumerated() {
            let range = (b * t * d)..<(b * t * d + length * d)
            assertClose(Array(a[range]), Array(e[range]), rtol: 1e-4, atol: 1e-4, "\(what) row \(b)", file: file, line: line)
        }
    }

    func lengths(_ model: String) throws -> [Int] {
        try tensor("\(model).batch.mask").toInts().chunked(try tensor("\(model).batch.mask").shape[1]).map { $0.reduce(0, +) }
    }

    // MARK: - Tokens

    func testGPT2TokensAreTransformerLensToTokens() throws {
        let texts = self.texts
        XCTAssertEqual(texts.count, 3)
        var code = "m = load(\(literal(gpt2)))\nall = tokenize(m, \(textList))\n"
        for (i, text) in texts.enumerated() {
            code += "t\(i) = tokenize(m, \(literal(text)))\ns\(i) = str_tokens(m, \(literal(text)))\nd\(i) = decode(m, t\(i))\n"
            code += "n\(i) = tokenize(m, \(literal(text)), prepend_bos: false)\nl\(i) = decode(m, [\(try tensor("gpt2.ids.\(i)").toInts().map(String.init).joined(separator: ", "))])\n"
        }
        let (interpreter, _) = run(code)
        let strTokens = try meta("gpt2.str_tokens", as: [[String]].self)
        let decoded = try meta("gpt2.decoded", as: [String].self)
        for i in texts.indices {
            let ids = try tensor("gpt2.ids.\(i)").toInts()
            XCTAssertEqual(ids.first, 0, "<|endoftext|> first")
            XCTAssertEqual(try ints(try global(interpreter, "t\(i)")), ids, "tokenize text \(i)")
            XCTAssertEqual(try ints(try global(interpreter, "n\(i)")), Array(ids.dropFirst()), "prepend_bos: false, text \(i)")
            XCTAssertEqual(strings(try global(interpreter, "s\(i)")), strTokens[i], "str_tokens text \(i)")
            XCTAssertEqual(string(try global(interpreter, "d\(i)")), decoded[i], "decode of a tensor, text \(i)")
            XCTAssertEqual(string(try global(interpreter, "l\(i)")), decoded[i], "decode of a list, text \(i)")
        }
        XCTAssertEqual(try ints(try global(interpreter, "all")), try tensor("gpt2.batch.ids").toInts(), "a padded batch")
        guard case .tensor(let all) = try global(interpreter, "all") else { return XCTFail("no batch") }
        XCTAssertEqual(all.shape, try tensor("gpt2.batch.ids").shape)
    }

    func testBERTTokensAreFramedAndMatchHuggingFace() throws {
        let texts = self.texts
        var code = "m = load(\(literal(bert)))\nall = tokenize(m, \(textList))\nboth = str_tokens(m, \(textList))\n"
        for (i, text) in texts.enumerated() {
            code += "t\(i) = tokenize(m, \(literal(text)))\ns\(i) = str_tokens(m, \(literal(text)))\nd\(i) = decode(m, t\(i))\n"
        }
        let (interpreter, _) = run(code)
        let strTokens = try meta("bert.str_tokens", as: [[String]].self)
        let decoded = try meta("bert.decoded", as: [String].self)
        for i in texts.indices {
            let ids = try tensor("bert.ids.\(i)").toInts()
            XCTAssertEqual(try ints(try global(interpreter, "t\(i)")), ids, "tokenize text \(i)")
            XCTAssertEqual(strings(try global(interpreter, "s\(i)")), strTokens[i], "str_tokens text \(i)")
            XCTAssertEqual(strTokens[i].first, "[CLS]")
            XCTAssertEqual(strTokens[i].last, "[SEP]")
            XCTAssertEqual(string(try global(interpreter, "d\(i)")), decoded[i], "decode text \(i)")
        }
        XCTAssertTrue(strTokens[2].contains("[UNK]"), "the dash is not in the tiny vocabulary")
        XCTAssertEqual(try ints(try global(interpreter, "all")), try tensor("bert.batch.ids").toInts(), "padded with [PAD]")
        guard case .list(let rows) = try global(interpreter, "both") else { return XCTFail("str_tokens of a list is a list") }
        XCTAssertEqual(rows.map(strings), strTokens, "str_tokens of a list: each text's own tokens, no padding")
    }

    // MARK: - Activations and logits

    func testGPT2RunAndLogitsMatchHuggingFaceOnRealPositions() throws {
        let (interpreter, _) = run("""
            m = load(\(literal(gpt2)))
            c = run(m, \(textList))
            z = logits(m, \(textList))
            one = logits(m, \(literal(texts[1])))
            """)
        let lengths = try self.lengths("gpt2")
        XCTAssertEqual(Set(lengths).count, 3, "the texts differ in length, so the batch pads")
        guard case .object(let cache as CacheObject) = try global(interpreter, "c") else { return XCTFail("run gave no cache") }
        for hook in ["blocks.0.mlp.hook_post", "blocks.0.hook_resid_post"] {
            assertRealPositionsClose(try cache.cache[hook], try tensor("gpt2.cache.\(hook)"), lengths: lengths, hook)
        }
        guard case .tensor(let logits) = try global(interpreter, "z") else { return XCTFail("logits gave no tensor") }
        let expected = try tensor("gpt2.logits")
        assertRealPositionsClose(logits, expected, lengths: lengths, "batch logits")
        guard case .tensor(let one) = try global(interpreter, "one") else { return XCTFail("logits gave no tensor") }
        let (t, v) = (expected.shape[1], expected.shape[2])
        XCTAssertEqual(one.shape, [1, lengths[1], v])
        let row1 = Array(expected.toDoubles()[(t * v)..<(t * v + lengths[1] * v)])
        assertClose(one.toDoubles(), row1, rtol: 1e-4, atol: 1e-4, "one text's logits")
    }

    func testBERTRunMatchesHuggingFaceOnRealPositions() throws {
        let (interpreter, _) = run("""
            m = load(\(literal(bert)))
            c = run(m, \(textList))
            post = run(m, \(textList), cache: ["blocks.0.mlp.hook_post"])
            """)
        let lengths = try self.lengths("bert")
        guard case .object(let cache as CacheObject) = try global(interpreter, "c"),
              case .object(let only as CacheObject) = try global(interpreter, "post") else { return XCTFail("run gave no cache") }
        assertRealPositionsClose(try cache.cache["blocks.0.mlp.hook_post"], try tensor("bert.cache.blocks.0.mlp.hook_post"),
                                 lengths: lengths, "blocks.0.mlp.hook_post")
        assertRealPositionsClose(try cache.cache["blocks.1.hook_normalized_resid_post"], try tensor("bert.last_hidden_state"),
                                 lengths: lengths, "last hidden state")
        XCTAssertEqual(only.cache.points.map(\.name), ["blocks.0.mlp.hook_post"], "hooks: caches only those named")
        assertRealPositionsClose(try only.cache["blocks.0.mlp.hook_post"], try tensor("bert.cache.blocks.0.mlp.hook_post"),
                                 lengths: lengths, "hooks: blocks.0.mlp.hook_post")
    }

    // MARK: - Generation

    func testGenerateIsHuggingFaceGreedyAndStopsAtEndOfText() throws {
        let prompts = try meta("prompts", as: [String].self)
        let generated = try meta("gpt2.generated", as: [String].self)
        var code = "m = load(\(literal(gpt2)))\n"
        for (j, prompt) in prompts.enumerated() { code += "g\(j) = generate(m, \(literal(prompt)), tokens: 8)\n" }
        code += "z = generate(m, \(literal(prompts[0])), tokens: 0)\n"
        let (interpreter, _) = run(code)
        for j in prompts.indices {
            XCTAssertEqual(string(try global(interpreter, "g\(j)")), generated[j], "prompt \(j)")
        }
        XCTAssertTrue(generated[1].hasSuffix("<|endoftext|>"), "the second prompt ends its paragraph")
        let (stopped, _) = run("m = load(\(literal(gpt2)))\nt = tokenize(m, \(literal(prompts[1])))\nmore = generate(m, \(literal(prompts[1])), tokens: 8, stop_at_eos: false)")
        let promptLength = try ints(try global(stopped, "t")).count
        XCTAssertLessThan(try tensor("gpt2.generate.1").count, promptLength + 8, "Hugging Face stopped before 8 new tokens")
        guard case .string(let more) = try global(stopped, "more") else { return XCTFail("generate gave no text") }
        XCTAssertTrue(more.hasPrefix(generated[1]) && more.count > generated[1].count, "stop_at_eos: false goes on: \(more)")
        XCTAssertEqual(string(try global(interpreter, "z")), prompts[0], "no new tokens: the prompt")
    }

    // MARK: - Errors

    func testTextLongerThanTheContextIsAnErrorOrTruncatedWithAWarning() throws {
        // Hugging Face: 202 GPT-2 tokens (203 with <|endoftext|> first), 82 BERT tokens with [CLS] and [SEP].
        let long = literal(String(repeating: "the garden ", count: 40))
        let error = failure("m = load(\(literal(gpt2)))\ntokenize(m, \(long))")
        XCTAssertEqual(error, "tokenize: the text is 203 tokens long with the beginning token <|endoftext|>, more than the model's 64 "
                       + "positions (n_ctx); shorten it, or pass truncate: true to keep the first 64")
        let (interpreter, output) = run("m = load(\(literal(gpt2)))\nt = tokenize(m, \(long), truncate: true)\nc = run(m, \(long), truncate: true)")
        XCTAssertEqual(try ints(try global(interpreter, "t")).count, 64, "cut to n_ctx, <|endoftext|> included")
        XCTAssertEqual(output, Array(repeating: "warning: the text is 203 tokens long with the beginning token <|endoftext|>; "
                                     + "kept the first 64 (the model's n_ctx) and dropped 139", count: 2), "tokenize and run warn once each")
        let bertError = failure("m = load(\(literal(bert)))\nrun(m, \(long))")
        XCTAssertTrue(bertError.hasPrefix("run: the text is 82 tokens long with its special tokens, more than the model's 64 positions"), bertError)
        let second = failure("m = load(\(literal(bert)))\nrun(m, [\"the cat\", \(long)])")
        XCTAssertTrue(second.hasPrefix("run: text 1 is 82 tokens long"), second)
    }

    func testEmptyTextAndNonStringItems() throws {
        let (interpreter, _) = run("m = load(\(literal(gpt2)))\nt = tokenize(m, \"\")\nb = load(\(literal(bert)))\nu = tokenize(b, \"\")")
        XCTAssertEqual(try ints(try global(interpreter, "t")), [0], "TransformerLens: just <|endoftext|>")
        XCTAssertEqual(try ints(try global(interpreter, "u")), [2, 3], "[CLS] [SEP]")
        let empty = failure("m = load(\(literal(gpt2)))\ntokenize(m, \"\", prepend_bos: false)")
        XCTAssertTrue(empty.contains("empty"), empty)
        let item = failure("m = load(\(literal(gpt2)))\nrun(m, [\"a cat\", 3])")
        XCTAssertTrue(item.contains("text 1") && item.contains("string"), item)
        let none = failure("m = load(\(literal(gpt2)))\nlogits(m, [])")
        XCTAssertTrue(none.contains("empty"), none)
        let number = failure("m = load(\(literal(gpt2)))\ntokenize(m, 3)")
        XCTAssertTrue(number.contains("string"), number)
    }

    func testModelsWithoutWhatABuiltinNeedsSaySo() throws {
        let logits = failure("m = load(\(literal(bert)))\nlogits(m, \"the cat\")")
        XCTAssertTrue(logits.contains("no language-model head"), logits)
        let generate = failure("m = load(\(literal(bert)))\ngenerate(m, \"the cat\")")
        XCTAssertTrue(generate.contains("bert") && generate.contains("decoder"), generate)
        let noModel = failure("tokenize(\"x\")")
        XCTAssertTrue(noModel.contains("load"), noModel)
    }

    func testTheLastLoadedModelIsTheDefault() throws {
        let (interpreter, _) = run("load(\(literal(bert)))\nt = tokenize(\(literal(texts[0])))\ns = str_tokens(\(literal(texts[0])))")
        XCTAssertEqual(try ints(try global(interpreter, "t")), try tensor("bert.ids.0").toInts())
        XCTAssertEqual(strings(try global(interpreter, "s")), try meta("bert.str_tokens", as: [[String]].self)[0])
    }

    func testFoldersMissingAFileAreNamed() throws {
        let directory = try PictureTestSupport.temporaryDirectory("text")
        defer { try? FileManager.default.removeItem(at: directory) }
        let manager = FileManager.default
        let noConfig = directory.appendingPathComponent("no-config").path
        let noTokenizer = directory.appendingPathComponent("no-tokenizer").path
        for folder in [noConfig, noTokenizer] { try manager.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        for name in try manager.contentsOfDirectory(atPath: gpt2) {
            let isModel = ["config.json", "generation_config.json", "model.safetensors"].contains(name)
            let target = isModel ? noTokenizer : noConfig
            try manager.copyItem(atPath: (gpt2 as NSString).appendingPathComponent(name), toPath: (target as NSString).appendingPathComponent(name))
        }
        let missingConfig = failure("load(\(literal(noConfig)))")
        XCTAssertTrue(missingConfig.contains(noConfig) && missingConfig.contains("config.json"), missingConfig)
        let missingTokenizer = failure("load(\(literal(noTokenizer)))")
        XCTAssertTrue(missingTokenizer.contains(noTokenizer) && missingTokenizer.contains("tokenizer"), missingTokenizer)
    }

    // MARK: - The real MiniLM

    func testMiniLMLoadsByName() throws {
        guard (try? ModelCache.isPresent("all-minilm-l6-v2")) == true else {
            throw XCTSkip("all-MiniLM-L6-v2 is not in the cache; `neuromap fetch all-minilm-l6-v2` puts it there")
        }
        let (interpreter, _) = run("""
            m = load("all-minilm-l6-v2")
            s = str_tokens(m, "The quick brown fox jumps over the lazy dog.")
            h = run(m, "The quick brown fox jumps over the lazy dog.")["blocks.3.mlp.hook_post"]
            """)
        XCTAssertEqual(strings(try global(interpreter, "s")),
                       ["[CLS]", "the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog", ".", "[SEP]"])
        guard case .tensor(let h) = try global(interpreter, "h") else { return XCTFail("no activation") }
        XCTAssertEqual(h.shape, [1, 12, 1536])
    }
}

private extension Array {
    func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: Swift.max(size, 1)).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
