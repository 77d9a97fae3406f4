import XCTest
import NeuroTestSupport
@testable import NeuroEngine

/// Results are checked against the allocation limit before anything is
/// allocated. Every shape here is far past any test machine's memory (4 TB
/// and more), so the messages do not depend on the machine, and nothing is
/// ever really allocated: the inputs are small.
final class TensorSizeLimitTests: XCTestCase {
    private let tooLarge = "is too large to allocate (more than half of this machine's memory)"

    /// Asserts that `body` throws an `EngineError` whose message is exactly `message`.
    private func assertMessage<T>(_ message: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertEqual((error as? EngineError)?.message, message, file: file, line: line)
        }
    }

    func testBroadcastProductsOverTheLimitAreRefused() throws {
        let column = try Tensor.ones([1_000_000, 1]), row = try Tensor.ones([1, 1_000_000])
        assertMessage("mul: the result [1000000, 1000000] (4 TB) \(tooLarge)") { try column * row }
        assertMessage("add: the result [1000000, 1000000] (4 TB) \(tooLarge)") { try column + row }
        assertMessage("sub: the result [1000000, 1000000] (4 TB) \(tooLarge)") { try column - row }
        assertMessage("div: the result [1000000, 1000000] (4 TB) \(tooLarge)") { try column / row }
        assertMessage("maximum: the result [1000000, 1000000] (4 TB) \(tooLarge)") { try column.maximum(row) }
        assertMessage("ge: the result [1000000, 1000000] (8 TB) \(tooLarge)") { try column.greaterEqual(row) }
        // Pairwise differences: a [n, 1, d] − b [1, n, d] before a norm.
        let a = try Tensor.ones([1_000_000, 1, 2]), b = try Tensor.ones([1, 1_000_000, 2])
        assertMessage("sub: the result [1000000, 1000000, 2] (8 TB) \(tooLarge)") { try (a - b).norm(axes: [-1]) }
    }

    func testMatrixProductsOverTheLimitAreRefused() throws {
        let column = try Tensor.ones([1_000_000, 1]), row = try Tensor.ones([1, 1_000_000])
        assertMessage("matmul: the result [1000000, 1000000] (4 TB) \(tooLarge)") { try column.matmul(row) }
        // x.T @ x of a wide matrix.
        assertMessage("matmul: the result [1000000, 1000000] (4 TB) \(tooLarge)") { try row.transposed().matmul(row) }
        let vector = try Tensor.ones([1_000_000])
        assertMessage("outer: the result [1000000, 1000000] (4 TB) \(tooLarge)") { try vector.outer(vector) }
        assertMessage("einsum: the result [1000000, 1000000] (4 TB) \(tooLarge)") { try Tensor.einsum("i,j->ij", vector, vector) }
        let weight = try Tensor.ones([1, 1_000_000])
        assertMessage("linear: the result [1000000, 1000000] (4 TB) \(tooLarge)") { try column.linear(weight) }
    }

    func testWhereStackAndExpandOverTheLimitAreRefused() throws {
        let column = try Tensor.ones([1_000_000, 1]), row = try Tensor.ones([1, 1_000_000])
        assertMessage("where: the result [1000000, 1000000] (4 TB) \(tooLarge)") { try Tensor.where(column, row, Tensor(scalar: 0)) }
        // Many references to one small tensor: only the result is large.
        let piece = try Tensor.zeros([10_000_000])
        assertMessage("stack: the result [300000, 10000000] (12 TB) \(tooLarge)") {
            try Tensor.stack(Array(repeating: piece, count: 300_000))
        }
        assertMessage("concat: the result [3000000000000] (12 TB) \(tooLarge)") {
            try Tensor.concat(Array(repeating: piece, count: 300_000), axis: 0)
        }
        assertMessage("expand: the result [1000000, 1000000] (4 TB) \(tooLarge)") { try Tensor(scalar: 1).expanded(to: [1_000_000, 1_000_000]) }
    }

    func testShapesWhoseSizeOverflowsAreErrorsNotTraps() throws {
        let n = 2_100_000   // n³ is past Int.max
        let (a, b, c) = (try Tensor.ones([n, 1, 1]), try Tensor.ones([1, n, 1]), try Tensor.ones([1, 1, n]))
        assertMessage("where: the result [2100000, 2100000, 2100000] is too large to allocate (it has more elements than a 64-bit integer can count)") {
            try Tensor.where(a, b, c)
        }
        let huge = 1 << 40
        assertMessage("Tensor: shape [0, \(huge), \(huge)] is too large to allocate (it has more elements than a 64-bit integer can count)") {
            try Tensor([], shape: [0, huge, huge])
        }
        assertMessage("Tensor: dimension 1 of [2, -3] is negative") { try Tensor([1, 2], shape: [2, -3]) }
        assertMessage("Tensor: dimension 0 of [-1] is negative") { try Tensor(ints: [], shape: [-1]) }
        assertMessage("zeros: shape [\(huge), \(huge)] is too large to allocate (it has more elements than a 64-bit integer can count)") {
            try Tensor.zeros([huge, huge])
        }
        assertMessage("ones: dimension 0 of [-5] is negative") { try Tensor.ones([-5]) }
        var rng = RandomGenerator(seed: 1)
        assertMessage("randn: shape [1000000, 1000000] (4 TB) \(tooLarge)") { try Tensor.randn([1_000_000, 1_000_000], using: &rng) }
        assertMessage("uniform: dimension 0 of [-2, 2] is negative") { try Tensor.uniform([-2, 2], using: &rng) }
        assertMessage("reshape: cannot reshape [0] (0 elements) to [0, \(huge), \(huge)]") {
            try Tensor.zeros([0]).reshaped([0, huge, huge])
        }
        assertMessage("reshape: cannot reshape [2] (2 elements) to [\(huge), \(huge), -1]") {
            try Tensor.zeros([2]).reshaped([huge, huge, -1])
        }
        assertMessage("linspace: the result [1000000000000] (4 TB) \(tooLarge)") { try Tensor.linspace(0, 1, count: 1_000_000_000_000) }
        assertMessage("eye: shape [1000000000, 1000000000] (4 EB) \(tooLarge)") { try Tensor.eye(1_000_000_000) }
    }

    func testSizeCheckIsInTheAllocationEveryOperationUses() throws {
        // A float32 result whose float64 copy would pass half of memory is
        // refused, and told so (the limit counts float64).
        let count = SizeLimit.maxElements + 1
        XCTAssertThrowsError(try Tensor(uninitializedShape: [count], dtype: .float64, op: "test")) { error in
            XCTAssertEqual((error as? EngineError)?.message.hasPrefix("test: the result [\(count)] ("), true, "\(error)")
        }
        XCTAssertNoThrow(try Tensor(uninitializedShape: [4, 5], dtype: .float32, op: "test"))
        // A request the system cannot satisfy is an error, not an abort.
        XCTAssertNil(TensorStorage(allocating: 1 << 62))
    }

    func testSmallResultsAreUnchanged() throws {
        let a = try Tensor([1, 2, 3], shape: [3, 1]), b = try Tensor([10, 20], shape: [1, 2])
        XCTAssertEqual(try (a * b).toFloats(), [10, 20, 20, 40, 30, 60])
        XCTAssertEqual(try a.matmul(b).shape, [3, 2])
        XCTAssertEqual(try Tensor.stack([b, b]).shape, [2, 1, 2])
        XCTAssertEqual(try Tensor.linspace(0, 1, count: 5).toFloats(), [0, 0.25, 0.5, 0.75, 1])
        XCTAssertEqual(try Tensor.linspace(3, 7, count: 1).toFloats(), [3])
        // A step past any length gives one element instead of overflowing.
        XCTAssertEqual(try a.flattened().slice(axis: 0, start: 0, end: 3, step: Int.max).toFloats(), [1])
    }

    func testSumOverNoAxesOfAnOffsetViewKeepsItsValues() throws {
        let x = try Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        XCTAssertEqual(try x.select(axis: 0, index: 1).sum(axes: []).toFloats(), [4, 5, 6])
        XCTAssertEqual(try x.slice(axis: 0, start: 1).sum(axes: [0]).toFloats(), [4, 5, 6])
    }

    func testTensorsOfVeryHighRankCostLinearTime() throws {
        let rank = 100_000
        let t = try Tensor([2], shape: [1]).reshaped(Array(repeating: 1, count: rank))
        XCTAssertEqual(t.rank, rank)
        XCTAssertEqual(try t.sum().item(), 2)
        XCTAssertEqual(try t.mean().item(), 2)
        XCTAssertEqual(try (t * t).summary().mean, 4)
    }

    func testLongShapesAreAbbreviatedInMessages() {
        XCTAssertEqual(formatShape([]), "[]")
        XCTAssertEqual(formatShape(Array(1...16)), "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]")
        XCTAssertEqual(formatShape(Array(repeating: 1, count: 100_000)),
                       "[1, 1, 1, 1, 1, 1, 1, 1, … 99984 more …, 1, 1, 1, 1, 1, 1, 1, 1]")
    }

    func testSizesAreShownInDecimalUnits() {
        XCTAssertEqual(formatBytes(10, .float32), "40 bytes")
        XCTAssertEqual(formatBytes(2_500_000_000, .float32), "10 GB")
        XCTAssertEqual(formatBytes(2_400_000_000, .float32), "9.6 GB")
        XCTAssertEqual(formatBytes(1_000_000_000_000, .float32), "4 TB")
        XCTAssertEqual(formatBytes(123_456, .float64), "988 KB")
        XCTAssertEqual(formatBytes(Int.max, .float64), "73.8 EB")
    }

    func testSummaryReadsInPlace() throws {
        let x = try Tensor([1, .nan, 3, .infinity, 5, -1], shape: [2, 3])
        let s = x.summary()
        XCTAssertEqual(s.finiteCount, 4)
        XCTAssertEqual(s.nonFiniteCount, 2)
        XCTAssertEqual(s.mean, 2)
        XCTAssertEqual(s.min, -1)
        XCTAssertEqual(s.max, 5)
        assertClose([s.std], [(5.0).squareRoot()])
        // Through strides and broadcasting, without a copy.
        let column = try x.transposed().select(axis: 0, index: 0)       // [1, .infinity]
        XCTAssertEqual(column.summary().finiteCount, 1)
        let wide = try Tensor(scalar: 2).expanded(to: [1000, 1000])
        XCTAssertEqual(wide.summary(), TensorSummary(finiteCount: 1_000_000, nonFiniteCount: 0, mean: 2, std: 0, min: 2, max: 2))
        XCTAssertEqual(try Tensor.zeros([0, 3]).summary().finiteCount, 0)
    }
}
