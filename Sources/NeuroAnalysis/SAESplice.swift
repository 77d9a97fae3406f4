import NeuroEngine
import NeuroModels

/// A sparse autoencoder spliced into the model it was trained on: the
/// activation at its hook replaced by the autoencoder's reconstruction (at
/// the positions it was trained on), and the model's loss compared with the
/// clean run and with the activation zero-ablated there.
/// `recovered` = (CE_zero − CE_spliced) / (CE_zero − CE_clean): 1 when the
/// reconstruction loses nothing, 0 when it is no better than zeros; NaN when
/// zero-ablating does not raise the loss (the ratio then means nothing: it
/// is undefined, not a share). `kl` is the mean
/// KL divergence of the spliced predictions from the clean ones.
public struct SpliceResult: Sendable, Equatable {
    public let clean: Double
    public let spliced: Double
    public let zeroAblated: Double
    public let recovered: Double
    public let kl: Double

    /// Runs the model three times through `logits(hooks)`: clean, with the
    /// reconstruction at `point`, with zeros there. `positions` [pos] marks
    /// with 1 the positions replaced (nil: all). `loss` is the model's
    /// cross-entropy from its logits; `logProbabilities` the log-probabilities
    /// [rows, vocab] whose KL is averaged.
    public static func measure(_ sae: SparseAutoencoder, at point: HookPoint, positions: Tensor?,
                               logits: ([Hook]) throws -> Tensor, loss: (Tensor) throws -> Double,
                               logProbabilities: (Tensor) throws -> Tensor) throws -> SpliceResult {
        func replaced(_ make: @escaping (Tensor) throws -> Tensor) -> Hook {
            Hook(point) { activation, _ in
                let shape = activation.shape
                guard let width = shape.last, width == sae.config.dIn else {
                    throw EngineError(.shape, subject: "sae", "\(point.name) is \(formatShape(shape)); the autoencoder reads width \(sae.config.dIn)")
                }
                let flat = try activation.reshaped([activation.count / width, width])
                let new = try make(flat).reshaped(shape)
                guard let positions else { return new }
                // Only the marked positions change: x + mask·(new − x), mask [1, pos, 1].
                let mask = try positions.reshaped([1, positions.count] + [Int](repeating: 1, count: max(0, shape.count - 2)))
                return try activation + (new - activation) * mask
            }
        }
        let clean = try logits([])
        let spliced = try logits([replaced { try sae.reconstruction(of: $0) }])
        let zero = try logits([replaced { try $0 * 0 }])
        let (ceClean, ceSpliced, ceZero) = (try loss(clean), try loss(spliced), try loss(zero))
        let p = try logProbabilities(clean), q = try logProbabilities(spliced)
        let kl = try (p.exp() * (p - q)).sum(axes: [-1]).mean().item()
        let gap = ceZero - ceClean
        return SpliceResult(clean: ceClean, spliced: ceSpliced, zeroAblated: ceZero,
                            recovered: gap > 1e-9 * Swift.max(1, Swift.abs(ceClean)) ? (ceZero - ceSpliced) / gap : .nan, kl: kl)
    }
}
