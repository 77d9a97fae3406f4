import XCTest
@testable import NeuroEngine

/// AdamW's update, eight lanes at a time and then the rest, against the
/// update written out one element at a time (PyTorch's formula); the
/// parameter of 19 elements has two full lanes and a tail of 3.
final class OptimizerTests: XCTestCase {
    /// PyTorch's AdamW for one element, in the element's own precision.
    func reference<T: BinaryFloatingPoint>(_ p: inout T, _ m: inout T, _ v: inout T, _ g: T, step: Int,
                                           lr: Double, wd: Double, betas: (Double, Double), eps: Double) {
        p *= T(1 - lr * wd)
        m += T(1 - betas.0) * (g - m)
        v = v * T(betas.1) + T(1 - betas.1) * g * g
        let denom = v.squareRoot() / T((1 - Double.pow(betas.1, Double(step))).squareRoot()) + T(eps)
        p -= T(lr / (1 - Double.pow(betas.0, Double(step)))) * m / denom
    }

    func check<T: BinaryFloatingPoint>(_ dtype: DType, _: T.Type) throws {
        let n = 19
        let start: [Double] = (0..<n).map { i -> Double in Double((i * 37) % 11) / 7 - 0.6 }
        let grads: [[Double]] = (0..<3).map { step -> [Double] in
            (0..<n).map { i -> Double in Double((i * 13 + step * 5) % 17) / 9 - 0.9 }
        }
        let param = try Tensor(float64: start, shape: [n]).cast(to: dtype).copied().requiringGrad()
        let optimizer = try AdamW(parameters: [NamedParameter("w", param)], learningRate: 0.01, weightDecay: 0.1, betas: (0.9, 0.98))
        var (p, m, v) = (start.map { T($0) }, [T](repeating: 0, count: n), [T](repeating: 0, count: n))
        for (step, g) in grads.enumerated() {
            param.grad = try Tensor(float64: g, shape: [n]).cast(to: dtype)
            try optimizer.step()
            for i in 0..<n {
                reference(&p[i], &m[i], &v[i], T(g[i]), step: step + 1, lr: 0.01, wd: 0.1, betas: (0.9, 0.98), eps: 1e-8)
            }
        }
        for (i, (got, want)) in zip(param.toDoubles(), p.map { Double($0) }).enumerated() {
            // The same operations in the same order: equal up to one unit in the last place.
            XCTAssertEqual(got, want, accuracy: Double(T(want).ulp), "\(dtype) element \(i) (\(i < 16 ? "lanes" : "tail"))")
        }
        XCTAssertNotEqual(param.toDoubles(), start, "the parameter moved")
    }

    func testAdamWLanesAndTailMatchTheElementwiseFormula() throws {
        try check(.float32, Float.self)
        try check(.float64, Double.self)
    }
}
