import Foundation
import NeuroEngine

/// An interactive page for a modular-arithmetic model's embeddings: W_E's
/// rows projected onto a frequency's cos/sin plane (at first the strongest
/// key frequency's, where a grokked model's circle shows) or to 2-D or 3-D
/// by PCA, beside the circle the Fourier algorithm expects (residue a at
/// angle 2πka/p), coloured by k·a mod p so a learned circle shows as a
/// rainbow in order. Hovering names the token; a slider steps through the
/// training checkpoints. The caller computes every number (projections,
/// key frequencies: the same rule as its Fourier analysis); they are
/// embedded as JSON, and the page's script only draws them (no CDN, no network).
///
/// ```swift
/// let html = Viewer.html(title: "grokking", p: 113, frequencies: frequencies, snapshots: snapshots)
/// ```
public enum Viewer {
    /// Most checkpoints to embed (evenly spaced, always with the last), so the page stays small.
    public static let maxSnapshots = 60
    /// Frequencies whose planes to offer (the key ones first, then the strongest others).
    public static let keyCount = 5

    /// One set of weights, projected: a checkpoint's or the current ones.
    public struct Snapshot {
        public var label: String
        /// Each residue's coordinates on the first two or three principal components: [p][components].
        public var pca: [[Double]]
        /// Each component's share of the variance.
        public var ratios: [Double]
        /// Each offered frequency's plane: every residue's (cos, sin) coordinates, [p][2].
        public var planes: [(frequency: Int, points: [[Double]])]

        public init(label: String, pca: [[Double]], ratios: [Double], planes: [(frequency: Int, points: [[Double]])]) {
            self.label = label
            self.pca = pca
            self.ratios = ratios
            self.planes = planes
        }
    }

    /// What the page says about frequencies, all found by the caller's one rule.
    public struct Frequencies {
        /// The frequencies whose planes are offered, in order.
        public var offered: [Int]
        /// Those that stand out (marked "key").
        public var key: [Int]
        /// One line on the key frequencies, and the basis they were read in.
        public var summary: String
        public var basis: String

        public init(offered: [Int], key: [Int], summary: String, basis: String) {
            self.offered = offered
            self.key = key
            self.summary = summary
            self.basis = basis
        }
    }

    /// The page for these snapshots of an embedding of the residues 0..<p.
    public static func html(title: String, p: Int, frequencies: Frequencies, snapshots: [Snapshot]) -> String {
        var previous: [[Double]]? = nil
        var entries: [String] = []
        for snapshot in snapshots {
            var projected = snapshot.pca
            if let previous { projected = aligned(projected, to: previous) }   // PCA's signs are arbitrary; keep them steady between frames
            previous = projected
            let planes = snapshot.planes.map { "\"\($0.frequency)\": " + json($0.points) }
            entries.append("{\"label\": \(jsonQuoted(snapshot.label)), \"pca\": \(json(projected)), "
                + "\"ratios\": \(json([snapshot.ratios])), \"planes\": {\(planes.joined(separator: ", "))}}")
        }
        let data = "{\"title\": \(jsonQuoted(title)), \"p\": \(p), \"keys\": [\(frequencies.offered.map(String.init).joined(separator: ", "))], "
            + "\"key_freqs\": [\(frequencies.key.map(String.init).joined(separator: ", "))], \"summary\": \(jsonQuoted(frequencies.summary)), "
            + "\"basis\": \(jsonQuoted(frequencies.basis)), \"default_projection\": \(jsonQuoted(defaultProjection(frequencies))), "
            + "\"snapshots\": [\n\(entries.joined(separator: ",\n"))]}"
        return page(title: title, data: data)
    }

    /// The view the page opens on: the cos/sin plane of the strongest key frequency, where a
    /// grokked model's circle shows (PCA's first components mix several frequencies and need
    /// not show it); the first two principal components when no frequency stands out.
    /// PCA stays in the page's projection menu.
    public static func defaultProjection(_ frequencies: Frequencies) -> String {
        guard let strongest = frequencies.key.first, frequencies.offered.contains(strongest) else { return "pca2" }
        return "plane\(strongest)"
    }

    // MARK: - Numbers

    /// The projection with each component's sign flipped where that agrees better with the previous frame.
    static func aligned(_ x: [[Double]], to previous: [[Double]]) -> [[Double]] {
        guard x.count == previous.count, let width = x.first?.count else { return x }
        let signs = (0..<width).map { j -> Double in
            let dot = zip(x, previous).reduce(0) { $0 + $1.0[j] * (j < $1.1.count ? $1.1[j] : 0) }
            return dot < 0 ? -1 : 1
        }
        return x.map { row in zip(row, signs).map { $0 * $1 } }
    }

    /// Numbers as JSON arrays, rounded to 5 significant digits to keep the page small.
    static func json(_ rows: [[Double]]) -> String {
        "[" + rows.map { "[" + $0.map { $0.isFinite ? String(format: "%.5g", $0) : "null" }.joined(separator: ",") + "]" }.joined(separator: ",") + "]"
    }

    // MARK: - The page

    static func page(title: String, data: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(Report.escape(title))</title>
        <style>
        body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:1.5em;color:#222}
        .controls{display:flex;flex-wrap:wrap;gap:1em;align-items:center;margin-bottom:1em}
        .panels{display:flex;flex-wrap:wrap;gap:1.5em}.panel h2{font-size:1em;margin:.2em 0}
        svg{border:1px solid #ddd;background:#fff;touch-action:none}#status{color:#555;min-height:1.4em}
        #error{color:#b00}
        </style>
        </head>
        <body data-ready="no">
        <h1>\(Report.escape(title))</h1>
        <div class="controls">
        <label>checkpoint <input type="range" id="frame" min="0" value="0"> <select id="frames"></select></label>
        <label>projection <select id="projection"></select></label>
        <label>frequency k <select id="freq"></select></label>
        </div>
        <div id="keys"></div>
        <div id="status">hover a point to see its token</div>
        <div class="panels">
        <div class="panel"><h2 id="expected-title">expected</h2><svg id="expected" width="420" height="420" viewBox="-1.15 -1.15 2.3 2.3"></svg></div>
        <div class="panel"><h2 id="learned-title">learned</h2><svg id="learned" width="420" height="420" viewBox="-1.15 -1.15 2.3 2.3"></svg></div>
        </div>
        <p id="error"></p>
        <script id="data" type="application/json">\(data.replacingOccurrences(of: "</", with: "<\\/"))</script>
        <script>
        \(script)
        </script>
        </body>
        </html>

        """
    }

    /// Draws the panels from the embedded JSON; writes any error into the page (so tests and users see it).
    static let script = #"""
    "use strict";
    window.onerror = function (message) { document.getElementById("error").textContent = "error: " + message; document.body.dataset.ready = "error"; };
    const data = JSON.parse(document.getElementById("data").textContent);
    const p = data.p, NS = "http://www.w3.org/2000/svg";
    const $ = (id) => document.getElementById(id);
    let yaw = 0.6, pitch = 0.4;
    function option(select, value, text) { const o = document.createElement("option"); o.value = value; o.textContent = text; select.appendChild(o); }
    data.snapshots.forEach((s, i) => option($("frames"), i, s.label));
    $("frame").max = data.snapshots.length - 1;
    $("frame").value = data.snapshots.length - 1;
    $("frames").value = data.snapshots.length - 1;
    option($("projection"), "pca2", "PCA, 2-D");
    if (data.snapshots[0].pca[0].length >= 3) option($("projection"), "pca3", "PCA, 3-D (drag to turn)");
    const isKey = (k) => data.key_freqs.indexOf(k) >= 0;
    data.keys.forEach((k) => option($("projection"), "plane" + k, "cos/sin plane of k = " + k + (isKey(k) ? " (key)" : "")));
    data.keys.forEach((k) => option($("freq"), k, String(k) + (isKey(k) ? " (key)" : "")));
    $("keys").textContent = "now, in the basis " + data.basis + ": " + data.summary;
    $("projection").value = data.default_projection;
    if (data.default_projection.startsWith("plane")) $("freq").value = data.default_projection.slice(5);
    function colour(a, k) { return "hsl(" + Math.round(360 * ((k * a) % p) / p) + ",75%,50%)"; }
    function fit(points) {
      const cx = points.reduce((s, q) => s + q[0], 0) / points.length, cy = points.reduce((s, q) => s + q[1], 0) / points.length;
      let m = 0; points.forEach((q) => { m = Math.max(m, Math.abs(q[0] - cx), Math.abs(q[1] - cy)); });
      return points.map((q) => [m > 0 ? (q[0] - cx) / m : 0, m > 0 ? -(q[1] - cy) / m : 0]);
    }
    function turn(points) {
      const cy = Math.cos(yaw), sy = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
      return points.map((q) => { const x = q[0] * cy + q[2] * sy, z = -q[0] * sy + q[2] * cy; return [x, q[1] * cp - z * sp]; });
    }
    function draw(svg, points, k) {
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      fit(points).forEach((q, a) => {
        const c = document.createElementNS(NS, "circle");
        c.setAttribute("cx", q[0]); c.setAttribute("cy", q[1]); c.setAttribute("r", 0.035);
        c.setAttribute("fill", colour(a, k)); c.setAttribute("data-token", a);
        const t = document.createElementNS(NS, "title"); t.textContent = "token " + a + " · residue " + a + " · k·a mod p = " + ((k * a) % p);
        c.appendChild(t);
        c.addEventListener("mouseover", () => { $("status").textContent = t.textContent; });
        svg.appendChild(c);
      });
    }
    function render() {
      const snapshot = data.snapshots[Number($("frame").value)];
      const k = Number($("freq").value), projection = $("projection").value;
      const expected = []; for (let a = 0; a < p; a++) { const angle = 2 * Math.PI * k * a / p; expected.push([Math.cos(angle), Math.sin(angle)]); }
      draw($("expected"), expected, k);
      $("expected-title").textContent = "expected: residue a at angle 2π·" + k + "·a/" + p;
      let learned, name;
      if (projection.startsWith("plane")) { learned = snapshot.planes[projection.slice(5)]; name = "W_E on the cos/sin plane of k = " + projection.slice(5); }
      else if (projection === "pca3") { learned = turn(snapshot.pca); name = "W_E, first three principal components"; }
      else { learned = snapshot.pca; name = "W_E, first two principal components"; }
      const shares = snapshot.ratios[0].slice(0, projection === "pca3" ? 3 : 2).map((r) => (100 * r).toFixed(1) + "%").join(" + ");
      draw($("learned"), learned, k);
      $("learned-title").textContent = "learned (" + snapshot.label + "): " + name + (projection.startsWith("pca") ? " (" + shares + " of the variance)" : "");
    }
    $("frame").addEventListener("input", () => { $("frames").value = $("frame").value; render(); });
    $("frames").addEventListener("change", () => { $("frame").value = $("frames").value; render(); });
    $("projection").addEventListener("change", render);
    $("freq").addEventListener("change", render);
    let dragging = null;
    $("learned").addEventListener("pointerdown", (e) => { dragging = [e.clientX, e.clientY]; });
    window.addEventListener("pointerup", () => { dragging = null; });
    window.addEventListener("pointermove", (e) => {
      if (!dragging || $("projection").value !== "pca3") return;
      yaw += (e.clientX - dragging[0]) * 0.01; pitch += (e.clientY - dragging[1]) * 0.01; dragging = [e.clientX, e.clientY]; render();
    });
    render();
    if (document.body.dataset.ready === "no") document.body.dataset.ready = "ok";
    """#
}
