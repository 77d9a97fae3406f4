import NeuroEngine

// The one interface every tokenizer offers, and what is built on it once for
// all of them: length limits, TransformerLens's string tokens, padded batches.

/// A tokenizer read from a Hugging Face folder (`TokenizerLoader.load`), giving
/// the same ids as Hugging Face's fast tokenizers.
///
/// ```swift
/// let tokenizer = try TokenizerLoader.load(folder: "models/all-minilm-l6-v2/model")
/// tokenizer.encode("Hello, world!")                 // [101, 7592, 1010, 2088, 999, 102]
/// tokenizer.tokens("Hello, world!")                 // ["[CLS]", "hello", ",", "world", "!", "[SEP]"]
/// try tokenizer.decode([7592, 1010, 2088])          // "hello, world"
/// ```
public protocol Tokenizer: AnyObject, Sendable {
    /// One more than the largest id the tokenizer can produce (the model's
    /// `d_vocab` when the two agree); added tokens included.
    var vocabularySize: Int { get }
    /// The ids of the tokens with a role: padding, unknown, `[CLS]`/`[SEP]`, BOS/EOS, mask.
    var specialTokens: SpecialTokens { get }
    /// `model_max_length` from `tokenizer_config.json`, when the folder says it.
    var modelMaxLength: Int? { get }
    /// How many special tokens `addingSpecialTokens` puts around one text
    /// (2 for BERT's `[CLS] … [SEP]`, 0 for GPT-2).
    var specialTokensPerText: Int { get }

    /// The ids of `text` alone, without the special tokens that frame a sequence.
    /// Never fails: characters the vocabulary lacks become the unknown token.
    func encodeText(_ text: String) -> [Int]
    /// `encodeText`'s ids grouped by the word each comes from: a piece of the
    /// pre-tokenizer (BERT's words and punctuation marks, GPT-2's pieces such
    /// as `" Paris"`), an added token alone. Joined, exactly `encodeText(text)`.
    func encodeWords(_ text: String) -> [[Int]]
    /// `ids` framed as one sequence the way the tokenizer's post-processor does it.
    func addingSpecialTokens(to ids: [Int]) -> [Int]
    /// The text of `ids`, as Hugging Face's `decode`: continuation pieces
    /// joined (WordPiece) or bytes back to UTF-8 (byte-level BPE).
    /// Throws for an id outside the vocabulary, naming it.
    func decode(_ ids: [Int], skipSpecialTokens: Bool) throws -> String
    /// The vocabulary entry of `id` as stored (`"##ing"`, `"Ġthe"`), nil when there is none.
    func token(for id: Int) -> String?
    /// The id of a vocabulary entry written as stored, nil when there is none.
    func id(for token: String) -> Int?
    /// Whether `id` is one of the special (added) tokens `skipSpecialTokens` leaves out.
    func isSpecial(_ id: Int) -> Bool
}

/// The ids of the tokens with a role, nil where the tokenizer has none.
public struct SpecialTokens: Equatable, Sendable, CustomStringConvertible {
    public var pad: Int?
    public var unk: Int?
    public var cls: Int?
    public var sep: Int?
    public var bos: Int?
    public var eos: Int?
    public var mask: Int?

    public init(pad: Int? = nil, unk: Int? = nil, cls: Int? = nil, sep: Int? = nil,
                bos: Int? = nil, eos: Int? = nil, mask: Int? = nil) {
        (self.pad, self.unk, self.cls, self.sep, self.bos, self.eos, self.mask) = (pad, unk, cls, sep, bos, eos, mask)
    }

    public var description: String {
        let named: [(String, Int?)] = [("pad", pad), ("unk", unk), ("cls", cls), ("sep", sep),
                                       ("bos", bos), ("eos", eos), ("mask", mask)]
        return named.compactMap { name, id in id.map { "\(name) \($0)" } }.joined(separator: ", ")
    }
}

/// What encoding does with a text longer than its length limit.
public enum Overflow: Sendable, Equatable {
    /// Keep the first tokens, frame them with the special tokens, and say so in `Encoding.warning`.
    case truncate
    /// Throw an `EngineError` naming the length and the limit.
    case error
}

/// Which end of a shorter sequence padding goes to.
public enum PaddingSide: Sendable, Equatable {
    case right, left
}

/// The ids of one text encoded under a length limit.
public struct Encoding: Equatable, Sendable {
    /// The ids, special tokens included when asked for.
    public let ids: [Int]
    /// How many of the text's tokens were cut off to fit (0 when it fitted).
    public let truncatedTokens: Int
    /// A sentence to show the user when tokens were cut off, nil otherwise.
    public let warning: String?
}

/// Several texts encoded to one length: ids `[batch, pos]` and the mask
/// (1 for a token, 0 for padding), as Hugging Face's `padding=True` gives them.
public struct BatchEncoding: Equatable, Sendable {
    /// `[batch, pos]`, every row as long as the longest (or the fixed length).
    public let ids: [[Int]]
    /// `[batch, pos]`: 1 where `ids` holds a token of the text, 0 where it holds padding.
    public let attentionMask: [[Int]]
    /// The number of real tokens in each row.
    public let lengths: [Int]
    /// One sentence per truncated text, naming its index; empty when none was.
    public let warnings: [String]
}

extension Tokenizer {
    /// The ids of `text`, framed with the special tokens when `addSpecialTokens`
    /// (Hugging Face's `tokenizer(text)["input_ids"]`). No length limit.
    ///
    /// ```swift
    /// bert.encode("hi")                            // [101, 7632, 102]
    /// bert.encode("hi", addSpecialTokens: false)   // [7632]
    /// ```
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        let ids = encodeText(text)
        return addSpecialTokens ? addingSpecialTokens(to: ids) : ids
    }

    /// The ids of `text` in at most `maxLength` tokens, special tokens
    /// included, as Hugging Face's `truncation=True, max_length=maxLength`:
    /// the text's tokens are cut to make room, the frame is kept.
    /// With `.error`, a longer text throws instead.
    ///
    /// Throws when `maxLength` leaves no room for a single token of text
    /// besides the special tokens a non-empty text needs.
    public func encode(_ text: String, addSpecialTokens: Bool = true, maxLength: Int,
                       overflow: Overflow) throws -> Encoding {
        try encode(text, addSpecialTokens: addSpecialTokens, maxLength: maxLength, overflow: overflow, naming: "the text")
    }

    /// `encode(_:addSpecialTokens:maxLength:overflow:)` with the text named
    /// in messages as `name` ("the text", "text 3").
    func encode(_ text: String, addSpecialTokens: Bool, maxLength: Int, overflow: Overflow,
                naming name: String) throws -> Encoding {
        let reserved = addSpecialTokens ? specialTokensPerText : 0
        guard maxLength >= reserved, maxLength > 0 else {
            throw EngineError(.argument, subject: "tokenize", "max length \(maxLength) leaves no room for text"
                              + (reserved > 0 ? " after the \(reserved) special tokens every sequence has" : ""))
        }
        var ids = encodeText(text)
        let room = maxLength - reserved
        var cut = 0
        var warning: String? = nil
        if ids.count > room {
            let total = ids.count + reserved
            guard overflow == .truncate else {
                throw EngineError(.argument, subject: "tokenize", "\(name) is \(total) tokens long, more than the \(maxLength) allowed; "
                                  + "shorten it or ask for truncation")
            }
            cut = ids.count - room
            ids.removeLast(cut)
            warning = "\(name) of \(total) tokens truncated to the first \(maxLength) (\(cut) dropped)"
        }
        return Encoding(ids: addSpecialTokens ? addingSpecialTokens(to: ids) : ids, truncatedTokens: cut, warning: warning)
    }

    /// Every token of `text` as a string, as TransformerLens's `to_str_tokens`
    /// shows them: each id decoded on its own (so `" the"` for GPT-2's `Ġthe`,
    /// `"##ing"` for BERT, and `"�"` for a piece of a character split across tokens).
    ///
    /// ```swift
    /// bert.tokens("playing")   // ["[CLS]", "playing", "[SEP]"]
    /// gpt2.tokens("I'm")       // ["I", "'m"]
    /// ```
    public func tokens(_ text: String, addSpecialTokens: Bool = true) -> [String] {
        encode(text, addSpecialTokens: addSpecialTokens).map(tokenString)
    }

    /// One id as `tokens` shows it (the id's own decoding).
    public func tokenString(_ id: Int) -> String {
        (try? decode([id], skipSpecialTokens: false)) ?? ""
    }

    /// `decode` keeping the special tokens, as `transformers`' `decode` does by default.
    public func decode(_ ids: [Int]) throws -> String {
        try decode(ids, skipSpecialTokens: false)
    }

    /// Several texts as one padded batch: every row padded to the longest
    /// (or to `padTo` when given), with its attention mask.
    /// `maxLength` and `overflow` apply to each text as in `encode`.
    /// Padding uses the pad token, or the end-of-text token when there is no
    /// pad token (what TransformerLens does for GPT-2).
    ///
    /// ```swift
    /// let batch = try bert.encodeBatch(["a b c", "a"])
    /// batch.ids             // [[101, 1037, 1038, 1039, 102], [101, 1037, 102, 0, 0]]
    /// batch.attentionMask   // [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]
    /// ```
    public func encodeBatch(_ texts: [String], addSpecialTokens: Bool = true, maxLength: Int? = nil,
                            overflow: Overflow = .error, padTo: Int? = nil,
                            paddingSide: PaddingSide = .right) throws -> BatchEncoding {
        var rows: [[Int]] = []
        var warnings: [String] = []
        rows.reserveCapacity(texts.count)
        for (index, text) in texts.enumerated() {
            if let maxLength {
                let encoded = try encode(text, addSpecialTokens: addSpecialTokens, maxLength: maxLength,
                                         overflow: overflow, naming: "text \(index)")
                if let warning = encoded.warning { warnings.append(warning) }
                rows.append(encoded.ids)
            } else {
                rows.append(encode(text, addSpecialTokens: addSpecialTokens))
            }
        }
        let longest = rows.map(\.count).max() ?? 0
        let width = padTo ?? longest
        if width < longest {
            throw EngineError(.argument, subject: "tokenize", "pad length \(width) is shorter than text \(rows.map(\.count).firstIndex(of: longest) ?? 0), which has \(longest) tokens")
        }
        let lengths = rows.map(\.count)
        if lengths.contains(where: { $0 < width }) {
            guard let pad = specialTokens.pad ?? specialTokens.eos else {
                throw EngineError(.argument, subject: "tokenize", "texts of different lengths need padding, but this tokenizer has no pad or end-of-text token")
            }
            for i in rows.indices where rows[i].count < width {
                let filler = [Int](repeating: pad, count: width - rows[i].count)
                rows[i] = paddingSide == .right ? rows[i] + filler : filler + rows[i]
            }
        }
        let masks = lengths.map { length -> [Int] in
            let ones = [Int](repeating: 1, count: length), zeros = [Int](repeating: 0, count: width - length)
            return paddingSide == .right ? ones + zeros : zeros + ones
        }
        return BatchEncoding(ids: rows, attentionMask: masks, lengths: lengths, warnings: warnings)
    }
}

/// Where each word ends while a text is encoded (counts of ids so far), to
/// group the ids by word afterwards.
final class WordEnds {
    private var ends: [Int] = []

    func mark(_ end: Int) {
        if end > (ends.last ?? 0) { ends.append(end) }
    }

    /// `ids` cut at the marked ends (the ids after the last mark, if any, a word of their own).
    func split(_ ids: [Int]) -> [[Int]] {
        var words: [[Int]] = []
        var start = 0
        for end in ends + [ids.count] where end > start && end <= ids.count {
            words.append(Array(ids[start..<end]))
            start = end
        }
        return words
    }
}
