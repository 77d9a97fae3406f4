import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroPlots

/// Pictures of one's own numbers: `line`, `bar`, `scatter` and `imshow`
/// each make a figure value — printed, it is its terminal sketch; given to
/// `plot(fig, to: "x.svg")` or `save(fig, "x.svg")`, or made with `to:`, it
/// is an SVG file — and it joins the session's results, so `report` shows
/// it with the command that made it.
///
/// ```
/// fig = line({"train": train_losses, "test": test_losses}, x: epochs, title: "loss", ylabel: "cross-entropy")
/// plot(fig, to: "loss.svg")
/// imshow(acts, x_ticks: tokens, y_ticks: ["a", "b", "="], to: "acts.svg")
/// ```
extension Builtins {
    static var pictures: [Builtin] { [line, bar, scatter, imshow] }

    /// Arguments every picture built-in takes, after its data.
    static let pictureParameters = ["title", "xlabel", "ylabel", "legend", "to"]

    static let line = Builtin(
        "line", "line(ys, x: xs, title: \"line chart\", xlabel: \"x\", ylabel: \"y\", labels: […], legend: true, log_y: false, to: \"x.svg\")",
        "a line chart of your numbers: one series, one per row of a 2-D tensor, or one per field of a record ({\"train\": a, \"test\": b})",
        parameters: ["ys", "x", "labels", "log_y"] + pictureParameters, effects: .files
    ) { args in
        let ys = try args.required(0, "ys")
        var named: [(name: String, y: [Double])] = []
        switch ys {
        case .record(let record):
            guard !record.keys.isEmpty else { throw args.error("'ys' is an empty record; give each series a field, like {\"train\": a}") }
            for (name, value) in record.pairs { named.append((name, try numbers(value, "ys.\(name)", args))) }
        default:
            let t = try tensorArgument(ys, "ys", args)
            switch t.rank {
            case 0, 1: named = [("y", t.toDoubles())]
            case 2:
                let values = t.toDoubles(), columns = t.shape[1]
                named = (0..<t.shape[0]).map { ("row \($0)", Array(values[($0 * columns)..<(($0 + 1) * columns)])) }
            default:
                throw args.error("'ys' must be numbers, a 2-D tensor (one line per row) or a record of series, got a tensor \(formatShape(t.shape))")
            }
        }
        let x = try args.value(1, "x").map { try numbers($0, "x", args) }
        for series in named where series.y.isEmpty { throw args.error("series '\(series.name)' has no values") }
        if let x {
            for series in named where series.y.count != x.count {
                throw args.error("'x' has \(x.count) value\(x.count == 1 ? "" : "s") but series '\(series.name)' has \(series.y.count)")
            }
        }
        let title = try args.string(nil, "title", default: "line chart")
        let panel = LinePanel(title: title, xLabel: x == nil ? "index" : "x", yLabel: "y",
                              series: named.map { LinePanel.Series(name: $0.name, x: x ?? $0.y.indices.map(Double.init), y: $0.y) },
                              logY: try args.bool(nil, "log_y", default: false))
        return try picture(Figure(title: title, panels: [.lines(panel)]), kind: "line chart", args)
    }

    static let bar = Builtin(
        "bar", "bar(values, labels: […], title: \"bar chart\", xlabel: \"\", ylabel: \"value\", legend: true, to: \"x.svg\")",
        "a bar chart of your numbers: one bar per value, named by labels; a record of lists gives groups of bars side by side",
        parameters: ["values", "labels"] + pictureParameters, effects: .files
    ) { args in
        let values = try args.required(0, "values")
        var groups: [BarPanel.Group] = []
        if case .record(let record) = values {
            guard !record.keys.isEmpty else { throw args.error("'values' is an empty record; give each group a field, like {\"clean\": a}") }
            for (name, value) in record.pairs { groups.append(.init(name: name, values: try numbers(value, "values.\(name)", args))) }
            if let first = groups.first, let other = groups.first(where: { $0.values.count != first.values.count }) {
                throw args.error("every group needs one value per bar: '\(first.name)' has \(first.values.count), '\(other.name)' has \(other.values.count)")
            }
        } else {
            groups = [.init(name: "value", values: try numbers(values, "values", args))]
        }
        let count = groups[0].values.count
        guard count > 0 else { throw args.error("'values' is empty; give at least one number") }
        let labels = try nameList(args, "labels") ?? (0..<count).map(String.init)
        guard labels.count == count else {
            throw args.error("'labels' has \(labels.count) name\(labels.count == 1 ? "" : "s") for \(count) bar\(count == 1 ? "" : "s")")
        }
        let title = try args.string(nil, "title", default: "bar chart")
        let panel = BarPanel(title: title, xLabel: "", yLabel: "value", categories: labels, groups: groups,
                             showLegend: groups.count > 1)
        return try picture(Figure(title: title, panels: [.bars(panel)]), kind: "bar chart", args, renames: false)
    }

    static let scatter = Builtin(
        "scatter", "scatter(xs, ys, groups: […], labels: […], title: \"scatter plot\", xlabel: \"x\", ylabel: \"y\", legend: true, to: \"x.svg\")",
        "a scatter plot of your points: groups (one name per point) colours them with a legend, labels writes a name beside each",
        parameters: ["xs", "ys", "groups", "labels", "square"] + pictureParameters, effects: .files
    ) { args in
        let xs = try numbers(try args.required(0, "xs"), "xs", args)
        let ys = try numbers(try args.required(1, "ys"), "ys", args)
        guard !xs.isEmpty else { throw args.error("'xs' is empty; give at least one point") }
        guard xs.count == ys.count else { throw args.error("'xs' has \(xs.count) values but 'ys' has \(ys.count)") }
        let labels = try nameList(args, "labels")
        if let labels, labels.count != xs.count {
            throw args.error("'labels' has \(labels.count) name\(labels.count == 1 ? "" : "s") for \(xs.count) point\(xs.count == 1 ? "" : "s")")
        }
        let memberships = try nameList(args, "groups")
        if let memberships, memberships.count != xs.count {
            throw args.error("'groups' has \(memberships.count) name\(memberships.count == 1 ? "" : "s") for \(xs.count) point\(xs.count == 1 ? "" : "s") (one group name per point)")
        }
        // Points of each group, in the order the groups first appear.
        var order: [String] = []
        var members: [String: [Int]] = [:]
        for i in xs.indices {
            let group = memberships?[i] ?? "points"
            if members[group] == nil { order.append(group) }
            members[group, default: []].append(i)
        }
        let groups = order.map { name in
            ScatterPanel.Group(name: name, points: members[name, default: []].map { (xs[$0], ys[$0]) },
                               labels: labels.map { names in members[name, default: []].map { names[$0] } } ?? [])
        }
        let title = try args.string(nil, "title", default: "scatter plot")
        var panel = ScatterPanel(title: title, xLabel: "x", yLabel: "y", groups: groups, square: try args.bool(nil, "square", default: false),
                                 showLabels: labels != nil)
        panel.together = true
        panel.showLegend = memberships != nil
        return try picture(Figure(title: title, panels: [.scatter(panel)]), kind: "scatter plot", args, renames: false)
    }

    static let imshow = Builtin(
        "imshow", "imshow(matrix, x_ticks: […], y_ticks: […], title: \"heatmap\", xlabel: \"column\", ylabel: \"row\", to: \"x.svg\")",
        "a heatmap of a 2-D tensor, with your names for its columns (x_ticks) and rows (y_ticks) on the axes",
        parameters: ["matrix", "x_ticks", "y_ticks"] + pictureParameters, effects: .files
    ) { args in
        let t = try tensorArgument(try args.required(0, "matrix"), "matrix", args)
        guard t.rank == 2 else { throw args.error("'matrix' must be a 2-D tensor (rows × columns), got \(formatShape(t.shape))") }
        let (rows, columns) = (t.shape[0], t.shape[1])
        guard rows > 0, columns > 0 else { throw args.error("'matrix' is empty \(formatShape(t.shape))") }
        let columnNames = try nameList(args, "x_ticks") ?? (0..<columns).map(String.init)
        guard columnNames.count == columns else {
            throw args.error("'x_ticks' has \(columnNames.count) name\(columnNames.count == 1 ? "" : "s") for \(columns) column\(columns == 1 ? "" : "s")")
        }
        let rowNames = try nameList(args, "y_ticks") ?? (0..<rows).map(String.init)
        guard rowNames.count == rows else {
            throw args.error("'y_ticks' has \(rowNames.count) name\(rowNames.count == 1 ? "" : "s") for \(rows) row\(rows == 1 ? "" : "s")")
        }
        let title = try args.string(nil, "title", default: "heatmap")
        let panel = Figure.heatmap(title: title, facets: [.init(title: "", values: Figure.grid(t.toDoubles(), rows: rows, columns: columns))],
                                   rowLabels: rowNames, columnLabels: columnNames, xLabel: "column", yLabel: "row")
        return try picture(Figure(title: title, panels: [.heatmap(panel)]), kind: "heatmap", args, renames: false)
    }

    // MARK: - Shared

    /// The figure in the words the call gave, written to `to` when given, as a value that joins the session's results.
    static func picture(_ figure: Figure, kind: String, _ args: CallArguments, renames: Bool = true) throws -> Value {
        let styled = try naming(args) { try figure.styled(try figureStyle(args, labels: renames)) }
        if args.value(nil, "to") != nil {
            let path = try svgPath(args, index: nil)
            try write(try naming(args) { try styled.svg() }, to: path, args)
            args.interpreter.output("wrote \(path)")
        }
        let value = FigureValue(styled, kind: kind)
        args.interpreter.session.results.append(value)
        return .object(value)
    }

    /// `title:`, `xlabel:`, `ylabel:`, `labels:` (when they name series) and `legend:`, checked.
    static func figureStyle(_ args: CallArguments, labels: Bool = true) throws -> FigureStyle {
        func optionalString(_ name: String) throws -> String? { args.value(nil, name) == nil ? nil : try args.string(nil, name) }
        // `plot` also takes the axis titles as x: and y: (its value is positional); `line` and `scatter` use x: for data.
        let axisTitles = args.function == "plot"
        func axisTitle(_ long: String, _ short: String) throws -> String? {
            let a = try optionalString(long), b = axisTitles ? try optionalString(short) : nil
            if a != nil, b != nil { throw args.error("give the axis title once, as \(short): or \(long):") }
            return a ?? b
        }
        return FigureStyle(title: try optionalString("title"), xLabel: try axisTitle("xlabel", "x"), yLabel: try axisTitle("ylabel", "y"),
                           labels: labels ? try nameList(args, "labels") : nil,
                           legend: args.value(nil, "legend") == nil ? nil : try args.bool(nil, "legend", default: true))
    }

    /// A list of names (strings, or numbers written as printed), or nil when not given.
    static func nameList(_ args: CallArguments, _ name: String) throws -> [String]? {
        guard let value = args.value(nil, name) else { return nil }
        let items: [Value]
        switch value {
        case .list(let list): items = list
        case .range(let a, let b): items = (a..<max(a, b)).map { .number(Double($0)) }
        case .tensor(let t) where t.rank == 1: items = t.toDoubles().map { .number($0) }
        default: throw args.error("'\(name)' must be a list of names, like [\"a\", \"b\"], got \(value.typeName)")
        }
        return try items.map { item in
            switch item {
            case .string(let s): return s
            case .number, .bool: return Formatter.printed(item)
            default: throw args.error("'\(name)' must be a list of names (strings or numbers), and has a \(item.typeName)")
            }
        }
    }

    /// A value as a tensor, or an error naming the argument.
    static func tensorArgument(_ value: Value, _ name: String, _ args: CallArguments) throws -> Tensor {
        do {
            return try value.asTensor()
        } catch let error as EngineError {
            throw args.error("'\(name)': \(error.message)")
        } catch {
            throw args.error("'\(name)' must be numbers (a list or a tensor), got \(value.typeName)")
        }
    }

    /// A value as a flat list of numbers (a list, range, or tensor of at most one dimension).
    static func numbers(_ value: Value, _ name: String, _ args: CallArguments) throws -> [Double] {
        let t = try tensorArgument(value, name, args)
        guard t.rank <= 1 else { throw args.error("'\(name)' must be one row of numbers, got a tensor \(formatShape(t.shape))") }
        return t.toDoubles()
    }

    /// An `.svg` path given as `to`.
    static func svgPath(_ args: CallArguments, index: Int?) throws -> String {
        let path = try args.path(index, "to")
        guard (path as NSString).pathExtension.lowercased() == "svg" else {
            throw args.error("writes SVG; name the file with .svg, not '\(path)' (report(\"x.html\") writes a page)")
        }
        return path
    }
}

/// A picture made of one's own numbers (`line`, `bar`, `scatter`, `imshow`):
/// printed, its terminal sketch; plotted or saved as `.svg`, its drawing.
public final class FigureValue: NativeObject, Pictured {
    public let drawn: Figure
    /// What kind of chart it is: `line chart`, `bar chart`, `scatter plot`, `heatmap`.
    public let kind: String

    public init(_ figure: Figure, kind: String) {
        self.drawn = figure
        self.kind = kind
    }

    public var typeName: String { "figure" }
    public var heading: String { "\(kind): \(drawn.title)" }
    public func figure() throws -> Figure { drawn }
    public var fieldNames: [String] { ["title", "kind"] }

    public func field(_ name: String) throws -> Value? {
        switch name {
        case "title": return .string(drawn.title)
        case "kind": return .string(kind)
        default: return nil
        }
    }

    public var summary: String { Sketch.render(drawn, colour: false) }
}
