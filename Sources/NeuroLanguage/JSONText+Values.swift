import NeuroEngine

/// An object written to JSON as its own text (an analysis result, as its
/// fields), rather than as its printed summary.
public protocol JSONObject {
    var jsonText: String { get }
}

/// Values as JSON text (tensors as nested arrays, with their shape).
public enum JSONText {
    public static func object(_ pairs: [(String, Value)], kind: String? = nil) -> String {
        var entries = kind.map { ["\"kind\": \(jsonQuoted($0))"] } ?? []
        entries += pairs.map { "\(jsonQuoted($0.0)): \(value($0.1))" }
        return "{" + entries.joined(separator: ", ") + "}"
    }

    public static func value(_ v: Value) -> String {
        switch v {
        case .number(let n): return jsonNumber(n)
        case .string(let s): return jsonQuoted(s)
        case .bool(let b): return b ? "true" : "false"
        case .none: return "null"
        case .list(let items): return "[" + items.map(value).joined(separator: ", ") + "]"
        case .record(let r): return object(r.pairs)
        case .range(let a, let b): return "[" + (a..<max(a, b)).map(String.init).joined(separator: ", ") + "]"
        case .tensor(let t): return tensor(t.toDoubles(), shape: t.shape)
        case .function(let f): return jsonQuoted("<fn \(f.name)>")
        case .object(let o as JSONObject): return o.jsonText
        case .object(let o): return jsonQuoted(o.summary)
        }
    }



    public static func tensor(_ values: [Double], shape: [Int]) -> String {
        guard let first = shape.first else { return jsonNumber(values.first ?? .nan) }
        let inner = shape.dropFirst().reduce(1, *)
        return "[" + (0..<first).map { i in tensor(Array(values[(i * inner)..<((i + 1) * inner)]), shape: Array(shape.dropFirst())) }
            .joined(separator: ", ") + "]"
    }

    public static func csvCell(_ s: String) -> String { NeuroEngine.csvCell(s) }
}
