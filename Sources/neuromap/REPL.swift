import CReadline
import Foundation
import NeuroLanguage

/// The interactive prompt: reads lines with GNU readline, runs them with the
/// same interpreter as scripts, and survives every error.
final class REPL {
    let runner = ScriptRunner()

    /// Runs until end of input; returns the exit status.
    func start() -> Int32 {
        let interactive = isatty(STDIN_FILENO) != 0
        if interactive { print("NeuroMap — type :help for help, Ctrl-D to quit.") }
        var buffer = ""
        while true {
            let prompt = buffer.isEmpty ? "nmap> " : "  ... "
            guard let line = readLine(prompt: prompt, interactive: interactive) else { break }
            buffer += (buffer.isEmpty ? "" : "\n") + line
            let parsed = Interpreter.parse(buffer)
            if parsed.incomplete && interactive && !line.isEmpty { continue }
            _ = runner.execute(buffer, file: "<stdin>", echo: true)
            buffer = ""
        }
        if interactive { print() }
        return ExitStatus.success
    }

    private func readLine(prompt: String, interactive: Bool) -> String? {
        guard interactive else { return Swift.readLine() }
        guard let raw = readline(prompt) else { return nil }
        defer { free(raw) }
        let line = String(cString: raw)
        if !line.trimmingCharacters(in: .whitespaces).isEmpty { add_history(raw) }
        return line
    }
}
