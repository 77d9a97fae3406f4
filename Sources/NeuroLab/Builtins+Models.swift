import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroPlots
import NeuroModels
import NeuroAnalysis

/// Built-ins for models: making one, making a model and dataset the
/// current ones, and naming its hooks. (`NeuroLab.vocabulary` gathers the
/// workbench's built-ins from `domain`, in this order.)
extension Builtins {
    static var domain: [Builtin] {
        [modular, addition, group, transformer, train, use, accuracy, loss, logits, run, corrupt, patch, ablate, hook, hooks,
         baseline] + modelFiles + text + [replaceText] + workshop
    }

    static let transformer = Builtin(
        "transformer", "transformer(data, layers: 1, heads: 4, d_model: 128, d_mlp: 4·d_model, act: \"relu\", norm: \"none\", seed: 0)",
        "a hooked transformer (TransformerLens layout); vocabulary and context from the dataset (if not given: the current one, else the one made last)",
        parameters: ["data", "layers", "heads", "d_model", "d_head", "d_mlp", "act", "norm", "d_vocab", "d_vocab_out", "n_ctx", "seed"],
        effects: .training
    ) { args in
        let session = args.interpreter.session
        let data = try args.object(0, "data", as: DatasetObject.self, what: "a dataset") ?? session.data ?? session.lastMadeData
        let actName = try args.string(nil, "act", default: "relu")
        guard let act = ActivationFunction(rawValue: actName) else {
            throw args.error("unknown activation '\(actName)' (relu, gelu or gelu_new)")
        }
        let normName = try args.string(nil, "norm", default: "none")
        guard let norm = NormalizationType(rawValue: normName) ?? (normName == "LN" ? .layerNorm : nil) else {
            throw args.error("unknown normalization '\(normName)' (none, LN or LNPre)")
        }
        func size(_ name: String, _ fromData: Int?) throws -> Int {
            if args.value(nil, name) != nil { return try args.int(nil, name) }
            guard let fromData else { throw args.error("needs '\(name)' or a dataset to take it from") }
            return fromData
        }
        let heads = try args.int(nil, "heads", default: 4)
        let dModel = try args.int(nil, "d_model", default: 128)
        let config = try TransformerConfig(
            nLayers: args.int(nil, "layers", default: 1), nHeads: heads, dModel: dModel,
            dHead: args.value(nil, "d_head") == nil ? nil : try args.int(nil, "d_head"),
            dMLP: args.int(nil, "d_mlp", default: 4 * dModel), actFn: act, normalizationType: norm,
            dVocab: size("d_vocab", data?.dataset.dVocab), dVocabOut: size("d_vocab_out", data?.dataset.dVocabOut),
            nCtx: size("n_ctx", data?.dataset.nCtx), seed: try args.seed(nil, default: 0))
        let model = ModelObject(try HookedTransformer(config: config))
        session.madeModels += 1
        return .object(model)
    }

    static let use = Builtin("use", "use(model, on: data) or use(m, on: \"clean text\", answer: \" Mary\", wrong: \" John\")",
                             "make a model and dataset the session's current ones: `use model on data`; with a pretrained model, the clean text(s) interventions measure",
                             parameters: ["on", "data", "answer", "wrong"]) { args in
        let session = args.interpreter.session
        if case .object(let language as LanguageModelObject)? = args.value(0, "model") {
            guard let input = args.value(1, "on") else {
                throw args.error("needs the clean text: use MODEL on \"text\" (or a list of texts)")
            }
            let target = try makeTextTarget(language, input, args)
            // Checked now, so a bad answer token is an error here rather than at the first intervention.
            _ = try target.answer.map { try singleToken(language, $0, "answer", args) }
            _ = try target.wrong.map { try singleToken(language, $0, "wrong", args) }
            _ = try textInputs(language, target.texts, args)
            session.languageModel = language
            session.textTarget = target
            return .none
        }
        if args.value(nil, "answer") != nil || args.value(nil, "wrong") != nil {
            throw args.error("'answer' and 'wrong' go with a pretrained model and text: use m on \"text\" answer \" Mary\" wrong \" John\"")
        }
        let model = try args.object(0, "model", as: ModelObject.self, what: "a model")
        let data = try args.object(1, "on", as: DatasetObject.self, what: "a dataset")
            ?? args.object(nil, "data", as: DatasetObject.self, what: "a dataset")
        if let pairModel = model ?? session.model, let pairData = data ?? session.data { try checkFit(pairModel, pairData, args) }
        if let model { session.model = model }
        if let data { session.data = data }
        return .none
    }

    static let hooks = Builtin("hooks", "hooks(model)", "every hook name of the model, in forward order", parameters: ["model"]) { args in
        if case .object(let model as LanguageModelObject)? = args.value(0, "model") { return .list(model.model.hookPoints.map { .string($0.name) }) }
        let model = try args.object(0, "model", as: ModelObject.self, what: "a model") ?? args.interpreter.session.requireModel("hooks")
        return .list(model.model.hookPoints.map { .string($0.name) })
    }
}
