import NeuroEngine

extension HookedTransformer {
    /// Buffers TransformerLens keeps in its state_dict that carry no weights.
    static let ignoredBufferSuffixes = [".attn.mask", ".attn.IGNORE"]

    /// Whether `name` is one of TransformerLens's buffers (`blocks.N.attn.mask`,
    /// bool, and `blocks.N.attn.IGNORE`, a -inf scalar).
    public static func isIgnoredBuffer(_ name: String) -> Bool {
        ignoredBufferSuffixes.contains { name.hasSuffix($0) }
    }

    /// The weights as TransformerLens's `state_dict`: names and tensors in order.
    public var stateDict: [(String, Tensor)] {
        parameters.map { ($0.name, $0.tensor.detached()) }
    }

    /// Loads a model from TransformerLens-named weights, inferring the
    /// configuration from names and shapes: layers from `blocks.N`, sizes from
    /// W_E, W_pos, W_Q, W_in and W_U, LayerNorm from `ln1.w`. What shapes
    /// cannot tell — the activation, and LNPre versus none — comes from
    /// `actFn` and `normalization` (defaults relu and, without LN weights, none).
    /// TransformerLens's buffers (`attn.mask`, `attn.IGNORE`) are skipped.
    ///
    /// ```swift
    /// let file = try SafeTensors.read("tl_model.safetensors")
    /// let model = try HookedTransformer(stateDict: file.tensors, actFn: .gelu)
    /// ```
    public convenience init(stateDict: [String: Tensor], actFn: ActivationFunction? = nil,
                            normalization: NormalizationType? = nil, configJSON: String? = nil) throws {
        let weights = stateDict.filter { !HookedTransformer.isIgnoredBuffer($0.key) }
        var config = try configJSON.map { try TransformerConfig(json: $0) } ?? HookedTransformer.inferConfig(weights)
        if let actFn { config.actFn = actFn }
        if let normalization { config.normalizationType = normalization }
        try self.init(config: config, weights: weights)
    }

    /// Reads the configuration off TransformerLens-named weights.
    static func inferConfig(_ w: [String: Tensor]) throws -> TransformerConfig {
        func shape(_ name: String, rank: Int) throws -> [Int] {
            guard let t = w[name] else {
                let hint = Suggest.closest(name, among: Array(w.keys)).map { " (closest: '\($0)')" } ?? ""
                throw EngineError(.argument, "weights: missing '\(name)'\(hint); is this a TransformerLens HookedTransformer state_dict?")
            }
            guard t.rank == rank else {
                throw EngineError(.shape, "weights: '\(name)' has shape \(formatShape(t.shape)), expected \(rank) dimensions")
            }
            return t.shape
        }
        let layers = Set(w.keys.compactMap { key -> Int? in
            let parts = key.split(separator: ".")
            return parts.count > 2 && parts[0] == "blocks" ? Int(parts[1]) : nil
        })
        guard !layers.isEmpty else { throw EngineError(.argument, "weights: no 'blocks.N.' tensors found") }
        guard layers == Set(0..<layers.count) else {
            throw EngineError(.argument, "weights: block numbers \(layers.sorted()) are not 0..<\(layers.count)")
        }
        let embed = try shape("embed.W_E", rank: 2)
        let pos = try shape("pos_embed.W_pos", rank: 2)
        let query = try shape("blocks.0.attn.W_Q", rank: 3)
        let unembed = try shape("unembed.W_U", rank: 2)
        let dMLP = w["blocks.0.mlp.W_in"].map { $0.shape.last ?? 0 } ?? 0
        return try TransformerConfig(nLayers: layers.count, nHeads: query[0], dModel: embed[1], dHead: query[2], dMLP: dMLP,
                                     actFn: .relu, normalizationType: w["blocks.0.ln1.w"] == nil ? .none : .layerNorm,
                                     dVocab: embed[0], dVocabOut: unembed[1], nCtx: pos[0])
    }

    /// Loads a safetensors file written by TransformerLens
    /// (`safetensors.torch.save_file(model.state_dict(), path)`) or by `save(to:)`.
    /// A configuration in the file's metadata (key `config`) is used when present.
    public static func load(_ path: String, actFn: ActivationFunction? = nil,
                            normalization: NormalizationType? = nil) throws -> HookedTransformer {
        // The bool mask buffers cannot be read as tensors; they carry nothing.
        try load(SafeTensors.read(path, skipping: isIgnoredBuffer), path: path, actFn: actFn, normalization: normalization)
    }

    /// Whether a file's tensors are a model's weights (it has an embedding,
    /// `embed.W_E`) rather than other tensors someone saved.
    public static func looksLikeModel(_ file: SafeTensorsFile) -> Bool {
        file.tensors["embed.W_E"] != nil
    }

    /// `load(_:)` for a file already read (read it skipping `isIgnoredBuffer`); `path` names it in errors.
    public static func load(_ file: SafeTensorsFile, path: String, actFn: ActivationFunction? = nil,
                            normalization: NormalizationType? = nil) throws -> HookedTransformer {
        do {
            return try HookedTransformer(stateDict: file.tensors, actFn: actFn, normalization: normalization,
                                         configJSON: file.metadata["config"])
        } catch let error as EngineError {
            throw EngineError(error.kind, "\(path): \(error.message)")
        }
    }

    /// Writes the weights in TransformerLens's layout (loadable with
    /// `model.load_state_dict(safetensors.torch.load_file(path))`)
    /// plus the configuration as JSON in the metadata, atomically.
    public func save(to path: String, metadata: [String: String] = [:]) throws {
        var meta = metadata
        meta["config"] = config.json
        meta["format"] = "pt"
        // TransformerLens 3.x keeps two buffers per block in its state_dict;
        // writing them (empty mask, -inf IGNORE) lets `load_state_dict` run strict.
        let buffers = try (0..<config.nLayers).flatMap { l -> [(String, Tensor)] in
            [("blocks.\(l).attn.mask", try Tensor.zeros([0, 0])), ("blocks.\(l).attn.IGNORE", Tensor(scalar: -Double.infinity))]
        }
        try SafeTensors.write(stateDict + buffers, metadata: meta, to: path)
    }
}
