import NeuroLanguage

// The command that made each result, for the report to show above it: the
// source lines of the innermost built-in call under way when the result
// joined the session, in an input the front end has handed over
// (`remember`). Calls in text the session was not given (the standard
// library's) are passed over for the call around them.

extension Session {
    /// Keeps `text` so that results made by its commands can quote them.
    ///
    /// ```swift
    /// interpreter.session.remember(SourceText(name: "a.nmap", text: source, input: 1))
    /// ```
    public func remember(_ text: SourceText) {
        sources[text.input] = text
    }

    /// The source text of the command that made `result` (whole lines, at most
    /// `maxCommandLines`), or nil when it is not known.
    public func command(of result: NativeObject) -> String? {
        commands[ObjectIdentifier(result)]
    }

    /// Most lines of a command quoted (a longer one ends with "…").
    static let maxCommandLines = 6

    /// `builtin`, noting the place of each call while it runs, so that results it makes know their command.
    static func noting(_ builtin: Builtin) -> Builtin {
        Builtin(builtin.name, builtin.signature, builtin.summary, parameters: builtin.parameters, lazy: builtin.lazy,
                effects: builtin.effects, quadratic: builtin.quadratic) { args in
            let session = args.interpreter.session
            session.calls.append(args.range)
            defer { session.calls.removeLast() }
            return try builtin.call(args)
        }
    }

    /// Notes the command of each result added since `old`; forgets those removed.
    func noteCommands(after old: [NativeObject]) {
        if results.count < old.count {
            let kept = Set(results.map(ObjectIdentifier.init))
            commands = commands.filter { kept.contains($0.key) }
            return
        }
        guard let command = currentCommand() else { return }
        for result in results[old.count...] where commands[ObjectIdentifier(result)] == nil {
            commands[ObjectIdentifier(result)] = command
        }
    }

    /// The lines of the innermost call under way whose text the session has.
    func currentCommand() -> String? {
        for range in calls.reversed() {
            guard let text = sources[range.input], range.start.line >= 1, range.end.line >= range.start.line else { continue }
            let last = min(range.end.line, range.start.line + Session.maxCommandLines - 1)
            var quoted: [String] = []
            for number in range.start.line...last {
                guard let scalars = text.line(number) else { break }
                var line = String(String.UnicodeScalarView(scalars))
                while let end = line.last, end == " " || end == "\t" { line.removeLast() }
                quoted.append(line)
            }
            guard !quoted.isEmpty else { continue }
            // The lines as written, less the indentation they share (a call inside a block).
            let indents: [Int] = quoted.filter { !$0.isEmpty }.map { line in line.prefix { $0 == " " || $0 == "\t" }.count }
            let indent = indents.min() ?? 0
            quoted = quoted.map { String($0.dropFirst(indent)) }
            if range.end.line > last { quoted.append("…") }
            return quoted.joined(separator: "\n")
        }
        return nil
    }
}
