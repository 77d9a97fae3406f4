import Foundation
import NeuroLanguage
import NeuroLab

/// Where the student is: the lesson loaded with `:lesson N` and the step to show next.
struct LessonPlace {
    let lesson: Lesson
    let steps: [LessonStep]
    /// The step `:lesson` shows next (0-based); `steps.count` when done.
    var next = 0
    /// The step shown last, which `:lesson run` runs.
    var shown: Int?
}

extension REPL {
    /// The prompt: `nmap> `, or with a current model and data (and a lesson)
    /// `nmap[model · a+b mod 59]> ` — the variable holding the current model
    /// and the current task, so the student always sees what `patch` measures.
    var promptText: String {
        var parts: [String] = []
        if let place = lessonPlace { parts.append("L\(place.lesson.number) \(min(place.next, place.steps.count))/\(place.steps.count)") }
        let session = interpreter.session
        if let target = session.textTarget {
            parts.append(variableName(of: target.model) ?? "text model")
        } else {
            if let model = session.model { parts.append(variableName(of: model) ?? "model") }
            if let data = session.data { parts.append(data.dataset.task.description) }
        }
        return parts.isEmpty ? REPL.prompt : "nmap[" + parts.joined(separator: " · ") + "]> "
    }

    /// The user variable that holds exactly this object, if one does.
    func variableName(of object: NativeObject) -> String? {
        interpreter.userVariableNames.first { name in
            if case .object(let held)? = interpreter.globals.lookup(name) { return held === object }
            return false
        }
    }

    /// `:where`: the current model, data or text, the lesson and its step, the scorecard's count.
    func whereText() -> String {
        let session = interpreter.session
        var lines: [String] = []
        func named(_ object: NativeObject) -> String {
            variableName(of: object).map { "\($0) — " } ?? "(no variable) — "
        }
        if let target = session.textTarget {
            lines.append("model:  " + named(target.model) + target.model.summary)
            lines.append("text:   " + target.texts.map { "\"\($0)\"" }.joined(separator: ", "))
        } else {
            lines.append("model:  " + (session.model.map { named($0) + $0.summary } ?? "none (train one, load one, or say use MODEL on DATA)"))
            lines.append("data:   " + (session.data.map { named($0) + $0.summary } ?? "none"))
        }
        if let place = lessonPlace {
            let upcoming = place.next < place.steps.count
                ? "next: step \(place.next + 1) of \(place.steps.count) (line \(place.steps[place.next].firstLine)); :lesson shows it"
                : "all \(place.steps.count) steps shown"
            lines.append("lesson: \(place.lesson.number) (\(place.lesson.title)), \(upcoming)")
        }
        let card = interpreter.scorecard
        if card.total > 0 { lines.append("exercises: \(card.passed) of \(card.total) passed (scorecard() lists them)") }
        return lines.joined(separator: "\n")
    }

    /// `:lesson N` loads lesson N and shows its first step; `:lesson` shows
    /// the next; `:lesson run` runs the step shown last, as written;
    /// `:lesson N from LINE` starts at the step holding that line;
    /// `:lesson list` lists the lessons.
    func lessonCommand(_ argument: String) {
        let words = argument.split(separator: " ").map(String.init)
        if words.first == "list" { return say(Lesson.listing()) }
        if words.first == "run" {
            guard let place = lessonPlace, let index = place.shown else {
                return ScriptRunner.report("error: no step shown yet; :lesson N loads a lesson, :lesson shows its next step\n")
            }
            let step = place.steps[index]
            say(step.code)
            _ = execute(step.code, file: place.lesson.path, echo: true)
            return
        }
        if let first = words.first {
            guard let number = Int(first) else {
                return ScriptRunner.report("error: :lesson takes a lesson's number (:lesson 1), run, list, or nothing for the next step\n")
            }
            switch Lesson.find(number) {
            case .failure(let problem): return ScriptRunner.report("error: \(problem)\n")
            case .success(let lesson):
                guard case .success(let source) = SourceText.readScript(lesson.path), let steps = LessonStep.steps(of: source) else {
                    return ScriptRunner.report("error: \(lesson.path) cannot be read or does not parse; neuromap check \(lesson.path) says why\n")
                }
                var place = LessonPlace(lesson: lesson, steps: steps)
                if words.count == 3, words[1] == "from", let line = Int(words[2]) {
                    place.next = steps.firstIndex { $0.lastLine >= line } ?? steps.count
                    if place.next > 0 {
                        say("(steps 1–\(place.next) are not run for you: :load \(lesson.path) runs the whole lesson, or type them)")
                    }
                }
                lessonPlace = place
                // The lesson's opening comment: what it teaches and the question it answers.
                let opening = source.split(separator: "\n", omittingEmptySubsequences: false).prefix { $0.hasPrefix("#") }
                if place.next == 0, !opening.isEmpty { say(opening.joined(separator: "\n")) }
                say("lesson \(lesson.number): \(lesson.title) — \(steps.count) steps. Type each step (or :lesson run); :lesson shows the next.")
            }
        }
        guard var place = lessonPlace else {
            return ScriptRunner.report("error: no lesson loaded; :lesson 1 starts the first (:lesson list lists them)\n")
        }
        guard place.next < place.steps.count else {
            say("that was the last step of lesson \(place.lesson.number). scorecard() shows your exercises; :lesson \(place.lesson.number + 1) starts the next lesson.")
            return
        }
        let step = place.steps[place.next]
        say("── step \(place.next + 1) of \(place.steps.count) · line \(step.firstLine) ──")
        if !step.comments.isEmpty { say(step.comments.joined(separator: "\n")) }
        say(step.code)
        place.shown = place.next
        place.next += 1
        lessonPlace = place
    }
}
