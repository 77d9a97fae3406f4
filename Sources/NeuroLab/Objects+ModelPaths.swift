import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroModels
import NeuroAnalysis

// TransformerLens's attribute paths on a model: `model.blocks[0].attn.W_Q`,
// `model.embed.W_E`, `model.ln_final.w`, `model.cfg`, `model.OV`. The
// modules are read from the weights' state-dict names, so any hooked model
// (the transformer, GPT-2, BERT) has the paths its weights have.

/// One module of a model by its state-dict path (`blocks`, `blocks.0`,
/// `blocks.0.attn`, `embed`): its fields are the weights and sub-modules
/// under it; `blocks` is indexed by layer. Weights are detached copies.
public final class ModuleObject: NativeObject, IndexableObject {
    public let model: any HookedModel
    public let path: String

    public init(model: any HookedModel, path: String) {
        self.model = model
        self.path = path
    }

    public var typeName: String { "module" }

    /// The names one level below this path, in state-dict order.
    var children: [String] {
        var seen: [String] = []
        for p in model.parameters where p.name.hasPrefix(path + ".") {
            let rest = p.name.dropFirst(path.count + 1)
            let child = String(rest.prefix { $0 != "." })
            if !seen.contains(child) { seen.append(child) }
        }
        return seen
    }

    /// An attention module (`blocks.L.attn`): it has the OV and QK circuits of its heads.
    var isAttention: Bool { path.hasPrefix("blocks.") && path.hasSuffix(".attn") && model.parameter(path + ".W_O") != nil }

    public var fieldNames: [String] {
        path == "blocks" ? [] : children.filter { Int($0) == nil } + (isAttention ? ["OV", "QK"] : [])
    }

    public func field(_ name: String) throws -> Value? {
        if isAttention, name == "OV" || name == "QK" {
            return .object(FactoredMatrixObject(try ModelPaths.circuit(name, model, layers: [layerOfPath], dropLayerAxis: true)))
        }
        guard path != "blocks" else {
            throw EngineError(.argument, "blocks has no field '\(name)'; index it by layer: blocks[0] (then .attn, .mlp, .ln1, .ln2)")
        }
        guard Int(name) == nil else { return nil }
        let full = path + "." + name
        if let t = model.parameter(full) { return .tensor(t.detached()) }
        if children.contains(name) { return .object(ModuleObject(model: model, path: full)) }
        if let missing = ModelPaths.absence(of: name, in: model) { throw EngineError(.argument, "\(path) has no \(name): \(missing)") }
        return nil
    }

    var layerOfPath: Int { Int(path.split(separator: ".").dropFirst().first ?? "") ?? 0 }

    /// `model.blocks[0]`, `model.blocks[-1]`.
    public func index(_ keys: [Value]) throws -> Value {
        guard path == "blocks" else {
            if keys.count == 1, case .string(let name) = keys[0] {
                if let value = try field(name) { return value }
                let hint = Suggest.closest(name, among: fieldNames).map { "; did you mean '\($0)'?" } ?? ""
                throw EngineError(.argument, "\(path) has no '\(name)'\(hint)")
            }
            throw EngineError(.argument, "module \(path) is indexed by a name, like \(path)[\"\(fieldNames.first ?? "w")\"]")
        }
        let n = model.config.nLayers
        guard keys.count == 1, case .number(let x) = keys[0], x == x.rounded(), Swift.abs(x) < 1e15 else {
            throw EngineError(.argument, "blocks is indexed by a layer, like blocks[0]")
        }
        let layer = Int(x) < 0 ? Int(x) + n : Int(x)
        guard (0..<n).contains(layer) else {
            throw EngineError(.index, "layer \(Int(x)) is out of range for a model with \(n) layer\(n == 1 ? "" : "s")")
        }
        return .object(ModuleObject(model: model, path: "blocks.\(layer)"))
    }

    public var summary: String {
        let n = model.config.nLayers
        if path == "blocks" { return "blocks: \(n) transformer block\(n == 1 ? "" : "s"); index them: blocks[0]" }
        let parts = children.map { child -> String in
            if let t = model.parameter(path + "." + child) { return "\(child) \(formatShape(t.shape))" }
            return child
        }
        return "module \(path): " + parts.joined(separator: ", ")
    }
}

/// The paths a model object answers beyond its own fields.
enum ModelPaths {
    /// The top-level modules that may be read as fields (`model.blocks`, `model.embed`, …).
    static func modules(_ model: any HookedModel) -> [String] {
        var seen: [String] = []
        for p in model.parameters {
            let first = String(p.name.prefix { $0 != "." })
            if !seen.contains(first) { seen.append(first) }
        }
        return seen
    }

    static let fieldNames = ["cfg", "OV", "QK"]

    /// `cfg`, `OV`, `QK` and the modules; nil for other names (and an error
    /// for a module the model cannot have, saying why).
    static func field(_ name: String, of model: any HookedModel, modelType: String? = nil) throws -> Value? {
        switch name {
        case "cfg": return .record(configRecord(model.config, modelType: modelType))
        case "OV", "QK": return .object(FactoredMatrixObject(try circuit(name, model, layers: Array(0..<model.config.nLayers))))
        default:
            if modules(model).contains(name) { return .object(ModuleObject(model: model, path: name)) }
            if let missing = absence(of: name, in: model) { throw EngineError(.argument, "this model has no \(name): \(missing)") }
            return nil
        }
    }

    /// Why a module TransformerLens names is absent here, or nil for names it does not know.
    static func absence(of name: String, in model: any HookedModel) -> String? {
        let norm = model.config.normalizationType
        switch name {
        case "ln1", "ln2", "ln_final":
            if norm == .none { return "its normalization_type is none" }
            if norm == .layerNormPre { return "LNPre has no weights (they are folded into the next layer)" }
            return name == "ln2" && model.config.attentionOnly ? "it is attention-only (no MLP, so no ln2)" : "it has no such layer norm"
        case "mlp": return model.config.attentionOnly ? "it is attention-only (d_mlp 0)" : nil
        case "unembed": return "it has no unembedding (no language-model head)"
        default: return nil
        }
    }

    /// The OV (`W_V @ W_O`) or QK (`W_Q @ W_Kᵀ`) circuits of `layers`, [layer, head, d_model, d_model],
    /// as TransformerLens's `model.OV` / `model.QK`; `dropLayerAxis` for one block's
    /// (`blocks[0].attn.OV`, [head, d_model, d_model]). A one-layer model's `model.OV` keeps the axis.
    static func circuit(_ name: String, _ model: any HookedModel, layers: [Int], dropLayerAxis: Bool = false) throws -> FactoredMatrix {
        let (left, right) = name == "OV" ? ("W_V", "W_O") : ("W_Q", "W_K")
        func weight(_ leaf: String, _ layer: Int) throws -> Tensor {
            guard let t = model.parameter("blocks.\(layer).attn.\(leaf)") else {
                throw EngineError(.argument, "this model has no blocks.\(layer).attn.\(leaf)")
            }
            return t.detached()
        }
        let a = try layers.map { try weight(left, $0) }, b = try layers.map { try weight(right, $0) }
        let stackedA = try Tensor.stack(a, axis: 0), stackedB = try Tensor.stack(b, axis: 0)
        let rightFactor = name == "OV" ? stackedB : try stackedB.transposed()
        let matrix = try FactoredMatrix(stackedA, rightFactor)
        return dropLayerAxis ? try matrix.indexed([0]) : matrix
    }

    /// `model.cfg`: the configuration in TransformerLens's `HookedTransformerConfig` names.
    static func configRecord(_ c: TransformerConfig, modelType: String? = nil) -> Record {
        var pairs: [(String, Value)] = [
            ("n_layers", .number(Double(c.nLayers))), ("d_model", .number(Double(c.dModel))), ("n_ctx", .number(Double(c.nCtx))),
            ("d_head", .number(Double(c.dHead))), ("n_heads", .number(Double(c.nHeads))),
            ("d_mlp", c.attentionOnly ? Value.none : .number(Double(c.dMLP))),
            ("act_fn", c.attentionOnly ? Value.none : .string(c.actFn.rawValue)),
            ("d_vocab", .number(Double(c.dVocab))), ("d_vocab_out", .number(Double(c.dVocabOut))),
            ("normalization_type", c.normalizationType == .none ? Value.none : .string(c.normalizationType.rawValue)),
            ("attn_only", .bool(c.attentionOnly)), ("eps", .number(c.eps)),
            ("positional_embedding_type", .string("standard")),
            ("initializer_range", .number(c.initializerRange)),
            ("seed", c.seed.map { .number(Double($0)) } ?? Value.none),
        ]
        if let modelType { pairs.append(("original_architecture", .string(modelType))) }
        return Record(pairs)
    }
}
