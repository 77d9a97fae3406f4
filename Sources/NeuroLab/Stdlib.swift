import Foundation
import NeuroLanguage
import NeuroPlots

/// The standard library: `.nmap` files in the repository's `stdlib/`
/// folder, run into the globals when an interpreter starts, so users can
/// read and change them. `NEUROMAP_STDLIB` names another folder.
public enum StandardLibrary {
    /// Where the library's files are: `$NEUROMAP_STDLIB`, else the
    /// `stdlib/` folder of the source tree this binary was built from.
    public static var directory: String {
        if let custom = ProcessInfo.processInfo.environment["NEUROMAP_STDLIB"], !custom.isEmpty { return custom }
        // This file is Sources/NeuroLab/Stdlib.swift; the library sits two levels up.
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("stdlib").path
    }

    /// The library's files, sorted by name.
    public static var files: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".nmap") }.sorted().map { (directory as NSString).appendingPathComponent($0) }
    }
}

extension Interpreter {
    /// Runs every standard-library file into the library scope, beneath the
    /// user's globals: users call its functions, and may hide their names,
    /// but the library's functions keep seeing its own. A file that fails
    /// is reported in the returned messages and skipped; the rest still load.
    @discardableResult
    public func loadStandardLibrary() -> [String] {
        // A folder named by NEUROMAP_STDLIB that is not there would otherwise
        // leave every library function unknown, with nothing said why.
        var isFolder: ObjCBool = false
        let directory = StandardLibrary.directory
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isFolder), isFolder.boolValue else {
            let named = ProcessInfo.processInfo.environment["NEUROMAP_STDLIB"].map { !$0.isEmpty } ?? false
            let what = FileManager.default.fileExists(atPath: directory) ? "is not a folder" : "does not exist"
            return [(named ? "neuromap: NEUROMAP_STDLIB names \(directory), which \(what)" : "neuromap: the standard library folder \(directory) \(what)")
                    + "; the standard library is not loaded\n"]
        }
        var problems: [String] = []
        for path in StandardLibrary.files {
            let source: String
            switch SourceText.readScript(path) {
            case .success(let text): source = text
            case .failure(let problem):
                problems.append("\(path): \(problem)\n")
                continue
            }
            let text = SourceText(name: path, text: source)
            let parsed = parse(source)
            if !parsed.diagnostics.isEmpty {
                problems.append(Diagnostic.report(parsed.diagnostics, in: text))
                continue
            }
            do {
                try run(parsed.program, in: library)
            } catch let error as RuntimeError {
                problems.append(error.diagnostic.render(in: text))
            } catch {
                problems.append("\(path): \(error)\n")
            }
        }
        return problems
    }
}
