import Foundation
import XCTest
import NeuroEngine
@testable import NeuroModels

/// Training-run files with crafted metadata or tensors are refused with the
/// file and the field named; none of them may trap (a trap ends the REPL
/// session and everything in it).
final class TrainerCheckpointTests: XCTestCase {
    /// A small run trained for 4 epochs with checkpoints at 0, 2 and 4, saved; its file read back.
    private func savedRun() throws -> (path: String, file: SafeTensorsFile) {
        let data = try Dataset.modular(.add, p: 11, trainFraction: 0.5, seed: 3)
        let config = try TransformerConfig(nLayers: 1, nHeads: 2, dModel: 16, dHead: 8, dMLP: 32, normalizationType: .none,
                                           dVocab: data.dVocab, dVocabOut: data.dVocabOut, nCtx: 3, seed: 5)
        let trainer = try Trainer(model: HookedTransformer(config: config), data: data,
                                  options: TrainingOptions(learningRate: 1e-2, checkpointEvery: 2))
        try trainer.train(epochs: 4)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("crafted-\(UUID()).safetensors").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        try trainer.save(to: path)
        return (path, try SafeTensors.read(path))
    }

    /// Writes `file` changed by `change` back to its path and expects
    /// resuming it to fail with `message` (after the path).
    private func assertRefused(_ message: String, file source: StaticString = #filePath, line: UInt = #line,
                               _ change: (inout SafeTensorsFile) throws -> Void) throws {
        var (path, file) = try savedRun()
        try change(&file)
        try SafeTensors.write(file.order.compactMap { name in file.tensors[name].map { (name, $0) } }, metadata: file.metadata, to: path)
        XCTAssertThrowsError(try Trainer.resume(from: path), file: source, line: line) { error in
            XCTAssertEqual("\(error)", "\(path): \(message)", file: source, line: line)
        }
    }

    /// Replaces (or adds) tensor `name`, keeping its place in the order.
    private func replace(_ file: inout SafeTensorsFile, _ name: String, with tensor: Tensor) {
        if file.tensors[name] == nil { file.order.append(name) }
        file.tensors[name] = tensor
    }

    func testTheSavedRunResumes() throws {
        let (path, _) = try savedRun()
        let trainer = try Trainer.resume(from: path)
        XCTAssertEqual(trainer.epoch, 4)
        XCTAssertEqual(trainer.history.epochs, [1, 2, 3, 4])
        XCTAssertEqual(trainer.checkpoints.map(\.epoch), [0, 2, 4])
    }

    func testEpochOutOfRangeIsRefused() throws {
        // Int.max: training on would overflow `epoch + epochs`.
        try assertRefused("metadata 'epoch' must be a whole number from 0 to 1000000000, got '9223372036854775807'") {
            $0.metadata["epoch"] = "\(Int.max)"
        }
        // Negative: the progress bar would be drawn with a negative length.
        try assertRefused("metadata 'epoch' must be a whole number from 0 to 1000000000, got '-7'") { $0.metadata["epoch"] = "-7" }
        try assertRefused("metadata 'epoch' must be a whole number from 0 to 1000000000, got '4.5'") { $0.metadata["epoch"] = "4.5" }
    }

    func testOptimizerNumbersThatCannotBeStepsAreRefused() throws {
        let key = "optimizer.step.embed.W_E"
        for bad in ["nan", "1e300", "-1", "inf", "2.5"] {
            try assertRefused("AdamW load state: state metadata 'step.embed.W_E' must be a whole number from 0 to 1000000000, got '\(bad)'") {
                XCTAssertNotNil($0.metadata[key])
                $0.metadata[key] = bad
            }
        }
        try assertRefused("AdamW load state: state metadata 'lr' must be a number from 0.0 to \(Double.greatestFiniteMagnitude), got 'nan'") {
            $0.metadata["optimizer.lr"] = "nan"
        }
        try assertRefused("AdamW load state: state 'exp_avg_sq.embed.W_E' holds 1 NaN or infinite values") {
            var values = try XCTUnwrap($0.tensors["optimizer.exp_avg_sq.embed.W_E"]).toFloats()
            values[3] = .nan
            replace(&$0, "optimizer.exp_avg_sq.embed.W_E", with: try Tensor(values, shape: $0.tensors["optimizer.exp_avg_sq.embed.W_E"]!.shape))
        }
    }

    func testCheckpointEveryPastInt32IsRefused() throws {
        try assertRefused("options: 'checkpoint_every' must be a whole number from 0 to 2147483647, got 1e+300") {
            $0.metadata["options"] = try XCTUnwrap($0.metadata["options"]).replacingOccurrences(of: "\"checkpoint_every\": 2", with: "\"checkpoint_every\": 1e300")
        }
    }

    func testSplitMustBeUniqueIntegerRowsInRange() throws {
        try assertRefused("tensor 'split.train' must be a vector of I64 or I32 row indices, got F32 [60]") {
            replace(&$0, "split.train", with: try XCTUnwrap($0.tensors["split.train"]).cast(to: .float32))
        }
        try assertRefused("tensor 'split.train' lists row 7 twice") {
            var rows = try XCTUnwrap($0.tensors["split.train"]).toInts()
            rows[0] = 7; rows[1] = 7
            replace(&$0, "split.train", with: try Tensor(ints: rows, shape: [rows.count]))
        }
        try assertRefused("tensor 'split.test' has row 121 at position 2, outside the dataset's 0..<121") {
            var rows = try XCTUnwrap($0.tensors["split.test"]).toInts()
            rows[2] = 121
            replace(&$0, "split.test", with: try Tensor(ints: rows, shape: [rows.count]))
        }
        try assertRefused("tensor 'split.test' is empty") { replace(&$0, "split.test", with: try Tensor(ints: [], shape: [0])) }
        try assertRefused("metadata 'train_fraction' must be a number between 0 and 1, got 'nan'") { $0.metadata["train_fraction"] = "nan" }
    }

    func testHistoryMustAgreeWithTheEpoch() throws {
        try assertRefused("tensor 'history.epoch' has 9 at position 3; epochs must increase from 1 to at most the run's epoch 4") {
            replace(&$0, "history.epoch", with: try Tensor(ints: [1, 2, 3, 9], shape: [4]))
        }
        try assertRefused("tensor 'history.epoch' has 2 at position 2; epochs must increase from 1 to at most the run's epoch 4") {
            replace(&$0, "history.epoch", with: try Tensor(ints: [1, 2, 2, 4], shape: [4]))
        }
        try assertRefused("tensor 'history.epoch' must be a vector of I64 or I32 epochs, got F64 [4]") {
            replace(&$0, "history.epoch", with: try Tensor(float64: [1, 2, 3, .nan], shape: [4]))
        }
        try assertRefused("tensor 'history.test_loss' must be a float vector of 4 values like 'history.epoch', got F64 [3]") {
            replace(&$0, "history.test_loss", with: try Tensor(float64: [1, 2, 3], shape: [3]))
        }
    }

    func testCheckpointEpochsMustBeWholeAndWithinTheRun() throws {
        try assertRefused("metadata 'checkpoint_epochs' must be a whole number from 0 to 4, got '6'") { $0.metadata["checkpoint_epochs"] = "0,2,6" }
        try assertRefused("metadata 'checkpoint_epochs' must be a whole number from 0 to 4, got '-2'") { $0.metadata["checkpoint_epochs"] = "-2" }
        try assertRefused("metadata 'checkpoint_epochs' must be a whole number from 0 to 4, got '1e300'") { $0.metadata["checkpoint_epochs"] = "1e300" }
        try assertRefused("metadata 'checkpoint_epochs' must list each epoch once, in increasing order; 2 follows 4") {
            $0.metadata["checkpoint_epochs"] = "0,4,2"
        }
    }

    func testSettingsMustFallWithinTheRun() throws {
        try assertRefused("settings[0]: 'epoch' 9 must come after 0 and be at most 5 (the run is at epoch 4)") {
            $0.metadata["settings"] = try XCTUnwrap($0.metadata["settings"]).replacingOccurrences(of: "\"epoch\": 1,", with: "\"epoch\": 9,")
        }
    }

    func testTrainingCannotRunPastTheEpochLimit() throws {
        let (path, _) = try savedRun()
        let trainer = try Trainer.resume(from: path)
        XCTAssertThrowsError(try trainer.train(epochs: Int.max)) { error in
            XCTAssertEqual("\(error)", "train: \(Int.max) more epochs from epoch 4 would pass the limit of 1000000000 epochs")
        }
    }
}
