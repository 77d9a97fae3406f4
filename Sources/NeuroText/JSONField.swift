import NeuroEngine

// Reading the JSON files of a tokenizer folder: every value is reached
// through a JSONField that knows its file and its path in that file, so a
// wrong value is reported as `tokenizer.json: field 'model.vocab' must be an
// object, not an array`. Parsing is NeuroEngine's JSON reader, which keeps an
// object's members as written: a vocabulary may hold two entries Swift's
// `String` calls equal (canonically equivalent, like U+00C5 and U+212B), and
// a dictionary of strings would merge them.

/// A value of a JSON file, with the file and the path it was found at.
struct JSONField {
    let value: HeaderValue
    /// `model.vocab`, `added_tokens[3].content`; empty for the whole file.
    let path: String
    let file: String

    /// The whole of a JSON file. Throws, naming the file, when it does not parse.
    static func parse(_ bytes: [UInt8], file: String) throws -> JSONField {
        do {
            return JSONField(value: try HeaderParser.parse(bytes, dialect: .json), path: "", file: file)
        } catch let error as HeaderParser.SyntaxError {
            throw EngineError(.file, "\(file): is not valid JSON (\(error.message))")
        }
    }

    /// Reads and parses the JSON file at `path`.
    static func read(_ path: String) throws -> JSONField {
        try parse(try readFileBytes(path, atMost: TokenizerLoader.maxFileBytes), file: path)
    }

    /// An error about this value: `file: field 'path' detail`.
    func error(_ detail: String) -> EngineError {
        EngineError(.file, "\(file): " + (path.isEmpty ? "" : "field '\(path)' ") + detail)
    }

    /// The field at `key` below this one (present or not), for messages.
    private func child(_ key: String, _ value: HeaderValue) -> JSONField {
        JSONField(value: value, path: path.isEmpty ? key : "\(path).\(key)", file: file)
    }

    /// What kind of JSON value this is, for messages.
    var kind: String {
        switch value {
        case .null: return "null"
        case .string: return "a string"
        case .bool: return "a boolean"
        case .integer, .number: return "a number"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// The members of this object in the file's order.
    func members() throws -> [(key: String, field: JSONField)] {
        guard let members = value.members else { throw error("must be an object, not \(kind)") }
        return members.map { ($0.key, child($0.key, $0.value)) }
    }

    /// The member `key` of this object (the last one, if written twice); nil
    /// when it is absent or null.
    func member(_ key: String) throws -> JSONField? {
        guard let members = value.members else { throw error("must be an object, not \(kind)") }
        guard let found = members.last(where: { $0.key == key })?.value else { return nil }
        if case .null = found { return nil }
        return child(key, found)
    }

    /// The member `key`, which must be there.
    func required(_ key: String) throws -> JSONField {
        guard let found = try member(key) else { throw child(key, .null).error("is missing") }
        return found
    }

    var isString: Bool {
        if case .string = value { return true }
        return false
    }

    func string() throws -> String {
        guard case .string(let text) = value else { throw error("must be a string, not \(kind)") }
        return text
    }

    func bool() throws -> Bool {
        guard case .bool(let flag) = value else { throw error("must be true or false, not \(kind)") }
        return flag
    }

    func int() throws -> Int {
        switch value {
        case .integer(let n): return n
        case .number(let d) where d == d.rounded() && Swift.abs(d) < 9e15: return Int(d)
        case .number(let d): throw error("must be a whole number, not \(d)")
        default: throw error("must be a whole number, not \(kind)")
        }
    }

    /// Any number, as a double.
    func number() throws -> Double {
        switch value {
        case .integer(let n): return Double(n)
        case .number(let d): return d
        default: throw error("must be a number, not \(kind)")
        }
    }

    func array() throws -> [JSONField] {
        guard case .array(let items) = value else { throw error("must be an array, not \(kind)") }
        return items.enumerated().map { JSONField(value: $1, path: "\(path)[\($0)]", file: file) }
    }

    // Optional members with a default.

    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        try member(key)?.bool() ?? fallback
    }

    func string(_ key: String) throws -> String? {
        try member(key)?.string()
    }

    func int(_ key: String) throws -> Int? {
        try member(key)?.int()
    }
}
