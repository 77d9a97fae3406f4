import Foundation
import NeuroEngine
import NeuroModels
import NeuroAnalysis

/// An interactive page for a modular-arithmetic model's embeddings: W_E's
/// rows projected to 2-D or 3-D by PCA (or onto a key frequency's cos/sin
/// plane), beside the circle the Fourier algorithm expects (residue a at
/// angle 2πka/p), coloured by k·a mod p so a learned circle shows as a
/// rainbow in order. Hovering names the token; a slider steps through the
/// training checkpoints. The projections are computed here and embedded
/// as JSON; the page's script only draws them (no CDN, no network).
///
/// ```swift
/// let html = try Viewer.html(model: model, p: 113, title: "grokking")
/// ```
enum Viewer {
    /// Most checkpoints embedded (evenly spaced, always with the last), so the page stays small.
    static let maxSnapshots = 60
    /// Frequencies whose planes are offered (the key ones first, then the strongest others).
    static let keyCount = 5

    /// One set of weights to project: a checkpoint's or the current ones.
    struct Snapshot {
        let label: String
        let embedding: Tensor   // [p, d_model]
    }

    /// The page for a model's embedding of the residues 0..<p.
    static func html(model: ModelObject, p: Int, title: String) throws -> String {
        guard let current = model.model.parameter("embed.W_E")?.detached() else { throw RuntimeError("the model has no embedding W_E") }
        guard p >= 3, p <= current.shape[0] else {
            throw RuntimeError("p = \(p) does not fit the embedding's \(current.shape[0]) rows (give p: between 3 and \(current.shape[0]))")
        }
        var snapshots: [Snapshot] = []
        if let checkpoints = model.trainer?.checkpoints, !checkpoints.isEmpty {
            let step = max(1, (checkpoints.count + maxSnapshots - 1) / maxSnapshots)
            var picked = Array(stride(from: 0, to: checkpoints.count, by: step))
            if picked.last != checkpoints.count - 1 { picked.append(checkpoints.count - 1) }
            for i in picked {
                if let w = checkpoints[i].weights.first(where: { $0.0 == "embed.W_E" })?.1 {
                    snapshots.append(Snapshot(label: "epoch \(checkpoints[i].epoch)", embedding: try w.slice(axis: 0, start: 0, end: p)))
                }
            }
        }
        let epoch = model.trainer?.epoch ?? 0
        snapshots.append(Snapshot(label: epoch > 0 ? "now (epoch \(epoch))" : "now", embedding: try current.slice(axis: 0, start: 0, end: p)))
        // The one key-frequency rule (FourierSpectrum.keyFrequencies), on the additive basis the page draws.
        let spectrum = try FourierSpectrum(snapshots[snapshots.count - 1].embedding, basis: FourierBasis(p: p))
        let found = spectrum.keyFrequencies()
        let keys = offered(spectrum)
        var previous: [[Double]]? = nil
        var entries: [String] = []
        for snapshot in snapshots {
            let pca = try ActivationPCA(snapshot.embedding.cast(to: .float64), components: min(3, p, snapshot.embedding.shape[1]))
            var projected = try rows(pca.projected)
            if let previous { projected = aligned(projected, to: previous) }   // PCA's signs are arbitrary; keep them steady between frames
            previous = projected
            let w = try rows(snapshot.embedding)
            let planes = keys.map { k in "\"\(k)\": " + json(plane(w, k: k, p: p)) }
            entries.append("{\"label\": \(jsonQuoted(snapshot.label)), \"pca\": \(json(projected)), "
                + "\"ratios\": \(json([pca.ratios])), \"planes\": {\(planes.joined(separator: ", "))}}")
        }
        let data = "{\"title\": \(jsonQuoted(title)), \"p\": \(p), \"keys\": [\(keys.map(String.init).joined(separator: ", "))], "
            + "\"key_freqs\": [\(found.frequencies.map(String.init).joined(separator: ", "))], \"summary\": \(jsonQuoted(found.summary)), "
            + "\"snapshots\": [\n\(entries.joined(separator: ",\n"))]}"
        return page(title: title, data: data)
    }

    // MARK: - Numbers

    static func rows(_ t: Tensor) throws -> [[Double]] {
        let values = try t.cast(to: .float64).toDoubles()
        let columns = t.rank == 2 ? t.shape[1] : 1
        return Figure.grid(values, rows: values.count / max(columns, 1), columns: columns)
    }

    /// The key frequencies of the embedding `w` (row a is residue a), by the
    /// one rule (`FourierSpectrum.keyFrequencies`); empty when none stands out.
    static func keyFrequencies(_ w: [[Double]], p: Int) -> [Int] {
        guard let d = w.first?.count, w.count == p,
              let spectrum = try? FourierSpectrum(Tensor(float64: w.flatMap { $0 }, shape: [p, d]), basis: FourierBasis(p: p)) else { return [] }
        return spectrum.keyFrequencies().frequencies
    }

    /// The frequencies whose planes the page offers: the key frequencies,
    /// then the strongest others, up to `keyCount`, strongest first; the page
    /// marks which are key.
    static func offered(_ spectrum: FourierSpectrum) -> [Int] {
        let key = spectrum.keyFrequencies().frequencies
        return Array((key + spectrum.ranked.filter { !key.contains($0) }).prefix(max(keyCount, key.count)))
    }

    /// Σ_a cos(2πka/p)·w[a] and Σ_a sin(2πka/p)·w[a].
    static func directions(_ w: [[Double]], k: Int, p: Int) -> ([Double], [Double]) {
        let d = w.first?.count ?? 0
        var c = [Double](repeating: 0, count: d), s = [Double](repeating: 0, count: d)
        for (a, row) in w.enumerated() {
            let angle = 2 * Double.pi * Double(k * a % p) / Double(p)
            let (ca, sa) = (Foundation.cos(angle), Foundation.sin(angle))
            for j in 0..<d {
                c[j] += ca * row[j]
                s[j] += sa * row[j]
            }
        }
        return (c, s)
    }

    /// Each row projected on the unit cos-k and sin-k directions: [p, 2].
    static func plane(_ w: [[Double]], k: Int, p: Int) -> [[Double]] {
        let (c, s) = directions(w, k: k, p: p)
        func unit(_ v: [Double]) -> [Double] {
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return norm > 0 ? v.map { $0 / norm } : v
        }
        let (u, v) = (unit(c), unit(s))
        return w.map { row in [zip(row, u).reduce(0) { $0 + $1.0 * $1.1 }, zip(row, v).reduce(0) { $0 + $1.0 * $1.1 }] }
    }

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
    $("keys").textContent = "now, in the additive basis: " + data.summary;
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
