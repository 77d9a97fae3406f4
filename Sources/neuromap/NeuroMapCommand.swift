import ArgumentParser
import Foundation
import NeuroLanguage

@main
struct NeuroMap: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neuromap",
        abstract: "A workbench for mechanistic interpretability: train small transformers, open them up, test hypotheses.",
        discussion: "Without arguments, starts the interactive prompt.",
        subcommands: [Run.self, Check.self])

    @Option(name: .customShort("e"), help: "Run this code and print the value of its last expression.")
    var code: String?

    mutating func run() throws {
        SignalHandling.install()
        if let code {
            let status = ScriptRunner().execute(code, file: "<-e>", echo: true)
            if status != 0 { throw ExitCode(status) }
            return
        }
        let status = REPL().start()
        if status != 0 { throw ExitCode(status) }
    }
}

/// Reads a script, naming it in the error when it cannot.
func readScript(_ path: String) throws -> String {
    guard let source = try? String(contentsOfFile: path, encoding: .utf8) else {
        let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file"
        ScriptRunner.report("neuromap: \(path): \(reason)\n")
        throw ExitCode(ExitStatus.missingFile)
    }
    return source
}

extension NeuroMap {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run a .nmap script.")

        @ArgumentParser.Argument(help: "The script to run.")
        var file: String

        @Option(name: .customLong("set"), help: ArgumentHelp("Override a top-level assignment, e.g. --set epochs=200.", valueName: "name=value"))
        var overrides: [String] = []

        mutating func run() throws {
            SignalHandling.install()
            let source = try readScript(file)
            let runner = ScriptRunner()
            runner.interpreter.baseDirectory = (file as NSString).deletingLastPathComponent.isEmpty ? "." : (file as NSString).deletingLastPathComponent
            for assignment in overrides {
                let parts = assignment.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty else {
                    throw ValidationError("--set expects name=value, got '\(assignment)'")
                }
                runner.interpreter.overrides[parts[0]] = Self.parseValue(parts[1])
            }
            let status = runner.execute(source, file: file)
            if status == 0 {
                for name in runner.interpreter.overrides.keys.sorted() where !runner.interpreter.usedOverrides.contains(name) {
                    ScriptRunner.report("warning: --set \(name): \(file) never assigns '\(name)' at top level\n")
                }
            }
            if status != 0 { throw ExitCode(status) }
        }

        /// `200` → number, `true`/`false` → bool, anything else → string.
        static func parseValue(_ text: String) -> Value {
            if let n = Double(text) { return .number(n) }
            if text == "true" || text == "false" { return .bool(text == "true") }
            return .string(text)
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Parse a .nmap script and check its names, arguments and hook names without running it.")

        @ArgumentParser.Argument(help: "The script to check.")
        var file: String

        mutating func run() throws {
            let source = try readScript(file)
            let status = ScriptRunner().execute(source, file: file, checkOnly: true)
            if status != 0 { throw ExitCode(status) }
            print("\(file): ok")
        }
    }
}
