import Foundation
import NeuroLanguage

/// How the prompt echoes a value: `Formatter.display`'s one line when it
/// fits the terminal; a record or list that does not, and holds tensors,
/// objects or other containers, becomes a small table, one entry a line.
///
/// ```
/// nmap> model.parameters
///   embed.W_E          tensor F32 [24, 16]  mean 0.02  std 0.19  min -0.6  max 0.68
///   pos_embed.W_pos    tensor F32 [3, 16]  mean -0.006  std 0.19  min -0.43  max 0.41
/// ```
enum Echo {
    /// Entries shown before the rest are counted instead.
    static let maxRows = 40

    static func text(_ value: Value, width: Int = REPL.terminalColumns) -> String {
        let line = Formatter.display(value)
        guard line.count > width else { return line }
        switch value {
        case .record(let record) where record.pairs.contains(where: { isBulky($0.1) }):
            return table(record.pairs, count: record.keys.count, width: width)
        case .list(let items) where items.contains(where: isBulky):
            return table(items.enumerated().map { ("[\($0.offset)]", $0.element) }, count: items.count, width: width)
        default:
            return line
        }
    }

    /// Values whose one-line form is long or nested: worth a row of their own.
    private static func isBulky(_ value: Value) -> Bool {
        switch value {
        case .tensor, .object, .record, .list, .string: return true
        default: return false
        }
    }

    private static func table(_ entries: [(String, Value)], count: Int, width: Int) -> String {
        let shown = entries.prefix(maxRows)
        let keyWidth = shown.map(\.0.count).max() ?? 0
        var lines = shown.map { key, value in
            "  " + key.padding(toLength: keyWidth, withPad: " ", startingAt: 0) + "  "
                + REPL.oneLine(Formatter.display(value, depth: 1), width: max(20, width - keyWidth - 5))
        }
        if count > shown.count { lines.append("  … \(count - shown.count) more (\(count) in all)") }
        return lines.joined(separator: "\n")
    }
}
