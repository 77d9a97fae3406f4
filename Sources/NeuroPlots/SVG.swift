// A minimal SVG document builder. Every number goes through `SVG.number`
// (at most two decimals, no locale, no "-0") and attributes are written in a
// fixed order, so the same drawing always gives the same bytes.

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
    private var defs: [String] = []
    private var body: [String] = []

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
        var attributes: [(String, String)] = [("x", SVG.number(x)), ("y", SVG.number(y)),
                                              ("width", SVG.number(Swift.max(0, width))),
                                              ("height", SVG.number(Swift.max(0, height)))]
        if let radius { attributes.append(("rx", SVG.number(radius))) }
        attributes.append(("fill", fill))
        if let opacity { attributes.append(("fill-opacity", SVG.number(opacity))) }
        if let stroke { attributes += [("stroke", stroke), ("stroke-width", SVG.number(strokeWidth))] }
        if crisp { attributes.append(("shape-rendering", "crispEdges")) }
        append("rect", attributes, title: title)
    }

    /// A straight line; `dash` is an SVG dash pattern such as `"4 3"`.
    ///
    /// ```swift
    /// svg.line(x1: 0, y1: 0, x2: 100, y2: 0, stroke: "#cccccc")
    /// ```
    public mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String,
                              width: Double = 1, dash: String? = nil, opacity: Double? = nil) {
        var attributes: [(String, String)] = [("x1", SVG.number(x1)), ("y1", SVG.number(y1)),
                                              ("x2", SVG.number(x2)), ("y2", SVG.number(y2)),
                                              ("stroke", stroke), ("stroke-width", SVG.number(width))]
        if let dash { attributes.append(("stroke-dasharray", dash)) }
        if let opacity { attributes.append(("stroke-opacity", SVG.number(opacity))) }
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
        var attributes: [(String, String)] = [("points", list), ("fill", "none"), ("stroke", stroke),
                                              ("stroke-width", SVG.number(width)),
                                              ("stroke-linejoin", "round"), ("stroke-linecap", "round")]
        if let dash { attributes.append(("stroke-dasharray", dash)) }
        append("polyline", attributes)
    }

    /// A path with SVG path data `d` (build it with `SVG.number` for determinism).
    ///
    /// ```swift
    /// svg.path("M0,0 C10,0 10,10 20,10", fill: "none", stroke: "#555555", width: 2)
    /// ```
    public mutating func path(_ d: String, fill: String = "none", stroke: String? = nil, width: Double = 1,
                              opacity: Double? = nil, title: String? = nil) {
        var attributes: [(String, String)] = [("d", d), ("fill", fill)]
        if let stroke { attributes += [("stroke", stroke), ("stroke-width", SVG.number(width))] }
        if let opacity { attributes.append(("opacity", SVG.number(opacity))) }
        append("path", attributes, title: title)
    }

    /// A circle; `title` becomes a hover tooltip.
    ///
    /// ```swift
    /// svg.circle(cx: 50, cy: 50, r: 4, fill: "#d55e00", title: "token 7")
    /// ```
    public mutating func circle(cx: Double, cy: Double, r: Double, fill: String, stroke: String? = nil,
                                strokeWidth: Double = 1, title: String? = nil) {
        var attributes: [(String, String)] = [("cx", SVG.number(cx)), ("cy", SVG.number(cy)),
                                              ("r", SVG.number(r)), ("fill", fill)]
        if let stroke { attributes += [("stroke", stroke), ("stroke-width", SVG.number(strokeWidth))] }
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
        var attributes: [(String, String)] = [("x", SVG.number(x)), ("y", SVG.number(y)),
                                              ("font-size", SVG.number(size))]
        if anchor != .start { attributes.append(("text-anchor", anchor.rawValue)) }
        if let weight { attributes.append(("font-weight", weight)) }
        attributes.append(("fill", fill))
        if let rotate, rotate != 0 {
            attributes.append(("transform", "rotate(\(SVG.number(rotate)) \(SVG.number(x)) \(SVG.number(y)))"))
        }
        body.append("<text" + SVG.attributes(attributes) + ">" + SVG.escape(content) + "</text>")
    }

    /// A vertical linear gradient from `stops` (offset 0…1 from the bottom, colour), usable as `url(#id)`.
    ///
    /// ```swift
    /// svg.verticalGradient(id: "bar", stops: [(0, "#2166ac"), (1, "#b2182b")])
    /// ```
    public mutating func verticalGradient(id: String, stops: [(Double, String)]) {
        var text = "<linearGradient id=\"\(SVG.escape(id))\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
        for (offset, color) in stops {
            text += "<stop offset=\"\(SVG.number(offset))\" stop-color=\"\(SVG.escape(color))\"/>"
        }
        defs.append(text + "</linearGradient>")
    }

    // MARK: - Output

    /// The whole document as text, ending in a newline.
    ///
    /// ```swift
    /// try svg.render().write(toFile: "x.svg", atomically: true, encoding: .utf8)
    /// ```
    public func render() -> String {
        var lines = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(SVG.number(width))\" height=\"\(SVG.number(height))\" "
                        + "viewBox=\"0 0 \(SVG.number(width)) \(SVG.number(height))\" font-family=\"\(SVG.fontFamily)\">"]
        if !defs.isEmpty { lines.append("<defs>" + defs.joined() + "</defs>") }
        lines += body
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
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

    private static func attributes(_ list: [(String, String)]) -> String {
        list.map { " \($0.0)=\"\(escape($0.1))\"" }.joined()
    }

    private mutating func append(_ name: String, _ attributes: [(String, String)], title: String? = nil) {
        if let title {
            body.append("<\(name)" + SVG.attributes(attributes) + "><title>" + SVG.escape(title) + "</title></\(name)>")
        } else {
            body.append("<\(name)" + SVG.attributes(attributes) + "/>")
        }
    }
}

/// The approximate width of `text` in pixels at font size `size`: a
/// deliberately generous average glyph width, so layouts leave room for
/// the widest fonts in the stack.
func textWidth(_ text: String, size: Double) -> Double {
    Double(text.unicodeScalars.count) * size * 0.6
}
