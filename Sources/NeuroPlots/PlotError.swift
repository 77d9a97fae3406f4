// Errors of the plotting module: bad input to a chart, or a file that
// cannot be written. Every message names the chart or the path.

/// What went wrong making or saving a plot, in words for the user.
///
/// Messages start with the chart's name and say what is wrong, e.g.
/// `"heatmap: no data (0 rows)"` or `"line chart: series 'train' has 10 x values but 9 y values"`.
///
/// ```swift
/// do { _ = try Heatmap(values: []).render() } catch let e as PlotError { print(e.message) }
/// ```
public struct PlotError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The whole message, starting with the chart's name or the path.
    public let message: String

    /// An error with this message.
    ///
    /// ```swift
    /// throw PlotError("scatter plot: no points")
    /// ```
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
