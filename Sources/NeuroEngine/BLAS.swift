import CBLAS

// Every call into OpenBLAS and LAPACK lives in this file.

extension Float {
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                     a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                     beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int) {
        splitGemm(threads: threads, transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc) {
            cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                        blasint($0), blasint($1), blasint(k), alpha, $2, blasint(lda), $3, blasint(ldb), beta, $4, blasint(ldc))
        }
    }
}

extension Double {
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                     a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                     beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int, threads: Int) {
        splitGemm(threads: threads, transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc) {
            cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                        blasint($0), blasint($1), blasint(k), alpha, $2, blasint(lda), $3, blasint(ldb), beta, $4, blasint(ldc))
        }
    }
}

/// Runs a row-major `C[m×n] = op(A)·op(B)` as up to `threads`
/// single-threaded BLAS calls on disjoint blocks of C's rows (or of its
/// columns when C has more columns than rows), shared among the engine's
/// threads (`WorkerPool`). Each element of C is summed by one call over the
/// same k, nothing is reduced across threads. `call(rows, cols, a, b, c)` runs one block.
@inline(__always)
private func splitGemm<T>(threads: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                          a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int, c: UnsafeMutablePointer<T>, ldc: Int,
                          _ call: (Int, Int, UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>) -> Void) {
    // Below about a million multiply-adds a second thread costs more than it saves.
    guard threads > 1, m &* n &* Swift.max(k, 1) >= 1 << 20 else {
        call(m, n, a, b, c)
        return
    }
    // Each block packs the whole of the operand that is not split: split C's
    // rows when it has at least as many rows as columns (every block then
    // packs B, k·n), else its columns (every block packs A, m·k). Blocks are
    // multiples of 16 rows or columns, the kernels' tile.
    let byRows = m >= n
    let extent = byRows ? m : n
    guard extent >= 2 * 16 else {
        call(m, n, a, b, c)
        return
    }
    let chunks = Swift.min(threads, extent / 16)
    let size = ((extent + chunks - 1) / chunks + 15) / 16 * 16       // chunks · size ≥ extent
    WorkerPool.shared.run(parts: chunks) { chunk in
        let start = chunk * size
        let end = Swift.min(start + size, extent)
        guard start < end else { return }
        if byRows {
            call(end - start, n, transA ? a + start : a + start * lda, b, c + start * ldc)
        } else {
            call(m, end - start, a, transB ? b + start * ldb : b + start, c + start)
        }
    }
}

/// How many threads the engine uses for one operation: matrix products
/// (split into single-threaded BLAS calls) and large elementwise loops
/// (`Parallel`). OpenBLAS itself always runs one thread per call, so its
/// idle threads never spin on a core the engine's other work needs.
/// Starts at OpenBLAS's own count (`OPENBLAS_NUM_THREADS`, else the cores).
public enum BLASThreads {
    nonisolated(unsafe) private static var count: Int = {
        let initial = Int(openblas_get_num_threads())
        openblas_set_num_threads(1)
        return Swift.max(1, initial)
    }()

    /// Sets how many threads one operation uses.
    public static func set(_ count: Int) {
        self.count = Swift.max(1, count)
        openblas_set_num_threads(1)
    }

    /// How many threads one operation uses.
    public static var current: Int { count }
}

// MARK: - LAPACK

/// Thin typed wrappers over the double-precision LAPACK routines that
/// `Tensor+Linalg.swift` uses. Matrices are column-major and are overwritten
/// as LAPACK documents. Each wrapper checks that sizes fit LAPACK's 32-bit
/// integers, runs the workspace query (`lwork = -1`), allocates the workspace
/// and returns LAPACK's `info` unchanged: 0 on success, < 0 when argument
/// `-info` was illegal, > 0 when the algorithm did not converge. Callers turn
/// a non-zero `info` into an `EngineError`.
enum LAPACK {
    /// What `dgesdd` computes besides the singular values.
    enum SVDJob {
        /// The first min(m, n) columns of U and rows of Vᵀ (`jobz = 'S'`).
        case thin
        /// All of U [m, m] and Vᵀ [n, n] (`jobz = 'A'`).
        case full

        var code: CChar { CChar(truncatingIfNeeded: UInt8(ascii: self == .thin ? "S" : "A")) }
    }

    /// `value` as LAPACK's `int`, or an error naming `what` when it does not fit.
    static func int32(_ value: Int, op: String, _ what: String) throws -> Int32 {
        guard let narrow = Int32(exactly: value) else {
            throw EngineError.argument(op, "\(what) = \(value) is too large for LAPACK's 32-bit sizes")
        }
        return narrow
    }

    /// The workspace length a query reported (as a Double in `work[0]`),
    /// rounded up and never below `minimum`.
    private static func workspaceLength(_ reported: Double, minimum: Int, op: String) throws -> Int32 {
        guard reported.isFinite, reported < Double(Int32.max) else {
            throw EngineError.argument(op, "LAPACK asked for a workspace of \(reported) elements, too large for 32-bit sizes")
        }
        return try int32(Swift.max(Int(reported.rounded(.up)), minimum, 1), op: op, "workspace length")
    }

    /// Singular value decomposition `A = U·diag(S)·Vᵀ` by divide and conquer
    /// (`dgesdd`). `a` is m×n column-major with leading dimension `lda` and is
    /// destroyed; `s` receives min(m, n) values in descending order; `u` is
    /// m×(m or min(m, n)) with `ldu`, `vt` is (n or min(m, n))×n with `ldvt`.
    static func gesdd(_ job: SVDJob, m: Int, n: Int, a: UnsafeMutablePointer<Double>, lda: Int,
                      s: UnsafeMutablePointer<Double>, u: UnsafeMutablePointer<Double>, ldu: Int,
                      vt: UnsafeMutablePointer<Double>, ldvt: Int, op: String) throws -> Int {
        var jobz = job.code
        var m32 = try int32(m, op: op, "rows"), n32 = try int32(n, op: op, "columns")
        var lda32 = try int32(lda, op: op, "lda"), ldu32 = try int32(ldu, op: op, "ldu")
        var ldvt32 = try int32(ldvt, op: op, "ldvt")
        let iworkCount = 8 * Swift.max(Swift.min(m, n), 1)
        _ = try int32(iworkCount, op: op, "integer workspace length")
        let iwork = UnsafeMutablePointer<Int32>.allocate(capacity: iworkCount)
        defer { iwork.deallocate() }
        var info: Int32 = 0
        var query = 0.0
        var lwork: Int32 = -1
        dgesdd_(&jobz, &m32, &n32, a, &lda32, s, u, &ldu32, vt, &ldvt32, &query, &lwork, iwork, &info)
        guard info == 0 else { return Int(info) }
        lwork = try workspaceLength(query, minimum: 1, op: op)
        let work = UnsafeMutablePointer<Double>.allocate(capacity: Int(lwork))
        defer { work.deallocate() }
        dgesdd_(&jobz, &m32, &n32, a, &lda32, s, u, &ldu32, vt, &ldvt32, work, &lwork, iwork, &info)
        return Int(info)
    }

    /// Eigenvalues and eigenvectors of a symmetric n×n matrix by divide and
    /// conquer (`dsyevd`, `jobz = 'V'`, lower triangle read). On return `w`
    /// holds the eigenvalues in ascending order and the columns of `a` the
    /// matching orthonormal eigenvectors.
    static func syevd(n: Int, a: UnsafeMutablePointer<Double>, lda: Int, w: UnsafeMutablePointer<Double>,
                      op: String) throws -> Int {
        var jobz = CChar(truncatingIfNeeded: UInt8(ascii: "V"))
        var uplo = CChar(truncatingIfNeeded: UInt8(ascii: "L"))
        var n32 = try int32(n, op: op, "order"), lda32 = try int32(lda, op: op, "lda")
        var info: Int32 = 0
        var query = 0.0
        var iquery: Int32 = 0
        var lwork: Int32 = -1, liwork: Int32 = -1
        dsyevd_(&jobz, &uplo, &n32, a, &lda32, w, &query, &lwork, &iquery, &liwork, &info)
        guard info == 0 else { return Int(info) }
        // Documented minimums for jobz = 'V': 1 + 6n + 2n², 3 + 5n.
        lwork = try workspaceLength(query, minimum: 1 + 6 * n + 2 * n * n, op: op)
        liwork = try int32(Swift.max(Int(iquery), 3 + 5 * n), op: op, "integer workspace length")
        let work = UnsafeMutablePointer<Double>.allocate(capacity: Int(lwork))
        defer { work.deallocate() }
        let iwork = UnsafeMutablePointer<Int32>.allocate(capacity: Int(liwork))
        defer { iwork.deallocate() }
        dsyevd_(&jobz, &uplo, &n32, a, &lda32, w, work, &lwork, iwork, &liwork, &info)
        return Int(info)
    }

    /// Eigenvalues of a general n×n matrix (`dgeev`, no eigenvectors). `a`
    /// is column-major and destroyed; `wr` and `wi` receive the real and
    /// imaginary parts, a complex conjugate pair one after the other (the one
    /// with positive imaginary part first), in the order LAPACK finds them.
    static func geev(n: Int, a: UnsafeMutablePointer<Double>, lda: Int, wr: UnsafeMutablePointer<Double>,
                     wi: UnsafeMutablePointer<Double>, op: String) throws -> Int {
        var none = CChar(truncatingIfNeeded: UInt8(ascii: "N"))
        var noneR = none
        var n32 = try int32(n, op: op, "order"), lda32 = try int32(lda, op: op, "lda")
        var one: Int32 = 1
        var oneR: Int32 = 1
        var unused = 0.0, unusedR = 0.0
        var info: Int32 = 0
        var query = 0.0
        var lwork: Int32 = -1
        dgeev_(&none, &noneR, &n32, a, &lda32, wr, wi, &unused, &one, &unusedR, &oneR, &query, &lwork, &info)
        guard info == 0 else { return Int(info) }
        lwork = try workspaceLength(query, minimum: 3 * n, op: op)   // documented minimum without vectors: 3n
        let work = UnsafeMutablePointer<Double>.allocate(capacity: Int(lwork))
        defer { work.deallocate() }
        dgeev_(&none, &noneR, &n32, a, &lda32, wr, wi, &unused, &one, &unusedR, &oneR, work, &lwork, &info)
        return Int(info)
    }

    /// Minimum-norm solution of `min ‖A·X − B‖` via the SVD (`dgelsd`). `a`
    /// is m×n column-major (destroyed); `b` is ldb×nrhs with ldb ≥ max(m, n)
    /// and returns the n×nrhs solution in its first n rows; `s` receives the
    /// min(m, n) singular values. Singular values ≤ `rcond`·s₁ count as zero
    /// (a negative `rcond` means machine precision). Returns `info` and the
    /// effective rank.
    static func gelsd(m: Int, n: Int, nrhs: Int, a: UnsafeMutablePointer<Double>, lda: Int,
                      b: UnsafeMutablePointer<Double>, ldb: Int, s: UnsafeMutablePointer<Double>,
                      rcond: Double, op: String) throws -> (info: Int, rank: Int) {
        var m32 = try int32(m, op: op, "rows"), n32 = try int32(n, op: op, "columns")
        var nrhs32 = try int32(nrhs, op: op, "right-hand sides")
        var lda32 = try int32(lda, op: op, "lda"), ldb32 = try int32(ldb, op: op, "ldb")
        var rcondValue = rcond
        var rank: Int32 = 0
        var info: Int32 = 0
        var query = 0.0
        var iquery: Int32 = 0
        var lwork: Int32 = -1
        dgelsd_(&m32, &n32, &nrhs32, a, &lda32, b, &ldb32, s, &rcondValue, &rank, &query, &lwork, &iquery, &info)
        guard info == 0 else { return (Int(info), 0) }
        lwork = try workspaceLength(query, minimum: 1, op: op)
        // Documented minimum: 3·minmn·nlvl + 11·minmn with nlvl = max(0, int(log₂(minmn / 26)) + 1);
        // the bit count of minmn / 26, plus one, is never below that nlvl.
        let minmn = Swift.max(Swift.min(m, n), 1)
        var nlvl = 1
        var blocks = minmn / 26
        while blocks > 0 { nlvl += 1; blocks /= 2 }
        let liwork = try int32(Swift.max(Int(iquery), 3 * minmn * nlvl + 11 * minmn, 1), op: op, "integer workspace length")
        let work = UnsafeMutablePointer<Double>.allocate(capacity: Int(lwork))
        defer { work.deallocate() }
        let iwork = UnsafeMutablePointer<Int32>.allocate(capacity: Int(liwork))
        defer { iwork.deallocate() }
        dgelsd_(&m32, &n32, &nrhs32, a, &lda32, b, &ldb32, s, &rcondValue, &rank, work, &lwork, iwork, &info)
        return (Int(info), Int(rank))
    }
}
