import ArgumentParser
import Foundation
import NeuroLanguage
import NeuroLab

/// Writes a line to standard output unbuffered, in order with what the script prints.
func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

extension NeuroMap {
    /// `neuromap lesson N`: runs lesson N of the workshop and prints its scorecard.
    struct LessonCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "lesson",
            abstract: "Run a workshop lesson (examples/workshop) and print its scorecard.",
            discussion: """
                Without a number, lists the lessons. Exit status: 0 when every exercise passed, 2 when some did not, \
                1 after an error, 130 after Ctrl-C (the message says how to continue: --from LINE runs the lines \
                before LINE again quietly, then goes on from there).
                """)

        @ArgumentParser.Argument(help: "The lesson's number (or a lesson file's path).")
        var lesson: String?

        @Flag(name: .customLong("solution"), help: "Run the lesson's solution (examples/workshop/solutions).")
        var solution = false

        @Option(name: .customLong("from"), help: ArgumentHelp("Continue from this line: the lines before it run again with their output hidden.", valueName: "line"))
        var from: Int?

        @Option(name: .customLong("set"), help: ArgumentHelp("Override a top-level assignment, e.g. --set epochs=200.", valueName: "name=value"))
        var overrides: [String] = []

        mutating func run() throws {
            try NeuroMap.refuseCodeWithSubcommand("lesson")
            guard let lesson else {
                say(Lesson.listing())
                return
            }
            let path: String
            var label = lesson
            if let number = Int(lesson) {
                switch Lesson.find(number) {
                case .failure(let problem): throw NeuroMap.usageError("lesson: \(problem)")
                case .success(let found):
                    if solution {
                        switch found.solution() {
                        case .failure(let problem): throw NeuroMap.usageError("lesson: \(problem)")
                        case .success(let file): path = file
                        }
                    } else {
                        path = found.path
                    }
                    say("lesson \(found.number): \(found.title)\(solution ? " (solution)" : "")")
                }
            } else {
                guard !solution else { throw NeuroMap.usageError("lesson: --solution takes a lesson's number, not a file") }
                path = lesson
                label = lesson
            }
            if let from, from < 1 { throw NeuroMap.usageError("lesson: --from takes a line number, 1 or more, got \(from)") }
            // Lessons read examples/workshop/models/… from the repository's root: run from there when
            // the lesson was found by number and the current directory is not that root.
            let here = FileManager.default.currentDirectoryPath
            if Int(lesson) != nil, (Lesson.directory as NSString).hasSuffix("examples/workshop"),
               !FileManager.default.fileExists(atPath: (here as NSString).appendingPathComponent("examples/workshop")) {
                let root = ((Lesson.directory as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
                if FileManager.default.changeCurrentDirectoryPath(root) {
                    say("(running in \(root), where the lesson's files are)")
                }
            }
            SignalHandling.install()
            let source = try readScript(path)
            let runner = ScriptRunner()
            let folder = (path as NSString).deletingLastPathComponent
            runner.interpreter.baseDirectory = folder.isEmpty ? "." : folder
            runner.interpreter.overrides = try Run.overrides(overrides, for: source, file: path)
            let settings = overrides.map { " --set \($0)" }.joined()
            let again = "neuromap lesson \(label)\(solution ? " --solution" : "")\(settings)"
            let outcome = runner.executeLesson(source, file: path, from: from) { line in "\(again) --from \(line)" }
            say("")
            say(runner.interpreter.scorecard.text)
            if outcome.stoppedAt != nil {
                say("the lesson stopped before its end; the exercises after that line were not checked")
            }
            if outcome.status != ExitStatus.success { throw ExitCode(outcome.status) }
        }
    }
}
