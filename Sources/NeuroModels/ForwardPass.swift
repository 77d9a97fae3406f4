import NeuroEngine

/// What one forward pass carries: hooks to apply and activations to keep.
final class ForwardPass {
    private let hooks: [HookPoint: [HookFunction]]
    private let request: CacheRequest
    var cache: ActivationCache
    /// Set by a causal model's forward when no hook function runs (the cache
    /// only reads): which examples share their position-0 rows, so the
    /// matrix products after attention compute those rows once per first token.
    var sharedFirstPosition: SharedFirstPosition?

    /// Whether no hook function runs anywhere in this pass.
    var runsNoFunctions: Bool { hooks.isEmpty }

    /// Whether no hook function runs and the cache keeps nothing: only the logits are read.
    var onlyLogits: Bool { hooks.isEmpty && request.isEmpty }

    /// `model`: the model that runs, which the cache keeps (as TransformerLens's
    /// `ActivationCache` keeps its model) for what needs its weights later.
    init(hooks: [Hook], request: CacheRequest, resolver: HookResolver, model: (any HookedModel)? = nil) {
        var table: [HookPoint: [HookFunction]] = [:]
        for hook in hooks { table[hook.point, default: []].append(hook.function) }
        self.hooks = table
        self.request = request
        self.cache = ActivationCache(resolver: resolver, model: model)
    }

    /// Runs the hooks at `point` on `x` and records the result when asked.
    func pass(_ site: HookSite, _ layer: Int?, _ x: Tensor) throws -> Tensor {
        let point = HookPoint(site, layer: layer)
        var y = x
        if let functions = hooks[point] {
            for function in functions {
                y = try function(y, point)
                guard y.shape == x.shape else {
                    throw EngineError(.shape, "hook on \(point.name) returned shape \(formatShape(y.shape)), but the activation has shape \(formatShape(x.shape)) \(site.dimensions)")
                }
                guard y.dtype.isFloatingPoint else {
                    throw EngineError(.dtype, "hook on \(point.name) returned a \(y.dtype.shortName) tensor; activations are floating point")
                }
            }
        }
        if request.wants(point) { cache.record(point, y) }
        return y
    }

    /// Whether no hook function replaces or reads the activation at any of
    /// `points` (caching may still be asked for).
    func runsNoFunctions(at points: [HookPoint]) -> Bool {
        points.allSatisfy { hooks[$0] == nil }
    }

    /// Whether the cache keeps the activation at `point`.
    func wants(_ point: HookPoint) -> Bool { request.wants(point) }

    /// Whether a hook function or the cache needs the activation at `point`
    /// (for what is computed only on request).
    func needs(_ point: HookPoint) -> Bool { hooks[point] != nil || request.wants(point) }

    /// Stores an activation computed outside `pass` (no hook runs on it).
    func record(_ point: HookPoint, _ value: () throws -> Tensor) rethrows {
        if request.wants(point) { cache.record(point, try value()) }
    }

    /// Whether nothing reads or replaces any activation of block `layer` or after it.
    func leavesUntouched(fromLayer layer: Int, in points: [HookPoint]) -> Bool {
        let onRequest = Set(hooks.keys).union(request.named).filter(\.site.isOnRequest)
        return (points + onRequest).allSatisfy { p in
            let late = p.layer.map { $0 >= layer } ?? (p.site != .embed && p.site != .posEmbed)
            return !late || (hooks[p] == nil && !request.needsAllPositions(p))
        }
    }
}
