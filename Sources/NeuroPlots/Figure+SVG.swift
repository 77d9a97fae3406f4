import Foundation

// Figures drawn as SVG by the charts. A figure of several charts (a Fourier
// result's spectrum and circles, a training run's loss and accuracy) lays
// them out left to right, wrapping into rows, in one document: each chart's
// drawing is placed at its offset (see `SVG.place`).

extension Figure {
    /// Width of a chart that spans the figure, in pixels.
    static let fullWidth = 760.0
    /// Widest row of charts before the next starts below.
    static let maxRowWidth = 1160.0

    /// The figure as one SVG document. Throws a `PlotError` when a chart cannot draw its data.
    ///
    /// ```swift
    /// try figure.svg().write(toFile: "f.svg", atomically: true, encoding: .utf8)
    /// ```
    public func svg() throws -> String { try drawing().render() }

    /// The figure as one drawing: a single chart's own, or a layout of its charts in rows.
    public func drawing() throws -> SVG {
        let charts = try panels.flatMap(Figure.charts).map { try $0.draw() }
        if charts.count == 1, let only = charts.first { return only }
        var offsets: [(x: Double, y: Double)] = []
        var (x, y, rowHeight, width) = (0.0, 0.0, 0.0, 0.0)
        for chart in charts {
            if x > 0 && x + chart.width > Figure.maxRowWidth {
                (x, y, rowHeight) = (0, y + rowHeight, 0)
            }
            offsets.append((x, y))
            x += chart.width
            width = max(width, x)
            rowHeight = max(rowHeight, chart.height)
        }
        var layout = SVG(layout: width, height: y + rowHeight, title: title)
        for (chart, offset) in zip(charts, offsets) { layout.place(chart, x: offset.x, y: offset.y) }
        return layout
    }

    /// The charts of one panel (a scatter of several groups draws each on its own).
    static func charts(_ panel: Panel) throws -> [Chart] {
        switch panel {
        case .lines(let p):
            return [LineChart(title: p.title, xAxis: Axis(p.xLabel, scale: p.logX ? .log : .linear),
                              yAxis: Axis(p.yLabel, scale: p.logY ? .log : .linear),
                              series: p.series.map { LineChart.Series($0.name, x: $0.x, y: $0.y, color: $0.color, dashed: $0.dashed) },
                              markers: p.markers.map { LineChart.Marker(x: $0.x, label: $0.label) },
                              spans: p.spans.map { LineChart.Span(from: $0.from, to: $0.to, label: $0.label) },
                              showLegend: p.showLegend, width: fullWidth, height: 400)]
        case .heatmap(let p):
            return [Heatmap(title: p.title, panels: p.facets.map { Heatmap.Panel($0.title, values: $0.values) },
                            rowLabels: p.rowLabels, columnLabels: p.columnLabels, xLabel: p.xLabel, yLabel: p.yLabel,
                            colorMap: p.diverging ? .diverging : .sequential)]
        case .scatter(let p) where p.together:
            let points = p.groups.flatMap(\.points)
            let labelled = p.groups.allSatisfy { $0.labels.count == $0.points.count }
            return [ScatterPlot(title: p.title, x: points.map(\.x), y: points.map(\.y),
                                labels: labelled ? p.groups.flatMap(\.labels) : nil, showLabels: p.showLabels, equalAspect: p.square,
                                xAxis: Axis(p.xLabel, scale: p.logX ? .log : .linear), yAxis: Axis(p.yLabel),
                                pointRadius: points.count > 500 ? 2.5 : 4.5, width: fullWidth, height: 480,
                                guides: p.guides, fromOrigin: p.fromOrigin,
                                groups: p.groups.count > 1 || p.showLegend
                                    ? p.groups.flatMap { g in Array(repeating: g.name, count: g.points.count) } : nil,
                                showLegend: p.showLegend)]
        case .scatter(let p):
            let single = p.groups.count == 1
            return p.groups.map { g in
                ScatterPlot(title: single ? p.title : g.name, x: g.points.map(\.x), y: g.points.map(\.y),
                            values: p.colourByIndex ? g.points.indices.map(Double.init) : nil,
                            labels: g.labels.count == g.points.count ? g.labels : nil, showLabels: p.showLabels, equalAspect: p.square,
                            xAxis: Axis(p.xLabel, scale: p.logX ? .log : .linear), yAxis: Axis(p.yLabel), colorMap: .cyclic,
                            valueLabel: p.colourByIndex ? "residue a" : "", pointRadius: g.points.count > 500 ? 2.5 : 4.5,
                            width: single ? 640 : 380, height: single ? 540 : 360,
                            guides: p.guides, fromOrigin: p.fromOrigin)
            }
        case .bars(let p):
            return [GroupedBarChart(title: p.title, groups: p.categories, series: p.groups.map { .init($0.name, values: $0.values) },
                                    xLabel: p.xLabel, yAxis: Axis(p.yLabel), showLegend: p.showLegend, width: fullWidth, height: 400)]
        case .circuit(let p):
            return [CircuitDiagram(title: p.title, nodes: p.nodes, edges: p.edges)]
        }
    }
}
