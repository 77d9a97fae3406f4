import Foundation

/// The standard library: `.nmap` files in the repository's `stdlib/`
/// folder, run into the globals when an interpreter starts, so users can
/// read and change them. `NEUROMAP_STDLIB` names another folder.
public enum StandardLibrary {
    /// Where the library's files are: `$NEUROMAP_STDLIB`, else the
    /// `stdlib/` folder of the source tree this binary was built from.
    public static var directory: String {
        if let custom = ProcessInfo.processInfo.environment["NEUROMAP_STDLIB"], !custom.isEmpty { return custom }
        // This file is Sources/NeuroLanguage/Stdlib.swift; the library sits two levels up.
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
        var problems: [String] = []
        for path in StandardLibrary.files {
            guard let source = try? String(contentsOfFile: path, encoding: .utf8) else {
                problems.append("\(path): cannot be read")
                continue
            }
            let parsed = Interpreter.parse(source)
            if !parsed.diagnostics.isEmpty {
                problems += parsed.diagnostics.map { $0.render(file: path, source: source) }
                continue
            }
            do {
                try run(parsed.program, in: library)
            } catch let error as RuntimeError {
                problems.append(error.diagnostic.render(file: path, source: source))
            } catch {
                problems.append("\(path): \(error)")
            }
        }
        return problems
    }
}
