import Foundation
import NeuroEngine

/// A scan as files: MechaMap's CSV (its columns first, exactly) and a JSON
/// document with every neuron. Both are read by pandas and `json.load`.
extension NeuronScan {
    /// MechaMap's columns, then ours.
    public static let csvHeader = ["model", "layer", "neuron", "category", "avg_activation", "top_tokens", "selectivity"]

    /// One row per (neuron, category) whose mean reaches the threshold, in
    /// neuron then category order. `top_tokens` is `token:value|token:value`;
    /// inside a token, `\` and `|` are written `\\` and `\|`, so a reader
    /// splits at the bars that follow no backslash, then each item at its
    /// last colon. An undefined selectivity is an empty cell.
    public func csv(model: String) -> String {
        var lines = [Self.csvHeader.joined(separator: ",")]
        for (n, neuron) in neurons.enumerated() {
            let tokens = topTokensCell(n)
            for c in 0..<categoryCount where mean(neuron: n, category: c) >= threshold {
                let s = selectivity(neuron: n, category: c)
                lines.append([model, String(neuron.layer), String(neuron.index), categories[c], jsonNumber7(mean(neuron: n, category: c)),
                              tokens, s.isFinite ? jsonNumber7(s) : ""].map(csvCell).joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A neuron's top tokens as one CSV field: `token:value|token:value`.
    func topTokensCell(_ n: Int) -> String {
        topTokens[n].map { token, value in
            token.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "|", with: "\\|") + ":" + jsonNumber7(value)
        }.joined(separator: "|")
    }

    /// The whole scan as JSON: the model, the configuration (`config`, each
    /// value already JSON), per category its occurrences, missing words,
    /// passing and by-chance counts, and per neuron its means, selectivities
    /// (null where undefined) and top tokens.
    public func json(model: String, config: [(String, String)]) -> String {
        let occurrences = text.occurrences
        let categoryItems = categories.enumerated().map { c, name in
            "    {" + [("name", jsonQuoted(name)), ("occurrences", String(occurrences[c])),
                       ("missing", "[" + text.missing[c].map(jsonQuoted).joined(separator: ", ") + "]"),
                       ("passing", String(chance[c].passing)), ("by_chance", jsonNumber7(chance[c].byChance)),
                       ("p", jsonNumber7(chance[c].p))]
                .map { "\(jsonQuoted($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
        }
        func byCategory(_ values: (Int) -> Double) -> String {
            "{" + categories.indices.map { "\(jsonQuoted(categories[$0])): \(jsonNumber7(values($0)))" }.joined(separator: ", ") + "}"
        }
        let neuronItems = neurons.enumerated().map { n, neuron in
            let top = topTokens[n].map { "[\(jsonQuoted($0.token)), \(jsonNumber7($0.activation))]" }.joined(separator: ", ")
            return "    {\"layer\": \(neuron.layer), \"neuron\": \(neuron.index), "
                + "\"means\": \(byCategory { mean(neuron: n, category: $0) }), "
                + "\"selectivity\": \(byCategory { selectivity(neuron: n, category: $0) }), "
                + "\"top_tokens\": [\(top)]}"
        }
        let settings = config.map { "    \(jsonQuoted($0.0)): \($0.1)" }.joined(separator: ",\n")
        return "{\n  \"model\": \(jsonQuoted(model)),\n  \"config\": {\n\(settings)\n  },\n"
            + "  \"tokens\": \(text.tokens.count),\n"
            + "  \"categories\": [\n\(categoryItems.joined(separator: ",\n"))\n  ],\n"
            + "  \"neurons\": [\n\(neuronItems.joined(separator: ",\n"))\n  ]\n}\n"
    }
}
