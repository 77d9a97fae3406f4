
// MARK: - Completion candidates (for the REPL's Tab key)

extension Interpreter {
    /// Every way of finishing `word`, the text just before the cursor back to
    /// the last separator, sorted. `before` is the rest of the line, before
    /// `word`; it says what kind of word is being typed:
    ///
    /// - after a dot: the fields of the value the part before the dot names
    ///   (`model.W_` → `model.W_E`, `model.W_pos`, …; a record's keys, a
    ///   tensor's methods), and the current model's hook names that start with
    ///   the word (`blocks.0.attn.hook_p` → `blocks.0.attn.hook_pattern`);
    /// - inside a string: hook names, full and short (`pattern 0`);
    /// - right after `patch`, `ablate` or `hook`: site names, without a layer
    ///   (`ablate mlp_` → `mlp_out`, `mlp_post`, `mlp_pre`): those of the
    ///   model `hookNames` reads, or every site's without one;
    /// - otherwise: keywords, variables (standard-library ones too), built-ins,
    ///   and the named arguments of the call or command being typed
    ///   (`modular(o` → `op:`, `train model ep` → `epochs`).
    ///
    /// Nothing is run to find candidates except reading the fields named
    /// before a dot.
    ///
    /// ```swift
    /// interpreter.completions(for: "mod")               // ["modular"]
    /// interpreter.completions(for: "op", after: "modular(")  // ["op:"]
    /// ```
    public func completions(for word: String, after before: String = "") -> [String] {
        var candidates: [String]
        if CompletionContext.isInsideString(before) {
            candidates = hookNames
        } else if let dot = word.lastIndex(of: ".") {
            let base = String(word[..<dot])
            candidates = value(atPath: base).map { fieldNames(of: $0).map { base + "." + $0 } } ?? []
            candidates += hookNames
        } else if CompletionContext.expectsSite(before, words: vocabulary.grammar) {
            candidates = siteNames
        } else {
            candidates = Keyword.allCases.map(\.rawValue) + globals.allNames + Array(builtins.keys)
            candidates += argumentNames(before)
        }
        return Set(candidates.filter { $0.hasPrefix(word) && !$0.isEmpty }).sorted()
    }

    /// Variables the user made (standard-library names left out), sorted.
    public var userVariableNames: [String] {
        globals.localNames
    }

    /// The names `value.name` answers: an object's fields, a record's keys,
    /// a tensor's fields and methods; empty for other values.
    public func fieldNames(of value: Value) -> [String] {
        switch value {
        case .object(let object): return object.fieldNames
        case .record(let record): return record.keys
        default: return Methods.names(for: value)
        }
    }

    /// The hook names to complete, as the vocabulary gives them for the
    /// interpreter's state (the current model's: each full name and its
    /// short form); empty without a vocabulary that names hooks.
    public var hookNames: [String] { vocabulary.hookNames(self) }

    /// The names of the sites a statement can name, without layers, sorted
    /// (as the vocabulary gives them). The layer is the user's to choose.
    public var siteNames: [String] { vocabulary.siteNames(self) }

    /// The value a dotted path of names reads (`model.history`), without
    /// calling anything; nil when any part is not a plain name or is unknown.
    func value(atPath path: String) -> Value? {
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, CompletionContext.isName(first), var value = globals.lookup(first) else { return nil }
        let nowhere = SourceRange(SourceLocation(line: 1, column: 1, offset: 0), SourceLocation(line: 1, column: 1, offset: 0))
        for name in parts.dropFirst() {
            guard CompletionContext.isName(name),
                  let next = try? Operators.field(value, name, interpreter: self, at: nowhere) else { return nil }
            value = next
        }
        return value
    }

    /// Named arguments of the call or command the cursor is in:
    /// `label:` inside `f(…)`, the bare word after a command (`train m epochs 10`).
    private func argumentNames(_ before: String) -> [String] {
        if let callee = CompletionContext.openCall(before) {
            return parameterNames(of: callee).map { $0 + ":" }
        }
        if let command = CompletionContext.command(before) {
            return parameterNames(of: command)
        }
        return []
    }

    private func parameterNames(of name: String) -> [String] {
        if case .function(let function)? = globals.lookup(name), case .user(let decl, _) = function.body {
            return decl.parameters.map(\.name)
        }
        return builtins[name]?.parameters ?? []
    }
}

/// Reads the text before a word to learn what kind of word it is.
/// Approximate by design: it sees one line and never parses.
public enum CompletionContext {
    /// Characters that end a word of code for completion. A dot is not one:
    /// `model.W_` and `blocks.0.attn.hook_p` complete as a whole.
    public static let wordBreakCharacters = " \t\n\"'`@$><=;|&{}()[],+-*/%^!:#~"

    /// Whether an unclosed quote opens a string before the word:
    /// `cache["pat` is inside one, `f("a", b` is not.
    public static func isInsideString(_ text: String) -> Bool {
        var quote: Character? = nil
        var escaped = false
        for character in text {
            if escaped { escaped = false; continue }
            if character == "\\" { escaped = true; continue }
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            }
        }
        return quote != nil
    }

    /// The name before the innermost unclosed `(`: `modular(op: "+", ` → `modular`.
    static func openCall(_ text: String) -> String? {
        var depth = 0
        var index = text.endIndex
        while index > text.startIndex {
            index = text.index(before: index)
            switch text[index] {
            case ")", "]", "}": depth += 1
            case "[", "{": depth -= 1
            case "(":
                if depth == 0 { return lastName(in: text[..<index]) }
                depth -= 1
            default: break
            }
            if depth < 0 { return nil }
        }
        return nil
    }

    /// The first word of a command statement (`train model on data ` → `train`):
    /// a name followed by a space and something, with no `=` or brackets.
    static func command(_ text: String) -> String? {
        let trimmed = text.drop { $0 == " " || $0 == "\t" }
        guard let space = trimmed.firstIndex(of: " "), !trimmed.contains(where: { "=([{".contains($0) }) else { return nil }
        let word = String(trimmed[..<space])
        return isName(word) ? word : nil
    }

    /// Whether the text is a statement word of `grammar` (`patch `, `ablate `, `hook `) and nothing more: the next word names a hook.
    static func expectsSite(_ text: String, words grammar: Grammar) -> Bool {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard words.count == 1, let last = text.last, last == " " || last == "\t" else { return false }
        return grammar.sugar(String(words[0])) != nil
    }

    /// An identifier: a letter or `_`, then letters, digits or `_`.
    static func isName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first.isASCIILetterOrUnderscore else { return false }
        return text.unicodeScalars.allSatisfy { $0.isASCIILetterOrUnderscore || ("0"..."9").contains($0) }
    }

    private static func lastName(in text: Substring) -> String? {
        let name = String(text.reversed().prefix { $0.unicodeScalars.allSatisfy { $0.isASCIILetterOrUnderscore || ("0"..."9").contains($0) } }.reversed())
        return isName(name) ? name : nil
    }
}

private extension Unicode.Scalar {
    var isASCIILetterOrUnderscore: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) || self == "_" }
}
