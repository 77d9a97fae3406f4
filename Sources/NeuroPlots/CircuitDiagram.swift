import Foundation

// Circuit diagrams: the components of a circuit laid out by layer, bottom to
// top (embedding, each layer's heads, that layer's MLP, …, unembedding), with
// edges as curves whose width follows their weight.

/// A circuit drawn bottom to top: the embedding at the bottom, each layer's
/// heads side by side with its MLP above them, the unembedding at the top.
/// Edges are curves from the top of their source to the bottom of their
/// target (heads' q, k and v inputs at the left, middle and right of the
/// box); their width grows with |weight|, negative weights are vermillion.
///
/// Reads the JSON that circuit discovery writes:
/// `{"components": [{"name", "type", "layer", "head", "importance"}], "edges": [{"source", "target", "input", "weight"}]}`.
///
/// ```swift
/// let diagram = try CircuitDiagram(json: try String(contentsOfFile: "circuit.json"))
/// ```
public struct CircuitDiagram: Chart {
    /// One component: a box labelled with its name and importance.
    public struct Node {
        /// The unique name, e.g. `"a0.1"`.
        public var name: String
        /// `"embed"`, `"head"`, `"mlp"`, `"unembed"`, or another kind (drawn in its layer's head row).
        public var type: String
        /// The block, or nil for the embedding and unembedding.
        public var layer: Int?
        /// The head index within its layer, used to order heads left to right.
        public var head: Int?
        /// The importance printed under the name, or nil for none.
        public var importance: Double?

        /// A component.
        ///
        /// ```swift
        /// let n = CircuitDiagram.Node(name: "a0.1", type: "head", layer: 0, head: 1, importance: 0.82)
        /// ```
        public init(name: String, type: String, layer: Int? = nil, head: Int? = nil, importance: Double? = nil) {
            self.name = name
            self.type = type
            self.layer = layer
            self.head = head
            self.importance = importance
        }
    }

    /// One edge from the output of `source` to an input of `target`.
    public struct Edge {
        /// The name of the writing component.
        public var source: String
        /// The name of the reading component.
        public var target: String
        /// `"q"`, `"k"`, `"v"`, or nil for the single input of an MLP or the unembedding.
        public var input: String?
        /// The edge's weight; its magnitude sets the line width.
        public var weight: Double

        /// An edge.
        ///
        /// ```swift
        /// let e = CircuitDiagram.Edge(source: "embed", target: "a0.1", input: "v", weight: 0.31)
        /// ```
        public init(source: String, target: String, input: String? = nil, weight: Double) {
            self.source = source
            self.target = target
            self.input = input
            self.weight = weight
        }
    }

    /// The title at the top; empty for none.
    public var title: String
    /// The components.
    public var nodes: [Node]
    /// The edges between them.
    public var edges: [Edge]

    /// A diagram of these components and edges.
    ///
    /// ```swift
    /// let d = CircuitDiagram(nodes: [.init(name: "embed", type: "embed"), .init(name: "unembed", type: "unembed")], edges: [.init(source: "embed", target: "unembed", weight: 1)])
    /// ```
    public init(title: String = "", nodes: [Node], edges: [Edge]) {
        self.title = title
        self.nodes = nodes
        self.edges = edges
    }

    /// A diagram from circuit JSON; the title defaults to the JSON's `method` field.
    ///
    /// Throws a `PlotError` for invalid JSON or a missing `components` list.
    /// Null layers, heads and importances are allowed; a null weight is drawn as a thin grey dashed edge.
    ///
    /// ```swift
    /// let d = try CircuitDiagram(json: #"{"components": [{"name": "embed", "type": "embed"}], "edges": []}"#)
    /// ```
    public init(json: String, title: String? = nil) throws {
        let chart = "circuit diagram"
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(json.utf8))
        } catch {
            throw PlotError("\(chart): invalid JSON (\(error.localizedDescription))")
        }
        guard let object = parsed as? [String: Any], let components = object["components"] as? [[String: Any]] else {
            throw PlotError("\(chart): JSON needs an object with a \"components\" list")
        }
        func int(_ value: Any?) -> Int? { (value as? NSNumber)?.intValue }
        func double(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }
        var nodes: [Node] = []
        for (index, c) in components.enumerated() {
            guard let name = c["name"] as? String else { throw PlotError("\(chart): component \(index) has no \"name\"") }
            nodes.append(Node(name: name, type: (c["type"] as? String) ?? "", layer: int(c["layer"]), head: int(c["head"]),
                              importance: double(c["importance"])))
        }
        var edges: [Edge] = []
        for (index, e) in ((object["edges"] as? [[String: Any]]) ?? []).enumerated() {
            guard let source = e["source"] as? String, let target = e["target"] as? String else {
                throw PlotError("\(chart): edge \(index) needs \"source\" and \"target\" names")
            }
            edges.append(Edge(source: source, target: target, input: e["input"] as? String, weight: double(e["weight"]) ?? .nan))
        }
        self.init(title: title ?? (object["method"] as? String) ?? "", nodes: nodes, edges: edges)
    }

    // MARK: - Rendering

    private static let nodeHeight = 40.0
    private static let rowGap = 66.0
    private static let nodeGap = 22.0
    private static let rowLabelWidth = 86.0

    /// The diagram as a drawing; throws a `PlotError` for no components, repeated names, or edges to unknown components.
    public func draw() throws -> SVG {
        let chart = "circuit diagram"
        try requireNonEmpty(nodes, chart: chart, what: "the list of components")
        var index: [String: Int] = [:]
        for (i, node) in nodes.enumerated() {
            if index[node.name] != nil { throw PlotError("\(chart): two components are named '\(node.name)'") }
            index[node.name] = i
        }
        for (i, edge) in edges.enumerated() {
            for end in [edge.source, edge.target] where index[end] == nil {
                throw PlotError("\(chart): edge \(i) (\(edge.source) → \(edge.target)) names '\(end)', which is not a component")
            }
        }

        // Rows bottom to top: embedding, then per layer its heads and its MLP, then the unembedding.
        let topRank = 2 * ((nodes.compactMap(\.layer).max() ?? 0) + 1) + 1
        func rank(_ node: Node) -> Int {
            switch node.type.lowercased() {
            case "embed": return 0
            case "unembed": return topRank
            case "mlp": return node.layer.map { 2 * $0 + 2 } ?? topRank - 1
            default: return node.layer.map { 2 * $0 + 1 } ?? 0
            }
        }
        let ranks = Array(Set(nodes.map(rank))).sorted()
        let rows: [[Int]] = ranks.map { r in
            nodes.indices.filter { rank(nodes[$0]) == r }.sorted {
                (nodes[$0].head ?? Int.max, nodes[$0].name) < (nodes[$1].head ?? Int.max, nodes[$1].name)
            }
        }
        func boxWidth(_ node: Node) -> Double { Swift.max(60, textWidth(node.name, size: Style.labelSize) + 24) }
        let rowWidths = rows.map { row in row.map { boxWidth(nodes[$0]) }.reduce(0, +) + Double(row.count - 1) * Self.nodeGap }
        let contentWidth = rowWidths.max() ?? 0
        let top = title.isEmpty ? Style.pad + 8 : Style.pad + Style.titleSize + 22
        let note = legendNote
        let noteHeight = 30.0
        // Room on both sides for edges that go around rows they skip.
        let detourRoom = 40.0
        let width = Swift.max(Self.rowLabelWidth + contentWidth + 2 * detourRoom + 2 * Style.pad,
                              textWidth(title, size: Style.titleSize) + 2 * Style.pad,
                              textWidth(note, size: Style.noteSize) + 2 * Style.pad, 360).rounded(.up)
        let height = (top + Double(rows.count) * Self.nodeHeight + Double(rows.count - 1) * Self.rowGap + 16 + noteHeight).rounded(.up)
        let contentLeft = Self.rowLabelWidth + Style.pad + (width - Self.rowLabelWidth - 2 * Style.pad - contentWidth) / 2
        let rowOf = Dictionary(uniqueKeysWithValues: rows.enumerated().flatMap { r, row in row.map { ($0, r) } })

        // Box positions: (left, top, width) of each node.
        var boxes = [(x: Double, y: Double, w: Double)](repeating: (0, 0, 0), count: nodes.count)
        for (r, row) in rows.enumerated() {
            let y = top + Double(rows.count - 1 - r) * (Self.nodeHeight + Self.rowGap)
            var x = contentLeft + (contentWidth - rowWidths[r]) / 2
            for i in row {
                boxes[i] = (x, y, boxWidth(nodes[i]))
                x += boxWidth(nodes[i]) + Self.nodeGap
            }
        }

        var svg = SVG(width: width, height: height)
        svg.drawTitle(title)
        for row in rows {
            guard let first = row.first else { continue }
            let node = nodes[first]
            let label: String
            switch node.type.lowercased() {
            case "embed": label = "embed"
            case "unembed": label = "unembed"
            case "mlp": label = node.layer.map { "layer \($0) MLP" } ?? "MLP"
            case "head": label = node.layer.map { "layer \($0) heads" } ?? "heads"
            default: label = node.layer.map { "layer \($0)" } ?? node.type
            }
            svg.text(label, x: Style.pad, y: boxes[first].y + Self.nodeHeight / 2 + Style.noteSize * 0.35,
                     size: Style.noteSize, fill: Palette.muted)
        }

        let heaviest = edges.map { Swift.abs($0.weight) }.filter(\.isFinite).max() ?? 0
        var ports: [String: (x: Double, y: Double, input: String)] = [:]
        var detours: [Double] = []
        for edge in edges {
            guard let s = index[edge.source], let t = index[edge.target] else { continue }
            let (source, target) = (boxes[s], boxes[t])
            let sx = source.x + source.w / 2
            let sy = source.y
            let offset: Double = edge.input == "q" ? -0.25 : edge.input == "v" ? 0.25 : 0
            let tx = target.x + target.w / 2 + offset * target.w
            let ty = target.y + Self.nodeHeight
            let d = edgePath(from: (sx, sy), to: (tx, ty), skipping: skippedBoxes(rowOf[s] ?? 0, rowOf[t] ?? 0, rows, boxes),
                             detours: &detours)
            let tooltip = "\(edge.source) → \(edge.target)\(edge.input.map { " (\($0))" } ?? ""): \(Axis.shortLabel(edge.weight))"
            if edge.weight.isFinite {
                let share = heaviest > 0 ? Swift.abs(edge.weight) / heaviest : 1
                svg.path(d, stroke: edge.weight < 0 ? "#d55e00" : "#4c6a92", width: 0.8 + 4.2 * share, opacity: 0.75,
                         title: tooltip)
            } else {
                svg.path(d, stroke: Palette.missing, width: 1, opacity: 0.9, title: tooltip)
            }
            if let input = edge.input, input != "resid", !input.isEmpty {
                ports["\(edge.target)|\(input)"] = (tx, ty, input)
            }
        }
        for key in ports.keys.sorted() {
            guard let port = ports[key] else { continue }
            svg.text(port.input, x: port.x, y: port.y + 12, size: 10, anchor: .middle, weight: "600", fill: Palette.muted)
        }

        for (i, node) in nodes.enumerated() {
            let box = boxes[i]
            let (fill, stroke) = Self.colors(node.type)
            var tooltip = node.name + " (" + node.type + (node.layer.map { ", layer \($0)" } ?? "") + ")"
            if let importance = node.importance { tooltip += " importance \(Axis.shortLabel(importance))" }
            svg.rect(x: box.x, y: box.y, width: box.w, height: Self.nodeHeight, fill: fill, stroke: stroke, strokeWidth: 1.2,
                     radius: 7, title: tooltip)
            let hasImportance = node.importance != nil
            svg.text(node.name, x: box.x + box.w / 2, y: box.y + (hasImportance ? 17 : 25), size: Style.labelSize,
                     anchor: .middle, weight: "600", fill: Palette.ink)
            if let importance = node.importance {
                svg.text(Axis.shortLabel(importance), x: box.x + box.w / 2, y: box.y + 32, size: 10.5, anchor: .middle,
                         fill: Palette.muted)
            }
        }
        svg.text(note, x: Style.pad, y: height - Style.pad, size: Style.noteSize, fill: Palette.muted)
        return svg
    }

    /// What line widths, colours and numbers mean, for the line under the diagram.
    private var legendNote: String {
        var note = "edge width ∝ |weight|"
        if edges.contains(where: { $0.weight < 0 }) { note += " · vermillion: negative" }
        if edges.contains(where: { !$0.weight.isFinite }) { note += " · grey: no weight" }
        if nodes.contains(where: { $0.importance != nil }) { note += " · number under a name: importance" }
        return note
    }

    /// The boxes of the rows strictly between rows `a` and `b`.
    private func skippedBoxes(_ a: Int, _ b: Int, _ rows: [[Int]], _ boxes: [(x: Double, y: Double, w: Double)])
        -> [(x: Double, y: Double, w: Double)] {
        guard Swift.abs(a - b) > 1 else { return [] }
        return (Swift.min(a, b) + 1..<Swift.max(a, b)).flatMap { rows[$0].map { boxes[$0] } }
    }

    /// An edge from the top of a source to the bottom of a target: one S-curve,
    /// or, when a box of a skipped row is in the way, a curve out to a free
    /// lane beside those rows, straight up, and a curve in. Each detour takes
    /// its own lane (`detours` holds the lanes taken).
    private func edgePath(from s: (Double, Double), to t: (Double, Double), skipping boxes: [(x: Double, y: Double, w: Double)],
                          detours: inout [Double]) -> String {
        func point(_ x: Double, _ y: Double) -> String { SVG.number(x) + "," + SVG.number(y) }
        let (sx, sy) = s
        let (tx, ty) = t
        let blocked = boxes.contains { box in
            let f = (box.y + Self.nodeHeight / 2 - sy) / (ty - sy)
            let x = sx + (tx - sx) * Swift.min(1, Swift.max(0, f))
            return x > box.x - 8 && x < box.x + box.w + 8
        }
        guard blocked, let lowest = boxes.map(\.y).max(), let highest = boxes.map(\.y).min(),
              let left = boxes.map(\.x).min(), let right = boxes.map({ $0.x + $0.w }).max() else {
            let bend = Swift.max(30, Swift.abs(sy - ty) * 0.5)
            return "M" + point(sx, sy) + " C" + point(sx, sy - bend) + " " + point(tx, ty + bend) + " " + point(tx, ty)
        }
        // The nearer side, then the first lane there not taken.
        let middle = (sx + tx) / 2
        let goRight = right - middle <= middle - left
        var lane = goRight ? right + 16 : left - 16
        while detours.contains(where: { Swift.abs($0 - lane) < 5 }) { lane += goRight ? 7 : -7 }
        detours.append(lane)
        let (enter, leave) = (lowest + Self.nodeHeight + 10, highest - 10)
        let rise1 = (sy - enter) / 2
        let rise2 = (leave - ty) / 2
        return "M" + point(sx, sy) + " C" + point(sx, sy - rise1) + " " + point(lane, enter + rise1) + " " + point(lane, enter)
            + " L" + point(lane, leave)
            + " C" + point(lane, leave - rise2) + " " + point(tx, ty + rise2) + " " + point(tx, ty)
    }

    private static func colors(_ type: String) -> (String, String) {
        switch type.lowercased() {
        case "embed", "unembed": return ("#dbe9f8", "#5b84b1")
        case "head": return ("#fde3c9", "#c98a3d")
        case "mlp": return ("#d9f0d3", "#5c9a5a")
        default: return ("#eeeeee", "#888888")
        }
    }
}
