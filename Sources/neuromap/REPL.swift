import Foundation
import NeuroLanguage
import NeuroLab

/// The interactive prompt: reads lines (with readline on a terminal, plainly
/// from a pipe), runs them with the same interpreter as scripts, and survives
/// every error and every Ctrl-C. Prompt commands start with a colon
/// (`REPL+Commands.swift`); completion, signals and the line editor have
/// their own files.
final class REPL {
    /// Replaced by `:reset`.
    var runner = REPL.makeRunner()
    var interpreter: Interpreter { runner.interpreter }
    /// Whether standard input is a terminal (prompts, history, completion).
    let interactive = isatty(STDIN_FILENO) != 0
    /// Whether any piped input failed (the exit status says so).
    private var failed = false
    /// Where lines come from (set by `start`).
    private var input: LineSource = PlainLines()
    /// The lesson loaded with `:lesson N` and the step it is at (REPL+Lesson.swift).
    var lessonPlace: LessonPlace?

    static let prompt = "nmap> "
    static let continuationPrompt = "  ... "

    /// A fresh interpreter whose echoes fit the terminal.
    static func makeRunner() -> ScriptRunner {
        let runner = ScriptRunner()
        runner.display = { Echo.text($0) }
        return runner
    }

    /// Runs until `:quit` or the end of input; returns the exit status:
    /// 0, or with piped input 1 when any line failed.
    func start() -> Int32 {
        PromptSignals.install(interactive: interactive)
        input = interactive ? LineEditor(completions: { [unowned self] in self.completions($0, before: $1) }) : PlainLines()
        defer { input.close() }
        if interactive { say("NeuroMap — :help for help, Tab to complete, Ctrl-D to quit.") }
        var buffer = ""
        while true {
            let event = input.read(prompt: buffer.isEmpty ? promptText : REPL.continuationPrompt)
            guard case .line(let line) = event else {
                if event == .interrupted {
                    buffer = ""
                    continue
                }
                if interactive {
                    say("")
                } else if !buffer.isEmpty {
                    // Piped input that ends inside a block: run it, so its error is reported.
                    evaluate(buffer)
                }
                break
            }
            if buffer.isEmpty && REPL.isCommand(line) {
                if !line.hasPrefix(":q") { input.remember(line) }
                guard runCommand(line) else { break }
                continue
            }
            buffer += (buffer.isEmpty ? "" : "\n") + line
            // A blank line inside an open block is part of it; Ctrl-C abandons the entry.
            if REPL.needsMoreInput(buffer) { continue }
            // The whole entry, however many lines, is one history entry.
            input.remember(buffer)
            evaluate(buffer)
            buffer = ""
        }
        return failed && !interactive ? ExitStatus.runtimeError : ExitStatus.success
    }

    /// Runs code typed at the prompt, echoing a final expression's value.
    private func evaluate(_ source: String) {
        guard !source.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return }
        _ = execute(source, file: "<stdin>", echo: true)
    }

    /// Runs code as a command: Ctrl-C now stops it rather than clearing a line.
    @discardableResult
    func execute(_ source: String, file: String, echo: Bool) -> Int32 {
        let status = PromptSignals.running { input.whileBusy { runner.execute(source, file: file, echo: echo) } }
        if status != ExitStatus.success { failed = true }
        return status
    }

    /// Whether more lines could finish `buffer`: the parser stopped at the end
    /// of the input with a bracket or block still open (`fn f(x) {`, `[1,`),
    /// or the last line ends in a backslash. (A parser error at the end with
    /// everything closed, like `1 +`, cannot be fixed by another line: a
    /// newline ends the statement.)
    static func needsMoreInput(_ buffer: String) -> Bool {
        if buffer.hasSuffix("\\") { return true }
        guard NeuroLab.parse(buffer).incomplete else { return false }
        var lexer = Lexer(buffer)
        var open = 0
        for token in lexer.tokenize() {
            switch token.kind {
            case .symbol(.leftParen), .symbol(.leftBracket), .symbol(.leftBrace): open += 1
            case .symbol(.rightParen), .symbol(.rightBracket), .symbol(.rightBrace): open -= 1
            default: break
            }
        }
        return open > 0
    }

    /// Tab's candidates: `:` commands and their arguments, then the
    /// interpreter's (nil: complete a file name).
    func completions(_ word: String, before: String) -> [String]? {
        if before.hasPrefix(":") {
            let command = before.dropFirst().prefix { !$0.isWhitespace }
            if command.count == before.count - 1 {
                return PromptCommand.allCases.map(\.rawValue).filter { $0.hasPrefix(word) }
            }
            switch PromptCommand.named(String(command)) {
            case .help?: return Set(Help.names(interpreter)).filter { $0.hasPrefix(word) }.sorted()
            case .load?: return nil
            default: return []
            }
        }
        let found = interpreter.completions(for: word, after: before)
        return found.isEmpty && CompletionContext.isInsideString(before) ? nil : found
    }

    /// Prints a line of the REPL's own output.
    func say(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
