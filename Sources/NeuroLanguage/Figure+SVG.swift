import Foundation
import NeuroPlots

// Figures drawn as SVG by NeuroPlots' charts. A figure of several charts
// (a Fourier result's spectrum and circles, a training run's loss and
// accuracy) lays them out left to right, wrapping into rows, in one document.

extension Figure {
    /// Width of a chart that spans the figure, in pixels.
    static let fullWidth = 760.0
    /// Widest row of charts before the next starts below.
    static let maxRowWidth = 1160.0

    /// The figure as one SVG document. Throws a `RuntimeError` when a chart cannot draw its data.
    func svg() throws -> String {
        var charts: [(text: String, width: Double, height: Double)] = []
        do {
            for chart in try panels.flatMap(Figure.charts) {
                let text = Figure.nestable(try chart.render(), prefix: "c\(charts.count)-")
                charts.append((text, Figure.size(of: text, "width") ?? Figure.fullWidth, Figure.size(of: text, "height") ?? 400))
            }
        } catch let failure as PlotError {
            throw RuntimeError(failure.message)
        }
        if charts.count == 1, let only = charts.first { return Figure.declaration + only.text + "\n" }
        // Rows of charts: each placed by a nested <svg x y>, which keeps its own coordinates.
        var placed: [String] = []
        var (x, y, rowHeight, width) = (0.0, 0.0, 0.0, 0.0)
        for chart in charts {
            if x > 0 && x + chart.width > Figure.maxRowWidth {
                (x, y, rowHeight) = (0, y + rowHeight, 0)
            }
            placed.append(chart.text.replacingOccurrences(of: "<svg ", with: "<svg x=\"\(SVG.number(x))\" y=\"\(SVG.number(y))\" ",
                                                          options: .anchored))
            x += chart.width
            width = max(width, x)
            rowHeight = max(rowHeight, chart.height)
        }
        let height = y + rowHeight
        return Figure.declaration
            + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(SVG.number(width))\" height=\"\(SVG.number(height))\" "
            + "viewBox=\"0 0 \(SVG.number(width)) \(SVG.number(height))\">\n<title>\(SVG.escape(title))</title>\n"
            + placed.joined(separator: "\n") + "\n</svg>\n"
    }

    static let declaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

    /// An SVG document as an element to place inside another: without its
    /// XML declaration, and with its ids (and the references to them)
    /// prefixed so that two charts in one document do not share an id.
    static func nestable(_ svg: String, prefix: String) -> String {
        var text = svg
        if text.hasPrefix("<?xml"), let end = text.range(of: "?>") { text = String(text[end.upperBound...]) }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: " id=\"", with: " id=\"\(prefix)")
            .replacingOccurrences(of: "url(#", with: "url(#\(prefix)")
            .replacingOccurrences(of: "href=\"#", with: "href=\"#\(prefix)")
    }

    /// A number attribute of the first element (the chart's `<svg width="…">`).
    static func size(of svg: String, _ attribute: String) -> Double? {
        guard let tagEnd = svg.firstIndex(of: ">"), let start = svg[..<tagEnd].range(of: " \(attribute)=\"") else { return nil }
        return Double(svg[start.upperBound...].prefix { $0 != "\"" })
    }

    /// The NeuroPlots charts of one panel (a scatter of several groups draws each on its own).
    static func charts(_ panel: Panel) throws -> [Chart] {
        switch panel {
        case .lines(let p):
            return [LineChart(title: p.title, xAxis: Axis(p.xLabel, scale: p.logX ? .log : .linear),
                              yAxis: Axis(p.yLabel, scale: p.logY ? .log : .linear),
                              series: p.series.map { LineChart.Series($0.name, x: $0.x, y: $0.y) },
                              markers: p.markers.map { LineChart.Marker(x: $0.x, label: $0.label) }, width: fullWidth, height: 400)]
        case .heatmap(let p):
            return [Heatmap(title: p.title, panels: p.facets.map { Heatmap.Panel($0.title, values: $0.values) },
                            rowLabels: p.rowLabels, columnLabels: p.columnLabels, xLabel: p.xLabel, yLabel: p.yLabel,
                            colorMap: p.diverging ? .diverging : .sequential)]
        case .scatter(let p):
            let single = p.groups.count == 1
            return p.groups.map { g in
                ScatterPlot(title: single ? p.title : g.name, x: g.points.map(\.x), y: g.points.map(\.y),
                            values: p.colourByIndex ? g.points.indices.map(Double.init) : nil,
                            labels: g.labels.count == g.points.count ? g.labels : nil, equalAspect: p.square,
                            xAxis: Axis(p.xLabel), yAxis: Axis(p.yLabel), colorMap: .cyclic, valueLabel: p.colourByIndex ? "residue a" : "",
                            pointRadius: g.points.count > 500 ? 2.5 : 4.5,
                            width: single ? 640 : 380, height: single ? 540 : 360)
            }
        case .bars(let p):
            return [GroupedBarChart(title: p.title, groups: p.categories, series: p.groups.map { .init($0.name, values: $0.values) },
                                    xLabel: p.xLabel, yAxis: Axis(p.yLabel), width: fullWidth, height: 400)]
        case .circuit(let p):
            if let json = p.json { return [try CircuitDiagram(json: json, title: p.title)] }
            return [CircuitDiagram(title: p.title,
                                   nodes: p.nodes.map { .init(name: $0.name, type: $0.type, layer: $0.layer, importance: $0.importance) },
                                   edges: p.edges.map { .init(source: $0.source, target: $0.target, input: $0.input, weight: $0.weight) })]
        }
    }
}
