import Foundation
import NeuroLanguage
import NeuroLab
import NeuroEngine

/// Exit codes of `neuromap` (sysexits.h where they fit).
enum ExitStatus {
    static let success: Int32 = 0
    static let runtimeError: Int32 = 1
    static let syntaxError: Int32 = 65
    static let missingFile: Int32 = 66
    /// Stopped by Ctrl-C (128 + SIGINT, as shells report it).
    static let interrupted: Int32 = 130
    /// The command line is wrong (`--set` of a name the script never assigns, `-e` twice).
    static let usage: Int32 = 64
}

/// Parses and runs source text, printing diagnostics the way compilers do.
/// Shared by `neuromap run`, `neuromap check`, `neuromap -e` and the REPL.
final class ScriptRunner {
    let interpreter: Interpreter
    /// How an echoed value is shown (the REPL lays wide records and lists out as tables).
    var display: (Value) -> String = { Formatter.display($0) }
    /// Every text run so far, by input: an error in a function shows the
    /// text the function was defined in (an earlier line at the prompt).
    var inputs: [Int: SourceText] = [:]
    var nextInput = 1

    init(interpreter: Interpreter = NeuroLab.makeInterpreter()) {
        self.interpreter = interpreter
        for problem in interpreter.loadStandardLibrary() { ScriptRunner.report(problem) }
        interpreter.output = { line in
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
        // Progress lines go to standard error, and only when it is a terminal.
        if let display = ProgressDisplay.standardError() { interpreter.session.progressDisplay = display }
    }

    /// Writes to standard error.
    static func report(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Parses `source` as input number `nextInput`; on syntax errors reports them
    /// (at most `Diagnostic.maxShown`, then a count of the rest) and returns nil.
    func parse(_ source: String, file: String) -> (program: [Stmt], text: SourceText)? {
        let text = SourceText(name: file, text: source, input: nextInput)
        nextInput += 1
        var parser = Parser(source: source, input: text.input, grammar: NeuroLab.grammar)
        let program = parser.parseProgram()
        guard parser.diagnostics.isEmpty else {
            ScriptRunner.report(Diagnostic.report(parser.diagnostics, in: text))
            let count = parser.diagnostics.count
            ScriptRunner.report("\(Diagnostic.grouped(count)) syntax error\(count == 1 ? "" : "s") in \(file)\n")
            return nil
        }
        return (program, text)
    }

    /// Runs `source` (named `file` in messages); returns the exit status.
    /// With `echo`, the value of a final bare expression is printed (the REPL, `-e`).
    func execute(_ source: String, file: String, echo: Bool = false, checkOnly: Bool = false) -> Int32 {
        guard let (program, text) = parse(source, file: file) else { return ExitStatus.syntaxError }
        if checkOnly {
            let problems = NameCheck.unresolved(program, interpreter: interpreter, source: source)
            ScriptRunner.report(Diagnostic.report(problems, in: text))
            return problems.isEmpty ? ExitStatus.success : ExitStatus.syntaxError
        }
        inputs[text.input] = text
        interpreter.session.remember(text)   // the report quotes the command that made each result
        Interruption.clear()
        do {
            let value = try onLargeStack { try self.interpreter.run(program) }
            // Ctrl-C during the last statement: it finished (a built-in that cannot stop
            // inside, or training that stopped at an epoch), but the run was still interrupted.
            if Interruption.requested {
                ScriptRunner.report("\(file): interrupted\n")
                return ExitStatus.interrupted
            }
            if echo, let value, !isNone(value) { interpreter.output(display(value)) }
            for note in interpreter.session.notes { ScriptRunner.report(note + "\n") }
            interpreter.session.notes.removeAll()
            return ExitStatus.success
        } catch let error as RuntimeError {
            // A line the failed computation left (each ends its own; this is a safeguard) stays above the error.
            interpreter.session.progressDisplay.end(true)
            ScriptRunner.report(error.diagnostic.render(in: text, earlier: inputs))
            // After Ctrl-C the run stopped on purpose, whatever error it stopped with.
            return Interruption.requested ? ExitStatus.interrupted : ExitStatus.runtimeError
        } catch {
            ScriptRunner.report("\(file): error: \(error)\n")
            return ExitStatus.runtimeError
        }
    }

    private func isNone(_ value: Value) -> Bool {
        if case .none = value { return true }
        return false
    }
}

/// Ctrl-C raises the interruption flag; the running command stops at its
/// next safe point. SIGTERM and SIGHUP end the process at once, first
/// removing the temporary file of a save in progress (the file saved over
/// is untouched: it is only ever replaced by a rename).
enum SignalHandling {
    static func install() {
        Interruption.prepare()
        PendingWrite.prepare()
        signal(SIGINT) { _ in Interruption.request() }
        signal(SIGTERM) { _ in
            PendingWrite.removeFromSignalHandler()
            _exit(128 + SIGTERM)
        }
        signal(SIGHUP) { _ in
            PendingWrite.removeFromSignalHandler()
            _exit(128 + SIGHUP)
        }
    }
}
