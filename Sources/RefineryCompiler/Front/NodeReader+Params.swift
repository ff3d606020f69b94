// Model parameters, read the same way for members, the arbiter, stages and catalog aliases.

import RefinerySyntax

/// Reasoning effort words accepted in `params.reasoning_effort`.
enum ReasoningEffort: String, CaseIterable {
    case minimal, low, medium, high, xhigh
}

extension NodeReader {
    static let paramKeys = ["temperature", "top_p", "max_tokens", "reasoning_effort", "seed", "stop"]

    /// `params:` → ``ModelParams`` (unset keys stay `nil`), each value checked against what every API of
    /// `models` (the models the parameters are sent to, fallbacks included) accepts (``ProviderProtocol``):
    /// `temperature: 1.5` on an Anthropic model is an error here, not a failed call.
    func params(_ node: YAMLNode, _ context: String, sentTo models: [ModelRef]) -> ModelParams {
        let params = params(node, context)
        warnOfSamplingNotSent(node, params, models)
        guard let temperature = params.temperature, let valueNode = node["temperature"] else { return params }
        var seen = Set<ProviderProtocol>()
        let apis = models.map { ProviderProtocol(provider: $0.provider) }.filter { seen.insert($0).inserted }
        func span(_ range: ClosedRange<Double>) -> String {
            "\(Self.describe(range.lowerBound))–\(Self.describe(range.upperBound))"
        }
        for (model, api) in zip(models, models.map { ProviderProtocol(provider: $0.provider) }) {
            guard let range = api.temperatureRange, !range.contains(temperature) else { continue }
            let ranges = apis.compactMap { api in api.temperatureRange.map { "\(api.rawValue) takes \(span($0))" } }
            error(
                FrontCode.outOfRange,
                "`temperature` \(Self.describe(temperature)) is outside what \(model) accepts "
                    + "(\(api.rawValue): \(span(range)))",
                at: valueNode,
                hint: "use a temperature every model it is sent to accepts: \(ranges.joined(separator: "; "))")
            break
        }
        return params
    }

    /// A sampling parameter a Claude model of `models` refuses (``ClaudeGeneration/takesSamplingParameters``),
    /// so the call is sent without it: said where it is set, once per parameter. Not when reasoning effort
    /// turns thinking on, which sends neither to any Claude model.
    private func warnOfSamplingNotSent(_ node: YAMLNode, _ params: ModelParams, _ models: [ModelRef]) {
        guard ThinkingAllowance.anthropicBudget(effort: params.reasoningEffort) == nil,
            let model = models.first(where: { model in
                ProviderProtocol(provider: model.provider) == .anthropicMessages
                    && ClaudeGeneration(model: model.model).map { !$0.takesSamplingParameters } == true
            })
        else { return }
        for key in ["temperature", "top_p"] {
            guard let valueNode = node[key] else { continue }
            warning(
                FrontCode.samplingNotSent,
                "`\(key)` is not sent to \(model): Claude models from Opus 4.7 on refuse sampling parameters",
                at: valueNode,
                hint: "remove `\(key)` here, or set it only where the models it is sent to take it")
        }
    }

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
