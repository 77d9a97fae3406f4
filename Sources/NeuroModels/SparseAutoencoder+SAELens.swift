import Foundation
import NeuroEngine

// SAELens's folder layout, both ways: `cfg.json` and `sae_weights.safetensors`
// as SAELens 6 writes them with `save_model` and reads them with `load_from_disk`.
//
// What SAELens computes (sae_lens/saes/*.py), with x' = x − b_dec when
// apply_b_dec_to_input is true, x' = x otherwise:
//   standard  f = ReLU(x'·W_enc + b_enc)
//   gated     f = [x'·W_enc + b_gate > 0] · ReLU(x'·(W_enc ⊙ exp(r_mag)) + b_mag)
//   jumprelu  f = ReLU(p) · [p > threshold], p = x'·W_enc + b_enc
//   topk      f = the k largest of p (ties aside), each through ReLU, 0 elsewhere;
//             with rescale_acts_by_decoder_norm, p is first multiplied by ‖W_dec row‖
//   all       x̂ = f·W_dec + b_dec (topk rescaled: (f / ‖W_dec row‖)·W_dec + b_dec)
// These are this autoencoder's own forward passes (`encoding`, `decode`).

extension SparseAutoencoder {
    /// The file names of a SAELens folder.
    public static let saeLensConfigFile = "cfg.json"
    public static let saeLensWeightsFile = "sae_weights.safetensors"

    /// The autoencoder a SAELens folder holds (`cfg.json` and
    /// `sae_weights.safetensors`, as SAELens's `save_model` writes them), with
    /// input scale 1: `features(of:)` and `reconstruction(of:)` compute what
    /// SAELens's `encode` and `decode` compute.
    ///
    /// Reads the standard, gated, topk and jumprelu architectures (files of
    /// SAELens before 6.0 as SAELens converts them). A topk file with
    /// `rescale_acts_by_decoder_norm` has the decoder norms folded in on
    /// loading (W_enc and b_enc multiplied by each row's norm, W_dec rows
    /// divided by it), which gives the same features and reconstructions.
    /// `apply_b_dec_to_input` false is kept (`SAEConfig.applyDecoderBiasToInput`).
    /// A hook_z autoencoder (`reshape_activations`) takes the heads flattened,
    /// [N, n_heads·d_head]. JumpReLU thresholds must be positive (their
    /// logarithms are kept); `log_threshold` in older files is read too.
    /// The weights are computed in float32 whatever `dtype` says.
    ///
    /// Throws, naming the file and the field or tensor, for a missing folder
    /// or file, a cfg.json that does not parse, a missing or mistyped field,
    /// another architecture (with "did you mean"), an input normalisation
    /// (`normalize_activations` other than "none"), a missing, extra or
    /// misshapen tensor, or a threshold that is not positive and finite.
    ///
    /// ```swift
    /// let sae = try SparseAutoencoder.load(saeLensFolder: "saes/blocks.0.hook_resid_pre")
    /// let f = try sae.features(of: acts)          // [N, d_sae]
    /// ```
    public static func load(saeLensFolder folder: String) throws -> SparseAutoencoder {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw EngineError(.file, "\(folder): not a SAELens folder (no such directory)")
        }
        let cfg = try SAELensConfig(path: (folder as NSString).appendingPathComponent(saeLensConfigFile))
        let config = try cfg.config()
        let path = (folder as NSString).appendingPathComponent(saeLensWeightsFile)
        guard FileManager.default.fileExists(atPath: path) else {
            throw EngineError(.file, "\(folder): no \(saeLensWeightsFile) in the folder; a SAELens folder has cfg.json and \(saeLensWeightsFile)")
        }
        var weights = try SAELensWeights(path: path, tensors: SafeTensors.read(path).tensors, config: cfg).ours()
        if cfg.rescalesByDecoderNorm { try foldDecoderNorms(&weights, path: path) }
        return try SparseAutoencoder(config, inputScale: 1, weights: weights)
    }

    /// Writes this autoencoder as a SAELens folder (`cfg.json` and
    /// `sae_weights.safetensors`, float32) that SAELens's
    /// `SAE.load_from_disk` reads, creating the folder if needed.
    ///
    /// The input scale is folded into the weights, so that the saved
    /// autoencoder maps raw activations as this one does: W_enc is written
    /// multiplied by `inputScale`, W_dec and b_dec divided by it; b_enc,
    /// b_gate, r_mag, b_mag and the JumpReLU threshold (written as
    /// `threshold`, the exponential of `log_threshold`) are unchanged. The
    /// features are then the same, and the reconstructions are in the
    /// activations' own scale. The config says `normalize_activations`
    /// "none" and this autoencoder's `apply_b_dec_to_input`; a topk one has
    /// `rescale_acts_by_decoder_norm` false. `metadata` (e.g. `model_name`,
    /// `hook_name`) goes into cfg.json's metadata, with `sae_lens_version`
    /// 6.0.0 unless given (the layout is SAELens 6's).
    ///
    /// Each file is replaced atomically (see `writeAtomically`), the weights
    /// first and cfg.json last.
    ///
    /// ```swift
    /// try sae.save(saeLensFolder: "out/sae", metadata: ["hook_name": "blocks.0.hook_resid_pre"])
    /// ```
    public func save(saeLensFolder folder: String, metadata: [String: String] = [:]) throws {
        let tensors = try GradMode.withNoGrad { try saeLensTensors() }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw EngineError(.file, "\(folder): cannot create the folder: \(error.localizedDescription)")
        }
        try SafeTensors.write(tensors, to: (folder as NSString).appendingPathComponent(Self.saeLensWeightsFile))
        try writeAtomically(Array(saeLensConfigText(metadata: metadata).utf8),
                            to: (folder as NSString).appendingPathComponent(Self.saeLensConfigFile))
    }

    /// The tensors of `sae_weights.safetensors`, the input scale folded in.
    private func saeLensTensors() throws -> [(String, Tensor)] {
        let s = inputScale
        func plain(_ t: Tensor) -> Tensor { t.detached().contiguous() }
        var tensors = [("W_enc", plain(try W_enc * s)), ("W_dec", plain(try W_dec * (1 / s))), ("b_dec", plain(try b_dec * (1 / s)))]
        switch config.kind {
        case .standard, .topk:
            tensors.append(("b_enc", plain(b_enc)))
        case .gated:
            guard let b_gate, let r_mag, let b_mag else { throw EngineError(.argument, subject: "sae", "a gated autoencoder without its gate") }
            tensors += [("b_gate", plain(b_gate)), ("r_mag", plain(r_mag)), ("b_mag", plain(b_mag))]
        case .jumprelu:
            guard let logThreshold else { throw EngineError(.argument, subject: "sae", "a JumpReLU autoencoder without thresholds") }
            tensors += [("b_enc", plain(b_enc)), ("threshold", plain(try logThreshold.exp()))]
        }
        return tensors
    }

    /// cfg.json: the fields of SAELens 6's config for this architecture.
    private func saeLensConfigText(metadata: [String: String]) -> String {
        var fields: [(String, String)] = [
            ("architecture", jsonQuoted(config.kind.rawValue)), ("d_in", "\(config.dIn)"), ("d_sae", "\(config.dSAE)"),
            ("dtype", jsonQuoted("float32")), ("device", jsonQuoted("cpu")),
            ("apply_b_dec_to_input", "\(config.applyDecoderBiasToInput)"),
            ("normalize_activations", jsonQuoted("none")), ("reshape_activations", jsonQuoted("none")),
        ]
        if config.kind == .topk { fields += [("k", "\(config.k)"), ("rescale_acts_by_decoder_norm", "false")] }
        var entries = metadata
        if entries["sae_lens_version"] == nil { entries["sae_lens_version"] = "6.0.0" }
        let inner = entries.sorted { $0.key < $1.key }.map { jsonQuoted($0.key) + ": " + jsonQuoted($0.value) }
        fields.append(("metadata", "{" + inner.joined(separator: ", ") + "}"))
        return "{" + fields.map { jsonQuoted($0.0) + ": " + $0.1 }.joined(separator: ", ") + "}\n"
    }

    /// TopK with `rescale_acts_by_decoder_norm`: SAELens chooses the top k of
    /// p·‖W_dec row‖ and decodes f/‖W_dec row‖. Multiplying W_enc's columns and
    /// b_enc by the norms and dividing W_dec's rows by them computes the same.
    private static func foldDecoderNorms(_ weights: inout [String: Tensor], path: String) throws {
        guard let W_enc = weights["W_enc"], let b_enc = weights["b_enc"], let W_dec = weights["W_dec"] else { return }
        let norms = try W_dec.norm(axes: [1], keepDims: true)
        if let row = norms.toFloats().firstIndex(where: { !($0 > 0 && $0.isFinite) }) {
            throw EngineError(.file, "\(path): W_dec row \(row) has norm \(norms.toFloats()[row]); "
                              + "rescale_acts_by_decoder_norm divides by it")
        }
        let perFeature = try norms.reshaped([norms.count])
        weights["W_enc"] = try W_enc * perFeature
        weights["b_enc"] = try b_enc * perFeature
        weights["W_dec"] = try W_dec / norms
    }
}

/// The tensors of a `sae_weights.safetensors`, checked against its cfg.json:
/// each one the architecture needs, of the shape d_in and d_sae give, and
/// nothing else (SAELens refuses extra tensors too).
private struct SAELensWeights {
    let path: String
    let tensors: [String: Tensor]
    let config: SAELensConfig

    /// SAELens's tensors of each architecture, with their shapes in words.
    private var expected: [(name: String, shape: [Int], words: String)] {
        let (d, m) = (config.dIn, config.dSAE)
        var list: [(name: String, shape: [Int], words: String)] = [("W_enc", [d, m], "[d_in, d_sae]"), ("W_dec", [m, d], "[d_sae, d_in]"), ("b_dec", [d], "[d_in]")]
        switch config.kind {
        case .standard, .topk: list.append(("b_enc", [m], "[d_sae]"))
        case .gated: list += ["b_gate", "r_mag", "b_mag"].map { ($0, [m], "[d_sae]") }
        case .jumprelu: list += [("b_enc", [m], "[d_sae]"), (thresholdName, [m], "[d_sae]")]
        }
        return list
    }

    /// `threshold`, or `log_threshold` in an older file that has only that (SAELens converts it).
    private var thresholdName: String {
        tensors["threshold"] == nil && tensors["log_threshold"] != nil ? "log_threshold" : "threshold"
    }

    /// The weights in this autoencoder's names (`log_threshold` for JumpReLU), float32.
    func ours() throws -> [String: Tensor] {
        let wanted = expected
        let names = Set(wanted.map(\.name))
        var weights: [String: Tensor] = [:]
        for (name, shape, words) in wanted {
            guard let t = tensors[name] else {
                let hint = SAELensConfig.didYouMean(name, among: tensors.keys.filter { !names.contains($0) })
                throw EngineError(.file, "\(path): missing tensor '\(name)' \(words) = \(formatShape(shape))\(hint)")
            }
            guard t.shape == shape else {
                throw EngineError(.file, "\(path): tensor '\(name)' has shape \(formatShape(t.shape)), expected \(words) = \(formatShape(shape))")
            }
            guard t.dtype.isFloatingPoint else {
                throw EngineError(.file, "\(path): tensor '\(name)' is \(t.dtype.shortName), expected floating point")
            }
            weights[name] = try t.cast(to: .float32)
        }
        for name in tensors.keys.sorted() where !names.contains(name) {
            if name == "scaling_factor", try isAllOnes(tensors[name]) { continue }
            throw EngineError(.file, "\(path): unexpected tensor '\(name)'; a \(config.kind.rawValue) SAE has "
                              + wanted.map(\.name).joined(separator: ", "))
        }
        if let threshold = weights.removeValue(forKey: "threshold") {
            try checkThresholds(threshold, name: "threshold", valid: { $0 > 0 && $0.isFinite })
            weights["log_threshold"] = try threshold.log()
        } else if let log = weights["log_threshold"] {
            try checkThresholds(log, name: "log_threshold", valid: { $0.isFinite })
        }
        return weights
    }

    private func checkThresholds(_ t: Tensor, name: String, valid: (Float) -> Bool) throws {
        let values = t.toFloats()
        if let j = values.firstIndex(where: { !valid($0) }) {
            let rule = name == "threshold" ? "positive and finite" : "finite"
            throw EngineError(.file, "\(path): \(name)[\(j)] is \(values[j]); JumpReLU thresholds must be \(rule) here "
                              + "(this autoencoder keeps their logarithms)")
        }
    }

    /// SAELens before 6.0 wrote a `scaling_factor` of ones, which SAELens
    /// drops on loading (within `allclose`'s tolerance); any other is refused.
    private func isAllOnes(_ t: Tensor?) throws -> Bool {
        guard let t, t.dtype.isFloatingPoint else { return false }
        return try t.cast(to: .float32).toFloats().allSatisfy { Swift.abs($0 - 1) <= 1e-5 }
    }
}
