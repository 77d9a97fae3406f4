import ArgumentParser
import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroLab

@main
struct NeuroMap: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neuromap",
        abstract: "A workbench for mechanistic interpretability: train small transformers, open them up, test hypotheses.",
        discussion: "Without arguments, starts the interactive prompt.",
        subcommands: [Run.self, Check.self, Fetch.self, LessonCommand.self])

    @Option(name: .customShort("e"), help: "Run this code and print the value of its last expression.")
    var code: [String] = []

    mutating func run() throws {
        SignalHandling.install()
        guard code.count <= 1 else { throw NeuroMap.usageError("-e is given \(code.count) times; give the code once") }
        if let code = code.first {
            let status = ScriptRunner().execute(code, file: "<-e>", echo: true)
            if status != 0 { throw ExitCode(status) }
            return
        }
        let status = REPL().start()
        if status != 0 { throw ExitCode(status) }
    }
}

extension NeuroMap {
    /// Reports a mistake in the command line and exits with the usage status.
    static func usageError(_ message: String) -> ExitCode {
        ScriptRunner.report("neuromap: \(message)\n")
        return ExitCode(ExitStatus.usage)
    }

    /// `-e` belongs to `neuromap` alone: with a subcommand it would be ignored, so it is refused.
    static func refuseCodeWithSubcommand(_ name: String) throws {
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.contains(where: { $0 == "-e" || $0.hasPrefix("-e=") }) {
            throw usageError("-e runs code on its own; it cannot be combined with '\(name)'")
        }
    }
}

/// Reads a script (`-`: standard input), naming it in the error when it
/// cannot: a missing or unreadable file exits 66; bytes that are not UTF-8
/// text exit 65, saying what is wrong and where. A UTF-8 byte-order mark is skipped.
func readScript(_ path: String) throws -> String {
    let read: Result<String, ScriptReadError>
    if path == "-" {
        read = SourceText.decode(FileHandle.standardInput.readDataToEndOfFile()).mapError { .bytes($0) }
    } else {
        read = SourceText.readScript(path)
    }
    switch read {
    case .success(let source):
        return source
    case .failure(.file(let problem)):
        ScriptRunner.report("neuromap: \(path): \(problem)\n")
        throw ExitCode(ExitStatus.missingFile)
    case .failure(.bytes(let problem)):
        ScriptRunner.report("neuromap: \(scriptName(path))\(problem.place.map { ":\($0)" } ?? ""): \(problem)\n")
        throw ExitCode(ExitStatus.syntaxError)
    }
}

/// How messages name a script: its path, or `<stdin>` for `-`.
func scriptName(_ path: String) -> String { path == "-" ? "<stdin>" : path }

extension NeuroMap {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run a .nmap script.")

        @ArgumentParser.Argument(help: "The script to run; - reads it from standard input.")
        var file: String

        @Option(name: .customLong("set"), help: ArgumentHelp("Override a top-level assignment, e.g. --set epochs=200.", valueName: "name=value"))
        var overrides: [String] = []

        mutating func run() throws {
            try NeuroMap.refuseCodeWithSubcommand("run")
            SignalHandling.install()
            let source = try readScript(file)
            let name = scriptName(file)
            let runner = ScriptRunner()
            let folder = file == "-" ? "" : (file as NSString).deletingLastPathComponent
            runner.interpreter.baseDirectory = folder.isEmpty ? "." : folder
            runner.interpreter.overrides = try Self.overrides(overrides, for: source, file: name)
            let status = runner.execute(source, file: name)
            // A script that checks exercises with expect ends with their scorecard.
            let card = runner.interpreter.scorecard
            if card.total > 0 { say("\n" + card.text) }
            if status != 0 { throw ExitCode(status) }
        }

        /// The `--set name=value` pairs, each naming a top-level assignment of
        /// the script and giving a literal value; anything else is a usage error.
        static func overrides(_ pairs: [String], for source: String, file: String) throws -> [String: Value] {
            guard !pairs.isEmpty else { return [:] }
            let parsed = NeuroLab.parse(source)
            let assignable = Overrides.assignableNames(parsed.program)
            var result: [String: Value] = [:]
            for pair in pairs {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty else { throw NeuroMap.usageError("--set expects name=value, got '\(pair)'") }
                let name = parts[0].trimmingCharacters(in: .whitespaces)
                // A script that does not parse reports its own errors when run.
                if parsed.diagnostics.isEmpty, !assignable.contains(name) {
                    let hint = Suggest.closest(name, among: assignable).map { "did you mean '\($0)'? " } ?? ""
                    let list = assignable.isEmpty ? "it assigns no name at top level" : "it assigns " + assignable.joined(separator: ", ")
                    throw NeuroMap.usageError("--set \(name): \(file) never assigns '\(name)' at top level; \(hint)(\(list))")
                }
                switch Overrides.literal(parts[1]) {
                case .success(let value): result[name] = value
                case .failure(let error): throw NeuroMap.usageError("--set \(name): \(error)")
                }
            }
            return result
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Parse a .nmap script and check its names, arguments and hook names without running it.")

        @ArgumentParser.Argument(help: "The script to check; - reads it from standard input.")
        var file: String

        mutating func run() throws {
            try NeuroMap.refuseCodeWithSubcommand("check")
            let source = try readScript(file)
            let status = ScriptRunner().execute(source, file: scriptName(file), checkOnly: true)
            if status != 0 { throw ExitCode(status) }
            print("\(scriptName(file)): ok")
        }
    }
}
