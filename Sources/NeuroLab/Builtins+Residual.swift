import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroModels
import NeuroAnalysis

/// The residual stream of a cached run taken apart, as TransformerLens's
/// `ActivationCache` methods: each is a built-in taking the cache first and
/// a method of the cache (`cache.decompose_resid(layer: 1)`), and each stack
/// comes back with its labels (TransformerLens's `return_labels=True`).
extension Builtins {
    static var residual: [Builtin] { [decomposeResid, accumulatedResid, stackHeadResults, applyLNToStack, logitAttrs] }

    /// The cache argument (the receiver of a method call) and its decomposition.
    static func decomposition(_ args: CallArguments) throws -> (CacheObject, ResidualDecomposition) {
        guard let cache = try args.object(0, "cache", as: CacheObject.self, what: "a cache (from run)") else {
            throw args.error("missing argument 'cache' (a cache from run); or call it as a method: cache.\(args.function)(…)")
        }
        return (cache, try args.engine { try ResidualDecomposition(cache.cache) })
    }

    /// `layer:`: none (the default) or -1 for after the last block, else 0 to n_layers.
    static func residualLayer(_ args: CallArguments) throws -> Int? {
        guard let v = args.value(nil, "layer"), !isNone(v) else { return nil }
        return try args.int(nil, "layer")
    }

    /// `pos:`: none (every position) or one position (negative counts from the end).
    static func residualPosition(_ args: CallArguments, default fallback: Int? = nil) throws -> Int? {
        guard let v = args.value(nil, "pos") else { return fallback }
        if isNone(v) { return nil }
        return try args.int(nil, "pos")
    }

    static func isNone(_ v: Value) -> Bool {
        if case .none = v { return true }
        return false
    }

    static let decomposeResid = Builtin(
        "decompose_resid", "decompose_resid(cache, layer: none, mode: \"all\", apply_ln: false, pos: none, incl_embeds: true, mlp_input: false)",
        "the outputs that add up to the residual stream before block layer (none: after the last), stacked, with their labels (TransformerLens's decompose_resid)",
        parameters: ["cache", "layer", "mode", "apply_ln", "pos", "incl_embeds", "mlp_input"]
    ) { args in
        let (_, d) = try decomposition(args)
        let modeName = try args.string(nil, "mode", default: "all")
        guard let mode = ResidualDecomposition.Mode(rawValue: modeName) else {
            let hint = Suggest.closest(modeName, among: ResidualDecomposition.Mode.allCases.map(\.rawValue)).map { "; did you mean '\($0)'?" } ?? ""
            throw args.error("mode must be \"all\", \"mlp\" or \"attn\", got \"\(modeName)\"\(hint)")
        }
        let r = try args.engine {
            try d.decompose(layer: try residualLayer(args), mlpInput: try args.bool(nil, "mlp_input", default: false), mode: mode,
                            applyLN: try args.bool(nil, "apply_ln", default: false), position: try residualPosition(args),
                            includeEmbeddings: try args.bool(nil, "incl_embeds", default: true))
        }
        return .object(ResidualStackObject(r, made: "decompose_resid"))
    }

    static let accumulatedResid = Builtin(
        "accumulated_resid", "accumulated_resid(cache, layer: none, incl_mid: false, apply_ln: false, pos: none, mlp_input: false)",
        "the residual stream before each block up to layer (none: and after the last), stacked, with labels 0_pre … final_post (TransformerLens's accumulated_resid)",
        parameters: ["cache", "layer", "incl_mid", "apply_ln", "pos", "mlp_input"]
    ) { args in
        let (_, d) = try decomposition(args)
        let r = try args.engine {
            try d.accumulated(layer: try residualLayer(args), includeMid: try args.bool(nil, "incl_mid", default: false),
                              applyLN: try args.bool(nil, "apply_ln", default: false), position: try residualPosition(args),
                              mlpInput: try args.bool(nil, "mlp_input", default: false))
        }
        return .object(ResidualStackObject(r, made: "accumulated_resid"))
    }

    static let stackHeadResults = Builtin(
        "stack_head_results", "stack_head_results(cache, layer: none, apply_ln: false, pos: none, incl_remainder: false)",
        "every head's output (hook_result) in the blocks before layer, stacked, with labels L0H0, L0H1, … (TransformerLens's stack_head_results)",
        parameters: ["cache", "layer", "apply_ln", "pos", "incl_remainder"]
    ) { args in
        let (_, d) = try decomposition(args)
        let r = try args.engine {
            try d.headResults(layer: try residualLayer(args), applyLN: try args.bool(nil, "apply_ln", default: false),
                              position: try residualPosition(args), includeRemainder: try args.bool(nil, "incl_remainder", default: false))
        }
        return .object(ResidualStackObject(r, made: "stack_head_results"))
    }

    /// A stack argument: a residual stack (its position comes with it) or a tensor.
    static func stackArgument(_ args: CallArguments) throws -> (tensor: Tensor, position: Int?, normalized: Bool) {
        let v = try args.required(1, "stack")
        if case .object(let stack as ResidualStackObject) = v {
            return (stack.result.stack, try residualPosition(args, default: stack.result.position), stack.result.normalized)
        }
        guard case .tensor = v else {
            throw args.error("'stack' must be a residual stack (from decompose_resid, accumulated_resid or stack_head_results) or a tensor, got \(v.typeName)")
        }
        return (try args.floats(1, "stack"), try residualPosition(args), false)
    }

    static let applyLNToStack = Builtin(
        "apply_ln_to_stack", "apply_ln_to_stack(cache, stack, layer: none, mlp_input: false, pos: none)",
        "what each row of a residual stack adds to the normalised input of block layer (none: the final layer norm), with the run's cached scale",
        parameters: ["cache", "stack", "layer", "mlp_input", "pos"]
    ) { args in
        let (_, d) = try decomposition(args)
        let (stack, position, normalized) = try stackArgument(args)
        guard !normalized else { throw args.error("this stack already has the layer norm applied (apply_ln: true)") }
        let layer = try residualLayer(args) ?? -1
        return .tensor(try args.engine {
            try d.applyLayerNorm(stack, layer: layer,
                                 mlpInput: try args.bool(nil, "mlp_input", default: false), position: position)
        })
    }

    static let logitAttrs = Builtin(
        "logit_attrs", "logit_attrs(cache, stack, tokens: t, incorrect: none, pos: none)",
        "each component's direct effect on the logit of tokens (minus incorrect's): the stack scaled by the final layer norm, times W_U's column (TransformerLens's logit_attrs)",
        parameters: ["cache", "stack", "tokens", "incorrect", "incorrect_tokens", "pos"]
    ) { args in
        let (_, d) = try decomposition(args)
        let (stack, position, normalized) = try stackArgument(args)
        guard !normalized else {
            throw args.error("this stack already has the layer norm applied (apply_ln: true); logit_attrs applies the final layer norm's scale itself, so make the stack without apply_ln")
        }
        func tokens(_ name: String) throws -> Tensor? {
            guard let v = args.value(name == "tokens" ? 2 : nil, name), !isNone(v) else { return nil }
            do { return try v.asTensor() } catch { throw args.error("'\(name)' must be token ids (a number, a list or a tensor), got \(v.typeName)") }
        }
        guard let answer = try tokens("tokens") else { throw args.error("missing argument 'tokens' (the token ids whose logits to attribute)") }
        if args.value(nil, "incorrect") != nil && args.value(nil, "incorrect_tokens") != nil {
            throw args.error("give 'incorrect' or 'incorrect_tokens', not both")
        }
        let wrong = try tokens("incorrect") ?? tokens("incorrect_tokens")
        return .tensor(try args.engine { try d.logitAttributions(stack, tokens: answer, incorrect: wrong, position: position) })
    }

    // MARK: - Cache methods

    /// `cache.keys()`: the cached hook names, in forward order (as `cache.names`).
    static let cacheKeys = Builtin("keys", "cache.keys()", "the cached hook names, in forward order", parameters: ["cache"]) { args in
        guard let cache = try args.object(0, "cache", as: CacheObject.self, what: "a cache") else { throw args.error("missing the cache") }
        try args.expectAtMost(1)
        return .list(cache.cache.points.map { .string($0.name) })
    }
}

extension CacheObject {
    /// TransformerLens's `ActivationCache` methods, called on the cache.
    static let methods: [Builtin] = Builtins.residual + [Builtins.cacheKeys]
    static var methodNames: [String] { methods.map(\.name) }

    /// `cache.decompose_resid`, `cache.keys`, …: the built-in bound to this cache; nil for other names.
    func method(_ name: String) -> Value? {
        guard let builtin = CacheObject.methods.first(where: { $0.name == name }) else { return nil }
        return .function(Function(name: name, body: .builtin(builtin), receiver: .object(self)))
    }
}

/// A stack of residual-stream parts with their labels, from
/// `decompose_resid`, `accumulated_resid` or `stack_head_results`. Index it
/// by label (`r["0_attn_out"]`) or by number (`r[0]`).
public final class ResidualStackObject: NativeObject, IndexableObject {
    public let result: ResidualStack
    /// The built-in that made it.
    public let made: String

    public init(_ result: ResidualStack, made: String) {
        self.result = result
        self.made = made
    }

    public var typeName: String { "residual_stack" }
    public var fieldNames: [String] { ["stack", "labels", "shape", "pos", "apply_ln"] }

    public func field(_ name: String) throws -> Value? {
        switch name {
        case "stack": return .tensor(result.stack)
        case "labels": return .list(result.labels.map { .string($0) })
        case "shape": return .list(result.stack.shape.map { .number(Double($0)) })
        case "pos": return result.position.map { .number(Double($0)) } ?? Value.none
        case "apply_ln": return .bool(result.normalized)
        default: return nil
        }
    }

    public func index(_ keys: [Value]) throws -> Value {
        guard keys.count == 1 else { throw EngineError(.argument, "a residual stack takes one index: a label like \"\(result.labels.first ?? "embed")\" or a number") }
        switch keys[0] {
        case .string(let label):
            guard let i = result.labels.firstIndex(of: label) else {
                let hint = Suggest.closest(label, among: result.labels).map { "; did you mean '\($0)'?" } ?? ""
                throw EngineError(.argument, "the stack has no component '\(label)'\(hint) (it has \(result.labels.joined(separator: ", ")))")
            }
            return .tensor(try result.stack.select(axis: 0, index: i))
        case .number(let n) where n == n.rounded() && Swift.abs(n) < 1e15:
            return .tensor(try result.stack.select(axis: 0, index: Int(n)))
        default:
            throw EngineError(.argument, "a residual stack is indexed by a label like \"\(result.labels.first ?? "embed")\" or a whole number")
        }
    }

    public var summary: String {
        let shown = result.labels.count > 8 ? result.labels.prefix(8).joined(separator: ", ") + ", … (\(result.labels.count))" : result.labels.joined(separator: ", ")
        var text = "residual stack \(formatShape(result.stack.shape)) from \(made): \(shown)"
        if let position = result.position { text += " · pos \(position)" }
        if result.normalized { text += " · layer norm applied" }
        return text
    }
}
