import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroModels
import NeuroPlots

/// The file formats a value of the workbench can be saved as, in the
/// order error messages list them: models, runs, results and interventions,
/// pictures of anything `plot` draws, and the language's own for the rest.
enum LabFileFormats {
    static func fitting(_ value: Value) -> [FileFormat] {
        switch value {
        case .tensor: return [.npy, .safetensors, .csv, .json, .svg]
        case .object(let result as ResultValue):
            let extra = result.textFormats.keys.compactMap { FileFormat(rawValue: $0) }
            return [.json, .csv, .npy, .svg] + extra.filter { ![.json, .csv, .npy, .svg].contains($0) }.sorted { $0.rawValue < $1.rawValue }
        case .object(is ModelObject): return [.safetensors, .svg]
        case .object(is TrainingObject): return [.safetensors, .json, .svg]
        case .object(is InterventionObject): return [.json, .svg]
        case .object(is SAEObject): return [.json, .svg]
        case .object(is FigureValue): return [.svg]
        default: return FileFormat.plain(value)
        }
    }
}

/// `load` and `save` for the workbench: models and training runs in
/// safetensors files, results, interventions, and SVG pictures; tensors
/// and plain values as the language saves them.
extension Builtins {
    static var modelFiles: [Builtin] { [loadModel, saveModel] }

    static let loadModel = Builtin("load", "load(\"model.safetensors\", act: \"relu\") or load(\"hf-folder\", process: false)",
                              "a model from TransformerLens-named safetensors weights, or a saved training run; .npy files, and safetensors files of other tensors, load as tensors; a Hugging Face folder (BERT, GPT-2) or a fetched model's name (\"all-minilm-l6-v2\") loads a pretrained language model with its tokenizer",
                              parameters: ["path", "act", "norm", "process"], effects: .files) { args in
        if let folder = try saeFolder(args) {
            let sae = try args.engine { try SparseAutoencoder.load(saeLensFolder: folder) }
            return .object(SAEObject(sae: sae, metrics: nil, losses: [], source: "loaded from \(folder)", splice: nil, note: nil))
        }
        if let folder = try pretrainedFolder(args) { return try loadPretrained(folder, args) }
        if let plain = try loadPlain(args) { return plain }
        let path = try loadPath(args)
        if (path as NSString).pathExtension.lowercased() == "npy" { return .tensor(try NPY.read(path)) }
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
        guard HookedTransformer.looksLikeModel(file) else { return tensors(file) }
        let model = ModelObject(try HookedTransformer.load(file, path: path, actFn: act, normalization: norm))
        session.model = model
        session.madeModels += 1
        return .object(model)
    }

    /// The folder `load` was given when it holds a sparse autoencoder in
    /// SAELens's layout (`cfg.json` and `sae_weights.safetensors`).
    static func saeFolder(_ args: CallArguments) throws -> String? {
        let path = try args.path(0, "path")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
        let has = { (name: String) in FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent(name)) }
        return has(SparseAutoencoder.saeLensConfigFile) && !has("config.json") ? path : nil
    }

    /// The folder `load` was given when it names a pretrained model: a
    /// directory, or the name of a model `neuromap fetch` knows (which must
    /// then be in the cache; the error says how to fetch it).
    static func pretrainedFolder(_ args: CallArguments) throws -> String? {
        let path = try args.path(0, "path")
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { return nil }
            // A directory named like a file load reads ("w.safetensors") was meant as that
            // file, unless it really is a model folder: the file path says it is a directory.
            let fileLike = ["safetensors", "npy"].contains((path as NSString).pathExtension.lowercased())
            let hasConfig = FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("config.json"))
            return fileLike && !hasConfig ? nil : path
        }
        guard ModelCache.knownNames.contains(path.lowercased()) else { return nil }
        return try args.engine { try ModelCache.require(path.lowercased()) }
    }

    /// Opens a Hugging Face folder with its tokenizer; it becomes the model
    /// text built-ins use when given none.
    static func loadPretrained(_ folder: String, _ args: CallArguments) throws -> Value {
        for name in ["act", "norm"] where args.value(nil, name) != nil {
            throw args.error("'\(name)' is for TransformerLens weight files; a Hugging Face folder says its own in config.json")
        }
        let process = try args.bool(nil, "process", default: false)
        // A model opened by the name it was fetched by keeps that name (its folder inside the cache is generic).
        let path = try args.path(0, "path")
        let name = ModelCache.knownNames.contains(path.lowercased()) && !FileManager.default.fileExists(atPath: path) ? path.lowercased() : nil
        let model = try args.engine {
            try LanguageModelObject.load(folder: folder, name: name, options: PretrainedOptions(processWeights: process))
        }
        args.interpreter.session.languageModel = model
        return .object(model)
    }

    static let saveModel = Builtin("save", "save(value, \"path\")",
                              "write a value in the format its extension names (.npy .safetensors .csv .json .svg, .dot for circuits), atomically",
                              parameters: ["value", "to", "path", "run"], effects: .files) { args in
        let value = try args.required(0, "value")
        let path = try savePath(args)
        // An autoencoder saves as a SAELens folder (a picture with .svg, its measurements with .json).
        if case .object(let autoencoder as SAEObject) = value, FileFormat(path: path) != .svg, FileFormat(path: path) != .json {
            guard (path as NSString).pathExtension.isEmpty else {
                throw args.error("a sparse autoencoder saves as a folder in SAELens's layout (a path without an extension), its measurements as .json, or its picture as .svg, not '\(path)'")
            }
            try args.engine { try autoencoder.sae.save(saeLensFolder: path, metadata: autoencoder.hookName.map { ["hook_name": $0] } ?? [:]) }
            args.interpreter.output("saved sae to \(path)/ (SAELens: cfg.json, sae_weights.safetensors)")
            return .none
        }
        let format = try saveFormat(value, path: path, fitting: LabFileFormats.fitting(value),
                                    savable: "values, tensors, models, training runs and results", args)
        try args.engine { try write(value, as: format, to: path, args) }
        args.interpreter.output("saved \(value.typeName) to \(path)")
        return .none
    }

    /// A result object's fields as one JSON object with its kind: what
    /// `load` reads back as a record. An autoencoder's weights are left out
    /// (they go in its SAELens folder).
    static func fieldsJSON(_ object: NativeObject) throws -> String {
        let kind: String
        var skipped: Set<String> = []
        switch object {
        case let intervention as InterventionObject: kind = intervention.result.kind.rawValue
        case is SAEObject:
            kind = "sae"
            skipped = ["W_enc", "b_enc", "W_dec", "b_dec", "b_gate", "r_mag", "b_mag", "threshold"]
        default: kind = object.typeName
        }
        let pairs = try object.fieldNames.filter { !skipped.contains($0) }.compactMap { name in try object.field(name).map { (name, $0) } }
        return JSONText.object(pairs, kind: kind)
    }

    /// Writes `value` in `format` (already checked to fit it).
    private static func write(_ value: Value, as format: FileFormat, to path: String, _ args: CallArguments) throws {
        if format == .svg {
            let figure = try naming(args) { try Figure.of(value) }
            return try writeAtomically(Array(try naming(args) { try figure.svg() }.utf8), to: path)
        }
        if format == .json, case .object(let object) = value, !(object is ResultValue) {
            return try writeAtomically(Array((fieldsJSON(object) + "\n").utf8), to: path)
        }
        switch value {
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
        default:
            try writePlain(value, as: format, to: path, args)
        }
    }
}
