import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroModels
import NeuroAnalysis

/// The clean text(s) interventions measure a pretrained model on, made
/// current by `use m on "text"` (with the answer and wrong tokens a
/// logit difference reads, when given).
public struct TextTarget {
    public let model: LanguageModelObject
    public let texts: [String]
    public let answer: Value?
    public let wrong: Value?
}

/// `patch`, `ablate` and `hook` on text: `use m on "clean"` (or
/// `model: m, on: "clean"`) makes the text current, then
/// `patch z 0 with "corrupted"`, `ablate mlp_post 0 with zero`, `hook … with fn(x) {…}`
/// measure a `TextMetric` (logit_diff, loss or cosine).
extension Builtins {
    static let textInterventionParameters = ["on", "answer", "wrong"]

    /// The text target of an intervention call: `model: m, on: …` given
    /// directly, `on: …` with the current text model, or the current text
    /// target; nil when the call is about the current model and dataset.
    static func textTarget(_ args: CallArguments) throws -> TextTarget? {
        let session = args.interpreter.session
        let named = args.value(nil, "model")
        let onValue = args.value(nil, "on")
        // Token ids for a model trained here: the dataset path takes them (`on: [[1, 2, 7]]`).
        if let onValue, !(named.map { if case .object(is LanguageModelObject) = $0 { return true } else { return false } } ?? false),
           session.model != nil || named != nil, try tokenInput(onValue, args) != nil {
            return nil
        }
        if case .object(let model as LanguageModelObject)? = named {
            if let onValue { return try makeTextTarget(model, onValue, args) }
            if let current = session.textTarget, current.model === model {
                return TextTarget(model: model, texts: current.texts, answer: args.value(nil, "answer") ?? current.answer,
                                  wrong: args.value(nil, "wrong") ?? current.wrong)
            }
            throw args.error("needs the clean text: on: \"…\" (or say 'use MODEL on \"text\"' first)")
        }
        if let onValue {
            guard named == nil, let model = session.textTarget?.model ?? session.languageModel else {
                throw args.error("'on:' gives clean text, which needs a pretrained language model: model: m (load one with m = load(\"path/to/hf-folder\"))")
            }
            return try makeTextTarget(model, onValue, args)
        }
        guard named == nil, args.value(nil, "data") == nil, let current = session.textTarget else { return nil }
        return TextTarget(model: current.model, texts: current.texts, answer: args.value(nil, "answer") ?? current.answer,
                          wrong: args.value(nil, "wrong") ?? current.wrong)
    }

    static func makeTextTarget(_ model: LanguageModelObject, _ input: Value, _ args: CallArguments) throws -> TextTarget {
        TextTarget(model: model, texts: try texts(input, args, what: "on"), answer: args.value(nil, "answer"), wrong: args.value(nil, "wrong"))
    }

    /// A string or a list of strings.
    static func texts(_ input: Value, _ args: CallArguments, what: String) throws -> [String] {
        switch input {
        case .string(let text): return [text]
        case .list(let items) where !items.isEmpty:
            return try items.enumerated().map { index, item in
                guard case .string(let text) = item else { throw args.error("'\(what)' text \(index) must be a string, got \(item.typeName)") }
                return text
            }
        default: throw args.error("'\(what)' must be a text or a non-empty list of texts, got \(input.typeName)")
        }
    }

    /// The token ids of texts as intervention inputs.
    static func textInputs(_ model: LanguageModelObject, _ texts: [String], _ args: CallArguments) throws -> TextInputs {
        try args.engine {
            let batch = try model.batch(texts, warn: args.interpreter.output)
            return try TextInputs(ids: batch.ids, mask: batch.mask, lengths: batch.lengths)
        }
    }

    /// One token given as a text that must encode to exactly one token (or as an id).
    static func singleToken(_ model: LanguageModelObject, _ value: Value, _ name: String, _ args: CallArguments) throws -> Int {
        switch value {
        case .number(let n) where n == n.rounded() && n >= 0 && n < Double(model.model.config.dVocab):
            return Int(n)
        case .string(let text):
            let ids = model.tokenizer.encode(text, addSpecialTokens: false)
            guard ids.count == 1 else {
                let pieces = ids.map { "'\(model.tokenizer.tokenString($0))'" }.joined(separator: ", ")
                throw args.error("'\(name)' must be a single token, but \"\(text)\" is \(ids.count) tokens\(ids.isEmpty ? "" : " (\(pieces))")")
            }
            return ids[0]
        default:
            throw args.error("'\(name)' must be a text of one token (such as \" Mary\") or a token id, got \(value.typeName)")
        }
    }

    /// The metric asked for (`metric:`), or the one that fits the model:
    /// logit_diff with answer and wrong, the answer's loss with an answer
    /// alone, next-token loss for a decoder, cosine for an encoder.
    static func textMetric(_ target: TextTarget, _ args: CallArguments) throws -> TextMetric {
        let model = target.model
        let answer = try target.answer.map { try singleToken(model, $0, "answer", args) }
        let wrong = try target.wrong.map { try singleToken(model, $0, "wrong", args) }
        let fallback: String
        if answer != nil, wrong != nil { fallback = "logit_diff" }
        else if answer != nil { fallback = "loss" }
        else { fallback = model.isDecoder ? "loss" : "cosine" }
        let name = try args.string(nil, "metric", default: fallback)
        let headNeeded = "this \(model.model.modelType) model has no language-model head, so no logits for \(name); use metric: \"cosine\""
        switch name {
        case "logit_diff":
            guard model.model.hasHead else { throw args.error(headNeeded) }
            guard let answer, let wrong else {
                throw args.error("logit_diff needs answer: and wrong:, two single tokens (such as answer: \" Mary\", wrong: \" John\")")
            }
            return .logitDiff(answer: answer, wrong: wrong)
        case "loss":
            guard model.model.hasHead else { throw args.error(headNeeded) }
            if let answer { return .answerLoss(answer: answer) }
            guard model.isDecoder else {
                throw args.error("next-token loss needs a decoder such as GPT-2; for this \(model.model.modelType) model give answer: (the loss of that token at the last position) or use metric: \"cosine\"")
            }
            return .loss
        case "cosine": return .cosine
        default:
            let hint = Suggest.closest(name, among: ["logit_diff", "loss", "cosine"]).map { "; did you mean '\($0)'?" } ?? ""
            throw args.error("unknown metric '\(name)' for text\(hint) (logit_diff, loss or cosine)")
        }
    }

    /// The site and slice of a text intervention.
    static func textSite(_ target: TextTarget, _ args: CallArguments) throws -> ([HookPoint], ActivationSlice) {
        try sitesAndSlice(target.model.model.hooks, args)
    }

    /// `patch(site, with: "corrupted text")` on the text target.
    static func textPatch(_ target: TextTarget, _ args: CallArguments) throws -> Value {
        let (points, slice) = try textSite(target, args)
        let metric = try textMetric(target, args)
        let (corruptedTexts, detail) = try corruption(args.value(1, "with"), target, args)
        let clean = try textInputs(target.model, target.texts, args)
        let corrupted = try textInputs(target.model, corruptedTexts, args)
        let result = try args.engine {
            try Intervention.patch(target.model.model, clean: clean, corrupted: corrupted, at: points, slice: slice, metric: metric,
                                   detail: detail)
        }
        return args.interpreter.adopt(result, on: target)
    }

    /// `ablate(site, with: "zero")` on the text target.
    static func textAblate(_ target: TextTarget, _ args: CallArguments) throws -> Value {
        let (points, slice) = try textSite(target, args)
        let metric = try textMetric(target, args)
        let methodName = try args.string(1, "with", default: "mean")
        guard let method = Intervention.AblationMethod(rawValue: methodName) else {
            throw args.error("unknown ablation '\(methodName)' (zero, mean or resample)")
        }
        let inputs = try textInputs(target.model, target.texts, args)
        let result = try args.engine {
            try Intervention.ablate(target.model.model, inputs: inputs, at: points, method: method, slice: slice, metric: metric,
                                    seed: try args.seed(nil, default: 0))
        }
        return args.interpreter.adopt(result, on: target)
    }

    /// `hook(site, with: fn(x) {…})` on the text target.
    static func textHook(_ target: TextTarget, _ args: CallArguments) throws -> Value {
        let (points, slice) = try textSite(target, args)
        let metric = try textMetric(target, args)
        guard case .function(let function)? = args.value(1, "with") else {
            throw args.error("needs 'with: fn(x) { … }', a function from the activation to its replacement")
        }
        let inputs = try textInputs(target.model, target.texts, args)
        let interpreter = args.interpreter
        let result = try args.engine {
            try Intervention.hook(target.model.model, inputs: inputs, at: points, slice: slice, metric: metric, detail: function.name) { activation in
                let replaced = try interpreter.apply(function, positional: [.tensor(activation)], range: args.range)
                guard case .tensor(let tensor) = replaced else {
                    throw RuntimeError("the hook function must return a tensor, got \(replaced.typeName)", at: args.range)
                }
                return tensor
            }
        }
        return args.interpreter.adopt(result, on: target)
    }

    /// The corrupted texts of `with:` (a text, a list of texts, or
    /// `replace(old, new)` applied to each clean text), and how to print them.
    static func corruption(_ with: Value?, _ target: TextTarget, _ args: CallArguments) throws -> (texts: [String], detail: String) {
        guard let with else {
            throw args.error("needs 'with: \"corrupted text\"' (a text of the clean text's token length) or with: replace(\" Mary\", \" John\")")
        }
        if case .object(let replacement as TextReplacementObject) = with {
            let changed = try target.texts.enumerated().map { index, text in
                guard text.contains(replacement.old) else {
                    let which = target.texts.count == 1 ? "the clean text" : "clean text \(index)"
                    throw args.error("\(replacement.summary): \"\(replacement.old)\" does not occur in \(which)")
                }
                return text.replacingOccurrences(of: replacement.old, with: replacement.new)
            }
            return (changed, replacement.summary)
        }
        let corrupted = try texts(with, args, what: "with")
        guard corrupted.count == target.texts.count else {
            throw args.error("'with' gives \(corrupted.count) corrupted text\(corrupted.count == 1 ? "" : "s") for \(target.texts.count) clean ones")
        }
        return (corrupted, quotedTexts(corrupted))
    }

    static let replaceText = Builtin("replace", "replace(old, new)",
                                     "a corruption of text for patch and sweep: every occurrence of old in the clean text replaced by new (same token length)",
                                     parameters: ["old", "new"]) { args in
        let old = try args.string(0, "old"), new = try args.string(1, "new")
        guard !old.isEmpty else { throw args.error("'old' must not be empty: it is the text to find in the clean text") }
        return .object(TextReplacementObject(old: old, new: new))
    }

    /// Texts as printed in a result: one quoted (long ones shortened), or how many.
    static func quotedTexts(_ texts: [String]) -> String {
        guard texts.count == 1 else { return "\(texts.count) texts" }
        let text = texts[0]
        let shown = text.count > 40 ? String(text.prefix(37)) + "…" : text
        return "\"\(shown)\""
    }
}

extension Interpreter {
    /// A text intervention's result, naming the clean text (and, for cosine, its baseline).
    func adopt(_ result: InterventionResult, on target: TextTarget) -> Value {
        var inputs = "on " + Builtins.quotedTexts(target.texts)
        if result.metric == .text(.cosine) { inputs += " · cosine to the clean run's mean-pooled final state (clean = 1)" }
        let object = InterventionObject(result, inputs: inputs)
        session.results.append(object)
        return .object(object)
    }
}

extension Builtins {
    /// The patching engine of `sweep`, `attribute` and `path_patch` on the
    /// text target: the clean text(s) and `with: "corrupted text"`, all of
    /// one token length.
    static func textPatchingEngine(_ target: TextTarget, _ args: CallArguments) throws -> (engine: ActivationPatching, model: any HookedModel, corruption: String) {
        let model = target.model.model
        let metric = try textMetric(target, args)
        if metric == .cosine, model.hasHead {
            throw args.error("sweeps measure cosine on the logits, which this \(model.modelType) model's head replaces; use logit_diff or loss")
        }
        let (corruptedTexts, detail) = try corruption(args.value(nil, "with"), target, args)
        let clean = try textInputs(target.model, target.texts, args)
        let corrupted = try textInputs(target.model, corruptedTexts, args)
        let directionName = try args.string(nil, "direction", default: PatchDirection.denoise.rawValue)
        guard let direction = PatchDirection(rawValue: directionName) else {
            throw args.error("unknown direction '\(directionName)' (denoise: run corrupted, patch in clean; noise: the reverse)")
        }
        let engine = try args.engine { () -> ActivationPatching in
            try clean.checkSameLength(corrupted, subject: args.function)
            let reference = try Intervention.textReference(model, clean, metric: metric)
            return try ActivationPatching(model, clean: clean.ids, corrupted: corrupted.ids,
                                          metric: PatchingMetric(metric, clean: clean, reference: reference), direction: direction)
        }
        engine.shouldStop = { Interruption.requested }
        return (engine, model, "\(detail) · on \(quotedTexts(target.texts))")
    }
}

/// `replace(old, new)`: the corrupted text is the clean one with `old` replaced by `new`.
public final class TextReplacementObject: NativeObject {
    public let old: String
    public let new: String

    init(old: String, new: String) {
        self.old = old
        self.new = new
    }

    public var typeName: String { "replacement" }
    public var fieldNames: [String] { ["old", "new"] }
    public func field(_ name: String) throws -> Value? {
        switch name {
        case "old": return .string(old)
        case "new": return .string(new)
        default: return nil
        }
    }
    public var summary: String { "replace(\"\(old)\", \"\(new)\")" }
}
