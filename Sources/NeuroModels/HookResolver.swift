import NeuroEngine

/// Finds hook points by the names people type: TransformerLens's full names
/// (`blocks.0.attn.hook_pattern`), its short forms (`pattern0`, `scale4ln1`,
/// `embed`) and short name plus layer (`("pattern", 0)`, negative layers
/// counting from the end). Unknown names are errors that list the closest valid names.
public struct HookResolver: Sendable {
    /// The hook points of one model, in forward order.
    public let points: [HookPoint]
    public let nLayers: Int

    public init(points: [HookPoint], nLayers: Int) {
        self.points = points
        self.nLayers = nLayers
    }

    /// Every full name, in forward order.
    public var names: [String] { points.map(\.name) }

    /// The hook point with this full name or short form.
    ///
    /// ```swift
    /// try resolver.point(named: "blocks.0.mlp.hook_post")   // full name
    /// try resolver.point(named: "post0")                    // TransformerLens short form
    /// ```
    public func point(named name: String) throws -> HookPoint {
        if let exact = points.first(where: { $0.name == name }) { return exact }
        let parsed = splitShortForm(name)
        if parsed.layer != nil || points.contains(where: { $0.site.shortName == (hookNameAliases[parsed.short] ?? parsed.short) }) {
            return try point(short: parsed.short, layer: parsed.layer, layerType: parsed.layerType)
        }
        throw unknown(name)
    }

    /// The hook point for a short name and layer, as `cache["pattern", 0]` in TransformerLens.
    public func point(short: String, layer: Int? = nil, layerType: String? = nil) throws -> HookPoint {
        let key = hookNameAliases[short] ?? short
        var resolvedLayer = layer
        if let l = layer {
            guard l >= -nLayers && l < nLayers else {
                throw EngineError(.index, "hook '\(short)': layer \(l) is out of range for a model with \(nLayers) layer\(nLayers == 1 ? "" : "s")")
            }
            resolvedLayer = l < 0 ? l + nLayers : l
        }
        let matches = points.filter { p in
            p.site.shortName == key && p.layer == resolvedLayer && (layerType == nil || p.site.layerType == layerType)
        }
        if matches.count == 1 { return matches[0] }
        if matches.count > 1 {
            throw EngineError(.argument, "hook '\(short)' is ambiguous: \(matches.map(\.name).joined(separator: ", ")); name the layer norm (ln1, ln2 or ln_final)")
        }
        if resolvedLayer == nil, points.contains(where: { $0.site.shortName == key && $0.layer != nil }) {
            throw EngineError(.argument, "hook '\(short)' needs a layer (0 to \(nLayers - 1)), e.g. '\(key)0' or ('\(key)', 0)")
        }
        throw unknown(layer.map { "\(short)\($0)" } ?? short)
    }

    /// Splits `pattern0` / `scale4ln1` into short name, layer and sub-module.
    private func splitShortForm(_ name: String) -> (short: String, layer: Int?, layerType: String?) {
        let letters = name.prefix { $0.isLetter || $0 == "_" }
        let rest = name.dropFirst(letters.count)
        let digits = rest.prefix { $0.isNumber }
        let tail = String(rest.dropFirst(digits.count))
        // Sub-module names that do not tell layer norms apart add nothing.
        let type: String? = ["ln1", "ln2", "ln_final"].contains(tail) ? tail : nil
        return (String(letters), digits.isEmpty ? nil : Int(digits), type)
    }

    /// The error for a name that matches nothing, with suggestions.
    public func unknown(_ name: String) -> EngineError {
        let candidates = names + Array(Set(points.map(\.site.shortName))).sorted()
        // Only names a typo away: 'embd' should not suggest 'k'.
        let suggestions = closestNames(to: name, among: candidates)
            .filter { editDistance(name, $0) <= max(2, name.count / 3) || $0.hasSuffix(name) }
        guard !suggestions.isEmpty else { return EngineError(.argument, "unknown hook '\(name)'") }
        return EngineError(.argument, "unknown hook '\(name)'; did you mean \(suggestions.map { "'\($0)'" }.joined(separator: ", "))?")
    }
}
