/// An error raised by the engine. Every message names the operation and the
/// shapes, indices, values or file involved, so it can be shown to a user as is.
public struct EngineError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What kind of failure this was, for callers that react differently.
    public enum Kind: Sendable, Equatable {
        case shape, index, dtype, argument, numeric, file, interrupted
    }

    public let kind: Kind
    /// What failed, when the error names it apart from its detail (an
    /// analysis: `patching`), so a caller can name it in its own words
    /// (`sweep`) without reading the message.
    public let subject: String?
    /// The message without the subject.
    public let detail: String

    /// The whole message: `subject: detail`, or the detail alone.
    public var message: String { subject.map { "\($0): \(detail)" } ?? detail }

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.subject = nil
        self.detail = message
    }

    /// An error about `subject`: `EngineError(.argument, subject: "patching", "needs …")`.
    public init(_ kind: Kind, subject: String, _ detail: String) {
        self.kind = kind
        self.subject = subject
        self.detail = detail
    }

    /// The same error, about another subject.
    public func about(_ subject: String) -> EngineError {
        EngineError(kind, subject: subject, detail)
    }

    /// Errors are the same when they say the same thing, however they were built.
    public static func == (a: EngineError, b: EngineError) -> Bool {
        a.kind == b.kind && a.message == b.message
    }

    public var description: String { message }

    static func shape(_ op: String, _ detail: String) -> EngineError {
        EngineError(.shape, subject: op, detail)
    }

    static func shapes(_ op: String, _ shapes: [Int]...) -> EngineError {
        EngineError(.shape, subject: op, "incompatible shapes " + shapes.map(formatShape).joined(separator: " and "))
    }

    static func index(_ op: String, _ detail: String) -> EngineError {
        EngineError(.index, subject: op, detail)
    }

    static func dtype(_ op: String, _ detail: String) -> EngineError {
        EngineError(.dtype, subject: op, detail)
    }

    static func argument(_ op: String, _ detail: String) -> EngineError {
        EngineError(.argument, subject: op, detail)
    }

    static func file(_ path: String, _ detail: String) -> EngineError {
        EngineError(.file, subject: path, detail)
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
