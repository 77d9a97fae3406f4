import Foundation
import NeuroEngine

/// A training run on disk: one safetensors file holding the current weights,
/// the optimizer state, the loss and accuracy history, the train/test split,
/// every checkpoint kept in memory, and as JSON metadata the model
/// configuration, the task and the options. `Trainer.resume(from:)` reads it
/// back and continues the identical trajectory.
extension Trainer {
    static let fileKind = "neuromap-training-run"

    /// Whether a file read from disk is a training run written by `save(to:)`.
    public static func isTrainingRun(_ file: SafeTensorsFile) -> Bool {
        file.metadata["kind"] == fileKind
    }

    /// Writes the run to `path` atomically (temporary file, then rename).
    public func save(to path: String) throws {
        var tensors: [(String, Tensor)] = model.stateDict.map { ("model.\($0.0)", $0.1) }
        tensors += loop.optimizerTensors()
        tensors += try loop.historyTensors()
        tensors += [
            ("split.train", try Tensor(ints: data.trainIndices, shape: [data.trainIndices.count])),
            ("split.test", try Tensor(ints: data.testIndices, shape: [data.testIndices.count])),
        ]
        tensors += loop.checkpointTensors()
        var metadata: [String: String] = [
            "kind": Trainer.fileKind, "format": "pt",
            "config": model.config.json,
            "task": Trainer.encode(data.task),
            "train_fraction": "\(data.trainFraction)", "seed": "\(data.seed)",
            "options": Trainer.encode(options),
            "settings": "[" + settings.map { Trainer.encode($0.options, from: $0.epoch) }.joined(separator: ", ") + "]",
        ]
        metadata.merge(loop.stateMetadata()) { ours, _ in ours }
        try SafeTensors.write(tensors, metadata: metadata, to: path)
    }

    /// Reads a run written by `save(to:)`: model, data split, optimizer,
    /// history and checkpoints, ready to `train` further.
    public static func resume(from path: String) throws -> Trainer {
        try resume(try SafeTensors.read(path), path: path)
    }

    /// `resume(from:)` for a file already read; `path` names it in errors.
    public static func resume(_ file: SafeTensorsFile, path: String) throws -> Trainer {
        do {
            return try resume(file)
        } catch let error as EngineError {
            throw EngineError(error.kind, "\(path): \(error.message)")
        }
    }

    /// Reads every part of a run, checking each number against what a run
    /// written by `save(to:)` can hold before it is used: whole numbers in
    /// range (no Double-to-Int conversion can trap, no epoch can overflow
    /// when training continues), integer tensors where integers are stored,
    /// and epochs that agree with one another. Errors name the field.
    private static func resume(_ file: SafeTensorsFile) throws -> Trainer {
        let meta = file.metadata
        guard meta["kind"] == fileKind else {
            throw EngineError(.file, "not a NeuroMap training run (no 'kind: \(fileKind)' in its metadata); it may hold model weights (HookedTransformer.load)")
        }
        func text(_ key: String) throws -> String {
            guard let value = meta[key] else { throw EngineError(.file, "metadata is missing '\(key)'") }
            return value
        }
        func tensor(_ key: String) throws -> Tensor {
            guard let value = file.tensors[key] else { throw EngineError(.file, "missing tensor '\(key)'") }
            return value
        }
        let config = try TransformerConfig(json: text("config"))
        guard let fraction = Double(try text("train_fraction")), fraction > 0, fraction < 1 else {
            throw EngineError(.file, "metadata 'train_fraction' must be a number between 0 and 1, got '\(try text("train_fraction"))'")
        }
        guard let seed = UInt64(try text("seed")) else {
            throw EngineError(.file, "metadata 'seed' must be a whole number from 0 to \(UInt64.max), got '\(try text("seed"))'")
        }
        let epoch = try TrainingLoop.wholeNumber(text("epoch"), field: "metadata 'epoch'", in: 0...maxEpoch)
        let grid = try decodeDataset(text("task"), fraction: fraction, seed: seed)
        let train = try rowIndices(tensor("split.train"), field: "split.train", rows: grid.count)
        let test = try rowIndices(tensor("split.test"), field: "split.test", rows: grid.count)
        let data = try grid.withSplit(train: train, test: test)
        func weights(prefix: String) -> [String: Tensor] {
            var out: [String: Tensor] = [:]
            for (key, value) in file.tensors where key.hasPrefix(prefix) { out[String(key.dropFirst(prefix.count))] = value }
            return out
        }
        let model = try HookedTransformer(config: config, weights: weights(prefix: "model."))
        let trainer = try Trainer(model: model, data: data, options: decodeOptions(text("options")))
        try trainer.loop.restoreState(tensors: file.tensors, metadata: meta, epoch: epoch)
        let settings = try meta["settings"].map(decodeSettings)
        if let settings {
            for (i, setting) in settings.enumerated() {
                let earlier = i == 0 ? 0 : settings[i - 1].epoch
                guard setting.epoch > earlier, setting.epoch <= epoch + 1 else {
                    throw EngineError(.file, "settings[\(i)]: 'epoch' \(setting.epoch) must come after \(earlier) and be at most \(epoch + 1) (the run is at epoch \(epoch))")
                }
            }
        }
        trainer.restore(settings: settings)
        return trainer
    }

    /// A split's row indices: a vector of integers (never floats, whose
    /// conversion would truncate), each a row of the grid, none twice.
    private static func rowIndices(_ t: Tensor, field: String, rows: Int) throws -> [Int] {
        guard !t.dtype.isFloatingPoint, t.rank == 1 else {
            throw EngineError(.file, "tensor '\(field)' must be a vector of I64 or I32 row indices, got \(t.dtype.shortName) \(formatShape(t.shape))")
        }
        let values = t.toInts()
        guard !values.isEmpty else { throw EngineError(.file, "tensor '\(field)' is empty") }
        var seen = Set<Int>()
        for (i, v) in values.enumerated() {
            guard v >= 0 && v < rows else {
                throw EngineError(.file, "tensor '\(field)' has row \(v) at position \(i), outside the dataset's 0..<\(rows)")
            }
            guard seen.insert(v).inserted else { throw EngineError(.file, "tensor '\(field)' lists row \(v) twice") }
        }
        return values
    }

    // MARK: - Encoding the task and options

    static func encode(_ task: DatasetTask) -> String {
        switch task {
        case let .modular(op, p): return "modular:\(op.rawValue):\(p)"
        case let .addition(p): return "addition:\(p)"
        case let .symmetricGroup(n): return "symmetric_group:\(n)"
        case let .cyclicGroup(n): return "cyclic_group:\(n)"
        case let .dihedralGroup(n): return "dihedral_group:\(n)"
        }
    }

    static func decodeDataset(_ text: String, fraction: Double, seed: UInt64) throws -> Dataset {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch (parts.first, parts.count) {
        case ("modular", 3):
            guard let op = ModularOperation(rawValue: parts[1]), let p = Int(parts[2]) else { break }
            return try Dataset.modular(op, p: p, trainFraction: fraction, seed: seed)
        case ("addition", 2):
            guard let p = Int(parts[1]) else { break }
            return try Dataset.addition(p: p, trainFraction: fraction, seed: seed)
        case ("symmetric_group", 2):
            guard let n = Int(parts[1]) else { break }
            return try Dataset.symmetricGroup(n: n, trainFraction: fraction, seed: seed)
        case ("cyclic_group", 2):
            guard let n = Int(parts[1]) else { break }
            return try Dataset.cyclicGroup(n: n, trainFraction: fraction, seed: seed)
        case ("dihedral_group", 2):
            guard let n = Int(parts[1]) else { break }
            return try Dataset.dihedralGroup(n: n, trainFraction: fraction, seed: seed)
        default: break
        }
        throw EngineError(.file, "unknown task '\(text)' in metadata")
    }

    /// Options as a JSON object, with the first epoch they hold from when given.
    static func encode(_ options: TrainingOptions, from epoch: Int? = nil) -> String {
        (epoch.map { "{\"epoch\": \($0), " } ?? "{")
            + "\"lr\": \(options.learningRate), \"wd\": \(options.weightDecay), \"beta1\": \(options.betas.0), "
            + "\"beta2\": \(options.betas.1), \"freeze_biases\": \(options.freezeBiases), \"checkpoint_every\": \(options.checkpointEvery)}"
    }

    static func decodeOptions(_ json: String) throws -> TrainingOptions {
        guard let data = json.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data),
              let dict = object as? [String: Any] else {
            throw EngineError(.file, "metadata 'options' is not a JSON object")
        }
        return try decodeOptions(dict, field: "options")
    }

    /// The `settings` metadata: a JSON list of options, each with the epoch it starts at.
    static func decodeSettings(_ json: String) throws -> [(epoch: Int, options: TrainingOptions)] {
        guard let data = json.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data),
              let list = object as? [[String: Any]] else {
            throw EngineError(.file, "metadata 'settings' is not a JSON list of objects")
        }
        return try list.enumerated().map { i, dict in
            let field = "settings[\(i)]"
            guard let start = (dict["epoch"] as? NSNumber).flatMap({ Int(exactly: $0.doubleValue) }), start >= 1 else {
                throw EngineError(.file, "\(field): 'epoch' must be a whole number of at least 1")
            }
            return (start, try decodeOptions(dict, field: field))
        }
    }

    private static func decodeOptions(_ dict: [String: Any], field: String) throws -> TrainingOptions {
        func number(_ key: String) throws -> Double {
            guard let value = (dict[key] as? NSNumber)?.doubleValue, value.isFinite else {
                throw EngineError(.file, "\(field): '\(key)' is missing or not a finite number")
            }
            return value
        }
        let every = try number("checkpoint_every")
        guard let checkpointEvery = Int(exactly: every), checkpointEvery >= 0, checkpointEvery <= Int(Int32.max) else {
            throw EngineError(.file, "\(field): 'checkpoint_every' must be a whole number from 0 to \(Int32.max), got \(every)")
        }
        let options = TrainingOptions(learningRate: try number("lr"), weightDecay: try number("wd"),
                                      betas: (try number("beta1"), try number("beta2")),
                                      freezeBiases: dict["freeze_biases"] as? Bool ?? true,
                                      checkpointEvery: checkpointEvery)
        do {
            try options.validate()
        } catch let error as EngineError {
            throw EngineError(.file, "\(field): \(error.message)")
        }
        return options
    }
}
