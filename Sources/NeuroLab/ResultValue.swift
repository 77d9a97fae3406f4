import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroAnalysis
import NeuroPlots

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
public final class ResultValue: NativeObject, IndexableObject, Pictured {
    /// What kind of analysis made it (`fourier`, `progress`, `sweep`, …).
    public let kind: String
    /// What it is, for a report's heading (`Fourier analysis`); its kind unless told.
    public let heading: String
    /// Draws its picture (given by the built-in that made it, beside it); nil for none.
    let draw: ((ResultValue) throws -> Figure)?
    /// The first line when printed.
    public let title: String
    public let fields: Record
    public let header: [String]
    public let rows: [[String]]
    /// The tensor `.npy` saving writes (the sweep's grid, the spectrum …).
    public let mainTensor: Tensor?
    /// Rows shown when printed (the rest are elided with a count).
    public var shownRows = 20
    /// File texts of its own by extension (a circuit's `"dot"` and `"json"`,
    /// a scan's `"csv"`), made when saved; `save` writes these in preference
    /// to its own formats.
    public var textFormats: [String: () -> String] = [:]
    /// The circuit a circuit result was made from (its picture is drawn from it).
    public var circuit: Circuit?
    /// Lines printed under the table: the rules behind the numbers (a progress result's phase rules).
    public var notes: [String] = []

    public init(heading: String? = nil, figure: ((ResultValue) throws -> Figure)? = nil, kind: String, title: String,
                fields: [(String, Value)], header: [String] = [], rows: [[String]] = [], mainTensor: Tensor? = nil) {
        self.heading = heading ?? kind
        self.draw = figure
        self.kind = kind
        self.title = title
        self.fields = Record(fields)
        self.header = header
        self.rows = rows
        self.mainTensor = mainTensor
    }

    public var typeName: String { kind }

    /// Its picture, as its built-in draws it.
    public func figure() throws -> Figure {
        guard let draw else { throw RuntimeError("a \(kind) result has no natural picture; plot can draw \(Figure.plottable)") }
        return try draw(self)
    }
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
        for note in notes { text += "\n" + note }
        return text
    }

    // MARK: - Files

    /// Writes the result: `.json` (all fields), `.csv` (the table) or `.npy`
    /// (the main tensor); an extension in `textFormats` writes that text instead.
    public func save(to path: String) throws {
        let text: String
        let ext = (path as NSString).pathExtension.lowercased()
        if let write = textFormats[ext] { return try writeAtomically(Array(write().utf8), to: path) }
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

extension ResultValue: JSONObject {
    /// Every field, with the kind.
    public var jsonText: String { JSONText.object(fields.pairs.map { ($0.0, $0.1) }, kind: kind) }
}
