/// Source text for an expression, for messages and printed results
/// (`corrupt(a + 1)`); equal to what was written up to spacing.
public func render(_ expr: Expr) -> String {
    switch expr.kind {
    case .number(let n): return Formatter.number(n)
    case .string(let s): return "\"\(s)\""
    case .bool(let b): return b ? "true" : "false"
    case .none: return "none"
    case .variable(let name): return name
    case .list(let items): return "[" + items.map(render).joined(separator: ", ") + "]"
    case .record(let entries): return "{" + entries.map { "\($0.key): \(render($0.value))" }.joined(separator: ", ") + "}"
    case .unary(let op, let e): return op == .not ? "not \(render(e))" : "-\(render(e))"
    case .binary(let op, let a, let b):
        // Parenthesise operands that bind more loosely than `op` (or as loosely, on the right).
        let level = precedence(of: op)
        let left = binding(a).map { $0 < level } ?? false ? "(\(render(a)))" : render(a)
        let right = binding(b).map { op == .power ? $0 < level : $0 <= level } ?? false ? "(\(render(b)))" : render(b)
        return "\(left) \(op.rawValue) \(right)"
    case .logical(let isAnd, let a, let b): return "\(render(a)) \(isAnd ? "and" : "or") \(render(b))"
    case .range(let a, let b): return "\(render(a))..\(render(b))"
    case .call(let f, let arguments):
        return render(f) + "(" + arguments.map { ($0.label.map { "\($0): " } ?? "") + render($0.value) }.joined(separator: ", ") + ")"
    case .index(let e, let items):
        let parts = items.map { item -> String in
            switch item {
            case .single(let i): return render(i)
            case .slice(let a, let b, let c):
                return (a.map(render) ?? "") + ":" + (b.map(render) ?? "") + (c.map { ":" + render($0) } ?? "")
            }
        }
        return render(e) + "[" + parts.joined(separator: ", ") + "]"
    case .field(let e, let name): return "\(render(e)).\(name)"
    case .function(let decl): return "fn(\(decl.parameters.map(\.name).joined(separator: ", "))) { … }"
    case .site(let name, let layer): return name + (layer.map { " " + render($0) } ?? "")
    }
}

/// How tightly a binary operator binds (the parser's `Precedence`).
private func precedence(of op: BinaryOperator) -> Precedence {
    switch op {
    case .add, .subtract: return .term
    case .multiply, .divide, .modulo, .matmul: return .factor
    case .power: return .power
    default: return .comparison
    }
}

/// The binding strength of an operator expression, or nil for operands that never need parentheses.
private func binding(_ expr: Expr) -> Precedence? {
    switch expr.kind {
    case .binary(let op, _, _): return precedence(of: op)
    case .logical(let isAnd, _, _): return isAnd ? .and : .or
    case .range: return .range
    case .unary(.not, _): return .not
    default: return nil
    }
}
