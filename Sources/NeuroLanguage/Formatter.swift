import Foundation
import NeuroEngine

/// How values look when printed: compact, so a tensor of a million numbers is one line.
public enum Formatter {
    /// A number the way people write it: `3`, `0.25`, `1e-07`.
    public static func number(_ n: Double) -> String {
        if n.isNaN { return "nan" }
        if n.isInfinite { return n > 0 ? "inf" : "-inf" }
        if n == n.rounded(), Swift.abs(n) < 1e15 { return String(Int(n)) }
        return String(format: "%.6g", n)
    }

    /// A fraction as a percentage with one decimal: `99.2%`.
    public static func percent(_ fraction: Double) -> String {
        String(format: "%.1f%%", fraction * 100)
    }

    /// The text `print` shows: strings bare, everything else as `display` would.
    public static func printed(_ value: Value) -> String {
        if case .string(let s) = value { return s }
        return display(value)
    }

    /// The REPL's echo of a value.
    public static func display(_ value: Value, depth: Int = 0) -> String {
        var budget = displayBudget
        return display(value, depth: depth, budget: &budget)
    }

    /// How many values one display shows at most, and how deep it opens
    /// nested lists and records: a list built as `x = [x, x]` in a loop
    /// shares its parts, so it is cheap to make but exponential to print.
    static let displayBudget = 2_000
    static let maxDisplayDepth = 64

    private static func display(_ value: Value, depth: Int, budget: inout Int) -> String {
        /// Items while the budget lasts, then `…`.
        func shown(_ values: [Value], _ label: (Int) -> String = { _ in "" }) -> [String] {
            var parts: [String] = []
            for (i, item) in values.enumerated() {
                guard budget > 0 else { return parts + ["…"] }
                budget -= 1
                parts.append(label(i) + display(item, depth: depth + 1, budget: &budget))
            }
            return parts
        }
        switch value {
        case .number(let n): return number(n)
        case .string(let s): return depth == 0 ? s : "\"\(s)\""
        case .bool(let b): return b ? "true" : "false"
        case .none: return "none"
        case .range(let a, let b): return "\(a)..\(b)"
        case .list(let items):
            guard depth < maxDisplayDepth else { return "[…]" }
            let parts = shown(Array(items.prefix(20))).joined(separator: ", ")
            return "[" + parts + (items.count > 20 ? ", … (\(items.count) items)" : "") + "]"
        case .record(let r):
            guard depth < maxDisplayDepth else { return "{…}" }
            let pairs = r.pairs
            return "{" + shown(pairs.map(\.1)) { "\(pairs[$0].0): " }.joined(separator: ", ") + "}"
        case .tensor(let t): return tensor(t)
        case .function(let f):
            switch f.body {
            case .builtin(let b): return "<built-in \(b.signature)>"
            case .user(let decl, _): return "<fn \(f.name)(\(decl.parameters.map(\.name).joined(separator: ", ")))>"
            }
        case .object(let o): return o.summary
        }
    }

    /// Small tensors in full; large ones as shape, dtype and statistics.
    /// Either way the memory used is linear in what is printed: statistics
    /// are read in place, and only tensors of at most `maxNestedRank`
    /// dimensions are written out as nested brackets (a tensor of one element
    /// and rank 100,000 would otherwise print 200,000 brackets).
    public static func tensor(_ t: Tensor) -> String {
        let head = "tensor \(t.dtype.shortName) \(formatShape(t.shape))"
        if t.count == 0 { return head + " (empty)" }
        if t.rank == 0, let v = try? t.item() { return number(v) }
        if t.count <= 12 && t.rank <= maxNestedRank {
            return head + " " + nested(t.toDoubles(), shape: t.shape)
        }
        let s = t.summary()
        guard s.finiteCount > 0 else { return head + "  (no finite values)" }
        var text = head + "  mean \(number(round4(s.mean)))  std \(number(round4(s.std)))  min \(number(round4(s.min)))  max \(number(round4(s.max)))"
        if s.nonFiniteCount > 0 { text += "  (\(s.nonFiniteCount) NaN/inf)" }
        return text
    }

    /// The deepest tensor printed as nested brackets.
    static let maxNestedRank = 8

    private static func round4(_ x: Double) -> Double {
        guard x != 0, x.isFinite else { return x }
        let digits = 4 - Int(Foundation.floor(Foundation.log10(Swift.abs(x)))) - 1
        let scale = Foundation.pow(10, Double(max(min(digits, 12), -12)))
        return (x * scale).rounded() / scale
    }

    /// `values` (row-major) as nested brackets of `shape`; the recursion is as
    /// deep as the rank, which callers keep within `maxNestedRank`.
    private static func nested(_ values: [Double], shape: [Int]) -> String {
        guard let first = shape.first else { return number(values.first ?? 0) }
        let inner = shape.dropFirst().reduce(1, *)
        let parts = (0..<first).map { i in nested(Array(values[(i * inner)..<((i + 1) * inner)]), shape: Array(shape.dropFirst())) }
        return "[" + parts.joined(separator: ", ") + "]"
    }

    /// Rows of cells as an aligned text table with a header rule.
    public static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { i < $0.count ? $0[i].count : 0 }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        return ([line(header), widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ")] + rows.map(line))
            .map { "  " + $0 }.joined(separator: "\n")
    }
}
