import Foundation
import NeuroEngine

/// A SAELens `cfg.json`, read as SAELens 6 reads it (`SAE.load_from_disk`):
/// the fields that decide the forward pass, with SAELens's defaults, its
/// conversion of files older than 6.0, and an error naming the file and the
/// field for anything missing, misshapen or not computed the same way here.
///
/// The fields read: `architecture` (standard, gated, topk, jumprelu),
/// `d_in`, `d_sae`, `dtype` (default float32; the weights are computed in
/// float32 whatever it says), `apply_b_dec_to_input` (default true),
/// `normalize_activations` (only "none"), `reshape_activations` ("none", or
/// "hook_z": the same autoencoder on the heads flattened, [N, n_heads·d_head]),
/// and for topk `k` (default 100, as in SAELens) and
/// `rescale_acts_by_decoder_norm` (default false). Other fields are metadata.
struct SAELensConfig {
    let path: String
    let kind: SAEKind
    let dIn: Int
    let dSAE: Int
    let k: Int
    let applyDecoderBiasToInput: Bool
    /// TopK: the pre-activations are multiplied by the decoder's row norms
    /// before the top k are chosen, and the features divided by them before decoding.
    let rescalesByDecoderNorm: Bool

    /// The architectures SAELens 6 registers that this autoencoder does not compute.
    static let otherArchitectures = ["abstopk", "batchtopk", "matryoshka_batchtopk", "transcoder", "skip_transcoder",
                                     "jumprelu_transcoder", "jumprelu_skip_transcoder", "temporal", "matching_pursuit"]
    static let dtypes = ["float32", "float64", "float16", "bfloat16", "torch.float32", "torch.float64", "torch.float16", "torch.bfloat16"]
    static let normalizations = ["none", "expected_average_only_in", "constant_norm_rescale", "layer_norm", "covariance_whitening"]

    init(path: String) throws {
        self.path = path
        let fields = try ConfigFields(path: path)
        let version = fields.value("metadata")?.member("sae_lens_version")?.string ?? fields.value("sae_lens_version")?.string
        // SAELens converts the files of versions before 6.0 (or with no version) on loading.
        let legacy = version.map { (Int($0.prefix { $0.isNumber }) ?? 6) < 6 } ?? true

        var architecture = try fields.string("architecture")
        var legacyK: Int? = nil
        if legacy {
            let activation = fields.value("activation_fn")?.string ?? fields.value("activation_fn_str")?.string
            if activation == "topk", let kwargs = fields.value("activation_fn_kwargs"), kwargs.member("k") != nil {
                architecture = "topk"
                legacyK = try ConfigFields(path: path, object: kwargs, prefix: "activation_fn_kwargs.").int("k")
            }
            architecture = architecture ?? "standard"
        }
        guard let architecture else {
            throw EngineError(.file, "\(path): missing field 'architecture' (standard, gated, topk or jumprelu)")
        }
        kind = try SAELensConfig.kind(architecture, path: path)
        dIn = try fields.int("d_in")
        dSAE = try fields.int("d_sae")
        k = try legacyK ?? (kind == .topk ? fields.int("k", default: 100) : 0)
        applyDecoderBiasToInput = try fields.bool("apply_b_dec_to_input", default: true)
        rescalesByDecoderNorm = kind == .topk ? try fields.bool("rescale_acts_by_decoder_norm", default: false) : false

        if let dtype = try fields.string("dtype"), !SAELensConfig.dtypes.contains(dtype) {
            throw EngineError(.file, "\(path): field 'dtype' is '\(dtype)', not a dtype SAELens knows (\(SAELensConfig.dtypes.prefix(4).joined(separator: ", ")))"
                              + Self.didYouMean(dtype, among: SAELensConfig.dtypes))
        }
        try SAELensConfig.checkNormalization(fields, legacy: legacy)
        let reshape = try fields.string("reshape_activations") ?? "none"
        guard reshape == "none" || reshape == "hook_z" else {
            throw EngineError(.file, "\(path): field 'reshape_activations' is '\(reshape)'; SAELens knows none and hook_z"
                              + Self.didYouMean(reshape, among: ["none", "hook_z"]))
        }
    }

    /// The configuration of the autoencoder, checked (sizes, k) with errors naming this file.
    func config() throws -> SAEConfig {
        guard dIn >= 1, dSAE >= 1 else {
            throw EngineError(.file, "\(path): d_in and d_sae must be 1 or more, got d_in \(dIn) and d_sae \(dSAE)")
        }
        if kind == .topk, !(1...dSAE).contains(k) {
            throw EngineError(.file, "\(path): field 'k' is \(k); a topk autoencoder keeps 1 to d_sae (\(dSAE)) features")
        }
        var config = SAEConfig(kind: kind, dIn: dIn, dSAE: dSAE, k: kind == .topk ? k : nil)
        config.applyDecoderBiasToInput = applyDecoderBiasToInput
        do {
            try config.validate()
        } catch let error as EngineError {
            throw EngineError(.file, "\(path): \(error.detail)")
        }
        return config
    }

    private static func kind(_ architecture: String, path: String) throws -> SAEKind {
        if let kind = SAEKind(rawValue: architecture) { return kind }
        let supported = SAEKind.allCases.map(\.rawValue).joined(separator: ", ")
        if otherArchitectures.contains(architecture) {
            throw EngineError(.file, "\(path): architecture '\(architecture)' is not supported (supported: \(supported))")
        }
        throw EngineError(.file, "\(path): unknown architecture '\(architecture)' (supported: \(supported))"
                          + didYouMean(architecture, among: SAEKind.allCases.map(\.rawValue) + otherArchitectures))
    }

    /// Refuses every input normalisation: each needs something this file does
    /// not hold, or rescales inputs one by one, which this autoencoder does not.
    private static func checkNormalization(_ fields: ConfigFields, legacy: Bool) throws {
        let name: String
        switch fields.value("normalize_activations") {
        case .bool(let on)? where legacy: name = on ? "expected_average_only_in" : "none"
        case nil, .null?: name = "none"
        default: name = try fields.string("normalize_activations") ?? "none"
        }
        let why: String
        switch name {
        case "none": return
        case "expected_average_only_in":
            why = "the activations were scaled by a factor this file does not hold (SAELens folds it into the weights "
                + "with fold_activation_norm_scaling_factor when training ends); fold it and save again"
        case "constant_norm_rescale", "layer_norm":
            why = "SAELens rescales each input at run time, which this autoencoder does not do"
        case "covariance_whitening":
            why = "the activations were whitened with statistics this file does not hold; fold them "
                + "(fold_activation_whitening) and save again"
        default:
            throw EngineError(.file, "\(fields.path): field 'normalize_activations' is '\(name)', which SAELens does not know "
                              + "(\(normalizations.joined(separator: ", ")))" + didYouMean(name, among: normalizations))
        }
        throw EngineError(.file, "\(fields.path): normalize_activations '\(name)' is not supported: \(why)")
    }

    static func didYouMean(_ word: String, among candidates: [String]) -> String {
        Suggest.closest(word, among: candidates).map { "; did you mean '\($0)'?" } ?? ""
    }
}

/// The members of a JSON object read from a file, each read with an error
/// naming the file and the field.
private struct ConfigFields {
    let path: String
    let object: HeaderValue
    /// Written before field names in errors (`activation_fn_kwargs.`).
    var prefix = ""

    init(path: String, object: HeaderValue, prefix: String) {
        self.path = path
        self.object = object
        self.prefix = prefix
    }

    init(path: String) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            let folder = (path as NSString).deletingLastPathComponent
            throw EngineError(.file, "\(folder): no cfg.json in the folder; a SAELens folder has cfg.json and sae_weights.safetensors")
        }
        let bytes = try readFileBytes(path, atMost: 16 << 20)
        do {
            object = try HeaderParser.parse(bytes, dialect: .json)
        } catch let error as HeaderParser.SyntaxError {
            throw EngineError(.file, "\(path): not valid JSON: \(error.message)")
        }
        guard object.members != nil else { throw EngineError(.file, "\(path): not a JSON object") }
    }

    /// The field's value; nil when missing.
    func value(_ key: String) -> HeaderValue? { object.member(key) }

    /// A string field; nil when missing or null.
    func string(_ key: String) throws -> String? {
        switch value(key) {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case let other?: throw mistyped(key, "a string", other)
        }
    }

    func int(_ key: String) throws -> Int {
        switch value(key) {
        case nil, .null?: throw EngineError(.file, "\(path): missing field '\(prefix)\(key)'")
        case .integer(let n)?: return n
        case let other?: throw mistyped(key, "an integer", other)
        }
    }

    func int(_ key: String, default fallback: Int) throws -> Int {
        switch value(key) {
        case nil, .null?: return fallback
        default: return try int(key)
        }
    }

    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        switch value(key) {
        case nil, .null?: return fallback
        case .bool(let flag)?: return flag
        case let other?: throw mistyped(key, "true or false", other)
        }
    }

    private func mistyped(_ key: String, _ expected: String, _ value: HeaderValue) -> EngineError {
        let shown: String
        switch value {
        case .string(let text): shown = "'\(text)'"
        case .integer(let n): shown = "\(n)"
        case .number(let x): shown = "\(x)"
        case .bool(let flag): shown = "\(flag)"
        case .null: shown = "null"
        case .array: shown = "an array"
        case .object: shown = "an object"
        }
        return EngineError(.file, "\(path): field '\(prefix)\(key)' must be \(expected), got \(shown)")
    }
}
