import Foundation
import NeuroPlots

// One example of each chart type, with data shaped like what NeuroMap
// makes (grokking curves, attention patterns, the embedding circle, Fourier
// norms, a discovered circuit). The golden files are these charts rendered.
// The data is computed without randomness so it is the same on every run.

enum ChartExamples {
    /// Name and chart, one per chart type; the golden file is `<name>.svg`.
    static var all: [(String, Chart)] {
        [("line", line), ("heatmap", heatmap), ("circle", circle), ("bars", bars), ("circuit", circuit)]
    }

    /// A tiny deterministic pseudo-random sequence in [−1, 1].
    static func noise(_ i: Int, _ seed: Int = 0) -> Double {
        let x = sin(Double(i) * 12.9898 + Double(seed) * 78.233) * 43758.5453
        return (x - x.rounded(.down)) * 2 - 1
    }

    static var line: LineChart {
        let epochs = stride(from: 0, through: 25_000, by: 100).map(Double.init)
        let train = epochs.map { e in 4.7 * exp(-e / 300) + 1e-7 + 2e-3 * exp(-e / 4000) * (1 + 0.3 * noise(Int(e), 1)) }
        let test = epochs.map { e -> Double in
            let memorised = 4.7 * exp(-e / 300) + 9 * (1 - exp(-e / 600))
            let grokked = 1 / (1 + exp((e - 9400) / 700))
            return Swift.max(3e-7, memorised * grokked + 1e-6 * (1 + 0.2 * noise(Int(e), 2)))
        }
        return LineChart(title: "Training curves (p = 113)", xAxis: Axis("epoch"), yAxis: Axis("cross-entropy loss", scale: .log),
                         series: [.init("train", x: epochs, y: train), .init("test", x: epochs, y: test)],
                         markers: [.init(x: 1400, label: "memorisation"), .init(x: 9400, label: "cleanup")],
                         spans: [.init(from: 1400, to: 9400, label: "circuit formation")])
    }

    static var heatmap: Heatmap {
        let n = 12
        let panels = (0..<4).map { head -> Heatmap.Panel in
            let values = (0..<n).map { q in
                (0..<n).map { k -> Double in
                    switch head {
                    case 0: return k <= q ? 1 / Double(q + 1) : 0                        // uniform over the prefix
                    case 1: return k == Swift.max(0, q - 1) ? 0.9 : k <= q ? 0.1 / Double(q + 1) : 0   // previous token
                    case 2: return sin(Double(q * k) / 7) * 0.8                           // signed, for the diverging map
                    default: return k <= q ? -0.5 + Double(k) / Double(n) : 0
                    }
                }
            }
            return Heatmap.Panel("head \(head)", values: values)
        }
        return Heatmap(title: "Attention scores, layer 0", panels: panels, xLabel: "key position", yLabel: "query position",
                       valueLabel: "score")
    }

    static var circle: ScatterPlot {
        let p = 31
        let k = 7.0
        let a = (0..<p).map(Double.init)
        let x = a.map { cos(2 * .pi * k * $0 / Double(p)) * (1 + 0.05 * noise(Int($0), 3)) }
        let y = a.map { sin(2 * .pi * k * $0 / Double(p)) * (1 + 0.05 * noise(Int($0), 4)) }
        return ScatterPlot(title: "Embedding projected on cos/sin of k = 7", x: x, y: y, values: a,
                           labels: a.map { String(Int($0)) }, showLabels: true, equalAspect: true,
                           xAxis: Axis("cos direction"), yAxis: Axis("sin direction"), colorMap: .cyclic, valueLabel: "token a")
    }

    static var bars: GroupedBarChart {
        let frequencies = Array(1...56)
        let key: [Int: Double] = [14: 9.1, 35: 7.4, 41: 6.2, 42: 8.3, 52: 5.5]
        let cos = frequencies.map { key[$0].map { $0 * 0.9 } ?? 0.35 + 0.2 * noise($0, 5) }
        let sin = frequencies.map { key[$0].map { $0 * 0.8 } ?? 0.35 + 0.2 * noise($0, 6) }
        return GroupedBarChart(title: "Fourier components of W_E", groups: frequencies.map(String.init),
                               series: [.init("cos", values: cos), .init("sin", values: sin)],
                               xLabel: "frequency k", yAxis: Axis("norm"))
    }

    static let circuitJSON = """
    {"method": "acdc τ=0.01 patch", "metric": "logit_diff", "faithfulness": 0.97,
     "components": [
        {"name": "embed", "type": "embed", "layer": null, "head": null, "importance": null},
        {"name": "a0.0", "type": "head", "layer": 0, "head": 0, "importance": 0.82},
        {"name": "a0.1", "type": "head", "layer": 0, "head": 1, "importance": 0.41},
        {"name": "a0.3", "type": "head", "layer": 0, "head": 3, "importance": 0.12},
        {"name": "m0", "type": "mlp", "layer": 0, "head": null, "importance": 0.95},
        {"name": "a1.2", "type": "head", "layer": 1, "head": 2, "importance": 0.33},
        {"name": "m1", "type": "mlp", "layer": 1, "head": null, "importance": 0.27},
        {"name": "unembed", "type": "unembed", "layer": null, "head": null, "importance": null}],
     "edges": [
        {"source": "embed", "target": "a0.0", "input": "q", "weight": 0.31},
        {"source": "embed", "target": "a0.0", "input": "k", "weight": 0.22},
        {"source": "embed", "target": "a0.0", "input": "v", "weight": 0.9},
        {"source": "embed", "target": "a0.1", "input": "v", "weight": 0.45},
        {"source": "embed", "target": "a0.3", "input": "v", "weight": -0.12},
        {"source": "embed", "target": "m0", "input": null, "weight": 0.2},
        {"source": "a0.0", "target": "m0", "input": null, "weight": 0.8},
        {"source": "a0.1", "target": "m0", "input": null, "weight": 0.35},
        {"source": "a0.3", "target": "a1.2", "input": "k", "weight": 0.1},
        {"source": "m0", "target": "a1.2", "input": "v", "weight": 0.25},
        {"source": "m0", "target": "unembed", "input": null, "weight": 1.0},
        {"source": "a1.2", "target": "m1", "input": null, "weight": 0.3},
        {"source": "m1", "target": "unembed", "input": null, "weight": 0.28}]}
    """

    static var circuit: CircuitDiagram {
        (try? CircuitDiagram(json: circuitJSON)) ?? CircuitDiagram(nodes: [], edges: [])
    }
}
