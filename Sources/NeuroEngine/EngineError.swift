/// An error raised by the engine. Every message names the operation and the
/// shapes, indices, values or file involved, so it can be shown to a user as is.
public struct EngineError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What kind of failure this was, for callers that react differently.
    public enum Kind: Sendable, Equatable {
        case shape, index, dtype, argument, numeric, file, interrupted
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    static func shape(_ op: String, _ detail: String) -> EngineError {
        EngineError(.shape, "\(op): \(detail)")
    }

    static func shapes(_ op: String, _ shapes: [Int]...) -> EngineError {
        EngineError(.shape, "\(op): incompatible shapes " + shapes.map(formatShape).joined(separator: " and "))
    }

    static func index(_ op: String, _ detail: String) -> EngineError {
        EngineError(.index, "\(op): \(detail)")
    }

    static func dtype(_ op: String, _ detail: String) -> EngineError {
        EngineError(.dtype, "\(op): \(detail)")
    }

    static func argument(_ op: String, _ detail: String) -> EngineError {
        EngineError(.argument, "\(op): \(detail)")
    }

    static func file(_ path: String, _ detail: String) -> EngineError {
        EngineError(.file, "\(path): \(detail)")
    }
}

/// Formats a shape the way errors and printing show it: `[3, 4]`. A shape
/// of more than 16 dimensions shows its first and last 8 and how many are
/// left out, `[1, 1, 1, 1, 1, 1, 1, 1, … 99984 more …, 1, 1, 1, 1, 1, 1, 1, 1]`,
/// so that a message about a tensor of rank 100,000 stays one line.
public func formatShape(_ shape: [Int]) -> String {
    guard shape.count > 16 else { return "[" + shape.map(String.init).joined(separator: ", ") + "]" }
    let ends = (shape.prefix(8).map(String.init), shape.suffix(8).map(String.init))
    return "[" + ends.0.joined(separator: ", ") + ", … \(shape.count - 16) more …, " + ends.1.joined(separator: ", ") + "]"
}
