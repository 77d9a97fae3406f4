// The one implementation of legends and colour bars, drawn to the right of
// a chart's plot area so they never cover data.

/// One row of a legend: a swatch and its label.
struct LegendEntry {
    enum Swatch {
        case line(color: String, dash: String?)
        case box(color: String)
        case dot(color: String)
        case tick(color: String)
    }

    let label: String
    let swatch: Swatch
}

enum Legend {
    static let rowHeight = 18.0
    static let swatchWidth = 22.0

    /// The width a legend with these entries needs, including its left gap.
    static func width(_ entries: [LegendEntry]) -> Double {
        guard !entries.isEmpty else { return 0 }
        return 16 + swatchWidth + 8 + (entries.map { textWidth($0.label, size: Style.legendSize) }.max() ?? 0) + Style.pad
    }
}

extension SVG {
    /// A legend whose top-left corner is at (x, y).
    mutating func drawLegend(_ entries: [LegendEntry], x: Double, y: Double) {
        for (row, entry) in entries.enumerated() {
            let middle = y + Double(row) * Legend.rowHeight + Legend.rowHeight / 2
            switch entry.swatch {
            case let .line(color, dash):
                line(x1: x, y1: middle, x2: x + Legend.swatchWidth, y2: middle, stroke: color, width: 2.5, dash: dash)
            case let .box(color):
                rect(x: x + 4, y: middle - 6, width: 14, height: 12, fill: color)
            case let .dot(color):
                circle(cx: x + Legend.swatchWidth / 2, cy: middle, r: 4.5, fill: color)
            case let .tick(color):
                line(x1: x + Legend.swatchWidth / 2, y1: middle - 6, x2: x + Legend.swatchWidth / 2, y2: middle + 6,
                     stroke: color, width: 2)
            }
            text(entry.label, x: x + Legend.swatchWidth + 8, y: middle + Style.legendSize * 0.35,
                 size: Style.legendSize, fill: Palette.ink)
        }
    }
}

// MARK: - Colour bar

enum ColorBar {
    static let barWidth = 14.0

    /// The width a colour bar for `scale` needs, including its left gap.
    static func width(_ scale: ColorScale, label: String, missing: Bool) -> Double {
        let tickWidth = ticks(scale).map { textWidth($0.label, size: Style.tickSize) }.max() ?? 0
        let noteWidth = missing ? 14 + 6 + textWidth(missingNote, size: Style.noteSize) - barWidth - 6 : 0
        let labelWidth = label.isEmpty ? 0 : Style.labelSize + 8
        return 20 + barWidth + 6 + Swift.max(tickWidth, noteWidth) + labelWidth + Style.pad
    }

    static let missingNote = "NaN / inf"

    static func ticks(_ scale: ColorScale) -> [Tick] {
        let step = Axis.niceStep(span: scale.hi - scale.lo, count: 5)
        return Axis.niceTicks(from: scale.lo, to: scale.hi, count: 5).map {
            Tick(value: $0, label: Axis.tickLabel($0, step: step), major: true)
        }
    }
}

extension SVG {
    /// A vertical colour bar for `scale` with its top-left corner at (x, y),
    /// ticked labels, an optional title along its right side, and a grey
    /// swatch with "NaN / inf" under it when `missing`.
    mutating func drawColorBar(_ scale: ColorScale, x: Double, y: Double, height: Double, label: String,
                               missing: Bool) {
        // The id comes from the colours, so charts placed together in one document never
        // pick up each other's gradient (equal ids then mean equal gradients).
        let stops = scale.gradient
        var hash: UInt32 = 2_166_136_261          // FNV-1a
        for byte in stops.map({ "\($0.0)\($0.1)" }).joined().utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let id = "colorbar-" + String(hash, radix: 16)
        verticalGradient(id: id, stops: stops)
        rect(x: x, y: y, width: ColorBar.barWidth, height: height, gradient: id, stroke: Palette.axis, strokeWidth: 0.5)
        var widest = 0.0
        for tick in ColorBar.ticks(scale) {
            let fraction = (tick.value - scale.lo) / (scale.hi - scale.lo)
            let ty = y + height - fraction * height
            line(x1: x + ColorBar.barWidth, y1: ty, x2: x + ColorBar.barWidth + 4, y2: ty, stroke: Palette.axis)
            text(tick.label, x: x + ColorBar.barWidth + 6, y: ty + Style.tickSize * 0.35, size: Style.tickSize,
                 fill: Palette.muted)
            widest = Swift.max(widest, textWidth(tick.label, size: Style.tickSize))
        }
        if !label.isEmpty {
            text(label, x: x + ColorBar.barWidth + 6 + widest + 6 + Style.labelSize, y: y + height / 2,
                 size: Style.labelSize, anchor: .middle, fill: Palette.ink, rotate: -90)
        }
        if missing {
            rect(x: x, y: y + height + 12, width: 14, height: 12, fill: Palette.missing)
            text(ColorBar.missingNote, x: x + 20, y: y + height + 22, size: Style.noteSize, fill: Palette.muted)
        }
    }
}
