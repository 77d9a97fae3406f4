import NeuroEngine

/// The activations one forward pass recorded, in forward order, looked up by
/// TransformerLens's full names or short forms.
///
/// ```swift
/// let pattern = try cache["blocks.0.attn.hook_pattern"]
/// let resid = try cache.tensor("resid_pre", layer: -1)
/// ```
public struct ActivationCache {
    /// Hook points in the order the forward pass reached them.
    public private(set) var points: [HookPoint] = []
    private var values: [HookPoint: Tensor] = [:]
    /// Resolves names typed by people against the model's hook points.
    public let resolver: HookResolver
    /// The model that made it, for what needs its weights (the heads' results
    /// from `z`, the unembedding of logit attributions), as TransformerLens's
    /// cache keeps its model; nil for a cache made by hand. Its weights are
    /// the model's as they are now: train the model on and they change.
    public let model: (any HookedModel)?

    public init(resolver: HookResolver, model: (any HookedModel)? = nil) {
        self.resolver = resolver
        self.model = model
    }

    mutating func record(_ point: HookPoint, _ value: Tensor) {
        if values[point] == nil { points.append(point) }
        values[point] = value
    }

    /// Number of cached activations.
    public var count: Int { points.count }

    /// The cached activation at a hook point, if it was cached.
    public subscript(point: HookPoint) -> Tensor? { values[point] }

    /// The activation by full name or short form; errors name the closest
    /// cached names when it is unknown or was not cached.
    public subscript(name: String) -> Tensor {
        get throws { try lookup(resolver.point(named: name)) }
    }

    /// The activation by short name and layer (TransformerLens's `cache["pattern", 0]`).
    public func tensor(_ short: String, layer: Int? = nil, layerType: String? = nil) throws -> Tensor {
        try lookup(resolver.point(short: short, layer: layer, layerType: layerType))
    }

    private func lookup(_ point: HookPoint) throws -> Tensor {
        if let value = values[point] { return value }
        let cached = points.prefix(6).map(\.name).joined(separator: ", ")
        throw EngineError(.argument, "'\(point.name)' is a hook of this model but was not cached" + (points.isEmpty ? "" : " (cached: \(cached)\(points.count > 6 ? ", …" : ""))"))
    }
}
