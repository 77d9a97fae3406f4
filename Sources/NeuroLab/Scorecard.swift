import Foundation
import NeuroEngine
import NeuroLanguage

/// The exercises a session has checked with `expect`, in the order they were
/// first checked: what `scorecard()` shows and what `neuromap lesson` and
/// `neuromap run` print at the end. A check given a `name:` that was already
/// checked replaces the earlier result (a student retrying at the prompt);
/// an unnamed one is always new.
public final class Scorecard {
    /// One checked exercise.
    public struct Check {
        public var name: String
        public var passed: Bool
        /// Why it failed (empty when it passed).
        public var detail: String
        /// The lesson's hint, shown when it failed.
        public var hint: String?
        /// The line of the `expect` call.
        public var line: Int
    }

    public private(set) var checks: [Check] = []

    public init() {}

    public var passed: Int { checks.filter(\.passed).count }
    public var total: Int { checks.count }
    public var allPassed: Bool { !checks.isEmpty && passed == total }

    /// Records a check; returns its number (from 1).
    @discardableResult
    func record(_ check: Check, named: Bool) -> Int {
        if named, let i = checks.firstIndex(where: { $0.name == check.name }) {
            checks[i] = check
            return i + 1
        }
        checks.append(check)
        return checks.count
    }

    /// Forgets every check.
    public func reset() { checks.removeAll() }

    /// The line `expect` prints: `✓ name` or `✗ name — why`, and the hint below a failure.
    static func line(_ check: Check) -> String {
        guard !check.passed else { return "✓ \(check.name)" }
        var text = "✗ \(check.name) — \(check.detail)"
        if let hint = check.hint, !hint.isEmpty { text += "\n    hint: \(hint)" }
        return text
    }

    /// The whole card: a headline, then one line per check.
    public var text: String {
        guard !checks.isEmpty else { return "scorecard: no exercises checked yet (expect(…) checks one)" }
        var lines = ["scorecard: \(passed) of \(total) exercise\(total == 1 ? "" : "s") passed"
                     + (allPassed ? " — all done" : "")]
        for check in checks {
            lines.append("  " + Scorecard.line(check).replacingOccurrences(of: "\n", with: "\n  "))
        }
        return lines.joined(separator: "\n")
    }
}

extension Interpreter {
    /// The exercises checked so far in this session.
    public var scorecard: Scorecard { attachment { Scorecard() } }
}

/// The scorecard as a value: `scorecard()` at the prompt shows it; its
/// fields count and list the checks.
final class ScorecardObject: NativeObject {
    let card: Scorecard
    init(_ card: Scorecard) { self.card = card }

    var typeName: String { "scorecard" }
    var fieldNames: [String] { ["passed", "total", "all_passed", "failed", "checks"] }

    func field(_ name: String) throws -> Value? {
        switch name {
        case "passed": return .number(Double(card.passed))
        case "total": return .number(Double(card.total))
        case "all_passed": return .bool(card.allPassed)
        case "failed": return .list(card.checks.filter { !$0.passed }.map { .string($0.name) })
        case "checks":
            return .list(card.checks.map { check in
                .record(Record([("name", .string(check.name)), ("passed", .bool(check.passed)), ("detail", .string(check.detail)),
                                ("hint", check.hint.map { .string($0) } ?? .none), ("line", .number(Double(check.line)))]))
            })
        default: return nil
        }
    }

    var summary: String { card.text }
}

/// `___`, the blank a lesson leaves for the student to fill in: any use of
/// it in a check fails with "fill in the blank", and arithmetic on it is an
/// error that names it.
public final class BlankObject: NativeObject {
    public static let shared = BlankObject()
    public var typeName: String { "blank" }
    public var fieldNames: [String] { [] }
    public func field(_ name: String) throws -> Value? { nil }
    public var summary: String { "___ (a blank to fill in)" }
}
