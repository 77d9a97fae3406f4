import Foundation
import NeuroEngine
import NeuroLanguage
import NeuroLab

/// The text of `:help` and `:help TOPIC`. Built-ins document themselves
/// (`Builtin.signature` and `summary`); topics cover the statement forms and
/// the prompt.
enum Help {
    static let overview = """
        NeuroMap: train small transformers, open them up, test hypotheses, one line at a time.

        Statements
          x = expr                          assign (also += -= *= /=, x[i] = v, r.key = v)
          fn name(a, b: 2) { … }            a function; its last expression is its value
          if c { … } else { … }             also: for x in xs { … }, while c { … }, break, continue
          import "file.nmap"                run a file into the session
          data = modular(op: "+", p: 113, train: 0.3)
          model = transformer(layers: 1, heads: 4, d_model: 128, d_mlp: 512)
          train model on data epochs 2000 lr 1e-3 wd 1.0
          patch embed with corrupt(a + 1)   ablate mlp_post 0 with mean
          hook blocks.0.mlp.hook_post with fn(x) { x * 0 }
          NAME value word value …           any built-in as a command: `accuracy model on data`

        Prompt commands
        \(commandList)

        Keys: Tab completes names, fields (after a dot) and hook names; Up/Down and Ctrl-R
        search the history; Ctrl-C stops a running command or clears the line; Ctrl-D quits.
        An unclosed bracket or block continues on the next line; a blank line ends it.

        More: :help TOPIC, where TOPIC is a built-in (`:help modular`) or one of
          \(topics.keys.sorted().joined(separator: " "))
        """

    static var commandList: String {
        PromptCommand.allCases.map { "  " + $0.usage.padding(toLength: 16, withPad: " ", startingAt: 0) + $0.summary }
            .joined(separator: "\n")
    }

    /// Topics other than built-ins, by name.
    static let topics: [String: String] = [
        "builtins": "Every built-in function, with how to call it: see the list below. `:help NAME` shows one.",
        "train": """
            train MODEL on DATA epochs N lr 1e-3 wd 1.0 checkpoint 100
              Full-batch AdamW on the training split, printing progress. Ctrl-C stops at the end of the
              current epoch, keeping the weights; training again continues with the same optimizer state.
              The result shows losses and accuracy; `model.history` has the curves.
            """,
        "patch": """
            patch SITE with corrupt(EXPR) [head H] [pos P] [neuron N]
              Runs the model on corrupted inputs, copies the activation at SITE into a clean run and reports
              how much the metric moves. SITE is a hook name (`:help hooks`); `corrupt(a + 1)` changes the
              input field a; `corrupt(a: b, b: a)` swaps fields.
            """,
        "ablate": """
            ablate SITE with mean|zero|resample [head H] [pos P] [neuron N]
              Replaces the activation at SITE and reports how much worse the model does.
            """,
        "hook": """
            hook SITE with fn(x) { … }
              Runs the model with the activation at SITE replaced by the function's value of it.
            """,
        "hooks": """
            Hook names are TransformerLens's: `blocks.0.attn.hook_pattern`, `hook_embed`, `ln_final.hook_scale`.
            Short forms: `pattern 0` (site and layer; a negative layer counts from the end), `pattern0`, `embed`.
            In statements the name is bare (`ablate mlp_post 0 with mean`); elsewhere it is a string
            (`cache["pattern 0"]`). `hooks(model)` lists a model's hooks; Tab completes them.
            """,
        "fn": """
            fn name(a, b: 2) { body }    fn(x) { x * 2 } is a function value
              A call's value is the body's last expression, or what `return` gives. Parameters with a
              default may be named at the call: name(1, b: 3).
            """,
        "control": """
            if c { … } else if d { … } else { … }
            for x in list_range_or_tensor { … }      (0..5 is 0, 1, 2, 3, 4)
            while c { … }                              break and continue work in both loops
            false, none, 0, "" and [] are false; everything else is true.
            """,
        "import": """
            import "file.nmap"
              Runs the file into the session's globals; a relative path is relative to the importing script.
              At the prompt, `:load FILE` does the same.
            """,
        "values": """
            numbers 3, 0.25, 1e-3   strings "a" 'b'   true false none   lists [1, 2]   records {lr: 1e-3, wd: 1}
            ranges 0..10   tensors tensor([[1, 2], [3, 4]])   functions   and objects: models, datasets, caches, results.
            Operators: + - * / % ^ (power) @ (matrix product) == != < <= > >= and or not; x[i], x[a:b], x.field.
            """,
        "tensors": """
            t = tensor([[1, 2], [3, 4]])   t.shape  t.dtype  t.T  t[0, :]  t @ t  t.sum(axis: 0)  t.softmax()
            A tensor prints its dtype and shape, and its values when small or their statistics when large.
            """,
        "repl": """
            Tab completes keywords, variables, built-ins, a value's fields after a dot, hook names of the current
            model and named arguments. History is kept in ~/.neuromap_history ($NEUROMAP_HISTORY; empty keeps none).
            Ctrl-C during a command stops it at its next safe point (three times: quit); at the prompt it clears the line.
            """,
    ]

    /// Keywords and other words that lead to a topic.
    static let aliases: [String: String] = [
        "if": "control", "else": "control", "for": "control", "in": "control", "while": "control",
        "break": "control", "continue": "control", "return": "fn", "true": "values", "false": "values",
        "none": "values", "and": "values", "or": "values", "not": "values", "tensor": "tensors",
        "keys": "repl", "history": "repl", "completion": "repl", "prompt": "repl", "site": "hooks",
    ]

    /// Names `:help` answers for, for completion and suggestions.
    static func names(_ interpreter: Interpreter) -> [String] {
        Array(topics.keys) + Array(aliases.keys) + Array(interpreter.builtins.keys) + interpreter.globals.allNames
    }

    /// The help on `name`: a topic, a built-in, a variable, or what was probably meant.
    static func text(_ name: String, _ interpreter: Interpreter) -> String {
        var parts: [String] = []
        if let topic = topics[name] ?? aliases[name].flatMap({ topics[$0] }) { parts.append(topic) }
        if name == "builtins" {
            parts.append(interpreter.builtins.values.sorted { $0.name < $1.name }.map { "  \($0.signature)\n      \($0.summary)" }.joined(separator: "\n"))
        } else if let builtin = interpreter.builtins[name] {
            var text = "\(builtin.signature)\n  \(builtin.summary)"
            if !builtin.parameters.isEmpty { text += "\n  named arguments: \(builtin.parameters.joined(separator: ", "))" }
            parts.append(text)
        }
        if name == "hooks" || name == "site", let model = interpreter.session.model?.model {
            parts.append("The current model's hooks:\n" + model.hookPoints.map { "  \($0.name)  \($0.site.dimensions)" }.joined(separator: "\n"))
        }
        if let value = interpreter.globals.lookup(name) {
            let origin = interpreter.globals.localNames.contains(name) ? "" : " (standard library)"
            parts.append("\(name): \(value.typeName)\(origin)  \(Formatter.display(value))")
        }
        if parts.isEmpty {
            let hint = Suggest.closest(name, among: names(interpreter)).map { "; did you mean '\($0)'?" } ?? ""
            return "no help on '\(name)'\(hint) (:help lists the topics)"
        }
        return parts.joined(separator: "\n\n")
    }
}
