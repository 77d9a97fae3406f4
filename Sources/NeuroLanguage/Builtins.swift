import Foundation
import NeuroEngine

/// Every built-in the language starts with.
public enum Builtins {
    /// All of them: values, math, sequences, strings, tensors, files (a vocabulary adds its own).
    public static var all: [Builtin] { core + math + sequences + strings + tensorFunctions + linearAlgebra + files + [gradient] }

    /// The language's built-ins and a vocabulary's, in order: the language's
    /// first, less those the vocabulary replaces (a built-in of the same name).
    public static func all(with vocabulary: Vocabulary) -> [Builtin] {
        let replaced = Set(vocabulary.builtins.map(\.name))
        return all.filter { !replaced.contains($0.name) } + vocabulary.builtins
    }

    /// The longest list a built-in will build (`list(0..n)`, `range`), so a typo cannot exhaust memory.
    static let maxListLength = 50_000_000

    // MARK: - Values and printing

    static var core: [Builtin] {
        [
            Builtin("print", "print(a, b, …)", "print values separated by spaces") { args in
                args.interpreter.output(args.positional.map(Formatter.printed).joined(separator: " "))
                return .none
            },
            Builtin("type", "type(x)", "the name of a value's type", parameters: ["x"]) { args in .string(try args.required(0, "x").typeName) },
            Builtin("len", "len(x)", "length of a list, string, range or record, or a tensor's first dimension", parameters: ["x"]) { args in
                switch try args.required(0, "x") {
                case .list(let items): return .number(Double(items.count))
                case .string(let s): return .number(Double(s.count))
                case .range(let a, let b): return .number(Double(max(0, b - a)))
                case .record(let r): return .number(Double(r.keys.count))
                case .tensor(let t): return .number(Double(t.rank == 0 ? 1 : t.shape[0]))
                case let other: throw args.error("a \(other.typeName) has no length")
                }
            },
            Builtin("str", "str(x)", "a value as text", parameters: ["x"]) { args in .string(Formatter.printed(try args.required(0, "x"))) },
            Builtin("int", "int(x)", "a number, numeric string, bool or one-element tensor as a whole number (toward zero)",
                    parameters: ["x"]) { args in
                let n = try plainNumber(args)
                guard n.isFinite else { throw args.error("cannot make a whole number from \(Formatter.number(n))") }
                return .number(n.rounded(.towardZero))
            },
            Builtin("float", "float(x)", "a number, numeric string, bool or one-element tensor as a number", parameters: ["x"]) { args in
                .number(try plainNumber(args))
            },
            Builtin("list", "list(x)", "a range, string or record (its keys) as a list; a tensor as nested lists of numbers",
                    parameters: ["x"]) { args in
                if case .tensor(let t) = try args.required(0, "x") { return try tensorToList(t, args) }
                return .list(try items(args, 0, "x"))
            },
            Builtin("keys", "keys(record)", "a record's field names, in order", parameters: ["record"]) { args in
                .list(try record(args).keys.map { .string($0) })
            },
            Builtin("values", "values(record)", "a record's field values, in order", parameters: ["record"]) { args in
                .list(try record(args).pairs.map(\.1))
            },
            Builtin("items", "items(record)", "a record's [name, value] pairs, in order: for k, v in items(r) { … }", parameters: ["record"]) { args in
                .list(try record(args).pairs.map { .list([.string($0.0), $0.1]) })
            },
            Builtin("assert", "assert(condition, \"message\")", "stop with an error when the condition is false",
                    parameters: ["condition", "message"]) { args in
                guard try args.required(0, "condition").isTruthy else {
                    let message = args.value(1, "message").map(Formatter.printed) ?? "assertion failed"
                    throw args.error(message)
                }
                return .none
            },
            Builtin("time", "time()", "seconds on a monotonic clock, for measuring how long something takes", effects: .clock) { args in
                try args.expectAtMost(0)
                return .number(clockSeconds())
            },
        ]
    }

    /// Seconds on a monotonic clock, for `time()`.
    static func clockSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// The argument as one plain number (numbers, numeric strings, bools, one-element tensors).
    static func plainNumber(_ args: CallArguments) throws -> Double {
        switch try args.required(0, "x") {
        case .number(let n): return n
        case .bool(let b): return b ? 1 : 0
        case .string(let s):
            guard let n = Double(s.trimmingCharacters(in: .whitespaces)) else { throw args.error("'\(s)' is not a number") }
            return n
        case .tensor(let t) where t.count == 1: return try args.engine { try t.item() }
        case let other: throw args.error("cannot make a number from a \(other.typeName)")
        }
    }

    static func record(_ args: CallArguments) throws -> Record {
        let value = try args.required(0, "record")
        guard case .record(let r) = value else { throw args.error("needs a record, got \(value.typeName)") }
        return r
    }

    // MARK: - Math

    static var math: [Builtin] {
        [
            mathFunction("abs", "absolute value", Swift.abs, tensor: { try $0.abs() }),
            mathFunction("sqrt", "square root (nan below 0)", { $0.squareRoot() }, tensor: { try $0.sqrt() }),
            mathFunction("exp", "e to the power x", Foundation.exp, tensor: { try $0.exp() }),
            mathFunction("log", "natural logarithm (-inf at 0, nan below)", Foundation.log, tensor: { try $0.log() }),
            mathFunction("sin", "sine (radians)", Foundation.sin, tensor: { try $0.sin() }),
            mathFunction("cos", "cosine (radians)", Foundation.cos, tensor: { try $0.cos() }),
            mathFunction("tanh", "hyperbolic tangent", Foundation.tanh, tensor: { try $0.tanh() }),
            mathFunction("sigmoid", "logistic sigmoid 1 / (1 + e^-x)", { 1 / (1 + Foundation.exp(-$0)) }, tensor: { try $0.sigmoid() }),
            mathFunction("sign", "-1, 0 or 1 by the sign of x", { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }, tensor: { try $0.sign() }),
            mathFunction("floor", "largest whole number ≤ x", Foundation.floor),
            mathFunction("ceil", "smallest whole number ≥ x", Foundation.ceil),
            Builtin("round", "round(x, digits: 0)", "x rounded to `digits` decimals (halves away from zero); elementwise on tensors",
                    parameters: ["x", "digits"]) { args in
                let scale = Foundation.pow(10, Double(try args.int(1, "digits", default: 0)))
                return try elementwise(args) { x in
                    guard scale > 0, x.isFinite else { return scale > 0 ? x : 0 * x }
                    let rounded = (x * scale).rounded() / scale
                    return rounded.isFinite ? rounded : x   // more digits than a double holds: x is already exact
                }
            },
            Builtin("pow", "pow(x, y)", "x to the power y, the same as x ^ y", parameters: ["x", "y"]) { args in
                try Operators.binary(.power, numericValue(args, 0, "x"), numericValue(args, 1, "y"), at: args.range)
            },
            Builtin("clamp", "clamp(x, min: lo, max: hi)", "x limited to [lo, hi] (either bound may be left out); elementwise on tensors",
                    parameters: ["x", "min", "max"]) { args in
                let lo = try args.number(1, "min", default: -.infinity), hi = try args.number(2, "max", default: .infinity)
                guard lo <= hi else { throw args.error("'min' \(Formatter.number(lo)) is greater than 'max' \(Formatter.number(hi))") }
                return try elementwise(args, { Swift.min(Swift.max($0, lo), hi) }, tensor: { try $0.clamped(min: lo, max: hi) })
            },
            extremum("max", largest: true),
            extremum("min", largest: false),
        ]
    }

    /// A one-argument math function on numbers, and elementwise on tensors
    /// (by the engine's kernel when `tensor` is given).
    static func mathFunction(_ name: String, _ what: String, _ f: @escaping (Double) -> Double,
                             tensor: ((Tensor) throws -> Tensor)? = nil) -> Builtin {
        Builtin(name, "\(name)(x)", "\(what); elementwise on tensors and lists", parameters: ["x"]) { args in
            try elementwise(args, f, tensor: tensor)
        }
    }

    /// `f` on a number argument, or on every element of a tensor (or list of numbers) argument.
    static func elementwise(_ args: CallArguments, _ f: @escaping (Double) -> Double,
                            tensor: ((Tensor) throws -> Tensor)? = nil) throws -> Value {
        if case .number(let n) = try args.required(0, "x") { return .number(f(n)) }
        return try withTensor(args, 0, "x") { t in
            try tensor?(t) ?? Tensor(float64: t.toDoubles().map(f), shape: t.shape).cast(to: t.dtype)
        }
    }

    /// A number, a tensor for lists and ranges, else the value itself (for operators).
    static func numericValue(_ args: CallArguments, _ index: Int, _ name: String) throws -> Value {
        switch try args.required(index, name) {
        case .list, .range: return .tensor(try args.floats(index, name))
        case let other: return other
        }
    }

    /// `max(a, b, …)`, `max(list)` and `max(t, axis: 0)`.
    static func extremum(_ name: String, largest: Bool) -> Builtin {
        let which = largest ? "largest" : "smallest"
        return Builtin(name, "\(name)(a, b, …) or \(name)(list, by: f) or \(name)(t, axis: -1)",
                       "the \(which) of several values, of a list's items (by the key by: gives each) or of a tensor's elements (along an axis if given); "
                           + "with tensors among several values, elementwise",
                       parameters: ["axis", "by"]) { args in
            if args.value(nil, "by") != nil {
                guard args.positional.count == 1 else { throw args.error("'by' needs one list, as in \(name)(rows, by: fn(r) { r.loss })") }
                guard let (values, keys) = try keyed(args), let best = try extremePosition(keys, largest: largest, args) else {
                    throw args.error("needs at least one item, got an empty list")
                }
                return values[best]
            }
            func better(_ a: Value, _ b: Value) throws -> Value {
                switch (a, b) {
                case (.number(let x), .number(let y)): return .number(largest ? Swift.max(x, y) : Swift.min(x, y))
                case (.string(let x), .string(let y)): return .string(largest ? Swift.max(x, y) : Swift.min(x, y))
                default:
                    let (x, y) = (try a.asTensor(), try b.asTensor())
                    return .tensor(try args.engine { largest ? try x.maximum(y) : try x.minimum(y) })
                }
            }
            guard args.positional.count == 1 else {
                guard args.value(nil, "axis") == nil else { throw args.error("'axis' needs one tensor, as in \(name)(t, axis: 0)") }
                guard let first = args.positional.first else { throw args.error("needs a list, a tensor, or two or more values") }
                return try args.positional.dropFirst().reduce(first, better)
            }
            if case .list(let values) = args.positional[0], let first = values.first, values.allSatisfy({ if case .string = $0 { return true }; return false }) {
                return try values.dropFirst().reduce(first, better)
            }
            return try applyTensorOp(args, axis: true) { t, a in
                guard t.count > 0 else { throw args.error("needs at least one value, got an empty \(args.positional[0].typeName)") }
                return try a.map { largest ? try t.max(axis: $0) : try t.min(axis: $0) } ?? (largest ? t.max() : t.min())
            }
        }
    }

    // MARK: - Lists and sequences

    static var sequences: [Builtin] {
        [
            Builtin("range", "range(end) or range(start, end, step: 1)",
                    "whole numbers from start (default 0) up to end, excluded; range(a, b) is a..b", parameters: ["start", "end", "step"]) { args in
                let (start, end) = args.positional.count >= 2 ? (try args.int(0, "start"), try args.int(1, "end")) : (0, try args.int(0, "end"))
                let step = try args.int(2, "step", default: 1)
                guard step != 0 else { throw args.error("'step' must not be 0") }
                if step == 1 { return .range(start, end) }
                let count = step > 0 ? (end - start + step - 1) / step : (start - end - step - 1) / -step
                guard count <= maxListLength else { throw args.error("more than \(maxListLength) numbers") }
                return .list(stride(from: start, to: end, by: step).map { .number(Double($0)) })
            },
            Builtin("sort", "sort(x, by: f, descending: false)",
                    "a list of numbers or strings in order, or of any items in the order of the key by: gives each; a tensor sorted along its last axis",
                    parameters: ["x", "by", "descending"]) { args in
                let descending = try args.bool(nil, "descending", default: false)
                if let (values, keys) = try keyed(args) {
                    return .list(try order(keys, descending: descending, args).map { values[$0] })
                }
                if case .tensor = try args.required(0, "x") {
                    return .tensor(try args.engine { try sortedAlongLastAxis(args.floats(0, "x"), descending: descending).values })
                }
                let values = try items(args, 0, "x")
                let strings = values.compactMap { v -> String? in if case .string(let s) = v { return s }; return nil }
                if let numbers = plainNumbers(values) {
                    // NaN is neither less nor greater than anything, so a plain sort
                    // would leave the list out of order: it goes last, either way (as for tensors).
                    let ordered = numbers.filter { !$0.isNaN }.sorted(by: descending ? (>) : (<))
                    return .list((ordered + numbers.filter(\.isNaN)).map { .number($0) })
                } else if strings.count == values.count {
                    let sorted = strings.sorted().map { Value.string($0) }
                    return .list(descending ? sorted.reversed() : sorted)
                } else {
                    throw args.error("can sort numbers or strings, not a mix")
                }
            },
            Builtin("reverse", "reverse(x)", "a list, range or string backwards", parameters: ["x"]) { args in
                if case .string(let s) = try args.required(0, "x") { return .string(String(s.reversed())) }
                return .list(try items(args, 0, "x").reversed())
            },
            Builtin("contains", "contains(x, item)",
                    "whether a list or range has the item, a string has the substring, or a record has the key",
                    parameters: ["x", "item"]) { args in
                let item = try args.required(1, "item")
                switch (try args.required(0, "x"), item) {
                case (.string(let s), .string(let part)): return .bool(part.isEmpty || s.contains(part))
                case (.record(let r), .string(let key)): return .bool(r[key] != nil)
                case (.range(let a, let b), .number(let n)): return .bool(n == n.rounded() && n >= Double(a) && n < Double(b))
                case (.range, _): return .bool(false)
                case (.list(let values), _): return .bool(values.contains { Operators.equal($0, item) })
                case (let x, _): throw args.error("cannot look for a \(item.typeName) in a \(x.typeName)")
                }
            },
            Builtin("zip", "zip(a, b, …)", "lists of the items at the same place in each sequence, as long as the shortest") { args in
                guard args.positional.count >= 2 else { throw args.error("needs two or more sequences") }
                let columns = try args.positional.indices.map { try items(args, $0, "sequence \($0 + 1)") }
                let n = columns.map(\.count).min() ?? 0
                return .list((0..<n).map { i in .list(columns.map { $0[i] }) })
            },
            Builtin("enumerate", "enumerate(x)", "[index, item] pairs of a sequence, from 0", parameters: ["x"]) { args in
                .list(try items(args, 0, "x").enumerated().map { .list([.number(Double($0.offset)), $0.element]) })
            },
            Builtin("map", "map(x, f)", "a list of f(item) for every item", parameters: ["x", "f"]) { args in
                let f = try function(args, 1)
                return .list(try items(args, 0, "x").map { try args.interpreter.apply(f, positional: [$0], range: args.range) })
            },
            Builtin("filter", "filter(x, f)", "the items for which f(item) is true", parameters: ["x", "f"]) { args in
                let f = try function(args, 1)
                return .list(try items(args, 0, "x").filter { try args.interpreter.apply(f, positional: [$0], range: args.range).isTruthy })
            },
            Builtin("any", "any(x)", "whether some item of a list or element of a tensor is true (non-zero)", parameters: ["x"]) { args in
                .bool(try truths(args).contains(true))
            },
            Builtin("all", "all(x)", "whether every item of a list or element of a tensor is true (non-zero); true when empty",
                    parameters: ["x"]) { args in
                .bool(!(try truths(args).contains(false)))
            },
        ]
    }

    /// The items of a sequence as `for` visits them: a list's items, a range's
    /// numbers, a string's characters, a record's keys, a tensor's rows.
    static func items(_ args: CallArguments, _ index: Int, _ name: String) throws -> [Value] {
        switch try args.required(index, name) {
        case .list(let items): return items
        case .range(let a, let b):
            guard b - a <= maxListLength else { throw args.error("the range \(a)..\(b) has more than \(maxListLength) numbers") }
            return (a..<max(a, b)).map { .number(Double($0)) }
        case .string(let s): return s.map { .string(String($0)) }
        case .record(let r): return r.keys.map { .string($0) }
        case .tensor(let t):
            guard t.rank >= 2 else { return t.toDoubles().map { .number($0) } }
            return try (0..<t.shape[0]).map { i in .tensor(try args.engine { try t.select(axis: 0, index: i) }) }
        case let other: throw args.error("'\(name)' must be a list, range, string, record or tensor, got \(other.typeName)")
        }
    }

    static func function(_ args: CallArguments, _ index: Int) throws -> Function {
        let value = try args.required(index, "f")
        guard case .function(let f) = value else { throw args.error("'f' must be a function, like fn(x) { x * 2 }, got \(value.typeName)") }
        return f
    }

    /// The truth of each item of a list, or of each element of a tensor.
    static func truths(_ args: CallArguments) throws -> [Bool] {
        if case .list(let values) = try args.required(0, "x") { return values.map(\.isTruthy) }
        return try args.numeric(0, "x").toDoubles().map { $0 != 0 }
    }

    /// The numbers of a list made only of numbers, or nil.
    static func plainNumbers(_ values: [Value]) -> [Double]? {
        let numbers = values.compactMap { v -> Double? in if case .number(let n) = v { return n }; return nil }
        return numbers.count == values.count ? numbers : nil
    }

    /// A tensor as nested lists, one level per dimension, refused (before
    /// anything is built) when the lists would hold more than `maxListLength`
    /// items in all, numbers and inner lists together, or nest deeper than
    /// `Formatter.maxDisplayDepth`. Built bottom-up from the flat values, so
    /// the cost is linear in the items made, whatever the rank.
    static func tensorToList(_ t: Tensor, _ args: CallArguments) throws -> Value {
        if t.rank == 0 { return .number((try? t.item()) ?? .nan) }
        guard t.rank <= Formatter.maxDisplayDepth else {
            throw args.error("a tensor of rank \(t.rank) would nest lists \(t.rank) deep, more than the \(Formatter.maxDisplayDepth) a list may nest")
        }
        // prefix[k]: how many lists level k holds (prefix[rank] is the number of values).
        var prefix = [1], items = 0
        for d in t.shape {
            let (groups, overflow) = prefix[prefix.count - 1].multipliedReportingOverflow(by: d)
            let (total, overflowTotal) = items.addingReportingOverflow(groups)
            guard !overflow, !overflowTotal, total <= maxListLength else {
                throw args.error("a tensor of shape \(formatShape(t.shape)) would make more than the \(maxListLength) items a list may hold")
            }
            prefix.append(groups)
            items = total
        }
        var level = t.toDoubles().map { Value.number($0) }
        for k in stride(from: t.rank - 1, through: 1, by: -1) {
            let width = t.shape[k]
            let values = level
            level = (0..<prefix[k]).map { g in .list(Array(values[(g * width)..<((g + 1) * width)])) }
        }
        return .list(level)
    }

    // MARK: - Strings

    static var strings: [Builtin] {
        [
            Builtin("split", "split(s, sep: \" \")", "the parts of a string between separators (by default, runs of spaces)",
                    parameters: ["s", "sep"]) { args in
                let s = try args.string(0, "s")
                guard args.value(1, "sep") != nil else {
                    return .list(s.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map { .string(String($0)) })
                }
                let sep = try args.string(1, "sep")
                guard !sep.isEmpty else { throw args.error("'sep' must not be empty") }
                return .list(s.components(separatedBy: sep).map { .string($0) })
            },
            Builtin("join", "join(list, sep: \"\")", "the items as text, with sep between them", parameters: ["list", "sep"]) { args in
                .string(try items(args, 0, "list").map(Formatter.printed).joined(separator: try args.string(1, "sep", default: "")))
            },
            Builtin("format", "format(\"{} of {:.2f}\", a, b)",
                    "text with each {} replaced by the next value; {:>8.3f}-style fields set width, alignment and digits") { args in
                try format(args)
            },
        ]
    }
}

extension CallArguments {
    /// Runs engine code; its errors name this function (`cosine: multiply:
    /// incompatible shapes [2] and [3]`), once.
    public func engine<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let failure as EngineError where failure.kind != .interrupted {
            // Ctrl-C passes through unnamed: the interpreter reports it as `interrupted`.
            throw error(failure.subject == function ? failure.detail : failure.message)
        }
    }

    /// A tensor argument, as `tensor(…)` would make it from numbers and lists;
    /// integer tensors become float32.
    public func floats(_ index: Int?, _ name: String) throws -> Tensor {
        let t = try tensor(index, name)
        return t.dtype.isFloatingPoint ? t : try engine { try t.cast(to: .float32) }
    }

    /// A tensor argument for computing with: a number, list of numbers or
    /// range becomes a Float64 tensor (so sums of whole numbers stay exact),
    /// and an integer tensor becomes Float64 too.
    func numeric(_ index: Int?, _ name: String) throws -> Tensor {
        let v = try required(index, name)
        switch v {
        case .number(let n): return Tensor(scalar: n, dtype: .float64)
        case .range(let a, let b):
            guard b - a <= Builtins.maxListLength else { throw error("the range \(a)..\(b) is too long for a tensor") }
            return try engine { try Tensor.arange(Double(a), Double(max(a, b)), dtype: .float64) }
        case .list(let items):
            if let numbers = Builtins.plainNumbers(items) { return try engine { try Tensor(float64: numbers, shape: [numbers.count]) } }
        default: break
        }
        let t = try tensor(index, name)
        return t.dtype.isFloatingPoint ? t : try engine { try t.cast(to: .float64) }
    }
}
