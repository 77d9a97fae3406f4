import NeuroEngine
import NeuroModels
import NeuroLanguage
import NeuroPlots

/// The workbench's vocabulary for the language: models, datasets, training,
/// interventions, analyses, circuits, pictures and their files, the
/// statements `patch`, `ablate` and `hook`, hook names to complete, and the
/// session that holds the current model and data.
///
/// ```swift
/// let interpreter = NeuroLab.makeInterpreter()
/// let parsed = interpreter.parse("train model on data epochs 10")
/// ```
public enum NeuroLab {
    /// Every built-in, statement and completion of the workbench.
    public static var vocabulary: Vocabulary {
        Vocabulary(builtins: (Builtins.domain + Builtins.analysis).map(Session.noting),
                   statements: statements,
                   site: { name, layer in .object(SiteObject(name: name, layer: layer)) },
                   siteProblem: { name, layerFollows in HookResolver.problem(spelling: name, layerFollows: layerFollows) },
                   siteListParameters: ["run": "cache"],
                   hookNames: hookNames, siteNames: siteNames)
    }

    /// Statements that name a hook site and then say what to do with it:
    /// `patch embed with corrupt(a+1)` is `patch(embed, with: corrupt(a+1))`;
    /// `head`, `pos` and `neuron` slice the site (`patch z 0 head 1 with …`),
    /// and `ablate … with mean` names its method by a bare word.
    public static let statements = [
        StatementSugar("patch", qualifiers: siteQualifiers),
        StatementSugar("ablate", qualifiers: siteQualifiers, bareWords: ["mean", "zero", "resample"]),
        StatementSugar("hook", qualifiers: siteQualifiers),
    ]
    static let siteQualifiers: Set<String> = ["head", "pos", "neuron"]

    /// The grammar of the workbench's statements.
    public static var grammar: Grammar { Grammar(statements: statements) }

    /// An interpreter with the workbench's vocabulary.
    public static func makeInterpreter() -> Interpreter {
        Interpreter(vocabulary: vocabulary)
    }

    /// Parses with the workbench's statements, without running.
    public static func parse(_ source: String) -> (program: [Stmt], diagnostics: [Diagnostic], incomplete: Bool) {
        Interpreter.parse(source, grammar: grammar)
    }

    // MARK: - Completion

    /// The current model's hook names in forward order: each full name
    /// (`blocks.0.attn.hook_pattern`) and the language's short form
    /// (`pattern 0`; `scale 0 ln1` where a short form alone is ambiguous;
    /// `embed` for hooks outside the blocks). Without a current model, those
    /// of the model a variable holds (the first by name); empty without either.
    static func hookNames(_ interpreter: Interpreter) -> [String] {
        guard let points = completionModel(interpreter)?.model.hookPoints else { return [] }
        func short(_ point: HookPoint) -> String {
            point.layer.map { "\(point.site.languageName) \($0)" } ?? point.site.languageName
        }
        let shortCounts = Dictionary(points.map { (short($0), 1) }, uniquingKeysWith: +)
        return points.flatMap { point -> [String] in
            var form = short(point)
            // `ln1.hook_scale` and `ln2.hook_scale` share the short name `scale`; the module tells them apart.
            if shortCounts[form, default: 0] > 1, let module = point.site.localName.split(separator: ".").first {
                form += " \(module)"
            }
            return [point.name, form]
        }
    }

    /// The names of the sites a hook statement can name, without layers
    /// (`pattern`, `mlp_post`, `embed`), sorted: the model's (as for
    /// `hookNames`), or every site's without one.
    static func siteNames(_ interpreter: Interpreter) -> [String] {
        let sites = completionModel(interpreter).map { Set($0.model.hookPoints.map(\.site)) } ?? Set(HookSite.allCases)
        return Set(sites.map(\.languageName)).sorted()
    }

    /// The model whose hooks complete: the current one, else the one a variable holds (the first by name).
    static func completionModel(_ interpreter: Interpreter) -> ModelObject? {
        interpreter.session.model ?? interpreter.globals.localNames.lazy.compactMap { name -> ModelObject? in
            if case .object(let model as ModelObject)? = interpreter.globals.lookup(name) { return model }
            return nil
        }.first
    }
}
