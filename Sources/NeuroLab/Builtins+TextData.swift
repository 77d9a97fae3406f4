import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroText

/// `text_data`: text made into rows of tokens for a pretrained model, from
/// a list of strings or a UTF-8 text file, one row per text (or line) or in
/// fixed-length windows.
extension Builtins {
    static let textData = Builtin("text_data", "text_data(model, texts, file: \"corpus.txt\", window: 0, truncate: false)",
                                  "text as token rows for a pretrained model: one row per text (per non-empty line of a file), padded with a mask, or windows of `window` tokens of the whole text",
                                  parameters: ["model", "texts", "file", "window", "truncate"], effects: .files) { args in
        let (model, texts, source) = try textDataSource(args)
        let window = try args.int(nil, "window", default: 0)
        guard window >= 0 else { throw args.error("'window' must be 0 (one row per text) or a number of tokens, got \(window)") }
        let truncate = try args.bool(nil, "truncate", default: false)
        let warn = args.interpreter.output
        if window > 0 {
            if args.value(nil, "truncate") != nil { throw args.error("'truncate' is for one row per text; windows are cut to length already") }
            let batch = try args.engine { try model.windows(texts, window: window) }
            let decoded = try args.engine { try batch.rows.map { try model.tokenizer.decode($0) } }
            return .object(try args.engine {
                try TextDataObject(batch: batch, texts: decoded, origin: "\(source), in windows of \(window)", tokenizer: model.tokenizer)
            })
        }
        let batch = try args.engine { try model.batch(texts, truncate: truncate, warn: warn) }
        return .object(try args.engine {
            try TextDataObject(batch: batch, texts: texts, origin: "\(source), one row per \(args.value(nil, "file") == nil ? "text" : "line")", tokenizer: model.tokenizer)
        })
    }

    /// The model and the texts of a `text_data` call: a list of strings, or
    /// the non-empty lines of a file (`file:`; read whole for windows).
    static func textDataSource(_ args: CallArguments) throws -> (LanguageModelObject, [String], String) {
        let (model, positionalTexts) = try textModelAndInput(args, input: "texts")
        if args.value(nil, "file") != nil {
            guard positionalTexts == nil else { throw args.error("give the texts or a file, not both") }
            let path = try args.path(nil, "file")
            let bytes = try args.engine { try readFileBytes(path) }
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw args.error("'\(path)' is not UTF-8 text")
            }
            let window = try args.int(nil, "window", default: 0)
            let texts = window > 0 ? [text] : text.split(whereSeparator: \.isNewline).map(String.init)
                .filter { !$0.allSatisfy(\.isWhitespace) }
            guard !texts.isEmpty else { throw args.error("'\(path)' has no text") }
            return (model, texts, path)
        }
        guard let given = positionalTexts else { throw args.error("needs texts (a list of strings) or file: \"path.txt\"") }
        switch given {
        case .string(let text): return (model, [text], "1 text")
        case .list(let items):
            guard !items.isEmpty else { throw args.error("the list of texts is empty") }
            let texts = try items.enumerated().map { index, item -> String in
                guard case .string(let text) = item else { throw args.error("text \(index) must be a string, got \(item.typeName)") }
                return text
            }
            return (model, texts, "\(texts.count) texts")
        default:
            throw args.error("'texts' must be a list of strings, got \(given.typeName)")
        }
    }
}
