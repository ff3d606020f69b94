// Model parameters, read the same way for members, the arbiter, stages and catalog aliases.

import RefinerySyntax

/// Reasoning effort words accepted in `params.reasoning_effort`.
enum ReasoningEffort: String, CaseIterable {
    case minimal, low, medium, high, xhigh
}

extension NodeReader {
    static let paramKeys = ["temperature", "top_p", "max_tokens", "reasoning_effort", "seed", "stop"]

    /// `params:` → ``ModelParams`` (unset keys stay `nil`).
    func params(_ node: YAMLNode, _ context: String) -> ModelParams {
        var params = ModelParams()
        guard let fields = fields(node, allowed: Self.paramKeys, context: context) else { return params }
        for field in fields {
            let value = field.value
            switch field.name {
            case "temperature": params.temperature = double(value, "`temperature`", min: 0, max: 2)
            case "top_p": params.topP = double(value, "`top_p`", min: 0, max: 1)
            case "max_tokens": params.maxTokens = int(value, "`max_tokens`", min: 1, max: ModelParams.maxTokensLimit)
            case "reasoning_effort":
                params.reasoningEffort = choice(value, "reasoning effort", as: ReasoningEffort.self)?.rawValue
            case "seed": params.seed = int(value, "`seed`")
            case "stop": params.stop = stringList(value, "`stop`")
            default: break
            }
        }
        return params
    }
}
