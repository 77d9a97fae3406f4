import XCTest
import NeuroTestSupport
@testable import NeuroAnalysis
@testable import NeuroModels
import NeuroEngine

/// `FactoredMatrix` against TransformerLens 3.9's `FactoredMatrix` for the OV
/// and QK circuits of the fixture models (singular values, eigenvalues,
/// Frobenius norms, one full product, a product of two factored matrices),
/// and its algebra against the multiplied-out matrices.
final class FactoredMatrixTests: XCTestCase {
    func circuits(_ model: HookedTransformer) throws -> (ov: FactoredMatrix, qk: FactoredMatrix) {
        func stacked(_ name: String) throws -> Tensor {
            try Tensor.stack((0..<model.config.nLayers).map { try XCTUnwrap(model.parameter("blocks.\($0).attn.\(name)")) }, axis: 0)
        }
        return (try FactoredMatrix(stacked("W_V"), stacked("W_O")), try FactoredMatrix(stacked("W_Q"), stacked("W_K").transposed()))
    }

    /// Eigenvalues as (real, imaginary) pairs sorted, so LAPACK's order does not matter.
    func sortedPairs(_ real: Tensor, _ imaginary: Tensor, rows: Int) -> [[Double]] {
        let r = real.toDoubles(), i = imaginary.toDoubles()
        let width = r.count / max(rows, 1)
        var out: [[Double]] = []
        for row in 0..<rows {
            var pairs: [(Double, Double)] = []
            for k in 0..<width { pairs.append((r[row * width + k], i[row * width + k])) }
            pairs.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            out.append(pairs.flatMap { [$0.0, $0.1] })
        }
        return out
    }

    func testCircuitsMatchTransformerLens() throws {
        for name in ResidualDecompositionTests.cases {
            let c = try ResidualDecompositionTests.load(name)
            let (ov, qk) = try circuits(c.model)
            let (layers, heads, d) = (c.model.config.nLayers, c.model.config.nHeads, c.model.config.dModel)
            XCTAssertEqual(ov.shape, [layers, heads, d, d])
            for (key, fm) in [("ov", ov), ("qk", qk)] {
                assertClose(try fm.svd().s, try c.expected("\(key).S"), rtol: 1e-4, atol: 1e-5, "\(name) \(key) singular values")
                assertClose(try fm.norm(), try c.expected("\(key).norm"), rtol: 1e-4, atol: 1e-5, "\(name) \(key) norm")
                let e = try fm.eigenvalues()
                let expectedPairs = sortedPairs(try c.expected("\(key).eig_real"), try c.expected("\(key).eig_imag"), rows: layers * heads)
                let pairs = sortedPairs(e.real, e.imaginary, rows: layers * heads)
                for (row, (a, b)) in zip(pairs, expectedPairs).enumerated() {
                    assertClose(a, b, rtol: 1e-3, atol: 1e-5, "\(name) \(key) eigenvalues of matrix \(row)")
                }
            }
            assertClose(try ov.indexed([0, 1]).product(), try c.expected("ov.AB01"), rtol: 1e-4, atol: 1e-6, "\(name) OV[0, 1].AB")
            let product = try ov.indexed([0, 0]).multiplied(by: qk.indexed([-1, 1]))
            assertClose(try product.svd().s, try c.expected("prod.S"), rtol: 1e-4, atol: 1e-5, "\(name) OV @ QK singular values")
            let e = try product.eigenvalues()
            assertClose(sortedPairs(e.real, e.imaginary, rows: 1)[0],
                        sortedPairs(try c.expected("prod.eig_real"), try c.expected("prod.eig_imag"), rows: 1)[0],
                        rtol: 1e-3, atol: 1e-5, "\(name) OV @ QK eigenvalues")
        }
    }

    func testSVDReconstructsTheProductAndAlgebraStaysFactored() throws {
        var rng = RandomGenerator(seed: 5)
        let a = try Tensor.randn([3, 7, 2], std: 1, using: &rng), b = try Tensor.randn([3, 2, 5], std: 1, using: &rng)
        let fm = try FactoredMatrix(a, b)
        let full = try a.matmul(b)
        let (u, s, v) = try fm.svd()
        XCTAssertEqual(u.shape, [3, 7, 2])
        XCTAssertEqual(s.shape, [3, 2])
        XCTAssertEqual(v.shape, [3, 5, 2])
        assertClose(try (u * s.unsqueezed(1)).matmul(v.transposed()), full, rtol: 1e-4, atol: 1e-5, "U diag(S) Vᵀ")
        assertClose(try fm.norm(), try full.square().sum(axes: [-2, -1]).sqrt(), rtol: 1e-5, atol: 1e-6, "Frobenius norm")
        assertClose(try fm.transposed().product(), try full.transposed(), "transpose")
        let x = try Tensor.randn([5, 4], std: 1, using: &rng), y = try Tensor.randn([6, 7], std: 1, using: &rng)
        assertClose(try fm.multiplied(by: x).product(), try full.matmul(x), rtol: 1e-4, atol: 1e-5, "fm @ x")
        assertClose(try fm.premultiplied(by: y).product(), try y.matmul(full), rtol: 1e-4, atol: 1e-5, "y @ fm")
        let vector = try Tensor.randn([5], std: 1, using: &rng)
        assertClose(try fm.applied(to: vector), try full.matmul(vector.unsqueezed(1)).squeezed(-1), rtol: 1e-4, atol: 1e-5, "fm @ v")
        assertClose(try fm.scaled(-2).product(), try full.scaled(-2), rtol: 1e-5, atol: 1e-6, "scaled")
        XCTAssertEqual(try fm.indexed([1]).shape, [7, 5])
        // Broadcast leading dimensions, as TransformerLens's constructor.
        XCTAssertEqual(try FactoredMatrix(a, b.select(axis: 0, index: 0)).shape, [3, 7, 5])
    }

    func testEigenvaluesOfARotationAreComplex() throws {
        let e = try Tensor([0, -1, 1, 0], shape: [2, 2]).eigenvalues()
        assertClose(e.real, try Tensor([0, 0], shape: [2]), "real parts")
        XCTAssertEqual(Set(e.imaginary.toDoubles()), [1, -1])
    }

    func testErrors() throws {
        let a = try Tensor.zeros([4, 2]), b = try Tensor.zeros([3, 4])
        assertThrows("A's columns must match B's rows") { try FactoredMatrix(a, b) }
        assertThrows("BA needs a square factored matrix") { try FactoredMatrix(a, Tensor.zeros([2, 3])).reverseProduct() }
        assertThrows("eigenvalues need a square factored matrix") { try FactoredMatrix(a, Tensor.zeros([2, 3])).eigenvalues() }
        assertThrows("takes at most 0 indices") { try FactoredMatrix(a, Tensor.zeros([2, 4])).indexed([0]) }
        // A product too large to form is refused before anything is allocated; the factors stay usable.
        let n = Int(Double(Tensor.maxElements).squareRoot()) + 2
        let tall = try FactoredMatrix(Tensor.ones([n, 1]), Tensor.ones([1, n]))
        assertThrows("keep it factored") { try tall.product() }
        XCTAssertEqual(try tall.norm().item(), Double(n), accuracy: Double(n) * 1e-5, "norm without the product")
    }
}
