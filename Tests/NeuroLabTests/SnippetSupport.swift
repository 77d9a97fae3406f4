@testable import NeuroLanguage
@testable import NeuroLab

/// Runs `source` in a fresh interpreter with output discarded; returns the
/// interpreter and the message of a syntax or runtime error, if any.
func runSnippet(_ source: String) -> (Interpreter, String?) {
    let interpreter = NeuroLab.makeInterpreter()
    interpreter.output = { _ in }
    let parsed = NeuroLab.parse(source)
    guard parsed.diagnostics.isEmpty else {
        return (interpreter, parsed.diagnostics.map { $0.render(file: "t", source: source) }.joined())
    }
    do {
        try interpreter.run(parsed.program)
        return (interpreter, nil)
    } catch let error as RuntimeError {
        return (interpreter, error.message)
    } catch {
        return (interpreter, "\(error)")
    }
}
