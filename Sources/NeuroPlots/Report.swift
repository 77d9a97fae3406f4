import Foundation

/// A session as one self-contained HTML page: the models' configuration,
/// then every result in the order it was made, each with its printed
/// summary and its picture as inline SVG. Only inline CSS, no scripts, no
/// fonts or anything else fetched from the network, so it opens offline in
/// any browser. The caller says what each result is; the page lays it out.
///
/// ```swift
/// let html = Report.html(title: "grokking", models: [.init(summary: "transformer …", config: [("d_model", "128")])],
///                        entries: [.init(kind: "fourier", heading: "Fourier analysis", summary: text, figure: figure)])
/// ```
public enum Report {
    /// One result: what it is, its printed summary, and its picture (or why it has none).
    public struct Entry {
        /// A short name of its kind (`fourier`, `training`), as the section's `data-kind`.
        public var kind: String
        public var heading: String
        public var summary: String
        /// The picture; nil when there is none, and `note` says why.
        public var figure: Figure?
        public var note: String
        /// The source text of the command that made it, shown above its summary; empty when not known.
        public var command: String

        public init(kind: String, heading: String, summary: String, figure: Figure?, note: String = "", command: String = "") {
            self.kind = kind
            self.heading = heading
            self.summary = summary
            self.figure = figure
            self.note = note
            self.command = command
        }
    }

    /// One model: its printed summary and its configuration, key by key.
    public struct ModelTable {
        public var summary: String
        public var config: [(key: String, value: String)]

        public init(summary: String, config: [(key: String, value: String)]) {
            self.summary = summary
            self.config = config
        }
    }

    /// The page for these models and results.
    public static func html(title: String, models: [ModelTable], entries: [Entry]) -> String {
        var body = ["<h1>\(escape(title))</h1>",
                    "<p class=\"meta\">\(entries.count) result\(entries.count == 1 ? "" : "s") · made by NeuroMap</p>"]
        body.append(modelsSection(models))
        if !entries.isEmpty {
            let items = entries.enumerated().map { i, entry in
                "<li><a href=\"#result-\(i + 1)\">\(escape(entry.heading))</a></li>"
            }
            body.append("<nav><h2>Contents</h2><ol>\(items.joined())</ol></nav>")
        }
        for (i, entry) in entries.enumerated() {
            body.append(section(entry, number: i + 1))
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

    /// One result: heading, the command that made it, printed summary and picture (or why it has none).
    static func section(_ entry: Entry, number: Int) -> String {
        var parts = ["<section class=\"result\" id=\"result-\(number)\" data-kind=\"\(escape(entry.kind))\">",
                     "<h2>\(number). \(escape(entry.heading))</h2>"]
        if !entry.command.isEmpty { parts.append("<pre class=\"command\">\(escape(entry.command))</pre>") }
        parts.append("<pre>\(escape(entry.summary))</pre>")
        do {
            if let figure = entry.figure {
                parts.append("<figure>\(inline(try figure.drawing(), prefix: "r\(number)-"))</figure>")
            } else {
                parts.append("<p class=\"note\">No picture: \(escape(entry.note))</p>")
            }
        } catch {
            parts.append("<p class=\"note\">No picture: \(escape(String(describing: error)))</p>")
        }
        parts.append("</section>")
        return parts.joined(separator: "\n")
    }

    /// Each distinct model's configuration.
    static func modelsSection(_ models: [ModelTable]) -> String {
        guard !models.isEmpty else { return "<section id=\"models\"><h2>Models</h2><p class=\"note\">No model in this session.</p></section>" }
        let tables = models.enumerated().map { i, model -> String in
            let rows = model.config.map { key, value in
                "<tr><th>\(escape(key))</th><td>\(escape(value))</td></tr>"
            }
            return "<h3>Model \(i + 1)</h3><pre>\(escape(model.summary))</pre><table class=\"config\">\(rows.joined())</table>"
        }
        return "<section id=\"models\"><h2>Models</h2>\(tables.joined(separator: "\n"))</section>"
    }

    /// A drawing ready to sit inside HTML: without the XML declaration or the
    /// namespace (HTML knows `<svg>`; the page then names no URL at all), its
    /// ids namespaced so that several pictures on one page do not share them.
    static func inline(_ drawing: SVG, prefix: String) -> String {
        var text = drawing.render(idPrefix: prefix, standalone: false)
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    /// Text safe inside HTML elements and attribute values.
    public static func escape(_ text: String) -> String {
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
    pre.command{background:#eef3f8;border-left:3px solid #0072b2;font-weight:600}pre.command::before{content:"nmap> ";color:#888;font-weight:400}
    """
}
