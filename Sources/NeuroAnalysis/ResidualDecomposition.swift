import NeuroEngine
import NeuroModels

/// Parts of the residual stream stacked on a first axis, with TransformerLens's
/// labels: what `decompose_resid`, `accumulated_resid` and
/// `stack_head_results` return with `return_labels=True`.
public struct ResidualStack {
    /// [components, batch, pos, d_model], or [components, batch, d_model] for one position.
    public let stack: Tensor
    /// One label per component: `embed`, `pos_embed`, `0_attn_out`, `0_mlp_out`,
    /// `0_pre`, `0_mid`, `final_post`, `L0H1`.
    public let labels: [String]
    /// The position taken, when one was (negative counts from the end).
    public let position: Int?
    /// Whether the layer norm's scale was applied (`apply_ln`).
    public let normalized: Bool

    public init(stack: Tensor, labels: [String], position: Int?, normalized: Bool) {
        self.stack = stack
        self.labels = labels
        self.position = position
        self.normalized = normalized
    }
}

/// The residual stream of one cached run taken apart, as TransformerLens's
/// `ActivationCache` does it: the outputs of each component
/// (`decompose_resid`), the stream as it accumulates (`accumulated_resid`),
/// each head's output (`stack_head_results`), the layer norm's scale applied
/// to such a stack (`apply_ln_to_stack`), and each component's direct effect
/// on a logit or logit difference (`logit_attrs`).
///
/// Layers count as TransformerLens counts them: `layer` L means the input
/// of block L, and `n_layers` (or -1) the stream after the last block,
/// before the final layer norm and the unembedding.
///
/// ```swift
/// let (_, cache) = try model.run(tokens, cache: .all)
/// let parts = try ResidualDecomposition(cache).decompose(position: -1)
/// let attrs = try ResidualDecomposition(cache).logitAttributions(parts.stack, tokens: answers, position: -1)
/// ```
public struct ResidualDecomposition {
    public let model: any HookedModel
    public let cache: ActivationCache

    /// The decomposition of `cache`, with the model that made it. A model that
    /// normalises its residual stream inside each block (BERT) is refused:
    /// its parts do not add up to its stream.
    public init(_ cache: ActivationCache, model: (any HookedModel)? = nil) throws {
        guard let model = model ?? cache.model else {
            throw EngineError(.argument, "this cache does not know the model that made it; decomposing it needs the model's weights")
        }
        guard !model.hookPoints.contains(where: { $0.site == .normalizedResidPost }) else {
            throw EngineError(.argument, "this model normalises the residual stream inside each block (post-LayerNorm, as BERT), "
                              + "so its components do not add up to the stream; decompose a pre-LayerNorm model (GPT-2, a transformer)")
        }
        self.model = model
        self.cache = cache
    }

    public enum Mode: String, CaseIterable, Sendable { case all, mlp, attn }

    var config: TransformerConfig { model.config }

    // MARK: - Stacks

    /// The outputs that add up to the input of block `layer` (TransformerLens's
    /// `decompose_resid`): `embed`, `pos_embed`, then `L_attn_out` and
    /// `L_mlp_out` of each earlier block (`mode` keeps only one kind), and with
    /// `mlpInput` the attention output of block `layer` itself. Biases are
    /// inside the outputs, so the stack sums to the cached `resid_pre`.
    public func decompose(layer: Int? = nil, mlpInput: Bool = false, mode: Mode = .all, applyLN: Bool = false,
                          position: Int? = nil, includeEmbeddings: Bool = true) throws -> ResidualStack {
        let op = "decompose_resid"
        let l = try resolvedLayer(layer, op)
        let includeMLP = mode != .attn && !config.attentionOnly
        var parts: [(String, HookPoint)] = []
        if includeEmbeddings { parts += [("embed", HookPoint(.embed)), ("pos_embed", HookPoint(.posEmbed))] }
        for block in 0..<l {
            if mode != .mlp { parts.append(("\(block)_attn_out", HookPoint(.attnOut, layer: block))) }
            if includeMLP { parts.append(("\(block)_mlp_out", HookPoint(.mlpOut, layer: block))) }
        }
        if mlpInput && mode != .mlp {
            guard l < config.nLayers else { throw EngineError(.argument, subject: op, "mlp_input needs a layer below n_layers (\(config.nLayers))") }
            parts.append(("\(l)_attn_out", HookPoint(.attnOut, layer: l)))
        }
        guard !parts.isEmpty else {
            throw EngineError(.argument, subject: op, "nothing to stack: layer \(l) without the embeddings has no components")
        }
        var stack = try Tensor.stack(parts.map { try positioned(cached($0.1, op), position, axis: 1, op) }, axis: 0)
        if applyLN { stack = try applyLayerNorm(stack, layer: l, mlpInput: mlpInput, position: position) }
        return ResidualStack(stack: stack, labels: parts.map(\.0), position: position, normalized: applyLN)
    }

    /// The stream as it accumulates (TransformerLens's `accumulated_resid`):
    /// `L_pre` of each block up to `layer` (with `includeMid`, `L_mid` after
    /// each earlier one), and `final_post` when `layer` is n_layers. With
    /// `applyLN` at n_layers each row goes through the final layer norm with
    /// its own statistics (the logit lens); at an earlier layer, block
    /// `layer`'s cached scale is used.
    public func accumulated(layer: Int? = nil, includeMid: Bool = false, applyLN: Bool = false,
                            position: Int? = nil, mlpInput: Bool = false) throws -> ResidualStack {
        let op = "accumulated_resid"
        let l = try resolvedLayer(layer, op)
        if (includeMid || mlpInput) && config.attentionOnly {
            throw EngineError(.argument, subject: op, "this model is attention-only: it has no resid_mid")
        }
        var parts: [(String, HookPoint)] = []
        for block in 0...l {
            if block == config.nLayers {
                parts.append(("final_post", HookPoint(.residPost, layer: config.nLayers - 1)))
                continue
            }
            parts.append(("\(block)_pre", HookPoint(.residPre, layer: block)))
            if (includeMid && block < l) || (mlpInput && block == l) { parts.append(("\(block)_mid", HookPoint(.residMid, layer: block))) }
        }
        var stack = try Tensor.stack(parts.map { try positioned(cached($0.1, op), position, axis: 1, op) }, axis: 0)
        if applyLN {
            stack = try applyLayerNorm(stack, layer: l, mlpInput: mlpInput, position: position, recompute: l == config.nLayers)
        }
        return ResidualStack(stack: stack, labels: parts.map(\.0), position: position, normalized: applyLN)
    }

    /// Every head's output in blocks before `layer` (TransformerLens's
    /// `stack_head_results`), labelled `L0H0`, `L0H1`, …: the cached
    /// `hook_result` where the run kept it, else `z · W_O` from the cached `z`.
    /// With `includeRemainder`, a last row `remainder`: the stream after block
    /// `layer - 1` minus the heads.
    public func headResults(layer: Int? = nil, applyLN: Bool = false, position: Int? = nil,
                            includeRemainder: Bool = false) throws -> ResidualStack {
        let op = "stack_head_results"
        let l = try resolvedLayer(layer, op)
        var labels: [String] = []
        var rows: [Tensor] = []
        for block in 0..<l {
            let result = try positioned(headResult(layer: block, op), position, axis: 1, op)            // [batch, (pos,) head, d_model]
            let headAxis = result.rank - 2
            for h in 0..<config.nHeads {
                rows.append(try result.select(axis: headAxis, index: h))
                labels.append("L\(block)H\(h)")
            }
        }
        if includeRemainder {
            guard l > 0 else { throw EngineError(.argument, subject: op, "the remainder needs layer 1 or more") }
            let post = try positioned(cached(HookPoint(.residPost, layer: l - 1), op), position, axis: 1, op)
            let heads = try rows.dropFirst().reduce(rows[0]) { try $0 + $1 }
            rows.append(try post - heads)
            labels.append("remainder")
        }
        var stack: Tensor
        if rows.isEmpty {
            // Layer 0: an empty stack of the embedding's shape, as TransformerLens returns.
            let shape = try positioned(cached(HookPoint(.embed), op), position, axis: 1, op).shape
            stack = try Tensor.zeros([0] + shape)
        } else {
            stack = try Tensor.stack(rows, axis: 0)
        }
        if applyLN && !rows.isEmpty { stack = try applyLayerNorm(stack, layer: l, position: position) }
        return ResidualStack(stack: stack, labels: labels, position: position, normalized: applyLN)
    }

    /// Each head's output in block `layer` [batch, pos, head, d_model]:
    /// cached, or computed from the cached `z` and `W_O` (TransformerLens's
    /// `compute_head_results`).
    public func headResult(layer: Int, _ op: String = "head results") throws -> Tensor {
        if let cachedResult = cache[HookPoint(.result, layer: layer)] { return cachedResult }
        let zPoint = HookPoint(.z, layer: layer)
        guard let z = cache[zPoint] else {
            throw EngineError(.argument, subject: op, "needs '\(zPoint.name)' (or 'blocks.\(layer).attn.hook_result') in the cache; "
                              + "run the model caching it, or caching everything")
        }
        guard let wO = model.parameter("blocks.\(layer).attn.W_O") else {
            throw EngineError(.argument, subject: op, "this model has no blocks.\(layer).attn.W_O")
        }
        let (h, e, d) = (config.nHeads, config.dHead, config.dModel)
        let perHead = try z.permuted([0, 2, 1, 3]).matmul(wO.detached().reshaped([h, e, d]))            // [batch, head, pos, d_model]
        return try perHead.permuted([0, 2, 1, 3])                                                       // [batch, pos, head, d_model]
    }

    // MARK: - Layer norm and logits

    /// What each row of `stack` [components, batch, (pos,) d_model] adds to
    /// the normalised input of block `layer` (ln1, or ln2 with `mlpInput`;
    /// n_layers: the final layer norm), as TransformerLens's
    /// `apply_ln_to_stack`: centred and divided by the run's cached scale, not
    /// recomputed, since the scale is a property of the whole stream. With
    /// `recompute` at n_layers each row is normalised with its own
    /// statistics instead, through the final layer norm with its weight and
    /// bias. A model without normalisation returns the stack as it is.
    public func applyLayerNorm(_ stack: Tensor, layer: Int, mlpInput: Bool = false, position: Int? = nil,
                               recompute: Bool = false) throws -> Tensor {
        guard config.normalizationType != .none else { return stack }
        let op = "apply_ln"
        let l = try resolvedLayer(layer, op)
        if recompute && l == config.nLayers {
            let norm = LayerNormBlock(module: "ln_final", perBlock: false, weight: model.parameter("ln_final.w")?.detached(),
                                      bias: model.parameter("ln_final.b")?.detached(), eps: config.eps)
            return try norm.parts(stack)?.output ?? stack
        }
        let centered = try stack - stack.mean(axes: [-1], keepDims: true)
        let point = l == config.nLayers ? HookPoint(.lnFinalScale)
            : HookPoint(mlpInput ? .ln2Scale : .ln1Scale, layer: l)
        let scale = try positioned(cached(point, op), position, axis: 1, op)                            // [batch, (pos,) 1]
        guard centered.shape.dropFirst().dropLast().elementsEqual(scale.shape.dropLast()) else {
            throw EngineError(.shape, subject: op, "the stack \(formatShape(stack.shape)) does not match the cached scale \(formatShape(scale.shape)) of \(point.name): "
                              + "it must be [components, batch, pos, d_model], or [components, batch, d_model] with the position given")
        }
        return try centered / scale
    }

    /// Each component's direct effect on the logit of `tokens` (minus that of
    /// `incorrect`), as TransformerLens's `logit_attrs`: the stack, scaled by
    /// the final layer norm's cached scale, dotted with the unembedding column
    /// of each token. `tokens` is one token, [batch], or [batch, pos],
    /// matching the stack's batch (and position) axes; the result is the
    /// stack's shape without d_model.
    public func logitAttributions(_ stack: Tensor, tokens: Tensor, incorrect: Tensor? = nil, position: Int? = nil) throws -> Tensor {
        let op = "logit_attrs"
        var directions = try residualDirections(tokens, op)
        if let incorrect {
            guard incorrect.shape == tokens.shape else {
                throw EngineError(.shape, subject: op, "tokens \(formatShape(tokens.shape)) and incorrect tokens \(formatShape(incorrect.shape)) must have the same shape")
            }
            directions = try directions - residualDirections(incorrect, op)
        }
        guard stack.rank >= 2, stack.shape.last == config.dModel else {
            throw EngineError(.shape, subject: op, "the stack must be [components, …, d_model] with d_model \(config.dModel); got \(formatShape(stack.shape))")
        }
        // One token, or one per row of the stack's batch (and position) axes: broadcasting
        // [batch] against [components, batch, pos, d_model] would pair rows with positions.
        let rows = Array(stack.shape.dropFirst().dropLast())
        guard tokens.rank == 0 || tokens.shape == rows else {
            throw EngineError(.shape, subject: op, "tokens \(formatShape(tokens.shape)) do not match the stack \(formatShape(stack.shape)): "
                              + "give one token, or one per \(formatShape(rows)) (the stack's axes between components and d_model)")
        }
        let scaled = try applyLayerNorm(stack.cast(to: .float32), layer: config.nLayers, position: position)
        return try (scaled * directions).sum(axes: [-1])
    }

    /// The unembedding column of each token, [..., d_model] (TransformerLens's `tokens_to_residual_directions`).
    func residualDirections(_ tokens: Tensor, _ op: String) throws -> Tensor {
        guard !tokens.dtype.isFloatingPoint || tokens.toDoubles().allSatisfy({ $0 == $0.rounded() }) else {
            throw EngineError(.dtype, subject: op, "tokens must be whole numbers")
        }
        guard let wU = model.parameter("unembed.W_U") else {
            throw EngineError(.argument, subject: op, "this model has no unembedding (unembed.W_U): it gives no logits to attribute")
        }
        let vocabulary = wU.shape[1]
        let ids = tokens.toDoubles().map { Int($0) }
        if let bad = ids.first(where: { $0 < 0 || $0 >= vocabulary }) {
            throw EngineError(.index, subject: op, "token \(bad) is outside the output vocabulary 0..<\(vocabulary)")
        }
        let index = try Tensor(ints: ids, shape: [ids.count])
        let columns = try wU.detached().transposed().indexSelect(axis: 0, indices: index)                 // [tokens, d_model]
        return try columns.reshaped(tokens.shape + [config.dModel])
    }

    // MARK: - Helpers

    /// TransformerLens's layer argument: nil or -1 mean n_layers; otherwise 0…n_layers.
    func resolvedLayer(_ layer: Int?, _ op: String) throws -> Int {
        guard let layer, layer != -1 else { return config.nLayers }
        guard (0...config.nLayers).contains(layer) else {
            throw EngineError(.index, subject: op, "layer \(layer) is out of range: 0 to \(config.nLayers) (\(config.nLayers) or -1: after the last block)")
        }
        return layer
    }

    /// The cached activation, or an error that says what to cache.
    func cached(_ point: HookPoint, _ op: String) throws -> Tensor {
        if let value = cache[point] { return value }
        throw EngineError(.argument, subject: op, "needs '\(point.name)' in the cache; run the model caching it, or caching everything")
    }

    /// One position of `x` along `axis` (the axis goes), or `x` for none.
    func positioned(_ x: Tensor, _ position: Int?, axis: Int, _ op: String) throws -> Tensor {
        guard let position else { return x }
        let count = x.shape[axis]
        guard position >= -count && position < count else {
            throw EngineError(.index, subject: op, "position \(position) is out of range for \(count) positions")
        }
        return try x.select(axis: axis, index: position)
    }
}
