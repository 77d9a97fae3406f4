import Foundation
import NeuroEngine

/// The file formats `save` writes, chosen by the path's extension.
public enum FileFormat: String, CaseIterable {
    case npy, safetensors, csv, json, svg, dot

    /// The format a path's extension names, or nil.
    public init?(path: String) {
        self.init(rawValue: (path as NSString).pathExtension.lowercased())
    }

    /// The formats a tensor or plain value can be saved as, in the order error messages list them.
    public static func plain(_ value: Value) -> [FileFormat] {
        switch value {
        case .tensor: return [.npy, .safetensors, .csv, .json]
        case .list where Builtins.isTable(value): return [.json, .csv]
        case .number, .string, .bool, .none, .list, .record, .range: return [.json]
        default: return []
        }
    }
}

/// The language's own files: tensors and plain values, saved and loaded.
/// A vocabulary may replace `save` and `load` with versions that know its
/// objects too, calling these for everything else.
///
/// ```
/// save(x, "x.npy")
/// y = load("x.npy")
/// ```
extension Builtins {
    static var files: [Builtin] { [load, save] + textFiles }

    public static let load = Builtin("load", "load(\"x.npy\")",
                                     "tensors from a .npy file, or from a safetensors file (one tensor, or a record of them by name); values from .json; a table (a list of records) from .csv",
                                     parameters: ["path"], effects: .files) { args in
        if let plain = try loadPlain(args) { return plain }
        let path = try loadPath(args)
        if (path as NSString).pathExtension.lowercased() == "npy" { return .tensor(try NPY.read(path)) }
        return tensors(try SafeTensors.read(path))
    }

    /// What `load` reads from a .json or .csv file; nil for other paths.
    public static func loadPlain(_ args: CallArguments) throws -> Value? {
        let path = try args.path(0, "path")
        switch (path as NSString).pathExtension.lowercased() {
        case "json", "csv":
            guard FileManager.default.fileExists(atPath: path) else { throw args.error("no such file '\(path)'") }
            return (path as NSString).pathExtension.lowercased() == "json" ? try loadJSON(args) : try loadCSV(args)
        default: return nil
        }
    }

    /// The path `load` reads: it exists and names a .npy or .safetensors file.
    public static func loadPath(_ args: CallArguments) throws -> String {
        let path = try args.path(0, "path")
        guard FileManager.default.fileExists(atPath: path) else { throw args.error("no such file '\(path)'") }
        switch (path as NSString).pathExtension.lowercased() {
        case "npy", "safetensors": return path
        default: throw args.error("cannot tell what '\(path)' holds: load reads .npy, .safetensors, .json and .csv files (and model folders)")
        }
    }

    /// Tensors someone saved: one as itself, several as a record by name.
    public static func tensors(_ file: SafeTensorsFile) -> Value {
        if file.order == [savedTensorName], let tensor = file.tensors[savedTensorName] { return .tensor(tensor) }
        return .record(Record(file.order.compactMap { name in file.tensors[name].map { (name, Value.tensor($0)) } }))
    }

    /// The name a tensor saved on its own has in a safetensors file.
    public static let savedTensorName = "tensor"

    public static let save = Builtin("save", "save(value, \"path\")",
                                     "write a tensor or plain value in the format its extension names (.npy .safetensors .csv .json), atomically",
                                     parameters: ["value", "to", "path"], effects: .files) { args in
        let value = try args.required(0, "value")
        let path = try savePath(args)
        let format = try saveFormat(value, path: path, fitting: FileFormat.plain(value), savable: "values and tensors", args)
        try args.engine { try writePlain(value, as: format, to: path, args) }
        args.interpreter.output("saved \(value.typeName) to \(path)")
        return .none
    }

    /// The path `save` writes: the second argument or the one after `to`, not both.
    public static func savePath(_ args: CallArguments) throws -> String {
        let positional = try args.value(1, "path").map { _ in try args.path(1, "path") }
        let after = try args.value(nil, "to").map { _ in try args.path(nil, "to") }
        if positional != nil, after != nil { throw args.error("give the path once, as the second argument or after 'to', not both") }
        guard let path = positional ?? after else { throw args.error("missing the path to write, as in save(x, \"x.npy\")") }
        guard !path.isEmpty else { throw args.error("the path is empty") }
        return path
    }

    /// The format `path` names, when it is one of those `fitting` the value; else an error listing them.
    public static func saveFormat(_ value: Value, path: String, fitting: [FileFormat], savable: String,
                                  _ args: CallArguments) throws -> FileFormat {
        guard !fitting.isEmpty else {
            throw args.error("cannot save a \(value.typeName) (\(savable) can be saved)")
        }
        guard let format = FileFormat(path: path), fitting.contains(format) else {
            let names = fitting.map { "." + $0.rawValue }
            let list = names.count == 1 ? names[0] : names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "")
            let ext = (path as NSString).pathExtension
            throw args.error("a \(value.typeName) saves as \(list); '\(path)' \(ext.isEmpty ? "has no extension" : "ends in .\(ext)")")
        }
        return format
    }

    /// Writes a tensor or plain value in `format` (already checked to fit it).
    public static func writePlain(_ value: Value, as format: FileFormat, to path: String, _ args: CallArguments) throws {
        switch value {
        case .tensor(let t):
            switch format {
            case .npy: try NPY.write(t, to: path)
            case .safetensors: try SafeTensors.write([(savedTensorName, t)], to: path)
            case .csv: try writeAtomically(Array(try csv(t, args).utf8), to: path)
            default: try writeAtomically(Array((JSONText.value(value) + "\n").utf8), to: path)
            }
        default:
            let text = format == .csv ? csvTable(value) : JSONText.value(value) + "\n"
            try writeAtomically(Array(text.utf8), to: path)
        }
    }

    /// A tensor of rank 1 (one value a line) or 2 (one row a line) as CSV,
    /// numbers in the shortest form that reads back to the same value.
    private static func csv(_ t: Tensor, _ args: CallArguments) throws -> String {
        guard t.rank == 1 || t.rank == 2 else {
            throw args.error("CSV holds a table: a tensor of rank 1 or 2, not \(formatShape(t.shape)); reshape it or save as .npy")
        }
        let values = t.toDoubles(), columns = t.rank == 2 ? t.shape[1] : 1
        let single = t.dtype == .float32
        func cell(_ x: Double) -> String { single ? "\(Float(x))" : "\(x)" }
        return stride(from: 0, to: values.count, by: max(columns, 1)).map { start in
            values[start..<min(start + columns, values.count)].map(cell).joined(separator: ",")
        }.joined(separator: "\n") + "\n"
    }
}
