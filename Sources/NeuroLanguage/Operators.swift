import NeuroEngine

/// One position of an index expression, evaluated.
enum IndexKey {
    case single(Value)
    case slice(Int?, Int?, Int?)
}

/// What the operators do on each kind of value.
public enum Operators {
    /// Whole numbers are exact up to this size (and print as whole numbers).
    static let largestWholeNumber = 999_999_999_999_999

    /// What is wrong with `n` as a whole number, to follow its name in a
    /// message ("must be a whole number, got 2.5", "is too large (at most
    /// 999999999999999), got 1e+15"); nil when it is one.
    static func wholeNumberProblem(_ n: Double) -> String? {
        if n.isNaN || (n.isFinite && n != n.rounded()) { return "must be a whole number, got \(Formatter.number(n))" }
        if n > Double(largestWholeNumber) { return "is too large (at most \(largestWholeNumber)), got \(Formatter.number(n))" }
        if n < -Double(largestWholeNumber) { return "is too small (at least -\(largestWholeNumber)), got \(Formatter.number(n))" }
        return nil
    }

    public static func integer(_ value: Value, what: String, at range: SourceRange) throws -> Int {
        var number: Double? = nil
        if case .number(let n) = value { number = n }
        if case .tensor(let t) = value, t.count == 1, let n = try? t.item() { number = n }
        if let n = number {
            if let problem = wholeNumberProblem(n) { throw RuntimeError("\(what) \(problem)", at: range) }
            return Int(n)
        }
        throw RuntimeError("\(what) must be a whole number, got \(Diagnostic.excerpt(Formatter.display(value)))", at: range)
    }

    // MARK: - Arithmetic

    static func unary(_ op: UnaryOperator, _ value: Value, at range: SourceRange) throws -> Value {
        switch (op, value) {
        case (.not, _): return .bool(!value.isTruthy)
        case (.negate, .number(let n)): return .number(-n)
        case (.negate, .tensor(let t)): return .tensor(try engine(at: range) { try t.negated() })
        default: throw RuntimeError("cannot negate a \(value.typeName)", at: range)
        }
    }

    static func binary(_ op: BinaryOperator, _ left: Value, _ right: Value, at range: SourceRange) throws -> Value {
        if case .object(let operand as OperandObject) = left, let result = try engine(at: range, { try operand.binary(op, right, selfOnLeft: true) }) {
            return result
        }
        if case .object(let operand as OperandObject) = right, let result = try engine(at: range, { try operand.binary(op, left, selfOnLeft: false) }) {
            return result
        }
        switch (left, right) {
        case (.number(let a), .number(let b)): return try numbers(op, a, b, at: range)
        case (.string(let a), .string(let b)):
            switch op {
            case .add:
                try checkJoinedLength(a.utf8.count + b.utf8.count, "string", at: range)
                return .string(a + b)
            case .equal: return .bool(a == b)
            case .notEqual: return .bool(a != b)
            case .less: return .bool(a < b)
            case .lessEqual: return .bool(a <= b)
            case .greater: return .bool(a > b)
            case .greaterEqual: return .bool(a >= b)
            default: break
            }
        case (.list(let a), .list(let b)) where op == .add:
            try checkJoinedLength(a.count + b.count, "list", at: range)
            return .list(a + b)
        case (.tensor, _), (_, .tensor):
            guard isNumeric(left) && isNumeric(right) else {
                if op == .equal || op == .notEqual { return .bool(op == .notEqual) }
                throw RuntimeError("cannot apply '\(op.rawValue)' to a \(left.typeName) and a \(right.typeName)", at: range)
            }
            let (a, b) = try engine(at: range) { (try left.asTensor(), try right.asTensor()) }
            return .tensor(try tensors(op, a, b, at: range))
        default: break
        }
        switch op {
        case .equal: return .bool(equal(left, right))
        case .notEqual: return .bool(!equal(left, right))
        default:
            var hint = ""
            if op == .add {
                switch (left, right) {
                case (.string, .string): break
                case (.string, _): hint = "; make it text first: … + str(x), or format(\"… {}\", x)"
                case (_, .string): hint = "; make it text first: str(x) + …, or format(\"{} …\", x)"
                case (.list, _): hint = "; to add an item to a list, write xs + [x] (or xs += [x])"
                default: break
                }
            }
            throw RuntimeError("cannot apply '\(op.rawValue)' to a \(left.typeName) and a \(right.typeName)\(hint)", at: range)
        }
    }

    /// `x = x + x` in a loop doubles: refuse before the join that cannot fit.
    private static func checkJoinedLength(_ length: Int, _ what: String, at range: SourceRange) throws {
        guard length <= Builtins.maxListLength else {
            throw RuntimeError("the joined \(what) would be \(length) long, more than the \(Builtins.maxListLength) a \(what) may hold", at: range)
        }
    }

    private static func isNumeric(_ v: Value) -> Bool {
        switch v {
        case .number, .tensor, .bool, .list, .range: return true
        default: return false
        }
    }

    private static func numbers(_ op: BinaryOperator, _ a: Double, _ b: Double, at range: SourceRange) throws -> Value {
        switch op {
        case .add: return .number(a + b)
        case .subtract: return .number(a - b)
        case .multiply: return .number(a * b)
        case .divide:
            guard b != 0 else { throw RuntimeError("division by zero", at: range) }
            return .number(a / b)
        case .modulo:
            guard b != 0 else { throw RuntimeError("modulo by zero", at: range) }
            return .number(floorMod(a, b))
        case .power: return .number(Foundation_pow(a, b))
        case .matmul: throw RuntimeError("'@' multiplies matrices; use '*' for numbers", at: range)
        case .equal: return .bool(a == b)
        case .notEqual: return .bool(a != b)
        case .less: return .bool(a < b)
        case .lessEqual: return .bool(a <= b)
        case .greater: return .bool(a > b)
        case .greaterEqual: return .bool(a >= b)
        }
    }

    private static func tensors(_ op: BinaryOperator, _ a: Tensor, _ b: Tensor, at range: SourceRange) throws -> Tensor {
        try engine(at: range) {
            let (x, y) = (a.dtype.isFloatingPoint ? a : try a.cast(to: .float32), b.dtype.isFloatingPoint ? b : try b.cast(to: .float32))
            switch op {
            case .add: return try x + y
            case .subtract: return try x - y
            case .multiply: return try x * y
            case .divide: return try x / y
            case .matmul: return try x.matmul(y)
            case .power:
                guard y.count == 1 else { throw EngineError(.argument, "'^' needs a number exponent; got a tensor of shape \(formatShape(y.shape))") }
                return try x.pow(y.item())
            case .modulo: return try x.remainder(y).cast(to: x.dtype)
            case .equal: return try x.equal(y)
            case .notEqual: return try x.notEqual(y)
            case .less: return try x.less(y)
            case .lessEqual: return try x.lessEqual(y)
            case .greater: return try x.greater(y)
            case .greaterEqual: return try x.greaterEqual(y)
            }
        }
    }

    /// `a == b`: lists and records item by item, walked with a stack of
    /// pairs rather than by recursion (a list nested a million deep compares
    /// without exhausting the stack).
    static func equal(_ a: Value, _ b: Value) -> Bool {
        var pending = [(a, b)]
        while let (a, b) = pending.popLast() {
            switch (a, b) {
            case (.number(let x), .number(let y)): if x != y { return false }
            case (.string(let x), .string(let y)): if x != y { return false }
            case (.bool(let x), .bool(let y)): if x != y { return false }
            case (.none, .none): continue
            case (.range(let a1, let b1), .range(let a2, let b2)): if a1 != a2 || b1 != b2 { return false }
            case (.list(let x), .list(let y)):
                guard x.count == y.count else { return false }
                pending += zip(x, y).reversed()   // compared first to last
            case (.record(let x), .record(let y)):
                guard x.keys == y.keys else { return false }
                pending += x.keys.reversed().map { (x[$0] ?? .none, y[$0] ?? .none) }
            case (.object(let x), .object(let y)): if x !== y { return false }
            case (.function(let x), .function(let y)): if x !== y { return false }
            default: return false
            }
        }
        return true
    }

    /// Runs engine code, turning its errors into runtime errors at `range`
    /// (and placing runtime errors that have no place yet there too).
    static func engine<T>(at range: SourceRange? = nil, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as EngineError {
            throw RuntimeError(error.message, at: range)
        } catch var error as RuntimeError where error.range == nil {
            error.range = range
            throw error
        }
    }

    // MARK: - Indexing

    static func index(_ container: Value, _ keys: [IndexKey], at range: SourceRange) throws -> Value {
        switch container {
        case .tensor(let t): return .tensor(try tensorIndex(t, keys, at: range))
        case .list(let items):
            return try sequenceIndex(items.count, keys, at: range, single: { items[$0] }, slice: { .list($0.map { items[$0] }) })
        case .string(let s):
            let chars = Array(s)
            return try sequenceIndex(chars.count, keys, at: range, single: { .string(String(chars[$0])) },
                                     slice: { .string(String($0.map { chars[$0] })) })
        case .range(let a, let b):
            // Computed, not listed: a range may hold 10^15 numbers.
            return try sequenceIndex(max(0, b - a), keys, at: range, single: { .number(Double(a + $0)) },
                                     slice: { .list($0.map { .number(Double(a + $0)) }) })
        case .record(let r):
            guard keys.count == 1, case .single(.string(let key)) = keys[0] else {
                throw RuntimeError("a record is indexed by one field name, like r[\"lr\"]", at: range)
            }
            guard let v = r[key] else {
                let hint = Suggest.closest(key, among: r.keys).map { "; did you mean '\($0)'?" } ?? ""
                throw RuntimeError("record has no field '\(key)'\(hint)", at: range)
            }
            return v
        case .object(let object):
            guard let indexable = object as? IndexableObject else {
                throw RuntimeError("a \(object.typeName) cannot be indexed", at: range)
            }
            let values = try keys.map { key -> Value in
                guard case .single(let v) = key else { throw RuntimeError("a \(object.typeName) cannot be sliced", at: range) }
                return v
            }
            do {
                return try indexable.index(values)
            } catch let error as EngineError {
                throw RuntimeError(error.message, at: range)
            }
        default:
            throw RuntimeError("a \(container.typeName) cannot be indexed", at: range)
        }
    }

    private static func sequenceIndex(_ count: Int, _ keys: [IndexKey], at range: SourceRange,
                                      single: (Int) -> Value, slice: ([Int]) -> Value) throws -> Value {
        guard keys.count == 1 else { throw RuntimeError("a list takes one index, got \(keys.count)", at: range) }
        switch keys[0] {
        case .single(let v):
            let i = try integer(v, what: "index", at: range)
            let resolved = i < 0 ? i + count : i
            guard resolved >= 0 && resolved < count else {
                throw RuntimeError("index \(i) is out of range for length \(count)", at: range)
            }
            return single(resolved)
        case .slice(let a, let b, let step):
            let s = step ?? 1
            guard s > 0 else { throw RuntimeError("slice step must be positive, got \(s)", at: range) }
            func clamp(_ v: Int?, _ fallback: Int) -> Int {
                guard var v else { return fallback }
                if v < 0 { v += count }
                return min(max(v, 0), count)
            }
            let lo = clamp(a, 0), hi = clamp(b, count)
            let length = lo < hi ? (hi - lo + s - 1) / s : 0
            guard length <= Builtins.maxListLength else {
                throw RuntimeError("slice of \(length) items is too long to make a list (at most \(Builtins.maxListLength))", at: range)
            }
            return slice(Array(stride(from: lo, to: hi, by: s)))
        }
    }

    private static func tensorIndex(_ t: Tensor, _ keys: [IndexKey], at range: SourceRange) throws -> Tensor {
        guard keys.count <= t.rank else {
            throw RuntimeError("too many indices (\(keys.count)) for a tensor of shape \(formatShape(t.shape))", at: range)
        }
        return try engine(at: range) {
            var result = t
            var axis = 0
            for (position, key) in keys.enumerated() {
                switch key {
                case .single(.tensor(let picks)) where picks.rank >= 1:
                    result = try result.indexSelect(axis: axis, indices: picks.dtype.isFloatingPoint ? picks.cast(to: .int64) : picks)
                    axis += picks.rank
                case .single(.list(let items)):
                    let picks = try items.map { try integer($0, what: "index", at: range) }
                    result = try result.indexSelect(axis: axis, indices: Tensor(ints: picks, shape: [picks.count]))
                    axis += 1
                case .single(let v):
                    let i = try integer(v, what: "index", at: range)
                    // Checked here to name the dimension as the user counts it, in the original shape.
                    if axis < result.rank, !(-result.shape[axis]..<result.shape[axis]).contains(i) {
                        throw RuntimeError("index \(i) is out of range for dimension \(position) (size \(result.shape[axis])) of shape \(formatShape(t.shape))", at: range)
                    }
                    result = try result.select(axis: axis, index: i)
                case .slice(let a, let b, let step):
                    result = try result.slice(axis: axis, start: a, end: b, step: step ?? 1)
                    axis += 1
                }
            }
            return result
        }
    }

    // MARK: - Assignment

    /// One step from a variable down to the place an assignment changes:
    /// `[key]` or `.name`, with the place of the target up to that step (for errors).
    enum AssignStep {
        case index([IndexKey], SourceRange)
        case field(String, SourceRange)
    }

    /// Assigns `value` at the end of `steps` inside `container`, in place:
    /// each list and record on the way is taken out of its holder while it is
    /// changed, so one that nothing else holds is not copied (appending to a
    /// list of a million items is as cheap as to an empty one). With
    /// `compound`, `value` is combined with what is there (`xs[i] += 1`).
    /// Nothing is changed when it throws.
    static func assign(into container: inout Value, _ steps: ArraySlice<AssignStep>, _ value: Value,
                       compound: BinaryOperator?, at range: SourceRange) throws {
        guard let step = steps.first else {
            if let op = compound { try combine(op, &container, value, at: range) } else { container = value }
            return
        }
        let rest = steps.dropFirst()
        // Each payload is bound straight from `container` (no copy of the
        // whole value lives on), then `container` lets go of it.
        switch step {
        case .index(let keys, let place):
            if case .tensor(let t) = container {
                try assign(intoTensor: t, keys, &container, rest, value, compound: compound, place: place, at: range)
                return
            }
            guard keys.count == 1, case .single(let key) = keys[0] else {
                throw RuntimeError("a \(container.typeName) takes one index in an assignment, like x[i] = v; several indices and slices assign into a tensor", at: place)
            }
            if case .list(var items) = container {
                let i = try integer(key, what: "index", at: place)
                let resolved = i < 0 ? i + items.count : i
                guard resolved >= 0 && resolved < items.count else {
                    throw RuntimeError("index \(i) is out of range for length \(items.count)", at: place)
                }
                container = .none   // now `items` is the only reference
                defer { container = .list(items) }
                try assign(into: &items[resolved], rest, value, compound: compound, at: range)
            } else if case .record = container {
                guard case .string(let name) = key else { throw RuntimeError("record keys are strings", at: place) }
                try assign(field: name, of: &container, rest, value, compound: compound, place: place, at: range)
            } else {
                throw RuntimeError("cannot assign into a \(container.typeName) by index", at: place)
            }
        case .field(let name, let place):
            guard case .record = container else { throw RuntimeError("only record fields can be assigned", at: place) }
            try assign(field: name, of: &container, rest, value, compound: compound, place: place, at: range)
        }
    }

    /// `assign(into:)` for a step into a tensor: `x[0, 1:3] = 5`, `x[i] += v`.
    /// Functional underneath: the indexed region is read, changed, and a new
    /// tensor with the region replaced takes the old one's place (a tensor
    /// another variable holds is not changed). The value is broadcast to the
    /// region's shape.
    private static func assign(intoTensor t: Tensor, _ keys: [IndexKey], _ container: inout Value, _ rest: ArraySlice<AssignStep>,
                               _ value: Value, compound: BinaryOperator?, place: SourceRange, at range: SourceRange) throws {
        let region = try tensorIndex(t, keys, at: place)
        var part: Value = .tensor(region)
        try assign(into: &part, rest, value, compound: compound, at: range)
        let replacement: Tensor
        switch part {
        case .tensor, .number, .bool, .list, .range: replacement = try engine(at: range) { try part.asTensor() }
        default:
            throw RuntimeError("a tensor's elements take numbers or a tensor, not a \(part.typeName)", at: range)
        }
        // Where each element of the region sits in `t`: for one element, from its
        // indices; otherwise index a tensor of flat positions the same way.
        let positions = try engine(at: place) { () throws -> Tensor in
            if let flat = elementPosition(keys, shape: t.shape) { return try Tensor(ints: [flat], shape: []) }
            return try tensorIndex(Tensor.arange(0, Double(t.count), dtype: .int64).reshaped(t.shape), keys, at: place)
        }
        let changed = try engine(at: range) { () throws -> Tensor in
            guard (try? Tensor.broadcastShapes(replacement.shape, positions.shape, op: "assign")) == positions.shape else {
                throw RuntimeError("cannot assign a value of shape \(formatShape(replacement.shape)) to a region of shape \(formatShape(positions.shape))", at: range)
            }
            return try t.replacing(flatPositions: positions.toInts(), with: replacement.expanded(to: positions.shape))
        }
        container = .tensor(changed)
    }

    /// The flat position of `t[i, j, …]` when every key is a whole number in
    /// range and there is one per dimension (`x[2, 3] = v` in a loop costs no
    /// index tensor); nil otherwise.
    private static func elementPosition(_ keys: [IndexKey], shape: [Int]) -> Int? {
        guard keys.count == shape.count else { return nil }
        var flat = 0
        for (key, size) in zip(keys, shape) {
            guard case .single(.number(let n)) = key, n == n.rounded(), n >= Double(-size), n < Double(size) else { return nil }
            flat = flat * size + (n < 0 ? Int(n) + size : Int(n))
        }
        return flat
    }

    /// `assign(into:)` for a step into a field of a record.
    private static func assign(field name: String, of container: inout Value, _ rest: ArraySlice<AssignStep>, _ value: Value,
                               compound: BinaryOperator?, place: SourceRange, at range: SourceRange) throws {
        guard case .record(var record) = container else { return }
        guard record[name] != nil else {
            // A new field is made only by assigning it, not on the way to one or by `+=`.
            guard rest.isEmpty && compound == nil else {
                let hint = Suggest.closest(name, among: record.keys).map { "; did you mean '\($0)'?" } ?? ""
                throw RuntimeError("record has no field '\(Diagnostic.excerpt(name))'\(hint)", at: place)
            }
            container = .none
            record[name] = value
            container = .record(record)
            return
        }
        container = .none
        defer { container = .record(record) }
        try record.modifyField(name) { try assign(into: &$0, rest, value, compound: compound, at: range) }
    }

    /// `left op= right` in place: `+` appends to a list or a string that
    /// nothing else holds without copying it; other operators as `binary`.
    static func combine(_ op: BinaryOperator, _ left: inout Value, _ right: Value, at range: SourceRange) throws {
        if op == .add, case .list(let tail) = right, case .list(var items) = left {
            try checkJoinedLength(items.count + tail.count, "list", at: range)
            left = .none
            items.append(contentsOf: tail)
            left = .list(items)
        } else if op == .add, case .string(let tail) = right, case .string(var text) = left {
            try checkJoinedLength(text.utf8.count + tail.utf8.count, "string", at: range)
            left = .none
            text += tail
            left = .string(text)
        } else {
            left = try binary(op, left, right, at: range)
        }
    }

    // MARK: - Fields

    /// What to write instead of a method from Python or NumPy that values here do not have.
    static func habit(_ value: Value, _ name: String) -> String? {
        switch (value, name) {
        case (.list, "append"): return "write xs += [item] (or xs + [item] for a new list)"
        case (.list, "extend"): return "write xs += other"
        case (.list, "index"): return "indices come from enumerate(xs); contains(xs, item) tells whether it is there"
        case (.list, "sort"), (.list, "reverse"): return "write \(name)(xs) (it returns a new list)"
        case (.list, "pop"), (.list, "remove"), (.list, "insert"): return "lists are values: make the new one with slices, like xs[0:i] + xs[i + 1:]"
        case (.record, "keys"), (.record, "values"), (.record, "items"): return "write \(name)(r)"
        case (.record, "get"): return "write r[\"name\"], or contains(r, \"name\") to ask first"
        case (.string, "format"): return "write format(template, x, …)"
        case (.string, "join"): return "write join(list, sep: text)"
        case (.string, "split"): return "write split(text, sep)"
        case (.string, "upper"), (.string, "lower"), (.string, "strip"): return "strings have no methods; the string built-ins are in docs/LANGUAGE.md section 7"
        case (.tensor, "numpy"), (.tensor, "tolist"): return "write list(t) for nested lists"
        case (.tensor, "size"): return "write t.shape"
        case (.tensor, "detach"), (.tensor, "cpu"), (.tensor, "clone"): return "tensors are values here: use t itself"
        default: return nil
        }
    }

    static func field(_ value: Value, _ name: String, interpreter: Interpreter, at range: SourceRange) throws -> Value {
        switch value {
        case .record(let r):
            if let v = r[name] { return v }
            let hint = Suggest.closest(name, among: r.keys).map { "; did you mean '\($0)'?" } ?? habit(value, name).map { "; \($0)" } ?? ""
            throw RuntimeError("record has no field '\(name)'\(hint)", at: range)
        case .object(let object):
            do {
                if let v = try object.field(name) { return v }
            } catch let error as EngineError {
                throw RuntimeError(error.message, at: range)
            }
            let hint = Suggest.closest(name, among: object.fieldNames).map { "; did you mean '\($0)'?" } ?? ""
            throw RuntimeError("\(object.typeName) has no field '\(name)'\(hint)", at: range)
        default:
            if let member = try Methods.member(value, name, interpreter: interpreter) { return member }
            let names = Methods.names(for: value)
            let hint = habit(value, name).map { "; \($0)" } ?? Suggest.closest(name, among: names).map { "; did you mean '\($0)'?" } ?? ""
            throw RuntimeError("a \(value.typeName) has no field '\(name)'\(hint)", at: range)
        }
    }
}

/// Objects that answer `x[key]` (a cache by hook name, a result by label).
public protocol IndexableObject: NativeObject {
    func index(_ keys: [Value]) throws -> Value
}

/// An object that takes part in arithmetic (a factored matrix in `@`): the
/// result of `self op other` (or `other op self` when `selfOnLeft` is
/// false), or nil when it has no meaning, for the usual error.
public protocol OperandObject: NativeObject {
    func binary(_ op: BinaryOperator, _ other: Value, selfOnLeft: Bool) throws -> Value?
}

import Foundation
private func Foundation_pow(_ a: Double, _ b: Double) -> Double { pow(a, b) }
