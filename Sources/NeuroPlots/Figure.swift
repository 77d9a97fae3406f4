/// A picture of a value, independent of how it is drawn: as SVG (its
/// charts laid out in one document) and as a text sketch for the terminal;
/// the HTML report inlines the SVG. One figure is one or more panels drawn
/// one above the other (a Fourier result is its spectrum and its circles).
/// Figures take plain numbers and labels; what a value's figure is, its
/// caller decides.
///
/// ```swift
/// let figure = Figure(title: "loss", panels: [.lines(LinePanel(title: "loss", xLabel: "epoch", yLabel: "loss",
///                                                             series: [.init(name: "train", x: [1, 2], y: [0.9, 0.5])]))])
/// print(Sketch.render(figure))               // ▁▂▄█ …
/// let svg = try figure.svg()                 // the same picture as SVG text
/// ```
public struct Figure {
    /// What the picture shows (the first line of the sketch, the SVG's title).
    public var title: String
    public var panels: [Panel]

    /// One chart of a figure.
    public enum Panel {
        case lines(LinePanel)
        case heatmap(HeatmapPanel)
        case scatter(ScatterPanel)
        case bars(BarPanel)
        case circuit(CircuitPanel)
    }

    public init(title: String, panels: [Panel]) {
        self.title = title
        self.panels = panels
    }
}

/// Curves over a shared x axis, optionally on log axes, with labelled
/// vertical lines (training phases).
public struct LinePanel {
    /// One named curve.
    public struct Series {
        public var name: String
        public var x: [Double]
        public var y: [Double]
        /// A colour such as `"#0072b2"`, or nil for the series' palette colour.
        public var color: String?
        /// Drawn dashed (told apart from a solid line of a similar colour).
        public var dashed: Bool

        public init(name: String, x: [Double], y: [Double], color: String? = nil, dashed: Bool = false) {
            self.name = name
            self.x = x
            self.y = y
            self.color = color
            self.dashed = dashed
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var logX = false
    public var logY = false
    /// Vertical lines at x with a label (`memorization ends`); an empty label draws the line alone.
    public var markers: [(x: Double, label: String)] = []
    /// Shaded bands from one x to another, labelled at their middle (the phases of training).
    public var spans: [(from: Double, to: Double, label: String)] = []
    /// Whether the series are named in a legend.
    public var showLegend = true

    public init(title: String, xLabel: String, yLabel: String, series: [Series], logX: Bool = false, logY: Bool = false,
                markers: [(x: Double, label: String)] = [], spans: [(from: Double, to: Double, label: String)] = [],
                showLegend: Bool = true) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.logX = logX
        self.logY = logY
        self.markers = markers
        self.spans = spans
        self.showLegend = showLegend
    }
}

/// A grid of values, one facet or several side by side (the first axis of
/// a 3-D tensor, the layers of a sweep).
public struct HeatmapPanel {
    /// One grid: `values[row][column]`.
    public struct Facet {
        public var title: String
        public var values: [[Double]]

        public init(title: String, values: [[Double]]) {
            self.title = title
            self.values = values
        }
    }

    public var title: String
    public var facets: [Facet]
    public var rowLabels: [String]
    public var columnLabels: [String]
    public var xLabel: String
    public var yLabel: String
    /// Colours diverge from white at 0 (effects, weights) rather than run from low to high.
    public var diverging: Bool

    public init(title: String, facets: [Facet], rowLabels: [String], columnLabels: [String], xLabel: String, yLabel: String,
                diverging: Bool) {
        self.title = title
        self.facets = facets
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.diverging = diverging
    }
}

/// Points in the plane, in named groups, each with an optional hover label.
public struct ScatterPanel {
    /// Points of one colour.
    public struct Group {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public var labels: [String] = []

        public init(name: String, points: [(x: Double, y: Double)], labels: [String] = []) {
            self.name = name
            self.points = points
            self.labels = labels
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var groups: [Group]
    /// Equal scales on both axes (circles look round).
    public var square = false
    /// Colour each point by its index on a colour wheel (residues in order round a circle).
    public var colourByIndex = false
    /// A log x axis.
    public var logX = false
    /// Horizontal reference lines at y with a label (the fractions a geometry gives).
    public var guides: [(y: Double, label: String)] = []
    /// Each point drawn as an arrow from the origin too (directions in a plane).
    public var fromOrigin = false
    /// Labels written beside the points, not only on hover.
    public var showLabels = false
    /// All groups in one chart, each in its palette colour with a legend
    /// (rather than one chart per group).
    public var together = false
    /// Whether the groups are named in a legend (with `together`).
    public var showLegend = true

    public init(title: String, xLabel: String, yLabel: String, groups: [Group], square: Bool = false, colourByIndex: Bool = false,
                logX: Bool = false, guides: [(y: Double, label: String)] = [], fromOrigin: Bool = false, showLabels: Bool = false) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.groups = groups
        self.square = square
        self.colourByIndex = colourByIndex
        self.logX = logX
        self.guides = guides
        self.fromOrigin = fromOrigin
        self.showLabels = showLabels
    }
}

/// Bars per category, one bar of each group side by side.
public struct BarPanel {
    /// The values of one group, one per category.
    public struct Group {
        public var name: String
        public var values: [Double]

        public init(name: String, values: [Double]) {
            self.name = name
            self.values = values
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var categories: [String]
    public var groups: [Group]
    /// Whether the groups are named in a legend.
    public var showLegend = true

    public init(title: String, xLabel: String, yLabel: String, categories: [String], groups: [Group], showLegend: Bool = true) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.categories = categories
        self.groups = groups
        self.showLegend = showLegend
    }
}

/// A circuit: its components (with layer and head, which place them) and
/// weighted edges, as the caller reads them off its circuit.
public struct CircuitPanel {
    public var title: String
    public var nodes: [CircuitDiagram.Node]
    public var edges: [CircuitDiagram.Edge]

    public init(title: String, nodes: [CircuitDiagram.Node], edges: [CircuitDiagram.Edge]) {
        self.title = title
        self.nodes = nodes
        self.edges = edges
    }
}

// MARK: - Grids

extension Figure {
    /// Largest heatmap drawn cell by cell; bigger grids are averaged in blocks down to this many rows and columns.
    public static let maxHeatmapSide = 128
    /// The columns a grid of at most `shortHeatmapSide` rows keeps cell by cell (a few positions ×
    /// every neuron): the chart wraps them into bands rather than averaging neurons together.
    public static let maxWrappedHeatmapSide = 1024
    /// So few rows let the columns reach `maxWrappedHeatmapSide`.
    public static let shortHeatmapSide = 16

    /// Row-major numbers as rows.
    public static func grid(_ values: [Double], rows: Int, columns: Int) -> [[Double]] {
        (0..<rows).map { r in Array(values[(r * columns)..<((r + 1) * columns)]) }
    }

    /// A heatmap panel, with grids larger than `maxHeatmapSide` averaged in
    /// blocks (labels then name each block's first index) — a single grid
    /// of few rows keeps up to `maxWrappedHeatmapSide` columns; diverging when
    /// the values have both signs.
    public static func heatmap(title: String, facets: [HeatmapPanel.Facet], rowLabels: [String], columnLabels: [String],
                               xLabel: String, yLabel: String) -> HeatmapPanel {
        let rows = rowLabels.count, columns = columnLabels.count
        let rowLimit = maxHeatmapSide
        let columnLimit = facets.count == 1 && rows <= shortHeatmapSide ? maxWrappedHeatmapSide : maxHeatmapSide
        let rowStep = (rows + rowLimit - 1) / rowLimit, columnStep = (columns + columnLimit - 1) / columnLimit
        let reduced = facets.map { facet -> HeatmapPanel.Facet in
            guard rowStep > 1 || columnStep > 1 else { return facet }
            let values = stride(from: 0, to: rows, by: rowStep).map { r in
                stride(from: 0, to: columns, by: columnStep).map { c -> Double in
                    let block = facet.values[r..<min(r + rowStep, rows)].flatMap { $0[c..<min(c + columnStep, columns)] }.filter(\.isFinite)
                    return block.isEmpty ? .nan : block.reduce(0, +) / Double(block.count)
                }
            }
            return .init(title: facet.title, values: values)
        }
        let all = facets.flatMap { $0.values.joined() }.filter(\.isFinite)
        let diverging = (all.min() ?? 0) < 0 && (all.max() ?? 0) > 0
        return HeatmapPanel(title: title, facets: reduced,
                            rowLabels: stride(from: 0, to: rows, by: rowStep).map { rowLabels[$0] },
                            columnLabels: stride(from: 0, to: columns, by: columnStep).map { columnLabels[$0] },
                            xLabel: xLabel, yLabel: yLabel, diverging: diverging)
    }
}
