import Foundation
import NeuroEngine
import NeuroModels

/// The session as one self-contained HTML page: the models' configuration,
/// then every result in the order it was made, each with its printed
/// summary and its picture as inline SVG. Only inline CSS, no scripts, no
/// fonts or anything else fetched from the network, so it opens offline in
/// any browser.
///
/// ```swift
/// let html = Report.html(interpreter.session, title: "grokking")
/// ```
enum Report {
    /// The page for the session's results so far.
    static func html(_ session: Session, title: String) -> String {
        var body = ["<h1>\(escape(title))</h1>",
                    "<p class=\"meta\">\(session.results.count) result\(session.results.count == 1 ? "" : "s") · made by NeuroMap</p>"]
        body.append(modelsSection(session))
        if !session.results.isEmpty {
            let entries = session.results.enumerated().map { i, result in
                "<li><a href=\"#result-\(i + 1)\">\(escape(heading(result)))</a></li>"
            }
            body.append("<nav><h2>Contents</h2><ol>\(entries.joined())</ol></nav>")
        }
        for (i, result) in session.results.enumerated() {
            body.append(section(result, number: i + 1))
        }
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>\(style)</style>
        </head>
        <body>
        \(body.joined(separator: "\n"))
        </body>
        </html>

        """
    }

    /// What a result is, for its heading: `fourier`, `training`, `intervention`.
    static func heading(_ result: NativeObject) -> String {
        switch result {
        case let r as ResultValue: return headings[r.kind] ?? r.kind
        case is TrainingObject: return "training"
        case let i as InterventionObject: return i.result.kind.rawValue + " " + i.result.point.name
        default: return result.typeName
        }
    }

    /// Headings of result kinds whose name is terse.
    static let headings = ["fourier": "Fourier analysis", "progress": "progress measures", "sweep": "activation patching",
                           "attribution": "attribution patching", "path_patch": "path patching", "pc_ablation": "principal-component ablation",
                           "pca": "PCA", "grid": "neuron activations", "correlation": "neuron correlation"]

    /// One result: heading, printed summary and picture (or why it has none).
    static func section(_ result: NativeObject, number: Int) -> String {
        let kind = (result as? ResultValue)?.kind ?? result.typeName
        var parts = ["<section class=\"result\" id=\"result-\(number)\" data-kind=\"\(escape(kind))\">",
                     "<h2>\(number). \(escape(heading(result)))</h2>",
                     "<pre>\(escape(result.summary))</pre>"]
        do {
            let figure = try Figure.of(.object(result))
            parts.append("<figure>\(inline(try figure.svg(), prefix: "r\(number)-"))</figure>")
        } catch {
            parts.append("<p class=\"note\">No picture: \(escape(String(describing: error)))</p>")
        }
        parts.append("</section>")
        return parts.joined(separator: "\n")
    }

    /// Each distinct model's configuration: the current one and every one trained.
    static func modelsSection(_ session: Session) -> String {
        var models: [HookedTransformer] = []
        let candidates = [session.model?.model] + session.results.map { ($0 as? TrainingObject)?.trainer.model }
        for case let model? in candidates where !models.contains(where: { $0 === model }) { models.append(model) }
        guard !models.isEmpty else { return "<section id=\"models\"><h2>Models</h2><p class=\"note\">No model in this session.</p></section>" }
        let tables = models.enumerated().map { i, model -> String in
            let rows = ModelObject.configRecord(model.config).pairs.map { key, value in
                "<tr><th>\(escape(key))</th><td>\(escape(Formatter.printed(value)))</td></tr>"
            }
            return "<h3>Model \(i + 1)</h3><pre>\(escape(ModelObject(model).summary))</pre><table class=\"config\">\(rows.joined())</table>"
        }
        return "<section id=\"models\"><h2>Models</h2>\(tables.joined(separator: "\n"))</section>"
    }

    /// An SVG ready to sit inside HTML: without the XML declaration or the
    /// namespace (HTML knows `<svg>`; the page then names no URL at all), its
    /// ids prefixed so that several pictures on one page do not share them.
    static func inline(_ svg: String, prefix: String) -> String {
        Figure.nestable(svg, prefix: prefix).replacingOccurrences(of: " xmlns=\"http://www.w3.org/2000/svg\"", with: "")
    }

    /// Text safe inside HTML elements and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    static let style = """
    body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.4}
    h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
    pre{background:#f6f8fa;padding:.8em;overflow-x:auto;font-size:.85em;border-radius:4px}
    .meta,.note{color:#666}figure{margin:1em 0}figure svg{max-width:100%;height:auto}
    table.config{border-collapse:collapse;font-size:.9em}table.config th,table.config td{border:1px solid #ddd;padding:.2em .6em;text-align:left}
    nav ol{columns:2}
    """
}
