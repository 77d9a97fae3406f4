import Foundation
import NeuroEngine
import NeuroModels

/// One neuron a scan reads: its layer and its index in that layer's hook.
public struct ScanNeuron: Hashable, Sendable {
    public let layer: Int
    public let index: Int

    public init(layer: Int, index: Int) {
        self.layer = layer
        self.index = index
    }

    /// `L3.N412`.
    public var label: String { "L\(layer).N\(index)" }
}

/// Neurons scanned over a text holding words of several semantic
/// categories, from activations already computed (one forward pass gives
/// them all). Per neuron and category:
/// - `means`: the mean activation over the category's occurrences, each
///   occurrence the mean over its tokens (MechaMap's `avg_activation`);
/// - `selectivity`: that mean minus the mean over every other scanned token,
///   in units of the neuron's standard deviation over the scanned tokens
///   (NaN when the neuron is constant or the category covers every token).
///
/// Per neuron, its `topK` tokens: distinct token strings by their largest
/// activation. Per category, how many neurons reach the threshold, and how
/// many would by chance: the units' category labels are shuffled (a fixed
/// seed) and the count taken again, `permutations` times.
///
/// ```swift
/// let scan = try NeuronScan(text: text, activations: acts, neurons: neurons, threshold: 0.2, topK: 5)
/// scan.mean(neuron: 7, category: 0)
/// scan.chance[0].byChance   // neurons of category 0 expected over the threshold by chance
/// ```
public struct NeuronScan: Sendable {
    /// How a category's neuron count compares with shuffled labels.
    public struct Chance: Sendable, Equatable {
        /// Neurons whose mean over the category reaches the threshold.
        public let passing: Int
        /// The average count over the permutations.
        public let byChance: Double
        /// The share of permutations whose count is at least `passing` (with the observed one counted: (1 + k) / (1 + n)).
        public let p: Double
    }

    public let text: ScanText
    public let neurons: [ScanNeuron]
    public let threshold: Double
    public let topK: Int
    public let permutations: Int
    public let seed: UInt64
    /// [neuron][category], row-major: neuron n, category c at `n * categories + c`.
    public let means: [Double]
    public let selectivity: [Double]
    /// Per neuron, its top tokens (distinct strings) with their largest activation, highest first.
    public let topTokens: [[(token: String, activation: Double)]]
    /// Per category.
    public let chance: [Chance]
    /// Per neuron: mean and standard deviation over every scanned token.
    public let tokenMean: [Double]
    public let tokenStd: [Double]

    public var categories: [String] { text.categories }
    public var categoryCount: Int { text.categories.count }

    public func mean(neuron n: Int, category c: Int) -> Double { means[n * categoryCount + c] }
    public func selectivity(neuron n: Int, category c: Int) -> Double { selectivity[n * categoryCount + c] }

    /// Computes the scan from `activations`, row-major [tokens, neurons]: the
    /// activation of every neuron on every token of `text.tokens`.
    /// `shouldStop` is asked, and `progress` told, between chunks of permutations
    /// (the permutation test is the part that takes time; `done` counts permutations).
    ///
    /// Throws when the sizes disagree, when the text has no scanned token, or
    /// when a category has no occurrence (naming the categories).
    public init(text: ScanText, activations: [Float], neurons: [ScanNeuron], threshold: Double, topK: Int,
                permutations: Int = 100, seed: UInt64 = 0, shouldStop: () -> Bool = { false },
                progress: StepProgress? = nil) throws {
        let t = text.tokens.count, n = neurons.count, c = text.categories.count
        guard t > 0 else { throw EngineError(.argument, subject: "scan", "the text has no token to scan") }
        guard n > 0 else { throw EngineError(.argument, subject: "scan", "there is no neuron to scan") }
        guard c > 0 else { throw EngineError(.argument, subject: "scan", "there are no categories to scan for") }
        guard activations.count == t * n else {
            throw EngineError(.shape, subject: "scan", "activations hold \(activations.count) values, not \(t) tokens × \(n) neurons")
        }
        guard topK >= 0 else { throw EngineError(.argument, subject: "scan", "top_k must be 0 or more, got \(topK)") }
        guard permutations >= 0 else { throw EngineError(.argument, subject: "scan", "permutations must be 0 or more, got \(permutations)") }
        let occurrences = text.occurrences
        let empty = text.categories.indices.filter { occurrences[$0] == 0 }
        guard empty.isEmpty else {
            let names = empty.map { "'\(text.categories[$0])'" }.joined(separator: ", ")
            throw EngineError(.argument, subject: "scan",
                              "no word of \(names) occurs in the text, so \(empty.count == 1 ? "its" : "their") mean is undefined; "
                              + "add \(empty.count == 1 ? "it" : "them") to the text or remove \(empty.count == 1 ? "the category" : "those categories")")
        }
        self.text = text
        self.neurons = neurons
        self.threshold = threshold
        self.topK = topK
        self.permutations = permutations
        self.seed = seed

        let units = text.units
        // One product gives each unit's mean over its tokens and each category's sum over its tokens.
        let (unitActivations, categoryTokenSums) = try Self.unitMeansAndCategorySums(activations, units: units, tokens: t, neurons: n,
                                                                                    categories: c)
        (tokenMean, tokenStd) = Self.moments(activations, tokens: t, neurons: n)

        var means = [Double](repeating: 0, count: n * c)
        var selectivity = [Double](repeating: .nan, count: n * c)
        for category in 0..<c {
            var occurrenceSum = [Double](repeating: 0, count: n)
            var tokenCount = 0
            for (u, unit) in units.enumerated() where unit.categories.contains(category) {
                for j in 0..<n { occurrenceSum[j] += Double(unitActivations[u * n + j]) }
                tokenCount += unit.tokens.count
            }
            let others = t - tokenCount
            for j in 0..<n {
                let mean = occurrenceSum[j] / Double(occurrences[category])
                means[j * c + category] = mean
                guard others > 0, tokenStd[j] > 0 else { continue }
                let rest = (tokenMean[j] * Double(t) - Double(categoryTokenSums[category * n + j])) / Double(others)
                selectivity[j * c + category] = (mean - rest) / tokenStd[j]
            }
        }
        self.means = means
        self.selectivity = selectivity
        self.topTokens = Self.topTokens(activations, tokens: text.tokens, neurons: n, k: topK)
        self.chance = try Self.chance(unitActivations, units: units, neurons: n, categories: c, means: means,
                                      threshold: threshold, permutations: permutations, seed: seed, shouldStop: shouldStop,
                                      progress: progress)
    }

    // MARK: - Pieces

    /// [units, neurons], each unit's mean over its tokens, and [categories,
    /// neurons], each category's sum over the tokens of its occurrences: one
    /// product of a weight matrix [units + categories, tokens] with the activations.
    static func unitMeansAndCategorySums(_ activations: [Float], units: [ScanText.Unit], tokens t: Int, neurons n: Int,
                                         categories c: Int) throws -> (units: [Float], categories: [Float]) {
        let u = units.count
        var weights = [Float](repeating: 0, count: (u + c) * t)
        for (index, unit) in units.enumerated() {
            for token in unit.tokens {
                weights[index * t + token] = 1 / Float(unit.tokens.count)
                for category in unit.categories { weights[(u + category) * t + token] = 1 }
            }
        }
        let product = try Tensor(weights, shape: [u + c, t]).matmul(Tensor(activations, shape: [t, n])).toFloats()
        return (Array(product[0..<(u * n)]), Array(product[(u * n)...]))
    }

    /// Each neuron's mean and (population) standard deviation over the tokens,
    /// in two passes in double precision (a constant neuron gets exactly 0).
    static func moments(_ activations: [Float], tokens t: Int, neurons n: Int) -> ([Double], [Double]) {
        var mean = [Double](repeating: 0, count: n)
        var variance = [Double](repeating: 0, count: n)
        activations.withUnsafeBufferPointer { a in
            guard let base = a.baseAddress, a.count >= t * n else { return }
            mean.withUnsafeMutableBufferPointer { m in
                for i in 0..<t {
                    let row = base + i * n
                    for j in 0..<n { m[j] += Double(row[j]) }
                }
                for j in 0..<n { m[j] /= Double(t) }
                variance.withUnsafeMutableBufferPointer { v in
                    for i in 0..<t {
                        let row = base + i * n
                        for j in 0..<n {
                            let d = Double(row[j]) - m[j]
                            v[j] += d * d
                        }
                    }
                }
            }
        }
        return (mean, variance.map { ($0 / Double(t)).squareRoot() })
    }

    /// Per neuron, the `k` distinct token strings with the largest activations.
    static func topTokens(_ activations: [Float], tokens: [String], neurons n: Int, k: Int) -> [[(token: String, activation: Double)]] {
        guard k > 0 else { return [[(token: String, activation: Double)]](repeating: [], count: n) }
        var distinct: [String] = []
        var index: [String: Int] = [:]
        let ids = tokens.map { token -> Int in
            if let id = index[token] { return id }
            index[token] = distinct.count
            distinct.append(token)
            return distinct.count - 1
        }
        let d = distinct.count
        var best = [Float](repeating: -.infinity, count: d * n)
        activations.withUnsafeBufferPointer { a in
            best.withUnsafeMutableBufferPointer { b in
                guard let from = a.baseAddress, let to = b.baseAddress, a.count >= ids.count * n else { return }
                for (i, id) in ids.enumerated() {
                    let row = from + i * n, into = to + id * n
                    for j in 0..<n where row[j] > into[j] { into[j] = row[j] }
                }
            }
        }
        return (0..<n).map { j in
            // Highest first; ties keep the text's order of first appearance.
            var top: [(id: Int, value: Float)] = []
            for id in 0..<d {
                let value = best[id * n + j]
                guard value > -.infinity else { continue }   // only NaN activations at this token
                if top.count == k, let last = top.last, value <= last.value { continue }
                let at = top.firstIndex { value > $0.value } ?? top.count
                top.insert((id, value), at: at)
                if top.count > k { top.removeLast() }
            }
            return top.map { (distinct[$0.id], Double($0.value)) }
        }
    }

    /// Per category: neurons over the threshold, and the count under shuffled labels.
    static func chance(_ unitActivations: [Float], units: [ScanText.Unit], neurons n: Int, categories c: Int, means: [Double],
                       threshold: Double, permutations: Int, seed: UInt64, shouldStop: () -> Bool,
                       progress: StepProgress? = nil) throws -> [Chance] {
        let passing = (0..<c).map { category in (0..<n).filter { means[$0 * c + category] >= threshold }.count }
        guard permutations > 0 else { return passing.map { Chance(passing: $0, byChance: .nan, p: .nan) } }
        let u = units.count
        let occurrences = (0..<c).map { category in units.filter { $0.categories.contains(category) }.count }
        let acts = try Tensor(unitActivations, shape: [u, n])
        var rng = RandomGenerator(seed: seed)
        var totals = [Int](repeating: 0, count: c)
        var atLeast = [Int](repeating: 0, count: c)
        // Permutations in chunks: one product [chunk·c, units] × [units, neurons] per chunk.
        let chunk = max(1, min(permutations, 32))
        var done = 0
        try progress?(0, permutations)
        while done < permutations {
            if shouldStop() { throw EngineError(.interrupted, "scan interrupted") }
            let count = min(chunk, permutations - done)
            var weights = [Float](repeating: 0, count: count * c * u)
            for p in 0..<count {
                let order = rng.permutation(u)
                for (target, source) in order.enumerated() {
                    for category in units[source].categories {
                        weights[(p * c + category) * u + target] = 1 / Float(occurrences[category])
                    }
                }
            }
            let shuffled = try Tensor(weights, shape: [count * c, u]).matmul(acts).toFloats()
            shuffled.withUnsafeBufferPointer { values in
                for p in 0..<count {
                    for category in 0..<c {
                        let row = UnsafeBufferPointer(rebasing: values[((p * c + category) * n)..<((p * c + category + 1) * n)])
                        var over = 0
                        for value in row where Double(value) >= threshold { over += 1 }
                        totals[category] += over
                        if over >= passing[category] { atLeast[category] += 1 }
                    }
                }
            }
            done += count
            try progress?(done, permutations)
        }
        return (0..<c).map { category in
            Chance(passing: passing[category], byChance: Double(totals[category]) / Double(permutations),
                   p: Double(1 + atLeast[category]) / Double(1 + permutations))
        }
    }
}
