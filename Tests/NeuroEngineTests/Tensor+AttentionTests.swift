import XCTest
@testable import NeuroEngine

/// The fused attention (`Tensor.attention`) against the same attention made
/// of products and softmax, forward and backward, causal and not, for all
/// queries and for the last ones only.
final class TensorAttentionTests: XCTestCase {
    /// softmax(scale·q·kᵀ, masked)·v from the separate operations, z [batch, q_pos, head, d_head].
    private func unfused(_ q: Tensor, _ k: Tensor, _ v: Tensor, scale: Double, causal: Bool) throws -> (z: Tensor, scores: Tensor, pattern: Tensor) {
        let (nq, p) = (q.shape[1], k.shape[1])
        var scores = try q.permuted([0, 2, 1, 3]).matmul(k.permuted([0, 2, 3, 1])).scaled(scale)     // [batch, head, q_pos, pos]
        if causal {
            var allowed = [Float](repeating: 0, count: nq * p)
            for i in 0..<nq { for j in 0..<p where j <= p - nq + i { allowed[i * p + j] = 1 } }
            scores = try Tensor.where(Tensor(allowed, shape: [nq, p]), scores, Tensor(scalar: -Double.infinity))
        }
        let pattern = try scores.softmax(axis: -1)
        return (try pattern.matmul(v.permuted([0, 2, 1, 3])).permuted([0, 2, 1, 3]), scores, pattern)
    }

    private func assertClose(_ a: Tensor, _ b: Tensor, _ tolerance: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, what, file: file, line: line)
        for (x, y) in zip(a.toDoubles(), b.toDoubles()) where !(x == y) {
            XCTAssertEqual(x, y, accuracy: tolerance * max(1, abs(y)), what, file: file, line: line)
        }
    }

    func testFusedMatchesSeparateOperationsForwardAndBackward() throws {
        var rng = RandomGenerator(seed: 7)
        for (causal, queries) in [(true, 4), (true, 1), (false, 4), (false, 2)] {
            let (b, p, h, e) = (3, 4, 2, 12)
            let q0 = try Tensor.randn([b, queries, h, e], using: &rng), k0 = try Tensor.randn([b, p, h, e], using: &rng)
            let v0 = try Tensor.randn([b, p, h, e], using: &rng), g = try Tensor.randn([b, queries, h, e], using: &rng)
            let scale = 1 / Double(e).squareRoot()
            let leaves = { [q0, k0, v0].map { $0.clone().detached() } }

            let (q1, k1, v1) = { let l = leaves(); return (l[0], l[1], l[2]) }()
            for t in [q1, k1, v1] { try t.requiringGrad() }
            let fused = try Tensor.attention(q: q1, k: k1, v: v1, scale: scale, causal: causal, keepPattern: true)
            try fused.z.backward(seed: g)

            let (q2, k2, v2) = { let l = leaves(); return (l[0], l[1], l[2]) }()
            for t in [q2, k2, v2] { try t.requiringGrad() }
            let reference = try unfused(q2, k2, v2, scale: scale, causal: causal)
            try reference.z.backward(seed: g)

            let label = "causal \(causal), \(queries) queries"
            assertClose(fused.z, reference.z, 1e-5, "z, \(label)")
            if let scores = fused.scores { assertClose(scores, reference.scores, 1e-5, "scores, \(label)") } else { XCTFail("no scores") }
            if let pattern = fused.pattern { assertClose(pattern, reference.pattern, 1e-5, "pattern, \(label)") } else { XCTFail("no pattern") }
            for (name, a, r) in [("q", q1, q2), ("k", k1, k2), ("v", v1, v2)] {
                guard let ga = a.grad, let gr = r.grad else { XCTFail("\(name) has no gradient, \(label)"); continue }
                assertClose(ga, gr, 1e-5, "d\(name), \(label)")
            }
        }
    }

    func testCausalMaskHidesLaterKeys() throws {
        // One query at position 0 of 3 sees only key 0: z is v's first row exactly.
        var rng = RandomGenerator(seed: 3)
        let q = try Tensor.randn([1, 3, 1, 4], using: &rng), k = try Tensor.randn([1, 3, 1, 4], using: &rng)
        let v = try Tensor.randn([1, 3, 1, 4], using: &rng)
        let out = try Tensor.attention(q: q, k: k, v: v, scale: 0.5, causal: true, keepPattern: true)
        XCTAssertEqual(try out.z.select(axis: 1, index: 0).toDoubles(), try v.select(axis: 1, index: 0).toDoubles())
        XCTAssertEqual(out.pattern?.toDoubles().prefix(3).map { $0 }, [1, 0, 0])
        XCTAssertEqual(out.scores?.toDoubles()[1], -.infinity)
    }

    func testRefusesWrongShapesAndDtypes() throws {
        let q = try Tensor.zeros([2, 1, 2, 4]), k = try Tensor.zeros([2, 3, 2, 4])
        XCTAssertThrowsError(try Tensor.attention(q: q, k: k, v: Tensor.zeros([2, 3, 3, 4]), scale: 1, causal: true))
        XCTAssertThrowsError(try Tensor.attention(q: q, k: k, v: Tensor.zeros([2, 2, 2, 4]), scale: 1, causal: true))
        XCTAssertThrowsError(try Tensor.attention(q: Tensor.zeros([2, 4, 2, 4]), k: k, v: k, scale: 1, causal: true))
        XCTAssertThrowsError(try Tensor.attention(q: q.cast(to: .float64), k: k, v: k, scale: 1, causal: true))
    }

    func testWiderValuesSummedOverHeadsReadInPlace() throws {
        // Values of width 45 (keys 4), given as a permuted view of a
        // [head, rows, d_v] tensor; heads summed. Against the separate
        // operations on gathered, contiguous values, summed afterwards.
        var rng = RandomGenerator(seed: 11)
        let (b, p, h, e, ev) = (5, 3, 3, 4, 45)                                 // d_v: 32 in registers, 13 one by one
        let kTable = try Tensor.randn([6, h, e], using: &rng), headMajor = try Tensor.randn([h, 6, ev], using: &rng)
        let q = try Tensor.randn([b, 1, h, e], using: &rng), g = try Tensor.randn([b, 1, ev], using: &rng)
        let rows = try Tensor(ints: [0, 1, 5, 2, 1, 5, 3, 4, 5, 0, 0, 5, 4, 2, 5], shape: [b, p])
        let (k1, v1, k2, v2) = (kTable.clone().detached(), headMajor.clone().detached(), kTable.clone().detached(), headMajor.clone().detached())
        let (q1, q2) = (q.clone().detached(), q.clone().detached())
        for t in [q1, k1, v1, q2, k2, v2] { try t.requiringGrad() }
        let values = try v1.permuted([1, 0, 2])                                                    // [rows, head, d_v], not contiguous
        XCTAssertFalse(values.isContiguous)
        let summed = try Tensor.attention(q: q1, k: k1, v: values, scale: 0.4, causal: true, keyRows: rows, headsSummed: true)
        XCTAssertEqual(summed.z.shape, [b, 1, ev])
        try summed.z.backward(seed: g)

        let gatheredV = try v2.permuted([1, 0, 2]).contiguous().indexSelect(axis: 0, indices: rows)        // [batch, pos, head, d_v]
        let reference = try unfused(q2, k2.indexSelect(axis: 0, indices: rows), gatheredV, scale: 0.4, causal: true)
        let referenceSum = try reference.z.sum(axes: [2])                                         // [batch, 1, d_v]
        try referenceSum.backward(seed: g)
        assertClose(summed.z, referenceSum, 1e-5, "z summed over heads")
        for (name, a, r) in [("q", q1, q2), ("k", k1, k2), ("v", v1, v2)] {
            guard let ga = a.grad, let gr = r.grad else { XCTFail("\(name) has no gradient"); continue }
            assertClose(ga, gr, 1e-5, "d\(name)")
        }

        // Not summed: one output per head, each the reference's.
        let perHead = try Tensor.attention(q: q, k: kTable, v: headMajor.permuted([1, 0, 2]), scale: 0.4, causal: true, keyRows: rows)
        assertClose(perHead.z, reference.z, 1e-5, "z per head")
    }

    func testMixHeadsReusesAPatternAndStartsFromBaseRows() throws {
        // The pattern of one attention mixes another table of values: every
        // query (two of three positions, causal, and all three bidirectional)
        // against the attention run on those values, plus its base row.
        var rng = RandomGenerator(seed: 12)
        let (b, p, h, e, ev) = (5, 3, 3, 4, 45)                                 // d_v: 32 in registers, 13 one by one
        let kTable = try Tensor.randn([6, h, e], using: &rng), headMajor = try Tensor.randn([h, 6, ev], using: &rng)
        let base = try Tensor.randn([4, ev], using: &rng)
        let rows = try Tensor(ints: [0, 1, 5, 2, 1, 5, 3, 4, 5, 0, 0, 5, 4, 2, 5], shape: [b, p])
        let values = try headMajor.permuted([1, 0, 2])                                              // [rows, head, d_v], read in place
        for (causal, nq) in [(true, 2), (false, 3)] {
            let q = try Tensor.randn([b, nq, h, e], using: &rng)
            let baseRows = try Tensor(ints: (0..<b * nq).map { ($0 * 3) % 4 }, shape: [b, nq])
            let pattern = try Tensor.attention(q: q, k: kTable, v: kTable, scale: 0.4, causal: causal, keepPattern: true, keyRows: rows).pattern!
            let direct = try Tensor.attention(q: q, k: kTable, v: values, scale: 0.4, causal: causal, keyRows: rows, headsSummed: true).z
            let plain = try Tensor.mixHeads(pattern: pattern, values: values, keyRows: rows, causal: causal)
            assertClose(plain.z, direct, 1e-5, "no base")
            XCTAssertNil(plain.activated)
            // Each activation applied in the same pass: the same numbers as the tensor's own.
            for (activation, reference) in [(Pointwise.relu, { (x: Tensor) in try x.relu() }), (.gelu, { try $0.gelu() }), (.geluNew, { try $0.geluNew() })] {
                let mixed = try Tensor.mixHeads(pattern: pattern, values: values, keyRows: rows, causal: causal, base: base, baseRows: baseRows,
                                                activation: activation)
                XCTAssertEqual(mixed.z.shape, [b, nq, ev])
                assertClose(mixed.z, try direct + base.indexSelect(axis: 0, indices: baseRows), 1e-5, "causal \(causal)")
                XCTAssertEqual(try XCTUnwrap(mixed.activated).toDoubles(), try reference(mixed.z).toDoubles(), "\(activation)")
            }
        }
        // Values only, and shapes that do not fit are named.
        let pattern = try Tensor.ones([b, h, 1, p]).requiringGrad()
        XCTAssertThrowsError(try Tensor.mixHeads(pattern: pattern, values: values, keyRows: rows, causal: true)) { error in
            XCTAssertTrue("\(error)".contains("without gradients"), "\(error)")
        }
        XCTAssertThrowsError(try Tensor.mixHeads(pattern: pattern.detached(), values: values, keyRows: rows, causal: true,
                                                 base: base, baseRows: Tensor(ints: [0], shape: [1, 1]))) { error in
            XCTAssertTrue("\(error)".contains("must be [n, 45] and [5, 1]"), "\(error)")
        }
        XCTAssertThrowsError(try Tensor.mixHeads(pattern: Tensor.ones([b, 2, 1, p]), values: values, keyRows: rows, causal: true)) { error in
            XCTAssertTrue("\(error)".contains("[batch, head, q_pos, pos]"), "\(error)")
        }
    }

    func testByHeadMatchesSeparateOperations() throws {
        // Long sequences one (example, head) at a time against the product,
        // mask, softmax and product: causal with fewer queries than keys, and
        // bidirectional with padding; 70 keys and 7 queries (not multiples
        // of the kernels' 16 keys and 4 queries), d_head 32 and 45 (a tail
        // beyond the 32 floats in registers); q, k, v as strided views.
        var rng = RandomGenerator(seed: 13)
        for (causal, nq, e) in [(true, 7, 32), (true, 70, 45), (false, 70, 32), (false, 7, 45)] {
            let (b, p, h) = (3, 70, 2)
            let qkv = try Tensor.randn([b, p, 3, h, e], using: &rng).scaled(2)
            let (q, k, v) = (try qkv.select(axis: 2, index: 0).slice(axis: 1, start: p - nq), try qkv.select(axis: 2, index: 1),
                             try qkv.select(axis: 2, index: 2))
            XCTAssertFalse(k.isContiguous)
            let reference = try unfused(q, k, v, scale: 0.3, causal: causal).z
            assertClose(try GradMode.withNoGrad { try Tensor.attentionByHead(q: q, k: k, v: v, scale: 0.3, causal: causal) },
                        reference, 1e-5, "causal \(causal), \(nq) queries, d_head \(e)")
            guard !causal else { continue }
            // Padding: the last 9 keys of example 1, every key of example 2 (its queries get a zero pattern).
            var mask = [Int](repeating: 1, count: b * p)
            for j in (p - 9)..<p { mask[p + j] = 0 }
            for j in 0..<p { mask[2 * p + j] = 0 }
            let keep = try Tensor(mask.map(Float.init), shape: [b, 1, 1, p])
            let scores = try Tensor.where(keep, q.permuted([0, 2, 1, 3]).matmul(k.permuted([0, 2, 3, 1])).scaled(0.3), Tensor(scalar: -Double.infinity))
            let softmaxed = try scores.softmax(axis: -1)
            let pattern = try Tensor.where(softmaxed.equal(softmaxed), softmaxed, Tensor(scalar: 0))             // NaN rows → 0
            let masked = try pattern.matmul(v.permuted([0, 2, 1, 3])).permuted([0, 2, 1, 3])
            assertClose(try GradMode.withNoGrad { try Tensor.attentionByHead(q: q, k: k, v: v, scale: 0.3, causal: false, keyMask: mask) },
                        masked, 1e-5, "padded, \(nq) queries, d_head \(e)")
        }
        // Values only, and what does not fit is named.
        let x = try Tensor.randn([1, 40, 2, 8], using: &rng).requiringGrad()
        XCTAssertThrowsError(try Tensor.attentionByHead(q: x, k: x, v: x, scale: 1, causal: true)) { error in
            XCTAssertTrue("\(error)".contains("without gradients"), "\(error)")
        }
        XCTAssertThrowsError(try Tensor.attentionByHead(q: x.detached(), k: x.detached(), v: x.detached(), scale: 1, causal: false, keyMask: [1])) { error in
            XCTAssertTrue("\(error)".contains("1 values for 1 × 40 keys"), "\(error)")
        }
        XCTAssertThrowsError(try Tensor.attentionByHead(q: Tensor.zeros([1, 41, 2, 8]), k: x.detached(), v: x.detached(), scale: 1, causal: true)) { error in
            XCTAssertTrue("\(error)".contains("q's positions the last of k's"), "\(error)")
        }
        for scale in [0, -0.3, Double.nan, .infinity] {
            XCTAssertThrowsError(try Tensor.attentionByHead(q: x.detached(), k: x.detached(), v: x.detached(), scale: scale, causal: false)) { error in
                XCTAssertTrue("\(error)".contains("positive, finite scale"), "\(error)")
            }
        }
    }

    func testKeyRowsReadTablesLikeGatheredKeys() throws {
        // Keys and values as a table of 5 rows, each example's positions picking rows.
        var rng = RandomGenerator(seed: 9)
        let (b, p, h, e) = (4, 3, 2, 8)
        let kTable = try Tensor.randn([5, h, e], using: &rng), vTable = try Tensor.randn([5, h, e], using: &rng)
        let q = try Tensor.randn([b, 1, h, e], using: &rng), g = try Tensor.randn([b, 1, h, e], using: &rng)
        let rows = try Tensor(ints: [0, 1, 4, 2, 1, 4, 0, 0, 4, 3, 3, 4], shape: [b, p])
        let (k1, v1, k2, v2) = (kTable.clone().detached(), vTable.clone().detached(), kTable.clone().detached(), vTable.clone().detached())
        for t in [k1, v1, k2, v2] { try t.requiringGrad() }
        let viaRows = try Tensor.attention(q: q, k: k1, v: v1, scale: 0.3, causal: true, keyRows: rows)
        try viaRows.z.backward(seed: g)
        let gathered = try Tensor.attention(q: q, k: k2.indexSelect(axis: 0, indices: rows), v: v2.indexSelect(axis: 0, indices: rows),
                                            scale: 0.3, causal: true)
        try gathered.z.backward(seed: g)
        assertClose(viaRows.z, gathered.z, 1e-6, "z")
        for (name, a, r) in [("k", k1, k2), ("v", v1, v2)] {
            guard let ga = a.grad, let gr = r.grad else { XCTFail("\(name) table has no gradient"); continue }
            assertClose(ga, gr, 1e-6, "d\(name) table")
        }
        XCTAssertThrowsError(try Tensor.attention(q: q, k: k1, v: v1, scale: 1, causal: true, keyRows: Tensor(ints: [0, 5, 1], shape: [1, 3])))
        XCTAssertThrowsError(try Tensor.attention(q: q, k: k1, v: v1, scale: 1, causal: true,
                                                  keyRows: Tensor(ints: Array(repeating: 9, count: 12), shape: [b, p])))
    }
}
