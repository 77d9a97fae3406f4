import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroPlots
import NeuroModels
import NeuroAnalysis

/// A model in the language: a hooked transformer plus its training so far.
public final class ModelObject: NativeObject, IndexableObject {
    public let model: HookedTransformer
    /// The trainer of the last `train` on this model (kept so training continues with the same optimizer state).
    public var trainer: Trainer?

    public init(_ model: HookedTransformer, trainer: Trainer? = nil) {
        self.model = model
        self.trainer = trainer
    }

    public var typeName: String { "model" }

    /// TransformerLens's stacked weight properties (`model.W_Q` is [layers, heads, d_model, d_head]).
    static let stacked = ["W_Q", "W_K", "W_V", "W_O", "b_Q", "b_K", "b_V", "b_O", "W_in", "b_in", "W_out", "b_out"]

    public var fieldNames: [String] {
        ["W_E", "W_pos", "W_U", "b_U"] + ModelObject.stacked + ["config", "hooks", "parameters", "history", "W_logit"]
            + ModelPaths.fieldNames + ModelPaths.modules(model)
    }

    public func field(_ name: String) throws -> Value? {
        let c = model.config
        switch name {
        case "W_E": return model.parameter("embed.W_E").map { .tensor($0.detached()) }
        case "W_pos": return model.parameter("pos_embed.W_pos").map { .tensor($0.detached()) }
        case "W_U": return model.parameter("unembed.W_U").map { .tensor($0.detached()) }
        case "b_U": return model.parameter("unembed.b_U").map { .tensor($0.detached()) }
        case _ where ModelObject.stacked.contains(name):
            let module = name.hasPrefix("W_in") || name.hasPrefix("b_in") || name.hasPrefix("W_out") || name.hasPrefix("b_out") ? "mlp" : "attn"
            let layers = (0..<c.nLayers).compactMap { model.parameter("blocks.\($0).\(module).\(name)")?.detached() }
            guard layers.count == c.nLayers else {
                throw EngineError(.argument, "this model has no \(name) (it is attention-only)")
            }
            return .tensor(try Tensor.stack(layers, axis: 0))
        case "W_logit":
            // W_out · W_U of each layer: how each neuron writes to each logit.
            let layers = try (0..<c.nLayers).map { l -> Tensor in
                guard let wOut = model.parameter("blocks.\(l).mlp.W_out"), let wU = model.parameter("unembed.W_U") else {
                    throw EngineError(.argument, "W_logit needs an MLP; this model is attention-only")
                }
                return try GradMode.withNoGrad { try wOut.matmul(wU) }
            }
            return .tensor(c.nLayers == 1 ? layers[0] : try Tensor.stack(layers, axis: 0))
        case "config": return .record(ModelObject.configRecord(c))
        case "hooks": return .list(model.hookPoints.map { .string($0.name) })
        case "parameters": return .record(Record(model.parameters.map { ($0.name, .tensor($0.tensor.detached())) }))
        case "history":
            guard let trainer else { return Value.none }
            return .object(TrainingObject(trainer: trainer, outcome: nil))
        default: return try ModelPaths.field(name, of: model)   // cfg, OV, QK, blocks, embed, …
        }
    }

    /// `model["blocks.0.attn.W_Q"]`: a parameter by its state_dict name.
    public func index(_ keys: [Value]) throws -> Value {
        guard keys.count == 1, case .string(let name) = keys[0] else {
            throw EngineError(.argument, "a model is indexed by a parameter name, like model[\"embed.W_E\"]")
        }
        guard let t = model.parameter(name) else {
            let hint = Suggest.closest(name, among: model.parameters.map(\.name)).map { "; did you mean '\($0)'?" } ?? ""
            throw EngineError(.argument, "no parameter '\(name)'\(hint)")
        }
        return .tensor(t.detached())
    }

    static func configRecord(_ c: TransformerConfig) -> Record {
        Record([("n_layers", .number(Double(c.nLayers))), ("n_heads", .number(Double(c.nHeads))),
                ("d_model", .number(Double(c.dModel))), ("d_head", .number(Double(c.dHead))),
                ("d_mlp", .number(Double(c.dMLP))), ("act_fn", .string(c.actFn.rawValue)),
                ("normalization_type", .string(c.normalizationType.rawValue)), ("d_vocab", .number(Double(c.dVocab))),
                ("d_vocab_out", .number(Double(c.dVocabOut))), ("n_ctx", .number(Double(c.nCtx)))])
    }

    public var summary: String {
        let c = model.config
        var text = "transformer: \(c.nLayers) layer\(c.nLayers == 1 ? "" : "s"), \(c.nHeads) heads, d_model \(c.dModel), "
            + (c.attentionOnly ? "attention only" : "d_mlp \(c.dMLP) \(c.actFn.rawValue)")
            + ", norm \(c.normalizationType.rawValue), vocab \(c.dVocab)→\(c.dVocabOut), n_ctx \(c.nCtx)"
            + " (\(c.parameterCount) parameters)"
        if let trainer, trainer.epoch > 0 { text += ", trained \(trainer.epoch) epochs" }
        return text
    }
}

/// A dataset in the language.
public final class DatasetObject: NativeObject {
    public let dataset: Dataset

    public init(_ dataset: Dataset) {
        self.dataset = dataset
    }

    public var typeName: String { "dataset" }
    public var fieldNames: [String] { ["train", "test", "all", "tokens", "labels", "p", "size", "task"] + dataset.fieldNames }

    public func field(_ name: String) throws -> Value? {
        switch name {
        case "train": return .object(SplitObject(dataset.train))
        case "test": return .object(SplitObject(dataset.test))
        case "all": return .object(SplitObject(dataset.all))
        case "tokens": return .tensor(dataset.tokens)
        case "labels": return .tensor(dataset.labels)
        case "p": return .number(Double(dataset.modulus))
        case "size": return .number(Double(dataset.count))
        case "task": return .string(dataset.task.description)
        default:
            guard let i = dataset.fieldNames.firstIndex(of: name) else { return nil }
            return .tensor(try Tensor(ints: dataset.fieldValues[i], shape: [dataset.count]))
        }
    }

    public var summary: String {
        "dataset \(dataset.task): \(dataset.count) inputs, \(dataset.train.count) train / \(dataset.test.count) test, vocab \(dataset.dVocab)→\(dataset.dVocabOut)"
    }
}

/// The train, test or whole split of a dataset.
public final class SplitObject: NativeObject {
    public let split: DatasetSplit

    public init(_ split: DatasetSplit) {
        self.split = split
    }

    public var typeName: String { "split" }
    public var fieldNames: [String] { ["tokens", "labels", "indices", "size"] }

    public func field(_ name: String) throws -> Value? {
        switch name {
        case "tokens": return .tensor(split.tokens)
        case "labels": return .tensor(split.labels)
        case "indices": return .tensor(try Tensor(ints: split.indices, shape: [split.count]))
        case "size": return .number(Double(split.count))
        default: return nil
        }
    }

    public var summary: String { "\(split.name) split: \(split.count) inputs" }
}

/// The activations of one run, by hook name.
public final class CacheObject: NativeObject, IndexableObject {
    public let cache: ActivationCache

    public init(_ cache: ActivationCache) {
        self.cache = cache
    }

    public var typeName: String { "cache" }
    public var fieldNames: [String] { ["names", "size"] + CacheObject.methodNames }

    public func field(_ name: String) throws -> Value? {
        switch name {
        case "names": return .list(cache.points.map { .string($0.name) })
        case "size": return .number(Double(cache.count))
        default: return method(name)   // decompose_resid, keys, … (Builtins+Residual.swift)
        }
    }

    /// `cache["blocks.0.attn.hook_pattern"]`, `cache["pattern 0"]`, `cache["pattern", 0]`.
    public func index(_ keys: [Value]) throws -> Value {
        switch keys.count {
        case 1:
            guard case .string(let name) = keys[0] else { throw EngineError(.argument, "a cache is indexed by a hook name") }
            return .tensor(try cache.tensor(for: name))
        case 2:
            guard case .string(let name) = keys[0], case .number(let layer) = keys[1], layer == layer.rounded(), Swift.abs(layer) < 1e15 else {
                throw EngineError(.argument, "a cache is indexed like cache[\"pattern\", 0], with a whole-number layer")
            }
            return .tensor(try cache.tensor(name, layer: Int(layer)))
        default:
            throw EngineError(.argument, "a cache takes a hook name, or a short name and a layer")
        }
    }

    public var summary: String {
        let first = cache.points.first.flatMap { cache[$0] }.map { formatShape($0.shape) } ?? "[]"
        return "cache of \(cache.count) activations (batch \(first.dropFirst().prefix { $0 != "," })); index it by hook name"
    }
}

extension ActivationCache {
    /// An activation by full name, TransformerLens short form (`pattern0`) or
    /// the language's short form (`pattern 0`, `mlp_post 0`).
    func tensor(for name: String) throws -> Tensor {
        try self[point: try resolver.point(named: name)]
    }

    subscript(point point: HookPoint) -> Tensor {
        get throws {
            guard let value = self[point] else {
                throw EngineError(.argument, "'\(point.name)' was not cached")
            }
            return value
        }
    }
}

/// A hook site as a statement names it (`mlp_post 0`, `blocks.0.attn.hook_pattern`,
/// `resid_pre (l + 1)`): the name and the layer, kept apart from the parser to
/// the model, which resolves them.
public final class SiteObject: NativeObject {
    public let name: String
    public let layer: Int?

    public init(name: String, layer: Int?) {
        self.name = name
        self.layer = layer
    }

    public var typeName: String { "site" }
    public var fieldNames: [String] { ["name", "layer"] }

    public func field(_ field: String) throws -> Value? {
        switch field {
        case "name": return .string(name)
        case "layer": return layer.map { .number(Double($0)) } ?? Value.none
        default: return nil
        }
    }

    public var summary: String { layer.map { "\(name) \($0)" } ?? name }
}

extension HookResolver {
    /// The hook point a site value names: a site from a statement (name and
    /// layer, typed), or text the user wrote (`"pattern 0"`, `"scale 0 ln1"`,
    /// a full name), which `point(named:)` reads.
    func point(for value: Value, what: String) throws -> HookPoint {
        switch value {
        case .object(let site as SiteObject):
            guard let layer = site.layer else { return try point(named: site.name) }
            return try point(short: site.name, layer: layer)
        case .string(let name): return try point(named: name)
        default: throw EngineError(.argument, "'\(what)' must be a hook name, like \"mlp_post 0\" or \"blocks.0.mlp.hook_post\"; got \(value.typeName)")
        }
    }
}

/// A training run's outcome and curves as they were when it was made: a
/// result kept in the session (and shown in a report) does not change when
/// the model trains on. `model.history` makes a new one of the run so far.
public final class TrainingObject: NativeObject {
    /// The run, for saving it (only while it is still at this epoch).
    public let trainer: Trainer
    public let outcome: TrainingOutcome?
    /// What the output line says beside the numbers (new settings, a fresh optimizer).
    public let note: String?
    /// The run as of this result.
    public let history: TrainingHistory
    public let epoch: Int
    public let checkpointEpochs: [Int]
    public let settings: [(epoch: Int, options: TrainingOptions)]

    init(trainer: Trainer, outcome: TrainingOutcome?, note: String? = nil) {
        self.trainer = trainer
        self.outcome = outcome
        self.note = note
        history = trainer.history
        epoch = trainer.epoch
        checkpointEpochs = trainer.checkpoints.map(\.epoch)
        settings = trainer.settings
    }

    public var typeName: String { "training" }
    public var fieldNames: [String] { ["epochs", "train_loss", "test_loss", "test_acc", "grokked_at", "checkpoints", "settings", "note"] }

    public func field(_ name: String) throws -> Value? {
        let h = history
        func series(_ values: [Double]) throws -> Value { .tensor(try Tensor(float64: values, shape: [values.count])) }
        switch name {
        case "epochs": return .number(Double(epoch))
        case "train_loss": return try series(h.trainLoss)
        case "test_loss": return try series(h.testLoss)
        case "test_acc": return try series(h.testAccuracy)
        case "grokked_at": return h.firstEpoch(testAccuracyAtLeast: 0.99).map { .number(Double($0)) } ?? Value.none
        case "checkpoints": return .list(checkpointEpochs.map { .number(Double($0)) })
        case "note": return note.map { .string($0) } ?? Value.none
        case "settings":
            return .list(settings.map { s in
                .record(Record([("from_epoch", .number(Double(s.epoch))), ("lr", .number(s.options.learningRate)),
                                ("wd", .number(s.options.weightDecay)), ("beta1", .number(s.options.betas.0)),
                                ("beta2", .number(s.options.betas.1)), ("freeze_biases", .bool(s.options.freezeBiases)),
                                ("checkpoint", .number(Double(s.options.checkpointEvery)))]))
            })
        default: return nil
        }
    }

    /// Where the settings changed after the start: epoch and `lr 1e-3` (only what changed).
    public var settingChanges: [(epoch: Int, text: String)] {
        zip(settings, settings.dropFirst()).map { before, after in (after.epoch, TrainingObject.describe(after.options, since: before.options)) }
    }

    /// The options that differ from `old`: `lr 0.001, wd 0.5`.
    static func describe(_ new: TrainingOptions, since old: TrainingOptions) -> String {
        var parts: [String] = []
        if new.learningRate != old.learningRate { parts.append("lr \(Formatter.number(new.learningRate))") }
        if new.weightDecay != old.weightDecay { parts.append("wd \(Formatter.number(new.weightDecay))") }
        if new.betas.0 != old.betas.0 || new.betas.1 != old.betas.1 {
            parts.append("betas (\(Formatter.number(new.betas.0)), \(Formatter.number(new.betas.1)))")
        }
        if new.freezeBiases != old.freezeBiases { parts.append(new.freezeBiases ? "biases frozen" : "biases trained") }
        if new.checkpointEvery != old.checkpointEvery { parts.append("checkpoint every \(new.checkpointEvery)") }
        return parts.joined(separator: ", ")
    }

    public var summary: String {
        let h = history
        guard let last = h.epochs.last else { return outcome?.withoutEpochs ?? "training: no epochs yet" }
        var text = "trained to epoch \(last): train loss \(String(format: "%.3g", h.trainLoss.last ?? .nan)), "
            + "test loss \(String(format: "%.3g", h.testLoss.last ?? .nan)), test acc \(Formatter.percent(h.testAccuracy.last ?? 0))"
        if let grokked = h.firstEpoch(testAccuracyAtLeast: 0.99) { text += "; test acc ≥ 99% from epoch \(grokked)" }
        if let stopNote = outcome?.stopNote { text += " " + stopNote }
        if let note { text += "\n  " + note }
        return text
    }
}

/// `corrupt(a+1)`: a change to a dataset's input fields, kept as an expression.
public final class CorruptionObject: NativeObject {
    /// Field name → the expression giving its new values.
    public let changes: [(field: String, expression: Expr)]
    public let environment: Environment
    public let text: String

    init(changes: [(field: String, expression: Expr)], environment: Environment, text: String) {
        self.changes = changes
        self.environment = environment
        self.text = text
    }

    public var typeName: String { "corruption" }
    public var fieldNames: [String] { [] }
    public func field(_ name: String) throws -> Value? { nil }
    public var summary: String { "corrupt(\(text))" }
}

/// The printed result of `patch`, `ablate` or `hook`.
public final class InterventionObject: NativeObject {
    public let result: InterventionResult
    /// The inputs it measured, as printed: `test split`, `all split of a-b mod 59 · model m2`.
    public let inputs: String

    public init(_ result: InterventionResult, inputs: String) {
        self.result = result
        self.inputs = inputs
    }

    public var typeName: String { "intervention" }
    public var fieldNames: [String] { ["clean", "corrupted", "patched", "value", "effect", "site", "metric", "inputs"] }

    public func field(_ name: String) throws -> Value? {
        switch name {
        case "clean": return .number(result.clean)
        case "corrupted": return result.corrupted.map { .number($0) } ?? Value.none
        case "patched", "value": return .number(result.intervened)
        case "effect": return result.effect.map { .number($0) } ?? Value.none
        case "site": return .string(result.siteName)
        case "metric": return .string(result.metric.name)
        case "inputs": return .string(inputs)
        default: return nil
        }
    }

    public var summary: String {
        let r = result
        func show(_ v: Double) -> String { r.metric.isFraction ? Formatter.percent(v) : String(format: "%.4g", v) }
        let slice = r.slice.isWhole ? "" : " [\(r.slice)]"
        let label = r.metric.label
        switch r.kind {
        case .patch:
            return "\(r.siteName)\(slice) ← \(r.detail): clean \(label) \(show(r.clean))  →  patched \(label) \(show(r.intervened))"
                + "   (corrupted \(show(r.corrupted ?? .nan))) · effect \(r.effect.map(Formatter.percent) ?? NormalizedEffect.undefinedText) · \(inputs)"
        case .ablate, .hook:
            let verb = r.kind == .ablate ? "\(r.detail)-ablated" : "hooked"
            let effect = r.effect ?? 0   // defined whenever there is no corrupted run
            let change = r.metric.isFraction ? "\(String(format: "%.1f", effect * 100)) points" : String(format: "%.4g", effect)
            return "\(r.siteName)\(slice): clean \(label) \(show(r.clean))  →  \(verb) \(label) \(show(r.intervened))   (worse by \(change)) · \(inputs)"
        }
    }
}
