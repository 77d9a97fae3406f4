/// `neuromap run --set name=value`: which names a script lets the command
/// line set, and values read by the language's own literal rules.
///
/// ```
/// Overrides.literal("[1, 2]")      // .list([.number(1), .number(2)])
/// Overrides.literal("\"loss\"")    // .string("loss")
/// Overrides.literal("loss")        // .string("loss"): a bare word is a string
/// ```
public enum Overrides {
    /// The names a program assigns with `=` at its top level (not inside a
    /// block or function), in order of first assignment: what `--set` may replace.
    public static func assignableNames(_ program: [Stmt]) -> [String] {
        var names: [String] = []
        for statement in program {
            if case .assign(let target, _, nil) = statement.kind, case .variable(let name) = target.kind, !names.contains(name) {
                names.append(name)
            }
        }
        return names
    }

    /// The value `text` denotes: a number (`-3`, `1e-3`), a string in quotes,
    /// `true`, `false`, `none`, or a list `[…]` or record `{…}` of those; a
    /// single bare word (`loss`) is taken as that string. Nil, with the
    /// reason, for anything else (an expression, an unknown name in a list).
    public static func literal(_ text: String) -> Result<Value, OverrideError> {
        let parsed = Interpreter.parse(text)
        guard parsed.diagnostics.isEmpty, parsed.program.count == 1, case .expression(let expr) = parsed.program[0].kind else {
            return .failure(OverrideError(text: text))
        }
        if case .variable(let word) = expr.kind { return .success(.string(word)) }
        return value(expr).map { .success($0) } ?? .failure(OverrideError(text: text))
    }

    private static func value(_ expr: Expr) -> Value? {
        switch expr.kind {
        case .number(let n): return .number(n)
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .none: return Value.none
        case .unary(.negate, let inner):
            if case .number(let n) = inner.kind { return .number(-n) }
            return nil
        case .list(let items):
            var values: [Value] = []
            for item in items {
                guard let v = value(item) else { return nil }
                values.append(v)
            }
            return .list(values)
        case .record(let entries):
            var record = Record()
            for (key, item) in entries {
                guard let v = value(item) else { return nil }
                record[key] = v
            }
            return .record(record)
        default: return nil
        }
    }
}

/// A `--set` value that is not a literal.
public struct OverrideError: Error, CustomStringConvertible {
    public let text: String
    public var description: String {
        "'\(text)' is not a value: give a number, a string (in quotes, or one bare word), true, false, none, a list [1, 2] or a record {a: 1}"
    }
}
