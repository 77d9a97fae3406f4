// Linear algebra for the analyzers (PCA, Fourier, probes): SVD, symmetric
// eigendecomposition, least squares and PCA. Every routine runs on LAPACK in
// Float64 (float32 inputs are widened first) and returns results in the
// input's dtype. None of it is recorded for autograd. The LAPACK calls
// themselves live in BLAS.swift.

/// The singular value decomposition `A = U·diag(S)·Vᵀ` of a matrix, as
/// returned by `Tensor.svd(fullMatrices:)`.
///
/// For `A` of shape [m, n] and k = min(m, n): thin results have `u` [m, k],
/// `s` [k], `vt` [k, n]; full results have `u` [m, m], `s` [k], `vt` [n, n].
/// The columns of `u` and the rows of `vt` are orthonormal. Each pair of
/// singular vectors is determined only up to a common sign.
///
/// ```swift
/// let r = try a.svd()
/// let back = try (r.u * r.s).matmul(r.vt)   // ≈ a
/// ```
public struct SVDResult {
    /// Left singular vectors as columns: [m, k] (thin) or [m, m] (full).
    public let u: Tensor
    /// Singular values, non-negative and in descending order: [k].
    public let s: Tensor
    /// Right singular vectors as rows: [k, n] (thin) or [n, n] (full).
    public let vt: Tensor
}

/// The eigendecomposition `A = V·diag(λ)·Vᵀ` of a symmetric matrix, as
/// returned by `Tensor.eigh()`.
///
/// `values` [n] are in ascending order (as in `torch.linalg.eigh`);
/// column j of `vectors` [n, n] is the unit eigenvector for `values[j]`,
/// determined up to sign (and, for repeated eigenvalues, up to a rotation
/// within their eigenspace).
///
/// ```swift
/// let e = try cov.eigh()
/// let top = try e.vectors.select(axis: 1, index: e.values.count - 1)   // largest eigenvalue's vector
/// ```
public struct EighResult {
    /// Eigenvalues in ascending order: [n].
    public let values: Tensor
    /// Orthonormal eigenvectors as columns: [n, n].
    public let vectors: Tensor
}

/// Principal component analysis of a [samples, features] matrix, as returned
/// by `Tensor.pca(components:center:)`. Conventions follow scikit-learn.
///
/// Each component's sign is fixed so that its largest-magnitude entry (the
/// first one, on ties) is positive, which makes results reproducible.
///
/// ```swift
/// let p = try activations.pca(components: 2)
/// print(p.explainedVarianceRatio.toDoubles())   // e.g. [0.71, 0.18]
/// ```
public struct PCAResult {
    /// Principal directions as unit rows, by decreasing variance: [k, features].
    public let components: Tensor
    /// Variance of the data along each component, `s² / (samples − 1)`: [k].
    public let explainedVariance: Tensor
    /// Each component's share of the total variance (over all min(samples,
    /// features) components, not only the k kept); zeros when the data has
    /// no variance at all: [k].
    public let explainedVarianceRatio: Tensor
    /// The per-feature mean that was subtracted (zeros when `center` was
    /// false): [features].
    public let mean: Tensor
    /// The (centered) samples in component coordinates, `(X − mean)·componentsᵀ`:
    /// [samples, k].
    public let projected: Tensor
}

extension Tensor {
    // MARK: - SVD

    /// Singular value decomposition `self = U·diag(S)·Vᵀ` of a matrix [m, n],
    /// computed by LAPACK's divide-and-conquer `gesdd` in Float64; results
    /// have this tensor's dtype and are not recorded for autograd.
    ///
    /// With k = min(m, n), the thin form (default) returns `u` [m, k], `s` [k]
    /// and `vt` [k, n]; `fullMatrices: true` returns square `u` [m, m] and
    /// `vt` [n, n] (the extra columns/rows complete orthonormal bases).
    /// Singular values come in descending order.
    ///
    /// Throws a shape error unless this is a non-empty 2-D tensor, a dtype
    /// error for integer tensors, a numeric error when the matrix holds NaN or
    /// infinite values (checked before LAPACK runs) or when LAPACK does not
    /// converge.
    ///
    /// ```swift
    /// let a = try Tensor([3, 2, 2, 2, 3, -2], shape: [2, 3])
    /// let r = try a.svd()            // r.s ≈ [5, 3]
    /// let back = try (r.u * r.s).matmul(r.vt)
    /// ```
    public func svd(fullMatrices: Bool = false) throws -> SVDResult {
        let op = "svd"
        let a = try linalgOperand(op)
        if fullMatrices {
            // Square factors of a long thin matrix can be far larger than it: check before LAPACK allocates them.
            for side in [a.rows, a.cols] { _ = try Tensor.checkedCount([side, side], dtype: .float64, op: op) }
        }
        let r = try Tensor.svdValues(a.values, rows: a.rows, cols: a.cols, full: fullMatrices, op: op)
        return SVDResult(u: try Tensor.linalgTensor(r.u, shape: [a.rows, r.uCols], dtype: dtype),
                         s: try Tensor.linalgTensor(r.s, shape: [r.s.count], dtype: dtype),
                         vt: try Tensor.linalgTensor(r.vt, shape: [r.vtRows, a.cols], dtype: dtype))
    }

    // MARK: - Symmetric eigendecomposition

    /// Eigenvalues and eigenvectors of a symmetric matrix [n, n], computed by
    /// LAPACK's divide-and-conquer `syevd` in Float64; results have this
    /// tensor's dtype and are not recorded for autograd.
    ///
    /// Eigenvalues come in ascending order (like `torch.linalg.eigh`) and
    /// column j of `vectors` is the unit eigenvector for `values[j]`, so
    /// `vectors · diag(values) · vectorsᵀ ≈ self`.
    ///
    /// The matrix must be symmetric to within 1e-5 (float32) or 1e-10
    /// (float64) times its largest absolute entry; the two triangles are then
    /// averaged. Throws an argument error naming the worst offending pair
    /// otherwise, a shape error unless this is a non-empty square 2-D tensor,
    /// a dtype error for integer tensors, and a numeric error for NaN or
    /// infinite entries or when LAPACK does not converge.
    ///
    /// ```swift
    /// let m = try Tensor([2, 1, 1, 2], shape: [2, 2])
    /// let e = try m.eigh()           // e.values ≈ [1, 3]
    /// ```
    public func eigh() throws -> EighResult {
        let op = "eigh"
        let m = try linalgOperand(op)
        guard m.rows == m.cols else {
            throw EngineError.shape(op, "needs a square matrix, got shape \(formatShape(shape))")
        }
        let n = m.rows
        let a = m.values
        var largest = 0.0
        for v in a { largest = Swift.max(largest, Swift.abs(v)) }
        var worst = 0.0, worstI = 0, worstJ = 0
        for i in 0..<n {
            for j in (i + 1)..<n {
                let d = Swift.abs(a[i * n + j] - a[j * n + i])
                if d > worst { worst = d; worstI = i; worstJ = j }
            }
        }
        let tolerance = (dtype == .float32 ? 1e-5 : 1e-10) * largest
        guard worst <= tolerance else {
            throw EngineError.argument(op, "matrix is not symmetric: |A[\(worstI),\(worstJ)] - A[\(worstJ),\(worstI)]| = \(worst) "
                + "exceeds the tolerance \(tolerance) (\(dtype == .float32 ? "1e-5" : "1e-10") × largest |entry|)")
        }

        let buffer = UnsafeMutablePointer<Double>.allocate(capacity: n * n)
        defer { buffer.deallocate() }
        for i in 0..<n {
            for j in 0..<n { buffer[i * n + j] = 0.5 * (a[i * n + j] + a[j * n + i]) }
        }
        let w = UnsafeMutablePointer<Double>.allocate(capacity: n)
        defer { w.deallocate() }
        let info = try LAPACK.syevd(n: n, a: buffer, lda: n, w: w, op: op)
        try Tensor.checkLAPACKInfo(info, routine: "dsyevd", op: op)

        // Column-major columns are eigenvectors: buffer[j·n + i] is entry i of vector j.
        var vectors = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            for i in 0..<n { vectors[i * n + j] = buffer[j * n + i] }
        }
        let values = Array(UnsafeBufferPointer(start: w, count: n))
        return EighResult(values: try Tensor.linalgTensor(values, shape: [n], dtype: dtype),
                          vectors: try Tensor.linalgTensor(vectors, shape: [n, n], dtype: dtype))
    }

    // MARK: - General eigenvalues

    /// The eigenvalues of a square matrix [n, n] that need not be symmetric,
    /// computed by LAPACK's `geev` in Float64, as their real and imaginary
    /// parts (each [n], in this tensor's dtype): the values of
    /// `torch.linalg.eig(a).eigenvalues`, in LAPACK's order (complex
    /// conjugate pairs next to each other, positive imaginary part first).
    /// Not recorded for autograd.
    ///
    /// Throws a shape error unless this is a non-empty square 2-D tensor, a
    /// dtype error for integer tensors, a numeric error for NaN or infinite
    /// entries or when LAPACK does not converge.
    ///
    /// ```swift
    /// let rotation = try Tensor([0, -1, 1, 0], shape: [2, 2])
    /// let e = try rotation.eigenvalues()   // real [0, 0], imaginary [1, -1]
    /// ```
    public func eigenvalues() throws -> (real: Tensor, imaginary: Tensor) {
        let op = "eigenvalues"
        let m = try linalgOperand(op)
        guard m.rows == m.cols else {
            throw EngineError.shape(op, "needs a square matrix, got shape \(formatShape(shape))")
        }
        let n = m.rows
        // Row-major A is column-major Aᵀ, which has the same eigenvalues.
        let a = UnsafeMutablePointer<Double>.allocate(capacity: n * n)
        defer { a.deallocate() }
        m.values.withUnsafeBufferPointer { source in
            for i in 0..<(n * n) { a[i] = source[i] }
        }
        let wr = UnsafeMutablePointer<Double>.allocate(capacity: n)
        defer { wr.deallocate() }
        let wi = UnsafeMutablePointer<Double>.allocate(capacity: n)
        defer { wi.deallocate() }
        let info = try LAPACK.geev(n: n, a: a, lda: n, wr: wr, wi: wi, op: op)
        try Tensor.checkLAPACKInfo(info, routine: "dgeev", op: op)
        let real = Array(UnsafeBufferPointer(start: wr, count: n)), imaginary = Array(UnsafeBufferPointer(start: wi, count: n))
        return (try Tensor.linalgTensor(real, shape: [n], dtype: dtype), try Tensor.linalgTensor(imaginary, shape: [n], dtype: dtype))
    }

    // MARK: - Least squares

    /// The minimum-norm least-squares solution `x` of `min ‖self · x − b‖`
    /// for `self` = A [m, n], computed by LAPACK's SVD-based `gelsd` in
    /// Float64. Not recorded for autograd.
    ///
    /// `b` is [m] (giving `x` [n]) or [m, k] (giving `x` [n, k], one column
    /// per right-hand side). Works for overdetermined (m > n),
    /// underdetermined (m < n) and rank-deficient systems; in the last two
    /// cases the solution of smallest norm is returned. Singular values at or
    /// below `rcond` × the largest one are treated as zero; the default is the
    /// machine epsilon of the result dtype × max(m, n) (as in PyTorch). The
    /// result is float64 if either operand is, float32 otherwise.
    ///
    /// Throws a shape error unless A is a non-empty 2-D tensor and `b` is 1-D
    /// or 2-D with m rows, a dtype error for integer operands, an argument
    /// error for a negative or non-finite `rcond`, and a numeric error for NaN
    /// or infinite entries or when LAPACK does not converge. A `b` with zero
    /// columns gives zeros [n, 0].
    ///
    /// ```swift
    /// let a = try Tensor([1, 0, 1, 1, 1, 2], shape: [3, 2])
    /// let b = try Tensor([1, 2, 3], shape: [3])
    /// let x = try a.leastSquares(b)  // ≈ [1, 1]: the line 1 + t through (0,1), (1,2), (2,3)
    /// ```
    public func leastSquares(_ b: Tensor, rcond: Double? = nil) throws -> Tensor {
        let op = "leastSquares"
        let a = try linalgOperand(op)
        let m = a.rows, n = a.cols
        try b.requireFloat(op)
        guard b.rank == 1 || b.rank == 2 else {
            throw EngineError.shape(op, "b must be [m] or [m, k], got shape \(formatShape(b.shape))")
        }
        guard b.shape[0] == m else {
            throw EngineError.shape(op, "A has shape \(formatShape(shape)) but b has shape \(formatShape(b.shape)); "
                + "b needs \(m) rows")
        }
        let outDtype: DType = (dtype == .float64 || b.dtype == .float64) ? .float64 : .float32
        let nrhs = b.rank == 1 ? 1 : b.shape[1]
        let outShape = b.rank == 1 ? [n] : [n, nrhs]
        if nrhs == 0 { return try Tensor.zeros(outShape, dtype: outDtype) }
        let bValues = b.toDoubles()
        if bValues.contains(where: { !$0.isFinite }) {
            throw EngineError(.numeric, "\(op): b contains NaN or infinite values")
        }
        let threshold: Double
        if let rcond = rcond {
            guard rcond.isFinite && rcond >= 0 else {
                throw EngineError.argument(op, "rcond must be a finite number ≥ 0, got \(rcond)")
            }
            threshold = rcond
        } else {
            let epsilon = outDtype == .float32 ? Double(Float.ulpOfOne) : Double.ulpOfOne
            threshold = epsilon * Double(Swift.max(m, n))
        }

        // LAPACK wants column-major A [m, n] and B [ldb, nrhs] with ldb ≥ max(m, n).
        let ldb = Swift.max(m, n)
        let colA = UnsafeMutablePointer<Double>.allocate(capacity: m * n)
        defer { colA.deallocate() }
        for i in 0..<m {
            for j in 0..<n { colA[i + j * m] = a.values[i * n + j] }
        }
        let colB = UnsafeMutablePointer<Double>.allocate(capacity: ldb * nrhs)
        defer { colB.deallocate() }
        colB.initialize(repeating: 0, count: ldb * nrhs)
        for i in 0..<m {
            for c in 0..<nrhs { colB[i + c * ldb] = bValues[i * nrhs + c] }
        }
        let s = UnsafeMutablePointer<Double>.allocate(capacity: Swift.min(m, n))
        defer { s.deallocate() }
        let result = try LAPACK.gelsd(m: m, n: n, nrhs: nrhs, a: colA, lda: m, b: colB, ldb: ldb, s: s,
                                      rcond: threshold, op: op)
        try Tensor.checkLAPACKInfo(result.info, routine: "dgelsd", op: op)

        var x = [Double](repeating: 0, count: n * nrhs)
        for r in 0..<n {
            for c in 0..<nrhs { x[r * nrhs + c] = colB[r + c * ldb] }
        }
        return try Tensor.linalgTensor(x, shape: outShape, dtype: outDtype)
    }

    // MARK: - PCA

    /// Principal component analysis of this [samples, features] matrix, via
    /// the SVD of the (centered) data in Float64, with scikit-learn's
    /// conventions: explained variance is `s² / (samples − 1)` and the ratio
    /// divides by the variance summed over all min(samples, features)
    /// components. Results have this tensor's dtype; not recorded for autograd.
    ///
    /// - Parameters:
    ///   - components: how many components k to keep, 1 ... min(samples,
    ///     features); nil keeps all of them.
    ///   - center: subtract the per-feature mean first (standard PCA). With
    ///     false the data is decomposed as is, `mean` is zeros and the
    ///     "variances" are second moments about the origin.
    ///
    /// Each component is signed so that its largest-magnitude entry is
    /// positive (`projected` flips with it), so results are deterministic.
    ///
    /// Throws a shape error unless this is a 2-D tensor with at least 2
    /// samples and 1 feature, an argument error for `components` out of
    /// range, a dtype error for integer tensors and a numeric error for NaN or
    /// infinite entries or when the SVD does not converge.
    ///
    /// ```swift
    /// let x = try Tensor.randn([100, 8])
    /// let p = try x.pca(components: 2)
    /// // p.components [2, 8], p.projected [100, 2], p.explainedVarianceRatio [2]
    /// ```
    public func pca(components: Int? = nil, center: Bool = true) throws -> PCAResult {
        let op = "pca"
        let data = try linalgOperand(op)
        let samples = data.rows, features = data.cols
        guard samples >= 2 else {
            throw EngineError.shape(op, "needs at least 2 samples (rows) to estimate variance, got shape \(formatShape(shape))")
        }
        let available = Swift.min(samples, features)
        let k = components ?? available
        guard k >= 1 && k <= available else {
            throw EngineError.argument(op, "components must be between 1 and min(samples, features) = \(available) "
                + "for shape \(formatShape(shape)), got \(k)")
        }

        var mean = [Double](repeating: 0, count: features)
        var centered = data.values
        if center {
            for i in 0..<samples {
                for j in 0..<features { mean[j] += data.values[i * features + j] }
            }
            for j in 0..<features { mean[j] /= Double(samples) }
            for i in 0..<samples {
                for j in 0..<features { centered[i * features + j] -= mean[j] }
            }
        }

        let r = try Tensor.svdValues(centered, rows: samples, cols: features, full: false, op: op)
        var total = 0.0
        for v in r.s { total += v * v }

        var directions = [Double](repeating: 0, count: k * features)
        var projected = [Double](repeating: 0, count: samples * k)
        var variance = [Double](repeating: 0, count: k)
        var ratio = [Double](repeating: 0, count: k)
        for c in 0..<k {
            var pivot = 0
            for j in 0..<features where Swift.abs(r.vt[c * features + j]) > Swift.abs(r.vt[c * features + pivot]) {
                pivot = j
            }
            let sign: Double = r.vt[c * features + pivot] < 0 ? -1 : 1
            for j in 0..<features { directions[c * features + j] = sign * r.vt[c * features + j] }
            for i in 0..<samples { projected[i * k + c] = sign * r.u[i * r.uCols + c] * r.s[c] }
            variance[c] = r.s[c] * r.s[c] / Double(samples - 1)
            ratio[c] = total > 0 ? r.s[c] * r.s[c] / total : 0
        }

        return PCAResult(components: try Tensor.linalgTensor(directions, shape: [k, features], dtype: dtype),
                         explainedVariance: try Tensor.linalgTensor(variance, shape: [k], dtype: dtype),
                         explainedVarianceRatio: try Tensor.linalgTensor(ratio, shape: [k], dtype: dtype),
                         mean: try Tensor.linalgTensor(mean, shape: [features], dtype: dtype),
                         projected: try Tensor.linalgTensor(projected, shape: [samples, k], dtype: dtype))
    }

    // MARK: - Shared machinery

    /// Checks that this is a non-empty, finite, floating-point 2-D tensor and
    /// returns its values, row-major, as Float64.
    func linalgOperand(_ op: String) throws -> (rows: Int, cols: Int, values: [Double]) {
        guard rank == 2 else {
            throw EngineError.shape(op, "needs a 2-D tensor (matrix), got shape \(formatShape(shape))")
        }
        try requireFloat(op)
        guard shape[0] > 0 && shape[1] > 0 else {
            throw EngineError.shape(op, "needs a non-empty matrix, got shape \(formatShape(shape))")
        }
        let values = toDoubles()
        if values.contains(where: { !$0.isFinite }) {
            throw EngineError(.numeric, "\(op): input contains NaN or infinite values")
        }
        return (shape[0], shape[1], values)
    }

    /// A contiguous tensor of `dtype` (float32 or float64) holding `values`.
    static func linalgTensor(_ values: [Double], shape: [Int], dtype: DType) throws -> Tensor {
        if dtype == .float32 { return try Tensor(values.map { Float($0) }, shape: shape) }
        return try Tensor(float64: values, shape: shape)
    }

    /// Turns a non-zero LAPACK `info` into an `EngineError`.
    static func checkLAPACKInfo(_ info: Int, routine: String, op: String) throws {
        if info > 0 {
            throw EngineError(.numeric, "\(op): did not converge (LAPACK info \(info))")
        }
        if info < 0 {
            throw EngineError(.numeric, "\(op): LAPACK \(routine) rejected argument \(-info) (info \(info)); "
                + "this is a bug in NeuroEngine")
        }
    }

    /// SVD of a row-major [rows, cols] matrix of finite values, returning
    /// row-major U [rows, uCols], S [min(rows, cols)] and Vᵀ [vtRows, cols].
    ///
    /// LAPACK is column-major, so the row-major buffer of A [m, n] is, to
    /// LAPACK, the n×m matrix Aᵀ (lda = n). Decomposing Aᵀ = U'·S·V'ᵀ gives
    /// A = V'·S·U'ᵀ: LAPACK's U' (n×c column-major, ldu = n) read row-major is
    /// exactly our Vᵀ [c, n], and its V'ᵀ (r×m column-major, ldvt = r) read
    /// row-major is exactly our U [m, r]. No transposing copies are needed.
    static func svdValues(_ values: [Double], rows m: Int, cols n: Int, full: Bool,
                          op: String) throws -> (u: [Double], s: [Double], vt: [Double], uCols: Int, vtRows: Int) {
        let k = Swift.min(m, n)
        let uCols = full ? m : k
        let vtRows = full ? n : k
        let a = UnsafeMutablePointer<Double>.allocate(capacity: m * n)
        defer { a.deallocate() }
        values.withUnsafeBufferPointer { source in
            for i in 0..<(m * n) { a[i] = source[i] }
        }
        let s = UnsafeMutablePointer<Double>.allocate(capacity: k)
        defer { s.deallocate() }
        let u = UnsafeMutablePointer<Double>.allocate(capacity: m * uCols)     // LAPACK's V'ᵀ
        defer { u.deallocate() }
        let vt = UnsafeMutablePointer<Double>.allocate(capacity: vtRows * n)   // LAPACK's U'
        defer { vt.deallocate() }
        let info = try LAPACK.gesdd(full ? .full : .thin, m: n, n: m, a: a, lda: n, s: s,
                                    u: vt, ldu: n, vt: u, ldvt: uCols, op: op)
        try checkLAPACKInfo(info, routine: "dgesdd", op: op)
        return (Array(UnsafeBufferPointer(start: u, count: m * uCols)),
                Array(UnsafeBufferPointer(start: s, count: k)),
                Array(UnsafeBufferPointer(start: vt, count: vtRows * n)),
                uCols, vtRows)
    }
}
