import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroLab

extension Fuzzer {
    // MARK: - Sandbox

    /// The standard library, parsed once.
    static let standardLibrary: [[Stmt]] = StandardLibrary.files.compactMap { path in
        guard let source = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let parsed = NeuroLab.parse(source)
        return parsed.diagnostics.isEmpty ? parsed.program : nil
    }

    /// The built-in calls of one input, and Ctrl-C during one of them.
    final class CallLog {
        let interruptAt: Int?
        var count = 0
        var interrupted = false
        /// Calls begun after the interruption: each is a bug (nothing may start after Ctrl-C).
        var startedAfterInterrupt = 0

        init(interruptAt: Int?) {
            self.interruptAt = interruptAt
        }

        /// Counts a call about to run; raises the interruption flag at the chosen one.
        func willCall() {
            if interrupted { startedAfterInterrupt += 1 }
            if count == interruptAt {
                interrupted = true
                Interruption.request()
            }
            count += 1
        }
    }

    /// A fresh interpreter with the standard library, output discarded, and
    /// sandboxed built-ins. `huge` lets through sizes so large that the
    /// engine must refuse them before allocating anything.
    static func sandbox(huge: Bool = false, calls: CallLog = CallLog(interruptAt: nil)) -> Interpreter {
        let interpreter = NeuroLab.makeInterpreter()
        interpreter.output = { _ in }
        interpreter.baseDirectory = "/nonexistent/neuromap-fuzz"
        for builtin in interpreter.builtins.values { interpreter.register(sandboxed(builtin, huge: huge, calls: calls)) }
        for program in standardLibrary { _ = try? interpreter.run(program, in: interpreter.library) }
        return interpreter
    }

    /// A built-in that refuses what has effects beyond its value (files, the
    /// clock, training), sizes that would only make a run slow, and results
    /// larger than the sandbox allows.
    static func sandboxed(_ builtin: Builtin, huge: Bool, calls: CallLog) -> Builtin {
        Builtin(builtin.name, builtin.signature, builtin.summary, parameters: builtin.parameters, lazy: builtin.lazy,
                effects: builtin.effects, quadratic: builtin.quadratic) { args in
            calls.willCall()
            if !builtin.effects.isEmpty { throw args.error("not available while fuzzing") }
            if let big = (args.positional + args.named.map(\.value)).lazy.compactMap({ tooLarge($0, huge: huge) }).first {
                throw args.error("(fuzz sandbox) \(big) is larger than the sandbox allows")
            }
            if let size = builtin.quadratic, case .number(let p)? = args.value(size.position, size.name), p > 31 {
                throw args.error("(fuzz sandbox) \(size.name) = \(Formatter.number(p)) is larger than the sandbox allows")
            }
            let result = try builtin.call(args)
            if case .tensor(let t) = result, t.count > (huge ? hugeTensorElements : maxTensorElements) {
                throw args.error("(fuzz sandbox) a result of \(t.count) elements is larger than the sandbox allows")
            }
            return result
        }
    }

    /// The largest tensor a huge-shape input may really make (40 MB of float32).
    static let hugeTensorElements = 10_000_000

    /// A number in an argument (or a list in it) big enough to make a run
    /// slow, yet small enough that the language would accept it as a size;
    /// or a tiny step (`arange(0, 1, 1e-12)`). With `huge`, numbers up to
    /// `hugeTensorElements` pass, and so do sizes whose product is beyond
    /// what the engine allows (it must refuse them unallocated).
    static func tooLarge(_ value: Value, huge: Bool = false) -> String? {
        let maxArgument = huge ? Double(hugeTensorElements) : Fuzzer.maxArgument
        let maxTensorElements = huge ? hugeTensorElements : Fuzzer.maxTensorElements
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
        if huge {
            // Beyond the engine's limit the engine itself must refuse; below it, only what is quick to make.
            if product > Double(Tensor.maxElements) { return nil }
            return product > Double(hugeTensorElements) ? "a size of \(Formatter.number(product))" : nil
        }
        return product > Double(maxTensorElements) * 16 ? "a size of \(Formatter.number(product))" : nil
    }

    static func imports(_ program: [Stmt]) -> Bool {
        var pending = program.map { SyntaxDepth.Node.stmt($0) }
        while let node = pending.popLast() {
            if case .stmt(let s) = node, case .importFile = s.kind { return true }
            pending += SyntaxDepth.children(node)
        }
        return false
    }
}
