// `--var k=v`: user variables for a workflow's Mustache prompt templates. They are substituted
// into the templates before the run starts, so the engine's renderer only ever sees the
// variables it provides itself, and the stored workflow snapshot is exactly what ran.

public import RefineryCompiler

/// Substitutes `{{name}}` / `{{{name}}}` / `{{& name}}` tags of user variables in prompt templates.
public enum TemplateVariables {
    /// `workflow` with every inline or file template's user variables replaced by their values.
    /// Throws ``InputError`` when a name is not a plain identifier.
    public static func apply(_ variables: [String: String], to workflow: Workflow) throws -> Workflow {
        guard !variables.isEmpty else { return workflow }
        for name in variables.keys where !isIdentifier(name) {
            throw InputError(
                code: .invalidOption,
                message: "--var \(name): variable names are letters, digits and _, starting with a letter.")
        }
        var workflow = workflow
        workflow.stages = workflow.stages.map { substitute(variables, in: $0) }
        return workflow
    }

    /// `text` with the variables' tags replaced (values inserted verbatim, never HTML-escaped).
    public static func substitute(_ variables: [String: String], in text: String) -> String {
        var result = text
        for (name, value) in variables {
            for tag in [
                "{{{\(name)}}}", "{{{ \(name) }}}", "{{& \(name)}}", "{{&\(name)}}", "{{\(name)}}", "{{ \(name) }}",
            ] {
                result = result.replacing(tag, with: value)
            }
        }
        return result
    }

    private static func substitute(_ variables: [String: String], in stage: Stage) -> Stage {
        switch stage {
        case .repeat(let inner): return .repeat(inner.map { substitute(variables, in: $0) })
        case .propose(var s): s.common = substitute(variables, in: s.common); return .propose(s)
        case .evaluate(var s): s.common = substitute(variables, in: s.common); return .evaluate(s)
        case .refine(var s): s.common = substitute(variables, in: s.common); return .refine(s)
        case .synthesize(var s): s.common = substitute(variables, in: s.common); return .synthesize(s)
        case .verify(var s): s.common = substitute(variables, in: s.common); return .verify(s)
        case .vote, .close: return stage
        }
    }

    private static func substitute(_ variables: [String: String], in common: StageCommon) -> StageCommon {
        var common = common
        if var prompt = common.prompt {
            prompt.system = prompt.system.map { substitute(variables, in: $0) }
            prompt.user = prompt.user.map { substitute(variables, in: $0) }
            common.prompt = prompt
        }
        return common
    }

    private static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII else { return false }
        return name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_")
        }
    }
}
