import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroPlots
import NeuroModels
import NeuroAnalysis

/// Built-ins for activation patching: TransformerLens's sweeps, attribution
/// patching, path patching and principal-component ablation. Each returns a
/// `ResultValue` whose table is the labelled grid.
///
/// ```
/// s = sweep("z", with: corrupt(a + 1), by: "layer,pos,head")
/// s.normalized              # (patched − corrupted) / (clean − corrupted)
/// attribute("every_head", with: corrupt(a + 1))
/// path_patch(sender: "z 0", head: 1, receiver: "q 1", receiver_head: 0, with: corrupt(b + 1))
/// pc_ablate("resid_post 0", components: [0, 1], pos: 2)
/// ```
extension Builtins {
    static var patching: [Builtin] { [sweep, attribute, pathPatch, pcAblate] }

    static let patchingParameters = ["with", "metric", "direction", "model", "data", "split"] + textInterventionParameters

    // MARK: - Shared arguments

    /// A `metric:` argument, by `Metric`'s names.
    static func metricArgument(_ args: CallArguments, default fallback: Metric) throws -> Metric {
        let name = try args.string(nil, "metric", default: fallback.rawValue)
        guard let metric = Metric(rawValue: name) else {
            throw args.error("unknown metric '\(name)' (\(Metric.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return metric
    }

    /// The patching engine of a built-in: every input of the split, clean
    /// and as `with: corrupt(…)` changes it, with the metric and direction
    /// asked for; `corruption` names the change and the inputs.
    static func patchingEngine(_ args: CallArguments) throws -> (engine: ActivationPatching, model: any HookedModel, corruption: String) {
        if let text = try textTarget(args) { return try textPatchingEngine(text, args) }
        let target = try evaluationTarget(args, modelIndex: nil, dataIndex: nil)
        let model = target.model
        guard let corruption = try args.object(nil, "with", as: CorruptionObject.self, what: "corrupted inputs, corrupt(…)") else {
            throw args.error("needs 'with: corrupt(…)', the inputs that differ from the clean ones")
        }
        let corrupted = try target.corrupted(corruption, args.interpreter)
        let metric = try metricArgument(args, default: .logitDiff)
        let directionName = try args.string(nil, "direction", default: PatchDirection.denoise.rawValue)
        guard let direction = PatchDirection(rawValue: directionName) else {
            throw args.error("unknown direction '\(directionName)' (denoise: run corrupted, patch in clean; noise: the reverse)")
        }
        let engine = try analysis(args) {
            try ActivationPatching(model.model, clean: target.tokens, corrupted: corrupted,
                                   metric: PatchingMetric(metric, labels: target.labels), direction: direction)
        }
        engine.shouldStop = { Interruption.requested }
        return (engine, model.model, "\(corruption.summary) · \(target.description)")
    }

    // MARK: - What to sweep

    static let sweepAxisAliases: [String: SweepAxis] = [
        "layers": .layer, "position": .pos, "positions": .pos, "heads": .head, "head_index": .head,
        "dest": .destPos, "src": .srcPos, "neurons": .neuron,
    ]

    /// The specs of `sweep(what, by: …, layer: …)`: a site (`resid_pre`,
    /// `z`, `mlp_post 0`, `blocks.0.attn.hook_pattern`) or a bundle
    /// (`every_block`, `every_head`), with its axes.
    static func sweepSpecs(_ args: CallArguments, _ model: any HookedModel) throws -> [SweepSpec] {
        let what = try args.string(0, "site")
        let byText = try args.value(nil, "by").map { _ in try args.string(nil, "by") }
        let axes = try byText.map { try sweepAxes($0, args) }
        switch what {
        case "every_block":
            guard axes == nil || axes == [.layer, .pos] else { throw args.error("every_block sweeps by \"layer,pos\"") }
            return SweepSpec.everyBlock
        case "every_head":
            guard let axes else { return SweepSpec.everyHead(byPosition: false) }
            guard axes == [.layer, .head] || axes == [.layer, .pos, .head] else {
                throw args.error("every_head sweeps by \"layer,head\" or \"layer,pos,head\"")
            }
            return SweepSpec.everyHead(byPosition: axes.contains(.pos))
        default:
            let (site, fixed) = try sweepSite(what, model, args)
            let layer = try args.value(nil, "layer") == nil ? fixed : args.int(nil, "layer")
            let fallback: [SweepAxis] = (site.isPerBlock && layer == nil ? [.layer] : []) + (site.hasHeads ? [.head] : [.pos])
            return [SweepSpec(site, by: axes ?? fallback, layer: layer)]
        }
    }

    /// A site and, when the name gives one, its layer: `z 0` and `pattern0`
    /// fix the layer; `z` leaves it to the `layer` axis.
    static func sweepSite(_ name: String, _ model: any HookedModel, _ args: CallArguments) throws -> (HookSite, Int?) {
        if name.contains(where: \.isNumber) {
            let point = try analysis(args) { try model.hooks.point(named: name) }
            return (point.site, point.layer)
        }
        do {
            return (try model.hooks.point(short: name).site, nil)                   // embed, unembed_in, …
        } catch let unresolved as EngineError {
            // A per-block site named without a layer: found in block 0, swept over all.
            guard let point = try? model.hooks.point(short: name, layer: 0) else { return try args.engine { throw unresolved } }
            return (point.site, nil)
        }
    }

    /// `"layer,pos,head"` (commas, spaces or × between names) as axes.
    static func sweepAxes(_ text: String, _ args: CallArguments) throws -> [SweepAxis] {
        let names = text.split { $0 == "," || $0 == " " || $0 == "×" }.map(String.init)
        return try names.map { name in
            if let axis = SweepAxis(rawValue: name) ?? sweepAxisAliases[name] { return axis }
            let known = SweepAxis.allCases.map(\.rawValue)
            let hint = Suggest.closest(name, among: known).map { "; did you mean '\($0)'?" } ?? ""
            throw args.error("unknown axis '\(name)'\(hint) (\(known.joined(separator: ", ")))")
        }
    }

    // MARK: - Results

    /// The fields, title line and table every sweep-shaped result shares.
    static func sweepParts(_ s: PatchingSweep) -> (fields: [(String, Value)], title: String, header: [String], rows: [[String]]) {
        let labels = Record(zip(s.axes, s.axisLabels).map { ($0, .list($1.map { .string($0) })) })
        let fields: [(String, Value)] = [
            ("values", .tensor(s.values)), ("normalized", .tensor(s.normalized)), ("axes", .list(s.axes.map { .string($0) })),
            ("labels", .record(labels)), ("clean", .number(s.clean)), ("corrupted", .number(s.corrupted)),
            ("baseline", .number(s.baseline)), ("metric", .string(s.metric)), ("direction", .string(s.direction.rawValue)),
            ("sites", .list(s.sites.map { .string($0.shortName) })), ("passes", .number(Double(s.forwardPasses))),
        ]
        let run = s.direction == .denoise ? "corrupted run, clean activations" : "clean run, corrupted activations"
        var title = "\(s.title) · \(s.direction.rawValue) (\(run)) · \(s.metric) clean \(Formatter.number(s.clean)), corrupted \(Formatter.number(s.corrupted))"
        if let best = s.strongest, !s.axes.isEmpty {
            let cell = zip(s.axes, best.labels).map { "\($0) \($1)" }.joined(separator: " ")
            title += " · strongest \(cell): \(Formatter.number(best.value))"
                + (best.normalized.map { " (\(Formatter.percent($0)) of clean − corrupted)" } ?? "")
        }
        if !s.isNormalizable { title += " · normalized " + NormalizedEffect.undefinedText }
        let (header, rows) = gridTable(s)
        return (fields, title, header, rows)
    }

    /// The grid as a table: one row per index of the leading axes and one
    /// column per index of the last when that fits (at most 12 columns);
    /// otherwise one row per cell with its labels, value and normalised effect.
    static func gridTable(_ s: PatchingSweep) -> (header: [String], rows: [[String]]) {
        let values = s.values.toDoubles().map { String(format: "%.4g", $0) }
        let normalized = s.normalized.toDoubles().map { $0.isNaN ? "n/a" : Formatter.percent($0) }
        guard s.axes.count >= 2, let last = s.axes.last, let columns = s.axisLabels.last, columns.count <= 12 else {
            let rows = values.indices.map { s.labels(ofCell: $0) + [values[$0], normalized[$0]] }
            return (s.axes + ["value", "normalized"], rows)
        }
        let header = Array(s.axes.dropLast()) + columns.map { "\(last) \($0)" }
        let rows = stride(from: 0, to: values.count, by: columns.count).map { start in
            Array(s.labels(ofCell: start).dropLast()) + Array(values[start..<(start + columns.count)])
        }
        return (header, rows)
    }

    /// Runs analysis code; its errors name this built-in in place of the
    /// analysis's own prefix (`path patch: …` becomes `path_patch: …`).
    static func analysis<T>(_ args: CallArguments, _ body: () throws -> T) throws -> T {
        try args.engine {
            do {
                return try body()
            } catch let failure as EngineError where failure.subject != nil {
                throw failure.about(args.function)      // typed: the subject is a field, not read from the text
            }
        }
    }

    /// What a sweep's progress line calls it: `z by layer × pos × head`, or the sites of a stack.
    static func sweepName(_ specs: [SweepSpec]) -> String {
        specs.count == 1 ? specs[0].name : specs.map(\.site.shortName).joined(separator: ", ")
    }

    static func adoptResult(_ result: ResultValue, _ args: CallArguments) -> Value {
        args.interpreter.session.results.append(result)
        return .object(result)
    }

    // MARK: - Built-ins

    static let sweep = Builtin(
        "sweep", "sweep(\"z\", with: corrupt(a + 1), by: \"layer,pos,head\", metric: \"logit_diff\", direction: \"denoise\")",
        "activation patching at every layer × position × head of a site, or every_block / every_head, as TransformerLens's patching sweeps",
        parameters: ["site", "by", "layer"] + patchingParameters
    ) { args in
        let (engine, model, corruption) = try patchingEngine(args)
        let specs = try sweepSpecs(args, model)
        let reporter = args.interpreter.session.reporter("sweep " + sweepName(specs))
        defer { reporter.finish() }
        let s = try analysis(args) { try engine.sweep(specs, progress: reporter.callback) }
        let parts = sweepParts(s)
        let result = ResultValue(heading: "activation patching", figure: Figure.sweep, kind: "sweep", title: "patching \(parts.title) · \(corruption)",
                                 fields: parts.fields + [("with", .string(corruption))],
                                 header: parts.header, rows: parts.rows, mainTensor: s.values)
        return adoptResult(result, args)
    }

    static let attribute = Builtin(
        "attribute", "attribute(\"every_head\", with: corrupt(a + 1), by: \"layer,pos,head\", check: true)",
        "attribution patching: every cell of a sweep from one backward pass, with its agreement to real patching (check: false skips that)",
        parameters: ["site", "by", "layer", "check"] + patchingParameters
    ) { args in
        let (engine, model, corruption) = try patchingEngine(args)
        let specs = try sweepSpecs(args, model)
        let session = args.interpreter.session
        let reporter = session.reporter("attribute " + sweepName(specs))
        defer { reporter.finish() }
        let estimate = try analysis(args) { try engine.attribute(specs, progress: reporter.callback) }
        reporter.finish()
        let parts = sweepParts(estimate)
        var title = "\(parts.title) · \(corruption)"
        var fields = parts.fields + [("with", .string(corruption))]
        if try args.bool(nil, "check", default: true) {
            let checking = session.reporter("attribute: checking " + sweepName(specs))
            defer { checking.finish() }
            let actual = try analysis(args) { try engine.sweep(specs, progress: checking.callback) }
            let agreement = try analysis(args) { try AttributionAgreement(estimate: estimate, actual: actual) }
            title += " · agrees with patching: r = \(String(format: "%.3f", agreement.correlation)), signs \(Formatter.percent(agreement.signAgreement))"
                + ", max error \(Formatter.number(agreement.maxError))"
            fields += [("actual", .tensor(actual.values)), ("actual_normalized", .tensor(actual.normalized)),
                       ("correlation", .number(agreement.correlation)), ("sign_agreement", .number(agreement.signAgreement)),
                       ("max_error", .number(agreement.maxError))]
        }
        let result = ResultValue(heading: "attribution patching", figure: Figure.sweep,
                                 kind: "attribution", title: title, fields: fields, header: parts.header, rows: parts.rows,
                                 mainTensor: estimate.values)
        return adoptResult(result, args)
    }

    static let pathPatch = Builtin(
        "path_patch", "path_patch(sender: \"z 0\", head: 1, receiver: \"q 1\", receiver_head: 0, with: corrupt(a + 1))",
        "path patching: the sender's output from the other run, seen only by the receivers (q/k/v of a layer, mlp of a layer, or logits)",
        parameters: ["sender", "head", "pos", "receiver", "receiver_head"] + patchingParameters
    ) { args in
        let (engine, model, corruption) = try patchingEngine(args)
        func optionalInt(_ name: String) throws -> Int? { args.value(nil, name) == nil ? nil : try args.int(nil, name) }
        let senderPoint = try analysis(args) { try model.hooks.point(for: try args.required(0, "sender"), what: "sender") }
        let sender = PathSender(senderPoint, head: try optionalInt("head"), position: try optionalInt("pos"))
        let names: [String]
        switch try args.required(1, "receiver") {
        case .string(let name): names = [name]
        case .list(let items):
            names = try items.map { item in
                guard case .string(let name) = item else { throw args.error("'receiver' must be a name or a list of names") }
                return name
            }
        case let other: throw args.error("'receiver' must be a name or a list of names, got \(other.typeName)")
        }
        let receiverHead = try optionalInt("receiver_head")
        let receivers = try names.map { try pathReceiver($0, head: receiverHead, model, args) }
        let reporter = args.interpreter.session.reporter("path_patch \(sender)")
        defer { reporter.finish() }
        let r = try analysis(args) { try engine.pathPatch(from: sender, to: receivers, progress: reporter.callback) }
        let route = "\(sender) → \(receivers.map(\.description).joined(separator: ", "))"
        let title = "path patching \(route) · \(r.direction.rawValue) · \(r.metric) \(Formatter.number(r.patched))"
            + " (clean \(Formatter.number(r.clean)), corrupted \(Formatter.number(r.corrupted))) · "
            + (r.normalized.map { "\(Formatter.percent($0)) of clean − corrupted" } ?? "normalized " + NormalizedEffect.undefinedText) + " · \(corruption)"
        let fields: [(String, Value)] = [
            ("sender", .string(sender.description)), ("receivers", .list(receivers.map { .string($0.description) })),
            ("patched", .number(r.patched)), ("normalized", r.normalized.map { .number($0) } ?? .none), ("clean", .number(r.clean)),
            ("corrupted", .number(r.corrupted)), ("baseline", .number(r.baseline)), ("metric", .string(r.metric)),
            ("direction", .string(r.direction.rawValue)), ("with", .string(corruption)),
        ]
        let result = ResultValue(heading: "path patching", figure: Figure.pathPatch, kind: "path_patch", title: title, fields: fields,
                                 header: ["sender", "receivers", r.metric, "normalized"],
                                 rows: [[sender.description, receivers.map(\.description).joined(separator: ", "),
                                         Formatter.number(r.patched), r.normalized.map(Formatter.percent) ?? "n/a"]],
                                 mainTensor: try Tensor(float64: [r.patched], shape: [1]))
        return adoptResult(result, args)
    }

    /// A receiver by name: `q 1`, `k 1`, `v 1` (any hook name of those),
    /// `mlp 1` (or `mlp_pre 1`), or `logits`.
    static func pathReceiver(_ name: String, head: Int?, _ model: any HookedModel, _ args: CallArguments) throws -> PathReceiver {
        let words = name.split(separator: " ").map(String.init)
        if ["logits", "unembed", "resid_final"].contains(name) { return .logits }
        if words.count == 2, words[0] == "mlp", let layer = Int(words[1]) {
            return .mlp(layer: layer < 0 ? layer + model.config.nLayers : layer)
        }
        let point = try analysis(args) { try model.hooks.point(named: name) }
        switch (point.site, point.layer) {
        case (.q, let l?): return .query(layer: l, head: head)
        case (.k, let l?): return .key(layer: l, head: head)
        case (.v, let l?): return .value(layer: l, head: head)
        case (.mlpPre, let l?): return .mlp(layer: l)
        case (.unembedIn, _), (.unembedOut, _): return .logits
        default:
            throw args.error("'\(name)' cannot receive; a receiver is q, k or v of a layer (\"q 1\"), the MLP of a layer (\"mlp 1\") or \"logits\"")
        }
    }

    static let pcAblate = Builtin(
        "pc_ablate", "pc_ablate(\"resid_post 0\", components: [0, 1], pos: 2, head: 0, metric: \"accuracy\")",
        "project principal components of an activation out at its hook and list the inputs that go from right to wrong",
        parameters: ["site", "components", "pos", "head", "metric", "model", "data", "split"]
    ) { args in
        let target = try evaluationTarget(args, modelIndex: nil, dataIndex: nil)
        let model = target.model, data = target.dataset, rowsOfSplit = target.split.indices
        let point = try analysis(args) { try model.model.hooks.point(for: try args.required(0, "site"), what: "site") }
        let components: [Int]
        switch try args.required(1, "components") {
        case .list(let items): components = try items.map { try Operators.integer($0, what: "component", at: args.range) }
        case .number: components = [try args.int(1, "components")]
        case .range(let a, let b): components = Array(a..<max(a, b))
        case let other: throw args.error("'components' must be a list of component ranks, got \(other.typeName)")
        }
        func optionalInt(_ name: String) throws -> Int? { args.value(nil, name) == nil ? nil : try args.int(nil, name) }
        let metric = try metricArgument(args, default: .accuracy)
        let r = try analysis(args) {
            try ComponentAblation(model.model, tokens: target.tokens, labels: target.labels, at: point, components: components,
                                  head: try optionalInt("head"), position: try optionalInt("pos"), metric: metric)
        }
        // r's rows count within the split; the dataset's fields by rows of the whole grid.
        let labels = target.labels.toInts()
        func input(_ row: Int) -> [(String, Value)] {
            zip(data.fieldNames, data.fieldValues).map { ($0, .number(Double($1[rowsOfSplit[row]]))) } + [("label", .number(Double(labels[row])))]
        }
        let rows = r.broken.map { row in
            data.fieldValues.map { String($0[rowsOfSplit[row]]) } + [String(labels[row]), String(r.predictions.before[row]), String(r.predictions.after[row])]
        }
        let slice = [r.head.map { "head \($0)" }, r.position.map { "pos \($0)" }].compactMap { $0 }.joined(separator: " ")
        let variance = Formatter.percent(r.explainedVarianceRatio.reduce(0, +))
        let title = "pc ablation \(point.name)\(slice.isEmpty ? "" : " " + slice), components \(components.map(String.init).joined(separator: " "))"
            + " (\(variance) of the variance): accuracy \(Formatter.percent(r.accuracy.before)) → \(Formatter.percent(r.accuracy.after))"
            + (metric == .accuracy ? "" : ", \(metric.label) \(Formatter.number(r.before)) → \(Formatter.number(r.after))")
            + " · \(r.broken.count) input\(r.broken.count == 1 ? "" : "s") broke, \(r.fixed.count) fixed · \(target.description)"
        let fields: [(String, Value)] = [
            ("broken", .list(r.broken.map { .record(Record(input($0))) })), ("fixed", .list(r.fixed.map { .record(Record(input($0))) })),
            ("accuracy_before", .number(r.accuracy.before)), ("accuracy_after", .number(r.accuracy.after)),
            ("before", .number(r.before)), ("after", .number(r.after)), ("metric", .string(metric.rawValue)),
            ("components", numbers(components)), ("explained", try tensor(r.explainedVarianceRatio)),
            ("directions", .tensor(r.directions)), ("site", .string(point.name)),
        ]
        let brokenFields = r.broken.flatMap { row in data.fieldValues.map { $0[rowsOfSplit[row]] } }
        let result = ResultValue(heading: "principal-component ablation", figure: Figure.pcAblation,
                                 kind: "pc_ablation", title: title, fields: fields,
                                 header: data.fieldNames + ["label", "before", "after"], rows: rows,
                                 mainTensor: try Tensor(ints: brokenFields, shape: [r.broken.count, data.fieldNames.count]))
        return adoptResult(result, args)
    }
}

// MARK: - Pictures

extension Figure {
    /// A `sweep` or `attribute` result: the normalised effect of every cell.
    static func sweep(_ r: ResultValue) throws -> Figure { Figure(title: r.title, panels: try sweepPanels(r)) }

    /// A `path_patch` result: clean, corrupted and patched metric as bars.
    static func pathPatch(_ r: ResultValue) throws -> Figure {
        Figure(title: r.title, panels: [.bars(BarPanel(title: "path patching", xLabel: "", yLabel: r.string("metric"),
                                                       categories: ["clean", "corrupted", "patched"],
                                                       groups: [.init(name: r.string("metric"), values: ["clean", "corrupted", "patched"].map { r.number($0) })]))])
    }

    /// A `pc_ablate` result: accuracy before and after.
    static func pcAblation(_ r: ResultValue) throws -> Figure {
        Figure(title: r.title, panels: [.bars(BarPanel(title: "accuracy", xLabel: "", yLabel: "accuracy", categories: ["before", "after"],
                                                       groups: [.init(name: "accuracy", values: [r.number("accuracy_before"), r.number("accuracy_after")])]))])
    }

    /// The normalised effect of every cell, labelled by the sweep's axes;
    /// with three axes, one heatmap per index of the first. Attribution
    /// with a check adds real patching beside it.
    static func sweepPanels(_ r: ResultValue) throws -> [Panel] {
        let axes = r.strings("axes")
        var labels: [[String]] = []
        if case .record(let record)? = r.fields["labels"] {
            labels = axes.map { axis in
                if case .list(let items)? = record[axis] { return items.map(Formatter.printed) }
                return []
            }
        }
        func panel(_ field: String, _ title: String) throws -> Panel {
            let t = try r.tensor(field)
            let shape = t.shape
            let values = t.toDoubles()
            func axisLabels(_ i: Int) -> [String] {
                i < labels.count && labels[i].count == shape[i] ? labels[i] : (0..<shape[i]).map(String.init)
            }
            switch shape.count {
            case 0, 1:
                let columns = shape.first ?? 1
                let facet = HeatmapPanel.Facet(title: "", values: [values])
                return .heatmap(heatmap(title: title, facets: [facet], rowLabels: [""],
                                        columnLabels: shape.isEmpty ? [""] : axisLabels(0).prefix(columns).map { $0 },
                                        xLabel: axes.first ?? "", yLabel: ""))
            case 2:
                return .heatmap(heatmap(title: title, facets: [.init(title: "", values: grid(values, rows: shape[0], columns: shape[1]))],
                                        rowLabels: axisLabels(0), columnLabels: axisLabels(1), xLabel: axes[1], yLabel: axes[0]))
            default:
                let inner = shape.dropFirst().reduce(1, *)
                let (rows, columns) = (shape[1], inner / max(shape[1], 1))
                let outer = axisLabels(0)
                let facets = (0..<min(shape[0], maxFacets)).map { f in
                    HeatmapPanel.Facet(title: "\(axes[0]) \(outer[f])",
                                       values: grid(Array(values[(f * inner)..<((f + 1) * inner)]), rows: rows, columns: columns))
                }
                return .heatmap(heatmap(title: title, facets: facets, rowLabels: axisLabels(1),
                                        columnLabels: shape.count == 3 ? axisLabels(2) : (0..<columns).map(String.init),
                                        xLabel: axes.count > 2 ? axes[2] : "", yLabel: axes[1]))
            }
        }
        let name = r.kind == "attribution" ? "attribution patching" : "activation patching"
        guard try r.doubles("normalized").contains(where: { !$0.isNaN }) else {
            // The corruption changed nothing: there is no share to show, only the metric itself.
            return [try panel("values", "\(name): \(r.string("metric")) (normalized \(NormalizedEffect.undefinedText))")]
        }
        var panels = [try panel("normalized", "\(name): share of clean − corrupted restored (\(r.string("metric")))")]
        if r.fields["actual_normalized"] != nil {
            panels.append(try panel("actual_normalized", "activation patching, for comparison"))
        }
        return panels
    }
}
