import NeuroEngine

/// The feed-forward layer: `act(x·W_in + b_in)·W_out + b_out`, with hooks
/// `mlp.hook_pre` and `mlp.hook_post` [batch, pos, d_mlp]. Weights are
/// [d_model, d_mlp] and [d_mlp, d_model] (a transposed view of a Hugging
/// Face `Linear` weight is fine: the product reads it in place).
public struct MLPBlock {
    public let wIn: Tensor, bIn: Tensor, wOut: Tensor, bOut: Tensor
    public let activation: ActivationFunction

    public init(wIn: Tensor, bIn: Tensor, wOut: Tensor, bOut: Tensor, activation: ActivationFunction) {
        self.wIn = wIn
        self.bIn = bIn
        self.wOut = wOut
        self.bOut = bOut
        self.activation = activation
    }

    public var hookSites: [HookSite] { [.mlpPre, .mlpPost] }

    /// [batch, pos, d_model] → [batch, pos, d_model], running the hooks of block `layer`.
    func callAsFunction(_ x: Tensor, layer l: Int, _ f: ForwardPass) throws -> Tensor {
        let pre = try f.pass(.mlpPre, l, x.linear(wIn, bias: bIn, shared: f.sharedFirstPosition))       // [batch, pos, d_mlp]
        let post = try f.pass(.mlpPost, l, activate(pre))
        return try post.linear(wOut, bias: bOut, shared: f.sharedFirstPosition)                         // [batch, pos, d_model]
    }

    /// `act(x·W_in + b_in)·W_out` without `b_out`, for a caller that adds it
    /// to a sum of its own (`sumLayerNormalized`). When nothing reads
    /// `hook_pre`, `b_in` is added by the activation's pass, not in a pass of its own.
    func withoutOutputBias(_ x: Tensor, layer l: Int, _ f: ForwardPass) throws -> Tensor {
        let activated: Tensor
        if f.needs(HookPoint(.mlpPre, layer: l)) {
            activated = try activate(f.pass(.mlpPre, l, x.linear(wIn, bias: bIn, shared: f.sharedFirstPosition)))
        } else {
            activated = try activation.pointwise(x.linear(wIn, bias: nil, shared: f.sharedFirstPosition), bias: bIn)
        }
        return try f.pass(.mlpPost, l, activated).linear(wOut, bias: nil, shared: f.sharedFirstPosition)   // [batch, pos, d_model]
    }

    func activate(_ x: Tensor) throws -> Tensor { try activation.apply(x) }
}

extension ActivationFunction {
    /// The engine's kernel for this function (the same numbers as `apply` on float32).
    public var pointwise: Pointwise {
        switch self {
        case .relu: return .relu
        case .gelu: return .gelu
        case .geluNew: return .geluNew
        }
    }

    /// The function applied elementwise.
    public func apply(_ x: Tensor) throws -> Tensor { try pointwise(x) }
}
