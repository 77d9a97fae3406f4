import Foundation

/// `format(template, …)`: Python's format mini-language for the fields a
/// study needs — `{}`, `{:.3f}`, `{:>8.3f}`, `{:<12}`, `{:^9}`, `{:+.2e}`,
/// `{:08.2f}`, `{:,d}`, `{:.1%}` — with `{{` and `}}` for braces.
extension Builtins {
    static func format(_ args: CallArguments) throws -> Value {
        let template = Array(try args.string(0, "template"))
        var out = "", next = 1, i = 0
        while i < template.count {
            let c = template[i]
            if (c == "{" || c == "}") && i + 1 < template.count && template[i + 1] == c {
                out.append(c)
                i += 2
                continue
            }
            guard c == "{" else {
                guard c != "}" else { throw args.error("unmatched '}' in the template; write '}}' for a brace") }
                out.append(c)
                i += 1
                continue
            }
            guard let close = template[i...].firstIndex(of: "}") else { throw args.error("unclosed '{' in the template") }
            let spec = String(template[(i + 1)..<close])
            guard next < args.positional.count else {
                throw args.error("the template has more {} fields than the \(args.positional.count - 1) value(s) given")
            }
            out += try FormatSpec(spec, args).apply(to: args.positional[next], args)
            next += 1
            i = close + 1
        }
        guard next == args.positional.count else {
            throw args.error("\(args.positional.count - 1) value(s) given for \(next - 1) {} field(s)")
        }
        return .string(out)
    }
}

/// One field's `:[[fill]align][sign][0][width][,][.precision][type]`.
struct FormatSpec {
    var fill: Character = " "
    var align: Character?          // <, >, ^
    var sign: Character = "-"      // +, -, space
    var zeroPad = false
    var width = 0
    var grouping = false
    var precision: Int?
    var type: Character?           // f, e, g, %, d, s

    static let usage = "write {}, {:.3f}, {:>8.3f}, {:<10}, {:^9}, {:+.2e}, {:08.2f}, {:,d} or {:.1%}"

    init(_ text: String, _ args: CallArguments) throws {
        guard !text.isEmpty else { return }
        func bad(_ why: String) -> Error { args.error("field '{\(text)}': \(why); \(FormatSpec.usage)") }
        guard text.first == ":" else {
            throw bad(text.first?.isNumber == true || text.first?.isLetter == true
                      ? "fields are filled in order, so they take no number or name" : "a field's format starts with ':'")
        }
        var rest = Array(text.dropFirst())[...]
        if rest.count >= 2, "<>^".contains(rest[rest.startIndex + 1]) {
            fill = rest.removeFirst()
            align = rest.removeFirst()
        } else if let first = rest.first, "<>^".contains(first) {
            align = rest.removeFirst()
        }
        if let first = rest.first, "+- ".contains(first) { sign = rest.removeFirst() }
        if rest.first == "0" {
            zeroPad = true
            rest.removeFirst()
        }
        var digits = ""
        while let d = rest.first, d.isNumber { digits.append(rest.removeFirst()) }
        if !digits.isEmpty {
            guard let w = Int(digits), w <= 1000 else { throw bad("width \(digits) is more than 1000") }
            width = w
        }
        if rest.first == "," {
            grouping = true
            rest.removeFirst()
        }
        if rest.first == "." {
            rest.removeFirst()
            var p = ""
            while let d = rest.first, d.isNumber { p.append(rest.removeFirst()) }
            guard let n = Int(p), n <= 50 else { throw bad(p.isEmpty ? "'.' needs a number of digits" : "at most 50 digits") }
            precision = n
        }
        if let t = rest.first {
            guard "fegds%".contains(t) else { throw bad("unknown type '\(t)'") }
            type = rest.removeFirst()
        }
        guard rest.isEmpty else { throw bad("cannot read '\(String(rest))'") }
        if type == "s" && (precision != nil || grouping || sign != "-") { throw bad("'s' takes only a width and alignment") }
    }

    func apply(to value: Value, _ args: CallArguments) throws -> String {
        let number: Double?
        switch value {
        case .number(let x): number = x
        case .bool: number = nil
        case .tensor(let t) where t.count == 1 && type != "s": number = try args.engine { try t.item() }
        default: number = nil
        }
        let body: String
        var isNumber = false
        if let type, type != "s" {
            guard let x = number else { throw args.error("'{:\(type)}' needs a number, got \(value.typeName)") }
            body = try numberText(x, type: type, args)
            isNumber = true
        } else if let x = number, type == nil, precision != nil || sign != "-" || grouping {
            body = try numberText(x, type: "g", args)
            isNumber = true
        } else {
            body = Formatter.printed(value)
            isNumber = number != nil && type == nil
        }
        return padded(body, isNumber: isNumber)
    }

    private func numberText(_ x: Double, type: Character, _ args: CallArguments) throws -> String {
        var text: String
        switch type {
        case "d":
            guard x.rounded() == x, abs(x) < 9.0e15 else {
                throw args.error("'{:d}' needs a whole number, got \(Formatter.printed(.number(x)))")
            }
            text = String(Int(abs(x)))
        case "%": text = String(format: "%.\(precision ?? 6)f", abs(x) * 100)
        default: text = String(format: "%.\(precision ?? 6)\(type)", abs(x))
        }
        if grouping, x.isFinite { text = grouped(text) }
        if type == "%" { text += "%" }
        let negative = x < 0 || (x == 0 && x.sign == .minus && type != "d")
        let prefix = x.isNaN ? (sign == "+" ? "+" : sign == " " ? " " : "") : negative ? "-" : sign == "+" ? "+" : sign == " " ? " " : ""
        return prefix + text
    }

    /// `1234567.5` → `1,234,567.5`: commas between groups of three digits before the point.
    private func grouped(_ text: String) -> String {
        let point = text.firstIndex { $0 == "." || $0 == "e" } ?? text.endIndex
        let whole = Array(text[..<point])
        var out = ""
        for (i, c) in whole.enumerated() {
            if i > 0 && (whole.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out + text[point...]
    }

    private func padded(_ text: String, isNumber: Bool) -> String {
        let missing = width - text.count
        guard missing > 0 else { return text }
        if zeroPad && align == nil && isNumber {
            // Zeros go between the sign and the digits: -0003.14.
            let zeros = String(repeating: "0", count: missing)
            if let first = text.first, "+- ".contains(first) { return String(first) + zeros + text.dropFirst() }
            return zeros + text
        }
        let pad = zeroPad && align == nil ? "0" : fill
        switch align ?? (isNumber ? ">" : "<") {
        case "<": return text + String(repeating: pad, count: missing)
        case "^":
            let left = missing / 2
            return String(repeating: pad, count: left) + text + String(repeating: pad, count: missing - left)
        default: return String(repeating: pad, count: missing) + text
        }
    }
}
