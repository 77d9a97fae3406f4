import XCTest
import NeuroTestSupport
@testable import NeuroEngine

final class TensorTests: XCTestCase {
    func testMatmulAndBackward() throws {
        let a = try Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]).requiringGrad()
        let b = try Tensor([1, 0, 0, 1, 1, 1], shape: [3, 2]).requiringGrad()
        let c = try a.matmul(b)
        assertClose(c.toDoubles(), [4, 5, 10, 11])
        try c.sum().backward()
        assertClose(a.grad!.toDoubles(), [1, 1, 2, 1, 1, 2])
        assertClose(b.grad!.toDoubles(), [5, 5, 7, 7, 9, 9])
    }

    func testScaledMatmulIsTheProductThenTheScaling() throws {
        // Every path of the product: the small loops, BLAS per matrix of a
        // batch, and one gemm over a batch's rows (batch · matrix).
        var rng = RandomGenerator(seed: 11)
        let cases: [([Int], [Int])] = [([2, 3, 4], [2, 4, 5]), ([2, 3, 40, 32], [2, 3, 32, 40]), ([4, 30, 24], [24, 18])]
        for (sa, sb) in cases {
            let a = try Tensor.randn(sa, using: &rng), b = try Tensor.randn(sb, using: &rng)
            let scale = 1 / 32.0.squareRoot()
            let fused = try a.matmul(b, scale: scale).toDoubles(), apart = try a.matmul(b).scaled(scale).toDoubles()
            // OpenBLAS applies alpha as it stores, so this is equal to the last
            // bits here; the bound leaves room for a kernel that sums in another
            // order and still catches a scale that is missing or wrong.
            for (x, y) in zip(fused, apart) {
                XCTAssertEqual(x, y, accuracy: 1e-4 * Swift.max(1, abs(y)), "\(sa) · \(sb)")
            }
        }
    }

    func testBroadcastAddGradient() throws {
        let x = try Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]).requiringGrad()
        let bias = try Tensor([10, 20, 30], shape: [3]).requiringGrad()
        let y = try ((x + bias) * x).sum()
        let expected: Double = 11 + 44 + 99 + 56 + 125 + 216
        XCTAssertEqual(try y.item(), expected)
        try y.backward()
        assertClose(bias.grad!.toDoubles(), [5, 7, 9])
    }

    func testShapeErrorsNameShapes() throws {
        let a = try Tensor.zeros([2, 3]), b = try Tensor.zeros([4])
        assertThrows("[2, 3] and [4]") { try a + b }
        assertThrows("inner dimensions differ") { try a.matmul(a) }
        assertThrows("index 5 is out of range") { try a.select(axis: 0, index: 5) }
    }
}
