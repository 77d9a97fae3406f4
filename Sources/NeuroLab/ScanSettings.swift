import Foundation
import NeuroEngine
import NeuroLanguage

/// What a `scan` reads and how: from a JSON config file (`config:`), then
/// the call's own arguments, which override the file's.
///
/// A config file is one JSON object; `categories` ({name: [words]}) and
/// `text` are required, the rest optional:
///
/// ```json
/// {"categories": {"animal": ["dog", "cat"], "colour": ["red", "blue"]},
///  "text": "The red dog chased a blue cat.", "threshold": 0.2, "top_k": 5}
/// ```
///
/// A scan's saved JSON works as a config too (its `config` member is one),
/// so a study runs again, on another model, from its own file.
struct ScanSettings {
    var text: String?
    var categories: [(name: String, entries: [String])]?
    var site = "mlp_post"
    var layers: [Int]?
    var neurons: Int?
    var threshold = 0.2
    var topK = 5
    var permutations = 100
    var seed: UInt64 = 0
    var window: Int?
    var name: String?
    /// The config file read, if any.
    var config: String?
    /// The neurons per layer of the site (set once the site is known).
    var width = 0

    /// The fields a config file may hold.
    static let configFields = ["categories", "text", "threshold", "top_k", "site", "layers", "neurons", "permutations", "seed", "window"]
    static let requiredConfigFields = ["categories", "text"]

    init(_ args: CallArguments) throws {
        if args.value(nil, "config") != nil {
            let path = try args.path(nil, "config")
            config = path
            try read(config: path, args)
        }
        if let given = args.value(nil, "categories") { categories = try Self.categories(given, args) }
        if args.value(nil, "site") != nil { site = try args.string(nil, "site") }
        if let given = args.value(nil, "layers") { layers = try Self.layers(given, args) }
        if args.value(nil, "neurons") != nil { neurons = try args.int(nil, "neurons") }
        if args.value(nil, "threshold") != nil { threshold = try args.number(nil, "threshold") }
        if args.value(nil, "top_k") != nil { topK = try args.int(nil, "top_k") }
        if args.value(nil, "permutations") != nil { permutations = try args.int(nil, "permutations") }
        if args.value(nil, "seed") != nil { seed = try args.seed(nil, default: 0) }
        if args.value(nil, "window") != nil { window = try args.int(nil, "window") }
        if args.value(nil, "name") != nil { name = try args.string(nil, "name") }
        try check(args)
    }

    /// Every number in its range, every category with a name and a word.
    func check(_ args: CallArguments) throws {
        guard threshold.isFinite else { throw args.error("'threshold' must be a finite number, got \(threshold)") }
        guard (0...1000).contains(topK) else { throw args.error("'top_k' must be 0 to 1000, got \(topK)") }
        guard (0...100_000).contains(permutations) else { throw args.error("'permutations' must be 0 to 100000, got \(permutations)") }
        if let window, window < 2 { throw args.error("'window' must be 2 tokens or more, got \(window)") }
        if let categories {
            guard !categories.isEmpty else { throw args.error("'categories' is empty: give at least one, {name: [words]}") }
            for (name, entries) in categories where entries.isEmpty {
                throw args.error("category '\(name)' has no words")
            }
        }
    }

    /// Categories from a record of lists of words (strings, or whole numbers for a dataset's tokens).
    static func categories(_ value: Value, _ args: CallArguments) throws -> [(name: String, entries: [String])] {
        guard case .record(let record) = value else {
            throw args.error("'categories' must be a record of word lists, {animal: [\"dog\", \"cat\"], …}, got \(value.typeName)")
        }
        return try record.pairs.map { name, words in
            guard case .list(let items) = words else { throw args.error("category '\(name)' must be a list of words, got \(words.typeName)") }
            return (name, try items.map { item in
                switch item {
                case .string(let word): return word
                case .number(let n) where n == n.rounded() && Swift.abs(n) < 1e15: return String(Int(n))
                default: throw args.error("category '\(name)': each word must be a string (or a token number), got \(item.typeName)")
                }
            })
        }
    }

    /// Layers from a number, a list of numbers or a range.
    static func layers(_ value: Value, _ args: CallArguments) throws -> [Int] {
        switch value {
        case .number(let n) where n == n.rounded() && Swift.abs(n) < 1e9: return [Int(n)]
        case .range(let a, let b): return Array(a..<max(a, b))
        case .list(let items):
            guard !items.isEmpty else { throw args.error("'layers' is empty") }
            return try items.map { item in
                guard case .number(let n) = item, n == n.rounded(), Swift.abs(n) < 1e9 else {
                    throw args.error("'layers' must hold whole numbers, got \(item.typeName)")
                }
                return Int(n)
            }
        default: throw args.error("'layers' must be a layer, a list of layers or a range, got \(value.typeName)")
        }
    }

    // MARK: - Config files

    /// Reads a config file; its errors name the file and the field.
    mutating func read(config path: String, _ args: CallArguments) throws {
        let bytes = try args.engine { try readFileBytes(path) }
        let parsed: HeaderValue
        do {
            parsed = try HeaderParser.parse(bytes, dialect: .json)
        } catch let error as HeaderParser.SyntaxError {
            throw args.error("\(path): not valid JSON: \(error.message)")
        }
        guard var members = parsed.members else { throw args.error("\(path): must hold one JSON object, {\"categories\": …, \"text\": …}") }
        // A scan's own JSON file repeats its study: its "config" member is a config.
        if let inner = parsed.member("config")?.members, parsed.member("neurons") != nil {
            members = inner
        }
        let root = HeaderValue.object(members)
        for (key, _) in members where !Self.configFields.contains(key) {
            let hint = Suggest.closest(key, among: Self.configFields).map { "; did you mean '\($0)'?" } ?? ""
            throw args.error("\(path): unknown field '\(key)'\(hint) (fields: \(Self.configFields.joined(separator: ", ")))")
        }
        for key in Self.requiredConfigFields where root.member(key) == nil {
            throw args.error("\(path): lacks the field '\(key)' (\(key == "text" ? "the text to scan, a string" : "{name: [words], …}"))")
        }
        func field(_ key: String) -> String { "\(path): field '\(key)'" }
        func number(_ key: String) throws -> Double? {
            switch root.member(key) {
            case nil: return nil
            case .integer(let n)?: return Double(n)
            case .number(let n)?: return n
            default: throw args.error("\(field(key)) must be a number")
            }
        }
        func whole(_ key: String) throws -> Int? {
            guard let n = try number(key) else { return nil }
            guard n == n.rounded(), Swift.abs(n) < 1e9 else { throw args.error("\(field(key)) must be a whole number, got \(n)") }
            return Int(n)
        }
        guard let text = root.member("text")?.string else { throw args.error("\(field("text")) must be a string") }
        self.text = text
        guard let groups = root.member("categories")?.members else { throw args.error("\(field("categories")) must be an object, {name: [words], …}") }
        categories = try groups.map { name, words in
            guard case .array(let items) = words else { throw args.error("\(field("categories")): '\(name)' must be a list of words") }
            return (name, try items.map { item in
                switch item {
                case .string(let word): return word
                case .integer(let n): return String(n)
                default: throw args.error("\(field("categories")): '\(name)' must hold strings (or token numbers)")
                }
            })
        }
        if let value = root.member("site") {
            guard let site = value.string else { throw args.error("\(field("site")) must be a string") }
            self.site = site
        }
        if let value = root.member("layers") {
            guard let layers = value.integers, !layers.isEmpty else { throw args.error("\(field("layers")) must be a list of layers") }
            self.layers = layers
        }
        neurons = try whole("neurons") ?? neurons
        threshold = try number("threshold") ?? threshold
        topK = try whole("top_k") ?? topK
        permutations = try whole("permutations") ?? permutations
        if let s = try whole("seed") {
            guard s >= 0 else { throw args.error("\(field("seed")) must be 0 or more") }
            seed = UInt64(s)
        }
        window = try whole("window") ?? window
    }

    /// The settings as JSON values, for a scan's JSON file: a config that
    /// repeats the scan. Layers and neurons only when they were chosen, so
    /// the file also fits a model of another size.
    func json(site resolved: String) -> [(String, String)] {
        var pairs: [(String, String)] = [("site", jsonQuoted(resolved))]
        if let layers { pairs.append(("layers", "[" + layers.map(String.init).joined(separator: ", ") + "]")) }
        if let neurons { pairs.append(("neurons", String(neurons))) }
        pairs += [("threshold", jsonNumber(threshold)), ("top_k", String(topK)), ("permutations", String(permutations)),
                  ("seed", String(seed))]
        if let window { pairs.append(("window", String(window))) }
        if let text { pairs.append(("text", jsonQuoted(text))) }
        let groups = (categories ?? []).map { "\(jsonQuoted($0.name)): [" + $0.entries.map(jsonQuoted).joined(separator: ", ") + "]" }
        pairs.append(("categories", "{" + groups.joined(separator: ", ") + "}"))
        return pairs
    }
}
