import Foundation
import NeuroEngine

/// Results out of the session and back: plain values as JSON, tables (a
/// list of records) as CSV, and text files with `write` and `read`.
///
/// ```
/// save(rows, "effects.csv")      # one column per key
/// rows = load("effects.csv")     # the same records back
/// write("notes.md", "# Notes\n")
/// ```
extension Builtins {
    /// Text files `read`, `load` of .json and .csv read whole: at most this many bytes.
    static let maxTextFileBytes = 256 << 20

    static var textFiles: [Builtin] { [write, read] }

    static let write = Builtin("write", "write(path, text)", "write a string to a file, atomically (replacing what was there)",
                               parameters: ["path", "text"], effects: .files) { args in
        let path = try args.path(0, "path")
        guard !path.isEmpty else { throw args.error("the path is empty") }
        let text = try args.string(1, "text")
        try args.engine { try writeAtomically(Array(text.utf8), to: path) }
        return .none
    }

    static let read = Builtin("read", "read(path)", "a text file's contents as a string",
                              parameters: ["path"], effects: .files) { args in
        .string(try readText(args))
    }

    /// The whole of the text file argument 0 names, as UTF-8.
    static func readText(_ args: CallArguments) throws -> String {
        let path = try args.path(0, "path")
        let bytes = try args.engine { try readFileBytes(path, atMost: maxTextFileBytes) }
        switch SourceText.decode(bytes) {
        case .success(let text): return text
        case .failure(let problem): throw args.error("'\(path)' is not UTF-8 text (\(problem))")
        }
    }

    // MARK: - JSON

    /// A JSON file as a value: objects become records (keys in order), arrays lists, null none.
    static func loadJSON(_ args: CallArguments) throws -> Value {
        let path = try args.path(0, "path")
        let bytes = try args.engine { try readFileBytes(path, atMost: maxTextFileBytes) }
        let parsed: HeaderValue
        do {
            parsed = try HeaderParser.parse(bytes, dialect: .json)
        } catch let error as HeaderParser.SyntaxError {
            throw args.error("'\(path)' is not valid JSON: \(error.message)")
        }
        var count = 0
        func convert(_ v: HeaderValue) throws -> Value {
            count += 1
            guard count <= maxListLength else { throw args.error("'\(path)' holds more than \(maxListLength) values") }
            switch v {
            case .object(let members): return .record(Record(try members.map { ($0.key, try convert($0.value)) }))
            case .array(let items): return .list(try items.map(convert))
            case .string(let s): return .string(s)
            case .integer(let n): return .number(Double(n))
            case .number(let n): return .number(n)
            case .bool(let b): return .bool(b)
            case .null: return .none
            }
        }
        return try convert(parsed)
    }

    // MARK: - CSV

    /// Whether a value is a table: a non-empty list of records.
    static func isTable(_ value: Value) -> Bool {
        guard case .list(let items) = value, !items.isEmpty else { return false }
        return items.allSatisfy { if case .record = $0 { return true }; return false }
    }

    /// A list of records as CSV: a header of every key (in the order they
    /// first appear), then one line per record; a record without a key leaves
    /// its cell empty. Lists, records and tensors inside go in as JSON text.
    static func csvTable(_ value: Value) -> String {
        guard case .list(let items) = value else { return "" }
        let records = items.compactMap { item -> Record? in if case .record(let r) = item { return r }; return nil }
        var columns: [String] = [], seen = Set<String>()
        for r in records { for key in r.keys where seen.insert(key).inserted { columns.append(key) } }
        func cell(_ v: Value?) -> String {
            switch v {
            case nil, .none?: return ""
            case .number(let n)?: return n.isNaN ? "nan" : n.isInfinite ? (n > 0 ? "inf" : "-inf") : jsonNumber(n)
            case .string(let s)?: return csvCell(s)
            case .bool(let b)?: return b ? "true" : "false"
            case let other?: return csvCell(JSONText.value(other))
            }
        }
        let lines = [columns.map(csvCell).joined(separator: ",")] + records.map { r in columns.map { cell(r[$0]) }.joined(separator: ",") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A CSV file: with a header (a first line that is not all numbers), a
    /// list of records, one per line, numbers read as numbers, `true`/`false`
    /// as truth values and empty cells as none; without one (as `save` writes
    /// a tensor), a tensor [rows, columns], or [rows] for one column.
    static func loadCSV(_ args: CallArguments) throws -> Value {
        let path = try args.path(0, "path")
        let lined = try csvRows(try readText(args), path: path, args)
        let rows = lined.map(\.cells)
        guard let header = rows.first else { return .list([]) }
        if header.allSatisfy({ Double($0) != nil }) {
            guard let width = rows.first?.count, rows.allSatisfy({ $0.count == width }) else {
                throw args.error("'\(path)': every line of a table of numbers needs the same number of cells")
            }
            var numbers: [Double] = []
            numbers.reserveCapacity(rows.count * width)
            for (index, row) in rows.enumerated() {
                for (column, text) in row.enumerated() {
                    guard let n = Double(text) else { throw args.error("'\(path)' line \(lined[index].line) column \(column + 1): '\(text)' is not a number") }
                    numbers.append(n)
                }
            }
            let shape = width == 1 ? [rows.count] : [rows.count, width]
            return .tensor(try args.engine { try Tensor(numbers.map(Float.init), shape: shape) })
        }
        guard Set(header).count == header.count else { throw args.error("'\(path)': the header names a column twice") }
        return .list(try rows.dropFirst().enumerated().map { index, row in
            guard row.count == header.count else {
                throw args.error("'\(path)' line \(lined[index + 1].line) has \(row.count) cell\(row.count == 1 ? "" : "s"); the header has \(header.count)")
            }
            return .record(Record(zip(header, row).map { ($0, csvValue($1)) }))
        })
    }

    private static func csvValue(_ text: String) -> Value {
        switch text {
        case "": return .none
        case "true": return .bool(true)
        case "false": return .bool(false)
        default: return Double(text).map { .number($0) } ?? .string(text)
        }
    }

    /// RFC 4180 rows: cells split at commas, quoted cells may hold commas,
    /// doubled quotes and line breaks. A final empty line is not a row.
    static func csvRows(_ text: String, path: String, _ args: CallArguments) throws -> [(line: Int, cells: [String])] {
        var rows: [(line: Int, cells: [String])] = [], row: [String] = [], cell = ""
        var quoted = false, wasQuoted = false, line = 1, rowLine = 1, quoteLine = 1
        var characters = text.makeIterator()
        var pending: Character? = nil
        func endRow() throws {
            row.append(cell)
            rows.append((rowLine, row))
            guard rows.count <= maxListLength else { throw args.error("'\(path)' has more than \(maxListLength) lines") }
            row = []
            cell = ""
            wasQuoted = false
        }
        while let c = pending ?? characters.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let next = characters.next() {
                        if next == "\"" { cell.append("\"") } else { quoted = false; pending = next }
                    } else {
                        quoted = false
                    }
                } else {
                    if c == "\n" || c == "\r\n" { line += 1 }
                    cell.append(c)
                }
                continue
            }
            switch c {
            case "\"" where cell.isEmpty && !wasQuoted:
                quoted = true
                wasQuoted = true
                quoteLine = line
            case ",":
                row.append(cell)
                cell = ""
                wasQuoted = false
            case "\n", "\r\n", "\r":
                try endRow()
                line += 1
                rowLine = line
            default:
                cell.append(c)
            }
        }
        if quoted { throw args.error("'\(path)': a quoted cell opened on line \(quoteLine) is never closed") }
        if !cell.isEmpty || !row.isEmpty || wasQuoted { try endRow() }
        return rows
    }
}
