import NeuroEngine

/// A model that analyses and interventions can open: its hook points
/// (named and shaped as TransformerLens names them, each knowing its axes),
/// a run that caches any of them and lets hooks read or replace any
/// activation, its weights by name, and its configuration in
/// TransformerLens's terms. Analyzers take this protocol, not one model
/// class; what only some models have (a modular-arithmetic vocabulary, an
/// MLP) they check and name in their errors.
///
/// ```swift
/// func meanPost(_ model: any HookedModel, _ tokens: Tensor) throws -> Tensor {
///     let point = try model.hooks.point(named: "blocks.0.mlp.hook_post")
///     let (_, cache) = try model.run(tokens, cache: .only([point]))
///     return try cache[point]!.mean(axes: [0])
/// }
/// ```
public protocol HookedModel: AnyObject {
    /// Sizes and choices in TransformerLens's names (`n_layers`, `d_model`, …).
    var config: TransformerConfig { get }
    /// Every trainable weight, by its state_dict name.
    var parameters: [NamedParameter] { get }
    /// Every hook point, in forward order.
    var hookPoints: [HookPoint] { get }
    /// Finds hook points by the names people type.
    var hooks: HookResolver { get }
    /// The weight with this state_dict name (`blocks.0.mlp.W_out`), if the model has it.
    func parameter(_ name: String) -> Tensor?
    /// Runs tokens [batch, pos] with `hooks`, keeping what `request` asks for;
    /// logits at every position or only the last.
    func forward(_ tokens: Tensor, hooks: [Hook], cache request: CacheRequest,
                 positions: LogitPositions) throws -> (logits: Tensor, cache: ActivationCache)
}

extension HookedModel {
    /// Whether `point` is a hook of this model: one of `hookPoints`, or one
    /// computed only when asked for (`blocks.L.attn.hook_result`).
    public func hasHook(_ point: HookPoint) -> Bool {
        hookPoints.contains(point) || hooks.onRequest.contains(point)
    }

    /// `forward` with nothing hooked, nothing cached and every position by default.
    public func run(_ tokens: Tensor, hooks: [Hook] = [], cache request: CacheRequest = .none,
                    positions: LogitPositions = .all) throws -> (logits: Tensor, cache: ActivationCache) {
        try forward(tokens, hooks: hooks, cache: request, positions: positions)
    }
}
