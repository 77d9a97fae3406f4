import Foundation
import NeuroEngine
import NeuroAnalysis

/// An analysis result in the language: named fields (read with `.name` or
/// `["name"]`), a table it prints as, and the tensor `.npy` saving writes.
/// `save(result, "x.json")` writes every field, `"x.csv"` the table,
/// `"x.npy"` the main tensor.
///
/// ```
/// f = fourier(model)
/// f.key_freqs            # [14, 35, 41, 42, 52]
/// save(f, "fourier.json")
/// ```
public final class ResultValue: NativeObject, IndexableObject {
    /// What kind of analysis made it (`fourier`, `progress`, `sweep`, …); pictures are chosen by it.
    public let kind: String
    /// The first line when printed.
    public let title: String
    public let fields: Record
    public let header: [String]
    public let rows: [[String]]
    /// The tensor `.npy` saving writes (the sweep's grid, the spectrum …).
    public let mainTensor: Tensor?
    /// Rows shown when printed (the rest are elided with a count).
    public var shownRows = 20
    /// Ready-made file texts by extension (a circuit's `"dot"` and `"json"`);
    /// `save` writes these in preference to its own formats.
    public var textFormats: [String: String] = [:]
    /// The circuit a circuit result was made from (its picture is drawn from it).
    public var circuit: Circuit?

    public init(kind: String, title: String, fields: [(String, Value)], header: [String] = [], rows: [[String]] = [],
                mainTensor: Tensor? = nil) {
        self.kind = kind
        self.title = title
        self.fields = Record(fields)
        self.header = header
        self.rows = rows
        self.mainTensor = mainTensor
    }

    public var typeName: String { kind }
    public var fieldNames: [String] { fields.keys }

    public func field(_ name: String) throws -> Value? { fields[name] }

    public func index(_ keys: [Value]) throws -> Value {
        guard keys.count == 1, case .string(let name) = keys[0] else {
            throw EngineError(.argument, "a \(kind) result is indexed by a field name, like r[\"\(fields.keys.first ?? "name")\"]")
        }
        guard let value = fields[name] else {
            let hint = Suggest.closest(name, among: fields.keys).map { "; did you mean '\($0)'?" } ?? ""
            throw EngineError(.argument, "\(kind) result has no field '\(name)'\(hint)")
        }
        return value
    }

    public var summary: String {
        guard !header.isEmpty else { return title }
        let shown = Array(rows.prefix(shownRows))
        var text = title + "\n" + Formatter.table(header, shown)
        if rows.count > shown.count { text += "\n  … \(rows.count - shown.count) more rows (save as .csv for all)" }
        return text
    }

    // MARK: - Files

    /// Writes the result: `.json` (all fields), `.csv` (the table) or `.npy`
    /// (the main tensor); an extension in `textFormats` writes that text instead.
    public func save(to path: String) throws {
        let text: String
        let ext = (path as NSString).pathExtension.lowercased()
        if let ready = textFormats[ext] { return try writeAtomically(Array(ready.utf8), to: path) }
        switch ext {
        case "json":
            text = JSONText.object(fields.pairs.map { ($0.0, $0.1) }, kind: kind) + "\n"
        case "csv":
            guard !header.isEmpty else { throw EngineError(.argument, "a \(kind) result has no table to write as CSV") }
            text = ([header] + rows).map { $0.map(JSONText.csvCell).joined(separator: ",") }.joined(separator: "\n") + "\n"
        case "npy":
            guard let mainTensor else { throw EngineError(.argument, "a \(kind) result has no tensor to write as .npy; save it as .json") }
            try NPY.write(mainTensor, to: path)
            return
        default:
            let extra = textFormats.keys.filter { !["json", "csv", "npy"].contains($0) }.sorted().map { ", ." + $0 }.joined()
            throw EngineError(.argument, "save a \(kind) result as .json, .csv\(extra) or .npy, not '\(path)'")
        }
        try writeAtomically(Array(text.utf8), to: path)
    }
}

/// Values as JSON text (tensors as nested arrays, with their shape).
enum JSONText {
    static func object(_ pairs: [(String, Value)], kind: String? = nil) -> String {
        var entries = kind.map { ["\"kind\": \(jsonQuoted($0))"] } ?? []
        entries += pairs.map { "\(jsonQuoted($0.0)): \(value($0.1))" }
        return "{" + entries.joined(separator: ", ") + "}"
    }

    static func value(_ v: Value) -> String {
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
        case .object(let o as ResultValue): return object(o.fields.pairs, kind: o.kind)
        case .object(let o): return jsonQuoted(o.summary)
        }
    }



    static func tensor(_ values: [Double], shape: [Int]) -> String {
        guard let first = shape.first else { return jsonNumber(values.first ?? .nan) }
        let inner = shape.dropFirst().reduce(1, *)
        return "[" + (0..<first).map { i in tensor(Array(values[(i * inner)..<((i + 1) * inner)]), shape: Array(shape.dropFirst())) }
            .joined(separator: ", ") + "]"
    }

    static func csvCell(_ s: String) -> String {
        s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}
