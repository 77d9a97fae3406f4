import Foundation
import NeuroEngine

// Hugging Face's `tokenizer.json`: the model (WordPiece or BPE, by
// `model.type`), the added tokens, and the normalizer, pre-tokenizer,
// post-processor and decoder around it. Only the parts BERT and GPT-2 style
// tokenizers use are supported; anything else is refused by name. The
// `padding` and `truncation` stored in the file are ignored, as `transformers`
// ignores them: lengths are the caller's choice.

enum TokenizerJSON {
    static func load(_ path: String, settings: FolderSettings) throws -> any Tokenizer {
        let root = try JSONField.read(path)
        _ = try root.members()
        let model = try root.required("model")
        let type = try model.string("type") ?? (try model.member("merges") != nil ? "BPE" : "WordPiece")
        let added = try (root.member("added_tokens")?.array() ?? []).map { entry in
            try addedToken(entry, id: try entry.required("id").int())
        }
        switch type {
        case "WordPiece": return try wordPiece(root, model: model, added: added, settings: settings, path: path)
        case "BPE": return try bpe(root, model: model, added: added, settings: settings, path: path)
        default:
            throw try model.required("type").error("is \(jsonQuoted(type)); supported: \"WordPiece\", \"BPE\"")
        }
    }

    /// One entry of `added_tokens`.
    static func addedToken(_ entry: JSONField, id: Int) throws -> AddedToken {
        let special = try entry.bool("special", default: false)
        return AddedToken(content: try entry.required("content").string(), id: id, special: special,
                          singleWord: try entry.bool("single_word", default: false),
                          lstrip: try entry.bool("lstrip", default: false), rstrip: try entry.bool("rstrip", default: false),
                          normalized: try entry.bool("normalized", default: !special))
    }

    /// The `type` of a component, and the component.
    private static func component(_ root: JSONField, _ key: String) throws -> (type: String, field: JSONField)? {
        guard let field = try root.member(key) else { return nil }
        return (try field.required("type").string(), field)
    }

    private static func unsupported(_ field: JSONField, _ type: String, supported: [String]) throws -> EngineError {
        try field.required("type").error("is \(jsonQuoted(type)), which is not supported here; supported: "
                                         + supported.map(jsonQuoted).joined(separator: ", ") + " or null")
    }

    /// `model.vocab`: an object of entry → id.
    static func vocabulary(_ field: JSONField) throws -> TokenIDs {
        let members = try field.members()
        var vocab: TokenIDs = [:]
        vocab.reserveCapacity(members.count)
        for (token, value) in members { vocab[Array(token.utf8)] = try value.int() }
        return vocab
    }

    // MARK: - WordPiece

    private static func wordPiece(_ root: JSONField, model: JSONField, added: [AddedToken], settings: FolderSettings,
                                  path: String) throws -> WordPieceTokenizer {
        let vocab = try vocabulary(try model.required("vocab"))
        let vocabulary = try Vocabulary(model: vocab, added: added, source: path)
        let prefix = try model.string("continuing_subword_prefix") ?? "##"
        let wordPiece = try WordPieceModel(vocabulary: vocab, unkToken: try model.string("unk_token") ?? "[UNK]", prefix: prefix,
                                           maxInputCharsPerWord: try model.int("max_input_chars_per_word") ?? 100, source: path)

        var normalizer: BertNormalizer? = nil
        if let (type, field) = try component(root, "normalizer") {
            guard type == "BertNormalizer" else { throw try unsupported(field, type, supported: ["BertNormalizer"]) }
            // What tokenizer_config.json says wins, as BertTokenizerFast rewrites the normalizer to it.
            let lowercase = try settings.lowercase ?? field.bool("lowercase", default: true)
            let stripAccents = try settings.stripAccents ?? field.member("strip_accents")?.bool()
            normalizer = BertNormalizer(cleanText: try field.bool("clean_text", default: true),
                                        handleChineseChars: try settings.handleChineseChars
                                            ?? field.bool("handle_chinese_chars", default: true),
                                        stripAccents: stripAccents ?? lowercase, lowercase: lowercase)
        }
        var splitsWords = false
        if let (type, field) = try component(root, "pre_tokenizer") {
            guard type == "BertPreTokenizer" else { throw try unsupported(field, type, supported: ["BertPreTokenizer"]) }
            splitsWords = true
        }
        let frame = try postProcessor(root, vocabulary: vocabulary, allowByteLevel: false)
        var decoder: WordPieceDecoder? = nil
        if let (type, field) = try component(root, "decoder") {
            guard type == "WordPiece" else { throw try unsupported(field, type, supported: ["WordPiece"]) }
            decoder = WordPieceDecoder(prefix: try field.string("prefix") ?? "##", cleanup: try field.bool("cleanup", default: true))
        }
        var specials = settings.specialTokens(vocabulary, defaults: ["pad_token": "[PAD]", "unk_token": "[UNK]",
                                                                     "cls_token": "[CLS]", "sep_token": "[SEP]", "mask_token": "[MASK]"])
        specials.unk = specials.unk ?? wordPiece.unkID
        return WordPieceTokenizer(vocabulary: vocabulary, normalizer: normalizer, splitsWords: splitsWords, model: wordPiece,
                                  frame: frame, decoder: decoder, specialTokens: specials, modelMaxLength: settings.modelMaxLength)
    }

    // MARK: - BPE

    private static func bpe(_ root: JSONField, model: JSONField, added: [AddedToken], settings: FolderSettings,
                            path: String) throws -> BPETokenizer {
        let vocab = try vocabulary(try model.required("vocab"))
        let vocabulary = try Vocabulary(model: vocab, added: added, source: path)
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let field = try model.member(key), try !field.string().isEmpty {
                throw field.error("is set; byte-level BPE with a subword prefix or suffix is not supported")
            }
        }
        if let field = try model.member("byte_fallback"), try field.bool() {
            throw field.error("is true; BPE with byte fallback (SentencePiece style) is not supported")
        }
        if let field = try model.member("dropout"), try field.number() > 0 {
            throw field.error("is \(try field.number()); BPE dropout belongs to training and is not supported")
        }
        var merges: [(String, String)] = []
        for entry in try model.required("merges").array() {
            if entry.isString {
                let parts = splitAtSpaces(try entry.string())
                guard parts.count == 2 else { throw entry.error("must be two entries separated by one space") }
                merges.append((parts[0], parts[1]))
            } else {
                let pair = try entry.array()
                guard pair.count == 2 else { throw entry.error("must be a pair of entries") }
                merges.append((try pair[0].string(), try pair[1].string()))
            }
        }
        let bpe = try BPEModel(vocabulary: vocab, merges: merges, mergesSource: "\(path): field 'model.merges'",
                               unkToken: try model.string("unk_token"), fuseUnk: try model.bool("fuse_unk", default: false),
                               ignoreMerges: try model.bool("ignore_merges", default: false))

        if let (type, field) = try component(root, "normalizer") {
            throw try unsupported(field, type, supported: [])
        }
        guard let (preType, preField) = try component(root, "pre_tokenizer") else {
            throw JSONField(value: .null, path: "pre_tokenizer", file: path)
                .error("is missing; byte-level BPE needs the ByteLevel pre-tokenizer")
        }
        var byteLevel = preField
        if preType == "Sequence" {
            let steps = try preField.required("pretokenizers").array()
            guard steps.count == 1, try steps[0].required("type").string() == "ByteLevel" else {
                throw preField.error("is a Sequence of other pre-tokenizers than one ByteLevel, which is not supported")
            }
            byteLevel = steps[0]
        } else if preType != "ByteLevel" {
            throw try unsupported(preField, preType, supported: ["ByteLevel"])
        }
        let frame = try postProcessor(root, vocabulary: vocabulary, allowByteLevel: true)
        var byteLevelDecoder = false
        if let (type, field) = try component(root, "decoder") {
            guard type == "ByteLevel" else { throw try unsupported(field, type, supported: ["ByteLevel"]) }
            byteLevelDecoder = true
        }
        var specials = settings.specialTokens(vocabulary, defaults: ["unk_token": "<|endoftext|>", "bos_token": "<|endoftext|>",
                                                                     "eos_token": "<|endoftext|>"])
        if specials.unk == nil { specials.unk = bpe.unkID }
        // tokenizer_config.json's add_prefix_space wins, as transformers rewrites the pre-tokenizer to it.
        let storedPrefixSpace = try byteLevel.bool("add_prefix_space", default: true)
        return BPETokenizer(vocabulary: vocabulary, model: bpe,
                            addPrefixSpace: settings.addPrefixSpace ?? storedPrefixSpace,
                            useRegex: try byteLevel.bool("use_regex", default: true), frame: frame,
                            byteLevelDecoder: byteLevelDecoder, specialTokens: specials, modelMaxLength: settings.modelMaxLength)
    }

    // MARK: - Post-processors

    /// The special tokens the post-processor puts around one sequence.
    private static func postProcessor(_ root: JSONField, vocabulary: Vocabulary, allowByteLevel: Bool) throws -> SequenceFrame {
        guard let (type, field) = try component(root, "post_processor") else { return .none }
        switch type {
        case "ByteLevel" where allowByteLevel:
            return .none
        case "BertProcessing", "RobertaProcessing":
            // "cls": ["[CLS]", 101], "sep": ["[SEP]", 102]
            func id(_ key: String) throws -> Int {
                let pair = try field.required(key).array()
                guard pair.count == 2 else { throw try field.required(key).error("must be [token, id]") }
                return try pair[1].int()
            }
            return try checked(SequenceFrame(prefix: [try id("cls")], suffix: [try id("sep")]), field, vocabulary)
        case "TemplateProcessing":
            return try checked(try template(field), field, vocabulary)
        default:
            throw try unsupported(field, type, supported: (allowByteLevel ? ["ByteLevel"] : [])
                                  + ["TemplateProcessing", "BertProcessing", "RobertaProcessing"])
        }
    }

    /// `frame` when each of its ids has a vocabulary entry.
    private static func checked(_ frame: SequenceFrame, _ field: JSONField, _ vocabulary: Vocabulary) throws -> SequenceFrame {
        for id in frame.prefix + frame.suffix where vocabulary.token(for: id) == nil {
            throw field.error("adds id \(id), which is not in the vocabulary (ids 0..<\(vocabulary.size))")
        }
        return frame
    }

    /// A `TemplateProcessing`'s `single` template: the special tokens before
    /// and after sequence A, with their ids from `special_tokens`.
    private static func template(_ field: JSONField) throws -> SequenceFrame {
        let specials = try field.member("special_tokens")
        var prefix: [Int] = [], suffix: [Int] = []
        var seenSequence = false
        for piece in try field.required("single").array() {
            if try piece.member("Sequence") != nil {
                seenSequence = true
            } else if let special = try piece.member("SpecialToken") {
                let name = try special.required("id").string()
                guard let entry = try specials?.member(name) else {
                    throw try special.required("id").error("names \(jsonQuoted(name)), which 'special_tokens' does not list")
                }
                let ids = try entry.required("ids").array().map { try $0.int() }
                if seenSequence { suffix += ids } else { prefix += ids }
            } else {
                throw piece.error("must hold a Sequence or a SpecialToken")
            }
        }
        guard seenSequence else { throw try field.required("single").error("has no Sequence") }
        return SequenceFrame(prefix: prefix, suffix: suffix)
    }
}

// MARK: - BPE from vocab.json and merges.txt

extension BPETokenizer {
    /// How `vocab.json` + `merges.txt` are read: GPT-2's defaults, as `tokenizer_config.json` may change them.
    public struct Options: Sendable, Equatable {
        /// Put a space before a text that does not start with one (`add_prefix_space`).
        public var addPrefixSpace = false
        public var unkToken = "<|endoftext|>"
        public var bosToken = "<|endoftext|>"
        public var eosToken = "<|endoftext|>"
        /// GPT-2 has none; `encodeBatch` then pads with the end-of-text token.
        public var padToken: String? = nil
        /// `model_max_length`.
        public var modelMaxLength: Int? = nil

        public init() {}
    }

    /// A tokenizer from GPT-2's files, set up as `GPT2TokenizerFast` sets one
    /// up: GPT-2's pattern, byte-level pieces, no special tokens added around
    /// a text, the role tokens matched in the text.
    public convenience init(vocabFile: String, mergesFile: String, options: Options = Options()) throws {
        let vocab = try TokenizerJSON.vocabulary(try JSONField.read(vocabFile))
        var seen = Set<String>()
        let roles = [options.unkToken, options.bosToken, options.eosToken, options.padToken].compactMap { $0 }
        func id(_ name: String) -> Int? { vocab[Array(name.utf8)] }
        let added = roles.compactMap { name -> AddedToken? in
            guard seen.insert(name).inserted, let id = id(name) else { return nil }
            return AddedToken(content: name, id: id, special: true, singleWord: false, lstrip: false, rstrip: false, normalized: false)
        }
        // Made first: it checks every id before the merges use them.
        let vocabulary = try Vocabulary(model: vocab, added: added, source: vocabFile)
        let merges = try readMergesLines(mergesFile)
        let bpe = try BPEModel(vocabulary: vocab, merges: merges.pairs, mergesSource: mergesFile, unkToken: nil,
                               fuseUnk: false, ignoreMerges: false, lines: merges.lines)
        let specials = SpecialTokens(pad: options.padToken.flatMap(id), unk: id(options.unkToken),
                                     bos: id(options.bosToken), eos: id(options.eosToken))
        self.init(vocabulary: vocabulary, model: bpe, addPrefixSpace: options.addPrefixSpace, useRegex: true, frame: .none,
                  byteLevelDecoder: true, specialTokens: specials, modelMaxLength: options.modelMaxLength)
    }
}

/// The merges of a `merges.txt`, one `left right` pair a line in rank order,
/// with each pair's line number; `#version` lines are skipped.
func readMergesLines(_ path: String) throws -> (pairs: [(String, String)], lines: [Int]) {
    let bytes = try readFileBytes(path, atMost: TokenizerLoader.maxFileBytes)
    guard String(validating: bytes, as: UTF8.self) != nil else {
        throw EngineError(.file, "\(path): is not UTF-8 text")
    }
    var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
    if lines.last?.isEmpty == true { lines.removeLast() }
    var pairs: [(String, String)] = []
    var numbers: [Int] = []
    for (index, raw) in lines.enumerated() {
        var line = raw
        if line.last == 0x0D { line.removeLast() }
        let text = String(decoding: line, as: UTF8.self)
        if text.hasPrefix("#version") { continue }
        let parts = splitAtSpaces(text)
        guard parts.count == 2 else {
            throw EngineError(.file, "\(path): line \(index + 1) must be two entries separated by one space, not \(jsonQuoted(text))")
        }
        pairs.append((parts[0], parts[1]))
        numbers.append(index + 1)
    }
    return (pairs, numbers)
}

/// `text` cut at every space, by scalars (a space followed by a combining
/// mark is one `Character` to Swift, but a separator here as in Hugging Face).
func splitAtSpaces(_ text: String) -> [String] {
    text.unicodeScalars.split(separator: " ", omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)) }
}
