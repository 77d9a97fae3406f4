/// A picture of a value, independent of how it is drawn: `plot` renders it
/// as SVG (through NeuroPlots) and as a text sketch for the terminal, and
/// the HTML report inlines the SVG. One figure is one or more panels drawn
/// one above the other (a Fourier result is its spectrum and its circles).
///
/// ```swift
/// let figure = try Figure.of(value)          // the value's natural picture
/// print(Sketch.render(figure))               // ▁▂▄█ …
/// let svg = try figure.svg()                 // the same picture as SVG text
/// ```
struct Figure {
    /// What the picture shows (the first line of the sketch, the SVG's title).
    var title: String
    var panels: [Panel]

    /// One chart of a figure.
    enum Panel {
        case lines(LinePanel)
        case heatmap(HeatmapPanel)
        case scatter(ScatterPanel)
        case bars(BarPanel)
        case circuit(CircuitPanel)
    }
}

/// Curves over a shared x axis, optionally on log axes, with labelled
/// vertical lines (training phases).
struct LinePanel {
    /// One named curve.
    struct Series {
        var name: String
        var x: [Double]
        var y: [Double]
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series]
    var logX = false
    var logY = false
    /// Vertical lines at x with a label (`memorization ends`).
    var markers: [(x: Double, label: String)] = []
}

/// A grid of values, one facet or several side by side (the first axis of
/// a 3-D tensor, the layers of a sweep).
struct HeatmapPanel {
    /// One grid: `values[row][column]`.
    struct Facet {
        var title: String
        var values: [[Double]]
    }

    var title: String
    var facets: [Facet]
    var rowLabels: [String]
    var columnLabels: [String]
    var xLabel: String
    var yLabel: String
    /// Colours diverge from white at 0 (effects, weights) rather than run from low to high.
    var diverging: Bool
}

/// Points in the plane, in named groups, each with an optional hover label.
struct ScatterPanel {
    /// Points of one colour.
    struct Group {
        var name: String
        var points: [(x: Double, y: Double)]
        var labels: [String] = []
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var groups: [Group]
    /// Equal scales on both axes (circles look round).
    var square = false
    /// Colour each point by its index on a colour wheel (residues in order round a circle).
    var colourByIndex = false
}

/// Bars per category, one bar of each group side by side.
struct BarPanel {
    /// The values of one group, one per category.
    struct Group {
        var name: String
        var values: [Double]
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var categories: [String]
    var groups: [Group]
}

/// A circuit: its components and weighted edges, as `Circuit.toJSON()` writes them.
struct CircuitPanel {
    /// A node of the diagram.
    struct Node {
        var name: String
        var type: String
        var layer: Int?
        var importance: Double?
    }

    /// A weighted link between two nodes.
    struct Edge {
        var source: String
        var target: String
        var input: String?
        var weight: Double
    }

    var title: String
    var nodes: [Node]
    var edges: [Edge]
    /// The circuit's JSON (`Circuit.toJSON()`), which also names each head; drawn in preference to `nodes` and `edges`.
    var json: String?
}

// MARK: - Checks shared by the renderers

extension Figure {
    /// Numbers drawn on a log axis must be positive; these are dropped and
    /// the rest kept (a loss of exactly 0 cannot be shown on a log scale).
    static func positive(_ values: [Double]) -> [Double] { values.filter { $0 > 0 && $0.isFinite } }
}
