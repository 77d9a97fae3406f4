import XCTest
import NeuroTestSupport
@testable import NeuroEngine

/// Deterministic pseudo-random values in [-1, 1) (no dependence on the engine's RNG).
private func noise(_ count: Int, seed: UInt64) -> [Double] {
    var state = seed &* 6364136223846793005 &+ 1442695040888963407
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53) * 2 - 1
    }
}

/// Row-major product of a [m, k] and b [k, n].
private func product(_ a: [Double], _ b: [Double], m: Int, k: Int, n: Int) -> [Double] {
    var c = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k { s += a[i * k + p] * b[p * n + j] }
            c[i * n + j] = s
        }
    }
    return c
}

/// Row-major transpose of a [m, n].
private func transpose(_ a: [Double], m: Int, n: Int) -> [Double] {
    var t = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n { t[j * m + i] = a[i * n + j] }
    }
    return t
}

private func identity(_ n: Int) -> [Double] {
    var e = [Double](repeating: 0, count: n * n)
    for i in 0..<n { e[i * n + i] = 1 }
    return e
}

private func matrix(_ values: [Double], _ shape: [Int], _ dtype: DType) throws -> Tensor {
    dtype == .float32 ? try Tensor(values.map { Float($0) }, shape: shape) : try Tensor(float64: values, shape: shape)
}

final class LinalgTests: XCTestCase {

    // MARK: - SVD

    func testSVDReconstructsTallWideSquareInBothDtypesThinAndFull() throws {
        for (m, n) in [(5, 3), (3, 5), (4, 4), (1, 4), (6, 1)] {
            for dtype in [DType.float32, .float64] {
                for full in [false, true] {
                    let values = noise(m * n, seed: UInt64(m * 10 + n))
                    let a = try matrix(values, [m, n], dtype)
                    let r = try a.svd(fullMatrices: full)
                    let k = min(m, n), uc = full ? m : k, vr = full ? n : k
                    let tol = dtype == .float32 ? 1e-5 : 1e-12
                    let label = "[\(m), \(n)] \(dtype) full=\(full)"
                    XCTAssertEqual(r.u.shape, [m, uc], label)
                    XCTAssertEqual(r.s.shape, [k], label)
                    XCTAssertEqual(r.vt.shape, [vr, n], label)
                    XCTAssertEqual(r.u.dtype, dtype)
                    XCTAssertEqual(r.s.dtype, dtype)
                    XCTAssertEqual(r.vt.dtype, dtype)

                    let s = r.s.toDoubles()
                    for i in 0..<k { XCTAssertGreaterThanOrEqual(s[i], 0, label) }
                    for i in 1..<max(k, 1) { XCTAssertGreaterThanOrEqual(s[i - 1], s[i], label) }

                    // U[:, :k] · diag(S) · Vᵀ[:k, :] ≈ A
                    let u = r.u.toDoubles(), vt = r.vt.toDoubles()
                    var us = [Double](repeating: 0, count: m * k)
                    for i in 0..<m { for j in 0..<k { us[i * k + j] = u[i * uc + j] * s[j] } }
                    let back = product(us, Array(vt[0..<(k * n)]), m: m, k: k, n: n)
                    assertClose(back, values, rtol: 0, atol: 10 * tol, "\(label) reconstruction")

                    // Orthonormal columns of U and rows of Vᵀ.
                    assertClose(product(transpose(u, m: m, n: uc), u, m: uc, k: m, n: uc), identity(uc),
                                rtol: 0, atol: 10 * tol, "\(label) UᵀU")
                    assertClose(product(vt, transpose(vt, m: vr, n: n), m: vr, k: n, n: vr), identity(vr),
                                rtol: 0, atol: 10 * tol, "\(label) VᵀV")
                }
            }
        }
    }

    func testSVDKnownSingularValuesAndTensorReconstruction() throws {
        let a = try Tensor([3, 2, 2, 2, 3, -2], shape: [2, 3])
        let r = try a.svd()
        assertClose(r.s.toDoubles(), [5, 3], rtol: 1e-6, atol: 1e-6)
        assertClose(try (r.u * r.s).matmul(r.vt), a, rtol: 1e-5, atol: 1e-5)
        // A transposed (non-contiguous) view has the same singular values.
        let rt = try a.transposed().svd()
        assertClose(rt.s.toDoubles(), [5, 3], rtol: 1e-6, atol: 1e-6)
        assertClose(try (rt.u * rt.s).matmul(rt.vt), try a.transposed(), rtol: 1e-5, atol: 1e-5)
    }

    func testSVDMatchesNumpySingularValues() throws {
        let a = try Tensor(float64: [1, 2, 0, 0, 1, 1, 2, 0, 1, 1, 1, 1, 3, -1, 2], shape: [5, 3])
        let s = try a.svd().s.toDoubles()
        // np.linalg.svd(A, compute_uv=False)
        assertClose(s, [4.566054949493721, 2.6457513110645903, 1.0729129499656038], rtol: 1e-12, atol: 1e-12)
        var squares = 0.0
        for v in s { squares += v * v }
        XCTAssertEqual(squares, 29, accuracy: 1e-12)   // ‖A‖²_F
        // Thin and full agree on S; float32 input gives float32 values close to them.
        assertClose(try a.svd(fullMatrices: true).s.toDoubles(), s, rtol: 1e-12, atol: 1e-12)
        assertClose(try a.cast(to: .float32).svd().s.toDoubles(), s, rtol: 1e-6, atol: 1e-6)
        // S² are the eigenvalues of AᵀA.
        let gram = try a.transposed().matmul(a).eigh().values.toDoubles()
        assertClose(s.map { $0 * $0 }, gram.reversed(), rtol: 1e-10, atol: 1e-10)
    }

    // MARK: - eigh

    func testEighReconstructsAscendingOrthonormal() throws {
        let n = 6
        let m = noise(n * n, seed: 7)
        var sym = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { sym[i * n + j] = m[i * n + j] + m[j * n + i] } }
        for dtype in [DType.float32, .float64] {
            let tol = dtype == .float32 ? 1e-5 : 1e-12
            let e = try matrix(sym, [n, n], dtype).eigh()
            XCTAssertEqual(e.values.shape, [n])
            XCTAssertEqual(e.vectors.shape, [n, n])
            XCTAssertEqual(e.values.dtype, dtype)
            let w = e.values.toDoubles(), v = e.vectors.toDoubles()
            for i in 1..<n { XCTAssertLessThanOrEqual(w[i - 1], w[i]) }
            // V · diag(w) · Vᵀ ≈ A
            var vw = v
            for i in 0..<n { for j in 0..<n { vw[i * n + j] *= w[j] } }
            assertClose(product(vw, transpose(v, m: n, n: n), m: n, k: n, n: n), sym, rtol: 0, atol: 10 * tol)
            assertClose(product(transpose(v, m: n, n: n), v, m: n, k: n, n: n), identity(n), rtol: 0, atol: 10 * tol)
            // A·v_j = w_j·v_j for each column.
            let av = product(sym, v, m: n, k: n, n: n)
            assertClose(av, vw, rtol: 0, atol: 20 * tol)
        }
    }

    func testEighKnownTwoByTwo() throws {
        let e = try Tensor([2, 1, 1, 2], shape: [2, 2]).eigh()
        assertClose(e.values.toDoubles(), [1, 3], rtol: 1e-6, atol: 1e-6)
        let v = e.vectors.toDoubles()   // columns ±[1, -1]/√2 and ±[1, 1]/√2
        let h = 1 / 2.0.squareRoot()
        XCTAssertEqual(abs(v[0]), h, accuracy: 1e-6)
        XCTAssertEqual(v[0] + v[2], 0, accuracy: 1e-6)
        XCTAssertEqual(abs(v[1]), h, accuracy: 1e-6)
        XCTAssertEqual(v[1] - v[3], 0, accuracy: 1e-6)
    }

    // MARK: - Least squares

    func testLeastSquaresRecoversExactSolution() throws {
        let m = 7, n = 4
        let a = noise(m * n, seed: 3)
        let x = [0.5, -2, 1.25, 3]
        let b = product(a, x, m: m, k: n, n: 1)
        for dtype in [DType.float32, .float64] {
            let tol = dtype == .float32 ? 1e-4 : 1e-10
            let solved = try matrix(a, [m, n], dtype).leastSquares(try matrix(b, [m], dtype))
            XCTAssertEqual(solved.shape, [n])
            XCTAssertEqual(solved.dtype, dtype)
            assertClose(solved.toDoubles(), x, rtol: tol, atol: tol)
        }
        // Square, well-conditioned: the plain solution.
        let sq = try Tensor(float64: [4, 1, 2, 3], shape: [2, 2])
        assertClose(try sq.leastSquares(try Tensor(float64: [6, 8], shape: [2])).toDoubles(), [1, 2], rtol: 1e-12, atol: 1e-12)
    }

    func testLeastSquaresOverdeterminedMatchesNumpy() throws {
        let a = try Tensor(float64: [1, 2, 0, 0, 1, 1, 2, 0, 1, 1, 1, 1, 3, -1, 2], shape: [5, 3])
        // np.linalg.lstsq(A, b, rcond=None)[0]
        let x = try a.leastSquares(try Tensor(float64: [1, 2, 0, 3, -1], shape: [5]))
        XCTAssertEqual(x.shape, [3])
        assertClose(x.toDoubles(), [-0.8333333333333337, 1.142857142857143, 1.5000000000000004], rtol: 1e-12, atol: 1e-12)

        let bb = try Tensor(float64: [1, 0, 2, 1, 0, -1, 3, 2, -1, 4], shape: [5, 2])
        let xx = try a.leastSquares(bb)
        XCTAssertEqual(xx.shape, [3, 2])
        assertClose(xx.toDoubles(), [-0.8333333333333337, -0.2500000000000004,
                                     1.142857142857143, -0.14285714285714257,
                                     1.5000000000000004, 1.7500000000000002], rtol: 1e-12, atol: 1e-12)

        // float32 operands: same numbers to float32 precision, float32 result.
        let x32 = try a.cast(to: .float32).leastSquares(try Tensor([1, 2, 0, 3, -1], shape: [5]))
        XCTAssertEqual(x32.dtype, .float32)
        assertClose(x32.toDoubles(), [-0.8333333333333337, 1.142857142857143, 1.5000000000000004], rtol: 1e-5, atol: 1e-5)
        // Mixed dtypes promote to float64.
        XCTAssertEqual(try a.cast(to: .float32).leastSquares(try Tensor(float64: [1, 2, 0, 3, -1], shape: [5])).dtype, .float64)
    }

    func testLeastSquaresRankDeficientAndUnderdeterminedGiveMinimumNorm() throws {
        // Rank 1: columns are parallel; numpy's lstsq and pinv(A)·b agree.
        let r = try Tensor(float64: [1, 2, 2, 4, 3, 6], shape: [3, 2])
        let x = try r.leastSquares(try Tensor(float64: [1, 1, 2], shape: [3]))
        assertClose(x.toDoubles(), [0.12857142857142853, 0.2571428571428571], rtol: 1e-10, atol: 1e-12)
        // float32 input: the rank deficiency is still detected (no huge components).
        let x32 = try r.cast(to: .float32).leastSquares(try Tensor([1, 1, 2], shape: [3]))
        assertClose(x32.toDoubles(), [0.12857142857142853, 0.2571428571428571], rtol: 1e-5, atol: 1e-6)

        // Underdetermined 2×3, full row rank: np.linalg.lstsq gives the minimum-norm solution.
        let u = try Tensor(float64: [1, 2, 3, 4, 5, 6], shape: [2, 3])
        let xu = try u.leastSquares(try Tensor(float64: [1, 2], shape: [2]))
        assertClose(xu.toDoubles(), [-0.05555555555555583, 0.11111111111111112, 0.277777777777778], rtol: 1e-10, atol: 1e-12)

        // A generous rcond truncates the small singular value of a nearly singular system.
        let near = try Tensor(float64: [1, 0, 0, 1e-9], shape: [2, 2])
        let full = try near.leastSquares(try Tensor(float64: [1, 1], shape: [2]))
        assertClose(full.toDoubles(), [1, 1e9], rtol: 1e-9, atol: 1e-9)
        let cut = try near.leastSquares(try Tensor(float64: [1, 1], shape: [2]), rcond: 1e-6)
        assertClose(cut.toDoubles(), [1, 0], rtol: 1e-12, atol: 1e-12)
    }

    // MARK: - PCA

    private let pcaData: [Double] = [2.5, 2.4, 0.5, 1.0, 0.5, 0.7, 1.5, -0.3, 2.2, 2.9, 0.1, 0.8, 1.9, 2.2, 0.9, 0.2,
                                     3.1, 3.0, -0.4, 1.7, 2.3, 2.7, 0.6, 0.4, 2.0, 1.6, 1.2, -0.5, 1.0, 1.1, 1.9, 0.1]

    func testPCAMatchesNumpyReference() throws {
        // numpy: SVD of the centered data, variance s²/(n-1), ratio over all components,
        // each component signed so its largest-|value| entry is positive.
        for dtype in [DType.float64, .float32] {
            let tol = dtype == .float32 ? 1e-5 : 1e-10
            let p = try matrix(pcaData, [8, 4], dtype).pca(components: 2)
            XCTAssertEqual(p.components.shape, [2, 4])
            XCTAssertEqual(p.projected.shape, [8, 2])
            XCTAssertEqual(p.components.dtype, dtype)
            assertClose(p.mean.toDoubles(), [1.9375, 2.0749999999999997, 0.7875000000000001, 0.425], rtol: tol, atol: tol)
            assertClose(p.explainedVariance.toDoubles(), [2.2384713711758573, 0.15584071812557318], rtol: tol, atol: tol)
            assertClose(p.explainedVarianceRatio.toDoubles(), [0.8955164793959709, 0.062345193706473054], rtol: tol, atol: tol)
            assertClose(p.components.toDoubles(),
                        [0.528458566275483, 0.5533920919811965, -0.483492603989466, 0.42511602904409695,
                         -0.4378202800322688, -0.32000323030946115, -0.11274497934077979, 0.8325862745790513],
                        rtol: tol, atol: 10 * tol)
            assertClose(p.projected.toDoubles(),
                        [0.8605562137711754, 0.16087633207470253, -2.1732709168946167, 0.3854152473717777,
                         1.087088525666096, 0.010801537750154263, -0.10068720922141755, -0.22359786524359693,
                         2.2423911726465704, 0.3904630994817022, 0.6174632502850331, -0.35838684369319074,
                         -0.8225056093102948, -0.692011841068717, -1.7110354269425438, 0.3264403333271674],
                        rtol: tol, atol: 10 * tol)
        }
    }

    func testPCAAllComponentsAndSignConvention() throws {
        let p = try Tensor(float64: pcaData, shape: [8, 4]).pca()
        XCTAssertEqual(p.components.shape, [4, 4])
        assertClose(p.explainedVarianceRatio.toDoubles(),
                    [0.8955164793959709, 0.062345193706473054, 0.02576620352256616, 0.01637212337498988],
                    rtol: 1e-10, atol: 1e-12)
        var total = 0.0
        for v in p.explainedVariance.toDoubles() { total += v }
        XCTAssertEqual(total, 2.4996428571428573, accuracy: 1e-12)   // np.var(X, ddof=1, axis=0).sum()
        let c = p.components.toDoubles()
        for row in 0..<4 {
            let entries = Array(c[(row * 4)..<(row * 4 + 4)])
            let biggest = entries.max { abs($0) < abs($1) } ?? 0
            XCTAssertGreaterThan(biggest, 0, "component \(row) is not sign-normalised")
        }
        // Without centering the mean is zeros and projected = X · componentsᵀ.
        let q = try Tensor(float64: pcaData, shape: [8, 4]).pca(components: 1, center: false)
        assertClose(q.mean.toDoubles(), [0, 0, 0, 0])
        let direct = try Tensor(float64: pcaData, shape: [8, 4]).matmul(q.components.transposed())
        assertClose(q.projected, direct, rtol: 1e-10, atol: 1e-12)
    }

    func testLargerProblemsUseTheDivideAndConquerPaths() throws {
        // Sizes above LAPACK's 25-wide base case exercise the recursive workspaces.
        let m = 90, n = 60
        let values = noise(m * n, seed: 11)
        let a = try Tensor(float64: values, shape: [m, n])
        for full in [false, true] {
            let r = try a.svd(fullMatrices: full)
            let back = try (r.u.slice(axis: 1, start: 0, end: n) * r.s).matmul(r.vt)
            assertClose(back.toDoubles(), values, rtol: 0, atol: 1e-11)
        }
        let x = noise(n * 3, seed: 12)
        let b = product(values, x, m: m, k: n, n: 3)
        let solved = try a.leastSquares(try Tensor(float64: b, shape: [m, 3]))
        assertClose(solved.toDoubles(), x, rtol: 1e-9, atol: 1e-9)
        let gram = try a.transposed().matmul(a)
        let e = try gram.eigh()
        let rebuilt = try (e.vectors * e.values).matmul(e.vectors.transposed())
        assertClose(rebuilt, gram, rtol: 0, atol: 1e-10)
    }

    // MARK: - Errors

    func testErrorMessages() throws {
        assertThrows("svd: needs a 2-D tensor (matrix), got shape [2, 3, 4]") {
            try Tensor.zeros([2, 3, 4]).svd()
        }
        assertThrows("eigh: needs a 2-D tensor (matrix), got shape [4]") { try Tensor.zeros([4]).eigh() }
        assertThrows("svd: needs a non-empty matrix, got shape [0, 3]") { try Tensor.zeros([0, 3]).svd() }
        assertThrows("eigh: needs a square matrix, got shape [2, 3]") { try Tensor.zeros([2, 3]).eigh() }
        assertThrows("eigh: matrix is not symmetric: |A[0,1] - A[1,0]| = 1.0") {
            try Tensor([1, 2, 3, 4], shape: [2, 2]).eigh()
        }
        assertThrows("svd: input contains NaN or infinite values") {
            try Tensor([1, .nan, 3, 4], shape: [2, 2]).svd()
        }
        assertThrows("svd: input contains NaN or infinite values") {
            try Tensor(float64: [1, 2, .infinity, 4], shape: [2, 2]).svd()
        }
        assertThrows("eigh: input contains NaN or infinite values") {
            try Tensor([1, .nan, .nan, 4], shape: [2, 2]).eigh()
        }
        assertThrows("svd: needs a floating-point tensor, got I64") {
            try Tensor(ints: [1, 2, 3, 4], shape: [2, 2]).svd()
        }
        assertThrows("leastSquares: A has shape [3, 2] but b has shape [4]") {
            try Tensor.zeros([3, 2]).leastSquares(Tensor.zeros([4]))
        }
        assertThrows("leastSquares: b must be [m] or [m, k], got shape [3, 1, 1]") {
            try Tensor.zeros([3, 2]).leastSquares(Tensor.zeros([3, 1, 1]))
        }
        assertThrows("leastSquares: rcond must be a finite number ≥ 0, got -1.0") {
            try Tensor.ones([3, 2]).leastSquares(Tensor.ones([3]), rcond: -1)
        }
        assertThrows("pca: components must be between 1 and min(samples, features) = 4") {
            try Tensor.ones([8, 4]).pca(components: 5)
        }
        assertThrows("pca: needs at least 2 samples") { try Tensor.ones([1, 4]).pca() }

        // Error kinds.
        do { _ = try Tensor([1, .nan, 3, 4], shape: [2, 2]).svd(); XCTFail("expected an error") }
        catch let error as EngineError { XCTAssertEqual(error.kind, .numeric) }
        do { _ = try Tensor([1, 2, 3, 4], shape: [2, 2]).eigh(); XCTFail("expected an error") }
        catch let error as EngineError { XCTAssertEqual(error.kind, .argument) }
        do { _ = try Tensor.zeros([2, 3, 4]).svd(); XCTFail("expected an error") }
        catch let error as EngineError { XCTAssertEqual(error.kind, .shape) }
    }

    func testEighToleratesRoundingAsymmetry() throws {
        // XᵀX computed in float32 can be asymmetric in the last bit; that must be accepted.
        let a = try Tensor([1, 2 + 1e-7, 2, 5], shape: [2, 2])
        let e = try a.eigh()
        XCTAssertEqual(e.values.shape, [2])
    }
}
