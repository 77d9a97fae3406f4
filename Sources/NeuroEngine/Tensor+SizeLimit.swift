import Glibc

// The one size check every new tensor passes: allocations
// (`Tensor(uninitializedShape:dtype:op:)`, `Tensor(zerosShape:dtype:op:)`)
// and the one view that can see more elements than its storage holds
// (`expanded(to:)`). Reshapes, permutations, slices and copies of an existing
// tensor never see more elements than a tensor that already passed it, so
// `count`, `contiguousData()` and `toDoubles()` of any tensor stay within the
// limit without checking again.

/// How large one tensor may be.
enum SizeLimit {
    /// Physical memory in bytes (4 GiB when the system does not say).
    static let physicalBytes: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, pageSize > 0 else { return 4 << 30 }
        let (bytes, overflow) = pages.multipliedReportingOverflow(by: pageSize)
        return overflow ? Int.max : bytes
    }()

    /// The most elements one tensor may have: half of physical memory in the
    /// widest element type. Counted in float64 because statistics, printing
    /// and the language widen tensors to float64, and that copy must fit too.
    static let maxElements: Int = Swift.max(1 << 20, physicalBytes / 2 / 8)
}

extension Tensor {
    /// The most elements one tensor may have on this machine (half of
    /// physical memory in float64); larger results are refused before
    /// anything is allocated.
    public static var maxElements: Int { SizeLimit.maxElements }
}

/// Why a tensor of some shape cannot be made.
enum SizeProblem: Error {
    /// Dimension `axis` is negative.
    case negative(axis: Int)
    /// The product of the dimensions does not fit in an Int.
    case uncountable
    /// `count` elements are more than `SizeLimit.maxElements`.
    case tooLarge(count: Int)

    /// The problem as the end of a sentence about `what` (`"the result"`,
    /// `"shape"`): `the result [100000, 100000] (40 GB) is too large to
    /// allocate (more than half of this machine's memory)`.
    func describe(_ shape: [Int], dtype: DType, what: String) -> String {
        switch self {
        case .negative(let axis):
            return "dimension \(axis) of \(formatShape(shape)) is negative"
        case .uncountable:
            return "\(what) \(formatShape(shape)) is too large to allocate (it has more elements than a 64-bit integer can count)"
        case .tooLarge(let count):
            // The limit is counted in float64, so a narrower tensor under half
            // of memory is told what its float64 copy would take.
            let own = Double(count) * Double(dtype.byteSize)
            let reason = own > Double(SizeLimit.physicalBytes) / 2 || dtype.byteSize == 8
                ? "more than half of this machine's memory"
                : "\(formatBytes(count, .float64)) as float64, more than half of this machine's memory"
            return "\(what) \(formatShape(shape)) (\(formatBytes(count, dtype))) is too large to allocate (\(reason))"
        }
    }
}

extension Tensor {
    /// The element count of a new tensor of `shape`, or why it cannot be
    /// made: a negative dimension, a product that overflows (checked over
    /// every dimension, zeros counted as one, because strides multiply them
    /// even when the tensor is empty), or more elements than
    /// `SizeLimit.maxElements`. O(rank), so it is cheap next to any kernel.
    static func sizeCheck(_ shape: [Int]) -> Result<Int, SizeProblem> {
        if let bad = shape.firstIndex(where: { $0 < 0 }) { return .failure(.negative(axis: bad)) }
        var span = 1
        for d in shape {
            let (product, overflow) = span.multipliedReportingOverflow(by: Swift.max(d, 1))
            guard !overflow else { return .failure(.uncountable) }
            span = product
        }
        let count = shape.contains(0) ? 0 : span
        return count <= SizeLimit.maxElements ? .success(count) : .failure(.tooLarge(count: count))
    }

    /// `sizeCheck` as an error naming `op`: `what` names the shape in the
    /// message, `"the result"` for an operation's output (`matmul: the result
    /// [100000, 100000] (40 GB) is too large to allocate (more than half of
    /// this machine's memory)`), `"shape"` for a shape the caller asked for.
    public static func checkedCount(_ shape: [Int], dtype: DType, op: String, what: String = "the result") throws -> Int {
        switch sizeCheck(shape) {
        case .success(let count): return count
        case .failure(.negative(let axis)):
            throw EngineError.shape(op, SizeProblem.negative(axis: axis).describe(shape, dtype: dtype, what: what))
        case .failure(let problem):
            throw EngineError.argument(op, problem.describe(shape, dtype: dtype, what: what))
        }
    }
}

/// `count` elements of `dtype` in decimal units (see `formatBytes(_:)`),
/// computed in Double, so sizes past `Int.max` bytes print instead of overflowing.
func formatBytes(_ count: Int, _ dtype: DType) -> String {
    formatBytes(Double(count) * Double(dtype.byteSize))
}

/// A size in decimal units with up to three significant digits: `40 GB`,
/// `9.6 GB`, `512 bytes`.
func formatBytes(_ bytes: Double) -> String {
    var size = bytes
    guard size >= 1000 else { return "\(Int(size)) bytes" }
    var unit = 0
    let units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
    while size >= 999.5 && unit < units.count - 1 {
        size /= 1000
        unit += 1
    }
    let digits = size >= 99.95 ? 0 : size >= 9.995 ? 1 : 2
    var text = String(Int((size * pow(10, Double(digits))).rounded()))
    if digits > 0 {
        // Insert the decimal point, then drop trailing zeros ("40.0" → "40").
        while text.count <= digits { text = "0" + text }
        text.insert(".", at: text.index(text.endIndex, offsetBy: -digits))
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
    }
    return "\(text) \(units[unit])"
}
