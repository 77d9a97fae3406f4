import NeuroEngine
import NeuroModels

/// How closely attribution patching's estimates follow real patching over
/// the cells of a sweep, compared as effects (each cell minus the baseline).
public struct AttributionAgreement: Sendable {
    /// Pearson correlation of estimated and real effects; NaN when either is constant.
    public let correlation: Double
    /// Among cells whose real effect is not negligible (over 0.1% of the
    /// largest), the fraction whose estimate has the same sign; 1 when there are none.
    public let signAgreement: Double
    /// The largest |estimate − real| of any cell, in the metric's units.
    public let maxError: Double
    /// Cells compared.
    public let cells: Int

    /// Compares an `attribute` estimate with the `sweep` of the same specs.
    public init(estimate: PatchingSweep, actual: PatchingSweep) throws {
        guard estimate.values.shape == actual.values.shape else {
            throw EngineError(.shape, subject: "attribution agreement", "estimate \(formatShape(estimate.values.shape)) and real sweep \(formatShape(actual.values.shape)) differ")
        }
        let e = estimate.values.toDoubles().map { $0 - estimate.baseline }
        let a = actual.values.toDoubles().map { $0 - actual.baseline }
        cells = a.count
        maxError = zip(e, a).map { Swift.abs($0 - $1) }.max() ?? 0
        let n = Double(Swift.max(a.count, 1))
        let (me, ma) = (e.reduce(0, +) / n, a.reduce(0, +) / n)
        var (see, saa, sea) = (0.0, 0.0, 0.0)
        for (x, y) in zip(e, a) {
            see += (x - me) * (x - me)
            saa += (y - ma) * (y - ma)
            sea += (x - me) * (y - ma)
        }
        correlation = see > 0 && saa > 0 ? sea / (see * saa).squareRoot() : .nan
        let scale = a.map(Swift.abs).max() ?? 0
        let telling = zip(e, a).filter { Swift.abs($0.1) > 1e-3 * scale && scale > 0 }
        signAgreement = telling.isEmpty ? 1 : Double(telling.filter { ($0.0 > 0) == ($0.1 > 0) }.count) / Double(telling.count)
    }
}

extension ActivationPatching {
    // MARK: - Attribution patching

    /// Attribution patching: the first-order estimate of every cell of the
    /// sweeps from one forward and one backward pass on the target run. A
    /// cell's estimate is the target's metric plus Σ (source − target
    /// activation) · ∂metric/∂activation over the cell's slice (summed over
    /// the inputs and the dimensions the cell covers). Laid out exactly as
    /// `sweep(specs)`; compare them with `AttributionAgreement`.
    ///
    /// `progress` hears of its three passes (two baselines, one with the backward pass).
    /// Throws for a metric without a gradient (accuracy), and as `sweep` does.
    ///
    /// ```swift
    /// let fast = try patching.attribute(SweepSpec.everyHead(byPosition: true))
    /// let agreement = try AttributionAgreement(estimate: fast, actual: patching.sweep(SweepSpec.everyHead(byPosition: true)))
    /// ```
    public func attribute(_ specs: [SweepSpec], title: String? = nil, progress: StepProgress? = nil) throws -> PatchingSweep {
        guard !specs.isEmpty else { throw EngineError(.argument, subject: "attribute", "needs at least one activation to sweep") }
        guard metric.isDifferentiable else {
            throw EngineError(.argument, subject: "attribute", "the metric '\(metric.name)' has no gradient; use a differentiable one such as logit_diff or loss")
        }
        let plans = try specs.map(plan)
        let points = Set(plans.flatMap(\.points))
        try progress?(0, 3)
        let base = try baselines(source: points)
        try progress?(2, 3)
        let gradients = try self.gradients(at: points)
        try progress?(3, 3)
        let grids = try plans.map { plan -> [Double] in
            // Per hook point: Σ (source − target)·grad with only the swept dimensions left.
            var sums: [HookPoint: [Double]] = [:]
            for point in plan.points {
                guard let (activation, gradient) = gradients[point] else { continue }
                let delta = try ActivationPatching.cached(base.source, point) - activation
                sums[point] = try plan.perCell(delta.cast(to: .float64) * gradient.cast(to: .float64))
            }
            return (0..<plan.count).map { flat in
                let (point, picks) = plan.cell(flat)
                return base.targetValue + (sums[point]?[plan.perCellIndex(picks)] ?? 0)
            }
        }
        let sweepTitle = title ?? "attribution of " + (plans.count == 1 ? plans[0].spec.name : plans.map(\.spec.site.shortName).joined(separator: ", "))
        return try assemble(plans, grids, clean: base.clean, corrupted: base.corrupted, passes: 3, title: sweepTitle)
    }

    /// The target run's activation at each point and the metric's gradient
    /// with respect to it. The parameters are frozen for the pass (and their
    /// flags restored), so no parameter gradient is computed or disturbed;
    /// the embeddings become the leaves instead.
    func gradients(at points: Set<HookPoint>) throws -> [HookPoint: (activation: Tensor, gradient: Tensor)] {
        if shouldStop() { throw EngineError(.interrupted, "attribution patching interrupted") }
        let parameters = model.parameters.map(\.tensor)
        let flags = parameters.map(\.requiresGrad)
        defer { for (parameter, flag) in zip(parameters, flags) { _ = try? parameter.requiringGrad(flag) } }
        for parameter in parameters { try parameter.requiringGrad(false) }
        let recorder = ActivationRecorder()
        var hooks = [HookSite.embed, .posEmbed].map { site in Hook(HookPoint(site)) { x, _ in try x.detached().requiringGrad() } }
        hooks += points.map { point in
            Hook(point) { x, p in
                x.retainsGrad = true
                recorder.values[p] = x
                return x
            }
        }
        try GradMode.withGrad {
            let logits = try model.run(target, hooks: hooks, positions: positions).logits
            try metric.differentiable(logits).backward()
        }
        var out: [HookPoint: (activation: Tensor, gradient: Tensor)] = [:]
        for point in points {
            let x = try recorder.value(point)
            out[point] = (x.detached(), try x.grad ?? Tensor.zeros(x.shape))
        }
        return out
    }
}

/// Activations seen by hooks during one run, by hook point.
final class ActivationRecorder {
    var values: [HookPoint: Tensor] = [:]

    func value(_ point: HookPoint) throws -> Tensor {
        guard let x = values[point] else { throw EngineError(.argument, subject: "patching", "\(point.name) was not reached by the forward pass") }
        return x
    }
}
