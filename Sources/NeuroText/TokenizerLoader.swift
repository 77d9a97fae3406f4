import Foundation
import NeuroEngine

// Finding the tokenizer in a Hugging Face folder, the way `transformers`
// does: `tokenizer.json` when there is one, else the vocabulary files of the
// slow tokenizers (`vocab.txt` for WordPiece, `vocab.json` + `merges.txt` for
// byte-level BPE); `tokenizer_config.json` and `special_tokens_map.json`,
// when present, say which tokens have which role and how long a sequence may be.

/// Reads the tokenizer of a Hugging Face model folder.
///
/// ```swift
/// let tokenizer = try TokenizerLoader.load(folder: "~/.cache/neuromap/models/all-minilm-l6-v2/model")
/// tokenizer is WordPieceTokenizer        // true: tokenizer.json says "WordPiece"
/// ```
public enum TokenizerLoader {
    /// The largest tokenizer file read (the largest real ones are near 20 MB).
    public static let maxFileBytes = 256 << 20

    /// The tokenizer in `folder`: from `tokenizer.json` (WordPiece or BPE, by
    /// its `model.type`), else from `vocab.txt` (WordPiece), else from
    /// `vocab.json` with `merges.txt` (byte-level BPE).
    ///
    /// Throws an `EngineError` naming the folder when none of these is there,
    /// and naming the file and field when one does not parse or asks for
    /// something not supported.
    public static func load(folder: String) throws -> any Tokenizer {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) else {
            throw EngineError(.file, "\(folder): no such folder")
        }
        guard isDirectory.boolValue else {
            throw EngineError(.file, "\(folder): is a file; give the folder that holds tokenizer.json or vocab.txt")
        }
        func file(_ name: String) -> String? {
            let path = (folder as NSString).appendingPathComponent(name)
            return FileManager.default.fileExists(atPath: path) ? path : nil
        }
        let settings = try FolderSettings(config: file("tokenizer_config.json"), specialTokensMap: file("special_tokens_map.json"))
        if let json = file("tokenizer.json") {
            return try TokenizerJSON.load(json, settings: settings)
        }
        if let vocab = file("vocab.txt") {
            return try WordPieceTokenizer(vocabFile: vocab, options: settings.wordPieceOptions)
        }
        if let vocab = file("vocab.json") {
            guard let merges = file("merges.txt") else {
                throw EngineError(.file, "\((folder as NSString).appendingPathComponent("merges.txt")): no such file (vocab.json needs the merges next to it)")
            }
            return try BPETokenizer(vocabFile: vocab, mergesFile: merges, options: settings.bpeOptions)
        }
        throw EngineError(.file, "\(folder): no tokenizer here; expected tokenizer.json, vocab.txt, or vocab.json with merges.txt")
    }
}

/// What `tokenizer_config.json` and `special_tokens_map.json` say: options
/// of the slow tokenizers, the length limit, and the tokens with a role.
struct FolderSettings {
    var lowercase: Bool? = nil
    var stripAccents: Bool? = nil
    var handleChineseChars: Bool? = nil
    var addPrefixSpace: Bool? = nil
    var modelMaxLength: Int? = nil
    /// `"unk_token"` → `"[UNK]"`, and so on.
    var roles: [String: String] = [:]

    static let roleKeys = ["pad_token", "unk_token", "cls_token", "sep_token", "bos_token", "eos_token", "mask_token"]

    init() {}

    /// Reads both files when given; the special tokens map wins over the config, as in `transformers`.
    init(config: String?, specialTokensMap: String?) throws {
        if let config {
            let root = try JSONField.read(config)
            _ = try root.members()
            lowercase = try root.member("do_lower_case")?.bool()
            stripAccents = try root.member("strip_accents")?.bool()
            handleChineseChars = try root.member("tokenize_chinese_chars")?.bool()
            addPrefixSpace = try root.member("add_prefix_space")?.bool()
            if let limit = try root.member("model_max_length") {
                // transformers writes 1e30 for "no limit".
                if try limit.number() < 1e15 { modelMaxLength = try limit.int() }
                if let n = modelMaxLength, n < 1 { throw limit.error("must be at least 1, not \(n)") }
            }
            try readRoles(root)
        }
        if let specialTokensMap {
            let root = try JSONField.read(specialTokensMap)
            _ = try root.members()
            try readRoles(root)
        }
    }

    private mutating func readRoles(_ root: JSONField) throws {
        for key in FolderSettings.roleKeys {
            guard let field = try root.member(key) else { continue }
            // A plain string, or an AddedToken written as an object with its content.
            roles[key] = field.isString ? try field.string() : try field.required("content").string()
        }
    }

    var wordPieceOptions: WordPieceTokenizer.Options {
        var options = WordPieceTokenizer.Options()
        if let lowercase { options.lowercase = lowercase }
        options.stripAccents = stripAccents
        if let handleChineseChars { options.handleChineseChars = handleChineseChars }
        if let name = roles["unk_token"] { options.unkToken = name }
        if let name = roles["cls_token"] { options.clsToken = name }
        if let name = roles["sep_token"] { options.sepToken = name }
        if let name = roles["pad_token"] { options.padToken = name }
        if let name = roles["mask_token"] { options.maskToken = name }
        options.modelMaxLength = modelMaxLength
        return options
    }

    var bpeOptions: BPETokenizer.Options {
        var options = BPETokenizer.Options()
        if let addPrefixSpace { options.addPrefixSpace = addPrefixSpace }
        if let name = roles["unk_token"] { options.unkToken = name }
        if let name = roles["bos_token"] { options.bosToken = name }
        if let name = roles["eos_token"] { options.eosToken = name }
        options.padToken = roles["pad_token"]
        options.modelMaxLength = modelMaxLength
        return options
    }

    /// The ids of the role tokens in `vocabulary`, each role's name from the
    /// settings or else `defaults`.
    func specialTokens(_ vocabulary: Vocabulary, defaults: [String: String]) -> SpecialTokens {
        func id(_ key: String) -> Int? {
            (roles[key] ?? defaults[key]).flatMap { vocabulary.id(for: $0) }
        }
        return SpecialTokens(pad: id("pad_token"), unk: id("unk_token"), cls: id("cls_token"), sep: id("sep_token"),
                             bos: id("bos_token"), eos: id("eos_token"), mask: id("mask_token"))
    }
}
