import NeuroEngine

// MARK: - Arguments of calls whose callee is known

extension NameCheck.Checker {
    /// The argument problems of one call (and the hook names of `patch`,
    /// `ablate` and `hook`), with the messages the call would fail with when run.
    mutating func checkArguments(of call: Expr, callee: Expr, _ arguments: [Argument]) {
        guard case .variable(let name) = callee.kind, let target = self.callee(name, at: callee.range.start.offset) else { return }
        switch target {
        case .builtin(let builtin):
            guard !builtin.lazy else { return }   // a lazy built-in reads its arguments' expressions itself
            let ordered = checkOrder(arguments)
            for (label, argument) in labelled(arguments) where !builtin.parameters.contains(label) {
                report(NameCheck.unknownArgument(label, of: builtin), at: place(of: label, argument))
            }
            if ordered { checkHooks(builtin, arguments) }
        case .user(let function, let decl):
            let ordered = checkOrder(arguments)
            var fails = !ordered
            let positional = arguments.filter { $0.label == nil }
            if positional.count > decl.parameters.count {
                report(NameCheck.tooManyArguments(function, takes: decl.parameters.count, got: positional.count),
                       at: positional[decl.parameters.count].value.range)
                fails = true
            }
            for (label, argument) in labelled(arguments) where !decl.parameters.contains(where: { $0.name == label }) {
                report(NameCheck.unknownParameter(label, of: function, decl), at: place(of: label, argument))
                fails = true
            }
            // Like a run, name the first missing one, and only when nothing else is wrong with the call.
            guard !fails else { return }
            let given = Set(arguments.compactMap(\.label))
            for (index, parameter) in decl.parameters.enumerated()
            where parameter.defaultValue == nil && index >= positional.count && !given.contains(parameter.name) {
                report("\(function)() is missing argument '\(parameter.name)'", at: call.range)
                return
            }
        }
    }

    /// Reports a label given twice and a positional argument after named ones; whether there were none.
    private mutating func checkOrder(_ arguments: [Argument]) -> Bool {
        var seen: Set<String> = []
        var sawLabel = false
        var fine = true
        for argument in arguments {
            if let label = argument.label {
                if !seen.insert(label).inserted {
                    report("argument '\(label)' is given twice", at: place(of: label, argument))
                    fine = false
                }
                sawLabel = true
            } else if sawLabel {
                report("positional arguments must come before named ones", at: argument.value.range)
                fine = false
            }
        }
        return fine
    }

    /// Each label once (a repeated one is reported as such).
    private func labelled(_ arguments: [Argument]) -> [(String, Argument)] {
        var seen: Set<String> = []
        return arguments.compactMap { argument in
            guard let label = argument.label, seen.insert(label).inserted else { return nil }
            return (label, argument)
        }
    }

    /// Where a named argument's word is; its value when the source is not at hand.
    func place(of label: String, _ argument: Argument) -> SourceRange {
        labels?.range(of: label, before: argument.value) ?? argument.value.range
    }
}

// MARK: - Messages a run gives too (the interpreter says them with these)

extension NameCheck {
    /// `zeros: unknown argument 'shap'; did you mean 'shape'?`, as `callBuiltin` says it.
    static func unknownArgument(_ label: String, of builtin: Builtin) -> String {
        var hint = Suggest.closest(label, among: builtin.parameters).map { "; did you mean '\($0)'?" } ?? ""
        // PyTorch's and NumPy's names for the same thing.
        let habits = ["dim": "axis", "reverse": "descending", "key": "by", "max_new_tokens": "tokens", "names_filter": "cache", "fwd_hooks": "hooks"]
        if hint.isEmpty, let ours = habits[label], builtin.parameters.contains(ours) {
            hint = "; NeuroMap calls it '\(ours)' (\(ours): …)"
        }
        let accepted = builtin.parameters.isEmpty ? " (it takes no named arguments)" : ""
        return "\(builtin.name): unknown argument '\(label)'\(hint)\(accepted)"
    }

    /// `scale() has no parameter 'facter'; did you mean 'factor'?`
    static func unknownParameter(_ label: String, of function: String, _ decl: FunctionDecl) -> String {
        let hint = Suggest.closest(label, among: decl.parameters.map(\.name)).map { "; did you mean '\($0)'?" } ?? ""
        return "\(function)() has no parameter '\(label)'\(hint)"
    }

    /// `f() takes 1 argument, got 2`
    static func tooManyArguments(_ function: String, takes count: Int, got given: Int) -> String {
        "\(function)() takes \(count) argument\(count == 1 ? "" : "s"), got \(given)"
    }
}

// MARK: - Hook names

extension NameCheck.Checker {
    /// The site of a vocabulary's statements (`ablate mlp_pst 0 with mean`,
    /// `patch("z 0", …)`) and the sites a built-in lists (the hooks `run` is
    /// asked to cache): the vocabulary says whether each names a site; the
    /// layer waits for the run.
    mutating func checkHooks(_ builtin: Builtin, _ arguments: [Argument]) {
        guard let problem = interpreter.vocabulary.siteProblem else { return }
        if interpreter.vocabulary.grammar.sugar(builtin.name) != nil,
           let site = arguments.first(where: { $0.label == nil || $0.label == "site" }) {
            checkHook(site.value, in: builtin, problem)
        }
        if let parameter = interpreter.vocabulary.siteListParameters[builtin.name],
           let hooks = arguments.first(where: { $0.label == parameter }), case .list(let items) = hooks.value.kind {
            items.forEach { checkHook($0, in: builtin, problem) }
        }
    }

    private mutating func checkHook(_ expr: Expr, in builtin: Builtin, _ siteProblem: (String, Bool) -> String?) {
        switch expr.kind {
        case .site(let name, let layer):
            guard let problem = siteProblem(name, layer != nil) else { return }
            // Under the name only, not the layer expression after it.
            var range = expr.range
            if let layer, range.start.line == layer.range.start.line {
                let end = min(range.start.offset + name.utf8.count, layer.range.start.offset)
                range.end = SourceLocation(line: range.start.line, column: range.start.column + (end - range.start.offset), offset: end)
            }
            report("\(builtin.name): \(problem)", at: range)
        case .string(let name):
            guard let problem = siteProblem(name, false) else { return }
            report("\(builtin.name): \(problem)", at: expr.range)
        default:
            break
        }
    }
}
