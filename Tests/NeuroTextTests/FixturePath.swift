import Foundation

/// The path of `name` inside the test bundle's copied `Fixtures` folder.
func fixturePath(_ name: String) -> String {
    Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name).path
}

/// The expected values `Fixtures/make_tokenizer_fixtures.py` wrote from Hugging Face.
struct TokenizerExpectations: Decodable {
    struct Case: Decodable {
        let text: String
        let ids: [Int]
        let ids_plain: [Int]
        let tokens: [String]
        let decoded: String
        let decoded_skip: String
        let pieces: [String]?
        /// The pre-tokenizer word of each id of `ids_plain` (nil for an added token).
        let word_ids: [Int?]

        /// `ids_plain` cut where the word changes, as Hugging Face groups them.
        var words: [[Int]] {
            var words: [[Int]] = []
            for (i, id) in ids_plain.enumerated() {
                if i == 0 || word_ids[i] == nil || word_ids[i] != word_ids[i - 1] { words.append([id]) } else { words[words.count - 1].append(id) }
            }
            return words
        }
    }

    struct Truncation: Decodable {
        let text: String
        let max_length: Int
        let ids: [Int]
    }

    struct Batch: Decodable {
        let texts: [String]
        let ids: [[Int]]
        let attention_mask: [[Int]]
    }

    let vocab_size: Int
    let special: [String: Int]
    let model_max_length: Int?
    let cases: [Case]
    let truncation: [Truncation]
    let batch: Batch

    static func load(_ name: String) throws -> TokenizerExpectations {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixturePath(name)))
        return try JSONDecoder().decode(TokenizerExpectations.self, from: data)
    }
}
