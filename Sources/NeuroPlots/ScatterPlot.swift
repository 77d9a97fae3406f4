// Scatter plots: points coloured by a value, e.g. the embedding circle of
// modular addition (token embeddings projected on cos/sin of a key frequency).

/// Points at (x, y), optionally coloured by a value with a colour bar,
/// labelled on hover (and optionally in the plot), with an equal-aspect
/// option, labelled horizontal guide lines, and arrows from the origin.
///
/// Points with a non-finite coordinate cannot be placed and are counted in
/// a note under the plot; points with a non-finite colour value are grey.
///
/// ```swift
/// let circle = ScatterPlot(title: "embedding, k = 14", x: cosines, y: sines, values: tokens, colorMap: .cyclic, equalAspect: true)
/// ```
public struct ScatterPlot: Chart {
    /// The title at the top; empty for none.
    public var title: String
    /// The x coordinates.
    public var x: [Double]
    /// The y coordinates, as many as `x`.
    public var y: [Double]
    /// One value per point to colour it by, or nil for one colour.
    public var values: [Double]?
    /// One label per point, shown on hover and, with `showLabels`, next to the point.
    public var labels: [String]?
    /// Whether labels are drawn next to the points.
    public var showLabels: Bool
    /// Whether one unit is as long on the x axis as on the y axis (circles look round).
    public var equalAspect: Bool
    /// The horizontal axis (linear or log).
    public var xAxis: Axis
    /// The vertical axis (linear or log).
    public var yAxis: Axis
    /// How values become colours.
    public var colorMap: ColorMap
    /// The title of the colour bar.
    public var valueLabel: String
    /// Radius of a point in pixels.
    public var pointRadius: Double
    /// Width of the drawing in pixels.
    public var width: Double
    /// Height of the drawing in pixels.
    public var height: Double
    /// Labelled horizontal lines across the plot (values a theory predicts), drawn under the points.
    public var guides: [(y: Double, label: String)]
    /// Whether each point is also drawn as a line from the origin (a vector).
    public var fromOrigin: Bool
    /// One group name per point, or nil: each group in its palette colour, named in a legend
    /// (in the order the groups first appear). Ignored when `values` colours the points.
    public var groups: [String]?
    /// Whether the groups are named in a legend.
    public var showLegend: Bool

    /// A scatter plot.
    ///
    /// ```swift
    /// let plot = ScatterPlot(x: [0, 1, 0], y: [1, 0, -1], labels: ["a", "b", "c"], showLabels: true)
    /// ```
    public init(title: String = "", x: [Double], y: [Double], values: [Double]? = nil, labels: [String]? = nil,
                showLabels: Bool = false, equalAspect: Bool = false, xAxis: Axis = Axis(), yAxis: Axis = Axis(),
                colorMap: ColorMap = .automatic, valueLabel: String = "", pointRadius: Double = 4.5,
                width: Double = 640, height: Double = 540, guides: [(y: Double, label: String)] = [], fromOrigin: Bool = false,
                groups: [String]? = nil, showLegend: Bool = true) {
        self.groups = groups
        self.showLegend = showLegend
        self.title = title
        self.x = x
        self.y = y
        self.values = values
        self.labels = labels
        self.showLabels = showLabels
        self.equalAspect = equalAspect
        self.xAxis = xAxis
        self.yAxis = yAxis
        self.colorMap = colorMap
        self.valueLabel = valueLabel
        self.pointRadius = pointRadius
        self.width = width
        self.height = height
        self.guides = guides
        self.fromOrigin = fromOrigin
    }

    /// The plot as a drawing; throws a `PlotError` for no points or lists of different lengths.
    public func draw() throws -> SVG {
        let chart = "scatter plot"
        try requireNonEmpty(x, chart: chart, what: "the list of points")
        if x.count != y.count { throw PlotError("\(chart): \(x.count) x values but \(y.count) y values") }
        if let values, values.count != x.count {
            throw PlotError("\(chart): \(values.count) colour values for \(x.count) points")
        }
        if let labels, labels.count != x.count {
            throw PlotError("\(chart): \(labels.count) labels for \(x.count) points")
        }
        if let groups, groups.count != x.count {
            throw PlotError("\(chart): \(groups.count) group names for \(x.count) points")
        }
        // Groups in order of first appearance, each with its palette colour.
        var groupNames: [String] = []
        for name in groups ?? [] where !groupNames.contains(name) { groupNames.append(name) }
        let groupIndex = Dictionary(groupNames.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
        let entries = values == nil && showLegend ? groupNames.enumerated().map { LegendEntry(label: $0.element, swatch: .dot(color: Palette.color($0.offset))) } : []
        // The axes reach the guides and, for arrows, the origin.
        let origin: [Double] = fromOrigin ? [0] : []
        var xr = try ResolvedAxis.resolve(xAxis, values: Self.padded(x + origin, xAxis), chart: chart, name: "x")
        var yr = try ResolvedAxis.resolve(yAxis, values: Self.padded(y + origin + guides.map(\.y), yAxis), chart: chart, name: "y")
        let scale = values.flatMap { ColorScale(colorMap, values: $0) }
        let missingColor = values?.contains { !$0.isFinite } ?? false
        let right = scale.map { ColorBar.width($0, label: valueLabel, missing: missingColor) } ?? Legend.width(entries)
        let hidden = zip(x, y).filter { !xr.canShow($0.0) || !yr.canShow($0.1) }.count
        var area = PlotArea.layout(width: width, height: height - (hidden > 0 ? 18 : 0), title: title, x: xr, y: yr, right: right)

        if equalAspect && xr.scale == .linear && yr.scale == .linear {
            // Widen the axis with fewer pixels per unit so both have the same scale, centred on the data.
            let xPerUnit = area.width / (xr.hi - xr.lo)
            let yPerUnit = area.height / (yr.hi - yr.lo)
            if xPerUnit > yPerUnit {
                let span = area.width / yPerUnit
                let middle = (xr.lo + xr.hi) / 2
                xr = xr.widened(lo: middle - span / 2, hi: middle + span / 2)
            } else {
                let span = area.height / xPerUnit
                let middle = (yr.lo + yr.hi) / 2
                yr = yr.widened(lo: middle - span / 2, hi: middle + span / 2)
            }
            area = PlotArea(x: area.x, y: area.y, width: area.width, height: area.height, xAxis: xr, yAxis: yr)
        }

        var svg = SVG(width: width, height: height)
        svg.drawTitle(title)
        svg.drawAxes(area)
        drawGuides(&svg, area: area)
        if fromOrigin && xr.canShow(0) && yr.canShow(0) {
            for i in x.indices where xr.canShow(x[i]) && yr.canShow(y[i]) {
                svg.line(x1: area.px(0), y1: area.py(0), x2: area.px(x[i]), y2: area.py(y[i]), stroke: Palette.axis, width: 1.5)
            }
        }
        for i in x.indices where xr.canShow(x[i]) && yr.canShow(y[i]) {
            let (px, py) = (area.px(x[i]), area.py(y[i]))
            let value = values?[i]
            let group = groups.flatMap { groupIndex[$0[i]] } ?? 0
            let color = value.map { scale?.color($0) ?? Palette.missing } ?? Palette.color(group)
            var tooltip = labels?[i] ?? (groups.map { "\($0[i]), point \(i)" } ?? "point \(i)")
            tooltip += " (\(Axis.shortLabel(x[i])), \(Axis.shortLabel(y[i])))"
            if let value { tooltip += " = \(Axis.shortLabel(value))" }
            svg.circle(cx: px, cy: py, r: pointRadius, fill: color, stroke: "#ffffff", strokeWidth: 0.8, title: tooltip)
        }
        if showLabels, let labels {
            for i in x.indices where xr.canShow(x[i]) && yr.canShow(y[i]) && !labels[i].isEmpty {
                // Labels sit outside the point, on the side away from the centre of the plot.
                let (px, py) = (area.px(x[i]), area.py(y[i]))
                let dx = px - (area.x + area.width / 2)
                let dy = py - (area.y + area.height / 2)
                let length = Swift.max(1e-9, (dx * dx + dy * dy).squareRoot())
                let offset = pointRadius + 4
                let lx = px + dx / length * offset
                let ly = py + dy / length * offset + Style.noteSize * 0.35
                svg.text(labels[i], x: lx, y: ly, size: Style.noteSize - 1, anchor: dx < -1 ? .end : dx > 1 ? .start : .middle,
                         fill: Palette.muted)
            }
        }
        if let scale {
            svg.drawColorBar(scale, x: area.right + 20, y: area.y, height: Swift.min(area.height, 300), label: valueLabel,
                             missing: missingColor)
        }
        if scale == nil { svg.drawLegend(entries, x: area.right + 16, y: area.y) }
        if hidden > 0 {
            let reason = xr.scale == .log || yr.scale == .log ? "NaN, inf or ≤ 0" : "NaN or inf"
            svg.text("\(hidden) point\(hidden == 1 ? "" : "s") not shown (\(reason) coordinates)", x: area.x,
                     y: height - Style.pad + 2, size: Style.noteSize, fill: Palette.muted)
        }
        return svg
    }

    /// Dashed lines across the plot at each guide inside the y range,
    /// labelled at their right end, or at their left end when that label
    /// would touch the one above it (2/5 and 3/8).
    private func drawGuides(_ svg: inout SVG, area: PlotArea) {
        var lastRight = -Double.infinity
        for guide in guides.sorted(by: { $0.y > $1.y }) where area.yAxis.canShow(guide.y) {
            let py = area.py(guide.y)
            guard py >= area.y - 0.5, py <= area.bottom + 0.5 else { continue }
            svg.line(x1: area.x, y1: py, x2: area.right, y2: py, stroke: "#444444", width: 1, dash: "5 4", opacity: 0.6)
            guard !guide.label.isEmpty else { continue }
            if py - lastRight > Style.noteSize + 2 {
                svg.text(guide.label, x: area.right - 4, y: py - 4, size: Style.noteSize, anchor: .end, fill: Palette.muted)
                lastRight = py
            } else {
                svg.text(guide.label, x: area.x + 4, y: py - 4, size: Style.noteSize, fill: Palette.muted)
            }
        }
    }

    /// `values` and, on a linear axis, points 4% beyond their extremes, so points at the ends are not drawn on the frame.
    private static func padded(_ values: [Double], _ axis: Axis) -> [Double] {
        let finite = values.filter(\.isFinite)
        guard axis.scale == .linear, let lo = finite.min(), let hi = finite.max(), hi > lo else { return values }
        return values + [lo - 0.04 * (hi - lo), hi + 0.04 * (hi - lo)]
    }
}
