import NeuroEngine

/// TransformerLens's `LayerNorm` / `LayerNormPre`, or no normalisation at
/// all, with its two hooks: `hook_scale` [batch, pos, 1] and
/// `hook_normalized` [batch, pos, d_model]. Where it sits — before a
/// sub-layer (GPT-2, TransformerLens) or after the residual sum (BERT) — is
/// the `TransformerBlock`'s choice; the block itself only normalises.
///
/// ```swift
/// let ln = LayerNormBlock(module: "ln1", perBlock: true, weight: w, bias: b, eps: 1e-5)
/// ln.hookSites   // [ln1.hook_scale, ln1.hook_normalized]
/// ```
public struct LayerNormBlock {
    /// False for a model without normalisation: the block passes its input on and has no hooks.
    public let isEnabled: Bool
    /// The learned weight and bias [d_model]; nil for LNPre (folded into the next layer).
    public let weight: Tensor?, bias: Tensor?
    public let eps: Double
    public let scaleSite: HookSite, normalizedSite: HookSite

    /// A layer norm at module `module` (`ln1`, `ln_final`, `embed.ln`): with
    /// `weight` and `bias` it is LN, without them LNPre.
    public init(module: String, perBlock: Bool, weight: Tensor?, bias: Tensor?, eps: Double, enabled: Bool = true) {
        (scaleSite, normalizedSite) = HookSite.layerNorm(module, perBlock: perBlock)
        self.isEnabled = enabled
        self.weight = weight
        self.bias = bias
        self.eps = eps
    }

    /// The block a `normalizationType` calls for (none: an identity without hooks).
    init(module: String, perBlock: Bool, _ type: NormalizationType, weight: Tensor?, bias: Tensor?, eps: Double) {
        self.init(module: module, perBlock: perBlock, weight: type == .layerNorm ? weight : nil,
                  bias: type == .layerNorm ? bias : nil, eps: eps, enabled: type != .none)
    }

    /// The hook sites, in forward order.
    public var hookSites: [HookSite] { isEnabled ? [scaleSite, normalizedSite] : [] }

    /// Normalises `x` over its last axis, running the hooks of block `layer`.
    func callAsFunction(_ x: Tensor, layer: Int?, _ f: ForwardPass) throws -> Tensor {
        guard isEnabled else { return x }
        // Nothing reads the scale or the normalized values and no gradient is recorded: one pass per row.
        if !GradMode.isEnabled && !f.needs(HookPoint(scaleSite, layer: layer)) && !f.needs(HookPoint(normalizedSite, layer: layer)) {
            return try x.layerNormalized(weight: weight, bias: bias, eps: eps)
        }
        let centered = try x - x.mean(axes: [-1], keepDims: true)
        let scale = try f.pass(scaleSite, layer, (centered.square().mean(axes: [-1], keepDims: true) + eps).sqrt())
        let normalized = try f.pass(normalizedSite, layer, centered / scale)
        guard let weight, let bias else { return normalized }
        return try normalized * weight + bias
    }

    /// The same without hooks, returning its intermediate values; nil when disabled.
    public func parts(_ x: Tensor) throws -> (scale: Tensor, normalized: Tensor, output: Tensor)? {
        guard isEnabled else { return nil }
        let centered = try x - x.mean(axes: [-1], keepDims: true)
        let scale = try (centered.square().mean(axes: [-1], keepDims: true) + eps).sqrt()
        let normalized = try centered / scale
        guard let weight, let bias else { return (scale, normalized, normalized) }
        return (scale, normalized, try normalized * weight + bias)
    }
}
