import NeuroEngine
import NeuroModels

// Circuit discovery: the importance of every head and MLP, ACDC edge pruning,
// and the faithfulness, completeness and minimality of what they find.

/// One component of a found circuit.
public struct CircuitComponent: Sendable {
    /// Which component.
    public let node: CircuitNode
    /// How much the model's metric depends on it, as a fraction (see
    /// `ImportanceResult` and `ACDCResult`); nil for the embedding and unembedding.
    public let importance: Double?

    /// `embed`, `a0.1`, `m0`, `unembed`.
    public var name: String { node.name }
}

/// One edge of a found circuit, with its weight.
public struct CircuitLink: Sendable {
    /// The sender.
    public let source: CircuitNode
    /// The receiver.
    public let target: CircuitNode
    /// The input of the target it feeds (`q`, `k`, `v` for heads), or nil
    /// when the link stands for every input of the target.
    public let input: CircuitInput?
    /// How much the link matters: for ACDC, the rise in KL divergence its
    /// removal caused; for a circuit chosen by importance, the source's
    /// importance (1 for the embedding).
    public let weight: Double
}

/// How well a circuit explains the model, in one metric, each as a fraction.
///
/// - faithfulness: the circuit alone (everything else ablated) recovers
///   (circuit − empty) / (full − empty) of the model's performance, where
///   "empty" has every component of the circuit ablated too. 1 is perfect.
/// - completeness: ablating the circuit from the full model (keeping
///   everything else) loses (full − complement) / (full − empty) of it;
///   1 means nothing outside the circuit can do the task.
/// - minimality: the share of the circuit's heads and MLPs whose removal
///   from the circuit drops its performance by at least `threshold` of
///   (circuit − empty); `drops` gives each one's drop.
///
/// The fractions are signed so that "worse" is positive for every metric,
/// loss included. When the denominator is 0 (nothing to recover),
/// faithfulness is 1 and the others 0.
public struct CircuitScores: Sendable {
    /// The metric the scores are measured in.
    public let metric: Metric
    /// The metric of the full model, the circuit alone, the model without
    /// the circuit, and with everything ablated.
    public let full: Double, circuit: Double, complement: Double, empty: Double
    /// KL(full ∥ circuit alone) of the last-position distributions, in nats.
    public let kl: Double
    /// (circuit − empty) / (full − empty).
    public let faithfulness: Double
    /// (full − complement) / (full − empty).
    public let completeness: Double
    /// Each head's and MLP's drop when removed from the circuit, in circuit order.
    public let drops: [(node: CircuitNode, drop: Double)]
    /// The drop a component needs to count as necessary.
    public let threshold: Double

    /// The share of the circuit's heads and MLPs whose drop is at least
    /// `threshold` (1 for a circuit without any).
    public var minimality: Double {
        guard !drops.isEmpty else { return 1 }
        return Double(drops.filter { $0.drop >= threshold }.count) / Double(drops.count)
    }
}

/// A circuit: the components and edges kept, and how well they explain the model.
///
/// ```swift
/// let found = try CircuitDiscovery.acdc(model, tokens: x, labels: y, ablation: .patch(corrupted: x2), tau: 0.01)
/// try found.circuit.write(to: "circuit.dot")
/// ```
public struct Circuit: Sendable {
    /// The kept components in topological order, the embedding first and
    /// the unembedding last.
    public let components: [CircuitComponent]
    /// The kept edges (for ACDC) or every edge among the kept components.
    public let links: [CircuitLink]
    /// Faithfulness, completeness and minimality.
    public let scores: CircuitScores
    /// How it was found: `acdc τ=0.01 patch`, `importance ≥ 0.05 mean`.
    public let method: String
}

/// The importance of every head and MLP, and the circuit a threshold picks.
///
/// A component's importance is the share of the model's performance lost
/// when it alone is ablated: (clean − ablated) / (clean − baseline), where
/// the baseline is the corrupted run when patching and the model with every
/// head and MLP ablated otherwise (the raw change clean − ablated when that
/// gap is 0). Components whose |importance| reaches `threshold` form the circuit.
public struct ImportanceResult: Sendable {
    /// `zero`, `mean` or `patch`.
    public let ablation: String
    /// The metric importance is measured in.
    public let metric: Metric
    /// The metric of the untouched model.
    public let clean: Double
    /// The corrupted run's metric when patching; every head and MLP ablated otherwise.
    public let baseline: Double
    /// Every head and MLP in topological order, with the metric when it
    /// alone is ablated and its importance.
    public let components: [(node: CircuitNode, ablated: Double, importance: Double)]
    /// The |importance| a component needs to be in the circuit.
    public let threshold: Double
    /// The components at or above the threshold, with the embedding and unembedding.
    public let circuit: Circuit
}

/// The result of ACDC: the circuit, and every edge as it was tested.
public struct ACDCResult: Sendable {
    /// The KL rise below which an edge was removed.
    public let tau: Double
    /// The kept edges and the components they join.
    public let circuit: Circuit
    /// Edges in the order tested (reverse topological), each with the rise in
    /// KL(full ∥ pruned) its removal caused and whether it was kept. Edges
    /// into a component that no longer feeds anything are removed untested, with rise 0.
    public let tested: [(edge: CircuitEdge, increase: Double, kept: Bool)]
    /// How many edges the full graph has.
    public var edgeCount: Int { tested.count }
    /// How many forward passes the pruning took.
    public let passes: Int
}

/// Circuit discovery on a hooked transformer over one batch of inputs.
public enum CircuitDiscovery {
    /// The importance of every head and MLP by ablating (or patching) each
    /// alone, and the circuit of those whose |importance| ≥ `threshold`,
    /// with its faithfulness, completeness and minimality (component
    /// ablation, so any model works, LayerNorm or not).
    ///
    /// - Parameters:
    ///   - tokens: inputs [batch, pos]; `labels` [batch] the answers the metric uses.
    ///   - minimality: the drop (fraction) a kept component needs to count as necessary.
    ///   - progress: hears of every component ablated; a throw stops the work.
    ///
    /// ```swift
    /// let r = try CircuitDiscovery.importance(model, tokens: data.tokens, labels: data.labels, ablation: .mean)
    /// r.circuit.components.map(\.name)    // ["embed", "a0.2", "m0", "unembed"]
    /// ```
    public static func importance(_ model: any HookedModel, tokens: Tensor, labels: Tensor, ablation: CircuitAblation,
                                  metric: Metric = .logitDiff, threshold: Double = 0.05, minimality: Double = 0.01,
                                  shouldStop: () -> Bool = { false }, progress: StepProgress? = nil) throws -> ImportanceResult {
        let runner = try CircuitRunner(model: model, tokens: tokens, ablation: ablation)
        let all = runner.graph.components
        let clean = try metric.measure(runner.cleanLogits, labels: labels)
        let baseline = try metric.measure(runner.corruptedLogits ?? runner.logits(ablating: Set(all)), labels: labels)
        var rows: [(node: CircuitNode, ablated: Double, importance: Double)] = []
        try progress?(0, all.count)
        for node in all {
            if shouldStop() { throw EngineError(.interrupted, "importance interrupted") }
            let ablated = try metric.measure(runner.logits(ablating: [node]), labels: labels)
            rows.append((node, ablated, fraction(clean - ablated, of: clean - baseline, degenerate: clean - ablated)))
            try progress?(rows.count, all.count)
        }
        let importance = Dictionary(uniqueKeysWithValues: rows.map { ($0.node, $0.importance) })
        let kept = runner.graph.nodes.filter { node in importance[node].map { Swift.abs($0) >= threshold } ?? true }
        let keptComponents = Set(kept).intersection(all)
        let others = Set(all).subtracting(keptComponents)
        let scores = try score(runner, metric: metric, labels: labels, kept: kept, threshold: minimality,
                               without: { removed in try runner.logits(ablating: others.union(removed)) },
                               complement: { try runner.logits(ablating: keptComponents) })
        var links: [CircuitLink] = []
        for receiver in kept {
            for sender in kept where sender.writes(to: receiver) {
                links.append(CircuitLink(source: sender, target: receiver, input: nil, weight: importance[sender] ?? 1))
            }
        }
        let circuit = Circuit(components: kept.map { CircuitComponent(node: $0, importance: importance[$0]) }, links: links,
                              scores: scores, method: "importance ≥ \(threshold) \(ablation.name)")
        return ImportanceResult(ablation: ablation.name, metric: metric, clean: clean, baseline: baseline, components: rows,
                                threshold: threshold, circuit: circuit)
    }

    /// ACDC (Conmy et al. 2023): goes through every edge in reverse
    /// topological order (receivers from the unembedding back, each one's
    /// senders latest first) and removes it for good when that raises
    /// KL(full ∥ pruned) of the last-position distributions by less than
    /// `tau`. A removed edge's receiver reads the sender's replacement
    /// (`ablation`) instead of its output. Needs a model without LayerNorm,
    /// where removing an edge is exact (see `CircuitRunner`).
    ///
    /// Kept components' importance is their minimality drop. `progress`
    /// hears of every edge decided; a throw stops the work.
    ///
    /// ```swift
    /// let r = try CircuitDiscovery.acdc(model, tokens: x, labels: y, ablation: .patch(corrupted: x2), tau: 0.01)
    /// r.circuit.links.map { "\($0.source) → \($0.target)" }
    /// ```
    public static func acdc(_ model: any HookedModel, tokens: Tensor, labels: Tensor, ablation: CircuitAblation,
                            tau: Double = 0.01, metric: Metric = .logitDiff, minimality: Double = 0.01,
                            shouldStop: () -> Bool = { false }, progress: StepProgress? = nil) throws -> ACDCResult {
        guard tau.isFinite, tau >= 0 else { throw EngineError(.argument, subject: "acdc", "tau must be a finite number ≥ 0, got \(tau)") }
        let runner = try CircuitRunner(model: model, tokens: tokens, ablation: ablation)
        try runner.requireEdges("ACDC")
        let full = runner.cleanLogits
        var removed = Set<CircuitEdge>()
        var feeds: Set<CircuitNode> = [.unembed]        // nodes with a kept outgoing edge (the unembedding is the output)
        var current = 0.0
        var tested: [(edge: CircuitEdge, increase: Double, kept: Bool)] = []
        var passes = 0
        let edgeCount = runner.graph.edges.count
        try progress?(0, edgeCount)
        for edge in runner.graph.edges.reversed() {
            if shouldStop() { throw EngineError(.interrupted, "ACDC interrupted") }
            if !tested.isEmpty { try progress?(tested.count, edgeCount) }
            // Every reader of this receiver was decided before it (reverse topological order).
            guard feeds.contains(edge.receiver) else {
                removed.insert(edge)
                tested.append((edge, 0, false))
                continue
            }
            var trial = removed
            trial.insert(edge)
            let kl = try klDivergence(full, runner.logits(removingEdges: trial))
            passes += 1
            let increase = kl - current
            if increase < tau {
                removed = trial
                current = kl
                tested.append((edge, increase, false))
            } else {
                feeds.insert(edge.sender)
                tested.append((edge, increase, true))
            }
        }
        if edgeCount > 0 { try progress?(edgeCount, edgeCount) }
        let keptEdges = runner.graph.edges.filter { !removed.contains($0) }
        let touched = Set(keptEdges.flatMap { [$0.sender, $0.receiver] }).union([.embed, .unembed])
        let kept = runner.graph.nodes.filter { touched.contains($0) }
        let scores = try score(runner, metric: metric, labels: labels, kept: kept, threshold: minimality,
                               without: { nodes in try runner.logits(removingEdges: removed.union(keptEdges.filter { nodes.contains($0.sender) })) },
                               complement: { try runner.logits(removingEdges: Set(keptEdges)) })
        let drops = Dictionary(uniqueKeysWithValues: scores.drops.map { ($0.node, $0.drop) })
        let increases = Dictionary(uniqueKeysWithValues: tested.map { ($0.edge, $0.increase) })
        let circuit = Circuit(components: kept.map { CircuitComponent(node: $0, importance: drops[$0]) },
                              links: keptEdges.map { CircuitLink(source: $0.sender, target: $0.receiver, input: $0.input,
                                                                 weight: increases[$0] ?? 0) },
                              scores: scores, method: "acdc τ=\(tau) \(ablation.name)")
        return ACDCResult(tau: tau, circuit: circuit, tested: tested, passes: passes)
    }

    /// KL(P ∥ Q) in nats between the softmax distributions of two logit
    /// tensors [batch, vocab], averaged over the batch, in Float64. 0 when
    /// they are equal.
    ///
    /// ```swift
    /// try CircuitDiscovery.klDivergence(logits, logits)   // 0
    /// ```
    public static func klDivergence(_ reference: Tensor, _ other: Tensor) throws -> Double {
        guard reference.shape == other.shape else {
            throw EngineError(.shape, "KL divergence: logits \(formatShape(reference.shape)) and \(formatShape(other.shape)) differ in shape")
        }
        let p = try reference.cast(to: .float64).logSoftmax(axis: -1)
        let q = try other.cast(to: .float64).logSoftmax(axis: -1)
        let perRow = try (p.exp() * (p - q)).sum(axes: [-1])                                              // [batch]
        return try Swift.max(0, perRow.mean().item())
    }

    // MARK: - Scoring

    /// Faithfulness, completeness and minimality of the circuit `kept`.
    /// `without(S)` gives the logits of the circuit alone minus the nodes in
    /// S (`without([])` is the circuit alone); `complement()` those of the
    /// full model without the circuit.
    static func score(_ runner: CircuitRunner, metric: Metric, labels: Tensor, kept: [CircuitNode], threshold: Double,
                      without: (Set<CircuitNode>) throws -> Tensor, complement: () throws -> Tensor) throws -> CircuitScores {
        func measure(_ logits: Tensor) throws -> Double { try metric.measure(logits, labels: labels) }
        let full = try measure(runner.cleanLogits)
        let aloneLogits = try without([])
        let alone = try measure(aloneLogits)
        let empty = try measure(without(Set(kept)))
        let rest = try measure(complement())
        let drops = try kept.filter { $0.kind == .head || $0.kind == .mlp }.map { node in
            (node: node, drop: fraction(alone - (try measure(without([node]))), of: alone - empty, degenerate: 0))
        }
        return CircuitScores(metric: metric, full: full, circuit: alone, complement: rest, empty: empty,
                             kl: try klDivergence(runner.cleanLogits, aloneLogits),
                             faithfulness: fraction(alone - empty, of: full - empty, degenerate: 1),
                             completeness: fraction(full - rest, of: full - empty, degenerate: 0),
                             drops: drops, threshold: threshold)
    }

    /// part / whole, or `degenerate` when the whole is (numerically) 0.
    static func fraction(_ part: Double, of whole: Double, degenerate: Double) -> Double {
        Swift.abs(whole) < 1e-12 ? degenerate : part / whole
    }
}
