import NeuroEngine

/// Reads or replaces an activation: receives the activation and where it is,
/// returns the tensor that flows on (the same one to only read it). The
/// result must have the activation's shape. Gradients flow through it.
public typealias HookFunction = (_ activation: Tensor, _ point: HookPoint) throws -> Tensor

/// A function attached to one hook point for one forward pass.
public struct Hook {
    public let point: HookPoint
    public let function: HookFunction

    public init(_ point: HookPoint, _ function: @escaping HookFunction) {
        self.point = point
        self.function = function
    }
}

/// Which activations a forward pass keeps.
public enum CacheRequest {
    case none
    case all
    case only(Set<HookPoint>)
    /// These activations as a `positions: .last` forward computes them: in
    /// the last block, after attention, only the last position ([batch, 1, …]),
    /// so caching them does not stop that block from being trimmed.
    case atLastPosition(Set<HookPoint>)

    func wants(_ point: HookPoint) -> Bool {
        switch self {
        case .none: return false
        case .all: return true
        case .only(let set), .atLastPosition(let set): return set.contains(point)
        }
    }

    /// Whether caching `point` needs the last block to compute every position.
    func needsAllPositions(_ point: HookPoint) -> Bool {
        if case .atLastPosition = self { return false }
        return wants(point)
    }

    var isEmpty: Bool {
        switch self {
        case .none: return true
        case .all: return false
        case .only(let set), .atLastPosition(let set): return set.isEmpty
        }
    }
}

/// Which positions a forward pass needs logits for.
public enum LogitPositions {
    /// Logits [batch, pos, d_vocab_out] at every position.
    case all
    /// Logits [batch, d_vocab_out] at the last position only. The last block
    /// then computes queries, attention output, MLP and unembedding for that
    /// position alone — exactly the same numbers, less work — unless a hook or
    /// the cache needs that block's other positions.
    case last
}

/// What one forward pass carries: hooks to apply and activations to keep.
final class ForwardPass {
    private let hooks: [HookPoint: [HookFunction]]
    private let request: CacheRequest
    var cache: ActivationCache

    init(hooks: [Hook], request: CacheRequest, resolver: HookResolver) {
        var table: [HookPoint: [HookFunction]] = [:]
        for hook in hooks { table[hook.point, default: []].append(hook.function) }
        self.hooks = table
        self.request = request
        self.cache = ActivationCache(resolver: resolver)
    }

    /// Runs the hooks at `point` on `x` and records the result when asked.
    func pass(_ site: HookSite, _ layer: Int?, _ x: Tensor) throws -> Tensor {
        let point = HookPoint(site, layer: layer)
        var y = x
        if let functions = hooks[point] {
            for function in functions {
                y = try function(y, point)
                guard y.shape == x.shape else {
                    throw EngineError(.shape, "hook on \(point.name) returned shape \(formatShape(y.shape)), but the activation has shape \(formatShape(x.shape)) \(site.dimensions)")
                }
                guard y.dtype.isFloatingPoint else {
                    throw EngineError(.dtype, "hook on \(point.name) returned a \(y.dtype.shortName) tensor; activations are floating point")
                }
            }
        }
        if request.wants(point) { cache.record(point, y) }
        return y
    }

    /// Whether no hook function replaces or reads the activation at any of
    /// `points` (caching may still be asked for).
    func runsNoFunctions(at points: [HookPoint]) -> Bool {
        points.allSatisfy { hooks[$0] == nil }
    }

    /// Whether the cache keeps the activation at `point`.
    func wants(_ point: HookPoint) -> Bool { request.wants(point) }

    /// Stores an activation computed outside `pass` (no hook runs on it).
    func record(_ point: HookPoint, _ value: () throws -> Tensor) rethrows {
        if request.wants(point) { cache.record(point, try value()) }
    }

    /// Whether nothing reads or replaces any activation of block `layer` or after it.
    func leavesUntouched(fromLayer layer: Int, in points: [HookPoint]) -> Bool {
        points.allSatisfy { p in
            let late = p.layer.map { $0 >= layer } ?? (p.site != .embed && p.site != .posEmbed)
            return !late || (hooks[p] == nil && !request.needsAllPositions(p))
        }
    }
}

extension HookedTransformer: HookedModel {
    /// Runs the model on tokens [batch, pos] (or [pos]) with optional hooks,
    /// keeping the activations `cache` asks for (`run` gives the defaults).
    ///
    /// Throws for non-integer tokens, tokens outside `0..<d_vocab`, more
    /// positions than `n_ctx`, or a hook that returns the wrong shape.
    public func forward(_ tokens: Tensor, hooks: [Hook], cache request: CacheRequest,
                        positions: LogitPositions) throws -> (logits: Tensor, cache: ActivationCache) {
        let batch = try checkTokens(tokens)
        let (b, p) = (batch.shape[0], batch.shape[1])
        let f = ForwardPass(hooks: hooks, request: request, resolver: self.hooks)
        let last = config.nLayers - 1
        let trimLast = positions == .last && f.leavesUntouched(fromLayer: last, in: hookPoints)
        var resid: Tensor
        var start = 0
        if let table = try TokenTable(batch), f.runsNoFunctions(at: firstBlockInputs) {
            resid = try firstBlockFromTable(table, f, lastOnly: trimLast && last == 0)
            start = 1
        } else {
            let embed = try f.pass(.embed, nil, embedW.indexSelect(axis: 0, indices: batch))                   // [batch, pos, d_model]
            let pos = try f.pass(.posEmbed, nil, posW.slice(axis: 0, start: 0, end: p).expanded(to: [b, p, config.dModel]))
            resid = try embed + pos
        }
        for l in start..<config.nLayers {
            resid = try block(l, resid, f, lastOnly: trimLast && l == last)
        }
        let x = try f.pass(.unembedIn, nil, normalize(resid, lnFinalW, lnFinalB, .lnFinalScale, .lnFinalNormalized, nil, f))
        var logits = try f.pass(.unembedOut, nil, x.linear(unembedW, bias: unembedB))                        // [batch, pos, d_vocab_out]
        if positions == .last { logits = try logits.select(axis: 1, index: -1) }                         // [batch, d_vocab_out]
        if tokens.rank == 1 { logits = try logits.squeezed(0) }
        return (logits, f.cache)
    }

    /// Logits for tokens, as `model(tokens)` in TransformerLens.
    public func callAsFunction(_ tokens: Tensor) throws -> Tensor {
        try run(tokens).logits
    }

    /// Tokens as [batch, pos] int64, refusing anything the embedding cannot read.
    func checkTokens(_ tokens: Tensor) throws -> Tensor {
        guard !tokens.dtype.isFloatingPoint else {
            throw EngineError(.dtype, "tokens must be integers, got \(tokens.dtype.shortName) of shape \(formatShape(tokens.shape))")
        }
        guard tokens.rank == 1 || tokens.rank == 2 else {
            throw EngineError(.shape, "tokens must be [batch, pos] or [pos], got \(formatShape(tokens.shape))")
        }
        let batch = tokens.rank == 1 ? try tokens.unsqueezed(0) : tokens
        guard batch.shape[1] >= 1, batch.shape[0] >= 1 else {
            throw EngineError(.shape, "tokens \(formatShape(tokens.shape)) are empty")
        }
        guard batch.shape[1] <= config.nCtx else {
            throw EngineError(.shape, "tokens have \(batch.shape[1]) positions but the model's context (n_ctx) is \(config.nCtx)")
        }
        let values = batch.toInts()
        if let bad = values.firstIndex(where: { $0 < 0 || $0 >= config.dVocab }) {
            let (row, col) = (bad / batch.shape[1], bad % batch.shape[1])
            throw EngineError(.index, "token \(values[bad]) at [\(row), \(col)] is outside the vocabulary 0..<\(config.dVocab)")
        }
        return batch
    }

    // MARK: - Layers

    /// TransformerLens's LayerNorm / LayerNormPre with its two hooks:
    /// `scale` [batch, pos, 1] and `normalized` [batch, pos, d_model].
    private func normalize(_ x: Tensor, _ weight: Tensor?, _ bias: Tensor?, _ scaleSite: HookSite,
                           _ normalizedSite: HookSite, _ layer: Int?, _ f: ForwardPass) throws -> Tensor {
        if config.normalizationType == .none { return x }
        let centered = try x - x.mean(axes: [-1], keepDims: true)
        let scale = try f.pass(scaleSite, layer, (centered.square().mean(axes: [-1], keepDims: true) + config.eps).sqrt())
        let normalized = try f.pass(normalizedSite, layer, centered / scale)
        guard let weight, let bias else { return normalized }
        return try normalized * weight + bias
    }

    /// The same LayerNorm without hooks, returning its intermediate values;
    /// nil when the model has no normalisation.
    private func layerNormParts(_ x: Tensor, _ weight: Tensor?, _ bias: Tensor?) throws
        -> (scale: Tensor, normalized: Tensor, output: Tensor)? {
        if config.normalizationType == .none { return nil }
        let centered = try x - x.mean(axes: [-1], keepDims: true)
        let scale = try (centered.square().mean(axes: [-1], keepDims: true) + config.eps).sqrt()
        let normalized = try centered / scale
        guard let weight, let bias else { return (scale, normalized, normalized) }
        return (scale, normalized, try normalized * weight + bias)
    }

    private func activation(_ x: Tensor) throws -> Tensor {
        switch config.actFn {
        case .relu: return try x.relu()
        case .gelu: return try x.gelu()
        case .geluNew: return try x.geluNew()
        }
    }

    /// W [head, d_model, d_head] as one [d_model, head·d_head] matrix.
    private func merged(_ w: Tensor) throws -> Tensor {
        try w.permuted([1, 0, 2]).reshaped([config.dModel, config.nHeads * config.dHead])
    }

    /// The hook points before block 0's attention, which depend only on (token, position).
    private var firstBlockInputs: [HookPoint] {
        [HookPoint(.embed), HookPoint(.posEmbed)]
            + [.residPre, .ln1Scale, .ln1Normalized, .q, .k, .v].map { HookPoint($0, layer: 0) }
    }

    /// One transformer block. With `lastOnly`, queries and everything after
    /// attention are computed for the last position alone.
    private func block(_ l: Int, _ input: Tensor, _ f: ForwardPass, lastOnly: Bool) throws -> Tensor {
        let w = blocks[l]
        let (h, e) = (config.nHeads, config.dHead)
        let resid = try f.pass(.residPre, l, input)                                                      // [batch, pos, d_model]
        let (b, p) = (resid.shape[0], resid.shape[1])
        let x = try normalize(resid, w.ln1W, w.ln1B, .ln1Scale, .ln1Normalized, l, f)
        if lastOnly {
            let wKV = try Tensor.concat([merged(w.wK), merged(w.wV)], axis: 1)                            // [d_model, 2·head·d_head]
            let bKV = try Tensor.concat([w.bK.reshaped([h * e]), w.bV.reshaped([h * e])], axis: 0)
            let kv = try x.linear(wKV, bias: bKV).reshaped([b, p, 2, h, e])
            let xLast = try x.slice(axis: 1, start: p - 1)                                               // [batch, 1, d_model]
            let q = try xLast.linear(merged(w.wQ), bias: w.bQ.reshaped([h * e])).reshaped([b, 1, h, e])  // [batch, 1, head, d_head]
            return try attendAndMix(l, resid: resid.slice(axis: 1, start: p - 1), q: q,
                                    k: kv.select(axis: 2, index: 0), v: kv.select(axis: 2, index: 1), f)
        }
        let qkv = try x.linear(qkvWeight(w), bias: qkvBias(w)).reshaped([b, p, 3, h, e])                 // [batch, pos, 3, head, d_head]
        return try attendAndMix(l, resid: resid, q: qkv.select(axis: 2, index: 0),
                                k: qkv.select(axis: 2, index: 1), v: qkv.select(axis: 2, index: 2), f)
    }

    /// Block 0 when no hook function touches its inputs: embeddings,
    /// LayerNorm and the q/k/v projections depend only on (token, position),
    /// so they are computed once per distinct pair and gathered — the same
    /// numbers, a fraction of the work for a large batch over a small
    /// vocabulary. Activations the cache asks for are gathered to full shape.
    private func firstBlockFromTable(_ table: TokenTable, _ f: ForwardPass, lastOnly: Bool) throws -> Tensor {
        let w = blocks[0]
        let (h, e, d) = (config.nHeads, config.dHead, config.dModel)
        let (b, p) = (table.rows.shape[0], table.rows.shape[1])
        func full(_ rowsOfTable: Tensor) throws -> Tensor {
            try rowsOfTable.indexSelect(axis: 0, indices: table.rows)                                      // [batch, pos, …]
        }
        try f.record(HookPoint(.embed)) { try embedW.indexSelect(axis: 0, indices: table.batch) }
        try f.record(HookPoint(.posEmbed)) { try posW.slice(axis: 0, start: 0, end: p).expanded(to: [b, p, d]) }
        let residTable = try embedW.indexSelect(axis: 0, indices: table.tokens)
            + posW.indexSelect(axis: 0, indices: table.positions)                                          // [pairs, d_model]
        try f.record(HookPoint(.residPre, layer: 0)) { try full(residTable) }
        var x = residTable
        if let norm = try layerNormParts(residTable, w.ln1W, w.ln1B) {
            try f.record(HookPoint(.ln1Scale, layer: 0)) { try full(norm.scale) }
            try f.record(HookPoint(.ln1Normalized, layer: 0)) { try full(norm.normalized) }
            x = norm.output
        }
        let qkvTable = try x.linear(qkvWeight(w), bias: qkvBias(w))                                       // [pairs, 3·head·d_head]
        let qkv = try full(qkvTable).reshaped([b, p, 3, h, e])                                            // [batch, pos, 3, head, d_head]
        var q = try qkv.select(axis: 2, index: 0)
        var resid: Tensor
        if lastOnly {
            q = try q.slice(axis: 1, start: p - 1)                                                       // [batch, 1, head, d_head]
            resid = try residTable.indexSelect(axis: 0, indices: table.rows.slice(axis: 1, start: p - 1)) // [batch, 1, d_model]
        } else {
            resid = try full(residTable)                                                                 // [batch, pos, d_model]
        }
        return try attendAndMix(0, resid: resid, q: q, k: qkv.select(axis: 2, index: 1), v: qkv.select(axis: 2, index: 2), f)
    }

    private func qkvWeight(_ w: BlockWeights) throws -> Tensor {
        try Tensor.concat([merged(w.wQ), merged(w.wK), merged(w.wV)], axis: 1)                           // [d_model, 3·head·d_head]
    }

    private func qkvBias(_ w: BlockWeights) throws -> Tensor {
        let n = config.nHeads * config.dHead
        return try Tensor.concat([w.bQ, w.bK, w.bV].map { try $0.reshaped([n]) }, axis: 0)
    }

    /// The rest of a block from its queries, keys and values: attention,
    /// the residual, the MLP. `resid` and `q` cover the query positions
    /// (the last ones when the block is trimmed), `k` and `v` every position.
    private func attendAndMix(_ l: Int, resid: Tensor, q q0: Tensor, k k0: Tensor, v v0: Tensor, _ f: ForwardPass) throws -> Tensor {
        let w = blocks[l]
        let (h, e, d) = (config.nHeads, config.dHead, config.dModel)
        let (b, queries, p) = (q0.shape[0], q0.shape[1], k0.shape[1])
        let q = try f.pass(.q, l, q0)                                                                    // [batch, q_pos, head, d_head]
        let k = try f.pass(.k, l, k0)                                                                    // [batch, pos, head, d_head]
        let v = try f.pass(.v, l, v0)
        let raw = try q.permuted([0, 2, 1, 3]).matmul(k.permuted([0, 2, 3, 1]))                          // [batch, head, q_pos, k_pos]
        let scores = try f.pass(.attnScores, l, causalMask(raw.scaled(1 / Double(e).squareRoot()), queryOffset: p - queries))
        let pattern = try f.pass(.pattern, l, scores.softmax(axis: -1))                                  // [batch, head, q_pos, k_pos]
        let z = try f.pass(.z, l, pattern.matmul(v.permuted([0, 2, 1, 3])).permuted([0, 2, 1, 3]))        // [batch, q_pos, head, d_head]
        let attnOut = try f.pass(.attnOut, l, z.reshaped([b, queries, h * e]).linear(w.wO.reshaped([h * e, d]), bias: w.bO))  // [batch, q_pos, d_model]
        guard let wIn = w.wIn, let bIn = w.bIn, let wOut = w.wOut, let bOut = w.bOut else {
            return try f.pass(.residPost, l, resid + attnOut)
        }
        let mid = try f.pass(.residMid, l, resid + attnOut)                                              // [batch, q_pos, d_model]
        let x2 = try normalize(mid, w.ln2W, w.ln2B, .ln2Scale, .ln2Normalized, l, f)
        let pre = try f.pass(.mlpPre, l, x2.linear(wIn, bias: bIn))                                      // [batch, q_pos, d_mlp]
        let post = try f.pass(.mlpPost, l, activation(pre))
        let mlpOut = try f.pass(.mlpOut, l, post.linear(wOut, bias: bOut))                               // [batch, q_pos, d_model]
        return try f.pass(.residPost, l, mid + mlpOut)
    }

    /// Sets scores of keys after their query to -inf (TransformerLens's IGNORE).
    /// Query i sits at absolute position `queryOffset + i`.
    private func causalMask(_ scores: Tensor, queryOffset: Int) throws -> Tensor {
        let (nq, nk) = (scores.shape[2], scores.shape[3])
        if queryOffset + nq - 1 <= 0 || (nq == 1 && queryOffset == nk - 1) { return scores }
        var keep = [Float](repeating: 0, count: nq * nk)
        for i in 0..<nq { for j in 0..<nk where j <= queryOffset + i { keep[i * nk + j] = 1 } }
        let mask = try Tensor(keep, shape: [nq, nk])
        return try Tensor.where(mask, scores, Tensor(scalar: -Double.infinity))
    }
}

/// The distinct (token, position) pairs of a batch and where each row's
/// pairs sit in that list.
struct TokenTable {
    /// [pairs] token id of each distinct pair.
    let tokens: Tensor
    /// [pairs] position of each distinct pair.
    let positions: Tensor
    /// [batch, pos] index of each row's pair in the table.
    let rows: Tensor
    /// The tokens themselves, [batch, pos].
    let batch: Tensor

    /// nil when the batch has too few repeated pairs for the table to pay off.
    init?(_ batch: Tensor) throws {
        let (b, p) = (batch.shape[0], batch.shape[1])
        let values = batch.toInts()
        var slot: [Int: Int] = [:]
        var tokens: [Int] = [], positions: [Int] = [], rows = [Int](repeating: 0, count: values.count)
        for (i, token) in values.enumerated() {
            let key = token &* p &+ i % p
            if let s = slot[key] {
                rows[i] = s
            } else {
                slot[key] = tokens.count
                rows[i] = tokens.count
                tokens.append(token)
                positions.append(i % p)
            }
            if tokens.count * 4 > values.count { return nil }
        }
        self.tokens = try Tensor(ints: tokens, shape: [tokens.count])
        self.positions = try Tensor(ints: positions, shape: [positions.count])
        self.rows = try Tensor(ints: rows, shape: [b, p])
        self.batch = batch
    }
}
