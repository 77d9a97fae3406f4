import NeuroEngine

/// The text a neuron scan reads, cut into units: every scanned token belongs
/// to exactly one unit, a word of the text or one occurrence of a category
/// entry (several words, for an entry such as "New York"), and each unit
/// knows the categories it is an occurrence of. Special tokens are not
/// scanned at all, so they are in no unit.
///
/// ```swift
/// let words = [ScanText.Word(key: "the", tokens: ["the"]), ScanText.Word(key: "giraffe", tokens: ["gi", "##raf", "##fe"])]
/// let text = ScanText(words: words, categories: [("animal", ["giraffe", "lion"])], keys: { [$0] })
/// text.units[1].categories   // [0]: the giraffe's three tokens are one occurrence
/// text.missing               // [["lion"]]
/// ```
public struct ScanText: Sendable {
    /// One word of the text as the tokenizer cut it: the form it is matched
    /// by (its text, case-folded when the tokenizer is uncased) and its tokens as strings.
    public struct Word: Sendable {
        public var key: String
        public var tokens: [String]

        public init(key: String, tokens: [String]) {
            self.key = key
            self.tokens = tokens
        }
    }

    /// A run of tokens that counts as one: a word, or one occurrence of a category entry.
    public struct Unit: Sendable, Equatable {
        public var tokens: Range<Int>
        /// The categories this unit is an occurrence of (usually none, sometimes several).
        public var categories: [Int]
        /// The words it is made of, joined by spaces.
        public var text: String
    }

    /// Every scanned token, as a string, in order.
    public let tokens: [String]
    public let units: [Unit]
    /// The categories' names, in the order given.
    public let categories: [String]
    /// Per category, its entries that never occur in the text.
    public let missing: [[String]]

    /// Matches each category's entries against the words. An entry's keys are
    /// the words the tokenizer cuts it into (`keys`); it matches each run of
    /// consecutive words with the same keys. Where entries of different
    /// lengths start at the same word, the longest wins; entries with the same
    /// keys in several categories make one occurrence of each.
    public init(words: [Word], categories: [(name: String, entries: [String])], keys: (String) -> [String]) {
        var tokens: [String] = []
        var starts: [Int] = []
        for word in words {
            starts.append(tokens.count)
            tokens += word.tokens
        }
        starts.append(tokens.count)
        self.tokens = tokens
        self.categories = categories.map(\.name)

        // Entries by their first key: (keys, category, entry index).
        var byFirst: [String: [(keys: [String], category: Int, entry: Int)]] = [:]
        for (c, category) in categories.enumerated() {
            for (e, entry) in category.entries.enumerated() {
                let entryKeys = keys(entry).filter { !$0.isEmpty }
                guard let first = entryKeys.first else { continue }
                byFirst[first, default: []].append((entryKeys, c, e))
            }
        }
        var found = categories.map { [Bool](repeating: false, count: $0.entries.count) }
        var units: [Unit] = []
        var i = 0
        while i < words.count {
            let candidates = (byFirst[words[i].key] ?? []).filter { candidate in
                i + candidate.keys.count <= words.count
                    && zip(candidate.keys, words[i..<(i + candidate.keys.count)]).allSatisfy { $0 == $1.key }
            }
            let length = max(1, candidates.map(\.keys.count).max() ?? 1)
            let matched = candidates.filter { $0.keys.count == length }
            for match in matched { found[match.category][match.entry] = true }
            let tokenRange = starts[i]..<starts[i + length]
            if !tokenRange.isEmpty {
                units.append(Unit(tokens: tokenRange, categories: Array(Set(matched.map(\.category))).sorted(),
                                  text: words[i..<(i + length)].map(\.key).joined(separator: " ")))
            }
            i += length
        }
        self.units = units
        self.missing = categories.enumerated().map { c, category in
            category.entries.enumerated().filter { !found[c][$0.offset] }.map(\.element)
        }
    }

    /// How many occurrences each category has.
    public var occurrences: [Int] {
        var counts = [Int](repeating: 0, count: categories.count)
        for unit in units { for c in unit.categories { counts[c] += 1 } }
        return counts
    }
}
