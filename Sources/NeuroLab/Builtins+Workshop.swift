import Foundation
import NeuroEngine
import NeuroLanguage

/// Built-ins for exercises that check themselves: `expect` records a pass
/// or a failure with a hint (it never stops the script), `scorecard` shows
/// what has been checked, and `blank()` is the value of `___`, the blank a
/// lesson leaves to fill in.
extension Builtins {
    static var workshop: [Builtin] { [expect, scorecardBuiltin, blank] }

    static let expect = Builtin(
        "expect", "expect(value, equals: x, within: tol, greater: a, less: b, name: \"…\", hint: \"…\")",
        "check an exercise: record pass or fail (with the hint) in the scorecard and go on; without equals/greater/less, checks that value is true",
        parameters: ["value", "equals", "within", "greater", "less", "name", "hint"]
    ) { args in
        try args.expectAtMost(2)
        let value = try args.required(0, "value")
        let hint = try args.value(nil, "hint").map { _ in try args.string(nil, "hint") }
        let card = args.interpreter.scorecard
        let line = args.range.start.line
        let givenName = try args.value(nil, "name").map { _ in try args.string(nil, "name") }
        let name = givenName ?? "check \(card.total + 1) (line \(line))"
        var within: Double? = nil
        if args.value(nil, "within") != nil {
            let tolerance = try args.number(nil, "within")
            guard tolerance >= 0, tolerance.isFinite else { throw args.error("'within' must be 0 or more, got \(Formatter.number(tolerance))") }
            within = tolerance
        }
        let failure: String?
        if let expected = args.value(1, "equals") {
            failure = Expectation.equal(value, expected, within: within)
        } else if args.value(nil, "greater") != nil || args.value(nil, "less") != nil {
            let low = try args.value(nil, "greater").map { _ in try args.number(nil, "greater") }
            let high = try args.value(nil, "less").map { _ in try args.number(nil, "less") }
            failure = Expectation.bounded(value, above: low, below: high)
        } else {
            failure = Expectation.holds(value)
        }
        let check = Scorecard.Check(name: name, passed: failure == nil, detail: failure ?? "", hint: hint, line: line)
        card.record(check, named: givenName != nil)
        args.interpreter.output(Scorecard.line(check))
        return .none
    }

    static let scorecardBuiltin = Builtin(
        "scorecard", "scorecard(reset: false)",
        "the exercises checked so far with expect: how many passed, and each with its hint; reset: true forgets them",
        parameters: ["reset"]
    ) { args in
        let card = args.interpreter.scorecard
        if try args.bool(0, "reset", default: false) {
            card.reset()
            return .none
        }
        return .object(ScorecardObject(card))
    }

    static let blank = Builtin("blank", "blank()", "the value of ___, the blank a lesson leaves for you to fill in") { args in
        try args.expectAtMost(0)
        return .object(BlankObject.shared)
    }
}

/// How `expect` compares: each function returns nil when the check holds,
/// else a short reason that says what was found (never a Swift error: a
/// value of the wrong type is a failed check with a reason).
enum Expectation {
    static let blankReason = "the blank ___ is not filled in yet"

    /// `value` equals `expected`: numbers and tensors within `within`
    /// (by default 1e-6 plus 1e-5 of the expected size, for float32),
    /// strings, bools and none exactly, lists and records item by item.
    static func equal(_ value: Value, _ expected: Value, within: Double?) -> String? {
        if value.isBlank { return blankReason }
        switch expected {
        case .number(let want):
            guard let got = number(value) else { return "expected a number, got \(describe(value))" }
            return closeNumber(got, want, within: within)
        case .string(let want):
            guard case .string(let got) = value else { return "expected a string, got \(describe(value))" }
            if got == want { return nil }
            if got.trimmingCharacters(in: .whitespaces).lowercased() == want.trimmingCharacters(in: .whitespaces).lowercased() {
                return "got \(quoted(got)): check the spelling, capitals and spaces"
            }
            return "got \(quoted(got))"
        case .bool(let want):
            guard case .bool(let got) = value else { return "expected true or false, got \(describe(value))" }
            return got == want ? nil : "got \(got)"
        case .none:
            if case .none = value { return nil }
            return "expected none, got \(describe(value))"
        case .tensor(let want):
            return closeTensor(value, want, within: within)
        case .list(let wants):
            if isNumeric(expected), let want = try? expected.asTensor() {
                if case .tensor = value { return closeTensor(value, want, within: within) }
                if isNumeric(value) { return closeTensor(value, want, within: within) }
            }
            guard case .list(let gots) = value else { return "expected a list of \(wants.count), got \(describe(value))" }
            guard gots.count == wants.count else { return "got a list of \(gots.count) items, expected \(wants.count)" }
            for (i, (got, want)) in zip(gots, wants).enumerated() {
                if let problem = equal(got, want, within: within) { return "item \(i): \(problem)" }
            }
            return nil
        case .range(let a, let b):
            return equal(value, .list((a..<max(a, b)).map { .number(Double($0)) }), within: within)
        case .record(let want):
            guard case .record(let got) = value else { return "expected a record with \(want.keys.joined(separator: ", ")), got \(describe(value))" }
            for key in want.keys {
                guard let item = got[key] else { return "the record has no field '\(key)'" }
                if let problem = equal(item, want[key] ?? .none, within: within) { return "\(key): \(problem)" }
            }
            let extra = got.keys.filter { want[$0] == nil }
            return extra.isEmpty ? nil : "the record has fields it should not: \(extra.joined(separator: ", "))"
        case .object(let object):
            if object is BlankObject { return "the expected value is the blank ___; fill it in" }
            if case .object(let other) = value, other === object { return nil }
            return "expected that very \(object.typeName), got \(describe(value))"
        case .function:
            return "expect cannot compare functions; compare what they return"
        }
    }

    /// `value` is a number above `low` and below `high` (either may be absent).
    static func bounded(_ value: Value, above low: Double?, below high: Double?) -> String? {
        if value.isBlank { return blankReason }
        guard let got = number(value) else { return "expected a number, got \(describe(value))" }
        if got.isNaN { return "got nan" }
        if let low, !(got > low) { return "got \(Formatter.number(got)), which is not greater than \(Formatter.number(low))" }
        if let high, !(got < high) { return "got \(Formatter.number(got)), which is not less than \(Formatter.number(high))" }
        return nil
    }

    /// `value` is true: a bool, or a tensor whose every element is non-zero.
    static func holds(_ value: Value) -> String? {
        switch value {
        case .bool(let b): return b ? nil : "it is false"
        case .tensor(let t):
            let values = t.toDoubles()
            guard !values.isEmpty else { return "the tensor is empty" }
            let failing = values.filter { $0 == 0 || $0.isNaN }.count
            return failing == 0 ? nil : "\(failing) of \(values.count) elements are false (0)"
        case _ where value.isBlank: return blankReason
        default:
            return "expect(x) alone checks that x is true or false, got \(describe(value)); to compare it write expect(x, equals: …)"
        }
    }

    /// A number, a bool (as 0 or 1 is not allowed: a bool is not a number here) or a one-element tensor as a number.
    static func number(_ value: Value) -> Double? {
        switch value {
        case .number(let n): return n
        case .tensor(let t) where t.count == 1: return try? t.item()
        default: return nil
        }
    }

    static func closeNumber(_ got: Double, _ want: Double, within: Double?) -> String? {
        if got.isNaN || want.isNaN { return got.isNaN && want.isNaN ? nil : "got \(Formatter.number(got))" }
        if got == want { return nil }
        let tolerance = within ?? defaultTolerance(want)
        if abs(got - want) <= tolerance { return nil }
        let side = got > want ? "too high" : "too low"
        return "got \(Formatter.number(got)), \(side)" + (within.map { " (allowed error \(Formatter.number($0)))" } ?? "")
    }

    static func defaultTolerance(_ want: Double) -> Double { 1e-6 + 1e-5 * abs(want) }

    /// Elementwise: same shape (a list of numbers counts as a tensor), every element within the tolerance.
    static func closeTensor(_ value: Value, _ want: Tensor, within: Double?) -> String? {
        let got: Tensor
        switch value {
        case .tensor(let t): got = t
        case .number(let n) where want.count == 1: return closeNumber(n, (try? want.item()) ?? .nan, within: within)
        case .list where isNumeric(value):
            guard let t = try? value.asTensor() else { return "expected a tensor of shape \(want.shape), got \(describe(value))" }
            got = t
        default: return "expected a tensor of shape \(want.shape), got \(describe(value))"
        }
        guard got.shape == want.shape else {
            if got.count == 1, want.count == 1 { return closeNumber((try? got.item()) ?? .nan, (try? want.item()) ?? .nan, within: within) }
            return "got shape \(got.shape), expected \(want.shape)"
        }
        let a = got.toDoubles(), b = want.toDoubles()
        var worst = -1
        var worstError = 0.0
        var failing = 0
        for i in 0..<min(a.count, b.count) {
            let error = abs(a[i] - b[i])
            let ok = a[i] == b[i] || (a[i].isNaN && b[i].isNaN) || error <= (within ?? defaultTolerance(b[i]))
            if !ok {
                failing += 1
                if worst < 0 || error > worstError || error.isNaN { worst = i; worstError = error }
            }
        }
        guard failing > 0 else { return nil }
        if a.count <= 12 {
            // A few numbers (a shape, a short vector): show them all, as a nested list.
            return "got \(nested(a, shape: got.shape)); \(failing) of \(a.count) element\(a.count == 1 ? "" : "s") differ"
                + (within.map { " by more than \(Formatter.number($0))" } ?? "")
        }
        var index: [Int] = []
        var rest = worst
        for size in want.shape.reversed() {
            index.insert(rest % max(size, 1), at: 0)
            rest /= max(size, 1)
        }
        return "\(failing) of \(a.count) elements differ; the largest difference is at \(index): got \(Formatter.number(a[worst]))"
            + (within.map { " (allowed error \(Formatter.number($0)))" } ?? "")
    }

    /// Numbers laid out as nested lists of `shape`: `[[1, 2], [3, 4]]`.
    static func nested(_ values: [Double], shape: [Int]) -> String {
        guard let first = shape.first, shape.count > 1 else { return "[" + values.map(Formatter.number).joined(separator: ", ") + "]" }
        let step = max(1, values.count / max(first, 1))
        return "[" + (0..<first).map { i in
            nested(Array(values[min(values.count, i * step)..<min(values.count, (i + 1) * step)]), shape: Array(shape.dropFirst()))
        }.joined(separator: ", ") + "]"
    }

    /// A list (nested) of numbers only.
    static func isNumeric(_ value: Value) -> Bool {
        switch value {
        case .number: return true
        case .list(let items): return !items.isEmpty && items.allSatisfy(isNumeric)
        default: return false
        }
    }

    /// A value in a few words: its type, and itself when short.
    static func describe(_ value: Value) -> String {
        if value.isBlank { return "the blank ___" }
        let shown = Formatter.printed(value)
        switch value {
        case .string(let s): return "the string \(quoted(s))"
        case .tensor(let t): return t.count == 1 ? "a one-element tensor (\(shown))" : "a tensor of shape \(t.shape)"
        case .object(let o): return "a \(o.typeName)"
        case .function: return "a function"
        default:
            if case .none = value { return "none" }
            return shown.count <= 40 ? "the \(value.typeName) \(shown)" : "a \(value.typeName)"
        }
    }

    static func quoted(_ s: String) -> String {
        "\"" + (s.count > 40 ? String(s.prefix(39)) + "…" : s) + "\""
    }
}

extension Value {
    /// Whether this is `___`, the blank of a lesson.
    var isBlank: Bool {
        if case .object(let o) = self { return o is BlankObject }
        return false
    }
}
