import XCTest
import NeuroTestSupport
@testable import NeuroEngine

/// Checks the gradient autograd computes for `f` against central finite
/// differences, in float64.
///
/// The quantity differentiated is `sum(f(inputs) * w)` for a fixed random
/// weight tensor `w` shaped like the output, so every element of the output
/// sends back a different, non-trivial upstream gradient (a plain `sum` would
/// only ever seed ones). Each input is copied into a fresh float64 leaf that
/// requires grad; `f` should make any views (transposes, slices) it wants to
/// test from those leaves. Every element of every input is perturbed by ±`step`
/// and the numeric slope compared with the analytic one within
/// `tolerance` (absolute and relative). A failure names the op, the input
/// index, the element index and both values.
///
/// - Parameter step: the finite-difference step; raise it for functions that
///   round through float32, where 1e-6 is below the rounding noise.
func checkGradients(_ name: String, inputs: [Tensor], tolerance: Double = 1e-6, step: Double = 1e-6,
                    file: StaticString = #filePath, line: UInt = #line,
                    _ f: ([Tensor]) throws -> Tensor) {
    do {
        let values = try inputs.map { try $0.cast(to: .float64).detached().toDoubles() }
        func leaves(_ values: [[Double]]) throws -> [Tensor] {
            try zip(values, inputs).map { try Tensor(float64: $0, shape: $1.shape) }
        }
        // Analytic: one backward pass through the weighted sum.
        let params = try leaves(values).map { try $0.requiringGrad() }
        let out = try f(params)
        guard out.dtype == .float64 else {
            XCTFail("\(name): output is \(out.dtype.shortName), the check needs float64", file: file, line: line)
            return
        }
        var rng = RandomGenerator(seed: 0x5EED)
        let weights = try Tensor.randn(out.shape, dtype: .float64, using: &rng)
        try (out * weights).sum().backward()
        let w = weights.toDoubles()

        // Numeric: central differences, recording off.
        func objective(_ values: [[Double]]) throws -> Double {
            let y = try GradMode.withNoGrad { try f(leaves(values)) }.toDoubles()
            return zip(y, w).reduce(0) { $0 + $1.0 * $1.1 }
        }
        for (k, param) in params.enumerated() {
            guard let grad = param.grad else {
                XCTFail("\(name): input \(k) received no gradient", file: file, line: line)
                continue
            }
            XCTAssertEqual(grad.shape, param.shape, "\(name): gradient shape of input \(k)", file: file, line: line)
            var numeric = [Double](repeating: 0, count: param.count)
            var perturbed = values
            for i in 0..<param.count {
                perturbed[k][i] = values[k][i] + step
                let up = try objective(perturbed)
                perturbed[k][i] = values[k][i] - step
                let down = try objective(perturbed)
                perturbed[k][i] = values[k][i]
                numeric[i] = (up - down) / (2 * step)
            }
            assertClose(grad.toDoubles(), numeric, rtol: tolerance, atol: tolerance,
                        "\(name): input \(k), analytic vs numeric gradient at element", file: file, line: line)
        }
    } catch {
        XCTFail("\(name): threw \(error)", file: file, line: line)
    }
}
