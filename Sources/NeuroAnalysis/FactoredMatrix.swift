import NeuroEngine

/// A matrix kept as the product of two factors, `A @ B`, as TransformerLens's
/// `FactoredMatrix`: a head's OV circuit `W_V @ W_O` [d_model, d_model] is
/// kept as [d_model, d_head] @ [d_head, d_model], and its singular values,
/// eigenvalues and norm come from the factors without forming the product.
/// Leading dimensions ([layer, head] for `model.OV`) broadcast between the
/// factors and index like a tensor's.
///
/// `A` is [..., ldim, mdim], `B` [..., mdim, rdim]; the matrix is [..., ldim, rdim].
///
/// ```swift
/// let ov = try FactoredMatrix(wV, wO)           // [layer, head, d_model, d_model]
/// let (u, s, v) = try ov.svd()                  // s [layer, head, d_head]
/// let first = try ov.indexed([0, 1])            // layer 0, head 1
/// ```
public struct FactoredMatrix {
    /// The left factor [..., ldim, mdim] and the right factor [..., mdim, rdim], broadcast to the same leading shape.
    public let a: Tensor, b: Tensor

    /// The factors as given; errors name both shapes when they do not fit.
    public init(_ a: Tensor, _ b: Tensor) throws {
        let op = "factored matrix"
        guard a.rank >= 2, b.rank >= 2 else {
            throw EngineError(.shape, "\(op): both factors must be matrices (or stacks of them); got A \(formatShape(a.shape)) and B \(formatShape(b.shape))")
        }
        guard a.dtype.isFloatingPoint, b.dtype.isFloatingPoint else {
            throw EngineError(.dtype, "\(op): the factors must be floating point; got \(a.dtype.shortName) and \(b.dtype.shortName)")
        }
        guard a.shape[a.rank - 1] == b.shape[b.rank - 2] else {
            throw EngineError(.shape, "\(op): A's columns must match B's rows; got A \(formatShape(a.shape)) and B \(formatShape(b.shape))")
        }
        let leading = try Tensor.broadcastShapes(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)), op: op)
        let wide = a.dtype == .float64 || b.dtype == .float64 ? DType.float64 : .float32
        self.a = try a.cast(to: wide).detached().expanded(to: leading + Array(a.shape.suffix(2)))
        self.b = try b.cast(to: wide).detached().expanded(to: leading + Array(b.shape.suffix(2)))
    }

    /// The dimensions before the matrix ([layer, head] for `model.OV`).
    public var leading: [Int] { Array(a.shape.dropLast(2)) }
    public var ldim: Int { a.shape[a.rank - 2] }
    /// The inner dimension: the rank is at most this.
    public var mdim: Int { a.shape[a.rank - 1] }
    public var rdim: Int { b.shape[b.rank - 1] }
    /// The shape of the matrix it stands for: leading + [ldim, rdim].
    public var shape: [Int] { leading + [ldim, rdim] }

    // MARK: - Products

    /// The full product `A @ B` [..., ldim, rdim] (TransformerLens's `AB`),
    /// refused before anything is allocated when it would be larger than a
    /// tensor may be (`Tensor.maxElements`).
    public func product() throws -> Tensor {
        do {
            _ = try Tensor.checkedCount(shape, dtype: a.dtype, op: "AB")
        } catch let error as EngineError {
            throw EngineError(error.kind, error.message + "; keep it factored: svd(), eigenvalues and norm() work from the factors")
        }
        return try a.matmul(b)
    }

    /// The reverse product `B @ A` [..., mdim, mdim] (TransformerLens's `BA`),
    /// which has the product's non-zero eigenvalues; only for a square matrix.
    public func reverseProduct() throws -> Tensor {
        guard ldim == rdim else {
            throw EngineError(.shape, "BA needs a square factored matrix (ldim = rdim); this one is \(formatShape(shape))")
        }
        return try b.matmul(a)
    }

    /// The transpose `Bᵀ @ Aᵀ`.
    public func transposed() throws -> FactoredMatrix {
        try FactoredMatrix(b.transposed(), a.transposed())
    }

    /// `self @ other` for a matrix (or stack) [..., rdim, n]: still factored,
    /// the cheaper way round (TransformerLens's rule: fold `other` into B when
    /// rdim > mdim, else multiply out AB, which is then no larger than A).
    public func multiplied(by other: Tensor) throws -> FactoredMatrix {
        guard other.rank >= 2 else { throw EngineError(.shape, "a vector times a factored matrix is a vector: use vector(…)") }
        guard other.shape[other.rank - 2] == rdim else {
            throw EngineError(.shape, "factored matrix \(formatShape(shape)) @ \(formatShape(other.shape)): \(rdim) columns against \(other.shape[other.rank - 2]) rows")
        }
        return rdim > mdim ? try FactoredMatrix(a, b.matmul(other)) : try FactoredMatrix(product(), other)
    }

    /// `self @ other` for another factored matrix: `(self @ other.A) @ other.B`.
    public func multiplied(by other: FactoredMatrix) throws -> FactoredMatrix {
        try multiplied(by: other.a).multiplied(by: other.b)
    }

    /// `other @ self` for a matrix (or stack) [..., n, ldim], still factored.
    public func premultiplied(by other: Tensor) throws -> FactoredMatrix {
        guard other.rank >= 2 else { throw EngineError(.shape, "a vector times a factored matrix is a vector: use vector(…)") }
        guard other.shape[other.rank - 1] == ldim else {
            throw EngineError(.shape, "\(formatShape(other.shape)) @ factored matrix \(formatShape(shape)): \(other.shape[other.rank - 1]) columns against \(ldim) rows")
        }
        return ldim > mdim ? try FactoredMatrix(other.matmul(a), b) : try FactoredMatrix(other, product())
    }

    /// `self @ v` for a vector [rdim] (`A @ (B @ v)`, [..., ldim]), or
    /// `v @ self` for a vector [ldim] when `left` ([..., rdim]).
    public func applied(to v: Tensor, left: Bool = false) throws -> Tensor {
        guard v.rank == 1 else { throw EngineError(.shape, "expected a vector, got \(formatShape(v.shape))") }
        let needed = left ? ldim : rdim
        guard v.shape[0] == needed else {
            throw EngineError(.shape, "a vector of \(v.shape[0]) against a factored matrix \(formatShape(shape)) needs \(needed)")
        }
        let x = try v.cast(to: a.dtype)
        if left { return try x.matmul(a).matmul(b) }                                                   // [..., rdim]
        return try a.matmul(b.matmul(x.unsqueezed(1))).squeezed(-1)                                     // [..., ldim]
    }

    /// The matrix times a number (the number goes into A).
    public func scaled(_ factor: Double) throws -> FactoredMatrix {
        try FactoredMatrix(a.scaled(factor), b)
    }

    /// The matrices at `index` in the leading dimensions (`OV[0, 1]`: layer 0, head 1);
    /// negative indices count from the end. At most as many indices as leading dimensions.
    public func indexed(_ index: [Int]) throws -> FactoredMatrix {
        guard index.count <= leading.count else {
            throw EngineError(.index, "a factored matrix \(formatShape(shape)) takes at most \(leading.count) ind\(leading.count == 1 ? "ex" : "ices") (its leading dimensions); got \(index.count)")
        }
        var (x, y) = (a, b)
        for i in index {
            x = try x.select(axis: 0, index: i)
            y = try y.select(axis: 0, index: i)
        }
        return try FactoredMatrix(x, y)
    }

    // MARK: - Spectra

    /// The thin SVD of the product from those of the factors (TransformerLens's
    /// way): `A = Ua Sa Vaᵀ`, `B = Ub Sb Vbᵀ`, then the small middle matrix
    /// `Sa Vaᵀ Ub Sb` is decomposed. Returns `u` [..., ldim, k], `s` [..., k]
    /// descending and `v` [..., rdim, k] (right singular vectors as columns,
    /// TransformerLens's `V`), k = min(ldim, mdim, rdim), so that
    /// `u · diag(s) · vᵀ` is the product. Each pair of singular vectors is
    /// determined only up to sign.
    public func svd() throws -> (u: Tensor, s: Tensor, v: Tensor) {
        let parts = try eachMatrix { x, y -> [Tensor] in
            let ra = try x.svd(), rb = try y.svd()
            let middle = try (ra.s.unsqueezed(1) * ra.vt).matmul(rb.u * rb.s)                          // [ka, kb]
            let rm = try middle.svd()
            return [try ra.u.matmul(rm.u), rm.s, try rb.vt.transposed().matmul(rm.vt.transposed())]   // [l, k], [k], [r, k]
        }
        return (parts[0], parts[1], parts[2])
    }

    /// The eigenvalues of the product, as real and imaginary parts [..., mdim]:
    /// those of the small `B @ A` (which has the product's non-zero
    /// eigenvalues), as TransformerLens's `eigenvalues`. Only for a square matrix.
    public func eigenvalues() throws -> (real: Tensor, imaginary: Tensor) {
        guard ldim == rdim else {
            throw EngineError(.shape, "eigenvalues need a square factored matrix (ldim = rdim); this one is \(formatShape(shape))")
        }
        let parts = try eachMatrix { x, y -> [Tensor] in
            let e = try y.matmul(x).eigenvalues()
            return [e.real, e.imaginary]
        }
        return (parts[0], parts[1])
    }

    /// The Frobenius norm of the product [...], from the factors'
    /// Gram matrices: ‖AB‖² = Σᵢⱼ (AᵀA)ᵢⱼ (BBᵀ)ᵢⱼ, mdim × mdim each.
    public func norm() throws -> Tensor {
        let gramA = try a.transposed().matmul(a), gramB = try b.matmul(b.transposed())                  // [..., mdim, mdim]
        let squared = try (gramA * gramB).sum(axes: [-2, -1])
        return try squared.relu().sqrt()                                                                // rounding can dip below 0
    }

    /// Runs `body` on each matrix pair of the leading dimensions and stacks
    /// what it returns back over them.
    private func eachMatrix(_ body: (Tensor, Tensor) throws -> [Tensor]) throws -> [Tensor] {
        let lead = leading
        let count = lead.reduce(1, *)
        guard count > 0 else { throw EngineError(.shape, "the factored matrix \(formatShape(shape)) is empty") }
        let flatA = try a.reshaped([count, ldim, mdim]), flatB = try b.reshaped([count, mdim, rdim])
        var columns: [[Tensor]] = []
        for i in 0..<count {
            let results = try body(try flatA.select(axis: 0, index: i), try flatB.select(axis: 0, index: i))
            if columns.isEmpty { columns = results.map { _ in [] } }
            for (j, r) in results.enumerated() { columns[j].append(r) }
        }
        return try columns.map { parts in try Tensor.stack(parts, axis: 0).reshaped(lead + Array(parts[0].shape)) }
    }

    /// `factored matrix [2, 4, 16, 16] (inner 8)`.
    public var description: String { "factored matrix \(formatShape(shape)) (inner \(mdim))" }
}
