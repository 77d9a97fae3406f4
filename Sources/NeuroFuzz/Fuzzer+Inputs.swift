import Foundation
import NeuroLanguage

/// A small, fast, seedable generator (SplitMix64).
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A whole number in 0..<n (n > 0).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }

    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }

    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// Random runs of the language's tokens, spaced or not.
enum TokenSoup {
    static let words: [String] = Keyword.allCases.map(\.rawValue) + Symbol.allCases.map(\.rawValue) + [
        "x", "y", "t", "f", "g", "data", "model", "a", "b", "p", "print", "len", "zeros", "tensor", "list", "range",
        "patch", "ablate", "hook", "embed", "with", "mean", "zero", "corrupt", "head", "pos", "neuron", "train", "on",
        "epochs", "use", "sum", "shape", "T", "reshape", "einsum", "arange", "modular", "blocks", "mlp_post", "pattern",
    ]
    static let numbers = ["0", "1", "2", "3", "-1", "0.5", ".5", "1e300", "-1e300", "1e15", "1e16", "9007199254740993",
                          "1_000", "99999999999999999999", "1e-300", "1e308", "4096", "4097", "0.0001"]
    static let oddities = ["\"s\"", "'q'", "\"\"", "\"a\\n\"", "\"\\q\"", "\"open", "\n", "\n", "\n", "  ", "# note\n",
                           "\\\n", "$", "é", "\t", "`", "?", "!", "&", "|", "~", "\u{0}", "🙂", ";"]

    static func word(_ rng: inout SplitMix64) -> String {
        switch rng.below(10) {
        case 0..<5: return rng.pick(words)
        case 5..<8: return rng.pick(numbers)
        default: return rng.pick(oddities)
        }
    }

    static func make(_ rng: inout SplitMix64) -> String {
        (0..<(1 + rng.below(60))).map { _ in word(&rng) + (rng.chance(0.7) ? " " : "") }.joined()
    }
}

/// Mostly valid programs from a small grammar, with names that mostly exist.
struct ProgramWriter {
    var rng: SplitMix64
    let builtins: [(name: String, parameters: [String])]
    var variables = ["x", "t", "xs", "r", "s"]
    var functions: [(name: String, arity: Int)] = []
    var inLoop = false
    var inFunction = false

    init(rng: SplitMix64, builtins: [(name: String, parameters: [String])]) {
        self.rng = rng
        self.builtins = builtins
    }

    mutating func program() -> String {
        let prelude = "x = 3\nt = reshape(arange(12), [3, 4])\nxs = [1, 2, 3]\nr = {a: 1, b: [2, 3]}\ns = \"text\"\n"
        return prelude + (0..<(1 + rng.below(8))).map { _ in statement(depth: 0) }.joined(separator: "\n") + "\n"
    }

    mutating func block(depth: Int) -> String {
        "{\n" + (0..<(1 + rng.below(3))).map { _ in "  " + statement(depth: depth + 1) }.joined(separator: "\n") + "\n}"
    }

    mutating func statement(depth: Int) -> String {
        let deep = depth >= 3
        switch rng.below(deep ? 6 : 14) {
        case 0, 1:
            let name = rng.chance(0.7) ? rng.pick(variables) : "v\(rng.below(4))"
            if !variables.contains(name) { variables.append(name) }
            return "\(name) \(rng.pick(["=", "=", "+=", "-=", "*=", "/="])) \(expression(depth: depth))"
        case 2: return "print(\(expression(depth: depth)))"
        case 3: return "\(rng.pick(variables))[\(expression(depth: depth + 2))] = \(expression(depth: depth + 1))"
        case 4: return "r.\(rng.pick(["a", "b", "c"])) = \(expression(depth: depth))"
        case 5:
            if inLoop && rng.chance(0.5) { return rng.pick(["break", "continue"]) }
            if inFunction { return "return \(expression(depth: depth))" }
            return expression(depth: depth)
        case 6: return "if \(expression(depth: depth)) \(block(depth: depth))"
                + (rng.chance(0.5) ? " else \(rng.chance(0.3) ? "if \(expression(depth: depth)) " : "")\(block(depth: depth))" : "")
        case 7:
            let variable = rng.pick(["i", "j", "item"])
            variables.append(variable)
            return "for \(variable) in \(rng.pick(["0..3", "xs", "s", "r", "t", "range(4)", expression(depth: depth)])) \(loopBlock(depth: depth))"
        case 8:
            let counter = "n\(depth)"
            variables.append(counter)
            return "\(counter) = 0\nwhile \(counter) < \(rng.below(6)) \(loopBlock(depth: depth, counter: counter))"
        case 9:
            let name = "f\(functions.count)"
            let parameters = ["p", "q", "w: 2"].prefix(rng.below(4))
            functions.append((name, parameters.count))
            let saved = (variables, inLoop, inFunction)
            variables += parameters.map { String($0.prefix { $0 != ":" }) }
            inLoop = false
            inFunction = true
            defer { (variables, inLoop, inFunction) = saved }
            return "fn \(name)(\(parameters.joined(separator: ", "))) \(block(depth: depth))"
        case 10:
            return rng.pick(["patch", "ablate", "hook"]) + " " + rng.pick(["embed", "mlp_post 0", "pattern 0 head 1", "blocks.0.hook_resid_pre", "embd"])
                + " with " + rng.pick(["corrupt(a + 1)", "mean", "zero", "fn(z) { z * 0 }", expression(depth: depth)])
        case 11:
            return "data = modular(p: \(rng.pick(["7", "11", "5", "4"])), train: 0.5)"
        default:
            return expression(depth: depth)
        }
    }

    mutating func loopBlock(depth: Int, counter: String? = nil) -> String {
        let saved = inLoop
        inLoop = true
        defer { inLoop = saved }
        var body = block(depth: depth)
        if let counter { body = String(body.dropLast()) + "  \(counter) += 1\n}" }
        return body
    }

    mutating func expression(depth: Int) -> String {
        if depth > 4 || rng.chance(0.3) { return atom(depth: depth) }
        let e = { (w: inout ProgramWriter) in w.expression(depth: depth + 1) }
        switch rng.below(14) {
        case 0, 1, 2:
            let op = rng.pick(["+", "-", "*", "/", "%", "^", "@", "==", "!=", "<", "<=", ">", ">=", "and", "or", ".."])
            return "\(e(&self)) \(op) \(e(&self))"
        case 3: return "\(rng.pick(["-", "not "]))\(e(&self))"
        case 4: return "(\(e(&self)))"
        case 5:
            let builtin = rng.pick(builtins)
            var arguments = (0..<rng.below(4)).map { _ in e(&self) }
            if rng.chance(0.3) {
                let label = builtin.parameters.isEmpty ? "axis" : rng.pick(builtin.parameters)
                arguments.append("\(label): \(e(&self))")
            }
            return "\(builtin.name)(\(arguments.joined(separator: ", ")))"
        case 6:
            guard !functions.isEmpty else { return atom(depth: depth) }
            let function = rng.pick(functions)
            let count = max(0, function.arity + rng.below(2) - (rng.chance(0.2) ? 1 : 0))
            return "\(function.name)(\((0..<count).map { _ in e(&self) }.joined(separator: ", ")))"
        case 7: return "\(e(&self))[\(e(&self))]"
        case 8:
            let bound = { (w: inout ProgramWriter) in w.rng.chance(0.5) ? "" : w.expression(depth: depth + 2) }
            return "\(rng.pick(variables))[\(bound(&self)):\(bound(&self))\(rng.chance(0.2) ? ":" + bound(&self) : "")]"
        case 9: return "t[\(rng.pick(["0", "-1", ":", "1:", "::2"])), \(rng.pick(["0", ":", "1:3", "-1"]))]"
        case 10: return "\(e(&self)).\(rng.pick(["shape", "dtype", "T", "sum()", "mean(axis: 0)", "argmax()", "a", "b", "size", "p"]))"
        case 11: return "fn(z) { \(e(&self)) }"
        case 12: return "[\((0..<rng.below(4)).map { _ in e(&self) }.joined(separator: ", "))]"
        default: return "{a: \(e(&self)), b: \(e(&self))}"
        }
    }

    mutating func atom(depth: Int) -> String {
        switch rng.below(10) {
        case 0, 1: return rng.pick(TokenSoup.numbers)
        case 2: return rng.pick(["\"a\"", "\"hello\"", "\"\"", "\"ij,jk->ik\"", "\"i,j->ij\"", "\"embed\""])
        case 3: return rng.pick(["true", "false", "none"])
        case 4: return rng.pick(["zeros([2, 3])", "ones([3])", "arange(6)", "randn([2, 2], seed: 1)", "tensor([[1, 2], [3, 4]])"])
        case 5: return rng.pick(["0..4", "[1, 2, 3]", "{a: 1}", "[]", "{}", "data", "data.a", "model"])
        default: return rng.pick(variables)
        }
    }
}

/// Small random edits of real scripts.
enum Mutator {
    static func mutate(_ source: String, _ rng: inout SplitMix64) -> String {
        var text = source
        for _ in 0..<(1 + rng.below(3)) {
            switch rng.below(3) {
            case 0: text = tokens(text, &rng)
            case 1: text = characters(text, &rng)
            default: text = lines(text, &rng)
            }
        }
        return text
    }

    /// Deletes, duplicates, swaps or replaces tokens, or inserts one.
    static func tokens(_ source: String, _ rng: inout SplitMix64) -> String {
        var lexer = Lexer(source)
        let bytes = Array(source.utf8)
        var pieces: [(gap: String, text: String)] = []
        var offset = 0
        for token in lexer.tokenize() where token.kind != .end {
            let start = min(max(token.range.start.offset, offset), bytes.count)
            let end = min(max(token.range.end.offset, start), bytes.count)
            pieces.append((String(decoding: bytes[offset..<start], as: UTF8.self), String(decoding: bytes[start..<end], as: UTF8.self)))
            offset = end
        }
        guard !pieces.isEmpty else { return TokenSoup.word(&rng) + source }
        let i = rng.below(pieces.count), j = rng.below(pieces.count)
        switch rng.below(5) {
        case 0: pieces.remove(at: i)
        case 1: pieces.insert(pieces[i], at: j)
        case 2: pieces.swapAt(i, j)
        case 3: pieces[i].text = TokenSoup.word(&rng)
        default: pieces.insert((" ", TokenSoup.word(&rng)), at: i)
        }
        return pieces.map { $0.gap + $0.text }.joined() + String(decoding: bytes[min(offset, bytes.count)...], as: UTF8.self)
    }

    /// Deletes, duplicates, replaces or inserts a few characters.
    static func characters(_ source: String, _ rng: inout SplitMix64) -> String {
        var chars = Array(source)
        let inserts = Array("()[]{},:;.+-*/^%@=<>!\"'#\n \\0123456789aez_$é")
        guard !chars.isEmpty else { return String(rng.pick(inserts)) }
        let i = rng.below(chars.count), n = min(1 + rng.below(5), chars.count - i)
        switch rng.below(4) {
        case 0: chars.removeSubrange(i..<(i + n))
        case 1: chars.insert(contentsOf: chars[i..<(i + n)], at: rng.below(chars.count))
        case 2: chars[i] = rng.pick(inserts)
        default: chars.insert(rng.pick(inserts), at: i)
        }
        return String(chars)
    }

    /// Deletes, duplicates or swaps lines.
    static func lines(_ source: String, _ rng: inout SplitMix64) -> String {
        var lines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let i = rng.below(lines.count), j = rng.below(lines.count)
        switch rng.below(3) {
        case 0: lines.remove(at: i)
        case 1: lines.insert(lines[i], at: j)
        default: lines.swapAt(i, j)
        }
        return lines.joined(separator: "\n")
    }
}

/// Programs nested deeper than the parser allows, or just within it: every
/// recursive rule of the grammar, up to tens of thousands of levels. Each
/// must be a syntax error (`nesting deeper than …`) or run, never overflow
/// the stack.
enum DeepNesting {
    static let depths = [5, 150, 199, 200, 201, 1_000, 5_000, 30_000]

    static func make(_ rng: inout SplitMix64) -> String {
        let n = rng.pick(depths)
        func repeated(_ text: String) -> String { String(repeating: text, count: n) }
        switch rng.below(13) {
        case 0: return "x = " + repeated("(") + "1" + repeated(")")
        case 1: return "x = " + repeated("abs(") + "1" + repeated(")")
        case 2: return "xs = [1]\nx = " + repeated("xs[") + "0" + repeated("]")
        case 3: return "x = " + repeated("[") + "1" + repeated("]")
        case 4: return "x = " + repeated("{a: ") + "1" + repeated("}")
        case 5: return "x = " + repeated("-") + "1"
        case 6: return "x = 1" + repeated(" ^ 1")
        case 7: return "x = 1" + repeated(" + 1")
        case 8: return "f = " + repeated("fn() { ") + "1" + repeated(" }")
        case 9: return repeated("if true { ") + "x = 1" + repeated(" }")
        case 10: return "r = {a: 1}\nx = r" + repeated(".a")
        case 11: return "fn f() { f }\nx = f" + repeated("()")
        default: return "x = " + repeated("not ") + "true"
        }
    }
}

/// Programs whose results would be far larger than memory although their
/// inputs are small: broadcasting, outer products, matmul, einsum, stacking,
/// counts. The engine must refuse each before allocating. Marked so the
/// sandbox lets the sizes through.
enum HugeShapes {
    static let marker = "# huge shapes\n"

    static func make(_ rng: inout SplitMix64) -> String {
        let d = rng.pick(["1000000", "3000000", "10000000"])
        let templates = [
            "ones([\(d), 1]) * ones([1, \(d)])",
            "ones([\(d), 1]) @ ones([1, \(d)])",
            "x = ones([\(d), 1])\ny = x @ x.T",
            "einsum(\"i,j->ij\", ones([\(d)]), ones([\(d)]))",
            "outer(ones([\(d)]), ones([\(d)]))",
            "where(ones([\(d), 1]) > 0, ones([1, \(d)]), 0)",
            "a = ones([\(d), 1, 2])\nb = ones([1, \(d), 2])\nnorm(a - b, axis: -1)",
            "zeros([\(d), \(d)])",
            "randn([\(d), \(d)], seed: 1)",
            "linspace(0, 1, \(d) * \(d))",
            "arange(\(d) * \(d))",
            "reshape(ones([2]), [\(d), \(d)])",
            "ones([\(d), 1]) + ones([\(d)])",
            "stack([ones([\(d), 1]) * ones([1, 2])] * 100000)",
            "concat([ones([\(d)])] * 100000)",
            "x = ones([\(d), 1])\nx % ones([1, \(d)])",
        ]
        let count = 1 + rng.below(3)
        return marker + (0..<count).map { _ in rng.pick(templates) }.joined(separator: "\n")
    }
}
