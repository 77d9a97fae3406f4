import Foundation
import NeuroEngine

/// The activation function of the MLP layers (TransformerLens `act_fn`).
public enum ActivationFunction: String, CaseIterable, Sendable {
    case relu
    /// Exact GELU (`x·Φ(x)`).
    case gelu
    /// The tanh approximation used by GPT-2.
    case geluNew = "gelu_new"
}

/// Where the model normalises (TransformerLens `normalization_type`).
public enum NormalizationType: String, CaseIterable, Sendable {
    /// No normalisation (the grokking models).
    case none
    /// LayerNorm with learned weight and bias.
    case layerNorm = "LN"
    /// LayerNorm without weight and bias (folded into the next layer).
    case layerNormPre = "LNPre"
}

/// The shape of a hooked transformer, with TransformerLens's
/// `HookedTransformerConfig` names and defaults for what NeuroMap supports:
/// learned positional embeddings, causal attention scaled by √d_head.
///
/// ```swift
/// let config = try TransformerConfig(nLayers: 1, nHeads: 4, dModel: 128, dHead: 32, dMLP: 512,
///                                    dVocab: 114, dVocabOut: 113, nCtx: 3)
/// ```
public struct TransformerConfig: Equatable, Sendable {
    public var nLayers: Int
    public var nHeads: Int
    public var dModel: Int
    public var dHead: Int
    /// Width of the MLP; 0 makes an attention-only model.
    public var dMLP: Int
    public var actFn: ActivationFunction
    public var normalizationType: NormalizationType
    public var dVocab: Int
    public var dVocabOut: Int
    public var nCtx: Int
    /// Seed for weight initialisation; nil draws from a fixed default (0).
    public var seed: UInt64?
    /// Standard deviation of the initial weights (TransformerLens: 0.8/√d_model).
    public var initializerRange: Double
    /// LayerNorm epsilon.
    public var eps: Double

    /// Builds and validates a configuration. `dHead` defaults to dModel / nHeads
    /// when that divides evenly (otherwise it must be given: heads of
    /// ⌊dModel / nHeads⌋ would silently leave dimensions out), `dVocabOut` to
    /// `dVocab`, `initializerRange` to 0.8/√dModel.
    public init(nLayers: Int, nHeads: Int, dModel: Int, dHead: Int? = nil, dMLP: Int? = nil,
                actFn: ActivationFunction = .relu, normalizationType: NormalizationType = .layerNorm,
                dVocab: Int, dVocabOut: Int? = nil, nCtx: Int, seed: UInt64? = nil,
                initializerRange: Double? = nil, eps: Double = 1e-5) throws {
        if dHead == nil, nHeads > 0, dModel > 0, dModel % nHeads != 0 {
            throw EngineError(.argument, "config: d_model \(dModel) is not a multiple of n_heads \(nHeads); give d_head "
                              + "(d_model / n_heads rounds down to \(dModel / nHeads), and \(nHeads) heads of \(dModel / nHeads) would cover "
                              + "\(nHeads * (dModel / nHeads)) of the \(dModel) dimensions)")
        }
        self.nLayers = nLayers
        self.nHeads = nHeads
        self.dModel = dModel
        self.dHead = dHead ?? (nHeads > 0 ? dModel / nHeads : 0)
        self.dMLP = dMLP ?? 4 * dModel
        self.actFn = actFn
        self.normalizationType = normalizationType
        self.dVocab = dVocab
        self.dVocabOut = dVocabOut ?? dVocab
        self.nCtx = nCtx
        self.seed = seed
        self.initializerRange = initializerRange ?? 0.8 / Double(dModel).squareRoot()
        self.eps = eps
        try validate()
    }

    /// Whether the blocks have no MLP (`d_mlp` = 0).
    public var attentionOnly: Bool { dMLP == 0 }

    /// Checks every field, naming the first that is out of range.
    public func validate() throws {
        let positive: [(String, Int)] = [("n_layers", nLayers), ("n_heads", nHeads), ("d_model", dModel),
                                         ("d_head", dHead), ("d_vocab", dVocab), ("d_vocab_out", dVocabOut), ("n_ctx", nCtx)]
        for (name, value) in positive where value < 1 {
            throw EngineError(.argument, "config: \(name) must be at least 1, got \(value)")
        }
        guard dMLP >= 0 else { throw EngineError(.argument, "config: d_mlp must be 0 (attention only) or more, got \(dMLP)") }
        let (heads, overflow) = nHeads.multipliedReportingOverflow(by: dHead)
        let sizes: [(String, Int)] = [("n_layers", nLayers), ("d_model", dModel), ("d_mlp", dMLP), ("d_vocab", dVocab),
                                      ("d_vocab_out", dVocabOut), ("n_ctx", nCtx), ("n_heads × d_head", overflow ? Int.max : heads)]
        for (name, value) in sizes where value > 1 << 20 {
            throw EngineError(.argument, "config: \(name) = \(value) is too large")
        }
        guard initializerRange.isFinite, initializerRange >= 0 else {
            throw EngineError(.argument, "config: initializer_range must be a finite non-negative number, got \(initializerRange)")
        }
        guard eps.isFinite, eps > 0 else { throw EngineError(.argument, "config: eps must be positive, got \(eps)") }
    }

    /// Number of trainable numbers in a model of this shape.
    public var parameterCount: Int {
        let ln = normalizationType == .layerNorm ? 2 * dModel : 0
        let attn = 4 * nHeads * dModel * dHead + 3 * nHeads * dHead + dModel
        let mlp = attentionOnly ? 0 : 2 * dModel * dMLP + dMLP + dModel
        let block = attn + mlp + ln * (attentionOnly ? 1 : 2)
        return dVocab * dModel + nCtx * dModel + nLayers * block + ln + dModel * dVocabOut + dVocabOut
    }

    // MARK: - JSON with TransformerLens's field names

    /// The configuration as a JSON object with TransformerLens's keys.
    public var json: String {
        var fields: [(String, String)] = [
            ("n_layers", "\(nLayers)"), ("n_heads", "\(nHeads)"), ("d_model", "\(dModel)"), ("d_head", "\(dHead)"),
            ("d_mlp", "\(dMLP)"), ("act_fn", "\"\(actFn.rawValue)\""),
            ("normalization_type", normalizationType == .none ? "null" : "\"\(normalizationType.rawValue)\""),
            ("d_vocab", "\(dVocab)"), ("d_vocab_out", "\(dVocabOut)"), ("n_ctx", "\(nCtx)"),
            ("initializer_range", "\(initializerRange)"), ("eps", "\(eps)"), ("attn_only", attentionOnly ? "true" : "false"),
            ("positional_embedding_type", "\"standard\""),
        ]
        if let seed { fields.append(("seed", "\(seed)")) }
        return "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
    }

    /// Reads a configuration written by `json` (or TransformerLens's `cfg.to_dict()` subset).
    public init(json text: String) throws {
        guard let data = text.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data), let dict = object as? [String: Any] else {
            throw EngineError(.argument, "config: not a JSON object")
        }
        func int(_ key: String) throws -> Int? {
            guard let value = dict[key], !(value is NSNull) else { return nil }
            guard let number = value as? NSNumber, let exact = Int(exactly: number.doubleValue) else {
                throw EngineError(.argument, "config: '\(key)' must be an integer")
            }
            return exact
        }
        func required(_ key: String) throws -> Int {
            guard let value = try int(key) else { throw EngineError(.argument, "config: missing '\(key)'") }
            return value
        }
        let actName = dict["act_fn"] as? String ?? "relu"
        guard let act = ActivationFunction(rawValue: actName) else {
            throw EngineError(.argument, "config: unsupported act_fn '\(actName)' (supported: relu, gelu, gelu_new)")
        }
        let normName = dict["normalization_type"] as? String ?? "none"
        guard let norm = NormalizationType(rawValue: normName) else {
            throw EngineError(.argument, "config: unsupported normalization_type '\(normName)' (supported: none, LN, LNPre)")
        }
        let attnOnly = dict["attn_only"] as? Bool ?? false
        try self.init(nLayers: required("n_layers"), nHeads: required("n_heads"), dModel: required("d_model"),
                      dHead: int("d_head"), dMLP: attnOnly ? 0 : int("d_mlp"), actFn: act, normalizationType: norm,
                      dVocab: required("d_vocab"), dVocabOut: int("d_vocab_out"), nCtx: required("n_ctx"),
                      seed: try int("seed").map { UInt64(clamping: $0) },
                      initializerRange: (dict["initializer_range"] as? NSNumber)?.doubleValue,
                      eps: (dict["eps"] as? NSNumber)?.doubleValue ?? 1e-5)
    }
}
