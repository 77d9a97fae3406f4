import NeuroEngine

// Heatmaps: one matrix, or several (one per head or neuron) in a grid of
// facets sharing one colour scale.

/// A matrix drawn as coloured cells, row 0 at the top, with labelled rows
/// and columns and a colour bar; or several matrices of the same shape as
/// facets in a grid, sharing one colour scale.
///
/// Data with both signs uses a diverging blue–white–red map centred on 0
/// (by default). NaN and infinite cells are grey, with a note under the
/// colour bar. Small matrices get a tooltip per cell; large ones merge runs
/// of equal colour to keep files small. A wide matrix of few rows (positions
/// × neurons) keeps cells of at least `minimumCell` pixels and wraps its
/// columns into bands, one under another, each with its column labels.
///
/// ```swift
/// let map = Heatmap(title: "attention", values: pattern, xLabel: "key", yLabel: "query")
/// ```
public struct Heatmap: Chart {
    /// One matrix with its facet title.
    public struct Panel {
        /// The facet title, e.g. `"head 0"`; empty for none.
        public var title: String
        /// The matrix, `values[row][column]`.
        public var values: [[Double]]

        /// A titled matrix.
        ///
        /// ```swift
        /// let p = Heatmap.Panel("head 0", values: pattern0)
        /// ```
        public init(_ title: String, values: [[Double]]) {
            self.title = title
            self.values = values
        }
    }

    /// The title at the top; empty for none.
    public var title: String
    /// The matrices, drawn left to right, top to bottom.
    public var panels: [Panel]
    /// Labels for the rows, or nil for 0, 1, 2, …
    public var rowLabels: [String]?
    /// Labels for the columns, or nil for 0, 1, 2, …
    public var columnLabels: [String]?
    /// The title under the columns.
    public var xLabel: String
    /// The title beside the rows.
    public var yLabel: String
    /// The title of the colour bar.
    public var valueLabel: String
    /// How values become colours.
    public var colorMap: ColorMap
    /// Facets per row of the grid, or nil for about a square grid.
    public var columns: Int?
    /// The side of one cell in pixels, or nil to fit the panel to about 420 (one) or 220 (facets) pixels.
    public var cellSize: Double?

    /// A heatmap of one matrix.
    ///
    /// ```swift
    /// let map = Heatmap(values: [[1, -1], [0, 2]], rowLabels: ["a", "b"])
    /// ```
    public init(title: String = "", values: [[Double]], rowLabels: [String]? = nil, columnLabels: [String]? = nil,
                xLabel: String = "", yLabel: String = "", valueLabel: String = "", colorMap: ColorMap = .automatic,
                cellSize: Double? = nil) {
        self.init(title: title, panels: [Panel("", values: values)], rowLabels: rowLabels, columnLabels: columnLabels,
                  xLabel: xLabel, yLabel: yLabel, valueLabel: valueLabel, colorMap: colorMap, cellSize: cellSize)
    }

    /// Several matrices of one shape as facets with a shared colour scale.
    ///
    /// ```swift
    /// let map = Heatmap(title: "patterns", panels: patterns.enumerated().map { .init("head \($0.offset)", values: $0.element) })
    /// ```
    public init(title: String = "", panels: [Panel], columns: Int? = nil, rowLabels: [String]? = nil,
                columnLabels: [String]? = nil, xLabel: String = "", yLabel: String = "", valueLabel: String = "",
                colorMap: ColorMap = .automatic, cellSize: Double? = nil) {
        self.title = title
        self.panels = panels
        self.columns = columns
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.valueLabel = valueLabel
        self.colorMap = colorMap
        self.cellSize = cellSize
    }

    /// A heatmap of a tensor: `[rows, cols]` gives one panel, `[n, rows, cols]`
    /// gives n facets titled `"\(facetName) i"`. Throws for other ranks and for empty tensors.
    ///
    /// ```swift
    /// let map = try Heatmap(title: "layer 0", tensor: pattern, facetName: "head")   // pattern: [heads, q, k]
    /// ```
    public init(title: String = "", tensor: Tensor, facetName: String = "head", xLabel: String = "",
                yLabel: String = "", valueLabel: String = "", colorMap: ColorMap = .automatic) throws {
        let shape = tensor.shape
        guard shape.count == 2 || shape.count == 3 else {
            throw PlotError("heatmap: needs a tensor of shape [rows, cols] or [facets, rows, cols], not \(formatShape(shape))")
        }
        guard tensor.count > 0 else { throw PlotError("heatmap: no data (tensor of shape \(formatShape(shape)))") }
        let values = tensor.toDoubles()
        let (rows, cols) = (shape[shape.count - 2], shape[shape.count - 1])
        let facets = shape.count == 3 ? shape[0] : 1
        let panels = (0..<facets).map { f in
            Panel(shape.count == 3 ? "\(facetName) \(f)" : "",
                  values: (0..<rows).map { r in Array(values[(f * rows + r) * cols..<(f * rows + r + 1) * cols]) })
        }
        self.init(title: title, panels: panels, xLabel: xLabel, yLabel: yLabel, valueLabel: valueLabel, colorMap: colorMap)
    }

    /// The smallest side of a cell in a grid wrapped into bands, in pixels.
    public static let minimumCell = 8.0
    /// The widest band of a wrapped grid, in pixels.
    static let bandWidth = 720.0

    /// Columns per band when a single wide grid of few rows would get cells narrower than
    /// `minimumCell`: as many as fit `bandWidth` at that size, balanced across the bands;
    /// nil when the grid is drawn as it is.
    static func bandColumns(rows: Int, columns: Int, cellWidth: Double, fixedCells: Bool, facets: Int) -> Int? {
        guard !fixedCells, facets == 1, columns > 4 * rows, cellWidth < minimumCell else { return nil }
        let fit = Swift.max(1, Int(bandWidth / minimumCell))
        let bands = (columns + fit - 1) / fit
        return (columns + bands - 1) / bands
    }

    /// The heatmap as a drawing; throws a `PlotError` for no panels, empty or
    /// ragged matrices, panels of different shapes, or label lists of the wrong length.
    public func draw() throws -> SVG {
        let chart = "heatmap"
        try requireNonEmpty(panels, chart: chart, what: "the list of panels")
        let rows = panels[0].values.count
        let cols = panels[0].values.first?.count ?? 0
        for panel in panels {
            let name = panel.title.isEmpty ? "" : " '\(panel.title)'"
            if panel.values.isEmpty { throw PlotError("\(chart): no data (the matrix\(name) has no rows)") }
            if let empty = panel.values.firstIndex(where: \.isEmpty) {
                throw PlotError("\(chart): no data (row \(empty) of the matrix\(name) is empty)")
            }
            if let bad = panel.values.firstIndex(where: { $0.count != panel.values[0].count }) {
                throw PlotError("\(chart): matrix\(name) is ragged: row 0 has \(panel.values[0].count) values, row \(bad) has \(panel.values[bad].count)")
            }
            if panel.values.count != rows || panel.values[0].count != cols {
                throw PlotError("\(chart): facets must share one shape: [\(rows), \(cols)] and [\(panel.values.count), \(panel.values[0].count)]\(name)")
            }
        }
        if let labels = rowLabels, labels.count != rows {
            throw PlotError("\(chart): \(labels.count) row labels for \(rows) rows")
        }
        if let labels = columnLabels, labels.count != cols {
            throw PlotError("\(chart): \(labels.count) column labels for \(cols) columns")
        }
        let all = panels.flatMap { $0.values.flatMap { $0 } }
        let missing = all.contains { !$0.isFinite }
        guard let scale = ColorScale(colorMap, values: all) else {
            throw PlotError("\(chart): every value is NaN or infinite, nothing to colour by")
        }

        // Cells: about 420 px (one panel) or 220 px (facets) on the long side, at most 3:1, whole pixels when > 2.
        let target = panels.count == 1 ? 420.0 : 220.0
        var cellWidth = cellSize ?? target / Double(cols)
        var cellHeight = cellSize ?? target / Double(rows)
        if cellSize == nil {
            let size = Swift.min(40, Swift.min(cellWidth, cellHeight) * 3)
            (cellWidth, cellHeight) = (Swift.min(cellWidth, size), Swift.min(cellHeight, size))
            if cellWidth > 2 { cellWidth.round(.down) }
            if cellHeight > 2 { cellHeight.round(.down) }
        }
        // A wide grid of few rows (positions × neurons) would be squashed to a strip a few pixels
        // tall: it keeps legible cells instead and wraps its columns into bands, one under another.
        let wrapped = Heatmap.bandColumns(rows: rows, columns: cols, cellWidth: cellWidth, fixedCells: cellSize != nil,
                                          facets: panels.count)
        let bandColumns = wrapped ?? cols
        if wrapped != nil {
            let side = Swift.min(40, Swift.max(Heatmap.minimumCell, (Heatmap.bandWidth / Double(bandColumns)).rounded(.down)))
            // A few rows tall enough for each to keep its name beside it.
            (cellWidth, cellHeight) = (side, rows <= 8 ? Swift.max(side, (Style.tickSize * 1.3 + 6).rounded(.up)) : side)
        }
        let bands = stride(from: 0, to: cols, by: bandColumns).map { (start: $0, count: Swift.min(bandColumns, cols - $0)) }
        let panelWidth = cellWidth * Double(bandColumns)
        let panelHeight = cellHeight * Double(rows)

        let columnNames = columnLabels ?? (0..<cols).map(String.init)
        let rowNames = rowLabels ?? (0..<rows).map(String.init)
        func xAxis(_ band: (start: Int, count: Int), last: Bool) -> ResolvedAxis {
            ResolvedAxis(label: last ? xLabel : "", scale: .linear, lo: -0.5, hi: Double(band.count) - 0.5,
                         ticks: (0..<band.count).map { Tick(value: Double($0), label: columnNames[band.start + $0], major: true) },
                         grid: false)
        }
        let fullXAxis = xAxis((0, cols), last: true)
        // Bands share one y title, drawn once beside them all.
        let yAxis = ResolvedAxis(label: bands.count > 1 ? "" : yLabel, scale: .linear, lo: -0.5, hi: Double(rows) - 0.5,
                                 ticks: rowNames.enumerated().map { Tick(value: Double(rows - 1 - $0.offset), label: $0.element, major: true) },
                                 grid: false)
        // Custom column names are turned 45° when that lets more of them be shown.
        let rotate = columnLabels != nil
            && labelStride(spacing: cellWidth, labelWidth: Style.tickSize * 1.3)
            < labelStride(spacing: cellWidth, labelWidth: fullXAxis.widestLabel(size: Style.tickSize))

        // Grid of facets (or of one panel's bands).
        let gridColumns = Swift.max(1, Swift.min(panels.count, columns ?? Int(Double(panels.count).squareRoot().rounded(.up))))
        let gridRows = (panels.count + gridColumns - 1) / gridColumns
        let facetTitles = panels.contains { !$0.title.isEmpty }
        let facetTitleHeight = facetTitles ? Style.labelSize + 10 : 0
        let gap = 18.0

        let top = (title.isEmpty ? Style.pad + 4 : Style.pad + Style.titleSize + 16) + facetTitleHeight
        let yTitle = yLabel.isEmpty ? 0 : Style.labelSize + 10
        let left = (Style.pad + yTitle + yAxis.widestLabel(size: Style.tickSize) + 12).rounded(.up)
        let tickHeight = rotate ? fullXAxis.widestLabel(size: Style.tickSize) * 0.72 + 8 : Style.tickSize + 6
        let bandGap = bands.count > 1 ? tickHeight + 12 : 0
        let bandsHeight = panelHeight * Double(bands.count) + bandGap * Double(bands.count - 1)
        let bottom = Style.pad + tickHeight + (xLabel.isEmpty ? 0 : Style.labelSize + 12) + 4
        let gridWidth = Double(gridColumns) * panelWidth + Double(gridColumns - 1) * gap
        let gridHeight = Double(gridRows) * bandsHeight + Double(gridRows - 1) * (gap + facetTitleHeight)
        let barWidth = ColorBar.width(scale, label: valueLabel, missing: missing)
        let width = Swift.max(left + gridWidth + barWidth, textWidth(title, size: Style.titleSize) + 2 * Style.pad).rounded(.up)
        let barHeight = Swift.max(120, Swift.min(gridHeight, 320))
        let height = Swift.max(top + gridHeight + bottom, top + barHeight + (missing ? 30 : 0) + Style.pad).rounded(.up)

        var svg = SVG(width: width, height: height)
        svg.drawTitle(title)
        let perCellTooltips = rows * cols * panels.count <= 2500
        for (index, panel) in panels.enumerated() {
            let (gridRow, gridColumn) = (index / gridColumns, index % gridColumns)
            let panelTop = top + Double(gridRow) * (bandsHeight + gap + facetTitleHeight)
            let panelLeft = left + Double(gridColumn) * (panelWidth + gap)
            if !panel.title.isEmpty {
                svg.text(panel.title, x: panelLeft + panelWidth / 2, y: panelTop - 8, size: Style.labelSize, anchor: .middle,
                         weight: "600", fill: Palette.ink)
            }
            for (b, band) in bands.enumerated() {
                let lastBand = b == bands.count - 1
                let area = PlotArea(x: panelLeft, y: panelTop + Double(b) * (panelHeight + bandGap),
                                    width: cellWidth * Double(band.count), height: panelHeight,
                                    xAxis: xAxis(band, last: lastBand), yAxis: yAxis)
                for (r, row) in panel.values.enumerated() {
                    let y = area.y + Double(r) * cellHeight
                    var c = band.start
                    while c < band.start + band.count {
                        let color = scale.color(row[c])
                        var end = c + 1
                        if !perCellTooltips {
                            while end < band.start + band.count && scale.color(row[end]) == color { end += 1 }
                        }
                        let tooltip = perCellTooltips ? "\(rowNames[r]), \(columnNames[c]): \(Axis.shortLabel(row[c]))" : nil
                        svg.rect(x: area.x + Double(c - band.start) * cellWidth, y: y, width: Double(end - c) * cellWidth,
                                 height: cellHeight, fill: color, crisp: true, title: tooltip)
                        c = end
                    }
                }
                let lastInColumn = index + gridColumns >= panels.count
                svg.drawAxes(area, rotateXLabels: rotate, xLabels: lastInColumn || bands.count > 1, yLabels: gridColumn == 0)
                svg.rect(x: area.x, y: area.y, width: area.width, height: panelHeight, fill: "none",
                         stroke: Palette.axis, strokeWidth: 0.8)
            }
        }
        if bands.count > 1 && !yLabel.isEmpty {
            svg.text(yLabel, x: Style.pad + Style.labelSize, y: top + bandsHeight / 2, size: Style.labelSize, anchor: .middle,
                     fill: Palette.ink, rotate: -90)
        }
        svg.drawColorBar(scale, x: left + gridWidth + 20, y: top, height: barHeight, label: valueLabel, missing: missing)
        return svg
    }
}
