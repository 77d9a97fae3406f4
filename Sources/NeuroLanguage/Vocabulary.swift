/// What a domain adds to the language: its built-ins, the statements that
/// are sugar for calls to them, and how the hook sites those statements
/// name become values, are checked and completed. The language itself knows
/// none of these words; an interpreter is made with a vocabulary.
///
/// ```swift
/// let vocabulary = Vocabulary(builtins: [greet], statements: [StatementSugar("patch", qualifiers: ["head"])])
/// let interpreter = Interpreter(vocabulary: vocabulary)
/// ```
public struct Vocabulary {
    /// Built-ins beside the language's own (one of the same name replaces it).
    public var builtins: [Builtin]
    /// Statements of the form `word SITE [qualifier value …] with VALUE [word value …]`.
    public var statements: [StatementSugar]
    /// The value a site written in a statement stands for (`mlp_post 0`): its name and its layer, if any.
    public var site: ((_ name: String, _ layer: Int?) -> Value)?
    /// Why a site's name is no site, for `neuromap check` (nil when it is one); `layerFollows` when a layer was written after it.
    public var siteProblem: ((_ name: String, _ layerFollows: Bool) -> String?)?
    /// Built-ins with a parameter that lists sites (`run(…, cache: [...])`), checked as sites are.
    public var siteListParameters: [String: String]
    /// The site names and full hook names to complete, for the interpreter's current state.
    public var hookNames: (Interpreter) -> [String]
    public var siteNames: (Interpreter) -> [String]
    /// Runs once on each new interpreter, after its built-ins are registered.
    public var setUp: (Interpreter) -> Void

    public init(builtins: [Builtin] = [], statements: [StatementSugar] = [], site: ((String, Int?) -> Value)? = nil,
                siteProblem: ((String, Bool) -> String?)? = nil, siteListParameters: [String: String] = [:],
                hookNames: @escaping (Interpreter) -> [String] = { _ in [] },
                siteNames: @escaping (Interpreter) -> [String] = { _ in [] },
                setUp: @escaping (Interpreter) -> Void = { _ in }) {
        self.builtins = builtins
        self.statements = statements
        self.site = site
        self.siteProblem = siteProblem
        self.siteListParameters = siteListParameters
        self.hookNames = hookNames
        self.siteNames = siteNames
        self.setUp = setUp
    }

    /// The grammar these statements add to the language's.
    public var grammar: Grammar { Grammar(statements: statements) }
}

/// A statement that names a site and says what to do with it, sugar for a
/// call of the built-in of the same name: `patch embed with corrupt(a+1)`
/// is `patch(embed, with: corrupt(a+1))`, with `embed` a site value.
public struct StatementSugar: Sendable {
    /// The statement's first word, and the built-in it calls.
    public let word: String
    /// Words that may follow the site, each with a value, as named arguments: `patch z 0 head 1 with …`.
    public let qualifiers: Set<String>
    /// Bare words read as their own names after `with` (`ablate … with mean` is `with: "mean"`).
    public let bareWords: Set<String>

    public init(_ word: String, qualifiers: Set<String> = [], bareWords: Set<String> = []) {
        self.word = word
        self.qualifiers = qualifiers
        self.bareWords = bareWords
    }
}

/// The statement forms a parser reads beyond the language's own.
///
/// ```swift
/// let parsed = Interpreter.parse(source, grammar: vocabulary.grammar)
/// ```
public struct Grammar: Sendable {
    public var statements: [StatementSugar]

    public init(statements: [StatementSugar] = []) {
        self.statements = statements
    }

    /// The language alone.
    public static let plain = Grammar()

    /// The sugar that starts with `word`, if any.
    func sugar(_ word: String) -> StatementSugar? { statements.first { $0.word == word } }
}
