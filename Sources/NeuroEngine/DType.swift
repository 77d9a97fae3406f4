/// The element type of a tensor.
///
/// Computation happens in `float32`; `float64` is there for losses,
/// statistics and linear algebra where precision matters. The integer types
/// hold token ids and indices and are what safetensors files call I64/I32.
public enum DType: String, Sendable, CaseIterable {
    case float32
    case float64
    case int64
    case int32

    /// Size of one element in bytes.
    public var byteSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        }
    }

    /// Whether arithmetic and autograd are defined for this type.
    public var isFloatingPoint: Bool { self == .float32 || self == .float64 }

    /// The short name used in printing and in safetensors headers.
    public var shortName: String {
        switch self {
        case .float32: return "F32"
        case .float64: return "F64"
        case .int64: return "I64"
        case .int32: return "I32"
        }
    }
}
