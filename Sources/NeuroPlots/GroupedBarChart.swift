// Grouped bars: one group per category (e.g. frequency k), one bar per
// series in each group (e.g. the norms of the cos and sin components).

/// Bars in groups: `groups[g]` names a category, and each series has one
/// value per group, drawn side by side in the series' colour, with a legend.
///
/// Bars start at 0 (linear axis) or at the bottom of the axis (log). A bar
/// of (nearly) no height is drawn as a small mark on the baseline, and with
/// few bars each bar's value is written above it, so a 0 is seen, not missed.
/// NaN or infinite values are shown as a short grey bar with a legend note.
///
/// ```swift
/// let bars = GroupedBarChart(title: "Fourier norms of W_E", groups: (1...56).map(String.init), series: [.init("cos", values: cos), .init("sin", values: sin)])
/// ```
public struct GroupedBarChart: Chart {
    /// One series of bars: a name for the legend and one value per group.
    public struct Series {
        /// The name shown in the legend.
        public var name: String
        /// One value per group.
        public var values: [Double]
        /// A colour such as `"#0072b2"`, or nil for the next palette colour.
        public var color: String?

        /// A named series.
        ///
        /// ```swift
        /// let s = GroupedBarChart.Series("cos", values: [0.1, 2.3, 0.2])
        /// ```
        public init(_ name: String, values: [Double], color: String? = nil) {
            self.name = name
            self.values = values
            self.color = color
        }
    }

    /// The title at the top; empty for none.
    public var title: String
    /// The category names, one per group, left to right.
    public var groups: [String]
    /// The series, drawn left to right within each group.
    public var series: [Series]
    /// The title under the groups.
    public var xLabel: String
    /// The value axis (linear or log).
    public var yAxis: Axis
    /// Whether the series are named in a legend.
    public var showLegend: Bool
    /// Whether each bar's value is written above it; nil for when there are at most `maxLabelledBars` bars.
    public var valueLabels: Bool?
    /// Most bars whose values are written above them by default.
    public static let maxLabelledBars = 24
    /// Width of the drawing in pixels.
    public var width: Double
    /// Height of the drawing in pixels.
    public var height: Double

    /// A grouped bar chart.
    ///
    /// ```swift
    /// let bars = GroupedBarChart(groups: ["1", "2"], series: [.init("cos", values: [1, 2]), .init("sin", values: [2, 1])], xLabel: "frequency")
    /// ```
    public init(title: String = "", groups: [String], series: [Series], xLabel: String = "", yAxis: Axis = Axis(),
                showLegend: Bool = true, valueLabels: Bool? = nil, width: Double = 720, height: Double = 400) {
        self.showLegend = showLegend
        self.valueLabels = valueLabels
        self.title = title
        self.groups = groups
        self.series = series
        self.xLabel = xLabel
        self.yAxis = yAxis
        self.width = width
        self.height = height
    }

    /// The height of the mark drawn for a bar shorter than it (a value of 0), in pixels.
    public static let minimumBarHeight = 3.0

    /// The chart as a drawing; throws a `PlotError` for no groups or series, or a series whose length is not the number of groups.
    public func draw() throws -> SVG {
        let chart = "bar chart"
        try requireNonEmpty(groups, chart: chart, what: "the list of groups")
        try requireNonEmpty(series, chart: chart, what: "the list of series")
        for s in series where s.values.count != groups.count {
            throw PlotError("\(chart): series '\(s.name)' has \(s.values.count) values for \(groups.count) groups")
        }
        let values = series.flatMap(\.values)
        let y = try ResolvedAxis.resolve(yAxis, values: values + (yAxis.scale == .linear ? [0] : []), chart: chart, name: "y")
        let x = ResolvedAxis.categories(groups, label: xLabel)
        let missing = values.contains { !y.canShow($0) }
        var entries = series.enumerated().map { LegendEntry(label: $0.element.name, swatch: .box(color: $0.element.color ?? Palette.color($0.offset))) }
        if !showLegend { entries = [] }
        if missing {
            entries.append(LegendEntry(label: yAxis.scale == .log ? "NaN, inf or ≤ 0" : "NaN or inf", swatch: .box(color: Palette.missing)))
        }

        let slot = (width - 200) / Double(groups.count)      // rough, only to decide on rotation
        let widest = x.widestLabel(size: Style.tickSize)
        let rotate = widest > textWidth("000", size: Style.tickSize)
            && labelStride(spacing: slot, labelWidth: Style.tickSize * 1.3) < labelStride(spacing: slot, labelWidth: widest)
        let area = PlotArea.layout(width: width, height: height, title: title, x: x, y: y, right: Legend.width(entries),
                                   xLabelsRotated: rotate)
        var svg = SVG(width: width, height: height)
        svg.drawTitle(title)
        svg.drawAxes(area, rotateXLabels: rotate)

        let labelled = valueLabels ?? (groups.count * series.count <= Self.maxLabelledBars)
        let groupWidth = area.width / Double(groups.count)
        let barWidth = groupWidth * 0.8 / Double(series.count)
        let baseline = area.py(y.scale == .linear ? Swift.min(Swift.max(0, y.lo), y.hi) : y.lo)
        for (si, s) in series.enumerated() {
            let color = s.color ?? Palette.color(si)
            for (g, value) in s.values.enumerated() {
                let left = area.x + (Double(g) + 0.1) * groupWidth + Double(si) * barWidth
                let tooltip = "\(groups[g]), \(s.name): \(Axis.shortLabel(value))"
                guard y.canShow(value) else {
                    svg.rect(x: left, y: baseline - 6, width: barWidth, height: 6, fill: Palette.missing, title: tooltip)
                    continue
                }
                let top = Swift.min(area.bottom, Swift.max(area.y, area.py(value)))
                let width = Swift.max(0.5, barWidth - 0.5)
                svg.rect(x: left, y: Swift.min(top, baseline), width: width,
                         height: Swift.abs(baseline - top), fill: color, title: tooltip)
                if Swift.abs(baseline - top) < Self.minimumBarHeight {
                    // A bar of (about) nothing still shows where it is: a mark on the baseline in its colour.
                    svg.rect(x: left, y: baseline - Self.minimumBarHeight / 2, width: width, height: Self.minimumBarHeight,
                             fill: color, stroke: Palette.ink, strokeWidth: 0.6, title: tooltip)
                }
                if labelled {
                    let above = value >= 0 || y.scale == .log
                    let labelY = above ? Swift.min(top, baseline) - 4 : Swift.max(top, baseline) + Style.tickSize + 2
                    svg.text(Axis.shortLabel(value), x: left + width / 2, y: labelY, size: Style.tickSize, anchor: .middle,
                             fill: Palette.ink)
                }
            }
        }
        if y.scale == .linear && y.lo < 0 && y.hi > 0 {
            svg.line(x1: area.x, y1: baseline, x2: area.right, y2: baseline, stroke: Palette.axis)
        }
        svg.drawLegend(entries, x: area.right + 16, y: area.y)
        return svg
    }
}
