import Foundation

// Axes: how data values map to positions, and where ticks go. Linear axes
// use 1-2-5 steps; log axes put major ticks on decades.

/// One axis of a chart: its label, linear or log scale, and optional fixed limits.
///
/// Limits left nil are taken from the data and widened to the nearest
/// tick (linear) or decade (log). On a log axis, values ≤ 0 cannot be shown;
/// charts draw them as non-finite values (a grey mark and a legend note).
///
/// ```swift
/// let y = Axis("loss", scale: .log)
/// ```
public struct Axis {
    /// How values map to positions.
    public enum Scale: Sendable {
        /// Equal distances for equal differences.
        case linear
        /// Equal distances for equal ratios (base 10).
        case log
    }

    /// The axis title, drawn along the axis; empty for none.
    public var label: String
    /// Linear or log.
    public var scale: Scale
    /// The lower limit, or nil to take it from the data.
    public var min: Double?
    /// The upper limit, or nil to take it from the data.
    public var max: Double?
    /// Whether a log axis shows minor ticks at 2…9 × each decade.
    public var minorTicks: Bool

    /// An axis with this label and scale.
    ///
    /// ```swift
    /// let x = Axis("epoch", min: 0, max: 25_000)
    /// ```
    public init(_ label: String = "", scale: Scale = .linear, min: Double? = nil, max: Double? = nil,
                minorTicks: Bool = true) {
        self.label = label
        self.scale = scale
        self.min = min
        self.max = max
        self.minorTicks = minorTicks
    }

    // MARK: - Tick generation

    /// Tick values between `lo` and `hi` (inclusive) at a 1-2-5 step giving about `count` ticks.
    ///
    /// Returns `[lo]` when `lo == hi` and `[]` when either is not finite.
    ///
    /// ```swift
    /// Axis.niceTicks(from: 0, to: 1, count: 5)   // [0, 0.2, 0.4, 0.6, 0.8, 1]
    /// ```
    public static func niceTicks(from lo: Double, to hi: Double, count: Int = 6) -> [Double] {
        guard lo.isFinite, hi.isFinite else { return [] }
        let (low, high) = (Swift.min(lo, hi), Swift.max(lo, hi))
        if low == high { return [low] }
        return ticks(from: low, to: high, step: niceStep(span: high - low, count: count))
    }

    /// The multiples of `step` between `lo` and `hi` (inclusive, with a little tolerance).
    static func ticks(from low: Double, to high: Double, step: Double) -> [Double] {
        let first = (low / step - 1e-9).rounded(.up)
        let last = (high / step + 1e-9).rounded(.down)
        guard first <= last, last - first < 10_000 else { return [low, high] }
        return stride(from: first, through: last, by: 1).map { k in
            let value = k * step
            return value == 0 ? 0 : value      // no -0
        }
    }

    /// The 1-2-5 step (…, 0.1, 0.2, 0.5, 1, 2, 5, 10, …) that cuts `span` into about `count` pieces.
    ///
    /// ```swift
    /// Axis.niceStep(span: 730, count: 4)   // 200
    /// ```
    public static func niceStep(span: Double, count: Int) -> Double {
        guard span > 0, span.isFinite else { return 1 }
        let rough = span / Double(Swift.max(1, count))
        let magnitude = pow(10, (log10(rough)).rounded(.down))
        let ratio = rough / magnitude
        let factor: Double = ratio < 1.5 ? 1 : ratio < 3 ? 2 : ratio < 7 ? 5 : 10
        let step = factor * magnitude
        // Subnormal spans underflow the magnitude; fall back to the span itself.
        return step > 0 && step.isFinite ? step : span
    }

    /// Decade ticks between `lo` and `hi` (both > 0, inclusive) and the minor ticks 2…9 × 10ᵏ between them.
    ///
    /// When the range spans many decades, majors skip decades (every 2nd,
    /// 5th, …) so about `count` remain, and minor ticks are dropped.
    ///
    /// ```swift
    /// Axis.logTicks(from: 1, to: 100).major   // [1, 10, 100]
    /// ```
    public static func logTicks(from lo: Double, to hi: Double, count: Int = 8) -> (major: [Double], minor: [Double]) {
        guard lo > 0, hi > 0, lo.isFinite, hi.isFinite else { return ([], []) }
        let (low, high) = (Swift.min(lo, hi), Swift.max(lo, hi))
        let firstDecade = Int((log10(low) - 1e-9).rounded(.up))
        let lastDecade = Int((log10(high) + 1e-9).rounded(.down))
        let decades = lastDecade - firstDecade
        let every = decades <= count ? 1 : Int(niceStep(span: Double(decades), count: count).rounded(.up))
        var major: [Double] = []
        if firstDecade <= lastDecade {
            for k in firstDecade...lastDecade where (k - firstDecade) % Swift.max(1, every) == 0 {
                major.append(pow(10, Double(k)))
            }
        }
        var minor: [Double] = []
        if every == 1 {
            let start = Int(log10(low).rounded(.down))
            let end = Int(log10(high).rounded(.up))
            for k in start...Swift.max(start, end) {
                for m in 2...9 {
                    let value = Double(m) * pow(10, Double(k))
                    if value >= low * (1 - 1e-9) && value <= high * (1 + 1e-9) { minor.append(value) }
                }
            }
        }
        return (major, minor)
    }

    /// The label for a tick `value` on a linear axis whose ticks are `step` apart.
    ///
    /// Uses just enough decimals for the step, and `1.5e6` style for very large or very small values.
    ///
    /// ```swift
    /// Axis.tickLabel(0.30000000000000004, step: 0.1)   // "0.3"
    /// ```
    public static func tickLabel(_ value: Double, step: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : value > 0 ? "∞" : "−∞" }
        if value == 0 { return "0" }
        guard step > 0, step.isFinite else { return shortLabel(value) }
        let size = Swift.max(Swift.abs(value), step)
        if size >= 1e5 || step < 1e-4 {
            return scientific(value, significant: significantDigits(value, step: step))
        }
        let decimals = Swift.max(0, Int((-log10(step) - 1e-9).rounded(.up)))
        return String(format: "%.\(decimals)f", value).replacingOccurrences(of: "-", with: "−")
    }

    /// The label for a decade tick 10ᵏ: `10⁻⁵` style, or `0.01`, `1`, `1000` when `plain` and k is in −2…3.
    ///
    /// An axis uses one style for all its decades: plain only when every decade is in 0.01…1000.
    ///
    /// ```swift
    /// Axis.decadeLabel(1e-5)   // "10⁻⁵"
    /// ```
    public static func decadeLabel(_ value: Double, plain: Bool = false) -> String {
        let k = Int(log10(value).rounded())
        if plain && (-2...3).contains(k) {
            return k < 0 ? String(format: "%.\(-k)f", value) : String(Int(value.rounded()))
        }
        let superscripts: [Character: Character] = ["0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵",
                                                    "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹", "-": "⁻"]
        return "10" + String(String(k).map { superscripts[$0] ?? $0 })
    }

    /// A short label for any value (colour bars, tooltips): 4 significant digits.
    ///
    /// ```swift
    /// Axis.shortLabel(0.123456)   // "0.1235"
    /// ```
    public static func shortLabel(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : value > 0 ? "inf" : "-inf" }
        if value == 0 { return "0" }
        if Swift.abs(value) >= 1e5 || Swift.abs(value) < 1e-3 { return scientific(value, significant: 3) }
        let text = String(format: "%.4g", value)
        return text
    }

    /// Significant digits for `value` in `1.5e-5` style so that ticks `step` apart differ.
    private static func significantDigits(_ value: Double, step: Double) -> Int {
        let exponent = log10(Swift.abs(value)).rounded(.down)
        let decimals = Swift.min(5, Swift.max(0, (exponent - log10(step) - 1e-9).rounded(.up)))
        return decimals.isFinite ? Int(decimals) + 1 : 3
    }

    private static func scientific(_ value: Double, significant: Int) -> String {
        var exponent = Int(log10(Swift.abs(value)).rounded(.down))
        var mantissa = value / pow(10, Double(exponent))
        let decimals = Swift.max(0, significant - 1)
        var text = String(format: "%.\(decimals)f", mantissa)
        if text.hasPrefix("10") || text.hasPrefix("-10") {       // 9.99… rounded up
            exponent += 1
            mantissa = value / pow(10, Double(exponent))
            text = String(format: "%.\(decimals)f", mantissa)
        }
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text + "e" + String(exponent)
    }
}

// MARK: - Resolved axes

/// A tick on a resolved axis: where it is, what it says, and whether it is major.
struct Tick {
    let value: Double
    let label: String
    let major: Bool
}

/// An axis fixed to a domain, with its ticks, ready to map values to pixels.
struct ResolvedAxis {
    let label: String
    let scale: Axis.Scale
    let lo: Double
    let hi: Double
    let ticks: [Tick]
    /// Whether grid lines are drawn at major ticks.
    let grid: Bool

    /// Resolves `axis` for the finite `values` (for log axes, the positive ones).
    ///
    /// Throws when nothing can be placed on it.
    static func resolve(_ axis: Axis, values: [Double], chart: String, name: String) throws -> ResolvedAxis {
        let usable = values.filter { $0.isFinite && (axis.scale == .linear || $0 > 0) }
        var lo = axis.min ?? usable.min()
        var hi = axis.max ?? usable.max()
        if axis.scale == .log {
            if let l = lo, l <= 0 { lo = usable.min() }
            if let h = hi, h <= 0 { hi = usable.max() }
        }
        guard var low = lo, var high = hi else {
            let what = axis.scale == .log ? "no positive finite values for its log \(name) axis"
                                          : "no finite values for its \(name) axis"
            throw PlotError("\(chart): \(what)")
        }
        if low > high { swap(&low, &high) }
        switch axis.scale {
        case .linear:
            if low == high {
                let pad = low == 0 ? 1 : Swift.abs(low) * 0.5
                (low, high) = (low - pad, high + pad)
            }
            let step = Axis.niceStep(span: high - low, count: 5)
            if axis.min == nil { low = (low / step + 1e-9).rounded(.down) * step }
            if axis.max == nil { high = (high / step - 1e-9).rounded(.up) * step }
            // Ticks at the same step the domain was rounded to, so the axis ends on a tick.
            let ticks = Axis.ticks(from: low, to: high, step: step).map {
                Tick(value: $0, label: Axis.tickLabel($0, step: step), major: true)
            }
            return ResolvedAxis(label: axis.label, scale: .linear, lo: low, hi: high, ticks: ticks, grid: true)
        case .log:
            if axis.min == nil { low = pow(10, (log10(low) + 1e-9).rounded(.down)) }
            if axis.max == nil { high = pow(10, (log10(high) - 1e-9).rounded(.up)) }
            if low == high { (low, high) = (low / 10, high * 10) }
            let (major, minor) = Axis.logTicks(from: low, to: high)
            let plain = major.allSatisfy { (1e-2...1e3).contains($0) }
            var ticks = major.map { Tick(value: $0, label: Axis.decadeLabel($0, plain: plain), major: true) }
            if axis.minorTicks { ticks += minor.map { Tick(value: $0, label: "", major: false) } }
            if major.count < 2 {
                // Less than two decades in view: label the ends too, so the scale can be read.
                for end in [low, high] where !major.contains(where: { Swift.abs($0 / end - 1) < 1e-9 }) {
                    ticks.append(Tick(value: end, label: Axis.shortLabel(end), major: true))
                }
            }
            return ResolvedAxis(label: axis.label, scale: .log, lo: low, hi: high, ticks: ticks, grid: true)
        }
    }

    /// A categorical axis: `labels[i]` at value i, the domain padded by half a category each side.
    static func categories(_ labels: [String], label: String) -> ResolvedAxis {
        let ticks = labels.enumerated().map { Tick(value: Double($0.offset), label: $0.element, major: true) }
        return ResolvedAxis(label: label, scale: .linear, lo: -0.5, hi: Double(labels.count) - 0.5, ticks: ticks, grid: false)
    }

    /// Whether `value` can be placed on this axis.
    func canShow(_ value: Double) -> Bool {
        value.isFinite && (scale == .linear || value > 0)
    }

    /// The fraction 0…1 of the way from `lo` to `hi` (outside for values out of range).
    func fraction(_ value: Double) -> Double {
        switch scale {
        case .linear: return hi == lo ? 0.5 : (value - lo) / (hi - lo)
        case .log: return hi == lo ? 0.5 : (log10(value) - log10(lo)) / (log10(hi) - log10(lo))
        }
    }

    /// A copy with a new domain and freshly generated ticks (used to equalise aspect ratios).
    func widened(lo newLo: Double, hi newHi: Double) -> ResolvedAxis {
        let step = Axis.niceStep(span: newHi - newLo, count: 6)
        let ticks = Axis.niceTicks(from: newLo, to: newHi, count: 6).map {
            Tick(value: $0, label: Axis.tickLabel($0, step: step), major: true)
        }
        return ResolvedAxis(label: label, scale: scale, lo: newLo, hi: newHi, ticks: ticks, grid: grid)
    }

    /// The width of the widest tick label at font size `size`.
    func widestLabel(size: Double) -> Double {
        ticks.map { textWidth($0.label, size: size) }.max() ?? 0
    }
}
