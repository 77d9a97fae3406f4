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
        // Lines as the lexer counts them: split at "\n" bytes (a Swift
        // Character would keep "\r\n" whole), without the "\r" of CRLF files.
        let lines = source.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if start.line >= 1 && start.line <= lines.count {
            let text = Array(String(decoding: lines[start.line - 1], as: UTF8.self).unicodeScalars.filter { $0 != "\r" }.map(Character.init))
            out += "  \(String(text))\n"
            // Under the place, keeping the line's tabs so the caret lines up;
            // a range running past the line is underlined to its end.
            let lead = text.prefix(max(0, start.column - 1)).map { $0 == "\t" ? "\t" : " " }.joined()
            let end = range.end.line == start.line ? range.end.column : text.count + 1
            out += "  " + lead + String(repeating: "^", count: max(1, end - start.column)) + "\n"
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
    /// Whether `range` is in a standard-library file (while the error passes
    /// through library functions on its way out to the script's code).
    var raisedInLibrary = false

    public init(_ message: String, at range: SourceRange? = nil) {
        self.message = message
        self.range = range
        self.callStack = []
    }

    public var description: String { message }

    /// As a diagnostic, pointing at the failing expression and listing the calls.
    public var diagnostic: Diagnostic {
        let where_ = range ?? SourceRange(SourceLocation(line: 1, column: 1, offset: 0), SourceLocation(line: 1, column: 1, offset: 0))
        return Diagnostic(message: message, range: where_, notes: RuntimeError.callNotes(callStack))
    }

    /// Most notes a call chain prints: runaway recursion is 180 calls deep.
    static let maxCallNotes = 12

    /// One note per call, innermost first; a call repeated in a row is one
    /// note with a count, and a long chain keeps its two ends.
    ///
    /// ```
    /// in f() called at 2:5 (180 times)
    /// ```
    static func callNotes(_ calls: [(name: String, range: SourceRange)]) -> [String] {
        var notes: [(text: String, count: Int)] = []
        for call in calls {
            let text = "in \(call.name)() called at \(call.range.start)"
            if let last = notes.last, last.text == text {
                notes[notes.count - 1].count += 1
            } else {
                notes.append((text, 1))
            }
        }
        var lines = notes.map { $0.count == 1 ? $0.text : "\($0.text) (\($0.count) times)" }
        if lines.count > maxCallNotes {
            let kept = maxCallNotes / 2
            let hidden = lines.count - 2 * kept
            lines = Array(lines.prefix(kept)) + ["… \(hidden) more calls …"] + Array(lines.suffix(kept))
        }
        return lines
    }
}
