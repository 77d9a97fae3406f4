/// An expression and where it is in the source.
public struct Expr {
    public let kind: ExprKind
    public let range: SourceRange
    /// How many levels the tree goes down from here (a leaf is 1); see `SyntaxDepth`.
    public let depth: Int

    public init(kind: ExprKind, range: SourceRange) {
        self.kind = kind
        self.range = range
        self.depth = SyntaxDepth.depth(of: kind)
    }
}

public indirect enum ExprKind {
    case number(Double)
    case string(String)
    case bool(Bool)
    case none
    case variable(String)
    case list([Expr])
    case record([(key: String, value: Expr)])
    case unary(UnaryOperator, Expr)
    case binary(BinaryOperator, Expr, Expr)
    case logical(isAnd: Bool, Expr, Expr)            // short-circuit `and` / `or`
    case range(Expr, Expr)                           // a..b, b excluded
    case call(Expr, [Argument])
    case index(Expr, [IndexItem])
    case field(Expr, String)
    case function(FunctionDecl)
    case site(name: String, layer: Expr?)            // a hook name in a domain statement
}

public enum UnaryOperator: String { case negate = "-", not = "not" }

public enum BinaryOperator: String {
    case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "%", power = "^", matmul = "@"
    case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
}

/// A call argument, positional or named (`f(x, axis: 0)`).
public struct Argument {
    public let label: String?
    public let value: Expr
}

/// One position in `x[...]`: an index, or a slice `start:end:step`.
public enum IndexItem {
    case single(Expr)
    case slice(Expr?, Expr?, Expr?)
}

/// `fn name(a, b: 2) { … }` or the literal `fn(x) { … }`.
public struct FunctionDecl {
    public let name: String?
    public let parameters: [Parameter]
    public let body: [Stmt]
    public let range: SourceRange
}

public struct Parameter {
    public let name: String
    public let defaultValue: Expr?
}

/// A statement and where it is in the source.
public struct Stmt {
    public let kind: StmtKind
    public let range: SourceRange
    /// How many levels the tree goes down from here (a leaf is 1); see `SyntaxDepth`.
    public let depth: Int

    public init(kind: StmtKind, range: SourceRange) {
        self.kind = kind
        self.range = range
        self.depth = SyntaxDepth.depth(of: kind)
    }
}

public indirect enum StmtKind {
    case expression(Expr)
    /// A domain statement (`train m on d …`, `patch embed with …`): a call
    /// whose result is printed in scripts too, not only at the prompt.
    case command(Expr)
    case assign(target: Expr, value: Expr, compound: BinaryOperator?)   // x = e, x += e, a[i] = e, r.k = e
    case function(FunctionDecl)
    case ifElse(Expr, [Stmt], [Stmt]?)
    case forIn([String], Expr, [Stmt])                // for x in xs, for k, v in items(r)
    case whileLoop(Expr, [Stmt])
    case returnValue(Expr?)
    case breakLoop
    case continueLoop
    case importFile(String)
}
