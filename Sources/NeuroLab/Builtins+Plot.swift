import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroModels
import NeuroAnalysis
import NeuroPlots

/// Built-ins for pictures: `plot` (SVG files and terminal sketches),
/// `report` (the session as one HTML page) and `view` (an interactive
/// page of a model's embeddings); pictures of one's own numbers are in
/// `Builtins+Pictures.swift`.
///
/// ```
/// plot model.history                     # a sketch in the terminal
/// plot fourier(model) to "fourier.svg"   # the file, and the sketch
/// report("grokking.html")
/// view model to "viewer.html"
/// ```
extension Builtins {
    static var plotting: [Builtin] { [plot, report, view, viewer] + pictures }

    static let plot = Builtin(
        "plot", "plot(value, to: \"x.svg\", colour: true, title: \"…\", x: \"…\", y: \"…\", labels: […], legend: true)",
        "draw a tensor, training run, analysis result or figure: a sketch in the terminal, and with 'to' an SVG file; title, axis titles (x: and y:, or xlabel: and ylabel:), series names and legend as given",
        parameters: ["value", "to", "colour", "title", "x", "y", "xlabel", "ylabel", "labels", "legend"], effects: .files
    ) { args in
        let value = try args.required(0, "value")
        let style = try figureStyle(args)
        let figure = try naming(args) { try Figure.of(value).styled(style) }
        let colour = try args.bool(nil, "colour", default: Sketch.terminalHasColour)
        args.interpreter.output(Sketch.render(figure, colour: colour))
        if args.value(1, "to") != nil {
            let path = try svgPath(args, index: 1)
            try write(try naming(args) { try figure.svg() }, to: path, args)
            args.interpreter.output("wrote \(path)")
        }
        return .none
    }

    static let report = Builtin(
        "report", "report(\"report.html\", title: \"NeuroMap report\")",
        "write every result of the session so far, in order, with its summary and picture, as one self-contained HTML page",
        parameters: ["to", "title"], effects: .files
    ) { args in
        let path = try htmlPath(args)
        let session = args.interpreter.session
        let title = try args.string(nil, "title", default: "NeuroMap report")
        try write(Report.html(session, title: title), to: path, args)
        args.interpreter.output("wrote a report of \(session.results.count) result\(session.results.count == 1 ? "" : "s") to \(path)")
        return .none
    }

    static let view = viewerBuiltin("view")
    static let viewer = viewerBuiltin("viewer")

    /// `view` and its synonym `viewer`.
    static func viewerBuiltin(_ name: String) -> Builtin {
        Builtin(name, "\(name)(model, to: \"viewer.html\", p: 113)",
                "an interactive HTML page of the model's embeddings: the strongest key frequency's cos/sin plane (or PCA in 2-D or 3-D) beside the expected circle, per checkpoint",
                parameters: ["model", "to", "p", "title"], effects: .files) { args in
            let (model, p) = try modularTarget(args)
            let path = try htmlPath(args, index: 1)
            let title = try args.string(nil, "title", default: "W_E of a modular-arithmetic model (p = \(p))")
            let html = try naming(args) { try viewerPage(model, p: p, title: title, args) }
            try write(html, to: path, args)
            args.interpreter.output("wrote \(path)")
            return .none
        }
    }

    /// The viewer's numbers, from the analysis layer: the key frequencies by
    /// the analysis `fourier` runs (same structure, same rule), each
    /// snapshot's PCA and frequency planes.
    static func viewerPage(_ model: ModelObject, p: Int, title: String, _ args: CallArguments) throws -> String {
        guard let current = model.model.parameter("embed.W_E")?.detached() else { throw RuntimeError("the model has no embedding W_E") }
        guard p >= 3, p <= current.shape[0] else {
            throw RuntimeError("p = \(p) does not fit the embedding's \(current.shape[0]) rows (give p: between 3 and \(current.shape[0]))")
        }
        let structure = try fourierStructure(args, p: p)
        let analysis = try FourierAnalysis(model: model.model, structure: structure)
        let offered = analysis.offeredFrequencies(count: Viewer.keyCount)
        var embeddings: [(label: String, weights: Tensor)] = []
        if let checkpoints = model.trainer?.checkpoints, !checkpoints.isEmpty {
            let step = max(1, (checkpoints.count + Viewer.maxSnapshots - 1) / Viewer.maxSnapshots)
            var picked = Array(stride(from: 0, to: checkpoints.count, by: step))
            if picked.last != checkpoints.count - 1 { picked.append(checkpoints.count - 1) }
            for i in picked {
                if let w = checkpoints[i].weights.first(where: { $0.0 == "embed.W_E" })?.1 {
                    embeddings.append(("epoch \(checkpoints[i].epoch)", w))
                }
            }
        }
        let epoch = model.trainer?.epoch ?? 0
        embeddings.append((epoch > 0 ? "now (epoch \(epoch))" : "now", current))
        let snapshots = try embeddings.map { label, weights -> Viewer.Snapshot in
            let projection = try EmbeddingProjection(weights, structure: structure, frequencies: offered)
            return Viewer.Snapshot(label: label, pca: projection.pca, ratios: projection.ratios, planes: projection.planes)
        }
        let frequencies = Viewer.Frequencies(offered: offered, key: analysis.key.frequencies, summary: analysis.key.summary,
                                             basis: structure.basisDescription)
        return Viewer.html(title: title, p: p, frequencies: frequencies, snapshots: snapshots)
    }

    // MARK: - Helpers

    /// Runs picture code; its errors (engine errors, and runtime errors
    /// not yet placed in the source) name the built-in and point at the call.
    static func naming<T>(_ args: CallArguments, _ body: () throws -> T) throws -> T {
        do {
            return try args.engine(body)
        } catch let failure as RuntimeError where failure.range == nil {
            throw args.error(failure.message)
        } catch let failure as PlotError {
            throw args.error(failure.message)
        }
    }

    /// The `.html` path of `report` and `view`, positional or after `to`.
    static func htmlPath(_ args: CallArguments, index: Int = 0) throws -> String {
        let path = try args.path(index, "to")
        guard ["html", "htm"].contains((path as NSString).pathExtension.lowercased()) else {
            throw args.error("writes an HTML page; name the file with .html, not '\(path)'")
        }
        return path
    }

    /// Writes text atomically; errors name the function.
    static func write(_ text: String, to path: String, _ args: CallArguments) throws {
        do {
            try writeAtomically(Array(text.utf8), to: path)
        } catch let failure as EngineError {
            throw args.error(failure.message)
        }
    }
}
