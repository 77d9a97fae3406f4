import Foundation

/// Text sketches of figures for the terminal: sparklines (`▁▂▃▄▅▆▇█`) for
/// curves, block heatmaps (` ░▒▓█`, or coloured blocks) for grids, bars
/// for spectra, a character grid for scatters and an edge list for
/// circuits. The same figure always gives the same text.
///
/// ```swift
/// Sketch.sparkline([1, 2, 4, 8], width: 4)      // "▁▂▄█"
/// Sketch.render(figure, colour: false)          // the figure as lines of text
/// ```
public enum Sketch {
    /// The eight heights of a sparkline, lowest first.
    static let levels: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
    /// Shades of a heatmap cell, empty to full.
    static let shades: [Character] = [" ", "░", "▒", "▓", "█"]
    /// Shades of negative cells in a diverging heatmap without colour (so the sign shows).
    static let negativeShades: [Character] = [" ", "-", "=", "≡", "■"]
    /// Widest sketch, in characters (labels aside).
    static let width = 60
    /// Most rows a heatmap or scatter sketch takes.
    static let height = 20
    /// Most facets of a heatmap sketched (the SVG has them all).
    static let maxFacets = 2

    /// Whether standard output is a terminal that shows colour (not `NO_COLOR`, not `TERM=dumb`).
    public static var terminalHasColour: Bool {
        let env = ProcessInfo.processInfo.environment
        return isatty(STDOUT_FILENO) != 0 && env["NO_COLOR"] == nil && env["TERM"].map { $0 != "dumb" && !$0.isEmpty } ?? false
    }

    /// The whole figure: its title, then each panel.
    public static func render(_ figure: Figure, colour: Bool = false) -> String {
        var lines = [figure.title]
        for panel in figure.panels {
            var drawn: [String]
            switch panel {
            case .lines(let p): drawn = self.lines(p)
            case .heatmap(let p): drawn = heatmap(p, colour: colour)
            case .scatter(let p): drawn = scatter(p)
            case .bars(let p): drawn = bars(p)
            case .circuit(let p): drawn = circuit(p)
            }
            if drawn.first == "  " + figure.title { drawn.removeFirst() }   // a panel titled as the figure (a tensor's shape)
            lines += drawn
        }
        return lines.joined(separator: "\n")
    }

    // MARK: - Sparklines

    /// Values as one row of block heights, averaged in buckets down to
    /// `width`; on a log scale non-positive values are gaps, as are NaNs.
    static func sparkline(_ values: [Double], log: Bool = false, width: Int = Sketch.width) -> String {
        let scaled = bucketed(values.map { log ? ($0 > 0 ? Foundation.log10($0) : .nan) : $0 }, count: width)
        let finite = scaled.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max() else { return String(repeating: " ", count: scaled.count) }
        return String(scaled.map { v -> Character in
            guard v.isFinite else { return " " }
            guard hi > lo else { return levels[3] }
            return levels[min(levels.count - 1, Int((v - lo) / (hi - lo) * Double(levels.count - 1) + 0.5))]
        })
    }

    /// At most `count` values: the means of equal runs (NaNs left out of a mean).
    static func bucketed(_ values: [Double], count: Int) -> [Double] {
        guard values.count > count, count > 0 else { return values }
        return (0..<count).map { i in
            let run = values[(i * values.count / count)..<((i + 1) * values.count / count)].filter(\.isFinite)
            return run.isEmpty ? .nan : run.reduce(0, +) / Double(run.count)
        }
    }

    static func lines(_ p: LinePanel) -> [String] {
        let scale = [p.logX ? "log x" : nil, p.logY ? "log y" : nil].compactMap { $0 }
        let xs = p.series.flatMap(\.x).filter(\.isFinite)
        let range = xs.min().map { "\(p.xLabel) \(short($0)) … \(short(xs.max() ?? $0))" } ?? p.xLabel
        var out = ["  \(p.title)" + (scale.isEmpty ? "" : " (\(scale.joined(separator: ", ")))") + " · \(range)"]
        let nameWidth = p.series.map(\.name.count).max() ?? 0
        for s in p.series {
            let ends = s.y.first.map { "\(short($0)) → \(short(s.y.last ?? $0))" } ?? "empty"
            out.append("  " + s.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + " " + sparkline(s.y, log: p.logY) + " " + ends)
        }
        let spans = p.spans.filter { !$0.label.isEmpty }.map { "\($0.label) \(short($0.from))–\(short($0.to))" }
        let markers = p.markers.filter { !$0.label.isEmpty }.map { "\($0.label) \(short($0.x))" }
        if !spans.isEmpty || !markers.isEmpty {
            out.append("  " + String(repeating: " ", count: nameWidth) + " │ " + (spans + markers).joined(separator: " · "))
        }
        return out
    }

    // MARK: - Heatmaps

    static func heatmap(_ p: HeatmapPanel, colour: Bool) -> [String] {
        var out = ["  \(p.title)"]
        let all = p.facets.flatMap { $0.values.joined() }.filter(\.isFinite)
        let hi = all.max() ?? 0, lo = all.min() ?? 0
        let extent = max(Swift.abs(hi), Swift.abs(lo))
        let labelWidth = min(6, p.rowLabels.map(\.count).max() ?? 0)
        for facet in p.facets.prefix(maxFacets) {
            if !facet.title.isEmpty { out.append("  \(facet.title)") }
            let rows = blockAverage(facet.values, rows: height, columns: width)
            let rowStep = max(1, (facet.values.count + height - 1) / height)
            for (r, row) in rows.enumerated() {
                let label = r * rowStep < p.rowLabels.count ? String(p.rowLabels[r * rowStep].prefix(labelWidth)) : ""
                let cells = row.map { cell(for: $0, lo: lo, hi: hi, extent: extent, diverging: p.diverging, colour: colour) }.joined()
                out.append("  " + String(repeating: " ", count: labelWidth - label.count) + label + " " + cells)
            }
        }
        if p.facets.count > maxFacets { out.append("  … \(p.facets.count - maxFacets) more in the picture") }
        let columns = p.columnLabels
        if let first = columns.first, let last = columns.last, columns.count > 1 {
            out.append("  " + String(repeating: " ", count: labelWidth + 1) + "\(p.xLabel) \(first) … \(last)")
        }
        let legend = p.diverging
            ? "negative \(String(negativeShades.dropFirst())) to \(short(-extent)) · positive \(String(shades.dropFirst())) to \(short(extent))"
            : "\(String(shades)) \(short(lo)) … \(short(hi))"
        out.append("  " + String(repeating: " ", count: labelWidth + 1) + (colour && p.diverging ? "blue \(short(-extent)) · white 0 · red \(short(extent))" : legend))
        return out
    }

    /// Block means of a grid, down to at most `rows` × `columns`.
    static func blockAverage(_ grid: [[Double]], rows: Int, columns: Int) -> [[Double]] {
        let height = grid.count, width = grid.first?.count ?? 0
        let rowStep = max(1, (height + rows - 1) / rows), columnStep = max(1, (width + columns - 1) / columns)
        return stride(from: 0, to: height, by: rowStep).map { r in
            stride(from: 0, to: width, by: columnStep).map { c in
                let block = grid[r..<min(r + rowStep, height)].flatMap { $0[c..<min(c + columnStep, $0.count)] }.filter(\.isFinite)
                return block.isEmpty ? .nan : block.reduce(0, +) / Double(block.count)
            }
        }
    }

    /// One cell: a shade (with a sign set when diverging) or an ANSI 256-colour block.
    static func cell(for v: Double, lo: Double, hi: Double, extent: Double, diverging: Bool, colour: Bool) -> String {
        guard v.isFinite else { return " " }
        let t = diverging ? (extent > 0 ? v / extent : 0) : (hi > lo ? (v - lo) / (hi - lo) : 0.5)   // [-1, 1] or [0, 1]
        if colour {
            // The 6×6×6 cube: white to red for positive, white to blue for negative.
            let fade = 5 - Int((Swift.abs(t) * 5).rounded())
            let code = diverging && t < 0 ? 16 + 36 * fade + 6 * fade + 5 : 16 + 36 * 5 + 6 * fade + fade
            return "\u{1B}[38;5;\(code)m█\u{1B}[0m"
        }
        let set = diverging && t < 0 ? negativeShades : shades
        return String(set[min(set.count - 1, Int((Swift.abs(t) * Double(set.count - 1)).rounded()))])
    }

    // MARK: - Bars

    /// Few categories as labelled horizontal bars; many (a spectrum) as one
    /// column each, four rows high, with the tallest categories named.
    static func bars(_ p: BarPanel) -> [String] {
        var out = ["  \(p.title)"]
        let extent = p.groups.flatMap(\.values).filter(\.isFinite).map(Swift.abs).max() ?? 0
        if p.categories.count <= 12 {
            let names = p.categories.flatMap { c in p.groups.map { p.groups.count > 1 ? "\(c) \($0.name)" : c } }
            let nameWidth = names.map(\.count).max() ?? 0
            for (i, category) in p.categories.enumerated() {
                for g in p.groups where i < g.values.count {
                    let name = p.groups.count > 1 ? "\(category) \(g.name)" : category
                    let length = extent > 0 && g.values[i].isFinite ? Swift.abs(g.values[i]) / extent * 40 : 0
                    out.append("  " + name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + " " + bar(length) + " " + short(g.values[i]))
                }
            }
            return out
        }
        let nameWidth = p.groups.map(\.name.count).max() ?? 0
        for g in p.groups {
            let heights = bucketed(g.values.map(Swift.abs), count: width).map { extent > 0 && $0.isFinite ? $0 / extent * 4 : 0 }
            for level in stride(from: 3, through: 0, by: -1) {
                let name = level == 3 ? g.name : ""
                let row = heights.map { h -> Character in
                    let fill = h - Double(level)
                    return fill >= 1 ? "█" : fill <= 0 ? " " : levels[min(levels.count - 1, Int(fill * 8))]
                }
                out.append("  " + name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + " " + String(row))
            }
        }
        let peak = p.categories.indices.map { i in p.groups.map { i < $0.values.count ? Swift.abs($0.values[i]) : 0 }.max() ?? 0 }
        let top = peak.indices.filter { peak[$0].isFinite }.sorted { peak[$0] != peak[$1] ? peak[$0] > peak[$1] : $0 < $1 }.prefix(5)
        out.append("  " + String(repeating: " ", count: nameWidth) + " \(p.xLabel) \(p.categories.first ?? "") … \(p.categories.last ?? "") · largest: "
            + top.map { "\(p.categories[$0]) (\(short(peak[$0])))" }.joined(separator: " "))
        return out
    }

    /// A horizontal bar `length` characters long, in eighths.
    static func bar(_ length: Double) -> String {
        let whole = Int(length)
        let eighths = Int((length - Double(whole)) * 8)
        let partial: [Character] = ["▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        return String(repeating: "█", count: whole) + (eighths > 0 ? String(partial[eighths - 1]) : "")
    }

    // MARK: - Scatter plots

    /// Marks of each group, in order.
    static let marks: [Character] = ["•", "∘", "×", "+", "◆", "▪"]

    static func scatter(_ p: ScatterPanel) -> [String] {
        // On a log x axis points sit at log10 x; those at x ≤ 0 cannot be placed.
        let place = { (x: Double) -> Double in p.logX ? (x > 0 ? Foundation.log10(x) : .nan) : x }
        let points = p.groups.flatMap(\.points).map { (x: place($0.x), y: $0.y) }.filter { $0.x.isFinite && $0.y.isFinite }
        let guides = p.guides.filter { $0.y.isFinite }
        guard var x0 = points.map(\.x).min(), var x1 = points.map(\.x).max(),
              var y0 = (points.map(\.y) + guides.map(\.y)).min(), var y1 = (points.map(\.y) + guides.map(\.y)).max()
        else { return ["  \(p.title): no points"] }
        let columns = width / 2 * 2, rows = height
        if p.square {
            // A character is about twice as tall as wide: widen the shorter range to keep circles round.
            let span = max((x1 - x0) / Double(columns), (y1 - y0) / Double(rows * 2))   // data per width of a character
            let (cx, cy) = ((x0 + x1) / 2, (y0 + y1) / 2)
            (x0, x1) = (cx - span * Double(columns) / 2, cx + span * Double(columns) / 2)
            (y0, y1) = (cy - span * Double(rows), cy + span * Double(rows))
        }
        let row = { (y: Double) -> Int in y1 > y0 ? Int((y1 - y) / (y1 - y0) * Double(rows - 1) + 0.5) : rows / 2 }
        var canvas = Array(repeating: Array(repeating: Character(" "), count: columns), count: rows)
        for guide in guides {
            canvas[min(max(row(guide.y), 0), rows - 1)] = Array(repeating: "┈", count: columns)
        }
        for (g, group) in p.groups.enumerated() {
            for point in group.points where place(point.x).isFinite && point.y.isFinite {
                let c = x1 > x0 ? Int((place(point.x) - x0) / (x1 - x0) * Double(columns - 1) + 0.5) : columns / 2
                canvas[min(max(row(point.y), 0), rows - 1)][min(max(c, 0), columns - 1)] = marks[g % marks.count]
            }
        }
        var out = ["  \(p.title)"] + canvas.map { "  │" + String($0) }
        out.append("  └" + String(repeating: "─", count: columns))
        let xRange = p.logX ? "\(short(Foundation.pow(10, x0))) … \(short(Foundation.pow(10, x1))) (log)" : "\(short(x0)) … \(short(x1))"
        out.append("   \(p.xLabel) \(xRange) · \(p.yLabel) \(short(y0)) … \(short(y1))")
        if !guides.isEmpty {
            out.append("   ┈ at " + guides.map { $0.label.isEmpty ? short($0.y) : $0.label }.joined(separator: ", "))
        }
        if p.groups.count > 1 {
            out.append("   " + p.groups.enumerated().map { "\(marks[$0.offset % marks.count]) \($0.element.name)" }.joined(separator: "  "))
        }
        return out
    }

    // MARK: - Circuits

    static func circuit(_ p: CircuitPanel) -> [String] {
        var out = ["  \(p.title)", "  components: " + p.nodes.map(\.name).joined(separator: " ")]
        let edges = p.edges.sorted { Swift.abs($0.weight) != Swift.abs($1.weight) ? Swift.abs($0.weight) > Swift.abs($1.weight) : $0.source < $1.source }
        for e in edges.prefix(12) {
            out.append("  \(e.source) → \(e.target)" + (e.input.map { " (\($0))" } ?? "") + "  \(short(e.weight))")
        }
        if edges.count > 12 { out.append("  … \(edges.count - 12) more edges") }
        return out
    }

    /// A number in at most about six characters: `0.52`, `1.2e-06`, `2000`.
    static func short(_ v: Double) -> String {
        guard v.isFinite else { return v.isNaN ? "nan" : v > 0 ? "inf" : "-inf" }
        if v == v.rounded(), Swift.abs(v) < 1e6 { return String(Int(v)) }
        return String(format: "%.3g", v)
    }
}
