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

    /// Whether the activation at `point` is kept. Everything is, for `.all`,
    /// except what is computed only on request (`hook_result`), which must be named.
    func wants(_ point: HookPoint) -> Bool {
        switch self {
        case .none: return false
        case .all: return !point.site.isOnRequest
        case .only(let set), .atLastPosition(let set): return set.contains(point)
        }
    }

    /// The points named, for `.only` and `.atLastPosition`.
    var named: Set<HookPoint> {
        switch self {
        case .none, .all: return []
        case .only(let set), .atLastPosition(let set): return set
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
        let f = ForwardPass(hooks: hooks, request: request, resolver: self.hooks, model: self)
        let last = config.nLayers - 1
        let trimLast = positions == .last && f.leavesUntouched(fromLayer: last, in: hookPoints)
        var resid: Tensor
        var start = 0
        let table = try TokenTable(batch)
        // Products see every position in the blocks before the last, and in the last unless it is trimmed.
        let fullPositionProducts = config.nLayers > 1 || !trimLast
        if table != nil, fullPositionProducts, f.runsNoFunctions, !GradMode.isEnabled,
           blocks.allSatisfy({ $0.attention.direction == .causal }) {
            f.sharedFirstPosition = SharedFirstPosition(firstTokens: try batch.select(axis: 1, index: 0).toInts(), positions: p)
        }
        if let table, trimLast, foldsAfterAttention(f, positions: p) {
            let logits = try foldedLastLogits(table, f)                                                    // [batch, d_vocab_out]
            return (tokens.rank == 1 ? try logits.squeezed(0) : logits, f.cache)
        }
        if let table, f.runsNoFunctions(at: firstBlockInputs) {
            let lastOnly = trimLast && last == 0
            resid = try foldsFirstBlock(f, positions: p) ? foldedFirstBlock(table, f, lastOnly: lastOnly)
                : firstBlockFromTable(table, f, lastOnly: lastOnly)
            start = 1
        } else {
            resid = try embed(batch, f) + posEmbed(batch: b, positions: p, mask: nil, f)                  // [batch, pos, d_model]
        }
        for l in start..<config.nLayers {
            resid = try blocks[l](resid, layer: l, mask: nil, lastOnly: trimLast && l == last, f)
        }
        var logits = try unembed(lnFinal(resid, layer: nil, f), f)                                       // [batch, pos, d_vocab_out]
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
        try checkedTokens(tokens, vocabulary: config.dVocab, context: config.nCtx)
    }

    // MARK: - The first block from a table of (token, position) pairs

    /// The hook points before block 0's attention, which depend only on (token, position).
    private var firstBlockInputs: [HookPoint] {
        [HookPoint(.embed), HookPoint(.posEmbed), HookPoint(.residPre, layer: 0)]
            + blocks[0].ln1.hookSites.map { HookPoint($0, layer: 0) } + [.q, .k, .v].map { HookPoint($0, layer: 0) }
    }

    /// Block 0 when no hook function touches its inputs: embeddings,
    /// LayerNorm and the q/k/v projections depend only on (token, position),
    /// so they are computed once per distinct pair and gathered — the same
    /// numbers, a fraction of the work for a large batch over a small
    /// vocabulary. Activations the cache asks for are gathered to full shape.
    private func firstBlockFromTable(_ table: TokenTable, _ f: ForwardPass, lastOnly: Bool) throws -> Tensor {
        let (residTable, qTable, kTable, vTable) = try firstBlockPairs(table, f)
        // Keys and values stay tables, read through each row's pairs (gathered only if attention needs them whole).
        let (h, e) = (config.nHeads, config.dHead)
        let k = try kTable.reshaped([-1, h, e]), v = try vTable.reshaped([-1, h, e])                          // [pairs, head, d_head]
        let queryRows = try table.queryRows(lastOnly: lastOnly)                                          // [batch, q_pos]
        return try blocks[0].afterProjection(0, resid: residTable.indexSelect(axis: 0, indices: queryRows),   // [batch, q_pos, d_model]
                                             q: table.queries(qTable, at: queryRows, heads: h), k: k, v: v, mask: nil,
                                             keyRows: table.rows, f)
    }
}

extension HookedTransformer {
    /// Block 0 before attention for each (token, position) pair of `table`:
    /// the residual stream [pairs, d_model] and q, k, v [pairs, head·d_head],
    /// recording what the cache asks for at full shape.
    func firstBlockPairs(_ table: TokenTable, _ f: ForwardPass) throws -> (resid: Tensor, q: Tensor, k: Tensor, v: Tensor) {
        let block = blocks[0]
        let (h, e, d) = (config.nHeads, config.dHead, config.dModel)
        let (b, p) = (table.rows.shape[0], table.rows.shape[1])
        func full(_ rowsOfTable: Tensor) throws -> Tensor {
            try rowsOfTable.indexSelect(axis: 0, indices: table.rows)                                      // [batch, pos, …]
        }
        try f.record(HookPoint(.embed)) { try embed.weight.indexSelect(axis: 0, indices: table.batch) }
        try f.record(HookPoint(.posEmbed)) { try posEmbed.weight.slice(axis: 0, start: 0, end: p).expanded(to: [b, p, d]) }
        let residTable = try embed.weight.indexSelect(axis: 0, indices: table.tokens)
            + posEmbed.weight.indexSelect(axis: 0, indices: table.positions)                               // [pairs, d_model]
        try f.record(HookPoint(.residPre, layer: 0)) { try full(residTable) }
        var x = residTable
        if let norm = try block.ln1.parts(residTable) {
            try f.record(HookPoint(block.ln1.scaleSite, layer: 0)) { try full(norm.scale) }
            try f.record(HookPoint(block.ln1.normalizedSite, layer: 0)) { try full(norm.normalized) }
            x = norm.output
        }
        let qkvTable = try x.linear(block.attention.qkvWeight(), bias: block.attention.qkvBias())         // [pairs, 3·head·d_head]
        // q, k and v are gathered from their own columns of the table: each
        // gradient then flows back into the small table alone, never through
        // a [batch, pos, 3, head, d_head] tensor.
        let n = h * e
        return (residTable, try qkvTable.slice(axis: 1, start: 0, end: n), try qkvTable.slice(axis: 1, start: n, end: 2 * n),
                try qkvTable.slice(axis: 1, start: 2 * n))
    }
}

/// Tokens as [batch, pos] int64, refusing anything an embedding of
/// `vocabulary` rows and `context` positions cannot read.
func checkedTokens(_ tokens: Tensor, vocabulary: Int, context: Int) throws -> Tensor {
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
    guard batch.shape[1] <= context else {
        throw EngineError(.shape, "tokens have \(batch.shape[1]) positions but the model's context (n_ctx) is \(context)")
    }
    let values = batch.toInts()
    if let bad = values.firstIndex(where: { $0 < 0 || $0 >= vocabulary }) {
        let (row, col) = (bad / batch.shape[1], bad % batch.shape[1])
        throw EngineError(.index, "token \(values[bad]) at [\(row), \(col)] is outside the vocabulary 0..<\(vocabulary)")
    }
    return batch
}

/// The distinct (token, position) pairs of a batch and where each row's
/// pairs sit in that list.
struct TokenTable {
    /// Where each row's query positions sit in the table: every position
    /// ([batch, pos], `rows`), or the last alone ([batch, 1]).
    func queryRows(lastOnly: Bool) throws -> Tensor {
        lastOnly ? try rows.slice(axis: 1, start: rows.shape[1] - 1) : rows
    }

    /// The queries [batch, q_pos, head, d_head] gathered from a table of
    /// them [pairs, head·d_head] at `queryRows`.
    func queries(_ qTable: Tensor, at queryRows: Tensor, heads: Int) throws -> Tensor {
        try qTable.indexSelect(axis: 0, indices: queryRows).reshaped([queryRows.shape[0], queryRows.shape[1], heads, -1])
    }

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
        var tokens: [Int] = [], positions: [Int] = [], rows = [Int](repeating: 0, count: values.count)
        // Slots by key token·pos + position: an array when the keys are few
        // (tokens are checked against the vocabulary before) — at most 4× the
        // batch's tokens or 64k slots, so a large vocabulary never fills a big
        // array for a small batch — else a dictionary.
        let largest = values.max() ?? 0
        let limit = Swift.max(4 * values.count, 1 << 16)
        let keys = largest < limit / Swift.max(p, 1) ? (largest + 1) * p : 0
        var slots = [Int32](repeating: -1, count: keys)
        var slot: [Int: Int] = [:]
        for (i, token) in values.enumerated() {
            let key = token &* p &+ i % p
            let known = keys > 0 ? Int(slots[key]) : (slot[key] ?? -1)
            if known >= 0 {
                rows[i] = known
            } else {
                if keys > 0 { slots[key] = Int32(tokens.count) } else { slot[key] = tokens.count }
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
