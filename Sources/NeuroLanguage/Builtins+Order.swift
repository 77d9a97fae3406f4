import Foundation

/// Ordering by a key: `sort(xs, by: f)`, `max(xs, by: f)`, `min(xs, by: f)`.
extension Builtins {
    /// The items of `x` (argument 0) with the key `by` gives each, when `by:` is given.
    static func keyed(_ args: CallArguments) throws -> (items: [Value], keys: [Value])? {
        guard let by = args.value(nil, "by") else { return nil }
        guard case .function(let f) = by else {
            throw args.error("'by' must be a function of an item, like by: fn(r) { r.loss }, got \(by.typeName)")
        }
        let values = try items(args, 0, "x")
        let keys = try values.map { try args.interpreter.apply(f, positional: [$0], range: args.range) }
        return (values, keys)
    }

    /// The positions of `keys` in ascending (or descending) order, stable:
    /// items with equal keys keep their order. Keys are numbers, strings, or
    /// lists of them compared item by item (`by: fn(r) { [r.layer, r.head] }`);
    /// a NaN key sorts last either way, as in `sort`.
    static func order(_ keys: [Value], descending: Bool, _ args: CallArguments) throws -> [Int] {
        func isNaN(_ v: Value) -> Bool { if case .number(let n) = v { return n.isNaN }; return false }
        var failure: Error?
        let positions = keys.indices.filter { !isNaN(keys[$0]) }.sorted { i, j in
            guard failure == nil else { return false }
            do {
                let c = try compareKeys(keys[i], keys[j], args)
                return descending ? c == .orderedDescending : c == .orderedAscending
            } catch {
                failure = error
                return false
            }
        }
        if let failure { throw failure }
        // `sorted` is not promised stable: ties go back to their original order. NaN keys go last, in order.
        return stableTies(positions, keys, args) + keys.indices.filter { isNaN(keys[$0]) }
    }

    /// The position of the largest (or smallest) key; the first of equals. NaN keys lose.
    static func extremePosition(_ keys: [Value], largest: Bool, _ args: CallArguments) throws -> Int? {
        var best: Int?
        for i in keys.indices {
            if case .number(let n) = keys[i], n.isNaN { continue }
            guard let b = best else { best = i; continue }
            if try compareKeys(keys[i], keys[b], args) == (largest ? .orderedDescending : .orderedAscending) { best = i }
        }
        return best ?? (keys.isEmpty ? nil : 0)
    }

    /// A total order: NaN equals NaN and is greater than every number (so a
    /// NaN inside a list key sorts it after the others); an error for keys of
    /// different kinds.
    private static func compareKeys(_ a: Value, _ b: Value, _ args: CallArguments) throws -> ComparisonResult {
        switch (a, b) {
        case (.number(let x), .number(let y)):
            if x.isNaN || y.isNaN { return x.isNaN == y.isNaN ? .orderedSame : (x.isNaN ? .orderedDescending : .orderedAscending) }
            return x < y ? .orderedAscending : x > y ? .orderedDescending : .orderedSame
        case (.bool(let x), .bool(let y)):
            return x == y ? .orderedSame : (x ? .orderedDescending : .orderedAscending)
        case (.string(let x), .string(let y)):
            return x < y ? .orderedAscending : x > y ? .orderedDescending : .orderedSame
        case (.list(let xs), .list(let ys)):
            for (x, y) in zip(xs, ys) {
                let c = try compareKeys(x, y, args)
                if c != .orderedSame { return c }
            }
            return xs.count < ys.count ? .orderedAscending : xs.count > ys.count ? .orderedDescending : .orderedSame
        default:
            throw args.error("'by' must give every item a key of the same kind (numbers, strings or lists of them), got a \(a.typeName) and a \(b.typeName)")
        }
    }

    /// Puts each run of equal keys in `positions` back in ascending position order.
    private static func stableTies(_ positions: [Int], _ keys: [Value], _ args: CallArguments) -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(positions.count)
        var run: [Int] = []
        for p in positions {
            if let last = run.last, (try? compareKeys(keys[last], keys[p], args)) != .orderedSame {
                result += run.sorted()
                run = []
            }
            run.append(p)
        }
        return result + run.sorted()
    }
}
