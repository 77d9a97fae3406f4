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
        render(in: SourceText(name: file, text: source))
    }

    /// The full report, shown in the text the place is in: `text`, or the one
    /// of `earlier` inputs it names (a function defined on an earlier line of
    /// the REPL fails in that line, not in the one that called it).
    ///
    /// ```
    /// a.nmap:2:5: error: division by zero
    ///   y = x / 0
    ///       ^^^^^
    /// ```
    public func render(in text: SourceText, earlier: [Int: SourceText] = [:]) -> String {
        let text = range.input == text.input ? text : earlier[range.input] ?? text
        let start = range.start
        var out = "\(text.name):\(start.line):\(start.column): error: \(Diagnostic.printable(message))\n"
        if let line = text.line(start.line) {
            let (shown, lead, width) = Diagnostic.excerpt(of: line, from: start.column - 1,
                                                          to: range.end.line == start.line ? range.end.column - 1 : line.count)
            out += "  \(shown)\n  \(lead)\(String(repeating: "^", count: max(1, width)))\n"
        }
        for note in notes { out += "  note: \(Diagnostic.printable(note))\n" }
        return out
    }

    /// How many diagnostics a report shows; the rest are counted.
    public static let maxShown = 100

    /// The first `maxShown` diagnostics rendered, then how many more there
    /// are: `… and 39,900 more errors`.
    public static func report(_ diagnostics: [Diagnostic], in text: SourceText, earlier: [Int: SourceText] = [:]) -> String {
        var out = diagnostics.prefix(maxShown).map { $0.render(in: text, earlier: earlier) }.joined()
        if diagnostics.count > maxShown {
            let more = diagnostics.count - maxShown
            out += "… and \(grouped(more)) more error\(more == 1 ? "" : "s")\n"
        }
        return out
    }

    /// A count with thousands separated: `39,900`.
    public static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, digit) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return (n < 0 ? "-" : "") + out
    }

    // MARK: - Printable text

    /// Longest message shown whole; a longer one keeps its two ends.
    static let maxMessageLength = 400
    /// Columns of a source line shown around the place; a longer line is cut.
    static let maxLineShown = 160

    /// User text quoted in a message, cut to `limit` characters:
    /// `unknown name 'aaaaaaaa…'`. (Control characters are escaped when the
    /// message is rendered.)
    public static func excerpt(_ text: String, limit: Int = 60) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }

    /// A message as printed: control characters escaped, so text from the
    /// user cannot move the cursor or ring the bell, and cut in the middle
    /// when very long.
    static func printable(_ message: String) -> String {
        var out = ""
        for scalar in message.unicodeScalars { out += escaped(scalar) ?? String(scalar) }
        guard out.count > maxMessageLength else { return out }
        let tail = maxMessageLength / 4
        return "\(out.prefix(maxMessageLength - tail))… (\(grouped(out.count - maxMessageLength)) characters left out) …\(out.suffix(tail))"
    }

    /// How a control character is written in messages (`\n`, `\u{1B}`); nil for other characters.
    static func escaped(_ scalar: Unicode.Scalar) -> String? {
        switch scalar {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        default:
            guard scalar.properties.generalCategory == .control else { return nil }
            return "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
        }
    }

    /// A source line as shown under a message, with the lead and width of the
    /// caret under columns `from..<to` (0-based). Tabs are kept so the caret
    /// lines up; other control characters are escaped; a long line is cut to
    /// a window around the place, with `…` where it was cut.
    static func excerpt(of line: [Unicode.Scalar], from: Int, to: Int) -> (shown: String, lead: String, width: Int) {
        let from = min(max(0, from), line.count)
        let to = min(max(from, to), line.count)
        var window = 0..<line.count
        if line.count > maxLineShown {
            let first = max(0, min(from - maxLineShown / 3, line.count - maxLineShown))
            window = first..<(first + maxLineShown)
        }
        func shown(_ scalar: Unicode.Scalar) -> String { scalar == "\t" ? "\t" : escaped(scalar) ?? String(scalar) }
        var text = window.lowerBound > 0 ? "…" : ""
        var lead = window.lowerBound > 0 ? " " : ""
        var width = 0
        for i in window {
            let part = shown(line[i])
            text += part
            if i < from {
                lead += line[i] == "\t" ? "\t" : String(repeating: " ", count: part.count)
            } else if i < to {
                width += part.count
            }
        }
        if window.upperBound < line.count { text += "…" }
        return (text, lead, width)
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
    /// Why the run stopped, when it was stopped rather than failed: a sandbox
    /// tells its own limits from the program's errors by this, not by the message.
    public internal(set) var stop: Stop?

    /// A run stopped by a limit set from outside the program.
    public enum Stop: Sendable {
        /// `Interpreter.stepBudget` ran out.
        case stepBudget
    }

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
