import NeuroEngine

/// The token embedding `W_E` [d_vocab, d_model]: a row per token id, hooked
/// at `hook_embed` (or `embed.hook_embed` inside a BERT's embedding).
public struct TokenEmbedding {
    public let weight: Tensor
    public let site: HookSite

    public init(_ weight: Tensor, site: HookSite = .embed) {
        self.weight = weight
        self.site = site
    }

    public var hookSites: [HookSite] { [site] }

    /// [batch, pos] ids → [batch, pos, d_model].
    func callAsFunction(_ tokens: Tensor, _ f: ForwardPass) throws -> Tensor {
        try f.pass(site, nil, weight.indexSelect(axis: 0, indices: tokens))
    }
}

/// Learned positional embeddings `W_pos` [n_ctx, d_model], hooked at
/// `hook_pos_embed`. With an attention mask, positions count attended
/// tokens only and padding gets a zero embedding, as TransformerLens's
/// `PosEmbed` does (so a left-padded row sees the positions of an unpadded one).
public struct PositionalEmbedding {
    public let weight: Tensor
    public let site: HookSite

    public init(_ weight: Tensor, site: HookSite = .posEmbed) {
        self.weight = weight
        self.site = site
    }

    public var hookSites: [HookSite] { [site] }

    /// The embeddings of positions 0..<pos for every row: [batch, pos, d_model].
    func callAsFunction(batch b: Int, positions p: Int, mask: AttentionMask?, _ f: ForwardPass) throws -> Tensor {
        try f.pass(site, nil, embeddings(batch: b, positions: p, mask: mask))
    }

    func embeddings(batch b: Int, positions p: Int, mask: AttentionMask?) throws -> Tensor {
        let d = weight.shape[1]
        guard let mask, mask.hasPadding else { return try weight.slice(axis: 0, start: 0, end: p).expanded(to: [b, p, d]) }
        let ids = try Tensor(ints: mask.offsetPositions, shape: [b, p])
        let keep = try Tensor(mask.values.map(Float.init), shape: [b, p, 1])
        return try weight.indexSelect(axis: 0, indices: ids) * keep
    }
}

/// BERT's token-type (segment) embedding `W_token_type` [n_types, d_model],
/// hooked at `hook_token_type_embed`; type 0 for every token when no types are given.
public struct TokenTypeEmbedding {
    public let weight: Tensor
    public let site: HookSite

    public init(_ weight: Tensor, site: HookSite = .tokenTypeEmbed) {
        self.weight = weight
        self.site = site
    }

    public var hookSites: [HookSite] { [site] }

    /// [batch, pos] type ids (nil: all 0) → [batch, pos, d_model].
    func callAsFunction(_ types: Tensor?, batch b: Int, positions p: Int, _ f: ForwardPass) throws -> Tensor {
        let d = weight.shape[1]
        let embedded = try types.map { try weight.indexSelect(axis: 0, indices: $0) }
            ?? weight.slice(axis: 0, start: 0, end: 1).expanded(to: [b, p, d])
        return try f.pass(site, nil, embedded)
    }
}

/// The unembedding `W_U` [d_model, d_vocab_out] and `b_U`, hooked at
/// `unembed.hook_in` (its input) and `unembed.hook_out` (the logits).
public struct Unembedding {
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ weight: Tensor, bias: Tensor?) {
        self.weight = weight
        self.bias = bias
    }

    public var hookSites: [HookSite] { [.unembedIn, .unembedOut] }

    /// [batch, pos, d_model] → logits [batch, pos, d_vocab_out].
    func callAsFunction(_ x: Tensor, _ f: ForwardPass) throws -> Tensor {
        let input = try f.pass(.unembedIn, nil, x)
        return try f.pass(.unembedOut, nil, input.linear(weight, bias: bias, shared: f.sharedFirstPosition))
    }
}

/// Which tokens of each row are real (1) and which are padding (0), as
/// Hugging Face's and TransformerLens's `attention_mask` [batch, pos].
public struct AttentionMask {
    public let batch: Int, positions: Int
    /// Row-major 0/1 values.
    public let values: [Int]

    /// A mask from a [batch, pos] tensor of 0s and 1s; errors name a wrong shape or value.
    public init(_ mask: Tensor, tokens shape: [Int]) throws {
        guard mask.shape == shape else {
            throw EngineError(.shape, "attention mask has shape \(formatShape(mask.shape)), but the tokens are \(formatShape(shape))")
        }
        let values = mask.toInts()
        if let bad = values.firstIndex(where: { $0 != 0 && $0 != 1 }) {
            throw EngineError(.argument, "attention mask holds \(values[bad]) at [\(bad / shape[1]), \(bad % shape[1])]; it must be 0 (padding) or 1 (a token)")
        }
        self.batch = shape[0]
        self.positions = shape[1]
        self.values = values
    }

    /// Whether any token is padding (else the mask changes nothing).
    public var hasPadding: Bool { values.contains(0) }

    /// TransformerLens's `get_offset_position_ids`: the count of real tokens
    /// before and at each place, minus one, and 0 for leading padding.
    var offsetPositions: [Int] {
        var out = [Int](repeating: 0, count: values.count)
        for r in 0..<batch {
            var seen = 0
            for c in 0..<positions {
                seen += values[r * positions + c]
                out[r * positions + c] = Swift.max(seen - 1, 0)
            }
        }
        return out
    }

    /// [batch, 1, 1, pos]: 1 where a key may be attended to.
    func keys() throws -> Tensor {
        try Tensor(values.map(Float.init), shape: [batch, 1, 1, positions])
    }
}
