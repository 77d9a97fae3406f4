import Foundation
import NeuroAnalysis
import NeuroEngine
import NeuroLanguage
import NeuroModels
import NeuroPlots

/// Sparse autoencoders in the language: `sae` trains one on activations (a
/// tensor, or a hook of a model run over its data or over texts),
/// `features` and `reconstruct` use it.
extension Builtins {
    static var autoencoders: [Builtin] { [sae, saeFeatures, saeReconstruct, saeFeature] }

    static let sae = Builtin(
        "sae",
        "sae(acts, kind: \"standard\", d_sae: 4·d_in, sparsity: default, k: 32, steps: 2000, batch: 1024, lr: 1e-3, holdout: 0.1, seed: 0) "
            + "or sae(model, data_or_texts, site: \"mlp_post 0\", pos: all, …)",
        "train a sparse autoencoder (standard, gated, topk or jumprelu) on activations [N, d_in] or on a model's hook; metrics on held-out activations, and for a model with logits the CE loss recovered with it spliced in",
        parameters: ["acts", "model", "data", "on", "site", "pos", "kind", "d_sae", "sparsity", "k", "steps", "batch", "lr", "holdout", "seed"],
        effects: .training
    ) { args in
        let kindName = try args.string(nil, "kind", default: "standard")
        guard let kind = SAEKind(rawValue: kindName) else {
            let hint = Suggest.closest(kindName, among: SAEKind.allCases.map(\.rawValue)).map { "; did you mean '\($0)'?" } ?? ""
            throw args.error("unknown kind '\(kindName)'\(hint) (standard, gated, topk or jumprelu)")
        }
        let collected = try saeActivations(args)
        let acts = collected.activations
        let dIn = acts.shape[1]
        let dSAE = try args.int(nil, "d_sae", default: 4 * dIn)
        var config = SAEConfig(kind: kind, dIn: dIn, dSAE: dSAE, seed: try args.seed(nil, default: 0))
        if args.value(nil, "sparsity") != nil { config.sparsity = try args.number(nil, "sparsity") }
        if args.value(nil, "k") != nil {
            guard kind == .topk else { throw args.error("'k' is for kind: \"topk\"; a \(kind.rawValue) autoencoder sets its sparsity with sparsity:") }
            config.k = try args.int(nil, "k")
        }
        try args.engine { try config.validate() }
        let holdout = try args.number(nil, "holdout", default: 0.1)
        guard holdout > 0, holdout < 1 else { throw args.error("'holdout' must be between 0 and 1 (the share of inputs kept out of training), got \(holdout)") }
        let (train, heldOut) = try args.engine { try holdoutSplit(acts, share: holdout, seed: config.seed) }
        let schedule = SparseAutoencoder.Schedule(steps: try args.int(nil, "steps", default: 2000), batchSize: try args.int(nil, "batch", default: 1024),
                                                  learningRate: try args.number(nil, "lr", default: 1e-3), seed: config.seed)
        let session = args.interpreter.session
        let autoencoder = try args.engine { try SparseAutoencoder(config, fittedTo: train) }
        // L0 and explained variance on the held-out inputs as training goes: at most about 100 points.
        var curve: [(pass: Int, l0: Double, explained: Double)] = []
        let reporter = session.reporter("sae \(kind.rawValue): passes")
        defer { reporter.finish() }
        let (loop, outcome) = try args.engine {
            try autoencoder.train(on: train, schedule: schedule, shouldStop: { Interruption.requested }) { progress in
                let every = max(1, progress.totalEpochs / 100)
                if progress.epoch % every == 0 || progress.epoch == progress.totalEpochs,
                   let measured = try? SAEMetrics(autoencoder, on: heldOut) {
                    curve.append((progress.epoch, measured.l0, measured.explainedVariance))
                }
                reporter.show(progress.epoch, of: progress.totalEpochs,
                              detail: "loss \(Formatter.number(progress.trainLoss))"
                                + (curve.last.map { " · L0 \(Formatter.number($0.l0)) · explained \(Formatter.number($0.explained))" } ?? ""))
            }
        }
        reporter.finish()
        var note: String? = nil
        switch outcome {
        // Ctrl-C: an error, and no autoencoder half trained is kept or reported.
        case .interrupted: throw EngineError(.interrupted, "interrupted")
        case .diverged(let epoch):
            note = "training diverged in pass \(epoch) (a non-finite loss); kept the last good weights — try a smaller lr:"
        default: break
        }
        let metrics = try args.engine { try SAEMetrics(autoencoder, on: heldOut) }
        let splice = try collected.splice.map { measure in try args.engine { try measure(autoencoder) } }
        let object = SAEObject(sae: autoencoder, metrics: metrics, losses: loop.history.trainLoss, source: collected.source,
                               splice: splice, note: note, hookName: collected.hookName)
        object.curve = curve
        object.inspection = collected.inspection ?? SAEInspection(activations: acts, labels: (0..<acts.shape[0]).map { "row \($0)" },
                                                                  unembed: nil, outputNames: [])
        args.interpreter.session.results.append(object)
        return .object(object)
    }

    static let saeFeatures = Builtin("features", "features(sae, acts)", "a sparse autoencoder's features [N, d_sae] of activations [N, d_in]",
                                     parameters: ["sae", "acts"]) { args in
        let (autoencoder, acts) = try saeAndActivations(args)
        return .tensor(try args.engine { try autoencoder.sae.features(of: acts) })
    }

    static let saeReconstruct = Builtin("reconstruct", "reconstruct(sae, acts)", "a sparse autoencoder's reconstruction [N, d_in] of activations [N, d_in]",
                                        parameters: ["sae", "acts"]) { args in
        let (autoencoder, acts) = try saeAndActivations(args)
        return .tensor(try args.engine { try autoencoder.sae.reconstruction(of: acts) })
    }

    static func saeAndActivations(_ args: CallArguments) throws -> (SAEObject, Tensor) {
        guard let autoencoder = try args.object(0, "sae", as: SAEObject.self, what: "a sparse autoencoder (made by sae(…))") else {
            throw args.error("missing argument 'sae'")
        }
        let acts = try args.tensor(1, "acts")
        guard acts.rank >= 1, acts.shape.last == autoencoder.sae.config.dIn else {
            throw args.error("activations must end in d_in = \(autoencoder.sae.config.dIn), got \(formatShape(acts.shape))")
        }
        return (autoencoder, try acts.reshaped([acts.count / autoencoder.sae.config.dIn, autoencoder.sae.config.dIn]))
    }

    // MARK: - Activations

    /// Activations an autoencoder trains on, where they came from, and (for a
    /// model with logits) how to measure it spliced back in.
    struct SAEActivations {
        let activations: Tensor
        let source: String
        let splice: ((SparseAutoencoder) throws -> SpliceResult)?
        var hookName: String? = nil
        var inspection: SAEInspection? = nil
    }

    /// The activations of `sae`'s call: a tensor (every axis but the last
    /// counts as inputs), or a model's hook run over its dataset or over texts.
    static func saeActivations(_ args: CallArguments) throws -> SAEActivations {
        let first = args.value(0, "acts") ?? args.value(nil, "model")
        switch first {
        case .object(let model as ModelObject)?: return try modelActivations(model, args)
        case .object(let model as LanguageModelObject)?: return try textActivations(model, args)
        case .object?, nil:
            if first == nil, args.value(nil, "site") != nil, let model = args.interpreter.session.model { return try modelActivations(model, args) }
            break
        default: break
        }
        for name in ["site", "pos", "on", "data"] where args.value(nil, name) != nil {
            throw args.error("'\(name)' is for training on a model's hook, sae(model, data, site: …); these activations are a tensor already")
        }
        let acts = try args.tensor(0, "acts")
        guard acts.rank >= 2, let width = acts.shape.last, width >= 1 else {
            throw args.error("activations must be [N, d_in] (or [..., d_in]), got \(formatShape(acts.shape))")
        }
        let flat = try acts.cast(to: .float32).reshaped([acts.count / width, width])
        try checkFinite(flat, args)
        return SAEActivations(activations: flat, source: "a \(formatShape(flat.shape)) tensor", splice: nil)
    }

    /// A model trained here, run over every input of its dataset: the hook's
    /// activations at `pos` (all positions by default).
    static func modelActivations(_ model: ModelObject, _ args: CallArguments) throws -> SAEActivations {
        let data = try args.object(nil, "on", as: DatasetObject.self, what: "a dataset") ?? args.object(1, "data", as: DatasetObject.self, what: "a dataset")
            ?? args.interpreter.session.requireData("sae")
        let split = data.dataset.all
        try checkFit(model, data, args)
        let point = try saePoint(model.model, args)
        let (_, cache) = try args.engine { try GradMode.withNoGrad { try model.model.run(split.tokens, cache: .only([point])) } }
        guard let full = cache[point], full.rank == 3 else { throw args.error("\(point.name) is not a [batch, pos, features] hook") }
        let (acts, mask, where_) = try positionActivations(full, args)
        let source = "\(point.name)\(where_) over \(split.count) inputs of \(data.dataset.task)"
        let names = data.dataset.fieldNames, values = data.dataset.fieldValues
        let rowsPerInput = acts.shape[0] / max(1, split.count)
        let rowNames = (0..<acts.shape[0]).map { row -> String in
            let input = split.indices[row / rowsPerInput]
            let fields = "(" + names.joined(separator: ", ") + ") = (" + values.map { String($0[input]) }.joined(separator: ", ") + ")"
            return rowsPerInput > 1 ? fields + " at position \(row % rowsPerInput)" : fields
        }
        let inspection = SAEInspection(activations: acts, labels: rowNames, unembed: try directPath(model.model, point),
                                       outputNames: (0..<model.model.config.dVocabOut).map(String.init))
        let labels = split.labels
        let splice = { (sae: SparseAutoencoder) throws -> SpliceResult in
            try SpliceResult.measure(sae, at: point, positions: mask, logits: { hooks in
                try GradMode.withNoGrad { try model.model.run(split.tokens, hooks: hooks).logits }
            }, loss: { try Metrics.crossEntropy($0, labels: labels).item() },
               logProbabilities: { logits in
                let last = try logits.slice(axis: 1, start: logits.shape[1] - 1).reshaped([logits.shape[0], logits.shape[2]])
                return try last.cast(to: .float64).logSoftmax(axis: -1)
            })
        }
        return SAEActivations(activations: acts, source: source, splice: splice, hookName: point.name, inspection: inspection)
    }

    /// A pretrained model run over texts: the hook's activations at every real token (padding left out).
    static func textActivations(_ model: LanguageModelObject, _ args: CallArguments) throws -> SAEActivations {
        guard let input = args.value(1, "on") ?? args.value(nil, "data") else {
            throw args.error("needs texts to run the model on: sae(m, [\"text\", …], site: \"mlp_post 0\") or text data")
        }
        let batch = try textBatch(model, input, args)
        let point = try saePoint(model.model, args)
        let (_, cache) = try args.engine {
            try GradMode.withNoGrad { try model.model.run(batch.ids, attentionMask: batch.mask, cache: .only([point])) }
        }
        guard let full = cache[point], full.rank == 3 else { throw args.error("\(point.name) is not a [batch, pos, features] hook") }
        if args.value(nil, "pos") != nil { throw args.error("'pos' is for a model trained here; on text every real token is used") }
        let width = full.shape[2], length = full.shape[1]
        let values = full.toFloats()
        var rows: [Float] = []
        for (b, real) in batch.lengths.enumerated() {
            rows += values[(b * length * width)..<((b * length + real) * width)]
        }
        let acts = try Tensor(rows, shape: [rows.count / width, width])
        try checkFinite(acts, args)
        let texts = batch.lengths.count
        // A decoder with a language-model head measures the autoencoder spliced in on its next-token loss.
        var splice: ((SparseAutoencoder) throws -> SpliceResult)? = nil
        if model.isDecoder && model.model.hasHead {
            let inputs = try args.engine { try TextInputs(ids: batch.ids, mask: batch.mask, lengths: batch.lengths) }
            let lengths = batch.lengths
            splice = { sae in
                try SpliceResult.measure(sae, at: point, positions: nil, logits: { hooks in
                    try GradMode.withNoGrad { try model.model.run(batch.ids, attentionMask: batch.mask, hooks: hooks).logits }
                }, loss: { try TextMetric.loss.measure($0, inputs: inputs) },
                   logProbabilities: { logits in
                    // Every real position's next-token distribution, padding left out.
                    let vocabulary = logits.shape[2]
                    let rows = try lengths.enumerated().map { b, length in
                        try logits.slice(axis: 0, start: b, end: b + 1).slice(axis: 1, start: 0, end: length).reshaped([length, vocabulary])
                    }
                    return try Tensor.concat(rows, axis: 0).cast(to: .float64).logSoftmax(axis: -1)
                })
            }
        }
        // Each token in its context: up to four tokens either side, the token itself in brackets.
        var labels: [String] = []
        for row in batch.rows.indices {
            let tokens = batch.rows[row].map(model.tokenizer.tokenString)
            for t in 0..<batch.lengths[row] {
                let left = tokens[max(0, t - 4)..<t].joined(), right = tokens[(t + 1)..<min(tokens.count, t + 5)].joined()
                labels.append("\(left)[\(tokens[t])]\(right)")
            }
        }
        let unembed = model.model.hasHead ? try directPath(model.model, point) : nil
        let inspection = SAEInspection(activations: acts, labels: labels, unembed: unembed,
                                       outputNames: (0..<model.model.config.dVocab).map(model.tokenizer.tokenString))
        return SAEActivations(activations: acts, source: "\(point.name) over \(acts.shape[0]) tokens of \(texts) text\(texts == 1 ? "" : "s")",
                              splice: splice, hookName: point.name, inspection: inspection)
    }

    /// The hook `site:` names, which must hold features on its last axis.
    static func saePoint(_ model: any HookedModel, _ args: CallArguments) throws -> HookPoint {
        guard let site = args.value(nil, "site") else { throw args.error("needs site: the hook to train on, such as site: \"mlp_post 0\"") }
        let point = try args.engine { try model.hooks.point(for: site, what: "site") }
        guard point.site.axes.count == 3, point.site.axes[0] == "batch", point.site.axes[1] == "pos", point.site.axes[2] != "1" else {
            throw args.error("\(point.name) is \(point.site.dimensions): an autoencoder needs a hook with one feature axis, [batch, pos, features]")
        }
        return point
    }

    /// [inputs·positions, d] (or the inputs at `pos`), the positions as a mask for splicing, and words for the source.
    static func positionActivations(_ full: Tensor, _ args: CallArguments) throws -> (Tensor, Tensor?, String) {
        let (n, length, width) = (full.shape[0], full.shape[1], full.shape[2])
        guard args.value(nil, "pos") != nil else {
            let acts = try full.contiguous().reshaped([n * length, width])
            try checkFinite(acts, args)
            return (acts, nil, " at every position")
        }
        var pos = try args.int(nil, "pos")
        if pos < 0 { pos += length }
        guard (0..<length).contains(pos) else { throw args.error("pos \(try args.int(nil, "pos")) is out of range for \(length) positions") }
        let acts = try full.slice(axis: 1, start: pos, end: pos + 1).contiguous().reshaped([n, width])
        try checkFinite(acts, args)
        var mask = [Float](repeating: 0, count: length)
        mask[pos] = 1
        return (acts, try Tensor(mask, shape: [length]), " at position \(pos)")
    }

    /// Activations with a NaN or infinity are refused, naming the first such row.
    static func checkFinite(_ acts: Tensor, _ args: CallArguments) throws {
        let values = acts.toFloats(), width = acts.shape[1]
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            let what = values[bad].isNaN ? "NaN" : (values[bad] > 0 ? "infinity" : "-infinity")
            throw args.error("activation row \(bad / width) holds \(what) (column \(bad % width)): an autoencoder needs finite activations")
        }
    }

    /// A seeded split of the rows: (training, held out), at least one row each.
    static func holdoutSplit(_ acts: Tensor, share: Double, seed: UInt64) throws -> (Tensor, Tensor) {
        let n = acts.shape[0]
        guard n >= 2 else { throw EngineError(.argument, subject: "sae", "needs at least 2 activation rows (to hold some out), got \(n)") }
        var rng = RandomGenerator(seed: seed &+ 1)
        let order = rng.permutation(n)
        let held = min(n - 1, max(1, Int((Double(n) * share).rounded())))
        let pick = { (rows: ArraySlice<Int>) throws -> Tensor in
            try acts.indexSelect(axis: 0, indices: Tensor(ints: Array(rows), shape: [rows.count]))
        }
        return (try pick(order[held...]), try pick(order[..<held]))
    }
}

// MARK: - One feature

extension Builtins {
    static let saeFeature = Builtin(
        "feature", "feature(sae, n, k: 10)",
        "one feature of a sparse autoencoder: the inputs it fires on most (tokens in context, or (a, b)), how its activations are spread, and its direct effect on the logits where the hook has one",
        parameters: ["sae", "n", "k"]
    ) { args in
        guard let autoencoder = try args.object(0, "sae", as: SAEObject.self, what: "a sparse autoencoder (made by sae(…))") else {
            throw args.error("missing argument 'sae'")
        }
        let dSAE = autoencoder.sae.config.dSAE
        let n = try args.int(1, "n")
        guard (0..<dSAE).contains(n) else { throw args.error("feature \(n) is out of range: the autoencoder has \(dSAE) features (0 to \(dSAE - 1))") }
        let k = try args.int(nil, "k", default: 10)
        guard k >= 1 else { throw args.error("'k' must be 1 or more, got \(k)") }
        guard let inspection = autoencoder.inspection else {
            throw args.error("this autoencoder was loaded from a file: it has no inputs to look at; features(s, acts) gives its features on yours")
        }
        let result = try args.engine { try featureResult(autoencoder, n, k: k, inspection) }
        return adoptResult(result, args)
    }

    /// The map from a hook's activation straight to the logits, where there is
    /// one: W_out then W_U after an MLP's neurons, W_U after anything in the
    /// residual stream (the final layer norm left out, as in direct logit attribution).
    static func directPath(_ model: any HookedModel, _ point: HookPoint) throws -> Tensor? {
        guard let unembed = model.parameter("unembed.W_U") else { return nil }
        switch point.site.axes.last {
        case "d_model": return unembed
        case "d_mlp":
            guard let layer = point.layer, point.site.localName.hasSuffix("hook_post"),
                  let out = model.parameter("blocks.\(layer).mlp.W_out") else { return nil }
            return try out.matmul(unembed)
        default: return nil
        }
    }

    static func featureResult(_ autoencoder: SAEObject, _ n: Int, k: Int, _ inspection: SAEInspection) throws -> ResultValue {
        let sae = autoencoder.sae
        let column = try sae.features(of: inspection.activations).slice(axis: 1, start: n, end: n + 1).toDoubles()
        let firing = column.filter { $0 > 0 }
        let order = column.indices.filter { column[$0] > 0 }.sorted { column[$0] != column[$1] ? column[$0] > column[$1] : $0 < $1 }
        let top = order.prefix(k).map { (inspection.labels[$0], column[$0]) }
        // A histogram of its non-zero activations, 20 bins from 0 to the largest.
        let peak = firing.max() ?? 0
        var counts = [Double](repeating: 0, count: 20)
        if peak > 0 { for v in firing { counts[min(19, Int(v / peak * 20))] += 1 } }
        var fields: [(String, Value)] = [
            ("feature", .number(Double(n))), ("frequency", .number(Double(firing.count) / Double(max(1, column.count)))),
            ("max", .number(peak)), ("mean_when_firing", .number(firing.isEmpty ? .nan : firing.reduce(0, +) / Double(firing.count))),
            ("top", .list(top.map { .record(Record([("input", .string($0.0)), ("activation", .number($0.1))])) })),
            ("histogram", .tensor(try Tensor(float64: counts, shape: [20]))),
            ("histogram_edges", .tensor(try Tensor(float64: (0...20).map { peak * Double($0) / 20 }, shape: [21]))),
        ]
        var effect: [Double] = []
        if let unembed = inspection.unembed {
            // The decoder direction back in the activations' scale, through the direct path.
            let direction = try sae.W_dec.detached().slice(axis: 0, start: n, end: n + 1) * (1 / sae.inputScale)
            effect = try direction.matmul(unembed).toDoubles()
            let ranked = effect.indices.sorted { effect[$0] != effect[$1] ? effect[$0] > effect[$1] : $0 < $1 }
            let named = { (i: Int) -> Value in .record(Record([("output", .string(inspection.outputNames[i])), ("effect", .number(effect[i]))])) }
            fields += [("logit_effect", .tensor(try Tensor(float64: effect, shape: [effect.count]))),
                       ("boosts", .list(ranked.prefix(5).map(named))), ("suppresses", .list(ranked.suffix(5).reversed().map(named)))]
        }
        let title = "feature \(n) of the \(sae.config.kind.rawValue) autoencoder on \(autoencoder.source): fires on "
            + "\(Formatter.number(Double(firing.count) / Double(max(1, column.count)) * 100))% of \(column.count) inputs, max \(Formatter.number(peak))"
        let rows = top.map { [$0.0, Formatter.number($0.1)] }
        return ResultValue(heading: "Feature \(n)", figure: Figure.feature, kind: "feature", title: title, fields: fields,
                           header: ["top input", "activation"], rows: rows, mainTensor: try Tensor(float64: column, shape: [column.count]))
    }
}

extension Figure {
    /// One feature: how its non-zero activations are spread, and the outputs it raises and lowers most.
    static func feature(_ r: ResultValue) throws -> Figure {
        let counts = try r.doubles("histogram"), edges = try r.doubles("histogram_edges")
        var panels: [Panel] = [.bars(BarPanel(title: "its activations where it fires", xLabel: "activation (bin start)", yLabel: "inputs",
                                              categories: edges.prefix(counts.count).map { Formatter.number($0) },
                                              groups: [.init(name: "inputs", values: counts)]))]
        if case .list(let boosts)? = r.fields["boosts"], case .list(let suppresses)? = r.fields["suppresses"] {
            var names: [String] = [], values: [Double] = []
            for case .record(let item) in boosts + suppresses.reversed() {
                if case .string(let name)? = item["output"], case .number(let value)? = item["effect"] {
                    names.append(name)
                    values.append(value)
                }
            }
            panels.append(.bars(BarPanel(title: "direct effect on the logits", xLabel: "output", yLabel: "logit change per unit",
                                         categories: names, groups: [.init(name: "effect", values: values)])))
        }
        return Figure(title: r.title, panels: panels)
    }
}
