/// How deep a syntax tree goes. The evaluator, the name checker and Swift's
/// own clean-up all recurse over the tree, so the parser refuses trees deeper
/// than `Parser.maxNesting` levels. Every node knows its depth (`Expr.depth`,
/// `Stmt.depth`), computed here from its children's as it is made, so
/// measuring never walks (or recurses over) a tree.
public enum SyntaxDepth {
    /// A statement or an expression, for walking both with one stack.
    public enum Node {
        case expr(Expr)
        case stmt(Stmt)

        var depth: Int {
            switch self {
            case .expr(let e): return e.depth
            case .stmt(let s): return s.depth
            }
        }
    }

    /// The depth of the deepest of `roots` (a leaf is 1), counting the
    /// bodies of function literals; 0 for none.
    ///
    /// ```swift
    /// SyntaxDepth.of([.expr(onePlusTwo)])   // 2
    /// ```
    static func of<S: Sequence>(_ roots: S) -> Int where S.Element == Node {
        roots.reduce(0) { max($0, $1.depth) }
    }

    /// The depth of a node of this kind: one more than its deepest child.
    static func depth(of kind: ExprKind) -> Int { 1 + of(children(of: kind)) }
    static func depth(of kind: StmtKind) -> Int { 1 + of(children(of: kind)) }

    /// The nodes directly under `node`. For expressions made by an infix
    /// operator, the left operand comes first.
    public static func children(_ node: Node) -> [Node] {
        switch node {
        case .expr(let expr): return children(expr)
        case .stmt(let stmt): return children(stmt)
        }
    }

    static func children(_ expr: Expr) -> [Node] { children(of: expr.kind) }
    static func children(_ stmt: Stmt) -> [Node] { children(of: stmt.kind) }

    static func children(of kind: ExprKind) -> [Node] {
        switch kind {
        case .number, .string, .bool, .none, .variable: return []
        case .list(let items): return items.map { .expr($0) }
        case .record(let entries): return entries.map { .expr($0.value) }
        case .unary(_, let e), .field(let e, _): return [.expr(e)]
        case .binary(_, let a, let b), .logical(_, let a, let b), .range(let a, let b): return [.expr(a), .expr(b)]
        case .call(let callee, let arguments): return [.expr(callee)] + arguments.map { .expr($0.value) }
        case .index(let base, let items):
            return [.expr(base)] + items.flatMap { item -> [Node] in
                switch item {
                case .single(let e): return [.expr(e)]
                case .slice(let a, let b, let c): return [a, b, c].compactMap { $0.map { .expr($0) } }
                }
            }
        case .function(let decl): return children(decl)
        case .site(_, let layer): return layer.map { [.expr($0)] } ?? []
        }
    }

    static func children(of kind: StmtKind) -> [Node] {
        switch kind {
        case .expression(let e), .command(let e): return [.expr(e)]
        case .assign(let target, let value, _): return [.expr(target), .expr(value)]
        case .function(let decl): return children(decl)
        case .ifElse(let condition, let then, let otherwise):
            return [.expr(condition)] + (then + (otherwise ?? [])).map { .stmt($0) }
        case .forIn(_, let sequence, let body): return [.expr(sequence)] + body.map { .stmt($0) }
        case .whileLoop(let condition, let body): return [.expr(condition)] + body.map { .stmt($0) }
        case .returnValue(let value): return value.map { [.expr($0)] } ?? []
        case .breakLoop, .continueLoop, .importFile: return []
        }
    }

    static func children(_ decl: FunctionDecl) -> [Node] {
        decl.parameters.compactMap { $0.defaultValue.map { .expr($0) } } + decl.body.map { .stmt($0) }
    }
}
