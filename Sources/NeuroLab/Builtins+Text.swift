import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroModels
import NeuroText

/// Built-ins for text and pretrained language models: tokens in and out,
/// and greedy generation. `run` and `logits` take text too (see
/// `textRun` and `textLogits`, which they call for a pretrained model).
extension Builtins {
    static var text: [Builtin] { [tokenize, strTokens, decode, generate, textData] }

    static let tokenize = Builtin("tokenize", "tokenize(model, text, prepend_bos: true, truncate: false)",
                                  "a text's token ids as TransformerLens's to_tokens ([CLS]…[SEP] for BERT, after <|endoftext|> for GPT-2); a list of texts gives a padded [batch, pos]",
                                  parameters: ["model", "text", "prepend_bos", "truncate"]) { args in
        let (model, input) = try textModel(args)
        let batch = try textBatch(model, input, args)
        return .tensor(isList(input) ? batch.ids : try batch.ids.reshaped([batch.lengths[0]]))
    }

    static let strTokens = Builtin("str_tokens", "str_tokens(model, text, prepend_bos: true, truncate: false)",
                                   "the tokens of a text (or of token ids) as strings, each id decoded alone (TransformerLens's to_str_tokens)",
                                   parameters: ["model", "text", "prepend_bos", "truncate"]) { args in
        let (model, input) = try textModel(args)
        if case .tensor = input { return .list(try tokenIDs(input, args).map { .string(model.tokenizer.tokenString($0)) }) }
        let batch = try textBatch(model, input, args)
        let rows = batch.rows.map { Value.list($0.map { .string(model.tokenizer.tokenString($0)) }) }
        return isList(input) ? .list(rows) : rows[0]
    }

    static let decode = Builtin("decode", "decode(model, ids)",
                                "the text of token ids (special tokens kept), as Hugging Face's decode",
                                parameters: ["model", "ids"]) { args in
        let (model, input) = try textModel(args, input: "ids")
        return .string(try args.engine { try model.tokenizer.decode(try tokenIDs(input, args)) })
    }

    static let generate = Builtin("generate", "generate(model, prompt, tokens: 20, stop_at_eos: true)",
                                  "greedy continuation of a prompt by a decoder (GPT-2): the prompt and the tokens it chose, as text",
                                  parameters: ["model", "prompt", "tokens", "stop_at_eos"], effects: .training) { args in
        let (model, input) = try textModel(args, input: "prompt")
        guard model.isDecoder, model.model.hasHead else {
            throw args.error("\(model.model.modelType) is not a decoder with a language-model head; generate needs one, such as GPT-2")
        }
        guard case .string(let prompt) = input else { throw args.error("'prompt' must be a string, got \(input.typeName)") }
        let count = try args.int(nil, "tokens", default: 20)
        guard count >= 0 else { throw args.error("'tokens' must be 0 or more, got \(count)") }
        let stopAtEnd = try args.bool(nil, "stop_at_eos", default: true)
        var ids = try args.engine { try model.encode(prompt, warn: args.interpreter.output) }
        let prefix = model.beginningToken == nil ? 0 : 1
        guard ids.count + count <= model.model.config.nCtx else {
            throw args.error("the prompt's \(ids.count) tokens and \(count) more exceed the model's \(model.model.config.nCtx) positions")
        }
        for _ in 0..<count {
            if Interruption.requested { throw EngineError(.interrupted, "interrupted") }
            let next = try args.engine { () -> Int in
                let tokens = try Tensor(ints: ids, shape: [1, ids.count])
                let (logits, _) = try GradMode.withNoGrad { try model.model.run(tokens, attentionMask: nil, positions: .last) }
                return try logits.reshaped([logits.count]).argmax(axis: 0).toInts()[0]
            }
            ids.append(next)
            if stopAtEnd, next == model.tokenizer.specialTokens.eos { break }
        }
        return .string(try args.engine { try model.tokenizer.decode(Array(ids[prefix...])) })
    }

    // MARK: - Text through run and logits

    /// `run(model, text, hooks: {…}, cache: [..])`: a cache of the activations on a text
    /// ([1, pos, …]) or a padded batch of texts ([batch, pos, …]).
    static func textRun(_ model: LanguageModelObject, _ args: CallArguments) throws -> Value {
        let input = try args.required(1, "text")
        let batch = try textBatch(model, input, args)
        let (hooks, request) = try runOptions(model.model.hooks, args)
        let (_, cache) = try args.engine {
            try GradMode.forEvaluation { try model.model.run(batch.ids, attentionMask: batch.mask, hooks: hooks, cache: request) }
        }
        return .object(CacheObject(cache))
    }

    /// `logits(model, text)`: [1, pos, d_vocab] (or [batch, pos, d_vocab] for
    /// a list of texts) from a model with a language-model head.
    static func textLogits(_ model: LanguageModelObject, _ args: CallArguments) throws -> Value {
        guard model.model.hasHead else {
            throw args.error("this \(model.model.modelType) model has no language-model head, so no logits; run(model, text) gives its hidden states")
        }
        let input = try args.required(1, "text")
        let batch = try textBatch(model, input, args)
        let (hooks, _) = try runOptions(model.model.hooks, args)
        let (logits, _) = try args.engine {
            try GradMode.forEvaluation { try model.model.run(batch.ids, attentionMask: batch.mask, hooks: hooks) }
        }
        return .tensor(logits)
    }

    // MARK: - Helpers

    /// Token ids given as a list of whole numbers or an integer tensor of
    /// one row (`[pos]` or `[1, pos]`, as `tokenize` gives them).
    static func tokenIDs(_ input: Value, _ args: CallArguments) throws -> [Int] {
        switch input {
        case .tensor(let t) where !t.dtype.isFloatingPoint && (t.rank <= 1 || (t.rank == 2 && t.shape[0] == 1)):
            return t.toInts()
        case .tensor(let t):
            throw args.error("token ids must be an integer tensor of one row, [pos] or [1, pos]; got \(t.dtype.shortName) \(formatShape(t.shape))")
        case .list(let items):
            return try items.enumerated().map { index, item in
                guard case .number(let n) = item, n == n.rounded(), Swift.abs(n) < 1e15 else {
                    throw args.error("token id \(index) must be a whole number, got \(item.typeName)")
                }
                return Int(n)
            }
        default: throw args.error("token ids must be a list or an integer tensor, got \(input.typeName)")
        }
    }

    /// The pretrained model a text built-in works on and its text argument:
    /// `f(model, text)`, or `f(text)` with the model loaded last.
    static func textModel(_ args: CallArguments, input name: String = "text") throws -> (LanguageModelObject, Value) {
        let (model, input) = try textModelAndInput(args, input: name)
        guard let input else { throw args.error("missing argument '\(name)'") }
        return (model, input)
    }

    /// The pretrained model and the argument after it, which may be absent.
    static func textModelAndInput(_ args: CallArguments, input name: String) throws -> (LanguageModelObject, Value?) {
        if case .object(let model as LanguageModelObject)? = args.value(0, "model") {
            return (model, args.value(1, name))
        }
        if let first = args.value(0, "model"), case .object = first {
            throw args.error("needs a pretrained language model, got a \(first.typeName) trained here; load one with load(\"path/to/hf-folder\")")
        }
        guard let model = args.interpreter.session.languageModel else {
            throw args.error("needs a pretrained language model: load one with m = load(\"path/to/hf-folder\") or load(\"all-minilm-l6-v2\")")
        }
        return (model, args.value(0, name))
    }

    /// The texts of `input` (a string or a list of strings) as one batch.
    static func textBatch(_ model: LanguageModelObject, _ input: Value, _ args: CallArguments) throws -> TextBatch {
        let texts: [String]
        if let batch = try tokenInput(input, args) {
            let width = batch.rank == 2 ? batch.shape[1] : 0, flat = batch.toInts()
            let rows = (0..<(batch.rank == 2 ? batch.shape[0] : 0)).map { Array(flat[($0 * width)..<(($0 + 1) * width)]) }
            return TextBatch(ids: batch, mask: nil, lengths: rows.map(\.count), rows: rows)
        }
        switch input {
        case .object(let data as TextDataObject):
            guard data.tokenizer === model.tokenizer || data.tokenizer.vocabularySize == model.tokenizer.vocabularySize else {
                throw args.error("this text data was made with another model's tokenizer (\(data.tokenizer.vocabularySize) tokens, the model's has \(model.tokenizer.vocabularySize)); make it again with text_data(model, …)")
            }
            let ids = data.tokens.toInts(), width = data.tokens.shape[1]
            let rows = data.lengths.enumerated().map { i, length in Array(ids[(i * width)..<(i * width + length)]) }
            let padded = data.lengths.contains { $0 < width }
            return TextBatch(ids: data.tokens, mask: padded ? data.mask : nil, lengths: data.lengths, rows: rows)
        case .string(let text): texts = [text]
        case .list(let items):
            texts = try items.enumerated().map { index, item in
                guard case .string(let text) = item else { throw args.error("text \(index) must be a string, got \(item.typeName)") }
                return text
            }
        default: throw args.error("'text' must be a string, a list of strings, text data or token ids, got \(input.typeName)")
        }
        let prependBOS = try args.bool(nil, "prepend_bos", default: true)
        let truncate = try args.bool(nil, "truncate", default: false)
        return try args.engine { try model.batch(texts, prependBOS: prependBOS, truncate: truncate, warn: args.interpreter.output) }
    }

    /// Whether a text argument is several texts (a list, or text data): results keep a batch axis.
    static func isList(_ value: Value) -> Bool {
        switch value {
        case .list, .object(is TextDataObject): return true
        default: return false
        }
    }
}
