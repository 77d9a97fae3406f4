import Foundation
import NeuroLanguage
import NeuroLab

/// How a lesson run ended.
struct LessonOutcome {
    /// The exit status: 0 when it ran to the end and every exercise passed;
    /// 2 when it ran to the end with exercises not passed; 1 after an error,
    /// 130 after Ctrl-C, 65 for a syntax error.
    var status: Int32
    /// The line to continue from (`--from`) when it stopped early.
    var stoppedAt: Int?
}

extension ScriptRunner {
    /// Exit status of a lesson that ran to the end with exercises not passed.
    static let exercisesFailed: Int32 = 2

    /// Runs a lesson one top-level statement at a time, so that an error or
    /// Ctrl-C can say the line to continue from. With `from`, the statements
    /// that end before that line run first with their output hidden (their
    /// checks still count): a lesson stopped part-way continues with the
    /// state it had, rebuilt by running again what came before.
    func executeLesson(_ source: String, file: String, from: Int? = nil, resume: (Int) -> String) -> LessonOutcome {
        guard let (program, text) = parse(source, file: file) else { return LessonOutcome(status: ExitStatus.syntaxError, stoppedAt: nil) }
        inputs[text.input] = text
        interpreter.session.remember(text)
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let visibleOutput = interpreter.output
        defer { interpreter.output = visibleOutput }
        Interruption.clear()
        var announced = false
        for statement in program {
            let first = statement.range.start.line
            let quiet = from.map { statement.range.end.line < $0 } ?? false
            if let from, !quiet, !announced {
                announced = true
                visibleOutput("(lines 1–\(from - 1) ran again quietly; continuing at line \(from))")
            }
            interpreter.output = quiet ? { _ in } : visibleOutput
            do {
                _ = try onLargeStack { try self.interpreter.run([statement]) }
            } catch let error as RuntimeError {
                interpreter.output = visibleOutput
                interpreter.session.progressDisplay.end(true)
                if Interruption.requested { return interrupted(at: first, file: file, resume: resume) }
                ScriptRunner.report(error.diagnostic.render(in: text, earlier: inputs))
                let low = min(lines.count, max(0, first - 1))
                let statementLines = lines[low..<max(low, min(lines.count, statement.range.end.line))]
                if let blank = statementLines.firstIndex(where: { LessonRunnerText.hasBlank($0) }) {
                    ScriptRunner.report("  hint: line \(blank + 1) still has a blank ___ to fill in with your answer\n")
                }
                ScriptRunner.report("stopped at line \(first); fix it, then continue with: \(resume(first))\n")
                return LessonOutcome(status: ExitStatus.runtimeError, stoppedAt: first)
            } catch {
                interpreter.output = visibleOutput
                ScriptRunner.report("\(file): error: \(error)\n")
                return LessonOutcome(status: ExitStatus.runtimeError, stoppedAt: first)
            }
            if Interruption.requested {
                interpreter.output = visibleOutput
                // The statement finished (training stops at an epoch): continue after it.
                let next = program.first { $0.range.start.line > statement.range.end.line }?.range.start.line
                return interrupted(at: next ?? first, file: file, resume: resume)
            }
        }
        interpreter.output = visibleOutput
        for note in interpreter.session.notes { ScriptRunner.report(note + "\n") }
        interpreter.session.notes.removeAll()
        let card = interpreter.scorecard
        return LessonOutcome(status: card.total > 0 && !card.allPassed ? ScriptRunner.exercisesFailed : ExitStatus.success, stoppedAt: nil)
    }

    private func interrupted(at line: Int, file: String, resume: (Int) -> String) -> LessonOutcome {
        ScriptRunner.report("\(file): interrupted at line \(line); continue with: \(resume(line))\n")
        return LessonOutcome(status: ExitStatus.interrupted, stoppedAt: line)
    }
}

enum LessonRunnerText {
    /// Whether a source line holds the blank `___` outside a comment.
    static func hasBlank(_ line: String) -> Bool {
        let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? line
        return code.contains("___")
    }
}
