// A minimal SVG document builder. Every number goes through `SVG.number`
// (at most two decimals, no locale, no "-0") and attributes are written in a
// fixed order, so the same drawing always gives the same bytes. A drawing is
// a tree of elements: drawings are placed inside others at an offset, and
// ids are namespaced when the tree is written, never by editing its text.

/// An SVG document built element by element, rendered to text with `render()`.
///
/// Text is escaped for XML; coordinates are written with at most two
/// decimals so output is byte-for-byte deterministic. The document starts
/// with a white background and a sans-serif font stack.
///
/// ```swift
/// var svg = SVG(width: 200, height: 100); svg.text("hi", x: 100, y: 50, anchor: .middle); let s = svg.render()
/// ```
public struct SVG {
    /// Horizontal alignment of text relative to its anchor point.
    public enum Anchor: String {
        /// Text starts at x.
        case start
        /// Text is centred on x.
        case middle
        /// Text ends at x.
        case end
    }

    /// The font stack for all text: clean sans-serif faces, then whatever the system has.
    public static let fontFamily = "'Helvetica Neue', Helvetica, Arial, 'DejaVu Sans', 'Liberation Sans', sans-serif"

    /// Width of the drawing in pixels.
    public let width: Double
    /// Height of the drawing in pixels.
    public let height: Double
    /// A chart's drawing sets the font and paints a background; a layout of drawings does neither.
    private var isLayout = false
    private var defs: [Node] = []
    private var body: [Node] = []

    /// An empty drawing of this size with a white background.
    ///
    /// ```swift
    /// var svg = SVG(width: 640, height: 480)
    /// ```
    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
        rect(x: 0, y: 0, width: width, height: height, fill: "#ffffff")
    }

    /// An empty layout of this size titled `title`, to `place` drawings in
    /// (no background or font of its own: each placed drawing has its own).
    ///
    /// ```swift
    /// var page = SVG(layout: 800, height: 400, title: "loss and accuracy"); page.place(chart, x: 400, y: 0)
    /// ```
    public init(layout width: Double, height: Double, title: String) {
        self.width = width
        self.height = height
        isLayout = true
        body.append(.element("title", [], [.text(title)]))
    }

    /// Places `drawing` with its top-left corner at (x, y); it keeps its own
    /// coordinates (a nested `<svg>`), and its gradients join this document's.
    ///
    /// ```swift
    /// page.place(try LineChart(series: [.init("loss", y: losses)]).draw(), x: 0, y: 420)
    /// ```
    public mutating func place(_ drawing: SVG, x: Double, y: Double) {
        body.append(.placed(drawing, x: x, y: y))
    }

    // MARK: - Elements

    /// A rectangle; `title` becomes a hover tooltip. `crisp` turns off
    /// anti-aliasing, so abutting cells show no hairline seams.
    ///
    /// ```swift
    /// svg.rect(x: 10, y: 10, width: 20, height: 5, fill: "#0072b2")
    /// ```
    public mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String,
                              stroke: String? = nil, strokeWidth: Double = 1, opacity: Double? = nil,
                              radius: Double? = nil, crisp: Bool = false, title: String? = nil) {
        rect(x: x, y: y, width: width, height: height, paint: .plain(fill), stroke: stroke, strokeWidth: strokeWidth,
             opacity: opacity, radius: radius, crisp: crisp, title: title)
    }

    /// A rectangle filled with the gradient `gradient` (an id given to `verticalGradient`).
    mutating func rect(x: Double, y: Double, width: Double, height: Double, gradient: String,
                       stroke: String? = nil, strokeWidth: Double = 1) {
        rect(x: x, y: y, width: width, height: height, paint: .reference(gradient), stroke: stroke, strokeWidth: strokeWidth,
             opacity: nil, radius: nil, crisp: false, title: nil)
    }

    private mutating func rect(x: Double, y: Double, width: Double, height: Double, paint: Attribute,
                               stroke: String?, strokeWidth: Double, opacity: Double?,
                               radius: Double?, crisp: Bool, title: String?) {
        var attributes: [(String, Attribute)] = [("x", .number(x)), ("y", .number(y)),
                                                 ("width", .number(Swift.max(0, width))),
                                                 ("height", .number(Swift.max(0, height)))]
        if let radius { attributes.append(("rx", .number(radius))) }
        attributes.append(("fill", paint))
        if let opacity { attributes.append(("fill-opacity", .number(opacity))) }
        if let stroke { attributes += [("stroke", .plain(stroke)), ("stroke-width", .number(strokeWidth))] }
        if crisp { attributes.append(("shape-rendering", .plain("crispEdges"))) }
        append("rect", attributes, title: title)
    }

    /// A straight line; `dash` is an SVG dash pattern such as `"4 3"`.
    ///
    /// ```swift
    /// svg.line(x1: 0, y1: 0, x2: 100, y2: 0, stroke: "#cccccc")
    /// ```
    public mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String,
                              width: Double = 1, dash: String? = nil, opacity: Double? = nil) {
        var attributes: [(String, Attribute)] = [("x1", .number(x1)), ("y1", .number(y1)),
                                                 ("x2", .number(x2)), ("y2", .number(y2)),
                                                 ("stroke", .plain(stroke)), ("stroke-width", .number(width))]
        if let dash { attributes.append(("stroke-dasharray", .plain(dash))) }
        if let opacity { attributes.append(("stroke-opacity", .number(opacity))) }
        append("line", attributes)
    }

    /// An open polyline through `points`, drawn without fill.
    ///
    /// ```swift
    /// svg.polyline([(0, 0), (10, 5), (20, 3)], stroke: "#0072b2", width: 2)
    /// ```
    public mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 1.5,
                                  dash: String? = nil) {
        let list = points.map { SVG.number($0.0) + "," + SVG.number($0.1) }.joined(separator: " ")
        var attributes: [(String, Attribute)] = [("points", .plain(list)), ("fill", .plain("none")), ("stroke", .plain(stroke)),
                                                 ("stroke-width", .number(width)),
                                                 ("stroke-linejoin", .plain("round")), ("stroke-linecap", .plain("round"))]
        if let dash { attributes.append(("stroke-dasharray", .plain(dash))) }
        append("polyline", attributes)
    }

    /// A path with SVG path data `d` (build it with `SVG.number` for determinism).
    ///
    /// ```swift
    /// svg.path("M0,0 C10,0 10,10 20,10", fill: "none", stroke: "#555555", width: 2)
    /// ```
    public mutating func path(_ d: String, fill: String = "none", stroke: String? = nil, width: Double = 1,
                              opacity: Double? = nil, title: String? = nil) {
        var attributes: [(String, Attribute)] = [("d", .plain(d)), ("fill", .plain(fill))]
        if let stroke { attributes += [("stroke", .plain(stroke)), ("stroke-width", .number(width))] }
        if let opacity { attributes.append(("opacity", .number(opacity))) }
        append("path", attributes, title: title)
    }

    /// A circle; `title` becomes a hover tooltip.
    ///
    /// ```swift
    /// svg.circle(cx: 50, cy: 50, r: 4, fill: "#d55e00", title: "token 7")
    /// ```
    public mutating func circle(cx: Double, cy: Double, r: Double, fill: String, stroke: String? = nil,
                                strokeWidth: Double = 1, title: String? = nil) {
        var attributes: [(String, Attribute)] = [("cx", .number(cx)), ("cy", .number(cy)),
                                                 ("r", .number(r)), ("fill", .plain(fill))]
        if let stroke { attributes += [("stroke", .plain(stroke)), ("stroke-width", .number(strokeWidth))] }
        append("circle", attributes, title: title)
    }

    /// A line of text at (x, y) (y is the baseline), optionally rotated about that point.
    ///
    /// ```swift
    /// svg.text("loss", x: 12, y: 200, size: 12, anchor: .middle, rotate: -90)
    /// ```
    public mutating func text(_ content: String, x: Double, y: Double, size: Double = 12,
                              anchor: Anchor = .start, weight: String? = nil, fill: String = "#222222",
                              rotate: Double? = nil) {
        var attributes: [(String, Attribute)] = [("x", .number(x)), ("y", .number(y)),
                                                 ("font-size", .number(size))]
        if anchor != .start { attributes.append(("text-anchor", .plain(anchor.rawValue))) }
        if let weight { attributes.append(("font-weight", .plain(weight))) }
        attributes.append(("fill", .plain(fill)))
        if let rotate, rotate != 0 {
            attributes.append(("transform", .plain("rotate(\(SVG.number(rotate)) \(SVG.number(x)) \(SVG.number(y)))")))
        }
        body.append(.element("text", attributes, [.text(content)]))
    }

    /// A vertical linear gradient from `stops` (offset 0…1 from the bottom, colour), usable as `url(#id)`.
    ///
    /// ```swift
    /// svg.verticalGradient(id: "bar", stops: [(0, "#2166ac"), (1, "#b2182b")])
    /// ```
    public mutating func verticalGradient(id: String, stops: [(Double, String)]) {
        let stopNodes = stops.map { offset, color in Node.element("stop", [("offset", .number(offset)), ("stop-color", .plain(color))], []) }
        defs.append(.element("linearGradient", [("id", .id(id)), ("x1", .plain("0")), ("y1", .plain("1")), ("x2", .plain("0")), ("y2", .plain("0"))],
                             stopNodes))
    }

    // MARK: - Output

    /// The whole document as text, ending in a newline. `idPrefix` namespaces
    /// every id and each reference to one (several documents on one page);
    /// `standalone: false` leaves out the XML declaration and the namespace
    /// (for an `<svg>` inside HTML).
    ///
    /// ```swift
    /// try svg.render().write(toFile: "x.svg", atomically: true, encoding: .utf8)
    /// let inline = svg.render(idPrefix: "r1-", standalone: false)
    /// ```
    public func render(idPrefix: String = "", standalone: Bool = true) -> String {
        var lines = standalone ? ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>"] : []
        // Gradients of placed drawings join this document's; equal ids are equal gradients (see `drawColorBar`).
        var seen = Set<String>()
        let allDefs = gatheredDefs().filter { node in
            guard case .element(_, let attributes, _) = node, let id = attributes.first(where: { $0.0 == "id" }) else { return true }
            if case .id(let name) = id.1 { return seen.insert(name).inserted }
            return true
        }
        lines.append(openTag(position: nil, namespace: standalone))
        if !allDefs.isEmpty { lines.append("<defs>" + allDefs.map { $0.text(idPrefix) }.joined() + "</defs>") }
        lines += body.map { $0.text(idPrefix) }
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The `<svg …>` tag: at (x, y) inside another drawing, or the document's own.
    fileprivate func openTag(position: (x: Double, y: Double)?, namespace: Bool) -> String {
        var tag = "<svg"
        if let position { tag += " x=\"\(SVG.number(position.x))\" y=\"\(SVG.number(position.y))\"" }
        if namespace { tag += " xmlns=\"http://www.w3.org/2000/svg\"" }
        tag += " width=\"\(SVG.number(width))\" height=\"\(SVG.number(height))\" viewBox=\"0 0 \(SVG.number(width)) \(SVG.number(height))\""
        if !isLayout { tag += " font-family=\"\(SVG.fontFamily)\"" }
        return tag + ">"
    }

    /// This drawing's gradients and those of every drawing placed in it, in order.
    private func gatheredDefs() -> [Node] {
        defs + body.flatMap { node -> [Node] in
            if case .placed(let drawing, _, _) = node { return drawing.gatheredDefs() }
            return []
        }
    }

    /// The placed drawing as a nested `<svg>` (its gradients are written at the top of the document).
    fileprivate func nestedText(x: Double, y: Double, idPrefix: String) -> String {
        ([openTag(position: (x, y), namespace: false)] + body.map { $0.text(idPrefix) } + ["</svg>"])
            .joined(separator: "\n")
    }

    // MARK: - Text and numbers

    /// `text` with `&`, `<`, `>`, `"` and `'` escaped, and control characters other than tab and newline dropped.
    ///
    /// ```swift
    /// SVG.escape("a < b & c")   // "a &lt; b &amp; c"
    /// ```
    public static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // XML 1.0 forbids most control characters even when escaped.
                if scalar.value < 0x20 && scalar != "\t" && scalar != "\n" { continue }
                if scalar.value == 0xFFFE || scalar.value == 0xFFFF { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `value` with at most two decimals and no trailing zeros; non-finite values give `"0"`.
    ///
    /// ```swift
    /// SVG.number(3.14159)   // "3.14"
    /// ```
    public static func number(_ value: Double) -> String {
        let hundredths = (value * 100).rounded()
        guard hundredths.isFinite, Swift.abs(hundredths) < 9e15 else { return "0" }
        let whole = Int64(hundredths)
        if whole == 0 { return "0" }
        let magnitude = whole.magnitude
        let integer = magnitude / 100
        let fraction = magnitude % 100
        var text = (whole < 0 ? "-" : "") + String(integer)
        if fraction != 0 {
            text += fraction % 10 == 0 ? "." + String(fraction / 10) : (fraction < 10 ? ".0" : ".") + String(fraction)
        }
        return text
    }

    // MARK: - Private

    /// An attribute's value: text, a number, an id, or a reference to an id (`url(#id)`); ids are namespaced when written.
    fileprivate enum Attribute {
        case plain(String)
        case id(String)
        case reference(String)

        static func number(_ value: Double) -> Attribute { .plain(SVG.number(value)) }

        func text(_ idPrefix: String) -> String {
            switch self {
            case .plain(let value): return value
            case .id(let name): return idPrefix + name
            case .reference(let name): return "url(#\(idPrefix + name))"
            }
        }
    }

    /// One piece of the drawing: an element with attributes and children, text, or a drawing placed at an offset.
    fileprivate indirect enum Node {
        case element(String, [(String, Attribute)], [Node])
        case text(String)
        case placed(SVG, x: Double, y: Double)

        func text(_ idPrefix: String) -> String {
            switch self {
            case .element(let name, let attributes, let children):
                let open = "<\(name)" + SVG.attributes(attributes, idPrefix)
                return children.isEmpty ? open + "/>" : open + ">" + children.map { $0.text(idPrefix) }.joined() + "</\(name)>"
            case .text(let content):
                return SVG.escape(content)
            case .placed(let drawing, let x, let y):
                return drawing.nestedText(x: x, y: y, idPrefix: idPrefix)
            }
        }
    }

    private static func attributes(_ list: [(String, Attribute)], _ idPrefix: String) -> String {
        list.map { " \($0.0)=\"\(escape($0.1.text(idPrefix)))\"" }.joined()
    }

    private mutating func append(_ name: String, _ attributes: [(String, Attribute)], title: String? = nil) {
        body.append(.element(name, attributes, title.map { [.element("title", [], [.text($0)])] } ?? []))
    }
}

/// The approximate width of `text` in pixels at font size `size`: a
/// deliberately generous average glyph width, so layouts leave room for
/// the widest fonts in the stack.
func textWidth(_ text: String, size: Double) -> Double {
    Double(text.unicodeScalars.count) * size * 0.6
}
