import Foundation

// Colours: a categorical palette safe for colour-blind readers (Okabe & Ito
// 2008), and colour maps for values (diverging blue–white–red centred on 0,
// sequential viridis, cyclic for angles and residues mod p).

/// Fixed colours used by every chart.
///
/// ```swift
/// let c = Palette.color(2)   // "#009e73", the third series colour
/// ```
public enum Palette {
    /// The series colours in order: blue, orange, bluish green, vermillion,
    /// reddish purple, sky blue, yellow, black (Okabe–Ito).
    public static let categorical = ["#0072b2", "#e69f00", "#009e73", "#d55e00",
                                     "#cc79a7", "#56b4e9", "#f0e442", "#000000"]
    /// The colour of cells, points and bars whose value is NaN or infinite.
    public static let missing = "#9a9a9a"
    /// Text colour.
    public static let ink = "#222222"
    /// Secondary text colour (ticks, notes).
    public static let muted = "#555555"
    /// Grid line colour.
    public static let grid = "#e6e6e6"
    /// Axis line colour.
    public static let axis = "#888888"

    /// The `index`-th series colour, cycling after the last.
    ///
    /// ```swift
    /// Palette.color(0)   // "#0072b2"
    /// ```
    public static func color(_ index: Int) -> String {
        categorical[((index % categorical.count) + categorical.count) % categorical.count]
    }
}

/// How values become colours in heatmaps and scatter plots.
///
/// ```swift
/// let h = Heatmap(values: m, colorMap: .diverging)
/// ```
public enum ColorMap: Sendable {
    /// Blue for negative, white at 0, red for positive; the scale is symmetric about 0.
    case diverging
    /// Viridis from the smallest to the largest value.
    case sequential
    /// A colour wheel from the smallest to the largest value, for periodic values (angles, residues mod p).
    case cyclic
    /// `diverging` when the data has both signs, else `sequential`.
    case automatic
}

/// A colour map fixed to a range of values.
struct ColorScale {
    let map: ColorMap
    let lo: Double
    let hi: Double

    /// Fixes `map` to the finite `values`; nil when there are none.
    init?(_ map: ColorMap, values: [Double]) {
        let finite = values.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max() else { return nil }
        var resolved = map
        if map == .automatic { resolved = low < 0 && high > 0 ? .diverging : .sequential }
        self.map = resolved
        if resolved == .diverging {
            let m = Swift.max(Swift.abs(low), Swift.abs(high))
            (lo, hi) = m == 0 ? (-1, 1) : (-m, m)
        } else {
            (lo, hi) = low == high ? (low - (low == 0 ? 1 : Swift.abs(low) * 0.5), high + (high == 0 ? 1 : Swift.abs(high) * 0.5))
                                   : (low, high)
        }
    }

    /// The colour for `value`; `Palette.missing` when it is not finite.
    func color(_ value: Double) -> String {
        guard value.isFinite else { return Palette.missing }
        let fraction = (value - lo) / (hi - lo)
        let t = fraction.isFinite ? Swift.min(1, Swift.max(0, fraction)) : 0.5     // spans that overflow
        return ColorScale.interpolate(stops, t)
    }

    /// Gradient stops (offset, colour) for a colour bar.
    var gradient: [(Double, String)] {
        let n = stops.count - 1
        return stops.enumerated().map { (Double($0.offset) / Double(n), ColorScale.hex($0.element)) }
    }

    private var stops: [(Double, Double, Double)] {
        switch map {
        case .diverging, .automatic: return ColorScale.redBlue
        case .sequential: return ColorScale.viridis
        case .cyclic: return ColorScale.wheel
        }
    }

    // ColorBrewer RdBu (reversed so that negative is blue), 11 classes.
    private static let redBlue: [(Double, Double, Double)] = [
        (5, 48, 97), (33, 102, 172), (67, 147, 195), (146, 197, 222), (209, 229, 240), (247, 247, 247),
        (253, 219, 199), (244, 165, 130), (214, 96, 77), (178, 24, 43), (103, 0, 31),
    ]
    // Matplotlib's viridis, sampled at 9 points.
    private static let viridis: [(Double, Double, Double)] = [
        (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
        (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37),
    ]
    // A muted colour wheel that starts and ends at the same colour.
    private static let wheel: [(Double, Double, Double)] = [
        (214, 69, 65), (230, 145, 56), (196, 180, 54), (94, 170, 92), (64, 160, 170),
        (70, 110, 190), (130, 90, 180), (190, 80, 140), (214, 69, 65),
    ]

    private static func interpolate(_ stops: [(Double, Double, Double)], _ t: Double) -> String {
        let position = t * Double(stops.count - 1)
        let i = Swift.min(stops.count - 2, Int(position.rounded(.down)))
        let f = position - Double(i)
        let (a, b) = (stops[i], stops[i + 1])
        return hex((a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f, a.2 + (b.2 - a.2) * f))
    }

    private static func hex(_ rgb: (Double, Double, Double)) -> String {
        func byte(_ v: Double) -> String {
            let n = Int(Swift.min(255, Swift.max(0, v.rounded())))
            let digits = Array("0123456789abcdef")
            return String([digits[n / 16], digits[n % 16]])
        }
        return "#" + byte(rgb.0) + byte(rgb.1) + byte(rgb.2)
    }
}
