import Foundation
import NeuroAnalysis
import NeuroEngine
import NeuroLanguage
import NeuroModels
import NeuroPlots
import NeuroText

/// `scan`: every neuron of a hook in every layer, read in one forward pass
/// over a text (a pretrained model) or a dataset (a model trained here),
/// averaged over the occurrences of each category's words.
extension Builtins {
    static let scan = Builtin(
        "scan",
        "scan(model, text, categories: {name: [words]}, site: \"mlp_post\", layers: all, neurons: all, threshold: 0.2, top_k: 5, "
            + "permutations: 100, seed: 0, window: 256, config: \"scan.json\")",
        "neurons by semantic category, from one forward pass: per neuron and category the mean activation over the category's words, "
            + "its selectivity against the rest of the text, the top tokens, and how many neurons pass the threshold by chance",
        parameters: ["model", "text", "on", "data", "categories", "site", "layers", "neurons", "threshold", "top_k", "permutations",
                     "seed", "window", "config", "split", "name"],
        effects: .files
    ) { args in
        var settings = try ScanSettings(args)
        let input: ScanInput
        switch args.value(0, "model") {
        case .object(let model as ModelObject)?:
            input = try dataScanInput(model, &settings, args)
        default:
            input = try textScanInput(&settings, args)
        }
        let warn = args.interpreter.output
        for (c, missing) in input.text.missing.enumerated() where !missing.isEmpty && input.text.occurrences[c] > 0 {
            warn("warning: scan: \(missing.count) word\(missing.count == 1 ? "" : "s") of '\(input.text.categories[c])' never occur"
                 + "\(missing.count == 1 ? "s" : "") in the text: \(missing.joined(separator: ", "))")
        }
        let reporter = args.interpreter.session.reporter("scan \(input.neurons.count) neurons: permutations")
        defer { reporter.finish() }
        let scan = try args.engine {
            try NeuronScan(text: input.text, activations: input.activations, neurons: input.neurons, threshold: settings.threshold,
                           topK: settings.topK, permutations: settings.permutations, seed: settings.seed,
                           shouldStop: { Interruption.requested }, progress: reporter.callback)
        }
        return adoptResult(scanResult(scan, input: input, settings: settings), args)
    }

    // MARK: - Text

    /// The scan of a pretrained model over a text: the text cut into words by
    /// the model's tokenizer, windows of whole words run as one batch.
    static func textScanInput(_ settings: inout ScanSettings, _ args: CallArguments) throws -> ScanInput {
        let (model, given) = try textModelAndInput(args, input: "text")
        if let given = given ?? args.value(nil, "on") {
            guard case .string(let text) = given else { throw args.error("'text' must be a string, got \(given.typeName)") }
            settings.text = text
        }
        let text = settings.text ?? ScanDefaults.text
        guard !text.allSatisfy(\.isWhitespace) else { throw args.error("the text is empty: there is nothing to scan") }
        let categories = settings.categories ?? ScanDefaults.categories
        settings.text = text
        settings.categories = categories
        let tokenizer = model.tokenizer
        let key = { (ids: [Int]) -> String in
            ((try? tokenizer.decode(ids)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // The text's words, special tokens left out of the scan (but kept in what the model reads).
        let groups = tokenizer.encodeWords(text)
        var words: [ScanText.Word] = []
        for group in groups {
            let plain = group.filter { !tokenizer.isSpecial($0) }
            guard !plain.isEmpty else { continue }
            words.append(ScanText.Word(key: key(plain), tokens: plain.map(tokenizer.tokenString)))
        }
        guard !words.isEmpty else { throw args.error("the text has only special tokens: there is nothing to scan") }
        let scanText = ScanText(words: words, categories: categories) { entry in
            tokenizer.encodeWords(entry).map { key($0.filter { !tokenizer.isSpecial($0) }) }
        }
        let rows = try textWindows(model, groups, window: settings.window, args)
        let (site, layers) = try scanSite(model.model, &settings, args)
        let activations = try args.engine { () -> [Float] in
            let batch = try model.batch(rows: rows.map(\.ids))
            let points = layers.map { HookPoint(site, layer: $0) }
            let (_, cache) = try GradMode.withNoGrad {
                try model.model.run(batch.ids, attentionMask: batch.mask, cache: .only(Set(points)))
            }
            return try gatherActivations(points.map { cache[$0] }, positions: rows.map(\.scanned), limit: settings.neurons)
        }
        return ScanInput(text: scanText, activations: activations, neurons: scanNeurons(layers, settings),
                         modelName: settings.name ?? model.name, site: site, layers: layers, windows: rows.count)
    }

    /// One row of a text scan: the ids the model reads and the positions of those scanned.
    struct ScanRow {
        let ids: [Int]
        let scanned: [Int]
    }

    /// The text's words in windows of at most `window` tokens (special tokens
    /// included), cut between words, each framed as the model frames a text.
    static func textWindows(_ model: LanguageModelObject, _ groups: [[Int]], window: Int?, _ args: CallArguments) throws -> [ScanRow] {
        let tokenizer = model.tokenizer
        let bos = model.beginningToken.map { [$0] } ?? []
        let limit = min(window ?? 256, model.model.config.nCtx)
        let room = limit - tokenizer.specialTokensPerText - bos.count
        guard room > 0 else {
            throw args.error("a window of \(limit) tokens leaves no room for text after the \(limit - room) special tokens each row has")
        }
        var windows: [[Int]] = [[]]
        for group in groups {
            for piece in stride(from: 0, to: group.count, by: room).map({ Array(group[$0..<min($0 + room, group.count)]) }) {
                if windows[windows.count - 1].count + piece.count > room { windows.append([]) }
                windows[windows.count - 1] += piece
            }
        }
        return windows.filter { !$0.isEmpty }.map { ids in
            let framed = bos + tokenizer.addingSpecialTokens(to: ids)
            // Where the text's ids sit in the framed row: after the prefix the frame adds.
            let offset = (0...(framed.count - ids.count)).first { Array(framed[$0..<($0 + ids.count)]) == ids } ?? bos.count
            let scanned = ids.indices.filter { !tokenizer.isSpecial(ids[$0]) }.map { $0 + offset }
            return ScanRow(ids: framed, scanned: scanned)
        }
    }

    // MARK: - Data (a model trained here)

    /// The scan of a model trained here over its dataset: each input token a
    /// word of its own (the `=` token not scanned), categories sets of tokens.
    static func dataScanInput(_ model: ModelObject, _ settings: inout ScanSettings, _ args: CallArguments) throws -> ScanInput {
        if args.value(nil, "text") != nil || args.value(nil, "on") != nil || settings.text != nil {
            throw args.error("a model trained here is scanned over its dataset, scan(model, data, categories: {name: [tokens]}); text is for pretrained models")
        }
        let target = try evaluationTarget(args)
        guard let categories = settings.categories else {
            throw args.error("needs categories: sets of input tokens, such as categories: {small: [0, 1, 2], large: [110, 111, 112]}")
        }
        let dataset = target.dataset
        let tokens = target.tokens.toInts(), width = target.tokens.shape[1]
        var words: [ScanText.Word] = []
        var scanned: [[Int]] = []
        for row in 0..<target.split.count {
            var positions: [Int] = []
            for pos in 0..<width where tokens[row * width + pos] != dataset.equalsToken {
                words.append(ScanText.Word(key: String(tokens[row * width + pos]), tokens: [String(tokens[row * width + pos])]))
                positions.append(pos)
            }
            scanned.append(positions)
        }
        for (name, entries) in categories {
            for entry in entries where Int(entry).map({ $0 < 0 || $0 >= dataset.dVocab || $0 == dataset.equalsToken }) ?? true {
                throw args.error("category '\(name)': '\(entry)' is not an input token of \(dataset.task) (0 to \(dataset.dVocab - 1), '=' excluded)")
            }
        }
        let scanText = ScanText(words: words, categories: categories) { [$0] }
        let (site, layers) = try scanSite(model.model, &settings, args)
        let activations = try args.engine { () -> [Float] in
            let points = layers.map { HookPoint(site, layer: $0) }
            let (_, cache) = try GradMode.withNoGrad { try model.model.run(target.tokens, cache: .only(Set(points))) }
            return try gatherActivations(points.map { cache[$0] }, positions: scanned, limit: settings.neurons)
        }
        let name = settings.name ?? args.interpreter.globalName(of: model) ?? "model"
        return ScanInput(text: scanText, activations: activations, neurons: scanNeurons(layers, settings),
                         modelName: name, site: site, layers: layers, windows: target.split.count)
    }

    // MARK: - Shared

    /// The site and layers a scan reads: a per-layer hook with a neuron axis ([batch, pos, neurons]).
    static func scanSite(_ model: any HookedModel, _ settings: inout ScanSettings, _ args: CallArguments) throws -> (HookSite, [Int]) {
        let name = settings.site
        let nLayers = model.config.nLayers
        let point = try args.engine { () -> HookPoint in
            if let full = try? model.hooks.point(named: name) { return full }
            return try model.hooks.point(short: name, layer: 0)
        }
        let site = point.site
        guard site.isPerBlock else {
            throw args.error("site '\(name)' is not in a layer; scan reads one hook per layer, such as mlp_post, mlp_pre, resid_post or mlp_out")
        }
        guard site.axes.count == 3, site.axes[0] == "batch", site.axes[1] == "pos", site.axes[2] != "1" else {
            throw args.error("site '\(name)' is \(site.dimensions): scan needs a hook with one neuron axis, [batch, pos, neurons], such as mlp_post")
        }
        // A full name with its layer ("blocks.3.mlp.hook_post") scans that layer alone.
        if settings.layers == nil, name.hasPrefix("blocks."), let layer = point.layer { settings.layers = [layer] }
        let layers = settings.layers ?? Array(0..<nLayers)
        for layer in layers where layer < 0 || layer >= nLayers {
            throw args.error("layer \(layer) is out of range: the model has \(nLayers) layer\(nLayers == 1 ? "" : "s") (0 to \(nLayers - 1))")
        }
        guard Set(layers).count == layers.count else { throw args.error("'layers' names a layer twice: \(layers)") }
        let width = site.axes[2] == "d_mlp" ? model.config.dMLP : model.config.dModel
        if let limit = settings.neurons {
            guard limit > 0 else { throw args.error("'neurons' must be 1 or more, got \(limit)") }
            guard limit <= width else {
                throw args.error("'neurons' is \(limit), more than the \(width) neurons of \(site.shortName) in each layer")
            }
        }
        settings.width = width
        return (site, layers)
    }

    /// The activations of the scanned positions, [tokens, neurons]: row by
    /// row of the batch, each layer's first `limit` neurons side by side.
    static func gatherActivations(_ tensors: [Tensor?], positions: [[Int]], limit: Int?) throws -> [Float] {
        let layers = try tensors.map { tensor -> (values: [Float], pos: Int, width: Int) in
            guard let tensor, tensor.rank == 3 else { throw EngineError(.shape, subject: "scan", "the hook was not cached as [batch, pos, neurons]") }
            return (tensor.toFloats(), tensor.shape[1], tensor.shape[2])
        }
        let perLayer = layers.map { min(limit ?? $0.width, $0.width) }
        let total = perLayer.reduce(0, +)
        let tokens = positions.reduce(0) { $0 + $1.count }
        var out = [Float](repeating: 0, count: tokens * total)
        var t = 0
        for (row, scanned) in positions.enumerated() {
            for pos in scanned {
                var column = 0
                for (l, layer) in layers.enumerated() {
                    let start = (row * layer.pos + pos) * layer.width
                    out.replaceSubrange((t * total + column)..<(t * total + column + perLayer[l]),
                                        with: layer.values[start..<(start + perLayer[l])])
                    column += perLayer[l]
                }
                t += 1
            }
        }
        return out
    }

    /// The neurons scanned, layer by layer: each layer's first `settings.neurons` (all, by default).
    static func scanNeurons(_ layers: [Int], _ settings: ScanSettings) -> [ScanNeuron] {
        let count = min(settings.neurons ?? settings.width, settings.width)
        return layers.flatMap { layer in (0..<count).map { ScanNeuron(layer: layer, index: $0) } }
    }
}

/// What a scan reads, gathered by its built-in: the text in units, the
/// activations [tokens, neurons], and what they came from.
struct ScanInput {
    let text: ScanText
    let activations: [Float]
    var neurons: [ScanNeuron]
    let modelName: String
    let site: HookSite
    let layers: [Int]
    /// Rows run: windows of a text, or inputs of a dataset.
    let windows: Int
}
