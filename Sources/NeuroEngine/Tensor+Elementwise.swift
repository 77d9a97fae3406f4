// MARK: - Kernels

/// How `binaryKernel` walks an output: element by element when both
/// operands have its shape and are contiguous, else row by row (`forEachRow`)
/// with each operand's broadcast strides. `units` counts what it walks.
private struct BinaryPlan {
    let elementwise: Bool
    let strides: [[Int]]
    let units: Int, inner: Int

    init(_ a: Tensor, _ b: Tensor, _ out: Tensor) {
        elementwise = a.shape == out.shape && b.shape == out.shape && a.isContiguous && b.isContiguous
        strides = elementwise ? [] : [a.broadcastStrides(to: out.shape), b.broadcastStrides(to: out.shape)]
        units = elementwise ? out.count : rowCount(out.shape)
        inner = elementwise ? 1 : (out.shape.last ?? 1)
    }
}

/// Applies `f` elementwise over two operands broadcast to `out.shape`, for
/// the units `range` of `plan` (all of them, or one thread's share).
@inline(__always)
private func binaryKernel<T: FloatElement>(_ a: Tensor, _ b: Tensor, _ out: Tensor, _ plan: BinaryPlan, _ range: Range<Int>,
                                           _ f: (T, T) -> T) {
    let pa = a.pointer(T.self), pb = b.pointer(T.self), po = out.pointer(T.self)
    if plan.elementwise {
        for i in range { po[i] = f(pa[i], pb[i]) }
        return
    }
    forEachRow(shape: out.shape, strides: plan.strides, rows: range) { offsets, row, inner, innerStrides in
        let qa = pa + offsets[0], qb = pb + offsets[1], qo = po + row * inner
        let ia = innerStrides[0], ib = innerStrides[1]
        if ia == 1 && ib == 1 {
            for i in 0..<inner { qo[i] = f(qa[i], qb[i]) }
        } else if ia == 1 && ib == 0 {
            let y = qb[0]
            for i in 0..<inner { qo[i] = f(qa[i], y) }
        } else if ia == 0 && ib == 1 {
            let x = qa[0]
            for i in 0..<inner { qo[i] = f(x, qb[i]) }
        } else {
            for i in 0..<inner { qo[i] = f(qa[i * ia], qb[i * ib]) }
        }
    }
}

/// Applies `f` to the elements `range` of a contiguous operand.
@inline(__always)
private func unaryKernel<T: FloatElement>(_ x: Tensor, _ out: Tensor, _ range: Range<Int>, _ f: (T) -> T) {
    let px = x.pointer(T.self), po = out.pointer(T.self)
    for i in range { po[i] = f(px[i]) }
}

/// An elementwise operation as a type. Kernels specialised for one inline
/// it even in the closures that run on the engine's other threads (a
/// closure argument would there be called once per element), so the
/// common operations run on every core.
protocol BinaryElementOp { func apply<T: FloatElement>(_ a: T, _ b: T) -> T }
protocol UnaryElementOp { func apply<T: FloatElement>(_ x: T) -> T }

struct AddOp: BinaryElementOp { @inline(__always) func apply<T: FloatElement>(_ a: T, _ b: T) -> T { a + b } }
struct SubtractOp: BinaryElementOp { @inline(__always) func apply<T: FloatElement>(_ a: T, _ b: T) -> T { a - b } }
struct MultiplyOp: BinaryElementOp { @inline(__always) func apply<T: FloatElement>(_ a: T, _ b: T) -> T { a * b } }
struct DivideOp: BinaryElementOp { @inline(__always) func apply<T: FloatElement>(_ a: T, _ b: T) -> T { a / b } }
/// The ReLU gradient: `a` (the incoming gradient) where `b` (the output) is positive.
struct ReluGradOp: BinaryElementOp { @inline(__always) func apply<T: FloatElement>(_ a: T, _ b: T) -> T { b > 0 ? a : 0 } }
struct ReluOp: UnaryElementOp { @inline(__always) func apply<T: FloatElement>(_ x: T) -> T { x > 0 ? x : 0 } }
/// `x·s`, with s rounded to the element type first (as float32 arithmetic does).
struct ScaleOp: UnaryElementOp {
    let s: Double
    @inline(__always) func apply<T: FloatElement>(_ x: T) -> T { x * T(s) }
}
/// `x + s`, with s rounded to the element type first.
struct ShiftOp: UnaryElementOp {
    let s: Double
    @inline(__always) func apply<T: FloatElement>(_ x: T) -> T { x + T(s) }
}

extension Tensor {
    // MARK: - Shared machinery

    func requireFloat(_ op: String) throws {
        guard dtype.isFloatingPoint else {
            throw EngineError.dtype(op, "needs a floating-point tensor, got \(dtype.shortName) of shape \(formatShape(shape))")
        }
    }

    /// Brings two operands to one floating-point dtype (float64 wins).
    static func promoted(_ a: Tensor, _ b: Tensor, op: String) throws -> (Tensor, Tensor) {
        try a.requireFloat(op)
        try b.requireFloat(op)
        if a.dtype == b.dtype { return (a, b) }
        return (try a.cast(to: .float64), try b.cast(to: .float64))
    }

    /// Elementwise binary operation with broadcasting; not recorded.
    /// Always inlined, so each caller's closures are inlined into the loops
    /// instead of being called once per element. Runs on the calling thread.
    @inline(__always)
    static func mapBinary(_ op: String, _ a: Tensor, _ b: Tensor,
                          _ f32: (Float, Float) -> Float, _ f64: (Double, Double) -> Double) throws -> Tensor {
        let outShape = try broadcastShapes(a.shape, b.shape, op: op)
        let out = try Tensor(uninitializedShape: outShape, dtype: a.dtype, op: op)
        let plan = BinaryPlan(a, b, out)
        if a.dtype == .float32 { binaryKernel(a, b, out, plan, 0..<plan.units, f32) } else { binaryKernel(a, b, out, plan, 0..<plan.units, f64) }
        return out
    }

    /// `mapBinary` for an operation given as a type, on the engine's threads when large.
    static func mapBinary<Op: BinaryElementOp>(_ op: String, _ a: Tensor, _ b: Tensor, _ operation: Op) throws -> Tensor {
        let outShape = try broadcastShapes(a.shape, b.shape, op: op)
        let out = try Tensor(uninitializedShape: outShape, dtype: a.dtype, op: op)
        let plan = BinaryPlan(a, b, out)
        Parallel.forRanges(plan.units, workPerItem: plan.inner) { range in
            if a.dtype == .float32 {
                binaryKernel(a, b, out, plan, range, { (x: Float, y: Float) in operation.apply(x, y) })
            } else {
                binaryKernel(a, b, out, plan, range, { (x: Double, y: Double) in operation.apply(x, y) })
            }
        }
        return out
    }

    /// Elementwise unary operation; not recorded. Always inlined, like `mapBinary`.
    @inline(__always)
    func mapUnary(_ op: String, _ f32: (Float) -> Float, _ f64: (Double) -> Double) throws -> Tensor {
        try requireFloat(op)
        let x = contiguousData()
        let out = try Tensor(uninitializedShape: shape, dtype: dtype, op: op)
        if dtype == .float32 { unaryKernel(x, out, 0..<count, f32) } else { unaryKernel(x, out, 0..<count, f64) }
        return out
    }

    /// `mapUnary` for an operation given as a type, on the engine's threads when large.
    func mapUnary<Op: UnaryElementOp>(_ op: String, _ operation: Op) throws -> Tensor {
        try requireFloat(op)
        let x = contiguousData()
        let out = try Tensor(uninitializedShape: shape, dtype: dtype, op: op)
        Parallel.forRanges(count) { range in
            if dtype == .float32 {
                unaryKernel(x, out, range, { (v: Float) in operation.apply(v) })
            } else {
                unaryKernel(x, out, range, { (v: Double) in operation.apply(v) })
            }
        }
        return out
    }

    // MARK: - Arithmetic

    /// Elementwise sum with broadcasting.
    public static func + (a: Tensor, b: Tensor) throws -> Tensor {
        let (x, y) = try promoted(a, b, op: "add")
        let out = try mapBinary("add", x, y, AddOp())
        return out.recording("add", [x, y]) { g in
            [x.requiresGrad ? try g.summed(toShape: x.shape) : nil,
             y.requiresGrad ? try g.summed(toShape: y.shape) : nil]
        }
    }

    /// Elementwise difference with broadcasting.
    public static func - (a: Tensor, b: Tensor) throws -> Tensor {
        let (x, y) = try promoted(a, b, op: "sub")
        let out = try mapBinary("sub", x, y, SubtractOp())
        return out.recording("sub", [x, y]) { g in
            [x.requiresGrad ? try g.summed(toShape: x.shape) : nil,
             y.requiresGrad ? try g.negated().summed(toShape: y.shape) : nil]
        }
    }

    /// Elementwise product with broadcasting.
    public static func * (a: Tensor, b: Tensor) throws -> Tensor {
        let (x, y) = try promoted(a, b, op: "mul")
        let out = try mapBinary("mul", x, y, MultiplyOp())
        return out.recording("mul", [x, y]) { g in
            [x.requiresGrad ? try (g * y).summed(toShape: x.shape) : nil,
             y.requiresGrad ? try (g * x).summed(toShape: y.shape) : nil]
        }
    }

    /// Elementwise quotient with broadcasting (IEEE: x/0 is ±inf or NaN).
    public static func / (a: Tensor, b: Tensor) throws -> Tensor {
        let (x, y) = try promoted(a, b, op: "div")
        let out = try mapBinary("div", x, y, DivideOp())
        return out.recording("div", [x, y]) { [unowned out] g in
            [x.requiresGrad ? try (g / y).summed(toShape: x.shape) : nil,
             y.requiresGrad ? try (g * out / y).negated().summed(toShape: y.shape) : nil]
        }
    }

    /// Elementwise maximum with broadcasting; the gradient goes to the larger
    /// operand (to `a` on ties).
    public func maximum(_ other: Tensor) throws -> Tensor {
        let (x, y) = try Tensor.promoted(self, other, op: "maximum")
        let out = try Tensor.mapBinary("maximum", x, y, { Swift.max($0, $1) }, { Swift.max($0, $1) })
        return out.recording("maximum", [x, y]) { g in
            let pickX = try x.greaterEqual(y)
            return [x.requiresGrad ? try (g * pickX).summed(toShape: x.shape) : nil,
                    y.requiresGrad ? try (g * pickX.oneMinus()).summed(toShape: y.shape) : nil]
        }
    }

    /// Elementwise minimum with broadcasting; the gradient goes to the smaller
    /// operand (to `a` on ties).
    public func minimum(_ other: Tensor) throws -> Tensor {
        let (x, y) = try Tensor.promoted(self, other, op: "minimum")
        let out = try Tensor.mapBinary("minimum", x, y, { Swift.min($0, $1) }, { Swift.min($0, $1) })
        return out.recording("minimum", [x, y]) { g in
            let pickX = try y.greaterEqual(x)
            return [x.requiresGrad ? try (g * pickX).summed(toShape: x.shape) : nil,
                    y.requiresGrad ? try (g * pickX.oneMinus()).summed(toShape: y.shape) : nil]
        }
    }

    /// The floored remainder `a - b·floor(a/b)` elementwise with broadcasting:
    /// the sign follows the divisor, like Python's `%` and `torch.remainder`
    /// (NaN where the divisor is 0). Computed in Float64, returned in the
    /// promoted dtype; not differentiable.
    ///
    /// ```swift
    /// try Tensor([-1, 5], shape: [2]).remainder(Tensor(scalar: 3))   // [2, 2]
    /// ```
    public func remainder(_ other: Tensor) throws -> Tensor {
        let (x, y) = try Tensor.promoted(self, other, op: "remainder")
        let (a, b) = (try x.cast(to: .float64).detached(), try y.cast(to: .float64).detached())
        let out = try Tensor.mapBinary("remainder", a, b, { Float(floorMod(Double($0), Double($1))) }, floorMod)
        return try out.cast(to: x.dtype).detached()
    }

    /// `x ** p` elementwise for a constant exponent.
    public func pow(_ p: Double) throws -> Tensor {
        let out = try mapUnary("pow", { Float.pow($0, Float(p)) }, { Double.pow($0, p) })
        return out.recording("pow", [self]) { [self] g in
            [try g * self.pow(p - 1).scaled(p)]
        }
    }

    // MARK: - With a scalar

    /// Adds a constant to every element.
    public func shifted(_ s: Double) throws -> Tensor {
        let out = try mapUnary("add", ShiftOp(s: s))
        return out.recording("add scalar", [self]) { g in [g] }
    }

    /// Multiplies every element by a constant.
    public func scaled(_ s: Double) throws -> Tensor {
        let out = try mapUnary("mul", ScaleOp(s: s))
        return out.recording("mul scalar", [self]) { g in [try g.scaled(s)] }
    }

    public static func + (a: Tensor, s: Double) throws -> Tensor { try a.shifted(s) }
    public static func + (s: Double, a: Tensor) throws -> Tensor { try a.shifted(s) }
    public static func - (a: Tensor, s: Double) throws -> Tensor { try a.shifted(-s) }
    public static func - (s: Double, a: Tensor) throws -> Tensor { try a.negated().shifted(s) }
    public static func * (a: Tensor, s: Double) throws -> Tensor { try a.scaled(s) }
    public static func * (s: Double, a: Tensor) throws -> Tensor { try a.scaled(s) }
    public static func / (a: Tensor, s: Double) throws -> Tensor { try a.scaled(1 / s) }
    public static func / (s: Double, a: Tensor) throws -> Tensor { try a.reciprocal().scaled(s) }
    public static prefix func - (a: Tensor) throws -> Tensor { try a.negated() }

    /// `-x`.
    public func negated() throws -> Tensor { try scaled(-1) }

    /// `1 - x`, used for masks.
    func oneMinus() throws -> Tensor { try mapUnary("1-x", { 1 - $0 }, { 1 - $0 }) }

    // MARK: - Unary math

    /// `1 / x`.
    public func reciprocal() throws -> Tensor {
        let out = try mapUnary("reciprocal", { 1 / $0 }, { 1 / $0 })
        return out.recording("reciprocal", [self]) { [unowned out] g in [try (g * out * out).negated()] }
    }

    /// `e^x`.
    public func exp() throws -> Tensor {
        let out = try mapUnary("exp", Float.exp, Double.exp)
        return out.recording("exp", [self]) { [unowned out] g in [try g * out] }
    }

    /// Natural logarithm (log of a negative number is NaN, of 0 is -inf).
    public func log() throws -> Tensor {
        let out = try mapUnary("log", Float.log, Double.log)
        return out.recording("log", [self]) { [self] g in [try g / self] }
    }

    /// Square root.
    public func sqrt() throws -> Tensor {
        let out = try mapUnary("sqrt", { $0.squareRoot() }, { $0.squareRoot() })
        return out.recording("sqrt", [self]) { [unowned out] g in [try g / out.scaled(2)] }
    }

    /// `x * x`.
    public func square() throws -> Tensor {
        let out = try mapUnary("square", { $0 * $0 }, { $0 * $0 })
        return out.recording("square", [self]) { [self] g in [try g * self.scaled(2)] }
    }

    /// Absolute value; the gradient at 0 is 0, as in PyTorch.
    public func abs() throws -> Tensor {
        let out = try mapUnary("abs", { Swift.abs($0) }, { Swift.abs($0) })
        return out.recording("abs", [self]) { [self] g in [try g * self.sign()] }
    }

    /// -1, 0 or 1 by the sign of each element (no gradient).
    public func sign() throws -> Tensor {
        try mapUnary("sign", { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }, { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) })
    }

    /// Sine.
    public func sin() throws -> Tensor {
        let out = try mapUnary("sin", Float.sin, Double.sin)
        return out.recording("sin", [self]) { [self] g in [try g * self.cos()] }
    }

    /// Cosine.
    public func cos() throws -> Tensor {
        let out = try mapUnary("cos", Float.cos, Double.cos)
        return out.recording("cos", [self]) { [self] g in [try (g * self.sin()).negated()] }
    }

    /// Hyperbolic tangent.
    public func tanh() throws -> Tensor {
        let out = try mapUnary("tanh", Float.tanh, Double.tanh)
        return out.recording("tanh", [self]) { [unowned out] g in [try g * (out * out).oneMinus()] }
    }

    /// Logistic sigmoid `1 / (1 + e^-x)`.
    public func sigmoid() throws -> Tensor {
        let out = try mapUnary("sigmoid", { 1 / (1 + Float.exp(-$0)) }, { 1 / (1 + Double.exp(-$0)) })
        return out.recording("sigmoid", [self]) { [unowned out] g in [try g * out * out.oneMinus()] }
    }

    /// Limits every element to `[low, high]`; no gradient flows where clamped.
    public func clamped(min low: Double, max high: Double) throws -> Tensor {
        guard low <= high else { throw EngineError.argument("clamp", "min \(low) is greater than max \(high)") }
        let out = try mapUnary("clamp", { Swift.min(Swift.max($0, Float(low)), Float(high)) },
                               { Swift.min(Swift.max($0, low), high) })
        return out.recording("clamp", [self]) { [self] g in
            let inside = try self.mapUnary("clamp mask", { $0 >= Float(low) && $0 <= Float(high) ? 1 : 0 },
                                           { $0 >= low && $0 <= high ? 1 : 0 })
            return [try g * inside]
        }
    }

    // MARK: - Comparisons (no gradient; results are 0/1 in float32)

    static func compare(_ op: String, _ a: Tensor, _ b: Tensor, _ test: (Double, Double) -> Bool) throws -> Tensor {
        let x = try a.cast(to: .float64).detached(), y = try b.cast(to: .float64).detached()
        let mask = try mapBinary(op, x, y, { test(Double($0), Double($1)) ? 1 : 0 }, { test($0, $1) ? 1 : 0 })
        return try mask.cast(to: .float32).detached()
    }

    /// 1 where `self == other`, else 0. Works on integer tensors too.
    public func equal(_ other: Tensor) throws -> Tensor { try Tensor.compare("eq", self, other, ==) }
    /// 1 where `self != other`, else 0.
    public func notEqual(_ other: Tensor) throws -> Tensor { try Tensor.compare("ne", self, other, !=) }
    /// 1 where `self < other`, else 0.
    public func less(_ other: Tensor) throws -> Tensor { try Tensor.compare("lt", self, other, <) }
    /// 1 where `self <= other`, else 0.
    public func lessEqual(_ other: Tensor) throws -> Tensor { try Tensor.compare("le", self, other, <=) }
    /// 1 where `self > other`, else 0.
    public func greater(_ other: Tensor) throws -> Tensor { try Tensor.compare("gt", self, other, >) }
    /// 1 where `self >= other`, else 0.
    public func greaterEqual(_ other: Tensor) throws -> Tensor { try Tensor.compare("ge", self, other, >=) }

    // MARK: - Type conversion and copies

    /// The same values as another dtype. Between float types the gradient
    /// flows (cast back); integer targets truncate toward zero and are not
    /// differentiable. NaN or infinite values cannot become integers.
    public func cast(to target: DType) throws -> Tensor {
        if target == dtype { return self }
        let source = contiguousData()
        let out = try Tensor(uninitializedShape: shape, dtype: target, op: "cast")
        let n = count
        switch (dtype, target) {
        case (.float32, .float64):
            let p = source.pointer(Float.self), q = out.pointer(Double.self)
            for i in 0..<n { q[i] = Double(p[i]) }
        case (.float64, .float32):
            let p = source.pointer(Double.self), q = out.pointer(Float.self)
            for i in 0..<n { q[i] = Float(p[i]) }
        default:
            let values = source.toDoubles()
            switch target {
            case .float32: let q = out.pointer(Float.self); for i in 0..<n { q[i] = Float(values[i]) }
            case .float64: let q = out.pointer(Double.self); for i in 0..<n { q[i] = values[i] }
            case .int64, .int32:
                for (i, v) in values.enumerated() {
                    guard v.isFinite, Swift.abs(v) < 9.2e18 else {
                        throw EngineError(.numeric, "cast: value \(v) at flat index \(i) cannot become \(target.shortName)")
                    }
                    if target == .int64 {
                        out.pointer(Int64.self)[i] = Int64(v.rounded(.towardZero))
                    } else {
                        guard let narrow = Int32(exactly: v.rounded(.towardZero)) else {
                            throw EngineError(.numeric, "cast: value \(v) at flat index \(i) does not fit in I32")
                        }
                        out.pointer(Int32.self)[i] = narrow
                    }
                }
            }
        }
        guard dtype.isFloatingPoint && target.isFloatingPoint else { return out }
        let sourceType = dtype
        return out.recording("cast", [self]) { g in [try g.cast(to: sourceType)] }
    }

    /// A contiguous copy of this tensor in fresh storage; gradients flow through.
    public func clone() -> Tensor {
        copied().recording("clone", [self]) { g in [g] }
    }

    /// This tensor laid out contiguously: self when it already is, otherwise a
    /// copy; gradients flow through.
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        return copied().recording("contiguous", [self]) { g in [g] }
    }

    // MARK: - In place (parameters and gradients only; never recorded)

    /// `self += other` in place. `self` must be contiguous and not part of a
    /// recorded graph; `other` must have the same shape.
    public func addInPlace(_ other: Tensor, scale: Double = 1) throws {
        try checkInPlace(other, op: "add in place")
        let source = other.dtype == dtype ? other.contiguousData() : try other.cast(to: dtype).contiguousData()
        let n = count
        if dtype == .float32 {
            let p = pointer(Float.self), q = source.pointer(Float.self), s = Float(scale)
            if scale == 1 { for i in 0..<n { p[i] += q[i] } } else { for i in 0..<n { p[i] += s * q[i] } }
        } else {
            let p = pointer(Double.self), q = source.pointer(Double.self)
            for i in 0..<n { p[i] += scale * q[i] }
        }
    }

    /// Overwrites this tensor's values with `other`'s (same shape), in place.
    public func assign(_ other: Tensor) throws {
        try checkInPlace(other, op: "assign")
        let source = other.dtype == dtype ? other.contiguousData() : try other.cast(to: dtype).contiguousData()
        (storage.base + offset * dtype.byteSize).copyMemory(from: source.storage.base + source.offset * dtype.byteSize,
                                                           byteCount: count * dtype.byteSize)
    }

    private func checkInPlace(_ other: Tensor, op: String) throws {
        try requireFloat(op)
        guard isContiguous else { throw EngineError.argument(op, "needs a contiguous destination") }
        guard other.shape == shape else { throw EngineError.shapes(op, shape, other.shape) }
        guard !(GradMode.isEnabled && gradFn != nil) else {
            throw EngineError.argument(op, "cannot modify the result of '\(gradFn?.name ?? "?")' in place while it is recorded")
        }
    }
}

/// The floored remainder of `a / b`, with the sign of `b` (Python's `%`):
/// `floorMod(-1, 3) == 2`; NaN when `b` is 0.
public func floorMod(_ a: Double, _ b: Double) -> Double {
    guard b != 0 else { return .nan }
    let r = a.truncatingRemainder(dividingBy: b)
    return r != 0 && (r < 0) != (b < 0) ? r + b : r
}
