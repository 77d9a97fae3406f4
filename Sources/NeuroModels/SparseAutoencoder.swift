import Foundation
import NeuroEngine

/// The sparse autoencoders of the literature, in SAELens's parameter names
/// and layout (`W_enc` [d_in, d_sae], `b_enc`, `W_dec` [d_sae, d_in], `b_dec`).
public enum SAEKind: String, CaseIterable, Sendable {
    /// ReLU encoder; L1 of the features weighted by their decoder norms.
    case standard
    /// Rajamanoharan et al. 2024: a gate (`W_enc`, `b_gate`) decides which
    /// features fire, a magnitude path (`W_enc ⊙ exp(r_mag)`, `b_mag`) how much.
    case gated
    /// Gao et al. 2024: the `k` largest pre-activations of each input, with
    /// the AuxK loss that revives dead latents.
    case topk
    /// Rajamanoharan et al. 2024b: ReLU with a learned threshold per feature,
    /// an L0 penalty, straight-through gradients.
    case jumprelu
}

/// How a sparse autoencoder is shaped and trained.
public struct SAEConfig: Sendable, Equatable {
    public var kind: SAEKind
    public var dIn: Int
    public var dSAE: Int
    /// The sparsity coefficient: of the weighted L1 (standard, gated) or of L0 (JumpReLU).
    public var sparsity: Double
    /// Active latents per input (TopK).
    public var k: Int
    /// Latents the AuxK loss uses (TopK), and its weight.
    public var kAux: Int
    public var auxWeight: Double
    /// Steps a latent may go without firing before AuxK counts it dead (TopK).
    public var deadAfter: Int
    /// JumpReLU's kernel width and initial threshold, in the training scale
    /// (where E‖x‖ = √d_in, so pre-activations are of order 1).
    public var bandwidth: Double
    public var initialThreshold: Double
    public var seed: UInt64
    /// Whether `b_dec` is subtracted from the input before encoding (SAELens's
    /// `apply_b_dec_to_input`); when false the encoder sees the input as is.
    public var applyDecoderBiasToInput = true

    /// Defaults that train without tuning on normalised activations (E‖x‖ = √d_in).
    public init(kind: SAEKind, dIn: Int, dSAE: Int, sparsity: Double? = nil, k: Int? = nil, seed: UInt64 = 0) {
        self.kind = kind
        self.dIn = dIn
        self.dSAE = dSAE
        self.sparsity = sparsity ?? SAEConfig.defaultSparsity(kind)
        self.k = k ?? max(1, min(dSAE, 32))
        self.kAux = max(1, min(dSAE, dIn / 2))
        self.auxWeight = 1.0 / 32
        self.deadAfter = 200
        self.bandwidth = 0.1
        self.initialThreshold = 0.5
        self.seed = seed
    }

    /// The default sparsity coefficient of each kind, for the training scale:
    /// chosen on the synthetic benchmark (`sae_synthetic`), where each
    /// recovers the known directions at about the true L0. The gated
    /// autoencoder's is larger because its decoder rows are held at unit norm.
    public static func defaultSparsity(_ kind: SAEKind) -> Double {
        switch kind {
        case .standard: return 1
        case .gated: return 8
        case .topk: return 0
        case .jumprelu: return 1
        }
    }

    /// The largest latent count accepted (the encoder and decoder hold 2·d_in·d_sae floats).
    public static let maxLatents = 1 << 20

    /// Throws, naming the argument, for sizes that make no autoencoder or would not fit.
    public func validate() throws {
        guard dIn >= 1 else { throw EngineError(.argument, subject: "sae", "d_in must be 1 or more, got \(dIn)") }
        guard dSAE >= 1 else { throw EngineError(.argument, subject: "sae", "d_sae must be 1 or more, got \(dSAE)") }
        guard dSAE <= SAEConfig.maxLatents, dIn.multipliedReportingOverflow(by: dSAE).partialValue <= Tensor.maxElements / 4,
              !dIn.multipliedReportingOverflow(by: dSAE).overflow else {
            throw EngineError(.argument, subject: "sae", "d_sae \(dSAE) with d_in \(dIn) is too large: the encoder and decoder alone "
                              + "would hold \(dIn) × \(dSAE) weights each")
        }
        guard sparsity >= 0, sparsity.isFinite else { throw EngineError(.argument, subject: "sae", "the sparsity coefficient must be 0 or more, got \(sparsity)") }
        if kind == .topk {
            guard k >= 1, k <= dSAE else { throw EngineError(.argument, subject: "sae", "k must be 1 to d_sae (\(dSAE)), got \(k)") }
        }
    }
}

/// A sparse autoencoder over activations of width `d_in`: features
/// f = encode(x) of width `d_sae`, reconstruction x̂ = f·W_dec + b_dec. It
/// is trained (as a `Trainable`) on inputs scaled by `inputScale`, chosen so
/// that E‖x‖ = √d_in on the training set; `features(of:)` and
/// `reconstruction(of:)` take and give activations in their own scale.
///
/// ```swift
/// let sae = try SparseAutoencoder(SAEConfig(kind: .gated, dIn: 64, dSAE: 256), fittedTo: acts)
/// let loop = try TrainingLoop(model: sae, optimizer: AdamW(parameters: sae.parameters, weightDecay: 0),
///                             batches: .minibatches(try Batch([sae.scaled(acts)]), size: 1024, seed: 0))
/// try loop.train(epochs: 50)
/// ```
public final class SparseAutoencoder: Trainable {
    public let config: SAEConfig
    /// What inputs are multiplied by before encoding (and outputs divided by after decoding).
    public let inputScale: Double
    public let W_enc: Tensor
    public let b_enc: Tensor
    public let W_dec: Tensor
    public let b_dec: Tensor
    /// Gated: the gate's bias, and the magnitude path's rescaling and bias.
    public let b_gate: Tensor?
    public let r_mag: Tensor?
    public let b_mag: Tensor?
    /// JumpReLU: the log of each feature's threshold.
    public let logThreshold: Tensor?
    /// TopK: steps since each latent last fired, for AuxK.
    private var idleSteps: [Int]

    /// Fresh weights: decoder rows in random directions (norm 0.1), the
    /// encoder its transpose, biases 0 except `b_dec`, set to the data's mean.
    public convenience init(_ config: SAEConfig, fittedTo activations: Tensor) throws {
        try config.validate()
        guard activations.rank == 2, activations.shape[1] == config.dIn, activations.shape[0] >= 1 else {
            throw EngineError(.shape, subject: "sae", "activations must be [N, d_in = \(config.dIn)], got \(formatShape(activations.shape))")
        }
        let x = try activations.cast(to: .float32)
        let meanNorm = try x.norm(axes: [1]).mean().item()
        guard meanNorm.isFinite, meanNorm > 0 else {
            throw EngineError(.numeric, subject: "sae", "the activations' mean norm is \(meanNorm): nothing to learn from")
        }
        let scale = Double(config.dIn).squareRoot() / meanNorm
        var rng = RandomGenerator(seed: config.seed)
        let directions = try Tensor.randn([config.dSAE, config.dIn], using: &rng)
        let decoder = try (directions / directions.norm(axes: [1], keepDims: true)) * 0.1
        let center = try (x.mean(axes: [0]) * scale).contiguous()
        var weights: [String: Tensor] = [
            "W_enc": try decoder.transposed().contiguous(), "W_dec": decoder.contiguous(), "b_dec": center,
        ]
        let zeros = try Tensor.zeros([config.dSAE])
        switch config.kind {
        case .gated:
            weights["b_gate"] = zeros
            weights["r_mag"] = try Tensor.zeros([config.dSAE])
            weights["b_mag"] = try Tensor.zeros([config.dSAE])
        case .jumprelu:
            weights["b_enc"] = zeros
            weights["log_threshold"] = try Tensor.full([config.dSAE], value: Foundation.log(config.initialThreshold))
        case .standard, .topk:
            weights["b_enc"] = zeros
        }
        try self.init(config, inputScale: scale, weights: weights)
    }

    /// An autoencoder from its weights (as SAELens names them; `log_threshold`
    /// for JumpReLU), checked against the configuration.
    public init(_ config: SAEConfig, inputScale: Double, weights: [String: Tensor]) throws {
        try config.validate()
        guard inputScale > 0, inputScale.isFinite else { throw EngineError(.argument, subject: "sae", "the input scale must be positive, got \(inputScale)") }
        func weight(_ name: String, _ shape: [Int]) throws -> Tensor {
            guard let t = weights[name] else { throw EngineError(.file, subject: "sae", "the \(config.kind.rawValue) autoencoder needs '\(name)'") }
            guard t.shape == shape else {
                throw EngineError(.shape, subject: "sae", "'\(name)' is \(formatShape(t.shape)), expected \(formatShape(shape))")
            }
            return try t.cast(to: .float32).clone().detached().requiringGrad()
        }
        let (d, m) = (config.dIn, config.dSAE)
        self.config = config
        self.inputScale = inputScale
        W_enc = try weight("W_enc", [d, m])
        W_dec = try weight("W_dec", [m, d])
        b_dec = try weight("b_dec", [d])
        let gated = config.kind == .gated
        b_enc = gated ? try Tensor.zeros([m]) : try weight("b_enc", [m])
        b_gate = gated ? try weight("b_gate", [m]) : nil
        r_mag = gated ? try weight("r_mag", [m]) : nil
        b_mag = gated ? try weight("b_mag", [m]) : nil
        logThreshold = config.kind == .jumprelu ? try weight("log_threshold", [m]) : nil
        idleSteps = [Int](repeating: 0, count: m)
    }

    public var parameters: [NamedParameter] {
        var list = [NamedParameter("W_enc", W_enc), NamedParameter("W_dec", W_dec), NamedParameter("b_dec", b_dec)]
        switch config.kind {
        case .gated:
            if let b_gate, let r_mag, let b_mag {
                list += [NamedParameter("b_gate", b_gate), NamedParameter("r_mag", r_mag), NamedParameter("b_mag", b_mag)]
            }
        case .jumprelu:
            list.append(NamedParameter("b_enc", b_enc))
            if let logThreshold { list.append(NamedParameter("log_threshold", logThreshold)) }
        case .standard, .topk:
            list.append(NamedParameter("b_enc", b_enc))
        }
        return list
    }

    /// `x` [N, d_in] in the training scale.
    public func scaled(_ x: Tensor) throws -> Tensor { try x.cast(to: .float32) * inputScale }

    // MARK: - Encoding and decoding (in the training scale)

    /// What the encoder computes before its nonlinearity.
    struct Encoding {
        /// The features.
        let features: Tensor
        /// The pre-activations (TopK, JumpReLU, standard) or the gate's (gated).
        let pre: Tensor
    }

    func encoding(_ x: Tensor) throws -> Encoding {
        switch config.kind {
        case .standard:
            let pre = try project(x, W_enc, b_enc)
            return Encoding(features: try pre.relu(), pre: pre)
        case .gated:
            guard let b_gate, let r_mag, let b_mag else { throw EngineError(.argument, subject: "sae", "a gated autoencoder without its gate") }
            let gate = try project(x, W_enc, b_gate)
            let magnitude = try project(x, try W_enc * r_mag.exp(), b_mag).relu()
            let open = try GradMode.withNoGrad { try gate.heaviside(threshold: Tensor.zeros([config.dSAE]), bandwidth: 1) }
            return Encoding(features: try magnitude * open, pre: gate)
        case .topk:
            let pre = try project(x, W_enc, b_enc)
            let mask = try GradMode.withNoGrad { try pre.topKMask(k: config.k) }
            return Encoding(features: try pre.relu() * mask, pre: pre)
        case .jumprelu:
            guard let logThreshold else { throw EngineError(.argument, subject: "sae", "a JumpReLU autoencoder without thresholds") }
            let pre = try project(x, W_enc, b_enc)
            return Encoding(features: try pre.jumpReLU(threshold: logThreshold.exp(), bandwidth: config.bandwidth), pre: pre)
        }
    }

    /// (x − b_dec)·w + bias (x·w + bias when the decoder bias is not applied
    /// to the input), computed as x·w + (bias − b_dec·w): the same value, and
    /// its backward pass needs no product of the size of x for b_dec's
    /// gradient (x needs none), and one addition of that size, not two.
    private func project(_ x: Tensor, _ w: Tensor, _ bias: Tensor) throws -> Tensor {
        guard config.applyDecoderBiasToInput else { return try x.matmul(w) + bias }
        return try x.matmul(w) + (bias - b_dec.reshaped([1, config.dIn]).matmul(w))
    }

    func decode(_ features: Tensor) throws -> Tensor { try features.matmul(W_dec) + b_dec }

    /// Sets every decoder row to unit norm, in place. The gated autoencoder
    /// keeps its decoder so (its penalty is on the gate, which a shrinking
    /// decoder would otherwise evade): before every step and after the last.
    func normalizeDecoder() throws {
        try GradMode.withNoGrad { try W_dec.assign(W_dec / (W_dec.norm(axes: [1], keepDims: true) + 1e-12)) }
    }

    /// Each feature's decoder norm, [d_sae].
    func decoderNorms() throws -> Tensor { try W_dec.norm(axes: [1]) }

    // MARK: - Loss

    /// The training loss of a batch (in the training scale): the squared
    /// error summed over dimensions, averaged over inputs, plus each kind's
    /// sparsity and auxiliary terms.
    public func loss(on batch: Batch) throws -> Tensor {
        if config.kind == .gated { try normalizeDecoder() }
        let x = batch[0]
        let encoded = try encoding(x)
        let reconstruction = try decode(encoded.features)
        let error = try (reconstruction - x).square().sum(axes: [1]).mean()
        switch config.kind {
        case .standard:
            // Σ over inputs and features of fᵢ‖W_dec,i‖, as the features' column sums times the norms.
            let penalty = try (encoded.features.sum(axes: [0]) * decoderNorms()).sum() * (1 / Double(x.shape[0]))
            return try error + penalty * config.sparsity
        case .gated:
            let gate = try encoded.pre.relu()
            let penalty = try (gate.sum(axes: [0]) * decoderNorms()).sum() * (1 / Double(x.shape[0]))
            // The gate alone must reconstruct too, through a decoder it does not train.
            let auxiliary = try ((gate.matmul(W_dec.detached()) + b_dec.detached()) - x).square().sum(axes: [1]).mean()
            return try error + penalty * config.sparsity + auxiliary
        case .topk:
            return try error + auxK(x, reconstruction: reconstruction, encoded: encoded)
        case .jumprelu:
            guard let logThreshold else { throw EngineError(.argument, subject: "sae", "a JumpReLU autoencoder without thresholds") }
            let l0 = try encoded.pre.heaviside(threshold: logThreshold.exp(), bandwidth: config.bandwidth).sum(axes: [1]).mean()
            return try error + l0 * config.sparsity
        }
    }

    /// TopK's AuxK: the residual error reconstructed by the `kAux` largest
    /// pre-activations among latents idle for `deadAfter` steps, weighted by
    /// `auxWeight`. Also counts which latents fired in this batch.
    private func auxK(_ x: Tensor, reconstruction: Tensor, encoded: Encoding) throws -> Tensor {
        let fired = try GradMode.withNoGrad { try (encoded.features.sum(axes: [0])).toFloats() }
        for j in idleSteps.indices { idleSteps[j] = fired[j] > 0 ? 0 : idleSteps[j] + 1 }
        let dead = idleSteps.map { $0 >= config.deadAfter }
        let deadCount = dead.filter { $0 }.count
        guard deadCount > 0, config.auxWeight > 0 else { return try Tensor.zeros([]) }
        let k = min(config.kAux, deadCount)
        let residual = try (x - reconstruction).detached()
        let onlyDead = try Tensor(dead.map { $0 ? Float(0) : -Float.greatestFiniteMagnitude }, shape: [config.dSAE])
        let mask = try GradMode.withNoGrad { try (encoded.pre.detached() + onlyDead).topKMask(k: k) }
        let revived = try (encoded.pre.relu() * mask).matmul(W_dec)
        return try (revived - residual).square().sum(axes: [1]).mean() * config.auxWeight
    }

    // MARK: - Use (in the activations' own scale)

    /// Features [N, d_sae] of activations [N, d_in].
    public func features(of activations: Tensor) throws -> Tensor {
        try checkInput(activations)
        return try GradMode.withNoGrad { try encoding(scaled(activations)).features }
    }

    /// Reconstructions [N, d_in] of activations [N, d_in], in their scale.
    public func reconstruction(of activations: Tensor) throws -> Tensor {
        try checkInput(activations)
        return try GradMode.withNoGrad { try decode(encoding(scaled(activations)).features) * (1 / inputScale) }
    }

    func checkInput(_ x: Tensor) throws {
        guard x.rank == 2, x.shape[1] == config.dIn else {
            throw EngineError(.shape, subject: "sae", "activations must be [N, d_in = \(config.dIn)], got \(formatShape(x.shape))")
        }
    }
}
