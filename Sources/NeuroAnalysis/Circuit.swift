import NeuroEngine
import NeuroModels

// The computation graph of a hooked transformer, as circuit discovery sees
// it: the embedding, every attention head, every MLP and the unembedding,
// joined wherever one reads the residual stream another writes to.

/// A component of the residual-stream graph: the embedding (token and
/// positional together), one attention head, one MLP, or the unembedding.
/// Names follow the ACDC paper's diagrams: `embed`, `a0.1` (layer 0,
/// head 1), `m0` (the MLP of layer 0), `unembed`.
///
/// ```swift
/// let head = CircuitNode.head(layer: 1, head: 0)    // head.name == "a1.0"
/// ```
public struct CircuitNode: Hashable, Sendable, CustomStringConvertible {
    /// What kind of component it is; the raw value is the `type` written to JSON.
    public enum Kind: String, Sendable {
        case embed, head, mlp, unembed
    }

    /// Embedding, head, MLP or unembedding.
    public let kind: Kind
    /// The block, for heads and MLPs; nil for the embedding and unembedding.
    public let layer: Int?
    /// The head index within its layer, for heads.
    public let head: Int?

    private init(_ kind: Kind, layer: Int?, head: Int?) {
        self.kind = kind
        self.layer = layer
        self.head = head
    }

    /// The token and positional embeddings, the first writer to the residual stream.
    public static let embed = CircuitNode(.embed, layer: nil, head: nil)
    /// The unembedding, the last reader of the residual stream.
    public static let unembed = CircuitNode(.unembed, layer: nil, head: nil)
    /// Head `head` of layer `layer`.
    public static func head(layer: Int, head: Int) -> CircuitNode { CircuitNode(.head, layer: layer, head: head) }
    /// The MLP of layer `layer`.
    public static func mlp(layer: Int) -> CircuitNode { CircuitNode(.mlp, layer: layer, head: nil) }

    /// `embed`, `a1.0`, `m0` or `unembed`.
    public var name: String {
        switch kind {
        case .embed: return "embed"
        case .unembed: return "unembed"
        case .head: return "a\(layer ?? 0).\(head ?? 0)"
        case .mlp: return "m\(layer ?? 0)"
        }
    }

    /// The name, as `name`.
    public var description: String { name }

    /// Whether this component's output is in the residual stream that
    /// `receiver` reads: the embedding feeds everything, a head or MLP of
    /// layer l feeds every later layer and the unembedding, and a layer's
    /// heads also feed that layer's MLP (which reads `resid_mid`).
    public func writes(to receiver: CircuitNode) -> Bool {
        switch (kind, receiver.kind) {
        case (.unembed, _), (_, .embed): return false
        case (.embed, _), (_, .unembed): return true
        default:
            guard let from = layer, let to = receiver.layer else { return false }
            return from < to || (from == to && kind == .head && receiver.kind == .mlp)
        }
    }
}

/// Which input of a receiver an edge feeds. Heads read the residual stream
/// three times, through W_Q, W_K and W_V, and each is an edge of its own
/// (as in ACDC), so a circuit can say that a head needs a token as a key
/// but not as a query. MLPs and the unembedding read it once (`.resid`).
public enum CircuitInput: String, CaseIterable, Sendable {
    /// A head's query, key or value input.
    case q, k, v
    /// The single input of an MLP or the unembedding.
    case resid

    /// The hook point whose activation the receiver's input is corrected at:
    /// `hook_q`/`hook_k`/`hook_v` of the head's layer, `mlp.hook_pre` of the
    /// MLP's layer, `unembed.hook_in`.
    func point(of receiver: CircuitNode) -> HookPoint {
        switch (self, receiver.kind) {
        case (.q, _): return HookPoint(.q, layer: receiver.layer)
        case (.k, _): return HookPoint(.k, layer: receiver.layer)
        case (.v, _): return HookPoint(.v, layer: receiver.layer)
        case (.resid, .mlp): return HookPoint(.mlpPre, layer: receiver.layer)
        default: return HookPoint(.unembedIn)
        }
    }
}

/// One edge of the graph: `sender`'s output, as read by `receiver` through `input`.
///
/// ```swift
/// let edge = CircuitEdge(sender: .embed, receiver: .head(layer: 0, head: 1), input: .v)
/// edge.name    // "embed → a0.1 [v]"
/// ```
public struct CircuitEdge: Hashable, Sendable, CustomStringConvertible {
    /// The component whose output the edge carries.
    public let sender: CircuitNode
    /// The component that reads it.
    public let receiver: CircuitNode
    /// Which of the receiver's inputs reads it.
    public let input: CircuitInput

    /// The edge from `sender` to `receiver`'s `input`.
    public init(sender: CircuitNode, receiver: CircuitNode, input: CircuitInput) {
        self.sender = sender
        self.receiver = receiver
        self.input = input
    }

    /// `embed → a0.1 [v]`, or `a0.1 → unembed` for single-input receivers.
    public var name: String {
        "\(sender.name) → \(receiver.name)" + (input == .resid ? "" : " [\(input.rawValue)]")
    }

    /// The name, as `name`.
    public var description: String { name }
}

/// Every component and every edge of a model's residual-stream graph, in
/// topological order (each node after every node that writes to it).
///
/// ```swift
/// let graph = CircuitGraph(model.config)
/// graph.nodes.map(\.name)   // ["embed", "a0.0", "a0.1", "m0", "unembed"] for 1 layer, 2 heads
/// graph.edges.count         // 3·2 (embed → heads) + 3 (→ m0) + 4 (→ unembed) = 13
/// ```
public struct CircuitGraph: Sendable {
    /// The embedding, then per layer its heads and its MLP, then the unembedding.
    public let nodes: [CircuitNode]
    /// Every edge, ordered by receiver (topologically), then sender, then input.
    public let edges: [CircuitEdge]

    /// The graph of a model of this shape.
    public init(_ config: TransformerConfig) {
        var nodes = [CircuitNode.embed]
        for l in 0..<config.nLayers {
            nodes += (0..<config.nHeads).map { CircuitNode.head(layer: l, head: $0) }
            if !config.attentionOnly { nodes.append(.mlp(layer: l)) }
        }
        nodes.append(.unembed)
        var edges: [CircuitEdge] = []
        for receiver in nodes {
            let inputs: [CircuitInput] = receiver.kind == .head ? [.q, .k, .v] : [.resid]
            for sender in nodes where sender.writes(to: receiver) {
                edges += inputs.map { CircuitEdge(sender: sender, receiver: receiver, input: $0) }
            }
        }
        self.nodes = nodes
        self.edges = edges
    }

    /// The heads and MLPs: the components that can be ablated.
    public var components: [CircuitNode] { nodes.filter { $0.kind == .head || $0.kind == .mlp } }

    /// Position of each node in `nodes`, for sorting.
    func order() -> [CircuitNode: Int] {
        Dictionary(uniqueKeysWithValues: nodes.enumerated().map { ($1, $0) })
    }
}
