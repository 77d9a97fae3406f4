extension Tensor {
    /// Einstein summation over one or two operands, e.g. `"bpd,dh->bph"`.
    ///
    /// Each label is one lowercase or uppercase letter; a label in the output
    /// is kept, a label missing from the output is summed. Without `->` the
    /// output is the labels that appear once, in alphabetical order (NumPy's
    /// implicit mode). Repeated labels within one operand (traces, diagonals)
    /// are not supported. Two-operand contractions run as one batched matmul,
    /// so they are as fast as `matmul` and differentiable.
    ///
    /// ```swift
    /// try Tensor.einsum("ij,jk->ik", a, b)            // matmul
    /// try Tensor.einsum("bhqd,bhkd->bhqk", q, k)      // attention scores
    /// try Tensor.einsum("ii->", m)                    // error: repeated label
    /// ```
    public static func einsum(_ spec: String, _ operands: Tensor...) throws -> Tensor {
        try einsum(spec, operands)
    }

    /// `einsum` with the operands as an array.
    public static func einsum(_ spec: String, _ operands: [Tensor]) throws -> Tensor {
        let parsed = try EinsumSpec(spec, operandCount: operands.count)
        var sizes: [Character: Int] = [:]
        for (labels, t) in zip(parsed.inputs, operands) {
            guard labels.count == t.rank else {
                throw EngineError.shape("einsum", "'\(String(labels))' has \(labels.count) labels but the operand has shape \(formatShape(t.shape))")
            }
            for (label, size) in zip(labels, t.shape) {
                if let known = sizes[label], known != size {
                    throw EngineError.shape("einsum", "label '\(label)' is \(known) in one place and \(size) in another")
                }
                sizes[label] = size
            }
        }
        let output = parsed.output
        // The result can be far larger than the operands ("i,j->ij"): check it
        // before any work, so the error names einsum and the shape asked for.
        let widest: DType = operands.contains { $0.dtype == .float64 } ? .float64 : operands[0].dtype
        _ = try checkedCount(output.map { sizes[$0] ?? 1 }, dtype: widest, op: "einsum")
        if operands.count == 1 {
            let (t, labels) = try sumOut(operands[0], parsed.inputs[0], keeping: Set(output))
            return try t.permuted(output.map { labels.firstIndex(of: $0) ?? 0 })
        }
        // Sum labels that only one operand has and the output does not keep.
        let (a, la) = try sumOut(operands[0], parsed.inputs[0], keeping: Set(output).union(parsed.inputs[1]))
        let (b, lb) = try sumOut(operands[1], parsed.inputs[1], keeping: Set(output).union(parsed.inputs[0]))
        let batch = la.filter { lb.contains($0) && output.contains($0) }
        let contracted = la.filter { lb.contains($0) && !output.contains($0) }
        let left = la.filter { !lb.contains($0) }
        let right = lb.filter { !la.contains($0) }
        func size(_ labels: [Character]) -> Int { labels.reduce(1) { $0 * (sizes[$1] ?? 1) } }
        let am = try a.permuted((batch + left + contracted).compactMap { la.firstIndex(of: $0) })
            .reshaped([size(batch), size(left), size(contracted)])                   // [B, L, C]
        let bm = try b.permuted((batch + contracted + right).compactMap { lb.firstIndex(of: $0) })
            .reshaped([size(batch), size(contracted), size(right)])                  // [B, C, R]
        let product = try am.matmul(bm)                                              // [B, L, R]
        let produced = batch + left + right
        let expandedShape = produced.map { sizes[$0] ?? 1 }
        return try product.reshaped(expandedShape).permuted(output.map { produced.firstIndex(of: $0) ?? 0 })
    }

    /// Sums the axes of `t` whose labels are not in `keeping`.
    private static func sumOut(_ t: Tensor, _ labels: [Character], keeping: Set<Character>) throws -> (Tensor, [Character]) {
        let drop = labels.indices.filter { !keeping.contains(labels[$0]) }
        if drop.isEmpty { return (t, labels) }
        return (try t.sum(axes: drop), labels.enumerated().filter { !drop.contains($0.offset) }.map(\.element))
    }
}

/// A parsed einsum specification.
private struct EinsumSpec {
    let inputs: [[Character]]
    let output: [Character]

    init(_ spec: String, operandCount: Int) throws {
        let cleaned = spec.filter { !$0.isWhitespace }
        let parts = cleaned.split(separator: "->", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2 else { throw EngineError.argument("einsum", "'\(spec)' has more than one '->'") }
        let inputs: [[Character]] = parts[0].split(separator: ",", omittingEmptySubsequences: false).map { Array($0) }
        guard inputs.count == operandCount else {
            throw EngineError.argument("einsum", "'\(spec)' names \(inputs.count) operand(s) but \(operandCount) were given")
        }
        guard (1...2).contains(operandCount) else {
            throw EngineError.argument("einsum", "supports one or two operands, got \(operandCount)")
        }
        for labels in inputs {
            for c in labels where !(c.isASCII && c.isLetter) {
                throw EngineError.argument("einsum", "'\(c)' in '\(spec)' is not a letter label")
            }
            if Set(labels).count != labels.count {
                throw EngineError.argument("einsum", "repeated label in '\(String(labels))' (traces and diagonals are not supported)")
            }
        }
        let all = inputs.flatMap { $0 }
        let output: [Character]
        if parts.count == 2 {
            output = Array(parts[1])
            for c in output where !all.contains(c) {
                throw EngineError.argument("einsum", "output label '\(c)' does not appear in any input of '\(spec)'")
            }
            if Set(output).count != output.count {
                throw EngineError.argument("einsum", "repeated output label in '\(spec)'")
            }
        } else {
            output = Set(all).filter { c in all.filter { $0 == c }.count == 1 }.sorted()
        }
        self.inputs = inputs
        self.output = output
    }
}
