import NeuroEngine

// What every tokenizer keeps besides its model: the ids of the vocabulary and
// the added tokens, and the frame the post-processor puts around a sequence.

/// Vocabulary entries by their UTF-8 bytes. Not by `String`: Swift's string
/// equality holds canonically equivalent strings equal ("Å" U+00C5 and "Å"
/// U+212B, 豈 U+F900 and 豈 U+8C48), and vocabularies hold such pairs as
/// distinct entries.
typealias TokenIDs = [[UInt8]: Int]

/// The vocabulary of a tokenizer: the model's entries and the added tokens.
struct Vocabulary: Sendable {
    /// The model's own entries.
    let modelIDs: TokenIDs
    /// Every id's entry (added tokens over the model's), nil for ids with none.
    let entries: [String?]
    /// Added tokens by content.
    let addedIDs: TokenIDs
    let added: [AddedToken]
    /// Ids of the special added tokens.
    let specialIDs: Set<Int>

    /// The largest id a vocabulary may use: a file declaring more is refused
    /// before a table of that size is made.
    static let maxID = 1 << 24

    /// Throws when an id is negative or implausibly large, naming the entry and `source`.
    init(model: TokenIDs, added: [AddedToken], source: String) throws {
        var largest = -1
        for (token, id) in model {
            guard id >= 0, id < Vocabulary.maxID else {
                let text = String(decoding: token, as: UTF8.self)
                throw EngineError(.file, "\(source): token \(jsonQuoted(text)) has id \(id), outside 0..<\(Vocabulary.maxID)")
            }
            largest = max(largest, id)
        }
        for token in added {
            guard token.id >= 0, token.id < Vocabulary.maxID else {
                throw EngineError(.file, "\(source): added token \(jsonQuoted(token.content)) has id \(token.id), outside 0..<\(Vocabulary.maxID)")
            }
            largest = max(largest, token.id)
        }
        var entries = [String?](repeating: nil, count: largest + 1)
        for (token, id) in model { entries[id] = String(decoding: token, as: UTF8.self) }
        var addedIDs: TokenIDs = [:]
        for token in added {
            entries[token.id] = token.content
            addedIDs[Array(token.content.utf8)] = token.id
        }
        self.modelIDs = model
        self.entries = entries
        self.addedIDs = addedIDs
        self.added = added
        self.specialIDs = Set(added.filter(\.special).map(\.id))
    }

    var size: Int { entries.count }

    func id(for token: String) -> Int? {
        let key = Array(token.utf8)
        return addedIDs[key] ?? modelIDs[key]
    }

    func token(for id: Int) -> String? {
        id >= 0 && id < entries.count ? entries[id] : nil
    }

    /// The entries of `ids`, special tokens left out when asked; throws for
    /// an id with no entry.
    func entries(of ids: [Int], skipSpecialTokens: Bool) throws -> [String] {
        var out: [String] = []
        out.reserveCapacity(ids.count)
        for (position, id) in ids.enumerated() {
            guard let entry = token(for: id) else {
                throw EngineError(.index, "decode: id \(id) at position \(position) is not in the vocabulary (ids 0..<\(size))")
            }
            if skipSpecialTokens && specialIDs.contains(id) { continue }
            out.append(entry)
        }
        return out
    }
}

/// The special tokens a post-processor puts around one sequence:
/// `[CLS]` before and `[SEP]` after for BERT, nothing for GPT-2.
struct SequenceFrame: Sendable, Equatable {
    let prefix: [Int]
    let suffix: [Int]

    static let none = SequenceFrame(prefix: [], suffix: [])

    var count: Int { prefix.count + suffix.count }

    func framing(_ ids: [Int]) -> [Int] {
        count == 0 ? ids : prefix + ids + suffix
    }
}
