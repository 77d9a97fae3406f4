import Foundation

/// `text` as a JSON string literal, quoted and escaped the way serde_json
/// does (the safetensors header's writer), so every JSON the project writes
/// escapes alike.
///
/// ```swift
/// jsonQuoted("a \"b\"\n")   // "\"a \\\"b\\\"\\n\""
/// ```
public func jsonQuoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        case "\u{00}"..."\u{1F}":
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// A number as JSON: whole numbers without a decimal point, non-finite values as `null`.
public func jsonNumber(_ n: Double) -> String {
    guard n.isFinite else { return "null" }
    return n == n.rounded() && Swift.abs(n) < 1e15 ? String(Int(n)) : "\(n)"
}

/// A number in 7 significant digits (float32's precision), `null` when not finite:
/// for files with many float32 values, where full double digits only add noise.
public func jsonNumber7(_ n: Double) -> String {
    guard n.isFinite else { return "null" }
    return String(format: "%.7g", n)
}

/// `text` as one CSV cell (RFC 4180): quoted when it holds a comma, a
/// quote or a line break, quotes doubled inside.
///
/// ```swift
/// csvCell("a,b")    // "\"a,b\""
/// csvCell("say \"hi\"")   // "\"say \"\"hi\"\"\""
/// ```
public func csvCell(_ text: String) -> String {
    let needsQuotes = text.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
    return needsQuotes ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
}
