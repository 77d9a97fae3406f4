import NeuroEngine

/// Finds hook points by the names people type: TransformerLens's full names
/// (`blocks.0.attn.hook_pattern`), the language's short form with the layer
/// after a space (`pattern 0`, `mlp_post -1`, `scale 0 ln1`), TransformerLens's
/// short forms (`pattern0`, `scale4ln1`, `embed`) and short name plus layer
/// (`cache["pattern", 0]`, negative layers counting from the end). Unknown
/// names are errors that suggest the closest valid names, each spelled so
/// that typing it back resolves.
public struct HookResolver: Sendable {
    /// The hook points of one model, in forward order.
    public let points: [HookPoint]
    public let nLayers: Int
    /// Points the model computes only when a run asks for them
    /// (`blocks.L.attn.hook_result`): names resolve to them, but they are
    /// not among `points` (nor `names`).
    public let onRequest: [HookPoint]

    public init(points: [HookPoint], nLayers: Int, onRequest: [HookPoint] = []) {
        self.points = points
        self.nLayers = nLayers
        self.onRequest = onRequest
    }

    /// The on-request sites of `sites` at every layer of a model of `nLayers` blocks.
    public static func onRequestPoints(nLayers: Int, sites: [HookSite] = HookSite.onRequestCases) -> [HookPoint] {
        (0..<max(nLayers, 0)).flatMap { layer in sites.map { HookPoint($0, layer: layer) } }
    }

    /// Every point a name can resolve to.
    private var known: [HookPoint] { points + onRequest }

    /// Every full name, in forward order.
    public var names: [String] { points.map(\.name) }

    /// The hook point with this full name or short form.
    ///
    /// ```swift
    /// try resolver.point(named: "blocks.0.mlp.hook_post")   // full name
    /// try resolver.point(named: "mlp_post 0")               // the language's short form
    /// try resolver.point(named: "post0")                    // TransformerLens short form
    /// ```
    public func point(named name: String) throws -> HookPoint {
        try resolution(of: name).point(nLayers: nLayers)
    }

    /// The hook point for a short name and layer, as `cache["pattern", 0]` in TransformerLens.
    public func point(short: String, layer: Int? = nil, layerType: String? = nil) throws -> HookPoint {
        let typed = [short, layer.map(String.init), layerType].compactMap { $0 }.joined(separator: " ")
        return try resolution(short, layer: layer, module: layerType, typed: typed).point(nLayers: nLayers)
    }

    /// The error for a name that matches nothing, with suggestions.
    public func unknown(_ name: String) -> EngineError {
        EngineError(.argument, HookNameProblem.unknown(suggestions: suggestions(for: name)).message(typed: name, nLayers: nLayers))
    }

    // MARK: - Resolving

    /// The point a name spells, or what is wrong with it and the part of it the message quotes.
    enum Resolution {
        case point(HookPoint)
        case problem(HookNameProblem, quoting: String)

        func point(nLayers: Int?) throws -> HookPoint {
            switch self {
            case .point(let point): return point
            case .problem(let problem, let quoted):
                var kind = EngineError.Kind.argument
                if case .layerOutOfRange = problem { kind = .index }
                throw EngineError(kind, problem.message(typed: quoted, nLayers: nLayers))
            }
        }
    }

    func resolution(of name: String) -> Resolution {
        if let exact = known.first(where: { $0.name == name }) { return .point(exact) }
        switch HookSpelling(name) {
        case .full: return .problem(.unknown(suggestions: suggestions(for: name)), quoting: name)
        case .short(let short, let layer, let module): return resolution(short, layer: layer, module: module, typed: name)
        }
    }

    private func resolution(_ short: String, layer: Int?, module: String?, typed: String) -> Resolution {
        switch lookup(short, layer: layer, module: module) {
        case .success(let point): return .point(point)
        case .failure(.unknown): return .problem(.unknown(suggestions: suggestions(for: typed)), quoting: typed)
        case .failure(let problem):
            if case .ambiguous = problem { return .problem(problem, quoting: typed) }
            return .problem(problem, quoting: short)
        }
    }

    /// The point of a short name, layer and layer norm name, or why there is
    /// none (an unknown name without suggestions: the caller knows what was typed).
    private func lookup(_ short: String, layer: Int?, module: String?) -> Result<HookPoint, HookNameProblem> {
        let key = hookNameAliases[short] ?? short
        let named = known.filter { $0.site.shortName == key && (module == nil || $0.site.layerType == module) }
        guard !named.isEmpty else { return .failure(.unknown(suggestions: [])) }
        let matches: [HookPoint]
        if let layer {
            guard layer >= -nLayers && layer < nLayers else { return .failure(.layerOutOfRange(layer)) }
            let resolved = layer < 0 ? layer + nLayers : layer
            matches = named.filter { $0.layer == resolved }
            if matches.isEmpty, let global = named.first(where: { $0.layer == nil }) { return .failure(.noLayer(global)) }
        } else {
            matches = named.filter { $0.layer == nil }
            if matches.isEmpty, let example = named.first { return .failure(.needsLayer(example: example)) }
        }
        if matches.count > 1 { return .failure(.ambiguous(matches)) }
        guard let match = matches.first else { return .failure(.unknown(suggestions: [])) }
        return .success(match)
    }

    // MARK: - Suggestions

    /// The hooks a mistyped name most likely meant, best first (at most three):
    /// for a full name, full names a typo away; for a short one, the full
    /// names it ends (`hook_resid_post`), then sites whose short name is a
    /// typo away, at the layer typed when this model has it.
    func suggestions(for typed: String) -> [HookSuggestion] {
        let points = known
        var found: [HookSuggestion] = []
        func add(_ point: HookPoint, inFull: Bool) {
            if !found.contains(where: { $0.point == point }) { found.append(HookSuggestion(point: point, inFull: inFull)) }
        }
        switch HookSpelling(typed) {
        case .full(let name):
            // In the block typed, when the model has it; typos are counted against the part
            // after `blocks.N.`, so `mlp.hook_pst` does not suggest `attn.hook_k`.
            let parts = name.split(separator: ".", maxSplits: 2)
            let block = parts.count == 3 && parts[0] == "blocks" ? Int(parts[1]).flatMap { l in points.contains { $0.layer == l } ? l : nil } : nil
            let local = block == nil ? name : String(parts[2])
            let candidates = points.filter { block == nil || $0.layer == nil || $0.layer == block }.map(\.name)
            for fullName in HookResolver.closest(name, among: candidates, allowance: local.count / 3) {
                if let point = points.first(where: { $0.name == fullName }) { add(point, inFull: true) }
            }
        case .short(let short, let layer, let module):
            let wanted = layer.map { $0 < 0 ? $0 + nLayers : $0 }.flatMap { (0..<nLayers).contains($0) ? $0 : nil }
            let tails = points.filter { $0.name.hasSuffix("." + typed) }
            let tailLayer = wanted ?? tails.compactMap(\.layer).min()
            tails.filter { $0.layer == nil || $0.layer == tailLayer }.forEach { add($0, inFull: true) }
            let shortNames = Set(points.flatMap { [$0.site.shortName, $0.site.languageName] })
                .union(hookNameAliases.filter { alias in points.contains { $0.site.shortName == alias.value } }.keys)
            for name in HookResolver.closest(short, among: Array(shortNames), allowance: short.count / 3) {
                let key = hookNameAliases[name] ?? name
                let sites = points.filter { $0.site.shortName == key && (module == nil || $0.site.layerType == module || $0.site.layerType == nil) }
                // At the layer typed (else the first), or outside the blocks when the site is.
                let target = wanted ?? sites.compactMap(\.layer).min()
                sites.filter { $0.layer == nil || $0.layer == target }.forEach { add($0, inFull: false) }
            }
        }
        return Array(found.prefix(3))
    }

    /// Names a typo away (`embd` should not suggest `k`), or ending in the word.
    static func closest(_ word: String, among candidates: [String], allowance: Int) -> [String] {
        Suggest.ranked(word, among: candidates, allowance: max(2, allowance), acceptingSuffix: true)
    }
}

/// A hook a message suggests, spelled in full (for a name typed in full) or
/// in the short form; either way, typing it back resolves.
public struct HookSuggestion: Equatable, Sendable {
    public let point: HookPoint
    public let inFull: Bool

    public var text: String { inFull ? point.name : point.shortForm }
}

/// What is wrong with a hook name, and what to suggest, as typed values
/// (rendered by `message(typed:nLayers:)`).
public enum HookNameProblem: Error, Equatable, Sendable {
    /// No site has this name; the closest hooks, best first.
    case unknown(suggestions: [HookSuggestion])
    /// A site inside the blocks, named without a layer.
    case needsLayer(example: HookPoint)
    /// A site outside the blocks, named with a layer.
    case noLayer(HookPoint)
    /// `scale 0`: more than one layer norm has the site.
    case ambiguous([HookPoint])
    case layerOutOfRange(Int)

    /// The message about `typed`; `nLayers` nil when no model is known (`neuromap check`).
    ///
    /// ```
    /// unknown hook 'patern 0'; did you mean 'pattern 0'?
    /// hook 'mlp_post' needs a layer (0 to 1), e.g. 'mlp_post 0' or 'blocks.0.mlp.hook_post'
    /// ```
    public func message(typed: String, nLayers: Int?) -> String {
        func quoted(_ points: [HookPoint]) -> String { points.map { "'\($0.shortForm)'" }.joined(separator: ", ") }
        switch self {
        case .unknown(let suggestions):
            // Two sites can read alike (`embed`: a transformer's and an encoder's embedding module).
            let texts = suggestions.map(\.text).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            return "unknown hook '\(typed)'" + (texts.isEmpty ? "" : "; did you mean \(texts.map { "'\($0)'" }.joined(separator: ", "))?")
        case .needsLayer(let example):
            let range = nLayers.map { " (0 to \($0 - 1))" } ?? ""
            let forms = example.shortForm == example.name ? "'\(example.name)'" : "'\(example.shortForm)' or '\(example.name)'"
            return "hook '\(typed)' needs a layer\(range), e.g. \(forms)"
        case .noLayer(let point):
            return "hook '\(typed)' takes no layer (it is outside the blocks); did you mean '\(point.shortForm)'?"
        case .ambiguous(let points):
            return "hook '\(typed)' is ambiguous: name the layer norm; did you mean \(quoted(points))?"
        case .layerOutOfRange(let layer):
            let count = nLayers ?? 0
            return "hook '\(typed)': layer \(layer) is out of range for a model with \(count) layer\(count == 1 ? "" : "s")"
        }
    }
}

// MARK: - Spellings

/// A hook name as typed, taken apart. The one place that reads hook names
/// people type; everything after works with `HookPoint`s.
enum HookSpelling: Equatable {
    /// A full name (`blocks.0.attn.hook_pattern`, `ln_final.hook_scale`): matched whole.
    case full(String)
    /// A short name or alias with an optional layer and layer norm:
    /// `pattern 0`, `scale 0 ln1`, `pattern0`, `scale0ln1`, `embed`.
    case short(String, layer: Int?, module: String?)

    static let modules: Set<String> = ["ln1", "ln2", "ln_final"]

    init(_ text: String) {
        if text.contains(".") { self = .full(text); return }
        let parts = text.split(separator: " ").map(String.init)
        if parts.count == 2 || parts.count == 3, let layer = Int(parts[1]) {
            self = .short(parts[0], layer: layer, module: parts.count == 3 ? parts[2] : nil)
            return
        }
        // TransformerLens's glued form: letters, then the layer, then the layer norm (`scale0ln1`).
        let letters = text.prefix { $0.isLetter || $0 == "_" }
        let rest = text.dropFirst(letters.count)
        let digits = rest.prefix(while: \.isNumber)
        let tail = String(rest.dropFirst(digits.count))
        if !digits.isEmpty, let layer = Int(digits), tail.isEmpty || HookSpelling.modules.contains(tail) {
            self = .short(String(letters), layer: layer, module: tail.isEmpty ? nil : tail)
        } else {
            self = .short(text, layer: nil, module: nil)   // `hook_embed`, `pattern`, or nothing known
        }
    }
}

extension HookSite {
    /// The short name the language writes: TransformerLens's, except the
    /// MLP's `mlp_pre` and `mlp_post` (its `pre` and `post` are aliases).
    public var languageName: String {
        switch self {
        case .mlpPre: return "mlp_pre"
        case .mlpPost: return "mlp_post"
        default: return shortName
        }
    }
}

extension HookPoint {
    /// The shortest spelling every lookup accepts, in strings and bare in
    /// `patch`/`ablate`/`hook`: `mlp_post 0`, `embed`, and the full name
    /// where the short name needs its layer norm (`blocks.0.ln1.hook_scale`;
    /// `scale 0 ln1` works only in a string).
    public var shortForm: String {
        guard let layer else { return site.languageName }
        return site.layerType == nil ? "\(site.languageName) \(layer)" : name
    }
}

// MARK: - Names without a model

extension HookResolver {
    /// A model with every site and `nLayers` blocks: what a name can mean in some model.
    static func everySite(nLayers: Int) -> HookResolver {
        let sites = HookSite.allCases + HookSite.encoderOnly
        let global = sites.filter { !$0.isPerBlock }.map { HookPoint($0) }
        let blocks = (0..<nLayers).flatMap { layer in sites.filter(\.isPerBlock).map { HookPoint($0, layer: layer) } }
        return HookResolver(points: global + blocks, nLayers: nLayers, onRequest: onRequestPoints(nLayers: nLayers))
    }

    /// What is wrong with a hook name in any model, or nil when some model
    /// has it (the layer count and the model's options are not known:
    /// `mlp_post 9` and `scale 0` pass). For `neuromap check`.
    ///
    /// `layerFollows`: the name is written before a layer expression
    /// (`ablate mlp_post (l + 1) with …`), so it must be a short name, and
    /// what it suggests are names to put in its place.
    ///
    /// ```swift
    /// HookResolver.problem(spelling: "mlp_pst 0")   // unknown hook 'mlp_pst 0'; did you mean 'mlp_post 0'?
    /// HookResolver.problem(spelling: "embd", layerFollows: true)   // unknown hook 'embd'; did you mean 'embed'?
    /// ```
    public static func problem(spelling name: String, layerFollows: Bool = false) -> String? {
        guard layerFollows else {
            switch everySite(nLayers: layersNamed(in: name)).resolution(of: name) {
            case .point, .problem(.ambiguous, _), .problem(.layerOutOfRange, _): return nil
            case .problem(let problem, let quoted): return problem.message(typed: quoted, nLayers: nil)
            }
        }
        if name.contains(".") || name.contains(" ") { return "hook '\(name)' is a full name and takes no layer after it" }
        switch everySite(nLayers: 1).resolution(name, layer: 0, module: nil, typed: name) {
        case .point, .problem(.ambiguous, _): return nil
        case .problem(.unknown(let suggestions), _):
            let names = suggestions.map(\.point.site.languageName).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            return "unknown hook '\(name)'" + (names.isEmpty ? "" : "; did you mean \(names.map { "'\($0)'" }.joined(separator: ", "))?")
        case .problem(let problem, let quoted): return problem.message(typed: quoted, nLayers: nil)
        }
    }

    /// Enough blocks for the layer a name mentions (`blocks.7.…`, `pattern 7`, `resid_pre -3`),
    /// so suggestions keep it.
    private static func layersNamed(in name: String) -> Int {
        var layer: Int? = nil
        switch HookSpelling(name) {
        case .full(let text):
            let parts = text.split(separator: ".")
            if parts.count > 2, parts[0] == "blocks" { layer = Int(parts[1]) }
        case .short(_, let l, _): layer = l
        }
        // Beyond that the layer is out of range and passes (layers are not checked without a model).
        guard let layer, layer < 1_000, layer > -1_000 else { return 1 }
        return max(1, layer < 0 ? -layer : layer + 1)
    }
}
