import Foundation
import NeuroEngine
import NeuroModels

// A circuit as JSON (for scripts and other tools) and as Graphviz DOT (for
// pictures: `dot -Tsvg circuit.dot > circuit.svg`).

extension Circuit {
    /// The circuit as a JSON object:
    ///
    /// ```json
    /// {"method": "acdc τ=0.01 patch", "metric": "logit_diff",
    ///  "faithfulness": 0.97, "completeness": 0.91, "minimality": 1, "kl": 0.004,
    ///  "components": [{"name": "embed", "type": "embed", "layer": null, "head": null, "importance": null},
    ///                 {"name": "a0.1", "type": "head", "layer": 0, "head": 1, "importance": 0.82}, …],
    ///  "edges": [{"source": "embed", "target": "a0.1", "input": "v", "weight": 0.31}, …]}
    /// ```
    ///
    /// Non-finite numbers are written as null; `input` is null for a link
    /// standing for every input of its target.
    public func toJSON() -> String {
        let components = self.components.map { c in
            JSON.object([("name", jsonQuoted(c.name)), ("type", jsonQuoted(c.node.kind.rawValue)),
                         ("layer", JSON.number(c.node.layer)), ("head", JSON.number(c.node.head)),
                         ("importance", JSON.number(c.importance))])
        }
        let edges = links.map { link in
            JSON.object([("source", jsonQuoted(link.source.name)), ("target", jsonQuoted(link.target.name)),
                         ("input", link.input.map { jsonQuoted($0.rawValue) } ?? "null"), ("weight", JSON.number(link.weight))])
        }
        let s = scores
        let fields: [(String, String)] = [
            ("method", jsonQuoted(method)), ("metric", jsonQuoted(s.metric.rawValue)),
            ("faithfulness", JSON.number(s.faithfulness)), ("completeness", JSON.number(s.completeness)),
            ("minimality", JSON.number(s.minimality)), ("kl", JSON.number(s.kl)),
            ("full", JSON.number(s.full)), ("circuit", JSON.number(s.circuit)), ("complement", JSON.number(s.complement)),
            ("empty", JSON.number(s.empty)),
            ("components", "[\n    " + components.joined(separator: ",\n    ") + "\n  ]"),
            ("edges", "[\n    " + edges.joined(separator: ",\n    ") + "\n  ]"),
        ]
        return "{\n" + fields.map { "  \(jsonQuoted($0.0)): \($0.1)" }.joined(separator: ",\n") + "\n}\n"
    }

    /// The circuit as a Graphviz digraph drawn bottom to top: the embedding
    /// at the bottom, one row per layer's heads, then its MLP, the
    /// unembedding at the top (as in the ACDC paper). Nodes are labelled
    /// with their name and importance; an edge's pen width grows with its
    /// weight and its label gives the input (`q`, `k`, `v`) and the weight.
    public func toDOT() -> String {
        var lines = ["digraph circuit {", "  rankdir=BT;", "  labelloc=t;",
                     "  label=\(DOT.quoted("\(method) · \(scores.metric.rawValue) · faithfulness \(String(format: "%.1f%%", 100 * scores.faithfulness))"));",
                     "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fillcolor=\"#f4f4f4\"];",
                     "  edge [fontname=\"Helvetica\", fontsize=10, color=\"#555555\"];"]
        let colors: [CircuitNode.Kind: String] = [.embed: "#d9e8fb", .head: "#fde2c8", .mlp: "#d7f0d2", .unembed: "#d9e8fb"]
        for component in components {
            let label = component.name + (component.importance.map { "\\n" + DOT.short($0) } ?? "")
            lines.append("  \(DOT.quoted(component.name)) [label=\"\(label)\", fillcolor=\"\(colors[component.node.kind] ?? "#f4f4f4")\"];")
        }
        // One rank per row: the embedding, each layer's heads, each layer's MLP, the unembedding.
        var rows: [String: [String]] = [:]
        var rowOrder: [String] = []
        for component in components {
            let node = component.node
            let row = node.kind == .head ? "heads\(node.layer ?? 0)" : node.kind == .mlp ? "mlp\(node.layer ?? 0)" : node.kind.rawValue
            if rows[row] == nil { rowOrder.append(row) }
            rows[row, default: []].append(DOT.quoted(component.name))
        }
        for row in rowOrder where (rows[row]?.count ?? 0) > 1 {
            lines.append("  { rank=same; \((rows[row] ?? []).joined(separator: "; ")); }")
        }
        let heaviest = links.map { Swift.abs($0.weight) }.filter(\.isFinite).max() ?? 0
        for link in links {
            let share = heaviest > 0 && link.weight.isFinite ? Swift.abs(link.weight) / heaviest : 1
            let label = (link.input.flatMap { $0 == .resid ? nil : $0.rawValue + " " } ?? "") + DOT.short(link.weight)
            lines.append("  \(DOT.quoted(link.source.name)) -> \(DOT.quoted(link.target.name)) "
                + "[label=\(DOT.quoted(label)), penwidth=\(String(format: "%.2f", 0.5 + 4.5 * share))];")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the circuit atomically: `.json` as `toJSON()`, `.dot` or `.gv`
    /// as `toDOT()`. Throws for other extensions and when the file cannot be written.
    ///
    /// ```swift
    /// try circuit.write(to: "circuit.dot")
    /// ```
    public func write(to path: String) throws {
        let text: String
        switch (path as NSString).pathExtension.lowercased() {
        case "json": text = toJSON()
        case "dot", "gv": text = toDOT()
        default: throw EngineError(.argument, "save a circuit as .json or .dot, not '\(path)'")
        }
        try writeAtomically(Array(text.utf8), to: path)
    }
}

/// JSON text pieces, for the exporters.
enum JSON {
    static func number(_ n: Double?) -> String { n.map(jsonNumber) ?? "null" }

    static func number(_ n: Int?) -> String { n.map(String.init) ?? "null" }

    static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\(jsonQuoted($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }
}

/// Graphviz text pieces.
enum DOT {
    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// A weight in three significant digits.
    static func short(_ x: Double) -> String {
        x.isFinite ? String(format: "%.3g", x) : "–"
    }
}
