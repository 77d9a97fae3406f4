import Foundation
import NeuroAnalysis
import NeuroEngine
import NeuroLanguage
import NeuroModels
import NeuroPlots

/// A scan as the language shows it: a table per category, fields for every
/// number, MechaMap's CSV and a JSON file, and a picture.
extension Builtins {
    /// How many neurons a scan lists per category in its fields and picture.
    static let scanShown = 5

    static func scanResult(_ scan: NeuronScan, input: ScanInput, settings: ScanSettings) -> ResultValue {
        let categories = scan.categories, c = scan.categoryCount
        let layers = input.layers, perLayer = scan.neurons.count / max(1, layers.count)
        let occurrences = scan.text.occurrences
        func neuronRecord(_ n: Int, _ category: Int?) -> Value {
            let neuron = scan.neurons[n]
            var pairs: [(String, Value)] = [("layer", .number(Double(neuron.layer))), ("neuron", .number(Double(neuron.index)))]
            if let category {
                pairs += [("mean", .number(scan.mean(neuron: n, category: category))),
                          ("selectivity", .number(scan.selectivity(neuron: n, category: category)))]
            }
            pairs.append(("top_tokens", .list(scan.topTokens[n].map { .list([.string($0.token), .number($0.activation)]) })))
            return .record(Record(pairs))
        }
        func byCategory(_ ranking: NeuronScan.Ranking) -> Value {
            .record(Record(categories.indices.map { category in
                (categories[category], .list(scan.top(category, by: ranking, count: scanShown).map { neuronRecord($0, category) }))
            }))
        }
        func grid(_ values: [Double], _ shape: [Int]) -> Value {
            (try? Tensor(float64: values, shape: shape)).map(Value.tensor) ?? .none
        }
        let pivot = scan.pivot()
        let correlation = scan.correlation()
        let fields: [(String, Value)] = [
            ("model", .string(input.modelName)),
            ("site", .string(input.site.languageName)),
            ("layers", numbers(layers)),
            ("neurons_per_layer", .number(Double(perLayer))),
            ("tokens", .number(Double(scan.text.tokens.count))),
            ("categories", .list(categories.map(Value.string))),
            ("words", .record(Record((settings.categories ?? []).map { ($0.name, .list($0.entries.map(Value.string))) }))),
            ("threshold", .number(scan.threshold)),
            ("occurrences", .record(Record(categories.indices.map { (categories[$0], .number(Double(occurrences[$0]))) }))),
            ("missing", .record(Record(categories.indices.map { (categories[$0], .list(scan.text.missing[$0].map(Value.string))) }))),
            ("means", grid(scan.means, [layers.count, perLayer, c])),
            ("selectivity", grid(scan.selectivity, [layers.count, perLayer, c])),
            ("top", byCategory(.selectivity)),
            ("top_by_mean", byCategory(.mean)),
            ("passing", .record(Record(categories.indices.map { (categories[$0], .number(Double(scan.chance[$0].passing))) }))),
            ("chance", .record(Record(categories.indices.map { category in
                let chance = scan.chance[category]
                return (categories[category], .record(Record([("passing", .number(Double(chance.passing))),
                                                               ("by_chance", .number(chance.byChance)), ("p", .number(chance.p))])))
            }))),
            ("pivot", grid(pivot.flatMap { $0.map(Double.init) }, [layers.count, c])),
            ("multi_category", .list(scan.multiCategory().map { n, passed in
                let neuron = scan.neurons[n]
                return .record(Record([("layer", .number(Double(neuron.layer))), ("neuron", .number(Double(neuron.index))),
                                       ("categories", .list(passed.map { .string(categories[$0]) }))]))
            })),
            ("correlation", grid(correlation.flatMap { $0 }, [c, c])),
        ]
        let rows = categories.indices.map { category -> [String] in
            let chance = scan.chance[category]
            var row = [categories[category], String(occurrences[category]), String(chance.passing),
                       chance.byChance.isNaN ? "—" : Formatter.number(chance.byChance)]
            if let best = scan.top(category, by: .selectivity, count: 1).first {
                row += [scan.neurons[best].label, Formatter.number(scan.selectivity(neuron: best, category: category)),
                        Formatter.number(scan.mean(neuron: best, category: category)),
                        scan.topTokens[best].prefix(3).map(\.token).joined(separator: " ")]
            } else {
                row += ["—", "undefined", "—", ""]
            }
            return row
        }
        let total = scan.neurons.count
        let title = "neuron scan of \(input.modelName): \(total) neurons (\(layers.count) layer\(layers.count == 1 ? "" : "s") × \(perLayer) "
            + "\(input.site.languageName)) over \(scan.text.tokens.count) tokens in \(input.windows) row\(input.windows == 1 ? "" : "s") · "
            + "threshold \(Formatter.number(scan.threshold)) · \(scan.permutations) permutations"
        let result = ResultValue(heading: "Neuron scan", figure: Figure.scan, kind: "scan", title: title, fields: fields,
                                 header: ["category", "occurrences", "passing", "by chance", "most selective", "selectivity (sd)", "its mean",
                                          "its top tokens"],
                                 rows: rows, mainTensor: try? Tensor(float64: scan.means, shape: [layers.count, perLayer, c]))
        let config = settings.json(site: input.site.languageName)
        result.textFormats = [
            "csv": { scan.csv(model: input.modelName) },
            "json": { scan.json(model: input.modelName, config: config) },
        ]
        return result
    }
}

// MARK: - Picture

extension Figure {
    /// A scan: passing neurons per layer and category, then each category's
    /// most selective neurons.
    static func scan(_ r: ResultValue) throws -> Figure {
        let categories = r.strings("categories"), layers = try r.doubles("layers").map { Int($0) }
        let pivot = try r.doubles("pivot")
        let heatmap = heatmap(title: "neurons whose mean reaches the threshold, by layer and category",
                              facets: [.init(title: "", values: grid(pivot, rows: layers.count, columns: categories.count))],
                              rowLabels: layers.map { "layer \($0)" }, columnLabels: categories, xLabel: "category", yLabel: "layer")
        guard case .record(let top)? = r.fields["top"] else { return Figure(title: r.title, panels: [.heatmap(heatmap)]) }
        let bars = top.pairs.compactMap { category, value -> Panel? in
            guard case .list(let neurons) = value, !neurons.isEmpty else { return nil }
            var labels: [String] = [], scores: [Double] = []
            for case .record(let neuron) in neurons {
                guard case .number(let layer)? = neuron["layer"], case .number(let index)? = neuron["neuron"],
                      case .number(let score)? = neuron["selectivity"] else { continue }
                labels.append("L\(Int(layer)).N\(Int(index))")
                scores.append(score)
            }
            return .bars(BarPanel(title: "\(category): most selective neurons", xLabel: "neuron", yLabel: "selectivity (sd)",
                                  categories: labels, groups: [.init(name: category, values: scores)]))
        }
        return Figure(title: r.title, panels: [.heatmap(heatmap)] + bars)
    }
}
