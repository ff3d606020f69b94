// How many output tokens a model may spend thinking beyond the answer a call allows it: Anthropic's
// extended-thinking budget and Gemini's thoughts, both billed as output. One table for the wire protocols,
// which send these numbers, and for the estimate and the engine's budget check, which price a call capped
// by `max_tokens` at everything it may be billed, thinking included.

/// The thinking room each wire protocol adds to a call's answer allowance.
package enum ThinkingAllowance {
    /// Anthropic's extended-thinking budget (tokens) for a reasoning effort: `minimal` → none, `low` → 2,048,
    /// `medium` → 8,192, `high` → 16,384, `xhigh` → 32,000; unknown or absent → none.
    package static func anthropicBudget(effort: String?) -> Int? {
        switch effort?.lowercased() {
        case "low": 2048
        case "medium": 8192
        case "high": 16384
        case "xhigh", "max": 32000
        default: nil
        }
    }

    /// Gemini's `thinkingBudget` for a reasoning effort, for models before Gemini 3 (which take a
    /// `thinkingLevel` instead, ``geminiTakesLevels(_:)``: `nil`): `minimal` → 0 (128 on Pro models, which cannot turn thinking off),
    /// `low` → 1,024, `medium` → 8,192, `high` → 24,576, `xhigh` → 32,768; unknown or absent → `nil`.
    package static func geminiBudget(model: String, effort: String?) -> Int? {
        guard let effort = effort?.lowercased(), !geminiTakesLevels(model) else { return nil }
        return switch effort {
        case "minimal": model.contains("pro") ? 128 : 0
        case "low": 1024
        case "medium": 8192
        case "high": 24576
        case "xhigh", "max": 32768
        default: nil
        }
    }

    /// Thinking allowance of a Gemini model that chooses its own budget (Gemini 2.5's dynamic thinking,
    /// Gemini 3's levels): the largest `thinkingBudget` Gemini documents (2.5 Pro's).
    package static let geminiDefaultThinkingTokens = 32768
    /// Output limit of Gemini 2.5 and 3 models; no cap sent exceeds it.
    package static let geminiMaxOutputTokens = 65536

    /// Whether a Gemini `model` thinks when the request says nothing about thinking: every Gemini from 2.5
    /// on (2.5 Flash-Lite only when asked, which costs nothing here); not Gemini 1.x and 2.0, nor the Gemma
    /// models served by the same API.
    package static func geminiThinksByDefault(_ model: String) -> Bool {
        guard geminiName(model).hasPrefix("gemini-") else { return false }
        return (geminiVersion(model) ?? 2.5) >= 2.5  // no version: `gemini-flash-latest` and the like
    }

    /// Whether a Gemini `model` sets its thinking by `thinkingLevel` (Gemini 3 and later) rather than by a
    /// `thinkingBudget`.
    package static func geminiTakesLevels(_ model: String) -> Bool {
        (geminiVersion(model) ?? 0) >= 3
    }

    /// The version a Gemini model's name carries: `gemini-3.1-pro-preview` 3.1, `models/gemini-2.5-flash` 2.5,
    /// `gemini-3-flash` 3; `nil` for a name without one.
    package static func geminiVersion(_ model: String) -> Double? {
        let name = geminiName(model)
        guard name.hasPrefix("gemini-") else { return nil }
        return Double(name.dropFirst(7).prefix { $0.isNumber || $0 == "." })
    }

    private static func geminiName(_ model: String) -> Substring {
        model.hasPrefix("models/") ? model.dropFirst(7) : Substring(model)
    }

    /// Output tokens the estimate and the engine's budget check price a call of `model` at, when its answer is
    /// `answer` tokens: a call capped by `max_tokens` at its ``outputCap(answer:model:reasoningEffort:)``,
    /// thinking included; an uncapped one at the answer (a typical size: the thinking of an uncapped call is
    /// not priced, as its reply's length is not, and the budget check holds its cap while it is in flight).
    package static func billedOutput(answer: Int, capped: Bool, model: ModelRef, reasoningEffort: String?) -> Int {
        capped ? outputCap(answer: answer, model: model, reasoningEffort: reasoningEffort) : answer
    }

    /// The output cap a call of `model` sends when it allows `answer` tokens of answer: Anthropic adds the
    /// thinking budget of `reasoningEffort`; Gemini, which counts thoughts against `maxOutputTokens`, the
    /// `thinkingBudget` it sends, else ``geminiDefaultThinkingTokens`` for a model that thinks by default, within
    /// ``geminiMaxOutputTokens``; OpenAI's `max_completion_tokens` already counts a reasoning model's thinking.
    /// What such a call may be billed for its output.
    package static func outputCap(answer: Int, model: ModelRef, reasoningEffort: String?) -> Int {
        switch ProviderProtocol(provider: model.provider) {
        case .anthropicMessages:
            guard let budget = anthropicBudget(effort: reasoningEffort) else { return answer }
            let (total, overflow) = answer.addingReportingOverflow(budget)
            return overflow ? Int.max : total
        case .geminiGenerateContent:
            let thoughts =
                geminiBudget(model: model.model, effort: reasoningEffort)
                ?? (geminiThinksByDefault(model.model) ? geminiDefaultThinkingTokens : 0)
            return min(answer, geminiMaxOutputTokens - thoughts) + thoughts
        case .openAIChat, .command:
            return answer
        }
    }
}
