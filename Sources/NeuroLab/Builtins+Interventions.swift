import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroPlots
import NeuroModels
import NeuroAnalysis

/// Built-ins that intervene on a model's activations: `corrupt` (a change
/// to the inputs), and `patch`, `ablate` and `hook` (the statements of the
/// same names are sugar for them).
extension Builtins {
    static let corrupt = Builtin("corrupt", "corrupt(a + 1) or corrupt(a: b, b: a)",
                                 "a change to the inputs, written in the dataset's fields; results are taken mod p",
                                 parameters: [], lazy: true) { args in
        var changes: [(field: String, expression: Expr)] = []
        for argument in args.expressions {
            if let label = argument.label {
                changes.append((label, argument.value))
            } else {
                let mentioned = fieldsMentioned(argument.value).filter { ["a", "b"].contains($0) }
                guard mentioned.count == 1, let field = mentioned.first else {
                    throw args.error("cannot tell which field '\(render(argument.value))' replaces; name it, as in corrupt(a: \(render(argument.value)))")
                }
                changes.append((field, argument.value))
            }
        }
        guard !changes.isEmpty else { throw args.error("needs an expression, such as corrupt(a + 1)") }
        let text = args.expressions.map { ($0.label.map { "\($0): " } ?? "") + render($0.value) }.joined(separator: ", ")
        return .object(CorruptionObject(changes: changes, environment: args.environment, text: text))
    }

    /// The inputs, resolved site, slice and metric of an intervention built-in.
    static func interventionTarget(_ args: CallArguments) throws -> (EvaluationTarget, [HookPoint], ActivationSlice, Metric) {
        let target = try evaluationTarget(args, modelIndex: nil, dataIndex: nil)
        let (points, slice) = try sitesAndSlice(target.model.model.hooks, args)
        let metric = try metricArgument(args, default: .accuracy)
        return (target, points, slice, metric)
    }

    /// An intervention's `site` — one hook name, or a list of them intervened
    /// on together — and its `head:`, `pos:` and `neuron:`, each a whole
    /// number or a list of them (`head: [0, 2]`).
    static func sitesAndSlice(_ resolver: HookResolver, _ args: CallArguments) throws -> ([HookPoint], ActivationSlice) {
        let site = try args.required(0, "site")
        let points: [HookPoint]
        if case .list(let names) = site {
            guard !names.isEmpty else { throw args.error("'site' is an empty list; give a hook name or a list of them") }
            points = try names.map { name in try args.engine { try resolver.point(for: name, what: "site") } }
            if let twice = points.indices.first(where: { i in points[..<i].contains(points[i]) }) {
                throw args.error("the site \(points[twice].name) is listed twice")
            }
        } else {
            points = [try args.engine { try resolver.point(for: site, what: "site") }]
        }
        func picks(_ name: String) throws -> [Int] {
            switch args.value(nil, name) {
            case nil: return []
            case .list(let items)?:
                guard !items.isEmpty else { throw args.error("'\(name)' is an empty list; leave it out to take every \(name)") }
                return try items.enumerated().map { i, item in
                    guard case .number(let n) = item, n == n.rounded(), Swift.abs(n) < 1e9 else {
                        throw args.error("'\(name)' item \(i) must be a whole number, got \(Formatter.display(item))")
                    }
                    return Int(n)
                }
            default: return [try args.int(nil, name)]
            }
        }
        return (points, ActivationSlice(heads: try picks("head"), positions: try picks("pos"), neurons: try picks("neuron")))
    }

    static let interventionParameters = ["site", "with", "head", "pos", "neuron", "metric", "model", "data", "split", "seed"]

    static let patch = Builtin("patch", "patch(\"embed\", with: corrupt(a + 1), head: 0, pos: 2, neuron: 5, metric: \"accuracy\")",
                               "run clean inputs with one activation taken from corrupted inputs: `patch embed with corrupt(a+1)`",
                               parameters: interventionParameters + textInterventionParameters) { args in
        if let text = try textTarget(args) { return try textPatch(text, args) }
        let (target, points, slice, metric) = try interventionTarget(args)
        guard case .object(let corruption as CorruptionObject)? = args.value(1, "with") else {
            throw args.error("needs 'with: corrupt(…)', the inputs to take the activation from")
        }
        let corrupted = try target.corrupted(corruption, args.interpreter)
        let result = try Intervention.patch(target.model.model, clean: target.tokens, corrupted: corrupted, labels: target.labels, at: points,
                                            slice: slice, metric: metric, detail: corruption.summary)
        return args.interpreter.adopt(result, on: target)
    }

    static let ablate = Builtin("ablate", "ablate(\"mlp_post 0\", with: \"mean\", neuron: 5)",
                                "replace an activation by zero, its mean or other inputs' values: `ablate mlp_post 0 with mean`",
                                parameters: interventionParameters + textInterventionParameters) { args in
        if let text = try textTarget(args) { return try textAblate(text, args) }
        let (target, points, slice, metric) = try interventionTarget(args)
        let methodName = try args.string(1, "with", default: "mean")
        guard let method = Intervention.AblationMethod(rawValue: methodName) else {
            throw args.error("unknown ablation '\(methodName)' (zero, mean or resample)")
        }
        let result = try Intervention.ablate(target.model.model, tokens: target.tokens, labels: target.labels, at: points, method: method,
                                             slice: slice, metric: metric, seed: try args.seed(nil, default: 0))
        return args.interpreter.adopt(result, on: target)
    }

    static let hook = Builtin("hook", "hook(\"mlp_post 0\", with: fn(x) { x * 0 })",
                              "run with a function replacing an activation: `hook blocks.0.mlp.hook_post with fn(x) { x * 0 }`",
                              parameters: interventionParameters + textInterventionParameters) { args in
        if let text = try textTarget(args) { return try textHook(text, args) }
        let (target, points, slice, metric) = try interventionTarget(args)
        guard case .function(let function)? = args.value(1, "with") else {
            throw args.error("needs 'with: fn(x) { … }', a function from the activation to its replacement")
        }
        let interpreter = args.interpreter
        let result = try Intervention.hook(target.model.model, tokens: target.tokens, labels: target.labels, at: points, slice: slice,
                                           metric: metric, detail: function.name) { activation in
            let replaced = try interpreter.apply(function, positional: [.tensor(activation)], range: args.range)
            guard case .tensor(let tensor) = replaced else {
                throw RuntimeError("the hook function must return a tensor, got \(replaced.typeName)", at: args.range)
            }
            return tensor
        }
        return args.interpreter.adopt(result, on: target)
    }

    /// The dataset's tokens with the corruption applied to its fields (mod p).
    static func corruptedTokens(_ corruption: CorruptionObject, _ data: Dataset, _ interpreter: Interpreter) throws -> Tensor {
        let scope = Environment(parent: corruption.environment)
        for (name, values) in zip(data.fieldNames, data.fieldValues) {
            scope.define(name, .tensor(try Tensor(float64: values.map(Double.init), shape: [values.count])))
        }
        scope.define("p", .number(Double(data.modulus)))
        var fields = data.fieldValues
        for (field, expression) in corruption.changes {
            guard let index = data.fieldNames.firstIndex(of: field) else {
                throw RuntimeError("corrupt: the dataset has no field '\(field)' (its fields are \(data.fieldNames.joined(separator: ", ")))", at: expression.range)
            }
            let value = try interpreter.evaluate(expression, in: scope)
            let tensor = try value.asTensor()
            let values = tensor.count == 1 ? [Double](repeating: try tensor.item(), count: data.count) : tensor.toDoubles()
            guard values.count == data.count else {
                throw RuntimeError("corrupt: '\(field)' must get \(data.count) values, got \(values.count)", at: expression.range)
            }
            guard values.allSatisfy({ $0.isFinite && $0 == $0.rounded() }) else {
                throw RuntimeError("corrupt: '\(field)' must stay whole numbers", at: expression.range)
            }
            fields[index] = values.map { Int(floorMod($0, Double(data.modulus))) }
        }
        return try data.tokens(fields: fields)
    }

    /// Names a corruption expression reads.
    static func fieldsMentioned(_ expr: Expr) -> Set<String> {
        switch expr.kind {
        case .variable(let name): return [name]
        case .unary(_, let e): return fieldsMentioned(e)
        case .binary(_, let a, let b), .logical(_, let a, let b), .range(let a, let b): return fieldsMentioned(a).union(fieldsMentioned(b))
        case .call(let f, let arguments): return arguments.reduce(fieldsMentioned(f)) { $0.union(fieldsMentioned($1.value)) }
        case .list(let items): return items.reduce([]) { $0.union(fieldsMentioned($1)) }
        case .index(let e, _), .field(let e, _): return fieldsMentioned(e)
        default: return []
        }
    }
}

extension Interpreter {
    /// An intervention's result, naming the inputs it measured, is kept for reports and returned.
    func adopt(_ result: InterventionResult, on target: EvaluationTarget) -> Value {
        let object = InterventionObject(result, inputs: target.description)
        session.results.append(object)
        return .object(object)
    }
}
