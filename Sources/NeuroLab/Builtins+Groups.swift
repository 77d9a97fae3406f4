import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroPlots
import NeuroModels
import NeuroAnalysis

/// `irreps`: which irreducible representations a model trained on a group
/// dataset computes with (Chughtai et al. 2023), with its picture.
extension Builtins {
    static let irreps = Builtin("irreps", "irreps(model, data: d, threshold: 0.1)",
                                "the group representations a model computes with: logit similarity with χ_ρ(a·b·c⁻¹), logits explained, key representations, W_E, W_U and MLP-neuron variance per representation",
                                parameters: ["model", "data", "threshold"]) { args in
        let session = args.interpreter.session
        let model = try args.object(0, "model", as: ModelObject.self, what: "a model") ?? session.requireModel("irreps")
        let given = try args.object(1, "data", as: DatasetObject.self, what: "a dataset")
        guard let data = given?.dataset ?? session.data?.dataset ?? model.trainer?.data else {
            throw args.error("needs a group dataset: give data: (made by group(n: 4), group(n: 7, kind: \"C\") or group(n: 5, kind: \"D\")) or use one")
        }
        switch data.task {
        case .symmetricGroup, .cyclicGroup, .dihedralGroup, .modular(.add, _): break
        default:
            let which = given == nil ? "the current dataset" : "the dataset given"
            let trained = model.trainer.map { "; the model was trained on \($0.data.task)" } ?? ""
            throw args.error("needs a model trained on a group dataset (S_n for n ≤ 5, C_n, D_n, or a+b mod p as C_p); \(which) is \(data.task)\(trained)")
        }
        let threshold = try args.number(2, "threshold", default: 0.1)
        let r = try args.engine { try IrrepAnalysis(model: model.model, data: data, threshold: threshold) }
        let reps = r.group.representations
        func percent(_ x: Double) -> String { Formatter.percent(x) }
        // Three decimals, with no "-0.000" for a value that rounds to zero.
        func similarity(_ x: Double) -> String { String(format: "%.3f", abs(x) < 0.0005 ? 0 : x) }
        let rows = reps.indices.map { i -> [String] in
            [reps[i].name, String(reps[i].dimension), reps[i].about.isEmpty ? "–" : reps[i].about,
             similarity(r.logitSimilarity[i]), percent(r.logitExplained[i]), percent(r.embeddingExplained[i]),
             r.unembeddingExplained.map { percent($0[i]) } ?? "–", r.neuronExplained.map { percent($0[i]) } ?? "–",
             r.key.contains(i) ? "✓" : ""]
        }
        let keyText = r.key.isEmpty
            ? "no key representation (none has logit similarity > \(Formatter.number(threshold)))"
            : "key representations " + r.key.map { "\(reps[$0].name) (\(similarity(r.logitSimilarity[$0])))" }.joined(separator: ", ")
                + " (logit similarity > \(Formatter.number(threshold))) explain \(percent(r.keyExplained)) of the centred logits"
        let names = reps.map { Value.string($0.name) }
        let result = ResultValue(
            heading: "group representations", figure: Figure.irreps,
            kind: "irreps", title: "\(r.group.name) (\(r.group.order) elements, \(reps.count) representations) · \(keyText)",
            fields: [("group", .string(r.group.name)), ("order", .number(Double(r.group.order))),
                     ("reps", .list(names)), ("dims", numbers(reps.map(\.dimension))),
                     ("logit_similarity", try tensor(r.logitSimilarity)), ("logit_explained", try tensor(r.logitExplained)),
                     ("threshold", .number(threshold)), ("key", .list(r.key.map { names[$0] })),
                     ("key_explained", .number(r.keyExplained)),
                     ("embed_explained", try tensor(r.embeddingExplained)),
                     ("unembed_explained", try r.unembeddingExplained.map { try tensor($0) } ?? .none),
                     ("mlp_explained", try r.neuronExplained.map { try tensor($0) } ?? .none)],
            header: ["rep", "dim", "what", "logit sim", "logits expl", "W_E expl", "W_U expl", "MLP expl", "key"], rows: rows,
            mainTensor: try Tensor(float64: r.logitSimilarity, shape: [reps.count]))
        session.results.append(result)
        return .object(result)
    }
}

// MARK: - Pictures

extension Figure {
    /// An `irreps` result: per representation, its logit similarity and the shares of W_E, W_U and the MLP neurons it explains.
    static func irreps(_ r: ResultValue) throws -> Figure {
        guard case .list(let names)? = r.fields["reps"] else { throw RuntimeError("an irreps result has no reps") }
        let categories = names.map { value -> String in
            if case .string(let s) = value { return s }
            return "\(value)"
        }
        var groups: [BarPanel.Group] = [.init(name: "logit similarity", values: try r.doubles("logit_similarity")),
                                        .init(name: "W_E explained", values: try r.doubles("embed_explained"))]
        if case .tensor? = r.fields["unembed_explained"] { groups.append(.init(name: "W_U explained", values: try r.doubles("unembed_explained"))) }
        if case .tensor? = r.fields["mlp_explained"] { groups.append(.init(name: "MLP explained", values: try r.doubles("mlp_explained"))) }
        let bars = BarPanel(title: "representations", xLabel: "representation", yLabel: "similarity / fraction",
                            categories: categories, groups: groups)
        return Figure(title: r.title, panels: [.bars(bars)])
    }
}
