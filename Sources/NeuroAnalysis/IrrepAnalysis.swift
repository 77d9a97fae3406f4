import Foundation
import NeuroEngine
import NeuroModels

/// Which irreducible representations a model trained on a group dataset
/// computes with (Chughtai et al. 2023, "A Toy Model of Universality").
///
/// - **Logit similarity** of ρ: the cosine, over every (a, b, c), between the
///   logits centred over the output c (the mean over c subtracted for each
///   input pair) and the character tensor χ_ρ(a·b·c⁻¹), products in the
///   dataset's order and convention (`a·b` is the dataset's label for (a, b)).
///   The trivial representation's character is constant in c, so its
///   similarity is 0 by construction.
/// - **Logits explained** by ρ: the squared cosine, the share of the centred
///   logits' squared norm in the span of ρ's character tensor. Distinct
///   irreducible characters are orthogonal over (a, b, c), so shares add up;
///   the key representations' sum is `keyExplained`.
/// - **Key representations**: those whose logit similarity exceeds `threshold`.
/// - **Variance explained of W_E** (the group elements' rows, one embedding
///   shared by the a and b positions) **and of W_U** (the group elements'
///   columns): each centred over the elements, the share of its squared norm
///   in the span of ρ's matrix entries g ↦ ρ(g)_ij (orthonormalised; d² functions,
///   2 for a rotation of C_n). The spans of all representations together cover
///   every function on G, so the shares over all representations sum to 1.
///
/// ```swift
/// let data = try Dataset.symmetricGroup(n: 4, trainFraction: 0.5, seed: 0)
/// let r = try IrrepAnalysis(model: model, data: data)
/// r.key.map { r.group.representations[$0].name }   // e.g. ["[3,1]", "[1,1,1,1]"]
/// ```
public struct IrrepAnalysis {
    /// The group, with its representations in the order of every array here.
    public let group: FiniteGroup
    /// Cosine of the centred logits with χ_ρ(a·b·c⁻¹), per representation.
    public let logitSimilarity: [Double]
    /// Its square: the share of the centred logits' squared norm along χ_ρ(a·b·c⁻¹).
    public let logitExplained: [Double]
    /// The logit similarity a key representation exceeds.
    public let threshold: Double
    /// Indices of the key representations, by decreasing logit similarity.
    public let key: [Int]
    /// The share of the centred logits explained by the key representations together.
    public let keyExplained: Double
    /// Share of W_E's (centred) group rows in each representation's matrix-entry span.
    public let embeddingExplained: [Double]
    /// Share of W_U's (centred) group columns in each span; nil for a model with no `unembed.W_U`.
    public let unembeddingExplained: [Double]?
    /// Share of the last MLP layer's (centred) neuron activations in the span of (a, b) ↦ ρ(a·b)_ij;
    /// nil for a model with no MLP.
    public let neuronExplained: [Double]?

    /// Runs the model on every pair of the dataset's grid (a-major) and measures its
    /// logits, embedding and unembedding against the group's representations.
    /// Throws when the dataset is not a group task, S_n has n > 5, or the model's
    /// vocabulary does not fit the group.
    public init(model: any HookedModel, data: Dataset, threshold: Double = 0.1) throws {
        let group = try FiniteGroup(task: data.task)
        let n = group.order
        let config = model.config
        guard config.dVocabOut == n, config.dVocab >= n + 1, config.nCtx >= 3 else {
            throw EngineError(.argument, "the model (vocab \(config.dVocab)→\(config.dVocabOut)) does not fit \(data.task): "
                + "\(group.name) has \(n) elements, so its dataset has vocab \(n + 1)→\(n)")
        }
        guard data.gridShape == [n, n] else {
            throw EngineError(.argument, "\(data.task): the grid is \(data.gridShape), expected [\(n), \(n)]")
        }
        let post = HookPoint(.mlpPost, layer: config.nLayers - 1)
        let wantsNeurons = !config.attentionOnly && model.hasHook(post)
        let (logits, cache) = try GradMode.withNoGrad {
            try model.run(data.tokens, cache: wantsNeurons ? .only([post]) : .none, positions: .last)   // logits [n², n]
        }
        let neurons = try cache[post].map { try $0.select(axis: 1, index: -1).contiguous().toDoubles() }   // [n², d_mlp]
        let wE = try model.parameter("embed.W_E").map { try $0.detached().slice(axis: 0, start: 0, end: n).toDoubles() }   // [n, d_model]
        guard let wE else { throw EngineError(.argument, "the model has no embed.W_E") }
        let wU = try model.parameter("unembed.W_U").map { try $0.detached().transposed().contiguous().toDoubles() }     // [n, d_model]
        try self.init(group: group, labels: data.labels.toInts(), logits: logits.toDoubles(),
                      embedding: wE, unembedding: wU, width: config.dModel, threshold: threshold,
                      neurons: neurons, neuronCount: config.dMLP)
    }

    /// The measures from logits `[n², n]` (row a·n + b, whose composition is `labels[row]`),
    /// the embedding's group rows and W_Uᵀ's group rows (`[n, width]` each, row-major).
    public init(group: FiniteGroup, labels: [Int], logits: [Double], embedding: [Double], unembedding: [Double]?,
                width: Int, threshold: Double = 0.1, neurons: [Double]? = nil, neuronCount: Int = 0) throws {
        let n = group.order
        guard labels.count == n * n, logits.count == n * n * n else {
            throw EngineError(.argument, "irreps: expected \(n * n) rows of \(n) logits, got \(labels.count) labels and \(logits.count) logits")
        }
        // The centred logits summed over the pairs with the same product t = a·b:
        // Σ_{a,b} L(a,b,c) χ(a·b·c⁻¹) = Σ_t S(t, c) χ(t·c⁻¹).
        var summed = [Double](repeating: 0, count: n * n)   // [t, c]
        var squaredNorm = 0.0
        var counts = [Double](repeating: 0, count: n)
        for row in 0..<(n * n) {
            let base = row * n
            var mean = 0.0
            for c in 0..<n { mean += logits[base + c] }
            mean /= Double(n)
            let t = labels[row]
            counts[t] += 1
            for c in 0..<n {
                let centred = logits[base + c] - mean
                summed[t * n + c] += centred
                squaredNorm += centred * centred
            }
        }
        var similarity: [Double] = []
        for rep in group.representations {
            let chi = rep.characters
            var dot = 0.0, characterNorm = 0.0
            for t in 0..<n {
                for c in 0..<n {
                    let value = chi[group.table[t][group.inverses[c]]]
                    dot += summed[t * n + c] * value
                    characterNorm += counts[t] * value * value
                }
            }
            let cosine = squaredNorm > 0 && characterNorm > 0 ? dot / (squaredNorm * characterNorm).squareRoot() : 0
            // Rounding leaves ~1e-17 where the value is 0 exactly (the trivial representation).
            similarity.append(abs(cosine) < 1e-12 ? 0 : cosine)
        }
        self.group = group
        self.logitSimilarity = similarity
        self.logitExplained = similarity.map { $0 * $0 }
        self.threshold = threshold
        self.key = similarity.indices.filter { similarity[$0] > threshold }.sorted { similarity[$0] > similarity[$1] }
        self.keyExplained = key.map { similarity[$0] * similarity[$0] }.reduce(0, +)
        let spans = group.representations.map(IrrepAnalysis.entrySpan)
        self.embeddingExplained = IrrepAnalysis.explained(embedding, width: width, spans: spans)
        self.unembeddingExplained = unembedding.map { IrrepAnalysis.explained($0, width: width, spans: spans) }
        if let neurons, neuronCount > 0, neurons.count == n * n * neuronCount {
            // A function of a·b with values u(t) has norm √n · ‖u‖ over the n² pairs, so the span of
            // (a, b) ↦ u(a·b) for orthonormal u is reached through the sums over each product t, scaled by 1/√n.
            var centred = neurons
            for j in 0..<neuronCount {
                var mean = 0.0
                for row in 0..<(n * n) { mean += neurons[row * neuronCount + j] }
                mean /= Double(n * n)
                for row in 0..<(n * n) { centred[row * neuronCount + j] -= mean }
            }
            var byProduct = [Double](repeating: 0, count: n * neuronCount)   // [t, neuron]
            for row in 0..<(n * n) {
                let t = labels[row]
                for j in 0..<neuronCount { byProduct[t * neuronCount + j] += centred[row * neuronCount + j] }
            }
            let total = centred.map { $0 * $0 }.reduce(0, +)
            self.neuronExplained = spans.map { basis in
                guard total > 0 else { return 0 }
                var inSpan = 0.0
                for u in basis {
                    for j in 0..<neuronCount {
                        var dot = 0.0
                        for t in 0..<n { dot += u[t] * byProduct[t * neuronCount + j] }
                        inSpan += dot * dot / Double(n)
                    }
                }
                let share = inSpan / total
                return share < 1e-15 ? 0 : share
            }
        } else {
            self.neuronExplained = nil
        }
    }

    /// An orthonormal basis (as columns of `[n, r]`, stored as r vectors of n) of the span of g ↦ ρ(g)_ij.
    static func entrySpan(_ rep: GroupRepresentation) -> [[Double]] {
        let d = rep.dimension
        var basis: [[Double]] = []
        for entry in 0..<(d * d) {
            var v = rep.matrices.map { $0[entry] }
            // Gram–Schmidt twice for stability; entries that add nothing (a rotation's
            // repeated cos and ±sin) are dropped.
            for _ in 0..<2 {
                for u in basis {
                    let dot = zip(u, v).map(*).reduce(0, +)
                    for i in v.indices { v[i] -= dot * u[i] }
                }
            }
            let norm = v.map { $0 * $0 }.reduce(0, +).squareRoot()
            if norm > 1e-8 * Double(rep.matrices.count).squareRoot() { basis.append(v.map { $0 / norm }) }
        }
        return basis
    }

    /// The share of the centred rows' squared norm in each span.
    static func explained(_ rows: [Double], width: Int, spans: [[[Double]]]) -> [Double] {
        let n = rows.count / max(width, 1)
        var centred = rows
        for j in 0..<width {
            var mean = 0.0
            for g in 0..<n { mean += rows[g * width + j] }
            mean /= Double(max(n, 1))
            for g in 0..<n { centred[g * width + j] -= mean }
        }
        let total = centred.map { $0 * $0 }.reduce(0, +)
        guard total > 0 else { return spans.map { _ in 0 } }
        return spans.map { basis in
            var inSpan = 0.0
            for u in basis {
                for j in 0..<width {
                    var dot = 0.0
                    for g in 0..<n { dot += u[g] * centred[g * width + j] }
                    inSpan += dot * dot
                }
            }
            let share = inSpan / total
            return share < 1e-15 ? 0 : share
        }
    }
}
