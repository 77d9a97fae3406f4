import XCTest
@testable import NeuroEngine

/// The engine's own threads (Parallel.swift, the split gemm in BLAS.swift):
/// results on two threads equal those on one and a plain reference, for
/// shapes large enough to be split, including ranges that start mid-row.
final class ParallelTests: XCTestCase {
    private var saved = 1
    override func setUp() { saved = BLASThreads.current }
    override func tearDown() { BLASThreads.set(saved) }

    private func onThreads<R>(_ n: Int, _ body: () throws -> R) rethrows -> R {
        let saved = BLASThreads.current
        BLASThreads.set(n)
        defer { BLASThreads.set(saved) }
        return try body()
    }

    func testRangesCoverEveryItemOnce() {
        for count in [0, 1, 2, 3, 70_001, 1 << 17] {
            var seen = [Int](repeating: 0, count: count)
            seen.withUnsafeMutableBufferPointer { seen in
                onThreads(2) { Parallel.forRanges(count) { range in for i in range { seen[i] += 1 } } }
            }
            XCTAssertTrue(seen.allSatisfy { $0 == 1 }, "count \(count)")
        }
    }

    func testRowRangesStartAtTheRightOffsets() {
        // forEachRow from a row in the middle of a [3, 5, 4] walk gives the offsets a full walk gives there.
        let shape = [3, 5, 4], strides = [[20, 4, 1], [0, 1, 0]]
        var full: [[Int]] = []
        forEachRow(shape: shape, strides: strides) { offsets, _, _ in full.append(offsets) }
        for start in 0..<15 {
            var part: [(Int, [Int])] = []
            forEachRow(shape: shape, strides: strides, rows: start..<15) { offsets, row, _, _ in part.append((row, offsets)) }
            XCTAssertEqual(part.map(\.0), Array(start..<15))
            XCTAssertEqual(part.map(\.1), Array(full[start...]))
        }
    }

    func testMatmulSplitAcrossThreadsMatchesOneThreadAndAReference() throws {
        var rng = RandomGenerator(seed: 11)
        // Tall (split by rows, with a remainder), wide (split by columns), and a batch of small products.
        // 33 rows over 2 threads in blocks of 16 leave a remainder of one row; 47 columns likewise.
        for (a, b) in [([531, 64], [64, 96]), ([24, 300], [300, 2_000]), ([40, 33, 32], [40, 32, 33]),
                       ([33, 1_100], [1_100, 32]), ([20, 1_200], [1_200, 47])] {
            let x = try Tensor.randn(a, using: &rng), y = try Tensor.randn(b, using: &rng)
            let one = try onThreads(1) { try x.matmul(y) }, two = try onThreads(2) { try x.matmul(y) }
            let reference = try x.cast(to: .float64).matmul(y.cast(to: .float64))
            let k = Double(a.last!)
            for (p, (q, r)) in zip(two.toDoubles(), zip(one.toDoubles(), reference.toDoubles())) {
                XCTAssertEqual(p, q, accuracy: 1e-5 * k.squareRoot() * max(1, abs(r)), "\(a)·\(b)")
                XCTAssertEqual(p, r, accuracy: 1e-5 * k.squareRoot() * max(1, abs(r)), "\(a)·\(b)")
            }
        }
    }

    func testElementwiseOnTwoThreadsMatchesOneThread() throws {
        var rng = RandomGenerator(seed: 12)
        let x = try Tensor.randn([300, 257], using: &rng), row = try Tensor.randn([257], using: &rng)
        let column = try Tensor.randn([300, 1], using: &rng)
        let cases: [(String, () throws -> Tensor)] = [
            ("x + row", { try x + row }), ("x - column", { try x - column }), ("x * x", { try x * x }),
            ("column / row", { try column / row }), ("relu", { try x.relu() }), ("gelu", { try x.gelu() }),
            ("softmax", { try x.softmax(axis: -1) }),
            ("index select", { try x.indexSelect(axis: 0, indices: Tensor(ints: (0..<400).map { ($0 * 7) % 300 }, shape: [400])) }),
        ]
        for (name, op) in cases {
            let one = try onThreads(1) { try op() }, two = try onThreads(2) { try op() }
            XCTAssertEqual(one.shape, two.shape, name)
            // The same operations on the same numbers, only split: equal but for float32 rounding at most.
            for (u, v) in zip(one.toDoubles(), two.toDoubles()) { XCTAssertEqual(u, v, accuracy: 1e-6 * max(1, abs(v)), name) }
        }
        // And against the values themselves, for the broadcast case that walks rows.
        let sum = try onThreads(2) { try x - column }.toDoubles(), xs = x.toDoubles(), cs = column.toDoubles()
        for i in [0, 256, 257, 40_000, 77_099] { XCTAssertEqual(sum[i], xs[i] - cs[i / 257], accuracy: 1e-6) }
    }

    func testLinearWithSharedFirstPositionMatchesLinear() throws {
        var rng = RandomGenerator(seed: 13)
        let (b, p, n, m) = (64, 3, 16, 24)
        var firsts = (0..<b).map { $0 % 5 }
        var x = try Tensor.randn([b, p, n], using: &rng).toDoubles()
        // Examples with the same first token have the same position-0 row.
        for e in 0..<b { for j in 0..<n { x[(e * p) * n + j] = Double(firsts[e]) + Double(j) / 10 } }
        let input = try Tensor(x.map(Float.init), shape: [b, p, n])
        let w = try Tensor.randn([n, m], using: &rng), bias = try Tensor.randn([m], using: &rng)
        let shared = try XCTUnwrap(SharedFirstPosition(firstTokens: firsts, positions: p))
        XCTAssertEqual(shared.representatives.count, 5)
        for bias in [bias, nil] {
            let plain = try input.linear(w, bias: bias)
            let fast = try GradMode.withNoGrad { try input.linear(w, bias: bias, shared: shared) }
            for (u, v) in zip(fast.toDoubles(), plain.toDoubles()) { XCTAssertEqual(u, v, accuracy: 1e-5 * max(1, abs(v))) }
        }
        // Too few repeats, one position, or a shape that is not [batch, positions, in]: no sharing or the plain product.
        firsts = Array(0..<b)
        XCTAssertNil(SharedFirstPosition(firstTokens: firsts, positions: p))
        XCTAssertNil(SharedFirstPosition(firstTokens: [1, 1, 1, 1], positions: 1))
        let last = try input.slice(axis: 1, start: p - 1)
        let trimmed = try GradMode.withNoGrad { try last.linear(w, bias: bias, shared: shared) }
        XCTAssertEqual(trimmed.shape, [b, 1, m])
        for (u, v) in zip(trimmed.toDoubles(), try last.linear(w, bias: bias).toDoubles()) { XCTAssertEqual(u, v, accuracy: 1e-5 * max(1, abs(v))) }
    }
}
