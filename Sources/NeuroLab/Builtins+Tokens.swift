import NeuroEngine
import NeuroLanguage
import NeuroModels

/// Token ids given directly to `run` and `logits`, as TransformerLens's
/// `model(tokens)` and `run_with_cache(tokens)` take them.
extension Builtins {
    /// An integer tensor, a float tensor of whole numbers (as `tensor([[1, 2,
    /// 7]])` makes), a list of whole numbers (one input) or a list of such
    /// lists of one length (a batch), as an int64 tensor [batch, pos]: one
    /// input gets a batch axis of 1, as in TransformerLens. `nil` for anything else — a dataset,
    /// text, a list of texts — which the caller handles as before. The model
    /// checks the ids against its vocabulary and context.
    static func tokenInput(_ value: Value?, _ args: CallArguments) throws -> Tensor? {
        guard let ids = try tokenIDs(value, args) else { return nil }
        return ids.rank == 1 ? try args.engine { try ids.unsqueezed(0) } : ids
    }

    private static func tokenIDs(_ value: Value?, _ args: CallArguments) throws -> Tensor? {
        guard let value else { return nil }
        switch value {
        case .tensor(let t):
            if !t.dtype.isFloatingPoint { return t }
            let values = t.toDoubles()
            if let bad = values.firstIndex(where: { $0 != $0.rounded() || Swift.abs($0) > 1e15 }) {
                throw args.error("token ids must be whole numbers; element \(bad) of the \(formatShape(t.shape)) tensor is \(Formatter.number(values[bad]))")
            }
            return try args.engine { try t.cast(to: .int64) }
        case .range(let a, let b):
            return try args.engine { try Tensor.arange(Double(a), Double(Swift.max(a, b)), dtype: .int64) }
        case .list(let items) where !items.isEmpty:
            if items.allSatisfy({ if case .number = $0 { return true }; return false }) {
                let ids = try wholeNumbers(items, row: nil, args)
                return try args.engine { try Tensor(ints: ids, shape: [ids.count]) }
            }
            guard items.allSatisfy({ if case .list = $0 { return true }; return false }) else { return nil }
            var rows: [[Int]] = []
            for (r, item) in items.enumerated() {
                guard case .list(let row) = item else { return nil }
                rows.append(try wholeNumbers(row, row: r, args))
                guard rows[r].count == rows[0].count else {
                    throw args.error("token rows must have one length: row 0 has \(rows[0].count) ids, row \(r) has \(rows[r].count)")
                }
            }
            return try args.engine { try Tensor(ints: rows.flatMap { $0 }, shape: [rows.count, rows[0].count]) }
        default:
            return nil
        }
    }

    private static func wholeNumbers(_ items: [Value], row: Int?, _ args: CallArguments) throws -> [Int] {
        try items.enumerated().map { i, item in
            guard case .number(let n) = item, n == n.rounded(), Swift.abs(n) < 1e15 else {
                let place = row.map { "[\($0), \(i)]" } ?? "\(i)"
                throw args.error("token id \(place) must be a whole number, got \(Formatter.display(item))")
            }
            return Int(n)
        }
    }
}
