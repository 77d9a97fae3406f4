import XCTest
@testable import NeuroEngine

/// The one-pass LayerNorm (`layerNormalized`) against the composed
/// operations it replaces in forward passes without gradients, and its errors.
final class TensorLayerNormTests: XCTestCase {
    private func composed(_ x: Tensor, _ w: Tensor?, _ b: Tensor?, eps: Double) throws -> Tensor {
        let centered = try x - x.mean(axes: [-1], keepDims: true)
        let scale = try (centered.square().mean(axes: [-1], keepDims: true) + eps).sqrt()
        var y = try centered / scale
        if let w { y = try y * w }
        if let b { y = try y + b }
        return y
    }

    func testMatchesTheComposedOperations() throws {
        var rng = RandomGenerator(seed: 21)
        // Rows large enough to be shared among threads, an offset mean, and a constant row (variance 0: eps decides).
        var x = try Tensor.randn([300, 384], using: &rng).scaled(3).shifted(5)
        var values = x.toDoubles()
        for j in 0..<384 { values[j] = 2.5 }
        x = try Tensor(values.map(Float.init), shape: [300, 384])
        let w = try Tensor.randn([384], using: &rng), b = try Tensor.randn([384], using: &rng)
        for (weight, bias) in [(w, b), (nil, nil)] as [(Tensor?, Tensor?)] {
            for input in [x, try x.cast(to: .float64)] {
                let fast = try input.layerNormalized(weight: weight, bias: bias, eps: 1e-12)
                let slow = try composed(input, weight, bias, eps: 1e-12)
                XCTAssertEqual(fast.dtype, input.dtype)
                let tolerance = input.dtype == .float32 ? 2e-5 : 1e-12
                for (u, v) in zip(fast.toDoubles(), slow.toDoubles()) { XCTAssertEqual(u, v, accuracy: tolerance * max(1, abs(v))) }
            }
        }
        // A width that leaves tails after the eight- and sixteen-lane loops, weight or bias alone.
        let narrow = try Tensor.randn([70, 45], using: &rng).shifted(-2)
        let nw = try Tensor.randn([45], using: &rng), nb = try Tensor.randn([45], using: &rng)
        for (weight, bias) in [(nw, nil), (nil, nb), (nw, nb)] as [(Tensor?, Tensor?)] {
            let fast = try narrow.layerNormalized(weight: weight, bias: bias, eps: 1e-5)
            let slow = try composed(narrow, weight, bias, eps: 1e-5)
            for (u, v) in zip(fast.toDoubles(), slow.toDoubles()) { XCTAssertEqual(u, v, accuracy: 2e-5 * max(1, abs(v))) }
        }
        // The constant row normalises to 0 (then the bias).
        let constant = try x.layerNormalized(weight: nil, bias: nil, eps: 1e-5).toDoubles()[0..<384]
        XCTAssertTrue(constant.allSatisfy { $0 == 0 })
    }

    func testSumThenNormaliseMatchesTheSeparateOperations() throws {
        // A residual sum with a layer's output and its bias, then LayerNorm: BERT's post-norm blocks.
        var rng = RandomGenerator(seed: 23)
        let x = try Tensor.randn([300, 384], using: &rng).scaled(4), y = try Tensor.randn([300, 384], using: &rng)
        let bias = try Tensor.randn([384], using: &rng), w = try Tensor.randn([384], using: &rng), nb = try Tensor.randn([384], using: &rng)
        for (addBias, keep) in [(true, true), (true, false), (false, true)] {
            let sum = try x + (addBias ? y + bias : y)
            let want = try composed(sum, w, nb, eps: 1e-12)
            let got = try GradMode.withNoGrad {
                try x.sumLayerNormalized(y, bias: addBias ? bias : nil, weight: w, normBias: nb, eps: 1e-12, keepSum: keep)
            }
            for (u, v) in zip(got.normalized.toDoubles(), want.toDoubles()) { XCTAssertEqual(u, v, accuracy: 2e-5 * max(1, abs(v))) }
            if keep {
                let kept = try XCTUnwrap(got.sum)
                for (u, v) in zip(kept.toDoubles(), sum.toDoubles()) { XCTAssertEqual(u, v, accuracy: 1e-6 * max(1, abs(v))) }
            } else {
                XCTAssertNil(got.sum)
            }
        }
        // Float64, and with gradients recorded: the separate operations, which pass gradients on.
        let (x64, y64) = (try x.cast(to: .float64), try y.cast(to: .float64))
        let wide = try x64.sumLayerNormalized(y64, bias: nil, weight: nil, normBias: nil, eps: 1e-5, keepSum: false).normalized
        XCTAssertEqual(wide.dtype, .float64)
        let reference = try composed(x64 + y64, nil, nil, eps: 1e-5)
        for (u, v) in zip(wide.toDoubles(), reference.toDoubles()) { XCTAssertEqual(u, v, accuracy: 1e-12 * max(1, abs(v))) }
        let traced = try y.clone().requiringGrad()
        try x.sumLayerNormalized(traced, bias: bias, weight: w, normBias: nb, eps: 1e-5, keepSum: false).normalized.sum().backward()
        XCTAssertNotNil(traced.grad)
        XCTAssertThrowsError(try x.sumLayerNormalized(Tensor.zeros([300, 383]), bias: nil, weight: nil, normBias: nil, eps: 1e-5, keepSum: false)) { error in
            XCTAssertTrue("\(error)".contains("[300, 383]"), "\(error)")
        }
        XCTAssertThrowsError(try x.sumLayerNormalized(y, bias: Tensor.zeros([3]), weight: nil, normBias: nil, eps: 1e-5, keepSum: false)) { error in
            XCTAssertTrue("\(error)".contains("bias [3]"), "\(error)")
        }
    }

    func testBadShapesAreErrors() throws {
        let x = try Tensor.zeros([2, 4])
        XCTAssertThrowsError(try x.layerNormalized(weight: Tensor.zeros([3]), bias: nil, eps: 1e-5)) { error in
            XCTAssertTrue("\(error)".contains("weight [3]"), "\(error)")
        }
        XCTAssertThrowsError(try Tensor.zeros([2, 0]).layerNormalized(weight: nil, bias: nil, eps: 1e-5))
    }
}
