import Foundation
import NeuroLanguage
import NeuroLab
import NeuroEngine

/// The prompt's own commands, typed with a leading colon. A unique prefix
/// is enough (`:h`, `:q`).
enum PromptCommand: String, CaseIterable {
    case help, vars, `where`, lesson, load, reset, quit

    var usage: String {
        switch self {
        case .help: return ":help [topic]"
        case .load: return ":load FILE"
        case .lesson: return ":lesson [N]"
        default: return ":" + rawValue
        }
    }

    var summary: String {
        switch self {
        case .help: return "this overview, or help on a built-in or topic"
        case .vars: return "your variables, one line each"
        case .where: return "the current model, data or text, the lesson's step and your exercises"
        case .lesson: return "N: start lesson N of the workshop; alone: show its next step; run: run the step shown"
        case .load: return "run a script into this session"
        case .reset: return "forget every variable, the model, data and results"
        case .quit: return "leave (so does Ctrl-D)"
        }
    }

    /// The command `word` names, in full or by a unique prefix.
    static func named(_ word: String) -> PromptCommand? {
        if let exact = PromptCommand(rawValue: word) { return exact }
        let candidates = allCases.filter { !word.isEmpty && $0.rawValue.hasPrefix(word) }
        return candidates.count == 1 ? candidates[0] : nil
    }
}

extension REPL {
    /// Whether a line is a prompt command rather than code.
    static func isCommand(_ line: String) -> Bool {
        line.trimmingCharacters(in: .whitespaces).hasPrefix(":")
    }

    /// Runs `:name argument`; returns false when the session should end.
    func runCommand(_ line: String) -> Bool {
        let text = line.trimmingCharacters(in: .whitespaces).dropFirst()
        let word = String(text.prefix { !$0.isWhitespace })
        let argument = text.dropFirst(word.count).trimmingCharacters(in: .whitespaces)
        guard let command = PromptCommand.named(word) else {
            let names = PromptCommand.allCases.map(\.rawValue)
            // Command names are short, so allow two mistakes (`:hlep`), more than a third of their letters.
            let hint = Suggest.closest(word, among: names, minimumAllowance: 2).map { "; did you mean ':\($0)'?" } ?? ""
            ScriptRunner.report("error: unknown command ':\(word)'\(hint) (commands: \(names.map { ":" + $0 }.joined(separator: " ")))\n")
            return true
        }
        switch command {
        case .help: say(argument.isEmpty ? Help.overview : Help.text(argument, interpreter))
        case .vars: say(variableTable())
        case .where: say(whereText())
        case .lesson: lessonCommand(argument)
        case .load: load(argument)
        case .reset:
            runner = REPL.makeRunner()
            lessonPlace = nil
            say("session reset: variables, model, data and results are gone")
        case .quit: return false
        }
        return true
    }

    /// Runs a script into the session; its imports resolve next to it.
    private func load(_ argument: String) {
        let path = homeExpanded(argument.trimmingCharacters(in: CharacterSet(charactersIn: "\"'")))
        guard !path.isEmpty else {
            ScriptRunner.report("error: :load needs a file, e.g. :load examples/grokking.nmap\n")
            return
        }
        let source: String
        switch SourceText.readScript(path) {
        case .success(let text): source = text
        case .failure(let problem):
            ScriptRunner.report("error: \(path): \(problem)\n")
            return
        }
        let interpreter = self.interpreter
        let saved = interpreter.baseDirectory
        let directory = (path as NSString).deletingLastPathComponent
        interpreter.baseDirectory = directory.isEmpty ? saved : directory
        defer { interpreter.baseDirectory = saved }
        _ = execute(source, file: path, echo: false)
    }

    /// `:vars`: each user variable with its type and a one-line summary.
    private func variableTable() -> String {
        let names = interpreter.userVariableNames
        guard !names.isEmpty else { return "no variables yet (the standard library's names are not listed)" }
        let values = names.compactMap { name in interpreter.globals.lookup(name).map { (name, $0) } }
        // The value column takes what the name and type columns leave of the terminal's width.
        let fixed = 2 + (names.map(\.count).max() ?? 0) + 2 + (values.map(\.1.typeName.count).max() ?? 0) + 2
        let width = max(30, REPL.terminalColumns - fixed - 1)
        let rows = values.map { [$0.0, $0.1.typeName, REPL.oneLine(Formatter.display($0.1), width: width)] }
        var lines = [Formatter.table(["name", "type", "value"], rows)]
        let session = interpreter.session
        if let model = session.model { lines.append("  current model: \(name(of: model, among: names) ?? model.summary)") }
        if let data = session.data { lines.append("  current data:  \(name(of: data, among: names) ?? data.summary)") }
        return lines.joined(separator: "\n")
    }

    /// The variable that holds exactly this object, if one does.
    private func name(of object: NativeObject, among names: [String]) -> String? {
        names.first { name in
            if case .object(let held)? = interpreter.globals.lookup(name) { return held === object }
            return false
        }
    }

    /// The width of the terminal on standard output (100 when it is not one).
    static var terminalColumns: Int {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 100 }
        return Int(size.ws_col)
    }

    /// The first line of `text`, cut to `width` characters; `…` marks anything left out.
    static func oneLine(_ text: String, width: Int) -> String {
        let first = text.prefix { $0 != "\n" }
        guard first.count > width || first.count < text.count else { return text }
        return String(first.prefix(width - 1)) + "…"
    }
}
