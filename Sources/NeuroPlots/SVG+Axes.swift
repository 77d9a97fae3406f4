// The one implementation of titles, plot areas, grids, ticks and axis titles
// that every chart with x/y axes draws through.

/// The rectangle data is drawn in, and how to map values into it.
struct PlotArea {
    let x: Double
    let y: Double
    let width: Double
    let height: Double
    let xAxis: ResolvedAxis
    let yAxis: ResolvedAxis

    var right: Double { x + width }
    var bottom: Double { y + height }

    /// The pixel column of `value` on the x axis.
    func px(_ value: Double) -> Double { x + xAxis.fraction(value) * width }
    /// The pixel row of `value` on the y axis (up is larger).
    func py(_ value: Double) -> Double { bottom - yAxis.fraction(value) * height }

    /// Places a plot area in a `width`×`height` drawing, leaving room for a
    /// title, the axes' tick labels and titles, `right` pixels of legend or
    /// colour bar, and `extraTop` pixels above the plot (for marker labels).
    static func layout(width: Double, height: Double, title: String, x: ResolvedAxis, y: ResolvedAxis,
                       right: Double, xLabelsRotated: Bool = false, extraTop: Double = 0) -> PlotArea {
        let top = (title.isEmpty ? Style.pad + 6 : Style.pad + Style.titleSize + 18) + extraTop
        let yTitle = y.label.isEmpty ? 0 : Style.labelSize + 10
        let left = Style.pad + yTitle + y.widestLabel(size: Style.tickSize) + 10
        let xTickHeight = xLabelsRotated ? x.widestLabel(size: Style.tickSize) * 0.72 + 8 : Style.tickSize + 6
        let xTitle = x.label.isEmpty ? 0 : Style.labelSize + 12
        let bottom = Style.pad + xTickHeight + xTitle + 4
        let rightMargin = Swift.max(Style.pad + 10, right)
        return PlotArea(x: left, y: top, width: Swift.max(40, width - left - rightMargin),
                        height: Swift.max(40, height - top - bottom), xAxis: x, yAxis: y)
    }
}

/// How many labels to skip so that labels `labelWidth` wide, `spacing`
/// pixels apart, do not touch: 1, 2, 5, 10, 20, 50, …
func labelStride(spacing: Double, labelWidth: Double) -> Int {
    guard spacing > 0 else { return 1 }
    var scale = 1
    while scale < 1_000_000 {
        for m in [1, 2, 5] where Double(m * scale) * spacing >= labelWidth + 6 { return m * scale }
        scale *= 10
    }
    return scale
}

extension SVG {
    /// The chart title, centred at the top.
    mutating func drawTitle(_ title: String) {
        guard !title.isEmpty else { return }
        text(title, x: width / 2, y: Style.pad + Style.titleSize, size: Style.titleSize, anchor: .middle,
             weight: "600", fill: Palette.ink)
    }

    /// Grid lines, ticks, tick labels, axis lines and axis titles for `area`.
    ///
    /// Categorical axes (no grid) thin their labels so they never overlap;
    /// `rotateXLabels` turns x labels 45° for long category names.
    mutating func drawAxes(_ area: PlotArea, rotateXLabels: Bool = false, xLabels: Bool = true, yLabels: Bool = true) {
        let (xAxis, yAxis) = (area.xAxis, area.yAxis)
        // Grid first, so data and axes draw over it.
        for tick in yAxis.ticks where tick.major && yAxis.grid {
            let y = area.py(tick.value)
            line(x1: area.x, y1: y, x2: area.right, y2: y, stroke: Palette.grid)
        }
        for tick in xAxis.ticks where tick.major && xAxis.grid {
            let x = area.px(tick.value)
            line(x1: x, y1: area.y, x2: x, y2: area.bottom, stroke: Palette.grid)
        }
        line(x1: area.x, y1: area.bottom, x2: area.right, y2: area.bottom, stroke: Palette.axis)
        line(x1: area.x, y1: area.y, x2: area.x, y2: area.bottom, stroke: Palette.axis)

        let xStride = stride(for: xAxis, positions: xAxis.ticks.map { area.px($0.value) }, rotated: rotateXLabels)
        for (index, tick) in xAxis.ticks.enumerated() {
            let x = area.px(tick.value)
            let labelled = xLabels && tick.major && !tick.label.isEmpty && index % xStride == 0
            // Categorical axes mark only the categories they name.
            if xAxis.grid || labelled {
                line(x1: x, y1: area.bottom, x2: x, y2: area.bottom + (tick.major ? 5 : 3), stroke: Palette.axis)
            }
            guard labelled else { continue }
            if rotateXLabels {
                text(tick.label, x: x + 3, y: area.bottom + 12, size: Style.tickSize, anchor: .end,
                     fill: Palette.muted, rotate: -45)
            } else {
                text(tick.label, x: x, y: area.bottom + 8 + Style.tickSize, size: Style.tickSize, anchor: .middle,
                     fill: Palette.muted)
            }
        }
        let yStride = stride(for: yAxis, positions: yAxis.ticks.map { area.py($0.value) }, rotated: true)
        for (index, tick) in yAxis.ticks.enumerated() {
            let y = area.py(tick.value)
            let labelled = yLabels && tick.major && !tick.label.isEmpty && index % yStride == 0
            if yAxis.grid || labelled {
                line(x1: area.x - (tick.major ? 5 : 3), y1: y, x2: area.x, y2: y, stroke: Palette.axis)
            }
            guard labelled else { continue }
            text(tick.label, x: area.x - 8, y: y + Style.tickSize * 0.35, size: Style.tickSize, anchor: .end,
                 fill: Palette.muted)
        }

        if xLabels && !xAxis.label.isEmpty {
            let tickHeight = rotateXLabels ? xAxis.widestLabel(size: Style.tickSize) * 0.72 + 8 : Style.tickSize + 6
            text(xAxis.label, x: area.x + area.width / 2, y: area.bottom + tickHeight + Style.labelSize + 8,
                 size: Style.labelSize, anchor: .middle, fill: Palette.ink)
        }
        if yLabels && !yAxis.label.isEmpty {
            let x = area.x - 10 - yAxis.widestLabel(size: Style.tickSize) - 8
            text(yAxis.label, x: x, y: area.y + area.height / 2, size: Style.labelSize, anchor: .middle,
                 fill: Palette.ink, rotate: -90)
        }
    }

    /// For categorical axes, the label stride that keeps labels apart; 1 for numeric axes.
    /// `rotated` labels (and y labels) need only their height between them.
    private func stride(for axis: ResolvedAxis, positions: [Double], rotated: Bool) -> Int {
        guard !axis.grid, positions.count > 1 else { return 1 }
        let spacing = Swift.abs(positions[1] - positions[0])
        let width = rotated ? Style.tickSize * 1.3 : axis.widestLabel(size: Style.tickSize)
        return labelStride(spacing: spacing, labelWidth: width)
    }
}
