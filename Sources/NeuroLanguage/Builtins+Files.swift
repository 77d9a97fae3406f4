import Foundation
import NeuroEngine
import NeuroModels
import NeuroPlots

/// The file formats `save` writes, chosen by the path's extension, and
/// which values each can hold.
enum FileFormat: String, CaseIterable {
    case npy, safetensors, csv, json, svg, dot

    /// The format a path's extension names, or nil.
    init?(path: String) {
        self.init(rawValue: (path as NSString).pathExtension.lowercased())
    }

    /// The formats a value can be saved as, in the order error messages list them.
    static func fitting(_ value: Value) -> [FileFormat] {
        switch value {
        case .tensor: return [.npy, .safetensors, .csv, .json, .svg]
        case .object(let result as ResultValue):
            let extra = result.textFormats.keys.compactMap { FileFormat(rawValue: $0) }
            return [.json, .csv, .npy, .svg] + extra.filter { ![.json, .csv, .npy, .svg].contains($0) }.sorted { $0.rawValue < $1.rawValue }
        case .object(is ModelObject), .object(is TrainingObject): return [.safetensors, .svg]
        case .object(is InterventionObject): return [.json, .svg]
        case .number, .string, .bool, .none, .list, .record, .range: return [.json]
        default: return []
        }
    }
}

extension Builtins {
    static var files: [Builtin] { [load, save] }

    static let load = Builtin("load", "load(\"model.safetensors\", act: \"relu\")",
                              "a model from TransformerLens-named safetensors weights, or a saved training run; .npy files, and safetensors files of other tensors, load as tensors",
                              parameters: ["path", "act", "norm"], effects: .files) { args in
        let path = try args.string(0, "path")
        guard FileManager.default.fileExists(atPath: path) else { throw args.error("no such file '\(path)'") }
        switch (path as NSString).pathExtension.lowercased() {
        case "npy": return .tensor(try NPY.read(path))
        case "safetensors": break
        default: throw args.error("cannot tell what '\(path)' holds: load reads .npy and .safetensors files")
        }
        let act = try args.value(nil, "act").map { _ in try args.string(nil, "act") }.map { name -> ActivationFunction in
            guard let act = ActivationFunction(rawValue: name) else { throw args.error("unknown activation '\(name)'") }
            return act
        }
        let norm = try args.value(nil, "norm").map { _ in try args.string(nil, "norm") }.map { name -> NormalizationType in
            guard let norm = NormalizationType(rawValue: name) else { throw args.error("unknown normalization '\(name)'") }
            return norm
        }
        let file = try SafeTensors.read(path, skipping: HookedTransformer.isIgnoredBuffer)
        let session = args.interpreter.session
        if Trainer.isTrainingRun(file) {
            let trainer = try Trainer.resume(file, path: path)
            let model = ModelObject(trainer.model, trainer: trainer)
            session.model = model
            session.data = DatasetObject(trainer.data)
            session.madeModels += 1
            session.madeDatasets += 1
            return .object(model)
        }
        guard HookedTransformer.looksLikeModel(file) else {
            // Tensors someone saved: one as itself, several as a record by name.
            if file.order == [savedTensorName], let tensor = file.tensors[savedTensorName] { return .tensor(tensor) }
            return .record(Record(file.order.compactMap { name in file.tensors[name].map { (name, Value.tensor($0)) } }))
        }
        let model = ModelObject(try HookedTransformer.load(file, path: path, actFn: act, normalization: norm))
        session.model = model
        session.madeModels += 1
        return .object(model)
    }

    /// The name a tensor saved on its own has in a safetensors file.
    static let savedTensorName = "tensor"

    static let save = Builtin("save", "save(value, \"path\")",
                              "write a value in the format its extension names (.npy .safetensors .csv .json .svg, .dot for circuits), atomically",
                              parameters: ["value", "to", "path", "run"], effects: .files) { args in
        let value = try args.required(0, "value")
        let positional = try args.value(1, "path").map { _ in try args.string(1, "path") }
        let after = try args.value(nil, "to").map { _ in try args.string(nil, "to") }
        if positional != nil, after != nil { throw args.error("give the path once, as the second argument or after 'to', not both") }
        guard let path = positional ?? after else { throw args.error("missing the path to write, as in save(x, \"x.npy\")") }
        guard !path.isEmpty else { throw args.error("the path is empty") }
        let fitting = FileFormat.fitting(value)
        guard !fitting.isEmpty else {
            throw args.error("cannot save a \(value.typeName) (values, tensors, models, training runs and results can be saved)")
        }
        guard let format = FileFormat(path: path), fitting.contains(format) else {
            let names = fitting.map { "." + $0.rawValue }
            let list = names.count == 1 ? names[0] : names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "")
            let ext = (path as NSString).pathExtension
            throw args.error("a \(value.typeName) saves as \(list); '\(path)' \(ext.isEmpty ? "has no extension" : "ends in .\(ext)")")
        }
        try args.engine { try write(value, as: format, to: path, args) }
        args.interpreter.output("saved \(value.typeName) to \(path)")
        return .none
    }

    /// Writes `value` in `format` (already checked to fit it).
    private static func write(_ value: Value, as format: FileFormat, to path: String, _ args: CallArguments) throws {
        if format == .svg {
            let figure = try naming(args) { try Figure.of(value) }
            return try writeAtomically(Array(try naming(args) { try figure.svg() }.utf8), to: path)
        }
        switch value {
        case .tensor(let t):
            switch format {
            case .npy: try NPY.write(t, to: path)
            case .safetensors: try SafeTensors.write([(savedTensorName, t)], to: path)
            case .csv: try writeAtomically(Array(try csv(t, args).utf8), to: path)
            default: try writeAtomically(Array((JSONText.value(value) + "\n").utf8), to: path)
            }
        case .object(let model as ModelObject):
            if try args.bool(nil, "run", default: false) {
                guard let trainer = model.trainer else { throw args.error("run: true saves a training run, and this model has not been trained") }
                try trainer.save(to: path)
            } else {
                try model.model.save(to: path)
            }
        case .object(let training as TrainingObject):
            // A result is a snapshot; the run file holds the run as it is now.
            guard training.epoch == training.trainer.epoch else {
                throw args.error("this training result is from epoch \(training.epoch), and its run has trained on to epoch "
                                 + "\(training.trainer.epoch); save(model, \"run.safetensors\", run: true) saves the run as it is now")
            }
            try training.trainer.save(to: path)
        case .object(let result as ResultValue):
            try result.save(to: path)
        case .object(let intervention as InterventionObject):
            try writeAtomically(Array((JSONText.object(intervention.fieldNames.compactMap { name in
                (try? intervention.field(name)).flatMap { $0 }.map { (name, $0) }
            }, kind: intervention.result.kind.rawValue) + "\n").utf8), to: path)
        default:
            try writeAtomically(Array((JSONText.value(value) + "\n").utf8), to: path)
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
