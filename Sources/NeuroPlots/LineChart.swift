// Line charts: training curves with several series, log axes, phase lines
// and shaded spans.

/// Several named series of (x, y) points drawn as lines, with a legend,
/// optional log axes, vertical marker lines (phases) and shaded spans.
///
/// Points whose y (or x) is NaN, infinite, or ≤ 0 on a log axis break the
/// line and are marked by grey ticks along the bottom of the plot, with a
/// legend note. Series longer than the plot is wide are thinned to the
/// smallest and largest value per pixel column, so the shape is kept and
/// files stay small.
///
/// ```swift
/// let chart = LineChart(title: "Training", yAxis: Axis("loss", scale: .log), series: [.init("train", y: train), .init("test", y: test)])
/// ```
public struct LineChart: Chart {
    /// One line: a name for the legend, its points, and how it is drawn.
    public struct Series {
        /// The name shown in the legend.
        public var name: String
        /// The x values, one per point.
        public var x: [Double]
        /// The y values, one per point.
        public var y: [Double]
        /// A colour such as `"#0072b2"`, or nil for the next palette colour.
        public var color: String?
        /// Whether the line is dashed.
        public var dashed: Bool

        /// A series with explicit x values.
        ///
        /// ```swift
        /// let s = LineChart.Series("test", x: epochs, y: testLoss, dashed: true)
        /// ```
        public init(_ name: String, x: [Double], y: [Double], color: String? = nil, dashed: Bool = false) {
            self.name = name
            self.x = x
            self.y = y
            self.color = color
            self.dashed = dashed
        }

        /// A series at x = 0, 1, 2, …
        ///
        /// ```swift
        /// let s = LineChart.Series("train", y: losses)
        /// ```
        public init(_ name: String, y: [Double], color: String? = nil, dashed: Bool = false) {
            self.init(name, x: y.indices.map(Double.init), y: y, color: color, dashed: dashed)
        }
    }

    /// A labelled vertical line, e.g. the start of a phase of training.
    public struct Marker {
        /// Where the line is, in x units.
        public var x: Double
        /// The label drawn next to the top of the line.
        public var label: String

        /// A marker at `x`.
        ///
        /// ```swift
        /// let m = LineChart.Marker(x: 1400, label: "circuit formation")
        /// ```
        public init(x: Double, label: String) {
            self.x = x
            self.label = label
        }
    }

    /// A labelled shaded band between two x values.
    public struct Span {
        /// The left end, in x units.
        public var from: Double
        /// The right end, in x units.
        public var to: Double
        /// The label drawn at the top of the band.
        public var label: String

        /// A band from `from` to `to`.
        ///
        /// ```swift
        /// let s = LineChart.Span(from: 1400, to: 9400, label: "cleanup")
        /// ```
        public init(from: Double, to: Double, label: String) {
            self.from = from
            self.to = to
            self.label = label
        }
    }

    /// The title at the top; empty for none.
    public var title: String
    /// The horizontal axis.
    public var xAxis: Axis
    /// The vertical axis.
    public var yAxis: Axis
    /// The lines, drawn in order.
    public var series: [Series]
    /// Vertical marker lines.
    public var markers: [Marker]
    /// Shaded bands, drawn under the lines.
    public var spans: [Span]
    /// Whether the series are named in a legend to the right of the plot.
    public var showLegend: Bool
    /// Width of the drawing in pixels.
    public var width: Double
    /// Height of the drawing in pixels.
    public var height: Double

    /// A line chart.
    ///
    /// ```swift
    /// let chart = LineChart(title: "loss", series: [.init("train", y: [3, 1, 0.5])], markers: [.init(x: 1, label: "grok")])
    /// ```
    public init(title: String = "", xAxis: Axis = Axis(), yAxis: Axis = Axis(), series: [Series],
                markers: [Marker] = [], spans: [Span] = [], showLegend: Bool = true, width: Double = 720, height: Double = 420) {
        self.title = title
        self.xAxis = xAxis
        self.yAxis = yAxis
        self.series = series
        self.markers = markers
        self.spans = spans
        self.showLegend = showLegend
        self.width = width
        self.height = height
    }

    /// The chart as a drawing; throws a `PlotError` when there is no series, a
    /// series has no points or different numbers of x and y values, or no point can be shown.
    public func draw() throws -> SVG {
        let chart = "line chart"
        try requireNonEmpty(series, chart: chart, what: "the list of series")
        for s in series {
            if s.x.count != s.y.count {
                throw PlotError("\(chart): series '\(s.name)' has \(s.x.count) x values but \(s.y.count) y values")
            }
            if s.y.isEmpty { throw PlotError("\(chart): series '\(s.name)' has no points") }
        }
        let xs = series.flatMap(\.x) + markers.map(\.x) + spans.flatMap { [$0.from, $0.to] }
        let x = try ResolvedAxis.resolve(xAxis, values: xs, chart: chart, name: "x")
        let y = try ResolvedAxis.resolve(yAxis, values: series.flatMap(\.y), chart: chart, name: "y")

        let hidden = series.map { s in zip(s.x, s.y).filter { !x.canShow($0.0) || !y.canShow($0.1) } }
        let anyHidden = hidden.contains { !$0.isEmpty }
        var entries = series.enumerated().map { index, s -> LegendEntry in
            let count = hidden[index].count
            let note = count == 0 ? "" : " (\(count) not shown)"
            return LegendEntry(label: s.name + note,
                               swatch: .line(color: s.color ?? Palette.color(index), dash: s.dashed ? "6 4" : nil))
        }
        if !showLegend { entries = [] }
        if anyHidden {
            let reason = yAxis.scale == .log || xAxis.scale == .log ? "NaN, inf or ≤ 0" : "NaN or inf"
            entries.append(LegendEntry(label: reason, swatch: .tick(color: Palette.missing)))
        }

        // Marker and span labels go in rows above the plot; their rows depend only on x positions.
        let firstLayout = PlotArea.layout(width: width, height: height, title: title, x: x, y: y, right: Legend.width(entries))
        let labelRows = (placeLabels(area: firstLayout).map(\.row).max() ?? -1) + 1
        let area = PlotArea.layout(width: width, height: height, title: title, x: x, y: y, right: Legend.width(entries),
                                   extraTop: Double(labelRows) * Self.labelRowHeight)
        var svg = SVG(width: width, height: height)
        svg.drawTitle(title)
        for (index, span) in spans.enumerated() {
            // Alternate shades, so that bands side by side (phases) stay apart.
            let left = area.px(Swift.max(x.lo, Swift.min(span.from, span.to)))
            let right = area.px(Swift.min(x.hi, Swift.max(span.from, span.to)))
            svg.rect(x: left, y: area.y, width: right - left, height: area.height, fill: "#000000", opacity: index % 2 == 0 ? 0.04 : 0.09)
        }
        svg.drawAxes(area)
        for (index, s) in series.enumerated() {
            let color = s.color ?? Palette.color(index)
            for segment in segments(s, area: area) {
                if segment.count == 1 {
                    svg.circle(cx: segment[0].0, cy: segment[0].1, r: 2, fill: color)
                } else {
                    svg.polyline(segment, stroke: color, width: 2, dash: s.dashed ? "6 4" : nil)
                }
            }
            // Hidden points: a grey tick at their x (or at the left edge when x itself is unusable).
            var columns = Set<Int>()
            for (px, _) in hidden[index] {
                let column = x.canShow(px) ? area.px(px) : area.x
                guard column >= area.x - 0.5, column <= area.right + 0.5, columns.insert(Int(column.rounded())).inserted
                else { continue }
                svg.line(x1: column, y1: area.bottom - 8, x2: column, y2: area.bottom, stroke: Palette.missing, width: 2)
            }
        }
        drawMarkers(&svg, area: area)
        svg.drawLegend(entries, x: area.right + 16, y: area.y)
        return svg
    }

    // MARK: - Private

    /// The series in pixels, split where points cannot be shown, thinned to at most ~4 points per pixel column.
    private func segments(_ s: Series, area: PlotArea) -> [[(Double, Double)]] {
        var result: [[(Double, Double)]] = []
        var current: [(Double, Double)] = []
        for (vx, vy) in zip(s.x, s.y) {
            if area.xAxis.canShow(vx) && area.yAxis.canShow(vy) {
                current.append((area.px(vx), area.py(vy)))
            } else if !current.isEmpty {
                result.append(current)
                current = []
            }
        }
        if !current.isEmpty { result.append(current) }
        return result.map { $0.count > Int(area.width) * 4 ? thin($0) : $0 }
    }

    /// Keeps the first, lowest, highest and last point of each pixel column, in their original order.
    private func thin(_ points: [(Double, Double)]) -> [(Double, Double)] {
        var kept: [(Double, Double)] = []
        var start = 0
        while start < points.count {
            let column = points[start].0.rounded(.down)
            var end = start
            var (lowest, highest) = (start, start)
            while end < points.count && points[end].0.rounded(.down) == column {
                if points[end].1 < points[lowest].1 { lowest = end }
                if points[end].1 > points[highest].1 { highest = end }
                end += 1
            }
            for i in Set([start, lowest, highest, end - 1]).sorted() { kept.append(points[i]) }
            start = end
        }
        return kept
    }

    private static let labelRowHeight = Style.noteSize + 6

    /// Marker and span labels: left edge, row above the plot (0 = nearest), text; stacked so none overlap.
    private func placeLabels(area: PlotArea) -> [(left: Double, row: Int, text: String)] {
        var labels: [(x: Double, text: String)] = []
        for marker in markers where area.xAxis.canShow(marker.x) && !marker.label.isEmpty {
            let px = area.px(marker.x)
            guard px >= area.x - 0.5, px <= area.right + 0.5 else { continue }
            labels.append((px - textWidth(marker.label, size: Style.noteSize) / 2, marker.label))
        }
        for span in spans where !span.label.isEmpty {
            let left = area.px(Swift.max(area.xAxis.lo, Swift.min(span.from, span.to)))
            let right = area.px(Swift.min(area.xAxis.hi, Swift.max(span.from, span.to)))
            labels.append(((left + right) / 2 - textWidth(span.label, size: Style.noteSize) / 2, span.label))
        }
        var rowEnds: [Double] = []
        var placed: [(left: Double, row: Int, text: String)] = []
        for label in labels.sorted(by: { ($0.x, $0.text) < ($1.x, $1.text) }) {
            let labelWidth = textWidth(label.text, size: Style.noteSize)
            let left = Swift.min(Swift.max(label.x, area.x - 20), area.right + 20 - labelWidth)
            let row = rowEnds.firstIndex { $0 + 8 < left } ?? rowEnds.count
            if row == rowEnds.count { rowEnds.append(left + labelWidth) } else { rowEnds[row] = left + labelWidth }
            placed.append((left, row, label.text))
        }
        return placed
    }

    /// Vertical marker lines, and all labels in rows above the plot.
    private func drawMarkers(_ svg: inout SVG, area: PlotArea) {
        for marker in markers where area.xAxis.canShow(marker.x) {
            let px = area.px(marker.x)
            guard px >= area.x - 0.5, px <= area.right + 0.5 else { continue }
            svg.line(x1: px, y1: area.y - 4, x2: px, y2: area.bottom, stroke: "#444444", width: 1.2, dash: "5 4")
        }
        for label in placeLabels(area: area) {
            let baseline = area.y - 8 - Double(label.row) * Self.labelRowHeight
            svg.text(label.text, x: label.left, y: baseline, size: Style.noteSize, fill: Palette.ink)
        }
    }
}
