import Foundation
import NeuroAnalysis
import NeuroEngine
import NeuroLanguage
import NeuroModels
import NeuroPlots

/// A trained sparse autoencoder in the language: its weights (SAELens's
/// names), how it was trained, and its metrics on held-out activations.
/// `features(s, x)` and `reconstruct(s, x)` use it; `plot(s)` draws its
/// training curve and its features' firing frequencies.
public final class SAEObject: NativeObject, Pictured {
    public let sae: SparseAutoencoder
    /// Its metrics on held-out activations (none for one loaded from a file).
    public let metrics: SAEMetrics?
    /// The training loss after each pass over the data (in the training scale).
    public let losses: [Double]
    /// Where the activations came from (`blocks.0.mlp.hook_post on all inputs`, `a [4096, 64] tensor`).
    public let source: String
    /// The splice test, when the activations came from a model with logits.
    public let splice: SpliceResult?
    /// How training ended, when not by finishing (stopped, diverged).
    public let note: String?
    /// The hook it was trained on, when it came from a model (saved as SAELens's `hook_name`).
    public let hookName: String?
    /// L0 and explained variance on the held-out inputs after some passes (about 100 at most).
    var curve: [(pass: Int, l0: Double, explained: Double)] = []
    /// What `feature(s, n)` reads: every activation it was made from, what each row is, and the model's direct path to its logits.
    var inspection: SAEInspection?

    init(sae: SparseAutoencoder, metrics: SAEMetrics?, losses: [Double], source: String, splice: SpliceResult?, note: String?,
         hookName: String? = nil) {
        self.sae = sae
        self.metrics = metrics
        self.losses = losses
        self.source = source
        self.splice = splice
        self.note = note
        self.hookName = hookName
    }

    public var typeName: String { "sae" }
    public var heading: String { "Sparse autoencoder" }

    public var fieldNames: [String] {
        ["kind", "d_in", "d_sae", "k", "sparsity", "input_scale", "W_enc", "b_enc", "W_dec", "b_dec", "b_gate", "r_mag", "b_mag", "threshold",
         "l0", "explained_variance", "mse", "cosine", "l2_ratio", "dead", "dense", "frequencies", "losses", "held_out",
         "ce_clean", "ce_spliced", "ce_zero", "ce_recovered", "kl", "source", "hook_name", "curve_passes", "l0_curve",
         "explained_variance_curve"]
    }

    public func field(_ name: String) throws -> Value? {
        let c = sae.config
        let measured = { (value: (SAEMetrics) -> Double) -> Value in self.metrics.map { .number(value($0)) } ?? Value.none }
        switch name {
        case "kind": return .string(c.kind.rawValue)
        case "d_in": return .number(Double(c.dIn))
        case "d_sae": return .number(Double(c.dSAE))
        case "k": return c.kind == .topk ? .number(Double(c.k)) : Value.none
        case "sparsity": return .number(c.sparsity)
        case "input_scale": return .number(sae.inputScale)
        case "W_enc": return .tensor(sae.W_enc.detached())
        case "b_enc": return c.kind == .gated ? Value.none : .tensor(sae.b_enc.detached())
        case "W_dec": return .tensor(sae.W_dec.detached())
        case "b_dec": return .tensor(sae.b_dec.detached())
        case "b_gate": return sae.b_gate.map { .tensor($0.detached()) } ?? Value.none
        case "r_mag": return sae.r_mag.map { .tensor($0.detached()) } ?? Value.none
        case "b_mag": return sae.b_mag.map { .tensor($0.detached()) } ?? Value.none
        case "threshold": return try sae.logThreshold.map { .tensor(try $0.detached().exp()) } ?? Value.none
        case "l0": return measured { $0.l0 }
        case "explained_variance": return measured { $0.explainedVariance }
        case "mse": return measured { $0.mse }
        case "cosine": return measured { $0.cosine }
        case "l2_ratio": return measured { $0.l2Ratio }
        case "dead": return measured { Double($0.deadFeatures) }
        case "dense": return measured { Double($0.denseFeatures) }
        case "frequencies": return try metrics.map { .tensor(try Tensor(float64: $0.frequencies, shape: [$0.frequencies.count])) } ?? Value.none
        case "losses": return .tensor(try Tensor(float64: losses, shape: [losses.count]))
        case "held_out": return measured { Double($0.count) }
        case "ce_clean": return splice.map { .number($0.clean) } ?? Value.none
        case "ce_spliced": return splice.map { .number($0.spliced) } ?? Value.none
        case "ce_zero": return splice.map { .number($0.zeroAblated) } ?? Value.none
        case "ce_recovered": return splice.map { .number($0.recovered) } ?? Value.none
        case "kl": return splice.map { .number($0.kl) } ?? Value.none
        case "source": return .string(source)
        case "hook_name": return hookName.map(Value.string) ?? Value.none
        case "curve_passes": return .tensor(try Tensor(float64: curve.map { Double($0.pass) }, shape: [curve.count]))
        case "l0_curve": return .tensor(try Tensor(float64: curve.map(\.l0), shape: [curve.count]))
        case "explained_variance_curve": return .tensor(try Tensor(float64: curve.map(\.explained), shape: [curve.count]))
        default: return nil
        }
    }

    public var summary: String {
        let c = sae.config
        var lines = ["\(c.kind.rawValue) sparse autoencoder \(c.dIn) → \(c.dSAE) \(metrics == nil ? "" : "on ")\(source)"
                     + (c.kind == .topk ? " · k \(c.k)" : " · sparsity coefficient \(Formatter.number(c.sparsity))")]
        if let m = metrics {
            lines.append("  held out (\(m.count) inputs): L0 \(Formatter.number(m.l0)) · explained variance \(Formatter.number(m.explainedVariance))"
                         + " · MSE \(Formatter.number(m.mse)) · cosine \(Formatter.number(m.cosine)) · L2 ratio \(Formatter.number(m.l2Ratio))")
            lines.append("  features: \(m.deadFeatures) dead (never fired), \(m.denseFeatures) dense (fire on over "
                         + "\(Int(SAEMetrics.denseAbove * 100))% of inputs) of \(c.dSAE)")
        } else {
            lines.append("  not measured here: features(s, acts) and reconstruct(s, acts) use it")
        }
        if let s = splice {
            let recovered = s.recovered.isNaN
                ? "CE recovered undefined (zero-ablating this hook does not raise the loss)"
                : "\(Formatter.number(s.recovered * 100))% of the CE recovered"
            lines.append("  spliced into the model: CE \(Formatter.number(s.clean)) clean · \(Formatter.number(s.spliced)) with the SAE · "
                         + "\(Formatter.number(s.zeroAblated)) zero-ablated → \(recovered) · KL \(Formatter.number(s.kl))")
        }
        if let note { lines.append("  " + note) }
        return lines.joined(separator: "\n")
    }

    /// Its training loss, and how often each feature fires (sorted).
    public func figure() throws -> Figure {
        guard let metrics else { throw RuntimeError("this autoencoder was loaded, not trained here: it has no training curve or frequencies to draw") }
        let epochs = losses.indices.map { Double($0 + 1) }
        let curve = LinePanel(title: "training loss", xLabel: "pass over the data", yLabel: "loss", series: [.init(name: "loss", x: epochs, y: losses)],
                              logY: true)
        let sorted = metrics.frequencies.sorted(by: >)
        let floor = 1 / Double(max(1, metrics.count))
        let frequencies = LinePanel(title: "firing frequency of each feature, most frequent first (dead ones at 1/inputs)",
                                    xLabel: "feature rank", yLabel: "share of inputs",
                                    series: [.init(name: "frequency", x: sorted.indices.map { Double($0 + 1) }, y: sorted.map { max($0, floor) })],
                                    logY: true)
        var panels: [Figure.Panel] = [.lines(curve)]
        if !self.curve.isEmpty {
            let passes = self.curve.map { Double($0.pass) }
            panels.append(.lines(LinePanel(title: "held out: L0 as training goes", xLabel: "pass over the data", yLabel: "active features",
                                           series: [.init(name: "L0", x: passes, y: self.curve.map(\.l0))])))
            panels.append(.lines(LinePanel(title: "held out: explained variance as training goes", xLabel: "pass over the data",
                                           yLabel: "explained variance", series: [.init(name: "explained", x: passes, y: self.curve.map(\.explained))])))
        }
        panels.append(.lines(frequencies))
        return Figure(title: summary.split(separator: "\n").first.map(String.init) ?? "sae", panels: panels)
    }
}

/// The inputs an autoencoder was trained on, kept for looking at one feature:
/// the activations [N, d_in], a label for each row (`(a, b) = (3, 7)`, or a
/// token in its context), and, where the hook has a direct path to the
/// logits, the matrix [d_in, d_vocab_out] of that path with the names of the outputs.
struct SAEInspection {
    let activations: Tensor
    let labels: [String]
    let unembed: Tensor?
    let outputNames: [String]
}
