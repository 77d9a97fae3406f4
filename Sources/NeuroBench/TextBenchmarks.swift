// Tokenizer throughput: 1 MB of text through WordPiece (the real MiniLM
// vocabulary) and byte-level BPE (the tokenizer trained for the tests), both
// read from Tests/NeuroTextTests/Fixtures. The target is 1 MB/s or more.

import Foundation
import NeuroEngine
import NeuroText

/// About 1 MB of text: words drawn from 6,000 made-up words with a Zipf-like
/// frequency (so some repeat a lot and many are rare, as in prose), with
/// punctuation, numbers, line breaks, and every 50th line one of the parity
/// fixture's lines (accents, CJK, emoji, long words, controls).
func benchmarkText(bytes target: Int = 1 << 20) throws -> String {
    var rng = RandomGenerator(seed: 7)
    let syllables = ["ka", "to", "re", "mi", "an", "sol", "ver", "ing", "tion", "pre", "ex", "on", "al", "ly",
                     "the", "str", "qu", "er", "ou", "ph", "ch", "ment", "ness", "ab", "ist", "ic", "ed", "un"]
    let words = (0..<6000).map { _ -> String in
        (0..<(1 + Int(rng.nextUniform() * 3))).map { _ in syllables[Int(rng.nextUniform() * Double(syllables.count))] }.joined()
    }
    let lines = try TokenizerExpectations.lines()
    var text = ""
    text.reserveCapacity(target + 1000)
    var line = 0
    while text.utf8.count < target {
        for w in 0..<(8 + Int(rng.nextUniform() * 12)) {
            // Zipf-like: index ~ 6000^u, so small indices are much more frequent.
            var word = words[min(words.count - 1, Int(pow(Double(words.count), rng.nextUniform())) - 1)]
            if w == 0 { word = word.prefix(1).uppercased() + word.dropFirst() }
            text += word
            let r = rng.nextUniform()
            text += r < 0.06 ? ", " : r < 0.08 ? " \(Int(rng.nextUniform() * 2000)) " : " "
        }
        text += rng.nextUniform() < 0.5 ? ".\n" : ". "
        line += 1
        if line % 50 == 0 { text += lines[(line / 50) % lines.count] + "\n" }
    }
    return text
}

/// The lines of the WordPiece parity fixture.
enum TokenizerExpectations {
    static func lines() throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixtureFolder() + "/wordpiece_expected.json"))
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let cases = root["cases"] as? [[String: Any]] else {
            throw EngineError(.file, "wordpiece_expected.json: no cases")
        }
        return cases.compactMap { $0["text"] as? String }.filter { !$0.isEmpty }
    }
}

/// Tests/NeuroTextTests/Fixtures of this checkout.
func fixtureFolder() -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tests/NeuroTextTests/Fixtures").path
}

/// Encodes the text with the tokenizer in `folder`: the first run on a fresh
/// tokenizer (empty cache) and the median of the timed runs.
func benchTokenizer(_ context: inout Context, name: String, folder: String) throws {
    let text = try benchmarkText()
    let bytes = Double(text.utf8.count)
    var start = nowNanoseconds()
    let tokenizer = try TokenizerLoader.load(folder: fixtureFolder() + "/" + folder)
    let loadMs = Double(nowNanoseconds() - start) / 1e6
    start = nowNanoseconds()
    let ids = tokenizer.encode(text)
    let coldMs = Double(nowNanoseconds() - start) / 1e6
    let (iterations, warmup) = context.runs(10)
    let t = measure(iterations: iterations, warmup: warmup) { _ = tokenizer.encode(text) }
    start = nowNanoseconds()
    let decoded = try tokenizer.decode(ids)
    let decodeMs = Double(nowNanoseconds() - start) / 1e6
    emit([("name", .string(name))] + timingFields(t) + [
        ("mb_per_s", .number(bytes / 1e6 / (t.median / 1000))), ("cold_ms", .number(coldMs)),
        ("cold_mb_per_s", .number(bytes / 1e6 / (coldMs / 1000))), ("decode_ms", .number(decodeMs)), ("load_ms", .number(loadMs)),
        ("bytes", .int(Int(bytes))), ("tokens", .int(ids.count)), ("decoded_chars", .int(decoded.unicodeScalars.count)),
        ("target_mb_per_s", .number(1)),
    ])
}

func benchTokenizeWordPiece(_ context: inout Context) throws {
    try benchTokenizer(&context, name: "tokenize_wordpiece_1mb", folder: "minilm-json")
}

func benchTokenizeBPE(_ context: inout Context) throws {
    try benchTokenizer(&context, name: "tokenize_bpe_1mb", folder: "bpe-json")
}
