import Foundation
import XCTest
@testable import NeuroEngine

/// The fused cross-entropy against `-mean(log_softmax(x.double())[label])`
/// made of separate operations, its value and its gradient.
final class TensorCrossEntropyTests: XCTestCase {
    private func reference(_ logits: Tensor, _ labels: [Int]) throws -> Tensor {
        let logProbs = try logits.cast(to: .float64).logSoftmax(axis: -1)
        let picked = try logProbs.takeAlong(axis: -1, indices: Tensor(ints: labels, shape: [labels.count, 1]))
        return try picked.mean().negated()
    }

    func testMatchesLogSoftmaxOfFloat64ValueAndGradient() throws {
        var rng = RandomGenerator(seed: 11)
        // Spread logits (as a trained model's are) and a row far from the others.
        let logits = try Tensor.randn([37, 113], std: 8, using: &rng)
        let labels = (0..<37).map { ($0 * 7) % 113 }
        let a = logits.clone().detached(), b = logits.clone().detached()
        try a.requiringGrad()
        try b.requiringGrad()
        let fused = try a.crossEntropy(labels: labels), unfused = try reference(b, labels)
        XCTAssertEqual(fused.dtype, .float64)
        // float32 exponentials summed in Float64: each term within ~6e-8·|x - max| (here |x - max| < 60).
        XCTAssertEqual(try fused.item(), try unfused.item(), accuracy: 1e-9 * abs(try unfused.item()))
        try fused.backward()
        try unfused.backward()
        guard let ga = a.grad, let gb = b.grad else { return XCTFail("no gradient") }
        XCTAssertEqual(ga.dtype, .float32)
        for (x, y) in zip(ga.toDoubles(), gb.toDoubles()) { XCTAssertEqual(x, y, accuracy: 4e-6 * max(abs(y), 1e-3)) }
    }

    func testConfidentRowMatchesClosedForm() throws {
        // log(1 + 2e^-30) ≈ 1.9e-13, computed as lse - x[label] = (30 + 1.9e-13) - 30:
        // right to Float64's resolution at 30, as log_softmax is.
        let logits = try Tensor([30, 0, 0], shape: [1, 3])
        XCTAssertEqual(try logits.crossEntropy(labels: [0]).item(), Foundation.log1p(2 * Foundation.exp(-30.0)), accuracy: 1e-14)
        XCTAssertEqual(try logits.crossEntropy(labels: [1]).item(), 30 + Foundation.log1p(2 * Foundation.exp(-30.0)), accuracy: 1e-12)
    }

    func testGradientMatchesFiniteDifferences() {
        var rng = RandomGenerator(seed: 5)
        let logits = try! Tensor.randn([4, 6], dtype: .float64, using: &rng)
        checkGradients("cross entropy", inputs: [logits]) { try $0[0].crossEntropy(labels: [0, 5, 2, 2]) }
    }

    func testNonFiniteRowsGiveNaNAndBadLabelsThrow() throws {
        let logits = try Tensor([Float.nan, 0, 1, 2, 3, 4], shape: [2, 3])
        XCTAssertTrue(try logits.crossEntropy(labels: [0, 1]).item().isNaN)
        XCTAssertThrowsError(try logits.crossEntropy(labels: [0, 3]))
        XCTAssertThrowsError(try logits.crossEntropy(labels: [0]))
        XCTAssertThrowsError(try Tensor.zeros([2, 3, 4]).crossEntropy(labels: [0, 1]))
    }
}
