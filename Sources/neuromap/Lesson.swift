import Foundation
import NeuroLanguage
import NeuroLab

/// A lesson of the workshop: `examples/workshop/NN-name.nmap`, its solution
/// in `examples/workshop/solutions/` under the same name, and its steps —
/// each top-level statement with the comment lines just above it — for the
/// prompt's `:lesson` to show one at a time.
struct Lesson {
    let number: Int
    let path: String
    /// The first comment line after the number: the lesson's title.
    let title: String

    /// Where the lessons are: `$NEUROMAP_WORKSHOP`, else `examples/workshop`
    /// under the current directory when it is there, else the one of the
    /// source tree this binary was built from.
    static var directory: String {
        if let custom = ProcessInfo.processInfo.environment["NEUROMAP_WORKSHOP"], !custom.isEmpty { return custom }
        let local = (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent("examples/workshop")
        if FileManager.default.fileExists(atPath: local) { return local }
        // This file is Sources/neuromap/Lesson.swift; the lessons sit in examples/workshop of the tree.
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/workshop").path
    }

    /// Every lesson, by number.
    static func all(in folder: String = directory) -> [Lesson] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasSuffix(".nmap") }.sorted().compactMap { name in
            guard let number = Int(name.prefix { $0.isNumber }), name.first?.isNumber == true else { return nil }
            let path = (folder as NSString).appendingPathComponent(name)
            return Lesson(number: number, path: path, title: title(of: path))
        }
    }

    /// Lesson `number`, or an error that lists the lessons there are.
    static func find(_ number: Int, in folder: String = directory) -> Result<Lesson, LessonError> {
        let lessons = all(in: folder)
        if let lesson = lessons.first(where: { $0.number == number }) { return .success(lesson) }
        if lessons.isEmpty { return .failure(LessonError("no lessons found in \(folder) (set NEUROMAP_WORKSHOP to their folder)")) }
        let numbers = lessons.map { String($0.number) }.joined(separator: ", ")
        return .failure(LessonError("there is no lesson \(number); the lessons are \(numbers) (neuromap lesson lists them)"))
    }

    /// The solution's path (same file name under `solutions/`), or an error when there is none.
    func solution() -> Result<String, LessonError> {
        let folder = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("solutions")
        let file = (folder as NSString).appendingPathComponent((path as NSString).lastPathComponent)
        guard FileManager.default.fileExists(atPath: file) else { return .failure(LessonError("lesson \(number) has no solution at \(file)")) }
        return .success(file)
    }

    /// The title: the first comment line of the file, less the file name before a dash.
    static func title(of path: String) -> String {
        guard case .success(let text) = SourceText.readScript(path),
              let first = text.split(separator: "\n").first(where: { $0.hasPrefix("#") }) else { return "" }
        var line = first.drop { $0 == "#" || $0 == " " }
        if let dash = line.range(of: " — ") { line = line[dash.upperBound...] }
        return String(line)
    }

    /// The listing `neuromap lesson` prints.
    static func listing(in folder: String = directory) -> String {
        let lessons = all(in: folder)
        guard !lessons.isEmpty else { return "no lessons found in \(folder)" }
        var lines = ["The workshop's lessons (\(folder)):"]
        for lesson in lessons { lines.append(String(format: "  %2d  ", lesson.number) + lesson.title) }
        lines.append("")
        lines.append("neuromap lesson N runs one and prints its scorecard (--solution runs its solution);")
        lines.append("at the prompt, :lesson N shows it step by step.")
        return lines.joined(separator: "\n")
    }
}

struct LessonError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One step of a lesson: a top-level statement with the comments just above it.
struct LessonStep {
    /// The comment lines above the statement (without the blank lines between).
    let comments: [String]
    /// The statement's own lines, as written.
    let code: String
    let firstLine: Int
    let lastLine: Int

    /// The steps of `source`, in order; nil when it does not parse.
    static func steps(of source: String) -> [LessonStep]? {
        let parsed = NeuroLab.parse(source)
        guard parsed.diagnostics.isEmpty else { return nil }
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map {
            String($0.hasSuffix("\r") ? $0.dropLast() : $0[...])
        }
        var steps: [LessonStep] = []
        var previousEnd = 0
        for statement in parsed.program {
            let first = statement.range.start.line, last = max(statement.range.end.line, first)
            guard first >= 1, last <= lines.count else { continue }
            // Comments directly above, back to a blank line or the previous statement.
            var comments: [String] = []
            var line = first - 1
            while line > previousEnd, lines[line - 1].trimmingCharacters(in: .whitespaces).hasPrefix("#") {
                comments.insert(lines[line - 1], at: 0)
                line -= 1
            }
            // A statement on the line the previous one ended on (`a = 1; b = 2`) joins it.
            if first <= previousEnd, let last0 = steps.popLast() {
                steps.append(LessonStep(comments: last0.comments, code: last0.code, firstLine: last0.firstLine, lastLine: max(last0.lastLine, last)))
                previousEnd = max(previousEnd, last)
                continue
            }
            steps.append(LessonStep(comments: comments, code: lines[(first - 1)..<last].joined(separator: "\n"),
                                    firstLine: first, lastLine: last))
            previousEnd = last
        }
        return steps
    }
}
