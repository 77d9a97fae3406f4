import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroModels
import NeuroText

/// A pretrained language model opened from a Hugging Face folder (BERT or
/// GPT-2), with the tokenizer that came with it. `tokenize`, `str_tokens`,
/// `run`, `logits` and `generate` take text through it.
public final class LanguageModelObject: NativeObject {
    public let model: any PretrainedModel
    public let tokenizer: any Tokenizer
    /// The folder it was loaded from.
    public let folder: String
    /// What files and reports call it: the name it was fetched by, else its folder's name.
    public let name: String

    public init(model: any PretrainedModel, tokenizer: any Tokenizer, folder: String, name: String? = nil) {
        self.model = model
        self.tokenizer = tokenizer
        self.folder = folder
        self.name = name ?? URL(fileURLWithPath: folder).standardizedFileURL.lastPathComponent
    }

    /// Opens a Hugging Face folder: the model `config.json` names and the
    /// tokenizer beside it. A tokenizer that cannot give every id the model
    /// reads is refused here, not at the first unlucky token.
    public static func load(folder: String, name: String? = nil, options: PretrainedOptions = PretrainedOptions()) throws -> LanguageModelObject {
        let model = try Pretrained.load(folder, options: options)
        let tokenizer = try TokenizerLoader.load(folder: folder)
        guard tokenizer.vocabularySize <= model.config.dVocab else {
            throw EngineError(.file, subject: folder, "the tokenizer has \(tokenizer.vocabularySize) tokens but the model's embedding only \(model.config.dVocab)")
        }
        return LanguageModelObject(model: model, tokenizer: tokenizer, folder: folder, name: name)
    }

    public var typeName: String { "model" }

    /// Whether the model reads left to right and predicts the next token (GPT-2).
    public var isDecoder: Bool { model.modelType == "gpt2" }

    /// The token TransformerLens puts before a decoder's text (`<|endoftext|>`
    /// for GPT-2); nil for encoders, whose tokenizer frames the text itself.
    var beginningToken: Int? {
        isDecoder && tokenizer.specialTokensPerText == 0 ? (tokenizer.specialTokens.bos ?? tokenizer.specialTokens.eos) : nil
    }

    public var fieldNames: [String] {
        ["config", "hooks", "parameters", "type", "folder", "name", "has_head", "vocab_size"] + ModelPaths.fieldNames + ModelPaths.modules(model)
    }

    public func field(_ name: String) throws -> Value? {
        let c = model.config
        switch name {
        case "config":
            return .record(Record([
                ("model_type", .string(model.modelType)), ("n_layers", .number(Double(c.nLayers))),
                ("d_model", .number(Double(c.dModel))), ("n_heads", .number(Double(c.nHeads))),
                ("d_head", .number(Double(c.dHead))), ("d_mlp", .number(Double(c.dMLP))),
                ("d_vocab", .number(Double(c.dVocab))), ("n_ctx", .number(Double(c.nCtx))),
                ("act_fn", .string(c.actFn.rawValue)),
            ]))
        case "hooks": return .list(model.hookPoints.map { .string($0.name) })
        case "parameters": return .number(Double(model.parameters.reduce(0) { $0 + $1.tensor.count }))
        case "type": return .string(model.modelType)
        case "folder": return .string(folder)
        case "name": return .string(name)
        case "has_head": return .bool(model.hasHead)
        case "vocab_size": return .number(Double(tokenizer.vocabularySize))
        default: return try ModelPaths.field(name, of: model, modelType: model.modelType)   // cfg, OV, QK, blocks, embed, …
        }
    }

    public var summary: String {
        let c = model.config
        let head = model.hasHead ? "with a language-model head" : "no language-model head (an encoder: run gives hidden states)"
        return "\(model.modelType) model from \(folder) · \(c.nLayers) layers, d_model \(c.dModel), \(c.nHeads) heads, "
            + "d_mlp \(c.dMLP), vocab \(c.dVocab), n_ctx \(c.nCtx) · \(head)"
    }
}

/// Token ids of one text or several, ready for a pretrained model:
/// [batch, pos] ids, the attention mask (nil when no row is padded), and
/// each row's real length.
struct TextBatch {
    let ids: Tensor
    let mask: Tensor?
    let lengths: [Int]
    let rows: [[Int]]
}

extension LanguageModelObject {
    /// The ids of `text` as TransformerLens's `to_tokens` gives them: framed
    /// by the tokenizer (`[CLS] … [SEP]`) or, for a decoder, after the
    /// beginning token unless `prependBOS` is false. At most `n_ctx` tokens:
    /// longer text is an error, or is cut with a warning when `truncate`.
    func encode(_ text: String, prependBOS: Bool = true, truncate: Bool = false, naming name: String = "the text",
                warn: (String) -> Void) throws -> [Int] {
        let bos = prependBOS ? beginningToken : nil
        let limit = model.config.nCtx - (bos == nil ? 0 : 1)
        // Cut here and judge the cut ourselves, so messages count what the model reads
        // (the beginning token included) against its n_ctx.
        let encoded = try tokenizer.encode(text, addSpecialTokens: true, maxLength: limit, overflow: .truncate)
        if encoded.truncatedTokens > 0 {
            let total = encoded.ids.count + encoded.truncatedTokens + (bos == nil ? 0 : 1)
            var counted = tokenizer.specialTokensPerText > 0 ? " with its special tokens" : ""
            if let bos { counted = " with the beginning token \(tokenizer.tokenString(bos))" }
            guard truncate else {
                throw EngineError(.argument, "\(name) is \(total) tokens long\(counted), more than the model's \(model.config.nCtx) positions (n_ctx); "
                                  + "shorten it, or pass truncate: true to keep the first \(model.config.nCtx)")
            }
            warn("warning: \(name) is \(total) tokens long\(counted); kept the first \(model.config.nCtx) (the model's n_ctx) "
                 + "and dropped \(encoded.truncatedTokens)")
        }
        let ids = (bos.map { [$0] } ?? []) + encoded.ids
        guard !ids.isEmpty else {
            throw EngineError(.argument, "\(name) is empty and this tokenizer adds no special tokens: there is nothing to run")
        }
        return ids
    }

    /// Several texts as one batch, padded on the right with the pad token
    /// (or end-of-text), with the mask that marks the padding.
    func batch(_ texts: [String], prependBOS: Bool = true, truncate: Bool = false, warn: (String) -> Void) throws -> TextBatch {
        guard !texts.isEmpty else { throw EngineError(.argument, "the list of texts is empty") }
        let rows = try texts.enumerated().map { index, text in
            try encode(text, prependBOS: prependBOS, truncate: truncate, naming: texts.count == 1 ? "the text" : "text \(index)", warn: warn)
        }
        return try batch(rows: rows)
    }

    /// Rows of ids as one batch, padded on the right with the pad token (or
    /// end-of-text), with the mask that marks the padding (nil when none is).
    func batch(rows: [[Int]]) throws -> TextBatch {
        let width = rows.map(\.count).max() ?? 0
        let lengths = rows.map(\.count)
        guard lengths.contains(where: { $0 < width }) else {
            return TextBatch(ids: try Tensor(ints: rows.flatMap { $0 }, shape: [rows.count, width]), mask: nil, lengths: lengths, rows: rows)
        }
        guard let pad = tokenizer.specialTokens.pad ?? tokenizer.specialTokens.eos else {
            throw EngineError(.argument, "texts of different lengths need padding, but this tokenizer has no pad or end-of-text token")
        }
        let padded = rows.flatMap { $0 + [Int](repeating: pad, count: width - $0.count) }
        let mask = rows.flatMap { [Int](repeating: 1, count: $0.count) + [Int](repeating: 0, count: width - $0.count) }
        return TextBatch(ids: try Tensor(ints: padded, shape: [rows.count, width]),
                         mask: try Tensor(ints: mask, shape: [rows.count, width]), lengths: lengths, rows: rows)
    }
}
