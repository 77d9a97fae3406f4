import Foundation
import NeuroEngine
import NeuroModels

/// Feeds crafted files to every file reader — safetensors, `.npy`, training
/// runs (read, resumed and trained one epoch further) — and to the special
/// files a path may name (a FIFO, a device, a directory, a huge sparse file),
/// to show that none crashes or hangs: each is read, or refused with an
/// `EngineError` naming the file. Deterministic: file `i` of seed `s` is
/// always the same bytes.
///
/// Files start from valid ones made fresh (tensors of every stored dtype,
/// a training run of a tiny model) and are mutated: bytes flipped, the file
/// cut short or extended, the header's length field or its JSON numbers
/// replaced by huge, negative or non-finite values, metadata of a run
/// (epochs, options, optimizer state) made absurd.
///
/// ```swift
/// let report = try FileFuzzer.run(count: 500, seed: 1, directory: "/tmp/fuzz")
/// assert(report.findings.isEmpty)
/// ```
public enum FileFuzzer {
    /// A read slower than this counts as a hang.
    public static let slowRead = 5.0

    /// What a run did.
    public struct Report: CustomStringConvertible, Sendable {
        public var files = 0
        /// Read (or resumed) without error.
        public var accepted = 0
        /// Refused with an `EngineError`.
        public var refused = 0
        /// Crashes cannot be counted (they end the process); everything else wrong is here.
        public var findings: [String] = []
        public var slowest = 0.0

        public var description: String {
            "\(files) crafted files: \(accepted) read, \(refused) refused with a named error; slowest \(String(format: "%.2f", slowest)) s; "
                + (findings.isEmpty ? "no findings" : "\(findings.count) findings:\n" + findings.prefix(20).joined(separator: "\n"))
        }
    }

    /// The kinds of file, and the reader each goes to.
    enum Kind: CaseIterable {
        case safetensors, npy, trainingRun
    }

    /// Runs `count` crafted files (written in `directory`, removed after)
    /// and the special files, and tallies what the readers did.
    public static func run(count: Int, seed: UInt64, directory: String) throws -> Report {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let seeds = try validFiles(in: directory)
        var report = Report()
        let path = (directory as NSString).appendingPathComponent("crafted")
        for index in 0..<count {
            var rng = RandomGenerator(seed: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
            let kind = Kind.allCases[rng.nextInt(below: Kind.allCases.count)]
            guard let original = seeds[kind] else { continue }
            let bytes = mutate(original, kind: kind, &rng)
            let file = path + "-\(index)." + (kind == .npy ? "npy" : "safetensors")
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            defer { try? FileManager.default.removeItem(atPath: file) }
            report.record(read(file, as: kind), file: "file \(index) (\(kind))")
        }
        for (name, special) in try specialFiles(in: directory) {
            for kind in Kind.allCases {
                report.record(read(special, as: kind), file: "\(name) read as \(kind)")
            }
        }
        return report
    }

    // MARK: - Reading

    enum Outcome {
        case accepted, refused, finding(String)
    }

    /// Reads a file as `kind`, on a thread of its own so a blocked read shows
    /// as a hang instead of stopping the fuzzer.
    static func read(_ path: String, as kind: Kind) -> (outcome: Outcome, seconds: Double) {
        let done = DispatchSemaphore(value: 0)
        let box = OutcomeBox()
        let started = monotonicSeconds()
        let thread = Thread {
            box.outcome = attempt(path, as: kind)
            done.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
        guard done.wait(timeout: .now() + slowRead * 2) == .success else {
            return (.finding("did not return within \(Int(slowRead * 2)) s"), slowRead * 2)
        }
        let seconds = monotonicSeconds() - started
        if seconds > slowRead { return (.finding("took \(String(format: "%.1f", seconds)) s"), seconds) }
        return (box.outcome ?? .finding("no outcome"), seconds)
    }

    private final class OutcomeBox: @unchecked Sendable {
        var outcome: Outcome?
    }

    private static func attempt(_ path: String, as kind: Kind) -> Outcome {
        do {
            switch kind {
            case .npy:
                _ = try NPY.read(path)
            case .safetensors:
                _ = try SafeTensors.read(path)
            case .trainingRun:
                let trainer = try Trainer.resume(from: path)
                // A run that loads must also train on: its epoch, options and state are used.
                try trainer.train(epochs: 1)
            }
            return .accepted
        } catch is EngineError {
            return .refused
        } catch {
            return .finding("\(type(of: error)) instead of an EngineError: \(error)")
        }
    }

    // MARK: - Valid files to start from

    static func validFiles(in directory: String) throws -> [Kind: [UInt8]] {
        let base = (directory as NSString).appendingPathComponent("valid")
        var tensors: [(String, Tensor)] = [
            ("w", try Tensor([1, -2, 3.5, 4, 0.25, -6], shape: [2, 3])),
            ("v64", try Tensor(float64: [1, 2, 3], shape: [3])),
            ("ids", try Tensor(ints: [0, 5, 7, 9], shape: [2, 2])),
            ("scalar", Tensor(scalar: 1.5)),
        ]
        tensors.append(("empty", try Tensor.zeros([0, 4])))
        try SafeTensors.write(tensors, metadata: ["note": "fuzz"], to: base + ".safetensors")
        try NPY.write(try Tensor([1, 2, 3, 4, 5, 6], shape: [3, 2]), to: base + ".npy")
        let data = try Dataset.modular(.add, p: 5, trainFraction: 0.5, seed: 1)
        let config = try TransformerConfig(nLayers: 1, nHeads: 1, dModel: 4, dMLP: 4, normalizationType: .none,
                                           dVocab: data.dVocab, dVocabOut: data.dVocabOut, nCtx: data.nCtx, seed: 0)
        let trainer = try Trainer(model: try HookedTransformer(config: config), data: data,
                                  options: TrainingOptions(checkpointEvery: 1))
        try trainer.train(epochs: 2)
        try trainer.save(to: base + "-run.safetensors")
        func bytes(_ suffix: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: base + suffix))) }
        return [.safetensors: try bytes(".safetensors"), .npy: try bytes(".npy"), .trainingRun: try bytes("-run.safetensors")]
    }

    /// Paths that are not regular files, or claim far more than they hold.
    static func specialFiles(in directory: String) throws -> [(String, String)] {
        var files: [(String, String)] = [("/dev/zero", "/dev/zero"), ("a directory", directory)]
        let fifo = (directory as NSString).appendingPathComponent("fifo.safetensors")
        unlink(fifo)
        if mkfifo(fifo, 0o600) == 0 { files.append(("a FIFO", fifo)) }
        let sparse = (directory as NSString).appendingPathComponent("sparse.safetensors")
        if FileManager.default.createFile(atPath: sparse, contents: nil), truncate(sparse, 100 << 30) == 0 {
            files.append(("a 100 GB sparse file", sparse))
        }
        return files
    }

    // MARK: - Mutations

    /// Values that break careless number handling.
    static let absurdNumbers = ["1e300", "-1", "-7", "9223372036854775807", "18446744073709551616", "NaN", "1.5", "0", "4294967296",
                                "-9223372036854775808", "1e-300", "null", "\"12\"", "[]"]

    static func mutate(_ original: [UInt8], kind: Kind, _ rng: inout RandomGenerator) -> [UInt8] {
        var bytes = original
        let rounds = 1 + rng.nextInt(below: 3)
        for _ in 0..<rounds {
            switch rng.nextInt(below: 7) {
            case 0 where !bytes.isEmpty:           // flip some bytes
                for _ in 0..<(1 + rng.nextInt(below: 8)) { bytes[rng.nextInt(below: bytes.count)] ^= UInt8(truncatingIfNeeded: rng.next()) }
            case 1:                                 // cut short
                bytes = Array(bytes.prefix(rng.nextInt(below: max(bytes.count, 1))))
            case 2:                                 // extend with garbage
                bytes += (0..<(1 + rng.nextInt(below: 64))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            case 3 where kind != .npy && bytes.count >= 8:   // the header's length field
                let value: UInt64 = [UInt64.max, UInt64(bytes.count), 0, 1 << 40, UInt64(rng.nextInt(below: 1 << 20))][rng.nextInt(below: 5)]
                for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
            default:                                // a number in the header text made absurd
                bytes = replaceNumber(in: bytes, &rng)
            }
        }
        return bytes
    }

    /// Replaces one run of digits in the first part of the file (where the
    /// JSON header and the .npy dictionary are) by an absurd value.
    static func replaceNumber(in bytes: [UInt8], _ rng: inout RandomGenerator) -> [UInt8] {
        let header = min(bytes.count, 4096)
        var runs: [Range<Int>] = []
        var i = 0
        while i < header {
            if (48...57).contains(bytes[i]) {
                let start = i
                while i < header, (48...57).contains(bytes[i]) || bytes[i] == 46 { i += 1 }
                runs.append(start..<i)
            } else {
                i += 1
            }
        }
        guard !runs.isEmpty else { return bytes }
        let run = runs[rng.nextInt(below: runs.count)]
        let value = Array(absurdNumbers[rng.nextInt(below: absurdNumbers.count)].utf8)
        var out = bytes
        out.replaceSubrange(run, with: value)
        // Keep a safetensors header's declared length in step, so the change reaches the JSON parser.
        if out.count >= 8, bytes.count >= 8 {
            var length: UInt64 = 0
            for k in 0..<8 { length |= UInt64(bytes[k]) << (8 * UInt64(k)) }
            if length > 0, length < UInt64(header), run.upperBound <= 8 + Int(length) {
                let adjusted = UInt64(Int(length) + value.count - run.count)
                for k in 0..<8 { out[k] = UInt8(truncatingIfNeeded: adjusted >> (8 * UInt64(k))) }
            }
        }
        return out
    }
}

extension FileFuzzer.Report {
    mutating func record(_ result: (outcome: FileFuzzer.Outcome, seconds: Double), file: String) {
        files += 1
        slowest = max(slowest, result.seconds)
        switch result.outcome {
        case .accepted: accepted += 1
        case .refused: refused += 1
        case .finding(let what): findings.append("\(file): \(what)")
        }
    }
}
