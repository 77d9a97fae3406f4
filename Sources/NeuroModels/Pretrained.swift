import Foundation
import NeuroEngine

/// A pretrained language model loaded from a Hugging Face folder: a
/// `HookedModel` (TransformerLens's hook names and shapes) that also runs
/// with an attention mask, and for BERT with token type ids.
///
/// ```swift
/// let model = try Pretrained.load("models/tiny_bert")
/// let (logits, cache) = try model.run(ids, attentionMask: mask, cache: .all)
/// let post = try cache["blocks.0.mlp.hook_post"]            // [batch, pos, d_mlp]
/// ```
public protocol PretrainedModel: HookedModel {
    /// The Hugging Face `model_type` (`bert`, `gpt2`).
    var modelType: String { get }
    /// Whether the model ends in a language-model head; without one (a bare
    /// encoder such as MiniLM) the logits are the final hidden states [batch, pos, d_model].
    var hasHead: Bool { get }
    /// Runs token ids [batch, pos] (or [pos]) with an optional attention mask
    /// of 0s (padding) and 1s, and optional token type ids (BERT), both of the tokens' shape.
    func forward(_ tokens: Tensor, attentionMask: Tensor?, tokenTypes: Tensor?, hooks: [Hook], cache request: CacheRequest,
                 positions: LogitPositions) throws -> (logits: Tensor, cache: ActivationCache)
}

extension PretrainedModel {
    /// `forward` with a mask (nil: every token is real), no hooks, no cache and every position by default.
    public func run(_ tokens: Tensor, attentionMask: Tensor?, tokenTypes: Tensor? = nil, hooks: [Hook] = [],
                    cache request: CacheRequest = .none, positions: LogitPositions = .all) throws -> (logits: Tensor, cache: ActivationCache) {
        try forward(tokens, attentionMask: attentionMask, tokenTypes: tokenTypes, hooks: hooks, cache: request, positions: positions)
    }

    /// The protocol's forward: no mask, no token types.
    public func forward(_ tokens: Tensor, hooks: [Hook], cache request: CacheRequest,
                        positions: LogitPositions) throws -> (logits: Tensor, cache: ActivationCache) {
        try forward(tokens, attentionMask: nil, tokenTypes: nil, hooks: hooks, cache: request, positions: positions)
    }

    /// Tokens, mask and types checked and as [batch, pos].
    func checkInputs(_ tokens: Tensor, _ mask: Tensor?, _ types: Tensor?, typeCount: Int) throws
        -> (tokens: Tensor, mask: AttentionMask?, types: Tensor?) {
        let batch = try checkedTokens(tokens, vocabulary: config.dVocab, context: config.nCtx)
        func asBatch(_ t: Tensor) throws -> Tensor { t.rank == 1 && tokens.rank == 1 ? try t.unsqueezed(0) : t }
        let mask = try mask.map { try AttentionMask(asBatch($0), tokens: batch.shape) }
        var checkedTypes: Tensor? = nil
        if let types {
            let t = try asBatch(types)
            guard t.shape == batch.shape, !t.dtype.isFloatingPoint else {
                throw EngineError(.shape, "token type ids must be integers of the tokens' shape \(formatShape(batch.shape)), got \(t.dtype.shortName) \(formatShape(t.shape))")
            }
            if let bad = t.toInts().first(where: { $0 < 0 || $0 >= typeCount }) {
                throw EngineError(.index, "token type id \(bad) is outside 0..<\(typeCount) (the model's type_vocab_size)")
            }
            checkedTypes = t
        }
        return (batch, mask, checkedTypes)
    }
}

/// Options for loading a pretrained model.
public struct PretrainedOptions: Sendable {
    /// GPT-2 only: apply TransformerLens's `from_pretrained` weight processing
    /// (fold LayerNorm, centre writing weights, centre unembed, fold value
    /// biases), so logits and activations match a TransformerLens user's.
    /// Off by default: the model then computes what Hugging Face computes.
    public var processWeights: Bool

    public init(processWeights: Bool = false) {
        self.processWeights = processWeights
    }
}

/// Loads Hugging Face model folders (`config.json` + `model.safetensors`).
public enum Pretrained {
    /// The `model_type`s that load.
    public static let supportedTypes = ["bert", "gpt2"]

    /// The model in `folder`, its architecture chosen by `model_type` in
    /// `config.json`. Errors name the folder, the file, and the field or
    /// tensor that is missing, unsupported or misshapen.
    public static func load(_ folder: String, options: PretrainedOptions = PretrainedOptions()) throws -> any PretrainedModel {
        let config = try HFConfig(folder: folder)
        let type = try config.string("model_type")
        switch type {
        case "bert": return try HookedBERT(config: config, weights: HFWeights(folder: folder))
        case "gpt2": return try HookedGPT2(config: config, weights: HFWeights(folder: folder), options: options)
        default:
            let hint = Suggest.closest(type, among: supportedTypes).map { "; did you mean '\($0)'?" } ?? ""
            throw EngineError(.argument, "\(config.path): model_type '\(type)' is not supported (supported: \(supportedTypes.joined(separator: ", ")))\(hint)")
        }
    }
}

/// A Hugging Face `config.json`, read with errors that name the file and field.
struct HFConfig {
    let path: String
    let fields: [String: Any]

    init(folder: String) throws {
        path = (folder as NSString).appendingPathComponent("config.json")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw EngineError(.file, "\(folder): not a model folder (no such directory)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EngineError(.file, "\(folder): no config.json in the folder; a Hugging Face model folder has config.json and model.safetensors")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let dict = object as? [String: Any] else {
            throw EngineError(.file, "\(path): not a JSON object")
        }
        fields = dict
    }

    func string(_ key: String) throws -> String {
        guard let value = fields[key] else { throw EngineError(.file, "\(path): missing field '\(key)'") }
        guard let text = value as? String else { throw EngineError(.file, "\(path): field '\(key)' must be a string") }
        return text
    }

    func string(_ key: String, default value: String) throws -> String {
        guard let raw = fields[key], !(raw is NSNull) else { return value }
        return try string(key)
    }

    func int(_ key: String) throws -> Int {
        guard let value = fields[key], !(value is NSNull) else { throw EngineError(.file, "\(path): missing field '\(key)'") }
        guard let number = value as? NSNumber, !(value is Bool), let exact = Int(exactly: number.doubleValue), exact >= 0 else {
            throw EngineError(.file, "\(path): field '\(key)' must be a non-negative integer, got \(value)")
        }
        return exact
    }

    func int(_ key: String, default value: Int) throws -> Int {
        guard let raw = fields[key], !(raw is NSNull) else { return value }
        return try int(key)
    }

    func double(_ key: String, default value: Double) throws -> Double {
        guard let raw = fields[key], !(raw is NSNull) else { return value }
        guard let number = raw as? NSNumber, number.doubleValue.isFinite else {
            throw EngineError(.file, "\(path): field '\(key)' must be a number, got \(raw)")
        }
        return number.doubleValue
    }

    func bool(_ key: String, default value: Bool) throws -> Bool {
        guard let raw = fields[key], !(raw is NSNull) else { return value }
        guard let flag = raw as? Bool else { throw EngineError(.file, "\(path): field '\(key)' must be true or false") }
        return flag
    }

    /// An activation named as Hugging Face names it.
    func activation(_ key: String, default value: String) throws -> ActivationFunction {
        let name = try string(key, default: value)
        switch name {
        case "gelu": return .gelu
        case "gelu_new", "gelu_pytorch_tanh": return .geluNew
        case "relu": return .relu
        default: throw EngineError(.file, "\(path): field '\(key)': activation '\(name)' is not supported (supported: gelu, gelu_new, relu)")
        }
    }
}

/// The tensors of a Hugging Face folder (`model.safetensors`, or shards
/// listed by `model.safetensors.index.json`), each read at its offset into
/// its own storage, looked up with an optional prefix (`bert.`, `transformer.`)
/// and checked against the shape the architecture needs.
struct HFWeights {
    let label: String
    var tensors: [String: Tensor]
    /// The prefix the names carry in this file ("" or e.g. "bert.").
    var prefix = ""

    init(folder: String) throws {
        let single = (folder as NSString).appendingPathComponent("model.safetensors")
        let index = (folder as NSString).appendingPathComponent("model.safetensors.index.json")
        if FileManager.default.fileExists(atPath: single) {
            label = single
            tensors = try SafeTensors.read(single).tensors
        } else if let data = FileManager.default.contents(atPath: index) {
            label = index
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let map = object["weight_map"] as? [String: String] else {
                throw EngineError(.file, "\(index): not a safetensors index (no 'weight_map' object)")
            }
            tensors = [:]
            for shard in Set(map.values).sorted() {
                guard !shard.contains("/") else { throw EngineError(.file, "\(index): shard '\(shard)' is not a file in the folder") }
                let file = try SafeTensors.read((folder as NSString).appendingPathComponent(shard))
                tensors.merge(file.tensors) { first, _ in first }
            }
        } else {
            let hasBin = FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent("pytorch_model.bin"))
            let detail = hasBin ? "has only pytorch_model.bin; save the model with safe_serialization=True (model.safetensors)"
                                : "no model.safetensors in the folder"
            throw EngineError(.file, "\(folder): \(detail)")
        }
    }

    /// Uses `prefix` when the file's names carry it (`bert.embeddings…`), else none.
    mutating func detectPrefix(_ prefix: String, probe: String) {
        self.prefix = tensors[prefix + probe] != nil ? prefix : ""
    }

    func has(_ name: String) -> Bool { tensors[prefix + name] != nil }

    /// The float32 tensor `name` (after the prefix), which must have `shape`.
    func tensor(_ name: String, _ shape: [Int]) throws -> Tensor {
        let full = prefix + name
        guard let t = tensors[full] else {
            let hint = Suggest.closest(full, among: Array(tensors.keys)).map { "; did you mean '\($0)'?" } ?? ""
            throw EngineError(.file, "\(label): missing tensor '\(full)' \(formatShape(shape))\(hint)")
        }
        guard t.shape == shape else {
            throw EngineError(.file, "\(label): tensor '\(full)' has shape \(formatShape(t.shape)), expected \(formatShape(shape))")
        }
        guard t.dtype.isFloatingPoint else {
            throw EngineError(.file, "\(label): tensor '\(full)' is \(t.dtype.shortName), expected floating point")
        }
        return t.dtype == .float32 ? t : try t.cast(to: .float32)
    }

    /// The tensor `name` without the prefix (a head outside the base model, `cls.…`, `lm_head.…`), if present.
    func unprefixed(_ name: String, _ shape: [Int]) throws -> Tensor? {
        guard tensors[name] != nil else { return nil }
        var plain = self
        plain.prefix = ""
        return try plain.tensor(name, shape)
    }
}
