import Foundation
import NeuroEngine

// WordPiece as BERT does it, step for step as Hugging Face's pipeline:
// added tokens split out of the raw text, BertNormalizer on the rest,
// BertPreTokenizer (split at whitespace, punctuation isolated), then each
// word greedily matched longest-first against the vocabulary, `##` before
// every piece but the first; a word over 100 characters, or with a part no
// entry matches, becomes [UNK] whole.

/// A WordPiece tokenizer (BERT's scheme), exact to Hugging Face's
/// `BertTokenizerFast`. Made by `TokenizerLoader.load(folder:)` from
/// `tokenizer.json` or `vocab.txt`.
///
/// ```swift
/// let bert = try WordPieceTokenizer(vocabFile: "minilm/vocab.txt")
/// bert.tokens("Unaffable!")   // ["[CLS]", "una", "##ffa", "##ble", "!", "[SEP]"]
/// ```
public final class WordPieceTokenizer: Tokenizer {
    /// How a `vocab.txt` is read: BERT's defaults, as `tokenizer_config.json` may change them.
    public struct Options: Sendable, Equatable {
        /// `do_lower_case`.
        public var lowercase = true
        /// `strip_accents`; nil means: strip when lower-casing.
        public var stripAccents: Bool? = nil
        /// `tokenize_chinese_chars`: spaces around CJK ideographs.
        public var handleChineseChars = true
        public var unkToken = "[UNK]"
        public var clsToken = "[CLS]"
        public var sepToken = "[SEP]"
        public var padToken = "[PAD]"
        public var maskToken = "[MASK]"
        /// `model_max_length`.
        public var modelMaxLength: Int? = nil

        public init() {}
    }

    let vocabulary: Vocabulary
    let normalizer: BertNormalizer?
    /// Whether words are split at whitespace and punctuation (BertPreTokenizer) before matching.
    let splitsWords: Bool
    let model: WordPieceModel
    let frame: SequenceFrame
    let decoder: WordPieceDecoder?
    let rawAddedTokens: AddedTokenMatcher
    let normalizedAddedTokens: AddedTokenMatcher
    let decompositions = DecompositionCache()
    public let specialTokens: SpecialTokens
    public let modelMaxLength: Int?

    init(vocabulary: Vocabulary, normalizer: BertNormalizer?, splitsWords: Bool, model: WordPieceModel,
         frame: SequenceFrame, decoder: WordPieceDecoder?, specialTokens: SpecialTokens, modelMaxLength: Int?) {
        self.vocabulary = vocabulary
        self.normalizer = normalizer
        self.splitsWords = splitsWords
        self.model = model
        self.frame = frame
        self.decoder = decoder
        self.rawAddedTokens = AddedTokenMatcher(vocabulary.added.filter { !$0.normalized })
        let cache = decompositions
        self.normalizedAddedTokens = AddedTokenMatcher(vocabulary.added.filter(\.normalized)) { token in
            guard let normalizer else { return token.content }
            var text = token.content
            return text.withUTF8 { bytes in
                var out: [UInt8] = []
                normalizer.normalize(bytes, 0..<bytes.count, into: &out, decompositions: cache)
                return String(decoding: out, as: UTF8.self)
            }
        }
        self.specialTokens = specialTokens
        self.modelMaxLength = modelMaxLength
    }

    /// A tokenizer from a `vocab.txt` (one entry per line, the line number its
    /// id), set up as `BertTokenizerFast` sets one up: BERT's normalizer and
    /// pre-tokenizer, `[CLS] … [SEP]`, the special tokens matched in the text.
    public convenience init(vocabFile path: String, options: Options = Options()) throws {
        let vocab = try readVocabularyLines(path)
        func id(_ name: String) -> Int? { vocab[Array(name.utf8)] }
        let roles = [options.padToken, options.unkToken, options.clsToken, options.sepToken, options.maskToken]
        let added = roles.compactMap { name in
            id(name).map { AddedToken(content: name, id: $0, special: true, singleWord: false, lstrip: false,
                                         rstrip: false, normalized: false) }
        }
        let vocabulary = try Vocabulary(model: vocab, added: added, source: path)
        guard let cls = id(options.clsToken), let sep = id(options.sepToken) else {
            let missing = id(options.clsToken) == nil ? options.clsToken : options.sepToken
            throw EngineError(.file, "\(path): has no \(missing) entry, which every BERT sequence starts or ends with")
        }
        let model = try WordPieceModel(vocabulary: vocab, unkToken: options.unkToken, prefix: "##",
                                       maxInputCharsPerWord: 100, source: path)
        let normalizer = BertNormalizer(cleanText: true, handleChineseChars: options.handleChineseChars,
                                        stripAccents: options.stripAccents ?? options.lowercase, lowercase: options.lowercase)
        let specials = SpecialTokens(pad: id(options.padToken), unk: id(options.unkToken), cls: cls, sep: sep,
                                     mask: id(options.maskToken))
        self.init(vocabulary: vocabulary, normalizer: normalizer, splitsWords: true, model: model,
                  frame: SequenceFrame(prefix: [cls], suffix: [sep]), decoder: WordPieceDecoder(prefix: "##", cleanup: true),
                  specialTokens: specials, modelMaxLength: options.modelMaxLength)
    }

    public var vocabularySize: Int { vocabulary.size }
    public var specialTokensPerText: Int { frame.count }

    public func encodeText(_ text: String) -> [Int] { encode(text, marking: nil) }

    public func encodeWords(_ text: String) -> [[Int]] {
        let ends = WordEnds()
        return ends.split(encode(text, marking: ends))
    }

    /// The ids of `text`, with the end of each word marked in `ends` when given.
    private func encode(_ text: String, marking ends: WordEnds?) -> [Int] {
        var text = text
        return text.withUTF8 { bytes in
            var ids: [Int] = []
            ids.reserveCapacity(bytes.count / 4)
            var normalized: [UInt8] = []
            for segment in rawAddedTokens.split(bytes, 0..<bytes.count) {
                switch segment {
                case .token(let id): ids.append(id); ends?.mark(ids.count)
                case .text(let range):
                    normalized.removeAll(keepingCapacity: true)
                    if let normalizer {
                        normalizer.normalize(bytes, range, into: &normalized, decompositions: decompositions)
                    } else {
                        normalized.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[range]))
                    }
                    normalized.withUnsafeBufferPointer { text in
                        for inner in normalizedAddedTokens.split(text, 0..<text.count) {
                            switch inner {
                            case .token(let id): ids.append(id); ends?.mark(ids.count)
                            case .text(let piece): encodeWords(text, piece, into: &ids, marking: ends)
                            }
                        }
                    }
                }
            }
            return ids
        }
    }

    /// BertPreTokenizer: words end at whitespace (dropped) and at punctuation
    /// (each punctuation character a word of its own); WordPiece on each word.
    private func encodeWords(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into ids: inout [Int], marking ends: WordEnds?) {
        func word(_ word: Range<Int>) {
            model.encodeWord(text, word, into: &ids)
            ends?.mark(ids.count)
        }
        guard splitsWords else {
            if !range.isEmpty { word(range) }
            return
        }
        var wordStart = range.lowerBound
        var i = range.lowerBound
        while i < range.upperBound {
            let (v, length) = UTF8Bytes.scalar(text, at: i)
            if isWhiteSpace(v) {
                if wordStart < i { word(wordStart..<i) }
                wordStart = i + length
            } else if isBertPunctuation(v) {
                if wordStart < i { word(wordStart..<i) }
                word(i..<(i + length))
                wordStart = i + length
            }
            i += length
        }
        if wordStart < range.upperBound { word(wordStart..<range.upperBound) }
    }

    public func addingSpecialTokens(to ids: [Int]) -> [Int] { frame.framing(ids) }

    public func decode(_ ids: [Int], skipSpecialTokens: Bool) throws -> String {
        let tokens = try vocabulary.entries(of: ids, skipSpecialTokens: skipSpecialTokens)
        guard let decoder else { return tokens.joined(separator: " ") }
        return decoder.decode(tokens)
    }

    public func token(for id: Int) -> String? { vocabulary.token(for: id) }
    public func id(for token: String) -> Int? { vocabulary.id(for: token) }
    public func isSpecial(_ id: Int) -> Bool { vocabulary.specialIDs.contains(id) }
}

// MARK: - The WordPiece model

/// Greedy longest-match-first over the vocabulary.
struct WordPieceModel: Sendable {
    /// Every entry, for a word's first piece.
    let entries: ByteTrie
    /// The entries that start with the prefix, prefix removed, for the pieces after.
    let continuations: ByteTrie
    let unkID: Int
    let maxInputCharsPerWord: Int

    /// Throws when the unknown token is not in the vocabulary, naming `source`.
    init(vocabulary: TokenIDs, unkToken: String, prefix: String, maxInputCharsPerWord: Int, source: String) throws {
        guard let unk = vocabulary[Array(unkToken.utf8)] else {
            throw EngineError(.file, "\(source): the unknown token \(jsonQuoted(unkToken)) is not in the vocabulary")
        }
        var all: [(bytes: [UInt8], id: Int)] = []
        var continuing: [(bytes: [UInt8], id: Int)] = []
        all.reserveCapacity(vocabulary.count)
        let prefixBytes = Array(prefix.utf8)
        for (bytes, id) in vocabulary {
            if !bytes.isEmpty { all.append((bytes, id)) }
            if !prefixBytes.isEmpty && bytes.count > prefixBytes.count && bytes.starts(with: prefixBytes) {
                continuing.append((Array(bytes[prefixBytes.count...]), id))
            }
        }
        self.entries = ByteTrie(all)
        self.continuations = prefixBytes.isEmpty ? ByteTrie(all) : ByteTrie(continuing)
        self.unkID = unk
        self.maxInputCharsPerWord = maxInputCharsPerWord
    }

    /// Appends the pieces of one word, or [UNK] when the word is too long or some part matches nothing.
    func encodeWord(_ text: UnsafeBufferPointer<UInt8>, _ word: Range<Int>, into ids: inout [Int]) {
        if word.count > maxInputCharsPerWord && UTF8Bytes.scalarCount(text, word) > maxInputCharsPerWord {
            ids.append(unkID)
            return
        }
        let mark = ids.count
        var start = word.lowerBound
        while start < word.upperBound {
            let trie = start == word.lowerBound ? entries : continuations
            guard let match = trie.longestMatch(text, from: start, to: word.upperBound) else {
                ids.removeSubrange(mark...)
                ids.append(unkID)
                return
            }
            ids.append(match.id)
            start = match.end
        }
    }
}

/// Hugging Face's WordPiece decoder: pieces after the first lose their
/// prefix or gain a space before them; `cleanup` then undoes the spaces
/// tokenizing put before punctuation and in English contractions.
struct WordPieceDecoder: Sendable {
    let prefix: String
    let cleanup: Bool

    /// Works on bytes, as Hugging Face does: a `##` before a combining mark
    /// is still a prefix, though Swift would see one character there.
    func decode(_ tokens: [String]) -> String {
        let prefixBytes = Array(prefix.utf8)
        var out: [UInt8] = []
        for (i, token) in tokens.enumerated() {
            var piece = Array(token.utf8)
            if i > 0 {
                if !prefixBytes.isEmpty && piece.starts(with: prefixBytes) {
                    piece.removeFirst(prefixBytes.count)
                } else {
                    piece.insert(0x20, at: 0)
                }
            }
            out += cleanup ? WordPieceDecoder.cleanUp(piece) : piece
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The replacements in Hugging Face's order, each over the whole piece.
    private static let replacements: [([UInt8], [UInt8])] = [
        (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
        (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ].map { (Array($0.0.utf8), Array($0.1.utf8)) }

    /// The bytes that follow the space in some replacement.
    private static let afterSpace = Set(replacements.map { $0.0[1] })

    static func cleanUp(_ text: [UInt8]) -> [UInt8] {
        // Most pieces are " word": nothing to replace, so look before copying.
        var candidate = false
        for i in 0..<max(text.count - 1, 0) where text[i] == 0x20 && afterSpace.contains(text[i + 1]) {
            candidate = true
            break
        }
        guard candidate else { return text }
        var out = text
        for (from, to) in replacements { out = replacingAll(out, from, to) }
        return out
    }

    /// `text` with every occurrence of `from` replaced by `to`, left to right, not overlapping.
    private static func replacingAll(_ text: [UInt8], _ from: [UInt8], _ to: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            if text[i] == from[0] && text.count - i >= from.count && text[i..<(i + from.count)].elementsEqual(from) {
                out += to
                i += from.count
            } else {
                out.append(text[i])
                i += 1
            }
        }
        return out
    }
}

/// The entries of a `vocab.txt`: line n (from 0) is the entry with id n,
/// trailing whitespace removed; a later repeat of an entry takes its id.
func readVocabularyLines(_ path: String) throws -> TokenIDs {
    let bytes = try readFileBytes(path, atMost: TokenizerLoader.maxFileBytes)
    guard String(validating: bytes, as: UTF8.self) != nil else {
        throw EngineError(.file, "\(path): is not UTF-8 text")
    }
    var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
    if lines.last?.isEmpty == true { lines.removeLast() }
    var vocab: TokenIDs = [:]
    vocab.reserveCapacity(lines.count)
    for (index, line) in lines.enumerated() {
        var entry = String(decoding: line, as: UTF8.self).unicodeScalars[...]
        while let last = entry.last, last.properties.isWhitespace { entry.removeLast() }
        vocab[Array(String(String.UnicodeScalarView(entry)).utf8)] = index
    }
    guard !vocab.isEmpty else { throw EngineError(.file, "\(path): is empty; a vocabulary needs one entry per line") }
    return vocab
}
