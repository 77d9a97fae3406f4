import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroLab

/// Feeds random, generated and mutated scripts through the whole language —
/// the lexer and parser (`NeuroLab.parse`), the name checker
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
    /// An input slower than this is a finding (a hang, or a cost out of proportion).
    public static let slowInput = 10.0
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
            let names = Builtins.all(with: NeuroLab.vocabulary).map { (name: $0.name, parameters: $0.parameters) }
            for index in 0..<count {
                let source = input(index, seed: seed, corpus: corpus, builtins: names)
                willRun?(index, source)
                let began = DispatchTime.now().uptimeNanoseconds
                // One input in five gets Ctrl-C during one of its first built-in calls.
                let interruptAt = index % 5 == 2 ? Int((UInt64(index) &* 0x9E37_79B9_7F4A_7C15) >> 60) : nil
                let result = check(source, interruptAtCall: interruptAt)
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
        input(index, seed: seed, corpus: corpus, builtins: Builtins.all(with: NeuroLab.vocabulary).map { ($0.name, $0.parameters) })
    }

    static func input(_ index: Int, seed: UInt64, corpus: [String], builtins: [(name: String, parameters: [String])]) -> String {
        var rng = SplitMix64(seed: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        let kind = rng.below(20)
        if kind < 5 || corpus.isEmpty { return TokenSoup.make(&rng) }
        if kind < 10 {
            var writer = ProgramWriter(rng: rng, builtins: builtins)
            return writer.program()
        }
        if kind == 10 { return DeepNesting.make(&rng) }
        if kind == 11 { return HugeShapes.make(&rng) }
        return Mutator.mutate(rng.pick(corpus), &rng)
    }

    /// Runs one input through parsing, name checking and (when it parses)
    /// evaluation in a sandbox. Problems that are not crashes but still bugs —
    /// a diagnostic pointing outside the source, a runtime error with no
    /// place, an error that escapes as something other than a `RuntimeError`
    /// — come back as findings.
    ///
    /// When the input asks for huge shapes (`HugeShapes.marker`), the sandbox
    /// lets sizes through that the engine must refuse before allocating. With
    /// `interruptAtCall`, Ctrl-C arrives during that built-in call: the run
    /// must stop there, with no built-in starting after it.
    public static func check(_ source: String, interruptAtCall: Int? = nil) -> (outcome: FuzzOutcome, findings: [String]) {
        defer { Interruption.clear() }
        var findings: [String] = []
        let lineCount = source.split(separator: "\n", omittingEmptySubsequences: false).count
        func inspect(_ diagnostic: Diagnostic, _ what: String) {
            let start = diagnostic.range.start
            if start.line < 1 || start.line > lineCount || start.column < 1 {
                findings.append("\(what) at \(start), outside the source: \(diagnostic.message)")
            }
            _ = diagnostic.render(file: "fuzz.nmap", source: source)
        }
        let parsed = NeuroLab.parse(source)
        // Rendering splits the source each time: the first few show how all are placed.
        parsed.diagnostics.prefix(50).forEach { inspect($0, "syntax error") }
        if !parsed.diagnostics.isEmpty { return (.syntaxErrors(parsed.diagnostics.count), findings) }

        let calls = CallLog(interruptAt: interruptAtCall)
        let interpreter = sandbox(huge: source.hasPrefix(HugeShapes.marker), calls: calls)
        NameCheck.unresolved(parsed.program, interpreter: interpreter).forEach { inspect($0, "name check") }
        if imports(parsed.program) { return (.notRun, findings) }
        interpreter.stepBudget = stepBudget
        // Statement by statement, going on after errors, so a mistake early in
        // an input does not hide the rest of it from the evaluator; after Ctrl-C, nothing more.
        var outcome = FuzzOutcome.completed
        for statement in parsed.program {
            do {
                try interpreter.run([statement])
            } catch let error as RuntimeError {
                if error.range == nil { findings.append("runtime error with no place: \(error.message)") }
                inspect(error.diagnostic, "runtime error")
                if error.stop == .stepBudget { return (.stepLimited, findings) }
                if outcome == .completed { outcome = .runtimeError }
            } catch {
                findings.append("\(type(of: error)) escaped the interpreter: \(error)")
                if outcome == .completed { outcome = .runtimeError }
            }
            if calls.interrupted { break }
        }
        if calls.startedAfterInterrupt > 0 {
            findings.append("\(calls.startedAfterInterrupt) built-in call(s) started after Ctrl-C")
        }
        return (calls.interrupted ? .interrupted : outcome, findings)
    }
}

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
    /// Ctrl-C came during one of its built-in calls, and it stopped.
    case interrupted
}

/// The tally of a fuzz run.
public struct FuzzReport: CustomStringConvertible, Sendable {
    public var inputs = 0
    public var syntaxErrors = 0
    public var runtimeErrors = 0
    public var stepLimited = 0
    public var completed = 0
    public var notRun = 0
    public var interrupted = 0
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
        case .interrupted: interrupted += 1
        }
        var found = result.findings
        if seconds > Fuzzer.slowInput { found.append(String(format: "took %.1f s", seconds)) }
        for finding in found where findings.count < 20 { findings.append((index, finding, input)) }
        if seconds > slowest.seconds { slowest = (seconds, index) }
    }

    public var description: String {
        func share(_ n: Int) -> String { "\(n) (\(Formatter.percent(Double(n) / Double(max(inputs, 1)))))" }
        var text = String(format: "%d inputs in %.1f s (%.0f per second, slowest %.2f s: #%d): ", inputs, seconds,
                          Double(inputs) / max(seconds, 1e-9), slowest.seconds, slowest.index)
        text += "\(share(syntaxErrors)) syntax errors, \(share(runtimeErrors)) runtime errors, "
        text += "\(share(stepLimited)) out of steps, \(share(completed)) ran to the end, \(share(notRun)) not run (import), "
        text += "\(share(interrupted)) stopped by Ctrl-C; "
        text += findings.isEmpty ? "no findings" : "\(findings.count) findings:\n" + findings.map { "  #\($0.index): \($0.finding)" }.joined(separator: "\n")
        return text
    }
}

// MARK: - Generators
