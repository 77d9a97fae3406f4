import NeuroEngine

// What every chart has in common: it draws an SVG drawing (to place in a
// layout, or render to text), and it can be written to a file atomically.

/// A chart that draws an SVG document.
///
/// ```swift
/// try LineChart(title: "loss", series: [.init("train", y: losses)]).write(to: "loss.svg")
/// ```
public protocol Chart {
    /// The chart as a drawing. Throws a `PlotError` for data it cannot draw (empty, ragged, mismatched).
    func draw() throws -> SVG
}

extension Chart {
    /// The chart as SVG text. Throws a `PlotError` for data it cannot draw.
    ///
    /// ```swift
    /// let text = try Heatmap(values: [[1, 2], [3, 4]]).render()
    /// ```
    public func render() throws -> String { try draw().render() }

    /// Renders the chart and writes it to `path` atomically (a temporary file renamed over `path`).
    ///
    /// Throws a `PlotError` for bad data, or one naming `path` when it cannot be written.
    ///
    /// ```swift
    /// try chart.write(to: "out/heatmap.svg")
    /// ```
    public func write(to path: String) throws {
        let text = try render()
        do {
            try writeAtomically(Array(text.utf8), to: path)
        } catch let error as EngineError {
            throw PlotError("cannot write plot to '\(path)': \(error.message)")
        }
    }
}

// MARK: - Shared sizes

/// Font sizes and spacing shared by all charts.
enum Style {
    static let titleSize = 16.0
    static let labelSize = 13.0
    static let tickSize = 11.0
    static let legendSize = 12.0
    static let noteSize = 11.0
    static let pad = 12.0
}

/// Checks that `values` has data, naming `chart` and `what` in the error.
func requireNonEmpty<T>(_ values: [T], chart: String, what: String) throws {
    if values.isEmpty { throw PlotError("\(chart): no data (\(what) is empty)") }
}
