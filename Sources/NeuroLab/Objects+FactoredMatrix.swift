import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroAnalysis

/// A matrix kept as two factors, `A @ B` (TransformerLens's `FactoredMatrix`):
/// `model.OV`, `model.QK`, `model.blocks[0].attn.OV`, or `factored_matrix(a, b)`.
/// Its spectrum and norm come from the factors; the full product only from
/// `.AB`, refused when too large. Index the leading dimensions like a
/// tensor's: `model.OV[0, 1]` is layer 0, head 1.
public final class FactoredMatrixObject: NativeObject, IndexableObject {
    public let matrix: FactoredMatrix

    /// The SVD, once computed (`U`, `S`, `V` and `svd()` share it, as TransformerLens caches it).
    private var decomposition: (u: Tensor, s: Tensor, v: Tensor)?

    public init(_ matrix: FactoredMatrix) {
        self.matrix = matrix
    }

    func svd() throws -> (u: Tensor, s: Tensor, v: Tensor) {
        if let decomposition { return decomposition }
        let r = try matrix.svd()
        decomposition = r
        return r
    }

    public var typeName: String { "factored_matrix" }

    static let fields = ["AB", "BA", "A", "B", "T", "shape", "ldim", "mdim", "rdim", "U", "S", "V", "eigenvalues"]
    static let methods: [Builtin] = [svdMethod, normMethod, matmulMethod, rmatmulMethod]
    public var fieldNames: [String] { FactoredMatrixObject.fields + FactoredMatrixObject.methods.map(\.name) }

    public func field(_ name: String) throws -> Value? {
        let m = matrix
        switch name {
        case "AB": return .tensor(try m.product())
        case "BA": return .tensor(try m.reverseProduct())
        case "A": return .tensor(m.a)
        case "B": return .tensor(m.b)
        case "T": return .object(FactoredMatrixObject(try m.transposed()))
        case "shape": return .list(m.shape.map { .number(Double($0)) })
        case "ldim": return .number(Double(m.ldim))
        case "mdim": return .number(Double(m.mdim))
        case "rdim": return .number(Double(m.rdim))
        case "U": return .tensor(try svd().u)
        case "S": return .tensor(try svd().s)
        case "V": return .tensor(try svd().v)
        case "eigenvalues":
            let e = try m.eigenvalues()
            return .record(Record([("real", .tensor(e.real)), ("imag", .tensor(e.imaginary))]))
        default:
            guard let method = FactoredMatrixObject.methods.first(where: { $0.name == name }) else { return nil }
            return .function(Function(name: name, body: .builtin(method), receiver: .object(self)))
        }
    }

    /// `ov[0]`, `ov[0, 1]`, `ov[-1]`: the matrices at those leading indices.
    public func index(_ keys: [Value]) throws -> Value {
        let indices = try keys.map { key -> Int in
            guard case .number(let n) = key, n == n.rounded(), Swift.abs(n) < 1e15 else {
                throw EngineError(.argument, "a factored matrix is indexed by whole numbers over its leading dimensions \(formatShape(matrix.leading)), like ov[0, 1]")
            }
            return Int(n)
        }
        return .object(FactoredMatrixObject(try matrix.indexed(indices)))
    }

    public var summary: String { matrix.description }

    // MARK: - Methods

    static func receiver(_ args: CallArguments) throws -> FactoredMatrix {
        try receiverObject(args).matrix
    }

    static func receiverObject(_ args: CallArguments) throws -> FactoredMatrixObject {
        guard let object = try args.object(0, "matrix", as: FactoredMatrixObject.self, what: "a factored matrix") else {
            throw args.error("is a method of a factored matrix: write m.\(args.function)(…)")
        }
        return object
    }

    static let svdMethod = Builtin("svd", "m.svd()", "the SVD from the factors: {U, S, V} with the matrix ≈ U * S @ V.T",
                                   parameters: ["matrix"]) { args in
        try args.expectAtMost(1)
        let r = try args.engine { try receiverObject(args).svd() }
        return .record(Record([("U", .tensor(r.u)), ("S", .tensor(r.s)), ("V", .tensor(r.v))]))
    }

    static let normMethod = Builtin("norm", "m.norm()", "the Frobenius norm of the product, from the factors", parameters: ["matrix"]) { args in
        try args.expectAtMost(1)
        let norm = try args.engine { try receiver(args).norm() }
        return norm.rank == 0 ? .number(try norm.item()) : .tensor(norm)
    }

    /// A tensor or a factored matrix, for the products.
    static func operand(_ args: CallArguments) throws -> Value {
        let v = try args.required(1, "other")
        switch v {
        case .object(let other as FactoredMatrixObject): return .object(other)
        case .tensor, .list: return .tensor(try args.floats(1, "other"))
        default: throw args.error("'other' must be a tensor or a factored matrix, got \(v.typeName)")
        }
    }

    static let matmulMethod = Builtin("matmul", "m.matmul(other)",
                                      "m @ other, kept factored (a vector gives a vector)", parameters: ["matrix", "other"]) { args in
        let m = try receiver(args)
        return try args.engine {
            switch try operand(args) {
            case .object(let other as FactoredMatrixObject): return .object(FactoredMatrixObject(try m.multiplied(by: other.matrix)))
            case .tensor(let t) where t.rank == 1: return .tensor(try m.applied(to: t))
            case .tensor(let t): return .object(FactoredMatrixObject(try m.multiplied(by: t)))
            default: return .none
            }
        }
    }

    static let rmatmulMethod = Builtin("rmatmul", "m.rmatmul(other)",
                                       "other @ m, kept factored (a vector gives a vector)", parameters: ["matrix", "other"]) { args in
        let m = try receiver(args)
        return try args.engine {
            switch try operand(args) {
            case .object(let other as FactoredMatrixObject): return .object(FactoredMatrixObject(try other.matrix.multiplied(by: m)))
            case .tensor(let t) where t.rank == 1: return .tensor(try m.applied(to: t, left: true))
            case .tensor(let t): return .object(FactoredMatrixObject(try m.premultiplied(by: t)))
            default: return .none
            }
        }
    }
}

extension Builtins {
    static let factoredMatrix = Builtin(
        "factored_matrix", "factored_matrix(a, b)",
        "the matrix a @ b kept as its two factors (TransformerLens's FactoredMatrix): svd, eigenvalues and norm without the product",
        parameters: ["a", "b"]
    ) { args in
        let (a, b) = (try args.floats(0, "a"), try args.floats(1, "b"))
        return .object(FactoredMatrixObject(try args.engine { try FactoredMatrix(a, b) }))
    }
}

extension FactoredMatrixObject: OperandObject {
    /// `m @ x`, `x @ m` and `m @ n` stay factored, as `matmul` and `rmatmul`
    /// (a vector gives a vector); other operators have no meaning here.
    public func binary(_ op: BinaryOperator, _ other: Value, selfOnLeft: Bool) throws -> Value? {
        guard op == .matmul else { return nil }
        switch other {
        case .object(let o as FactoredMatrixObject):
            return .object(FactoredMatrixObject(selfOnLeft ? try matrix.multiplied(by: o.matrix) : try o.matrix.multiplied(by: matrix)))
        case .tensor, .list:
            let t = try other.asTensor()
            let x = t.dtype.isFloatingPoint ? t : try t.cast(to: .float32)
            if x.rank == 1 { return .tensor(try matrix.applied(to: x, left: !selfOnLeft)) }
            return .object(FactoredMatrixObject(selfOnLeft ? try matrix.multiplied(by: x) : try matrix.premultiplied(by: x)))
        default:
            return nil
        }
    }
}
