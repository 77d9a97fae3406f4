// A figure with the words a user chose: its title, its axis titles, the
// names of its series (or rows, groups, bars) and whether a legend shows.
// `plot(…, title:, xlabel:, ylabel:, labels:, legend:)` and the picture
// built-ins (`line`, `bar`, `scatter`, `imshow`) go through this one place.

/// What a user changes in a figure's words; nil leaves it as the figure has it.
///
/// ```swift
/// let styled = try figure.styled(FigureStyle(title: "loss", labels: ["train", "test"]))
/// ```
public struct FigureStyle {
    /// Replaces the figure's title (and, in a figure of one chart, the chart's).
    public var title: String?
    /// The title under the x axis of every chart with axes.
    public var xLabel: String?
    /// The title beside the y axis of every chart with axes.
    public var yLabel: String?
    /// Names, one per series of a line chart, row of a heatmap, group of a scatter plot
    /// or bar (category) of a bar chart; only for a figure of one chart.
    public var labels: [String]?
    /// Shows or hides the legend of line charts, bar charts and scatter plots.
    public var legend: Bool?

    public init(title: String? = nil, xLabel: String? = nil, yLabel: String? = nil, labels: [String]? = nil, legend: Bool? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.labels = labels
        self.legend = legend
    }

    /// Whether it changes nothing.
    public var isEmpty: Bool { title == nil && xLabel == nil && yLabel == nil && labels == nil && legend == nil }
}

extension Figure {
    /// The figure in `style`'s words. Throws a `PlotError` naming the argument when
    /// `labels` does not fit: a figure of several charts, or a count that is not the
    /// number of series (rows, groups, bars) there are.
    ///
    /// ```swift
    /// try figure.styled(FigureStyle(labels: ["a", "b", "c"]))   // "labels: 3 names for 2 series (train, test)"
    /// ```
    public func styled(_ style: FigureStyle) throws -> Figure {
        var figure = self
        if let title = style.title {
            figure.title = title
            if figure.panels.count == 1 { figure.panels[0].title = title }
        }
        if let labels = style.labels {
            guard figure.panels.count == 1 else {
                throw PlotError("labels: names the series of a picture of one chart; this one has \(figure.panels.count) charts "
                    + "(\(figure.panels.map(\.title).joined(separator: "; ")))")
            }
            try figure.panels[0].rename(labels)
        }
        for index in figure.panels.indices {
            figure.panels[index].restyle(xLabel: style.xLabel, yLabel: style.yLabel, legend: style.legend)
        }
        return figure
    }
}

extension Figure.Panel {
    /// The chart's title.
    public var title: String {
        get {
            switch self {
            case .lines(let p): return p.title
            case .heatmap(let p): return p.title
            case .scatter(let p): return p.title
            case .bars(let p): return p.title
            case .circuit(let p): return p.title
            }
        }
        set {
            switch self {
            case .lines(var p): p.title = newValue; self = .lines(p)
            case .heatmap(var p): p.title = newValue; self = .heatmap(p)
            case .scatter(var p): p.title = newValue; self = .scatter(p)
            case .bars(var p): p.title = newValue; self = .bars(p)
            case .circuit(var p): p.title = newValue; self = .circuit(p)
            }
        }
    }

    /// New axis titles and legend choice, where the chart has them.
    mutating func restyle(xLabel: String?, yLabel: String?, legend: Bool?) {
        switch self {
        case .lines(var p):
            p.xLabel = xLabel ?? p.xLabel
            p.yLabel = yLabel ?? p.yLabel
            p.showLegend = legend ?? p.showLegend
            self = .lines(p)
        case .heatmap(var p):
            p.xLabel = xLabel ?? p.xLabel
            p.yLabel = yLabel ?? p.yLabel
            self = .heatmap(p)
        case .scatter(var p):
            p.xLabel = xLabel ?? p.xLabel
            p.yLabel = yLabel ?? p.yLabel
            p.showLegend = legend ?? p.showLegend
            self = .scatter(p)
        case .bars(var p):
            p.xLabel = xLabel ?? p.xLabel
            p.yLabel = yLabel ?? p.yLabel
            p.showLegend = legend ?? p.showLegend
            self = .bars(p)
        case .circuit:
            break
        }
    }

    /// Names for the series, rows, groups or bars; an error when the count differs.
    mutating func rename(_ labels: [String]) throws {
        func check(_ count: Int, _ what: String, _ names: [String]) throws {
            guard labels.count == count else {
                let shown = names.prefix(6).joined(separator: ", ") + (names.count > 6 ? ", …" : "")
                throw PlotError("labels: \(labels.count) name\(labels.count == 1 ? "" : "s") for \(count) \(what) (\(shown))")
            }
        }
        switch self {
        case .lines(var p):
            try check(p.series.count, "series", p.series.map(\.name))
            for i in p.series.indices { p.series[i].name = labels[i] }
            self = .lines(p)
        case .heatmap(var p):
            try check(p.rowLabels.count, p.rowLabels.count == 1 ? "row" : "rows", p.rowLabels)
            p.rowLabels = labels
            self = .heatmap(p)
        case .scatter(var p):
            try check(p.groups.count, p.groups.count == 1 ? "group of points" : "groups of points", p.groups.map(\.name))
            for i in p.groups.indices { p.groups[i].name = labels[i] }
            self = .scatter(p)
        case .bars(var p):
            try check(p.categories.count, p.categories.count == 1 ? "bar" : "bars", p.categories)
            p.categories = labels
            self = .bars(p)
        case .circuit:
            throw PlotError("labels: a circuit diagram names its own components")
        }
    }
}
