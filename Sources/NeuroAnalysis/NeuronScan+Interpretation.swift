import NeuroEngine

/// Reading a scan as MechaMap's `interpret` does, and beyond: the top
/// neurons per category, how many pass in each layer, neurons that pass for
/// several categories, and how categories co-activate neurons.
extension NeuronScan {
    /// What neurons are ranked by.
    public enum Ranking: String, Sendable, CaseIterable {
        /// The mean over the category's occurrences.
        case mean
        /// The mean against the rest of the text, in standard deviations.
        case selectivity
    }

    /// The neurons whose mean over `category` reaches the threshold.
    public func passing(_ category: Int) -> [Int] {
        neurons.indices.filter { mean(neuron: $0, category: category) >= threshold }
    }

    /// The `count` neurons with the highest mean or selectivity for `category`
    /// (undefined selectivities left out), highest first.
    public func top(_ category: Int, by ranking: Ranking, count: Int) -> [Int] {
        let score = { (n: Int) -> Double in
            ranking == .mean ? self.mean(neuron: n, category: category) : self.selectivity(neuron: n, category: category)
        }
        let ranked = neurons.indices.filter { !score($0).isNaN }.sorted { a, b in
            let (x, y) = (score(a), score(b))
            return x != y ? x > y : a < b
        }
        return Array(ranked.prefix(max(0, count)))
    }

    /// The layers scanned, in order.
    public var layers: [Int] { Array(Set(neurons.map(\.layer))).sorted() }

    /// [layer][category]: how many of the layer's neurons pass for the category.
    public func pivot() -> [[Int]] {
        let layers = self.layers
        var counts = [[Int]](repeating: [Int](repeating: 0, count: categoryCount), count: layers.count)
        let row = Dictionary(uniqueKeysWithValues: layers.enumerated().map { ($1, $0) })
        for (n, neuron) in neurons.enumerated() {
            for c in 0..<categoryCount where mean(neuron: n, category: c) >= threshold {
                counts[row[neuron.layer] ?? 0][c] += 1
            }
        }
        return counts
    }

    /// Neurons that pass for two or more categories, with those categories, in neuron order.
    public func multiCategory() -> [(neuron: Int, categories: [Int])] {
        neurons.indices.compactMap { n in
            let passed = (0..<categoryCount).filter { mean(neuron: n, category: $0) >= threshold }
            return passed.count >= 2 ? (n, passed) : nil
        }
    }

    /// [category][category]: the Pearson correlation, over all neurons, of
    /// the categories' unthresholded means; NaN where a category's means do
    /// not vary.
    public func correlation() -> [[Double]] {
        let c = categoryCount, n = neurons.count
        let columns = (0..<c).map { category -> [Double] in
            let values = (0..<n).map { mean(neuron: $0, category: category) }
            let average = values.reduce(0, +) / Double(n)
            return values.map { $0 - average }
        }
        let norms = columns.map { $0.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        return (0..<c).map { a in
            (0..<c).map { b in
                guard norms[a] > 0, norms[b] > 0 else { return .nan }
                let dot = zip(columns[a], columns[b]).reduce(0) { $0 + $1.0 * $1.1 }
                return min(1, max(-1, dot / (norms[a] * norms[b])))
            }
        }
    }
}
