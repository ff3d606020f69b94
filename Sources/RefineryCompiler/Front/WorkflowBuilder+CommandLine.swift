// The command-line layer: each flag of ``WorkflowOverrides`` becomes the field it stands for, from an
// origin named after the flag, and is merged over the file like an `extends` child. The sections are
// then read by the same code as a file's, so a flag gets the diagnostic the same value in a file gets.

import RefinerySyntax

extension WorkflowBuilder {
    /// Where an override's value comes from: `<command line>: --max-rounds` (an MCP tool's `<tool arguments>:
    /// rounds`), with no line or column. Every name of an override in a diagnostic comes from
    /// ``WorkflowOverrides/Surface``, so it is the one the caller typed.
    func origin(_ key: WorkflowOverrides.Key) -> Origin {
        let surface = compiler.overrides.surface
        return Origin(displayName: "\(surface.layerName): \(surface.name(of: key))", path: nil, commandLine: true)
    }

    /// `key` as the caller names it: `--max-rounds`, or `rounds` in an MCP tool call.
    func flag(_ key: WorkflowOverrides.Key) -> String { compiler.overrides.surface.name(of: key) }

    /// `key` set to `value` as the caller writes it: `--max-rounds 3`, or `rounds: 3`.
    func setting(_ key: WorkflowOverrides.Key, _ value: some CustomStringConvertible) -> String {
        compiler.overrides.surface.setting(key, value.description)
    }

    /// A node holding a flag's value: quoted for text (never read as a number or a boolean), plain for numbers.
    static func flagNode(_ kind: YAMLNode.Kind) -> YAMLNode {
        let start = SourceLocation(line: 1, column: 1)
        return YAMLNode(kind: kind, range: SourceRange(start: start, end: start))
    }

    static func flagText(_ text: String) -> YAMLNode {
        flagNode(.scalar(YAMLScalar(value: text, style: .doubleQuoted)))
    }

    /// A flag's number as the file would write it. A value too large for a double (`--threshold 1e400`) was
    /// parsed as infinity: YAML's `.inf`, so it is reported out of range like `1e400` in a file, not as `inf`.
    private static func flagNumber(_ value: some Numeric & CustomStringConvertible) -> YAMLNode {
        let text =
            if let double = value as? Double, double.isInfinite { double > 0 ? ".inf" : "-.inf" } else {
                value.description
            }
        return flagNode(.scalar(YAMLScalar(value: text, style: .plain)))
    }

    private func flagField(_ key: String, flag: WorkflowOverrides.Key, _ value: YAMLNode) -> Field {
        Field(key: Self.flagNode(.scalar(YAMLScalar(value: key))), value: value, origin: origin(flag))
    }

    /// `fields` (the file and its bases, merged) with the command-line layer merged over them.
    func mergingCommandLine(into fields: [Field]) -> [Field] {
        let overrides = compiler.overrides
        var layer: [Field] = []
        if let models = overrides.models {
            let items = models.map(Self.flagText)
            layer.append(flagField("models", flag: .models, Self.flagNode(.sequence(items))))
        }
        func section(_ name: String, _ entries: [Field?]) {
            let entries = entries.compactMap { $0 }
            guard let first = entries.first else { return }
            let pairs = entries.map { YAMLPair(key: $0.key, value: $0.value) }
            var field = Field(key: first.key, value: Self.flagNode(.mapping(pairs)), origin: first.origin)
            field.key = Self.flagNode(.scalar(YAMLScalar(value: name)))
            // The entries keep their own flags: each is reported at the flag that gave it.
            field.merged = entries
            layer.append(field)
        }
        section(
            "iterations",
            [
                overrides.minRounds.map { flagField("min", flag: .minRounds, Self.flagNumber($0)) },
                overrides.maxRounds.map { flagField("max", flag: .maxRounds, Self.flagNumber($0)) },
            ])
        section(
            "convergence",
            [overrides.threshold.map { flagField("threshold", flag: .threshold, Self.flagNumber($0)) }])
        section(
            "limits",
            [
                overrides.timeoutSeconds.map { flagField("timeout", flag: .timeout, Self.flagNumber($0)) },
                overrides.maxConcurrent.map {
                    flagField("max_concurrent", flag: .maxConcurrent, Self.flagNumber($0))
                },
                overrides.budgetUSD.map { flagField("budget", flag: .budget, Self.flagNumber($0)) },
            ])
        // `--max-rounds` below the file's `iterations.min` is refused where the iterations are read.
        return merge(base: fields, child: layer)
    }

    /// The arbiter: the file's, with `--arbiter` replacing its model (its fallbacks, system prompt and
    /// parameters stay; the alias's parameters go under them).
    func readArbiter(_ field: Field?, override: String?) -> Arbiter? {
        guard let override else { return field.flatMap { readArbiter($0) } }
        let node = Self.flagText(override)
        let reader = NodeReader(origin: origin(.arbiter), sink: sink)
        guard let resolved = resolveModel(override, node, reader) else { return nil }
        guard var arbiter = field.flatMap({ readArbiter($0, replacement: resolved.target) }) else {
            return Arbiter(model: resolved.target, params: resolved.params)
        }
        arbiter.model = resolved.target
        arbiter.params = resolved.params.merged(with: arbiter.params)
        return arbiter
    }

    /// Flags the chain has no use for are said to have no effect, rather than accepted in silence: `--arbiter`
    /// where no stage is performed by the arbiter, `--min-rounds`, `--max-rounds` and `--threshold` where there is
    /// no `repeat` block (the chain runs once).
    func checkFlagsHaveEffect(_ stages: [Stage]) {
        let overrides = compiler.overrides
        if overrides.arbiter != nil, !stages.flatMap(\.inlined).contains(where: { $0.common?.by == .arbiter }) {
            NodeReader(origin: origin(.arbiter), sink: sink).warning(
                FrontCode.flagWithoutEffect,
                "`\(flag(.arbiter))` has no effect: no stage of this workflow is performed by the arbiter",
                at: Self.flagText(""), hint: "drop it, or use a workflow with `synthesize` or `verify`")
        }
        guard !stages.contains(where: { if case .repeat = $0 { true } else { false } }) else { return }
        let roundFlags: [(WorkflowOverrides.Key, Bool)] = [
            (.minRounds, overrides.minRounds != nil), (.maxRounds, overrides.maxRounds != nil),
            (.threshold, overrides.threshold != nil),
        ]
        for (key, given) in roundFlags where given {
            NodeReader(origin: origin(key), sink: sink).warning(
                FrontCode.flagWithoutEffect,
                "`\(flag(key))` has no effect: this workflow has no `repeat` block, so it runs once",
                at: Self.flagText(""), hint: "drop it")
        }
    }

    /// `--var` names: plain identifiers, as Mustache reads them.
    func checkVariables() {
        let reader = NodeReader(origin: origin(.variable), sink: sink)
        for name in compiler.overrides.variables.keys.sorted() {
            if !Self.isIdentifier(name) {
                reader.error(
                    FrontCode.invalidValue, "`\(name)` is not a template variable name", at: Self.flagText(name),
                    hint: "variable names are letters, digits and `_`, starting with a letter")
            } else if let stage = PromptVariables.stage(providing: name) {
                // The stage's own value wins in its templates: the flag would be dropped without a word.
                reader.error(
                    FrontCode.invalidValue,
                    "`\(name)` is a variable the `\(stage)` stage provides, so `\(flag(.variable))` cannot set it",
                    at: Self.flagText(name),
                    hint: "give your variable another name (e.g. `\(setting(.variable, "my_\(name)=..."))`) and use "
                        + "that name in the template")
            }
        }
    }

    /// A `--var` no prompt template shows is said to have no effect, rather than accepted in silence: a
    /// misspelt name, or a workflow whose stages use the built-in prompts (which show no variable of yours).
    /// Run after the stages are read, whose templates give ``DiagnosticSink/templateNames``.
    func checkVariablesShown() {
        let reader = NodeReader(origin: origin(.variable), sink: sink)
        let shown = sink.templateNames
        for name in compiler.overrides.variables.keys.sorted()
        where Self.isIdentifier(name) && PromptVariables.stage(providing: name) == nil && !shown.contains(name)
            && !compiler.overrides.rowVariables.contains(name)
        {
            let hint: String
            if let close = Suggestions.closest(to: name, in: shown) {
                hint = "did you mean `\(setting(.variable, "\(close)=..."))`?"
            } else if shown.isEmpty {
                hint =
                    "this workflow's stages use the built-in prompts, which show no variable of yours; give a "
                    + "stage a `prompt:` template that shows `{{\(name)}}`, or drop it"
            } else {
                let names = shown.sorted().map { "`{{\($0)}}`" }.joined(separator: ", ")
                hint = "its templates show \(names); drop it or show `{{\(name)}}` in a template"
            }
            reader.warning(
                FrontCode.unusedVariable,
                "`\(setting(.variable, name))` has no effect: no prompt template of this workflow shows it",
                at: Self.flagText(name), hint: hint)
        }
    }

    private static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic else { return false }
        return name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_")
        }
    }
}
