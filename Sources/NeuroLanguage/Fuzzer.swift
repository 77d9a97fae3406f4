import Foundation
import NeuroEngine

/// Feeds random, generated and mutated scripts through the whole language —
/// the lexer and parser (`Interpreter.parse`), the name checker
/// (`NameCheck.unresolved`), the evaluator and diagnostic rendering — to show
/// that no input crashes it. Deterministic: input `i` of seed `s` is always
/// the same text, so a failure can be replayed with `Fuzzer.input(i, seed: s)`.
///
/// Inputs come in three kinds: token soups (random tokens of the language),
/// programs from a small grammar (mostly valid, so they reach the
/// evaluator), and mutations of real scripts (tokens, characters or lines
/// deleted, duplicated, swapped or inserted). Each runs in a sandbox: a fresh
/// interpreter with a step budget, no file access, and built-ins that refuse
/// sizes which would only make the run slow.
///
/// ```swift
/// let report = Fuzzer.run(count: 2_000, seed: 1)
/// print(report)          // 2000 inputs in 2.7 s (…): 1150 (57.5%) syntax errors, …; no findings
/// assert(report.findings.isEmpty)
/// ```
public enum Fuzzer {
    /// Statements, loop turns and calls one input may take.
    public static let stepBudget = 2_000
    /// The largest tensor a sandboxed built-in may make or return, and the
    /// largest number it accepts below 10^15 (larger ones every integer
    /// conversion refuses, so they are let through to test that it does).
    static let maxTensorElements = 4_096
    static let maxArgument = 4_096.0
    /// Built-ins that touch files, train models or read the clock: replaced by errors.
    static let unavailable: Set<String> = ["load", "save", "train", "transformer", "time", "plot", "report", "view", "viewer"]
    /// Dataset built-ins and the position of their `p`: p² inputs, so kept small.
    static let datasetModulus = ["modular": 1, "addition": 0]

    // MARK: - Running

    /// Runs `count` inputs and tallies what they did. Runs on a thread with a
    /// large stack, as `neuromap` runs scripts. `corpus` is what mutations
    /// start from; `willRun` sees each input first (to save it, say, when
    /// hunting a crash).
    public static func run(count: Int, seed: UInt64, corpus: [String] = defaultCorpus,
                           willRun: ((Int, String) -> Void)? = nil) -> FuzzReport {
        let work = { () -> FuzzReport in
            let start = DispatchTime.now().uptimeNanoseconds
            var report = FuzzReport()
            let names = Builtins.all.map { (name: $0.name, parameters: $0.parameters) }
            for index in 0..<count {
                let source = input(index, seed: seed, corpus: corpus, builtins: names)
                willRun?(index, source)
                let began = DispatchTime.now().uptimeNanoseconds
                let result = check(source)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9
                report.add(result, input: source, index: index, seconds: seconds)
            }
            report.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            return report
        }
        // The work cannot fail; were the large-stack thread unavailable, run it here.
        return (try? onLargeStack(work)) ?? work()
    }

    /// Input number `index` of a run with `seed`.
    public static func input(_ index: Int, seed: UInt64, corpus: [String] = defaultCorpus) -> String {
        input(index, seed: seed, corpus: corpus, builtins: Builtins.all.map { ($0.name, $0.parameters) })
    }

    static func input(_ index: Int, seed: UInt64, corpus: [String], builtins: [(name: String, parameters: [String])]) -> String {
        var rng = SplitMix64(seed: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        let kind = rng.below(20)
        if kind < 5 || corpus.isEmpty { return TokenSoup.make(&rng) }
        if kind < 11 {
            var writer = ProgramWriter(rng: rng, builtins: builtins)
            return writer.program()
        }
        return Mutator.mutate(rng.pick(corpus), &rng)
    }

    /// Runs one input through parsing, name checking and (when it parses)
    /// evaluation in a sandbox. Problems that are not crashes but still bugs —
    /// a diagnostic pointing outside the source, a runtime error with no
    /// place, an error that escapes as something other than a `RuntimeError`
    /// — come back as findings.
    public static func check(_ source: String) -> (outcome: FuzzOutcome, findings: [String]) {
        var findings: [String] = []
        let lineCount = source.split(separator: "\n", omittingEmptySubsequences: false).count
        func inspect(_ diagnostic: Diagnostic, _ what: String) {
            let start = diagnostic.range.start
            if start.line < 1 || start.line > lineCount || start.column < 1 {
                findings.append("\(what) at \(start), outside the source: \(diagnostic.message)")
            }
            _ = diagnostic.render(file: "fuzz.nmap", source: source)
        }
        let parsed = Interpreter.parse(source)
        // Rendering splits the source each time: the first few show how all are placed.
        parsed.diagnostics.prefix(50).forEach { inspect($0, "syntax error") }
        if !parsed.diagnostics.isEmpty { return (.syntaxErrors(parsed.diagnostics.count), findings) }

        let interpreter = sandbox()
        NameCheck.unresolved(parsed.program, interpreter: interpreter).forEach { inspect($0, "name check") }
        if imports(parsed.program) { return (.notRun, findings) }
        interpreter.stepBudget = stepBudget
        // Statement by statement, going on after errors, so a mistake early in
        // an input does not hide the rest of it from the evaluator.
        var outcome = FuzzOutcome.completed
        for statement in parsed.program {
            do {
                try interpreter.run([statement])
            } catch let error as RuntimeError {
                if error.range == nil { findings.append("runtime error with no place: \(error.message)") }
                inspect(error.diagnostic, "runtime error")
                if error.message == "step budget exhausted" { return (.stepLimited, findings) }
                if outcome == .completed { outcome = .runtimeError }
            } catch {
                findings.append("\(type(of: error)) escaped the interpreter: \(error)")
                if outcome == .completed { outcome = .runtimeError }
            }
        }
        return (outcome, findings)
    }

    // MARK: - Sandbox

    /// The standard library, parsed once.
    static let standardLibrary: [[Stmt]] = StandardLibrary.files.compactMap { path in
        guard let source = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let parsed = Interpreter.parse(source)
        return parsed.diagnostics.isEmpty ? parsed.program : nil
    }

    /// A fresh interpreter with the standard library, output discarded, no
    /// file access and size-limited built-ins.
    static func sandbox() -> Interpreter {
        let interpreter = Interpreter()
        interpreter.output = { _ in }
        interpreter.baseDirectory = "/nonexistent/neuromap-fuzz"
        for builtin in interpreter.builtins.values { interpreter.register(sandboxed(builtin)) }
        for program in standardLibrary { _ = try? interpreter.run(program, in: interpreter.library) }
        return interpreter
    }

    static func sandboxed(_ builtin: Builtin) -> Builtin {
        Builtin(builtin.name, builtin.signature, builtin.summary, parameters: builtin.parameters, lazy: builtin.lazy) { args in
            if unavailable.contains(builtin.name) { throw args.error("not available while fuzzing") }
            if let big = (args.positional + args.named.map(\.value)).lazy.compactMap(tooLarge).first {
                throw args.error("(fuzz sandbox) \(big) is larger than the sandbox allows")
            }
            if let modulus = datasetModulus[builtin.name], case .number(let p)? = args.value(modulus, "p"), p > 31 {
                throw args.error("(fuzz sandbox) p = \(Formatter.number(p)) is larger than the sandbox allows")
            }
            let result = try builtin.call(args)
            if case .tensor(let t) = result, t.count > maxTensorElements {
                throw args.error("(fuzz sandbox) a result of \(t.count) elements is larger than the sandbox allows")
            }
            return result
        }
    }

    /// A number in an argument (or a list in it) big enough to make a run
    /// slow, yet small enough that the language would accept it as a size;
    /// or a tiny step (`arange(0, 1, 1e-12)`).
    static func tooLarge(_ value: Value) -> String? {
        var pending = [(value, 0)]
        var product = 1.0
        while let (value, depth) = pending.popLast() {
            switch value {
            case .number(let n) where n.isFinite:
                let size = Swift.abs(n)
                if size >= 1e15 { continue }
                if size > maxArgument || (size > 0 && size < 1 / maxArgument) { return Formatter.number(n) }
                product *= Swift.max(1, size)
            case .range(let a, let b):
                if b - a > Int(maxArgument) { return "\(a)..\(b)" }
            case .list(let items) where depth < 4:
                if items.count > maxTensorElements { return "a list of \(items.count) items" }
                pending += items.map { ($0, depth + 1) }
            default: continue
            }
        }
        return product > Double(maxTensorElements) * 16 ? "a size of \(Formatter.number(product))" : nil
    }

    private static func imports(_ program: [Stmt]) -> Bool {
        var pending = program.map { SyntaxDepth.Node.stmt($0) }
        while let node = pending.popLast() {
            if case .stmt(let s) = node, case .importFile = s.kind { return true }
            pending += SyntaxDepth.children(node)
        }
        return false
    }

    // MARK: - Corpus

    /// What mutations start from: the built-in scripts, the standard
    /// library, and the golden test scripts when the source tree is here.
    public static var defaultCorpus: [String] {
        builtInCorpus + StandardLibrary.files.compactMap { try? String(contentsOfFile: $0, encoding: .utf8) } + goldenScripts
    }

    /// The golden test scripts of the source tree this was built from (none
    /// when it has moved).
    public static var goldenScripts: [String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Tests/NeuroLanguageTests/Golden")
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        return walker.compactMap { $0 as? URL }.filter { $0.pathExtension == "nmap" }
            .sorted { $0.path < $1.path }.compactMap { try? String(contentsOf: $0, encoding: .utf8) }
    }

    /// Small scripts touching every part of the language.
    public static let builtInCorpus: [String] = [
        """
        x = 1 + 2 * 3 - 4 / 2 ^ 2 % 3
        y = -x ^ 2
        print(x, y, x == y, x != y and not (x < y or x >= y))
        s = "a" + 'b' + "\\n\\t\\\\"
        print(s[0], s[-1], s[1:], len(s), str(3.5) + "!")
        """,
        """
        xs = [1, [2, 3], {k: 4}]
        xs[1][0] = 9
        xs[2].k += 1
        r = {lr: 1e-3, wd: 1.0, nested: {deep: [1, 2]}}
        r.nested.deep[1] = 5
        print(xs, r["lr"], keys(r), xs[0:2], xs[::2], (0..10)[3], list(2..5))
        """,
        """
        total = 0
        for i in 0..10 {
            if i % 2 == 0 { continue } else if i > 7 { break }
            total += i
        }
        n = 0
        while n < 5 { n = n + 1 }
        for ch in "abc" { print(ch) }
        for k in {a: 1, b: 2} { print(k) }
        print(total, n)
        """,
        """
        fn fib(n) { if n < 2 { return n }; fib(n - 1) + fib(n - 2) }
        fn make_counter(start: 0) {
            count = start
            fn next() { count = count + 1; count }
            next
        }
        c = make_counter(start: 10)
        c(); c()
        add = fn(a, b: 1) { a + b }
        print(fib(10), c(), add(1), add(1, b: 5), add(b: 2, a: 3))
        """,
        """
        t = reshape(arange(24), [2, 3, 4])
        print(t.shape, t.dtype, t.rank, t.size, t[0, :, 1], t[-1, 1:, ::2].shape)
        m = tensor([[1, 2], [3, 4]])
        print(m @ m, m * 2 + 1, m.T, m.sum(), m.mean(axis: 0), m.argmax(axis: -1))
        print(einsum("ij,jk->ik", m, m), softmax(m, axis: -1).sum(axis: -1))
        z = zeros([2, 3]) + ones([3]) * tensor([1, 2, 3])
        print(z, randn([2, 2], seed: 3).shape, m > 2, m[m > 2])
        """,
        """
        data = modular(p: 7, train: 0.5, seed: 1)
        print(data.p, data.size, data.train.size, data.tokens.shape, data.a[0:3])
        patch embed with corrupt(a + 1)
        ablate mlp_post 0 with mean
        ablate pattern 0 head 1 pos 2 with zero
        hook blocks.0.mlp.hook_post with fn(x) { x * 0 }
        train model on data epochs 5 lr 1e-2
        use model on data
        """,
        """
        fn f(x) { g(x) }
        fn g(x) { x + "a" }
        import "missing.nmap"
        return 1
        f(1)
        zeros([1000000, 1000000])
        """,
    ]
}

/// A result written by one thread and read by another after it signals.

/// What one fuzz input did.
public enum FuzzOutcome: Equatable, Sendable {
    /// It did not parse; this many diagnostics.
    case syntaxErrors(Int)
    /// It stopped at a runtime error.
    case runtimeError
    /// It ran out of steps.
    case stepLimited
    /// It ran to the end.
    case completed
    /// It imports a file, so it was parsed and checked but not run.
    case notRun
}

/// The tally of a fuzz run.
public struct FuzzReport: CustomStringConvertible, Sendable {
    public var inputs = 0
    public var syntaxErrors = 0
    public var runtimeErrors = 0
    public var stepLimited = 0
    public var completed = 0
    public var notRun = 0
    /// Bugs short of a crash, with the input's number and text (the first 20).
    public var findings: [(index: Int, finding: String, input: String)] = []
    public var seconds = 0.0
    /// The slowest input, with its number.
    public var slowest: (seconds: Double, index: Int) = (0, 0)

    mutating func add(_ result: (outcome: FuzzOutcome, findings: [String]), input: String, index: Int, seconds: Double) {
        inputs += 1
        switch result.outcome {
        case .syntaxErrors: syntaxErrors += 1
        case .runtimeError: runtimeErrors += 1
        case .stepLimited: stepLimited += 1
        case .completed: completed += 1
        case .notRun: notRun += 1
        }
        for finding in result.findings where findings.count < 20 { findings.append((index, finding, input)) }
        if seconds > slowest.seconds { slowest = (seconds, index) }
    }

    public var description: String {
        func share(_ n: Int) -> String { "\(n) (\(Formatter.percent(Double(n) / Double(max(inputs, 1)))))" }
        var text = String(format: "%d inputs in %.1f s (%.0f per second, slowest %.2f s: #%d): ", inputs, seconds,
                          Double(inputs) / max(seconds, 1e-9), slowest.seconds, slowest.index)
        text += "\(share(syntaxErrors)) syntax errors, \(share(runtimeErrors)) runtime errors, "
        text += "\(share(stepLimited)) out of steps, \(share(completed)) ran to the end, \(share(notRun)) not run (import); "
        text += findings.isEmpty ? "no findings" : "\(findings.count) findings:\n" + findings.map { "  #\($0.index): \($0.finding)" }.joined(separator: "\n")
        return text
    }
}

// MARK: - Generators

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
