import NeuroEngine
import NeuroModels

/// Interventions on text given to a pretrained model (GPT-2, BERT): the
/// same patch, ablation and hook as `Intervention`, measured by a
/// `TextMetric` instead of a dataset's labels. Every run reads every
/// position, with the inputs' attention mask.
///
/// ```swift
/// let r = try Intervention.patch(gpt2, clean: clean, corrupted: corrupted, at: resid0,
///                                metric: .logitDiff(answer: mary, wrong: john))
/// ```
extension Intervention {
    /// What the metric reads: the logits, or the final hidden state for
    /// `cosine` (the logits of a model without a head; otherwise the last
    /// normalized residual, `blocks.L.hook_normalized_resid_post` for BERT
    /// or `ln_final.hook_normalized` for GPT-2).
    public static func finalHiddenPoint(_ model: any PretrainedModel) throws -> HookPoint? {
        guard model.hasHead else { return nil }
        let candidates = [HookPoint(.normalizedResidPost, layer: model.config.nLayers - 1), HookPoint(.lnFinalNormalized)]
        guard let point = candidates.first(where: model.hookPoints.contains) else {
            throw EngineError(.argument, subject: "cosine", "this \(model.modelType) model exposes no final hidden state to pool")
        }
        return point
    }

    /// Runs `inputs` with `hooks` and returns what `metric` reads, plus the
    /// activation at `cachePoint` when asked.
    static func textOutput(_ model: any PretrainedModel, _ inputs: TextInputs, metric: TextMetric, hooks: [Hook] = [],
                           cache cachePoints: [HookPoint] = []) throws -> (output: Tensor, cached: [Tensor]) {
        if metric.needsLogits, !model.hasHead {
            throw EngineError(.argument, subject: metric.name, "this \(model.modelType) model has no language-model head, so no logits to measure \(metric.name) on; use cosine")
        }
        let hidden = metric.needsLogits ? nil : try finalHiddenPoint(model)
        let points = Set(cachePoints + [hidden].compactMap { $0 })
        let (logits, cache) = try model.run(inputs.ids, attentionMask: inputs.mask, hooks: hooks,
                                            cache: points.isEmpty ? .none : .only(points))
        var output = logits
        if let hidden {
            guard let state = cache[hidden] else { throw EngineError(.argument, subject: metric.name, "\(hidden.name) was not reached") }
            output = state
        }
        let cached = try cachePoints.map { point in
            guard let activation = cache[point] else { throw EngineError(.argument, "\(point.name) was not reached") }
            return activation
        }
        return (output, cached)
    }

    /// The clean run's metric and, for `cosine`, its pooled state (the reference of every other run).
    static func cleanReference(_ output: Tensor, _ inputs: TextInputs, _ metric: TextMetric) throws -> (value: Double, reference: [[Double]]?) {
        let reference = metric == .cosine ? try TextMetric.meanPooled(output, lengths: inputs.lengths) : nil
        return (try metric.measure(output, inputs: inputs, reference: reference), reference)
    }

    /// The clean run's pooled final state for `cosine` (nil for other metrics).
    public static func textReference(_ model: any PretrainedModel, _ clean: TextInputs, metric: TextMetric) throws -> [[Double]]? {
        guard metric == .cosine else { return nil }
        let (output, _) = try GradMode.withNoGrad { try textOutput(model, clean, metric: metric) }
        return try TextMetric.meanPooled(output, lengths: clean.lengths)
    }

    /// Noising patch on text: runs the clean text with the activation at
    /// `point` (or its slice) taken from the corrupted text, which must have
    /// the same token length row by row.
    public static func patch(_ model: any PretrainedModel, clean: TextInputs, corrupted: TextInputs, at points: [HookPoint],
                             slice: ActivationSlice = ActivationSlice(), metric: TextMetric, detail: String = "") throws -> InterventionResult {
        try clean.checkSameLength(corrupted, subject: "patch")
        let points = try distinct(points, subject: "patch")
        return try GradMode.withNoGrad {
            let (cleanOutput, _) = try textOutput(model, clean, metric: metric)
            let (cleanValue, reference) = try cleanReference(cleanOutput, clean, metric)
            let (corruptedOutput, sources) = try textOutput(model, corrupted, metric: metric, cache: points)
            let hooks = zip(points, sources).map { point, source in
                Hook(point) { activation, _ in try slice.blend(activation, source, at: point) }
            }
            let (patched, _) = try textOutput(model, clean, metric: metric, hooks: hooks)
            return InterventionResult(kind: .patch, points: points, slice: slice, metric: .text(metric), clean: cleanValue,
                                      corrupted: try metric.measure(corruptedOutput, inputs: clean, reference: reference),
                                      intervened: try metric.measure(patched, inputs: clean, reference: reference), detail: detail)
        }
    }

    /// Replaces the activation at each of `points` on text by zeros, its mean
    /// over a batch of texts of one token length, or another text's values.
    public static func ablate(_ model: any PretrainedModel, inputs: TextInputs, at points: [HookPoint], method: AblationMethod,
                              slice: ActivationSlice = ActivationSlice(), metric: TextMetric, seed: UInt64 = 0) throws -> InterventionResult {
        if method != .zero {
            guard inputs.batchSize > 1 else {
                throw EngineError(.argument, subject: "ablate", "\(method.rawValue)-ablation takes other texts' values, and there is a single text; use zero, or give a list of texts of the same token length")
            }
            guard inputs.isRectangular else {
                throw EngineError(.argument, subject: "ablate", "\(method.rawValue)-ablation needs texts of the same token length, got \(inputs.lengths)")
            }
        }
        let points = try distinct(points, subject: "ablate")
        return try GradMode.withNoGrad {
            let (cleanOutput, activations) = try textOutput(model, inputs, metric: metric, cache: points)
            let (cleanValue, reference) = try cleanReference(cleanOutput, inputs, metric)
            let hooks = try zip(points, activations).map { point, activation in
                let replacement = try method.replacement(for: activation, seed: seed)
                return Hook(point) { original, _ in try slice.blend(original, replacement, at: point) }
            }
            let (ablated, _) = try textOutput(model, inputs, metric: metric, hooks: hooks)
            return InterventionResult(kind: .ablate, points: points, slice: slice, metric: .text(metric), clean: cleanValue, corrupted: nil,
                                      intervened: try metric.measure(ablated, inputs: inputs, reference: reference), detail: method.rawValue)
        }
    }

    /// Runs text with `function` replacing the activation at each of `points` and measures the change.
    public static func hook(_ model: any PretrainedModel, inputs: TextInputs, at points: [HookPoint],
                            slice: ActivationSlice = ActivationSlice(), metric: TextMetric, detail: String = "fn",
                            function: @escaping (Tensor) throws -> Tensor) throws -> InterventionResult {
        let points = try distinct(points, subject: "hook")
        return try GradMode.withNoGrad {
            let (cleanOutput, _) = try textOutput(model, inputs, metric: metric)
            let (cleanValue, reference) = try cleanReference(cleanOutput, inputs, metric)
            let hooks = points.map { point in Hook(point) { original, _ in try slice.blend(original, try function(original), at: point) } }
            let (hooked, _) = try textOutput(model, inputs, metric: metric, hooks: hooks)
            return InterventionResult(kind: .hook, points: points, slice: slice, metric: .text(metric), clean: cleanValue, corrupted: nil,
                                      intervened: try metric.measure(hooked, inputs: inputs, reference: reference), detail: detail)
        }
    }
}
