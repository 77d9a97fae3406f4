import Glibc

/// An n-dimensional array of numbers, row-major, that records the operations
/// made on it so gradients can flow back (reverse-mode autograd).
///
/// A tensor is a view of a `TensorStorage`: `shape`, `strides` and `offset`
/// (in elements) say which elements it sees, so `reshape`, `transposed` and
/// `slice` are cheap and share memory. Tensors are immutable in value except
/// through the few in-place methods optimizers use on parameters.
///
/// ```swift
/// let x = try Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
/// let y = try (x * x).sum()        // 91
/// ```
public final class Tensor {
    /// The size of each dimension.
    public let shape: [Int]
    /// How many elements to step in storage for one step along each dimension.
    public let strides: [Int]
    /// Where the first element sits in storage, in elements.
    public let offset: Int
    /// The element type.
    public let dtype: DType
    let storage: TensorStorage

    /// Whether gradients are computed for this tensor. Set it on leaves
    /// (parameters) only; results of operations inherit it from their inputs.
    public internal(set) var requiresGrad = false
    /// The accumulated gradient, once `backward()` has reached this tensor.
    public var grad: Tensor?
    /// For tensors made by an operation: how to send gradients to its inputs.
    var gradFn: GradFn?
    /// Keep `grad` on this non-leaf tensor during backward (for attribution).
    public var retainsGrad = false

    init(storage: TensorStorage, shape: [Int], strides: [Int], offset: Int, dtype: DType) {
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
        self.dtype = dtype
    }

    deinit {
        // Long recorded chains are freed by a loop, not by nested deinits.
        guard gradFn != nil else { return }
        var work = gradFn.map { [$0] } ?? []   // no local binding may keep the GradFn shared
        gradFn = nil
        GradFn.releaseGraph(&work)
    }

    /// A new contiguous tensor with uninitialised contents, after the size
    /// check (`checkedCount`): the result of operation `op` is refused with an
    /// error naming `op` and the shape when it is too large, or when the
    /// system cannot give the memory, instead of aborting the process.
    convenience init(uninitializedShape shape: [Int], dtype: DType, op: String, what: String = "the result") throws {
        let count = try Tensor.checkedCount(shape, dtype: dtype, op: op, what: what)
        guard let storage = TensorStorage(allocating: count * dtype.byteSize) else {
            throw EngineError.argument(op, "\(what) \(formatShape(shape)) (\(formatBytes(count, dtype))) could not be allocated: out of memory")
        }
        self.init(storage: storage, shape: shape, strides: Tensor.contiguousStrides(shape), offset: 0, dtype: dtype)
    }

    /// A new contiguous tensor filled with zeros, checked like `init(uninitializedShape:dtype:op:)`.
    convenience init(zerosShape shape: [Int], dtype: DType, op: String, what: String = "the result") throws {
        try self.init(uninitializedShape: shape, dtype: dtype, op: op, what: what)
        if storage.byteCount > 0 { memset(storage.base, 0, storage.byteCount) }
    }

    /// A new contiguous tensor with `other`'s shape and uninitialised
    /// contents. Not checked again: `other` exists, so its shape passed the
    /// size check when it was made (see Tensor+SizeLimit.swift); used by the
    /// copies that cannot throw (`contiguousData()`, `copied()`).
    private init(uninitializedLike other: Tensor) {
        self.storage = TensorStorage(byteCount: other.count * other.dtype.byteSize)
        self.shape = other.shape
        self.strides = Tensor.contiguousStrides(other.shape)
        self.offset = 0
        self.dtype = other.dtype
    }

    /// A contiguous copy in fresh storage, not recorded.
    func copied() -> Tensor {
        let source = contiguousData()
        if source !== self { return source }
        let out = Tensor(uninitializedLike: self)
        out.storage.base.copyMemory(from: storage.base + offset * dtype.byteSize, byteCount: count * dtype.byteSize)
        return out
    }

    // MARK: - Construction from Swift values

    /// A float32 tensor from values in row-major order.
    ///
    /// Throws when `values.count` is not the product of `shape` or a
    /// dimension is negative.
    public convenience init(_ values: [Float], shape: [Int]) throws {
        try Tensor.checkShape(shape, count: values.count, op: "Tensor")
        try self.init(uninitializedShape: shape, dtype: .float32, op: "Tensor", what: "shape")
        values.withUnsafeBufferPointer { source in
            if let from = source.baseAddress {
                pointer(Float.self).update(from: from, count: values.count)
            }
        }
    }

    /// A float64 tensor from values in row-major order.
    public convenience init(float64 values: [Double], shape: [Int]) throws {
        try Tensor.checkShape(shape, count: values.count, op: "Tensor")
        try self.init(uninitializedShape: shape, dtype: .float64, op: "Tensor", what: "shape")
        values.withUnsafeBufferPointer { source in
            if let from = source.baseAddress {
                pointer(Double.self).update(from: from, count: values.count)
            }
        }
    }

    /// An integer tensor (int64 unless `dtype` says int32) from values in row-major order.
    public convenience init(ints values: [Int], shape: [Int], dtype: DType = .int64) throws {
        try Tensor.checkShape(shape, count: values.count, op: "Tensor")
        guard !dtype.isFloatingPoint else {
            throw EngineError.dtype("Tensor", "ints: needs an integer dtype, got \(dtype.shortName)")
        }
        try self.init(uninitializedShape: shape, dtype: dtype, op: "Tensor", what: "shape")
        if dtype == .int64 {
            let out = pointer(Int64.self)
            for (i, v) in values.enumerated() { out[i] = Int64(v) }
        } else {
            let out = pointer(Int32.self)
            for (i, v) in values.enumerated() {
                guard let narrow = Int32(exactly: v) else {
                    throw EngineError.argument("Tensor", "value \(v) at index \(i) does not fit in I32")
                }
                out[i] = narrow
            }
        }
    }

    /// A rank-0 tensor holding one number.
    public convenience init(scalar value: Double, dtype: DType = .float32) {
        self.init(storage: TensorStorage(byteCount: dtype.byteSize), shape: [], strides: [], offset: 0, dtype: dtype)
        switch dtype {
        case .float32: pointer(Float.self).pointee = Float(value)
        case .float64: pointer(Double.self).pointee = value
        case .int64: pointer(Int64.self).pointee = Tensor.clampedInteger(value)
        case .int32: pointer(Int32.self).pointee = Int32(clamping: Tensor.clampedInteger(value))
        }
    }

    /// `value` truncated toward zero and clamped to Int64 (NaN becomes 0),
    /// since converting NaN or a number past Int64's range would trap.
    static func clampedInteger(_ value: Double) -> Int64 {
        guard !value.isNaN else { return 0 }
        return Int64(Swift.min(Swift.max(value.rounded(.towardZero), -9.2e18), 9.2e18))
    }

    /// Refuses a shape with a negative dimension, one whose element count
    /// overflows, and one that `count` values do not fill.
    static func checkShape(_ shape: [Int], count: Int, op: String) throws {
        let expected = try checkedCount(shape, dtype: .float64, op: op, what: "shape")
        guard expected == count else {
            throw EngineError.shape(op, "\(count) values do not fill shape \(formatShape(shape)) (\(expected) elements)")
        }
    }

    // MARK: - Geometry

    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// Whether the elements are laid out densely in row-major order.
    public var isContiguous: Bool { strides == Tensor.contiguousStrides(shape) || count <= 1 }

    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = step
            step *= Swift.max(shape[axis], 1)
        }
        return strides
    }

    /// Resolves a possibly negative axis against `rank`, throwing when out of range.
    public func axis(_ axis: Int, op: String) throws -> Int {
        try Tensor.normalizeAxis(axis, rank: rank, op: op)
    }

    static func normalizeAxis(_ axis: Int, rank: Int, op: String) throws -> Int {
        guard rank > 0 else {
            throw EngineError.index(op, "a scalar (rank-0) tensor has no axis \(axis)")
        }
        let resolved = axis < 0 ? axis + rank : axis
        guard resolved >= 0 && resolved < rank else {
            throw EngineError.index(op, "axis \(axis) is out of range for a tensor of rank \(rank)")
        }
        return resolved
    }

    // MARK: - Raw access

    /// Typed pointer to the first element this tensor sees. Callers must
    /// match `T` to `dtype` and respect `strides`.
    @inline(__always)
    func pointer<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        storage.base.assumingMemoryBound(to: T.self) + offset
    }

    /// Element values converted to `Double`, row-major whatever the strides.
    public func toDoubles() -> [Double] {
        let source = contiguousData()
        let n = source.count
        switch source.dtype {
        case .float32: return Array(UnsafeBufferPointer(start: source.pointer(Float.self), count: n)).map(Double.init)
        case .float64: return Array(UnsafeBufferPointer(start: source.pointer(Double.self), count: n))
        case .int64: return Array(UnsafeBufferPointer(start: source.pointer(Int64.self), count: n)).map(Double.init)
        case .int32: return Array(UnsafeBufferPointer(start: source.pointer(Int32.self), count: n)).map(Double.init)
        }
    }

    /// Element values converted to `Float`, row-major whatever the strides.
    public func toFloats() -> [Float] {
        if dtype == .float32 {
            let source = contiguousData()
            return Array(UnsafeBufferPointer(start: source.pointer(Float.self), count: source.count))
        }
        return toDoubles().map(Float.init)
    }

    /// Element values as integers (floats are truncated toward zero; NaN and
    /// infinities become 0 rather than trapping).
    public func toInts() -> [Int] {
        let source = contiguousData()
        let n = source.count
        switch source.dtype {
        case .int64: return Array(UnsafeBufferPointer(start: source.pointer(Int64.self), count: n)).map { Int($0) }
        case .int32: return Array(UnsafeBufferPointer(start: source.pointer(Int32.self), count: n)).map { Int($0) }
        default: return toDoubles().map { $0.isFinite ? Int(clamping: Int64(Swift.max(Swift.min($0, 9.2e18), -9.2e18))) : 0 }
        }
    }

    /// The single value of a one-element tensor.
    public func item() throws -> Double {
        guard count == 1 else {
            throw EngineError.shape("item", "needs a tensor with one element, got shape \(formatShape(shape))")
        }
        return toDoubles()[0]
    }

    /// A contiguous tensor with the same values (self when already contiguous).
    /// Not recorded for autograd; used by kernels.
    func contiguousData() -> Tensor {
        if isContiguous { return self }
        let out = Tensor(uninitializedLike: self)
        switch dtype {
        case .float32: stridedCopy(Float.self, to: out)
        case .float64: stridedCopy(Double.self, to: out)
        case .int64: stridedCopy(Int64.self, to: out)
        case .int32: stridedCopy(Int32.self, to: out)
        }
        return out
    }

    private func stridedCopy<T>(_: T.Type, to out: Tensor) {
        let destination = out.pointer(T.self)
        let source = pointer(T.self)
        var index = 0
        forEachRow(shape: shape, strides: [strides]) { offsets, inner, innerStrides in
            let s = innerStrides[0]
            var at = offsets[0]
            for i in 0..<inner {
                destination[index + i] = source[at]
                at += s
            }
            index += inner
        }
    }
}

// MARK: - Strided iteration

/// Walks the rows (all but the last dimension) of `shape`, keeping one storage
/// offset per operand from `strides`, and calls `body` with those offsets, the
/// length of the last dimension and each operand's stride along it. Rank 0 is
/// one row of length 1.
@inline(__always)
func forEachRow(shape: [Int], strides: [[Int]], _ body: (_ offsets: [Int], _ inner: Int, _ innerStrides: [Int]) -> Void) {
    forEachRow(shape: shape, strides: strides, rows: 0..<rowCount(shape)) { offsets, _, inner, innerStrides in
        body(offsets, inner, innerStrides)
    }
}

/// The number of rows `forEachRow` walks for `shape`: the product of all but
/// the last dimension (1 for rank 0; 0 when any dimension is 0).
func rowCount(_ shape: [Int]) -> Int {
    if shape.contains(0) { return 0 }
    return shape.dropLast().reduce(1, *)
}

/// `forEachRow` over the rows `rows` only (in row-major order), also giving
/// each row's number — so disjoint ranges of rows can be walked on different threads.
@inline(__always)
func forEachRow(shape: [Int], strides: [[Int]], rows: Range<Int>,
                _ body: (_ offsets: [Int], _ row: Int, _ inner: Int, _ innerStrides: [Int]) -> Void) {
    let rank = shape.count
    let operands = strides.count
    if rank == 0 {
        if rows.contains(0) { body([Int](repeating: 0, count: operands), 0, 1, [Int](repeating: 0, count: operands)) }
        return
    }
    if shape.contains(0) || rows.isEmpty { return }
    let inner = shape[rank - 1]
    let innerStrides = strides.map { $0[rank - 1] }
    // The multi-index of the first row and its offsets.
    var index = [Int](repeating: 0, count: rank)
    var offsets = [Int](repeating: 0, count: operands)
    var rest = rows.lowerBound
    var d = rank - 2
    while d >= 0 {
        index[d] = rest % shape[d]
        rest /= shape[d]
        for o in 0..<operands { offsets[o] += index[d] * strides[o][d] }
        d -= 1
    }
    for row in rows {
        body(offsets, row, inner, innerStrides)
        var d = rank - 2
        while d >= 0 {
            index[d] += 1
            for o in 0..<operands { offsets[o] += strides[o][d] }
            if index[d] < shape[d] { break }
            for o in 0..<operands { offsets[o] -= strides[o][d] * shape[d] }
            index[d] = 0
            d -= 1
        }
    }
}
