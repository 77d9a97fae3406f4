/// A problem found in a script, with where it is. Printed as
/// `file:line:col: error: message`, the source line, and a caret under the place.
public struct Diagnostic: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var range: SourceRange
    /// Notes printed under the caret (the chain of function calls for runtime errors).
    public var notes: [String]

    public init(message: String, range: SourceRange, notes: [String] = []) {
        self.message = message
        self.range = range
        self.notes = notes
    }

    public var description: String { "\(range.start): \(message)" }

    /// The full report: location, message, source line and caret, notes.
    public func render(file: String, source: String) -> String {
        let start = range.start
        var out = "\(file):\(start.line):\(start.column): error: \(message)\n"
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        if start.line >= 1 && start.line <= lines.count {
            let text = String(lines[start.line - 1])
            out += "  \(text)\n"
            let width: Int
            if range.end.line == start.line && range.end.column > start.column {
                width = range.end.column - start.column
            } else {
                width = 1
            }
            out += "  " + String(repeating: " ", count: max(0, start.column - 1)) + String(repeating: "^", count: max(1, width)) + "\n"
        }
        for note in notes { out += "  note: \(note)\n" }
        return out
    }
}

/// An error raised while running a script: what went wrong and where.
public struct RuntimeError: Error, CustomStringConvertible {
    public var message: String
    public var range: SourceRange?
    /// User functions being called when it happened, innermost first.
    public var callStack: [(name: String, range: SourceRange)]

    public init(_ message: String, at range: SourceRange? = nil) {
        self.message = message
        self.range = range
        self.callStack = []
    }

    public var description: String { message }

    /// As a diagnostic, pointing at the failing expression and listing the calls.
    public var diagnostic: Diagnostic {
        let where_ = range ?? SourceRange(SourceLocation(line: 1, column: 1, offset: 0), SourceLocation(line: 1, column: 1, offset: 0))
        return Diagnostic(message: message, range: where_,
                          notes: callStack.map { "in \($0.name)() called at \($0.range.start)" })
    }
}
