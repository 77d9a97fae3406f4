// Float32 exp and the normal distribution function written with plain
// arithmetic and selects only, so the loops that call them (softmax rows,
// GELU) vectorise; libm's expf and erff are scalar calls, which made them a
// fifth of a BERT forward pass.

/// `acc + a·b` lane by lane: one fused multiply-add (a single rounding)
/// where the build targets FMA (`NEUROMAP_FMA`, which Package.swift sets
/// with the haswell and AVX-512 levels), else a multiply and an add (two roundings;
/// there `addingProduct` would be a library call per lane).
@inline(__always)
func multiplyAdd(_ acc: SIMD8<Float>, _ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
    #if NEUROMAP_FMA
    return acc.addingProduct(a, b)
    #else
    return acc + a * b
    #endif
}

extension Float {
    /// `e^x` to about 2 ulp (above 88 only +inf is right: callers pass x ≤ 0): x = n·ln2 + r with |r| ≤ ln2/2
    /// (ln2 split in two parts, Cody and Waite), a degree-7 Taylor
    /// polynomial for e^r (truncation below 6e-9 relative) and 2^n put into
    /// the exponent bits. Below -87.3 (where e^x leaves the normal range)
    /// the result is 0, so -inf gives 0; NaN gives NaN.
    @inline(__always)
    static func fastExp(_ x: Float) -> Float {
        let y = fastExpInRange(x < -87.33654 ? -87.33654 : (x > 88 ? 88 : x))
        return x != x ? x : (x < -87.33654 ? 0 : (x > 88.72283 ? .infinity : y))
    }

    /// `fastExp` of x ≤ 0 (x − row maximum in softmax and cross-entropy),
    /// -inf (0) or NaN (NaN), without the selects for large x.
    @inline(__always)
    static func fastExpNonPositive(_ x: Float) -> Float {
        let y = fastExpInRange(x < -87.33654 ? -87.33654 : x)
        return x < -87.33654 ? 0 : y
    }

    /// The arithmetic of `fastExp` alone, for `c` in [-87.33654, 88] (NaN
    /// gives NaN); callers that know their range skip the edge selects.
    @inline(__always)
    static func fastExpInRange(_ c: Float) -> Float {
        // Adding 1.5·2²³ rounds c·log₂e to the nearest integer n and leaves n in the low mantissa bits.
        let shifted = c * 1.442695041 + 12_582_912
        let n = shifted - 12_582_912
        let r = (c - n * 0.693145751953125) - n * 1.428606765330187e-06
        let p = 1 + r * (1 + r * (0.5 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120 + r * (1.0 / 720 + r * (1.0 / 5040)))))))
        let scale = Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
        return p * scale
    }
}

extension SIMD8 where Scalar == Float {
    /// `Float.fastExpInRange` of eight floats at once: the same steps, except
    /// that with `NEUROMAP_FMA` each step of the polynomial is one fused
    /// multiply-add (so a result may differ from the scalar one in its last bit or two).
    @inline(__always)
    static func fastExpInRange(_ c: Self) -> Self {
        // Adding 1.5·2²³ rounds c·log₂e to the nearest integer n and leaves n in the low mantissa bits.
        let magic = Self(repeating: 12_582_912)
        let shifted = c * Self(repeating: 1.442695041) + magic
        let n = shifted - magic
        let r = (c - n * Self(repeating: 0.693145751953125)) - n * Self(repeating: 1.428606765330187e-06)
        // The scalar polynomial by Horner's rule, innermost first.
        var p = Self(repeating: 1.0 / 5040)
        p = multiplyAdd(Self(repeating: 1.0 / 720), p, r)
        p = multiplyAdd(Self(repeating: 1.0 / 120), p, r)
        p = multiplyAdd(Self(repeating: 1.0 / 24), p, r)
        p = multiplyAdd(Self(repeating: 1.0 / 6), p, r)
        p = multiplyAdd(Self(repeating: 0.5), p, r)
        p = multiplyAdd(Self(repeating: 1), p, r)
        p = multiplyAdd(Self(repeating: 1), p, r)
        let exponent = (unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return p * unsafeBitCast(exponent, to: Self.self)
    }

    /// `Float.fastExpNonPositive` of eight floats at once.
    @inline(__always)
    static func fastExpNonPositive(_ x: Self) -> Self {
        let low = Self(repeating: -87.33654)
        let below = x .< low
        return fastExpInRange(x.replacing(with: low, where: below)).replacing(with: 0, where: below)
    }

    /// The standard normal distribution function Φ(x) = (1 + erf(x/√2))/2
    /// of eight floats, to about 2.5e-7 absolute, with one formula for every
    /// x (Abramowitz and Stegun 7.1.26 for erfc; PyTorch's vectorised erf
    /// uses it too): h = t·P(t)·e^(−x²/2)/2 with t = 1/(1 + 0.3275911·|x|/√2)
    /// is the tail beyond |x|, so Φ = h for x < 0 and 1 − h above. Computing
    /// the lower tail directly, not as 1 + erf, keeps its relative error
    /// small (7e-7 above x = −1, 5e-5 above −3) where the subtraction would
    /// lose it. Each lane's arithmetic is the same whatever its position, so
    /// a value's result never depends on where it sits in a loop.
    @inline(__always)
    static func fastNormalCDF(_ x: Self) -> Self {
        let a = x.replacing(with: -x, where: x .< 0) * Self(repeating: 0.70710678118654752)
        let t = 1 / multiplyAdd(Self(repeating: 1), Self(repeating: 0.3275911), a)
        var poly = Self(repeating: 1.061405429)
        poly = multiplyAdd(Self(repeating: -1.453152027), poly, t)
        poly = multiplyAdd(Self(repeating: 1.421413741), poly, t)
        poly = multiplyAdd(Self(repeating: -0.284496736), poly, t)
        poly = multiplyAdd(Self(repeating: 0.254829592), poly, t)
        // Beyond |x| = 13.2 the tail is below 1e-38: e^-z is held at the smallest normal float.
        let z = a * a
        let low = Self(repeating: -87.33654)
        let h = Self(repeating: 0.5) * (poly * t) * fastExpInRange((-z).replacing(with: low, where: -z .< low))
        return h.replacing(with: 1 - h, where: x .>= 0)                       // NaN: h is NaN
    }
}

/// Exact GELU `x·Φ(x) = x/2·(1 + erf(x/√2))` of `n` floats, vectorised.
func geluKernel(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
    Parallel.forRanges(n, workPerItem: 8) { range in
        Pointwise.gelu.apply(x + range.lowerBound, y + range.lowerBound, range.count)
    }
}

/// Last-axis softmax of each row of a contiguous [rows, n] float32 block
/// (rows of -inf give NaN, as in PyTorch). The row maximum and sum keep
/// several partial results; NaN anywhere in a row makes the whole row NaN.
func softmaxRowsFloat(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, n: Int) {
    Parallel.forRanges(rows, workPerItem: 4 * n) { range in softmaxRowsFloat(x, y, rows: range, n: n) }
}

/// Rows `rows` of `softmaxRowsFloat` on the calling thread.
private func softmaxRowsFloat(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Range<Int>, n: Int) {
    let wide = n / 8 * 8
    for row in rows {
        let xr = x + row * n, yr = y + row * n
        var p0 = -Float.infinity, p1 = p0, p2 = p0, p3 = p0
        var i = 0
        while i < wide {
            p0 = xr[i] > p0 ? xr[i] : p0
            p1 = xr[i + 1] > p1 ? xr[i + 1] : p1
            p2 = xr[i + 2] > p2 ? xr[i + 2] : p2
            p3 = xr[i + 3] > p3 ? xr[i + 3] : p3
            p0 = xr[i + 4] > p0 ? xr[i + 4] : p0
            p1 = xr[i + 5] > p1 ? xr[i + 5] : p1
            p2 = xr[i + 6] > p2 ? xr[i + 6] : p2
            p3 = xr[i + 7] > p3 ? xr[i + 7] : p3
            i += 8
        }
        var peak = Swift.max(Swift.max(p0, p1), Swift.max(p2, p3))
        for j in wide..<n where xr[j] > peak { peak = xr[j] }
        if !peak.isFinite { peak = 0 }
        for j in 0..<n { yr[j] = Float.fastExpNonPositive(xr[j] - peak) }
        var sums = SIMD8<Float>()
        i = 0
        while i < wide {
            sums += UnsafeRawPointer(yr + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var total = sums.sum()
        for j in wide..<n { total += yr[j] }
        let inv = 1 / total
        for j in 0..<n { yr[j] *= inv }
    }
}

extension Double {
    /// `e^x` to about 3e-13 relative for x ≤ 709 (far below what a float32
    /// input carries): x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split in two
    /// parts, Cody and Waite, as in fdlibm), a degree-10 Taylor polynomial
    /// for e^r (truncation below 2.2e-13 relative) and 2^n put into
    /// the exponent bits. Below -708.39 (where e^x leaves the normal range)
    /// the result is 0, so -inf gives 0; above 709.78 +inf; NaN gives NaN.
    /// Plain arithmetic and selects only, so loops that call it vectorise.
    @inline(__always)
    static func fastExp(_ x: Double) -> Double {
        let c = x < -708.39 ? -708.39 : (x > 709 ? 709 : x)
        // Adding 1.5·2⁵² rounds c·log₂e to the nearest integer n and leaves n in the low mantissa bits.
        let magic = 6_755_399_441_055_744.0
        let shifted = c * 1.4426950408889634 + magic
        let n = shifted - magic
        let r = (c - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10
        var p = 1.0 / 3_628_800
        p = p * r + 1.0 / 362_880
        p = p * r + 1.0 / 40_320
        p = p * r + 1.0 / 5_040
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let scale = Double(bitPattern: (shifted.bitPattern &- magic.bitPattern &+ 1023) &<< 52)
        let y = p * scale
        return x != x ? x : (x < -708.39 ? 0 : (x > 709.78 ? .infinity : y))
    }
}
