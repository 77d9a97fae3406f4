import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroText

/// Text made into token rows for one pretrained model: one row per text
/// (padded, with a mask) or fixed-length windows of a concatenated corpus.
/// `run(model, data)` runs every row.
public final class TextDataObject: NativeObject {
    /// Token ids [rows, pos] (int64) and the mask of real tokens [rows, pos] (1) against padding (0).
    public let tokens: Tensor
    public let mask: Tensor
    /// Each row's count of real tokens.
    public let lengths: [Int]
    /// What each row came from: the text itself (per text) or the decoded window.
    public let texts: [String]
    /// Where the text came from and how it was cut, for the summary.
    public let origin: String
    /// The tokenizer that made the rows: the data fits only models that read its ids.
    public let tokenizer: any Tokenizer

    init(batch: TextBatch, texts: [String], origin: String, tokenizer: any Tokenizer) throws {
        tokens = batch.ids
        mask = try batch.mask ?? Tensor(ints: [Int](repeating: 1, count: batch.ids.count), shape: batch.ids.shape)
        lengths = batch.lengths
        self.texts = texts
        self.origin = origin
        self.tokenizer = tokenizer
    }

    public var typeName: String { "text data" }
    public var fieldNames: [String] { ["tokens", "mask", "lengths", "texts", "size"] }

    public func field(_ name: String) throws -> Value? {
        switch name {
        case "tokens": return .tensor(tokens)
        case "mask": return .tensor(mask)
        case "lengths": return .list(lengths.map { .number(Double($0)) })
        case "texts": return .list(texts.map { .string($0) })
        case "size": return .number(Double(lengths.count))
        default: return nil
        }
    }

    public var summary: String {
        let longest = lengths.max() ?? 0
        let shortest = lengths.min() ?? 0
        let span = shortest == longest ? "\(longest) tokens each" : "\(shortest) to \(longest) tokens"
        return "text data · \(lengths.count) row\(lengths.count == 1 ? "" : "s") of \(span) · \(origin)"
    }
}

extension LanguageModelObject {
    /// The corpus `texts` as windows of exactly `window` tokens, as
    /// TransformerLens's `tokenize_and_concatenate` cuts a corpus: the texts
    /// joined by the end-of-text token (or the separator), tokenized as one,
    /// cut into pieces that leave room for the model's frame (`[CLS] … [SEP]`,
    /// or the beginning token of a decoder), each framed; a last piece too
    /// short for a whole window is dropped.
    func windows(_ texts: [String], window: Int) throws -> TextBatch {
        let frame = beginningToken != nil ? 1 : tokenizer.specialTokensPerText
        guard window > frame, window <= model.config.nCtx else {
            throw EngineError(.argument, "window must be more than the \(frame) special token\(frame == 1 ? "" : "s") of each row and at most the model's \(model.config.nCtx) positions; got \(window)")
        }
        let joiner = tokenizer.specialTokens.eos ?? tokenizer.specialTokens.sep
        var ids: [Int] = []
        for (index, text) in texts.enumerated() {
            if index > 0, let joiner { ids.append(joiner) }
            ids += tokenizer.encodeText(text)
        }
        let piece = window - frame
        let count = ids.count / piece
        guard count > 0 else {
            throw EngineError(.argument, "the text has \(ids.count) tokens, fewer than one window of \(piece) (window \(window) less the \(frame) special token\(frame == 1 ? "" : "s"))")
        }
        let rows = (0..<count).map { i -> [Int] in
            let body = Array(ids[(i * piece)..<((i + 1) * piece)])
            return beginningToken.map { [$0] + body } ?? tokenizer.addingSpecialTokens(to: body)
        }
        return TextBatch(ids: try Tensor(ints: rows.flatMap { $0 }, shape: [count, window]), mask: nil,
                         lengths: rows.map(\.count), rows: rows)
    }
}
