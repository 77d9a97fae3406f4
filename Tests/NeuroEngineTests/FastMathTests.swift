import Foundation
import XCTest
@testable import NeuroEngine

/// The vectorised float32 exp and normal distribution function against the double-precision libm
/// functions, and the kernels built on them (GELU, softmax) against double
/// references.
final class FastMathTests: XCTestCase {
    /// The largest |got − want| / want over x = from, from + step, … ≤ to, where `pair(x)` is (got, want).
    private func worstRelativeError(from: Double, to: Double, step: Double, _ pair: (Double) -> (Double, Double)) -> Double {
        var worst = 0.0
        var x = from
        while x <= to {
            let (got, want) = pair(x)
            worst = max(worst, abs(got - want) / want)
            x += step
        }
        return worst
    }

    func testFastExpMatchesLibmToFloatPrecision() {
        let worst = worstRelativeError(from: -87, to: 88, step: 0.001) { x in
            (Double(Float.fastExp(Float(x))), Foundation.exp(Double(Float(x))))
        }
        XCTAssertLessThan(worst, 1e-6, "largest relative error of fastExp over [-87, 88]")
        XCTAssertEqual(Float.fastExp(0), 1)
        XCTAssertEqual(Float.fastExp(-.infinity), 0)
        XCTAssertEqual(Float.fastExp(-200), 0)
        XCTAssertEqual(Float.fastExp(.infinity), .infinity)
        XCTAssertTrue(Float.fastExp(.nan).isNaN)
    }

    func testFastExpOfNonPositiveArgumentsIsFastExp() {
        var x: Float = -100
        while x <= 0 {
            let y = Float.fastExp(x)
            XCTAssertEqual(Float.fastExpNonPositive(x), y, accuracy: y.ulp, "e^\(x)")
            x += 0.00731
        }
        XCTAssertEqual(Float.fastExpNonPositive(0), 1)
        XCTAssertEqual(Float.fastExpNonPositive(-.infinity), 0)
        XCTAssertEqual(Float.fastExpNonPositive(-87.4), 0)
        XCTAssertTrue(Float.fastExpNonPositive(.nan).isNaN)
    }

    func testEightLaneExpIsTheScalarExp() {
        // The same polynomial: equal to the last bit or two (with fused multiply-adds each step rounds once).
        var x: Float = -90
        while x <= 0 {
            let lanes = SIMD8<Float>((0..<8).map { x + Float($0) * 0.0011 })
            let got = SIMD8<Float>.fastExpNonPositive(lanes)
            for i in 0..<8 {
                let want = Float.fastExpNonPositive(lanes[i])
                XCTAssertEqual(got[i], want, accuracy: 2 * want.ulp, "e^\(lanes[i])")
            }
            x += 0.0173
        }
        let edges = SIMD8<Float>.fastExpNonPositive(SIMD8(0, -.infinity, -87.4, .nan, -87.3, -1e-30, -200, -0.5))
        XCTAssertEqual(edges[0], 1)
        XCTAssertEqual(edges[1], 0)
        XCTAssertEqual(edges[2], 0)
        XCTAssertTrue(edges[3].isNaN)
        XCTAssertEqual(edges[4], Float.fastExpNonPositive(-87.3), accuracy: 2 * Float.fastExpNonPositive(-87.3).ulp)
        XCTAssertEqual(edges[5], 1)
        XCTAssertEqual(edges[6], 0)
        XCTAssertEqual(Double(edges[7]), Foundation.exp(-0.5), accuracy: 1e-7)
    }

    func testActivationOfABiasedRowIsTheActivationOfTheSum() throws {
        // Rows of 45 (tails beyond the vector loops), enough of them to be shared among threads.
        var rng = RandomGenerator(seed: 31)
        let x = try Tensor.randn([2000, 45], using: &rng).scaled(3), bias = try Tensor.randn([45], using: &rng)
        for function in [Pointwise.relu, .gelu, .geluNew] {
            let fused = try GradMode.withNoGrad { try function(x, bias: bias) }
            let separate = try function(x + bias)
            for (u, v) in zip(fused.toDoubles(), separate.toDoubles()) {
                XCTAssertEqual(u, v, accuracy: 1e-7 * max(1, abs(v)), "\(function)")
            }
        }
        // With gradients recorded, the separate operations (so the bias gets its gradient).
        let b = try bias.clone().requiringGrad()
        let y = try Pointwise.gelu(x, bias: b)
        try y.sum().backward()
        XCTAssertNotNil(b.grad)
        XCTAssertThrowsError(try Pointwise.relu(x, bias: Tensor.zeros([44]))) { error in
            XCTAssertTrue("\(error)".contains("bias [44]"), "\(error)")
        }
    }

    func testDoubleFastExpMatchesLibm() {
        let worst = worstRelativeError(from: -708, to: 709, step: 0.0137) { x in (Double.fastExp(x), Foundation.exp(x)) }
        XCTAssertLessThan(worst, 5e-13, "largest relative error of Double.fastExp over [-708, 709]")
        XCTAssertEqual(Double.fastExp(0), 1)
        XCTAssertEqual(Double.fastExp(-.infinity), 0)
        XCTAssertEqual(Double.fastExp(-800), 0)
        XCTAssertEqual(Double.fastExp(.infinity), .infinity)
        XCTAssertTrue(Double.fastExp(.nan).isNaN)
    }

    func testFastNormalCDFMatchesLibm() {
        func want(_ x: Double) -> Double { 0.5 * Foundation.erfc(-x / 2.0.squareRoot()) }
        func cdf(_ x: Float) -> Float { SIMD8<Float>.fastNormalCDF(SIMD8(repeating: x))[0] }
        func pair(_ x: Double) -> (Double, Double) { (Double(cdf(Float(x))), want(Double(Float(x)))) }
        // Absolute error everywhere; relative error of the lower tail, computed directly.
        var worstAbsolute = 0.0
        var x = -12.0
        while x <= 12 {
            let (got, expected) = pair(x)
            worstAbsolute = max(worstAbsolute, abs(got - expected))
            x += 0.0007
        }
        XCTAssertLessThan(worstAbsolute, 2.5e-7, "largest absolute error of Φ over [-12, 12]")
        XCTAssertLessThan(worstRelativeError(from: -1, to: 12, step: 0.0007, pair), 1e-6)
        XCTAssertLessThan(worstRelativeError(from: -3, to: -1, step: 0.0007, pair), 1e-4)
        XCTAssertLessThan(worstRelativeError(from: -5, to: -3, step: 0.0007, pair), 3e-3)
        XCTAssertEqual(Double(cdf(1e-30)), 0.5, accuracy: 2.5e-7)
        XCTAssertEqual(cdf(.infinity), 1)
        XCTAssertEqual(cdf(-.infinity), 0)
        XCTAssertLessThan(cdf(-30), 1e-38)
        XCTAssertEqual(cdf(10), 1)
        XCTAssertTrue(cdf(.nan).isNaN)
        // Lanes are independent: a lane's value does not depend on its neighbours or its place.
        let lanes = SIMD8<Float>(-3.5, -1, -0.25, 0, 0.5, 2, 7, .nan)
        let together = SIMD8<Float>.fastNormalCDF(lanes)
        for lane in 0..<7 { XCTAssertEqual(together[lane], cdf(lanes[lane]), "lane \(lane)") }
    }

    func testFloatGeluMatchesDoubleGelu() throws {
        let values = stride(from: -8.0, through: 8.0, by: 0.013).map { $0 }
        let got = try Tensor(values.map { Float($0) }, shape: [values.count]).gelu().toDoubles()
        for (x, y) in zip(values, got) {
            let xf = Double(Float(x))
            let want = 0.5 * xf * Foundation.erfc(-xf / 2.0.squareRoot())
            // Absolute error of Φ (≤ 2.5e-7) times |x|, plus float rounding.
            XCTAssertEqual(y, want, accuracy: 2.5e-7 * abs(xf) + 1e-6 * abs(want), "gelu(\(x))")
            if xf > -3 { XCTAssertEqual(y, want, accuracy: 1e-4 * abs(want), "gelu(\(x)) relative") }
        }
        let edges = try Tensor([-Float.infinity, .infinity, .nan, 0], shape: [4]).gelu().toFloats()
        XCTAssertTrue(edges[0].isNaN, "-inf · 0, as PyTorch gives")
        XCTAssertEqual(edges[1], .infinity)
        XCTAssertTrue(edges[2].isNaN)
        XCTAssertEqual(edges[3], 0)
    }

    func testFloatSoftmaxMatchesDoubleWithMaskedAndOddRows() throws {
        // Rows of 13 (not a multiple of 8): one ordinary, one with -inf keys, one all -inf, one with a NaN.
        var data: [Float] = (0..<13).map { Float(sin(Double($0) * 1.7) * 30) }
        data += (0..<13).map { $0 % 3 == 0 ? -Float.infinity : Float($0) * -2.5 }
        data += Array(repeating: -Float.infinity, count: 13)
        data += (0..<13).map { $0 == 5 ? Float.nan : Float($0) }
        let out = try Tensor(data, shape: [4, 13]).softmax(axis: -1).toDoubles()
        for row in 0..<2 {
            let xs = data[(row * 13)..<(row * 13 + 13)].map(Double.init)
            let peak = xs.max()!
            let exps = xs.map { Foundation.exp($0 - peak) }
            let total = exps.reduce(0, +)
            for j in 0..<13 {
                XCTAssertEqual(out[row * 13 + j], exps[j] / total, accuracy: 1e-6 * max(exps[j] / total, 1e-30) + 1e-12, "row \(row) key \(j)")
                if xs[j] == -.infinity { XCTAssertEqual(out[row * 13 + j], 0, "a masked key gets exactly 0") }
            }
        }
        XCTAssertTrue(out[26..<39].allSatisfy { $0.isNaN }, "a row of -inf is NaN, as in PyTorch")
        XCTAssertTrue(out[39..<52].allSatisfy { $0.isNaN }, "NaN in a row makes the row NaN")
    }
}
