// The wire protocol each provider key speaks, and what that protocol accepts of a model's parameters:
// one table, read by the compiler so a value the provider would refuse is a located error before any
// call (`validate`, `estimate` and `run` alike), not a failed run.

/// The API a provider key is reached through.
package enum ProviderProtocol: String, Sendable, Hashable, CaseIterable {
    /// Anthropic Messages (`anthropic`).
    case anthropicMessages = "Anthropic Messages"
    /// OpenAI Chat Completions (`openai`, `openrouter`, `ollama`, and every endpoint of providers.yaml).
    case openAIChat = "OpenAI Chat Completions"
    /// Gemini generateContent (`gemini`).
    case geminiGenerateContent = "Gemini generateContent"
    /// A local command agent (`command`): it is sent no sampling parameters.
    case command = "command agent"

    /// The protocol of a provider key; a key not built in is an endpoint of providers.yaml, OpenAI-compatible.
    package init(provider: String) {
        switch provider {
        case "anthropic": self = .anthropicMessages
        case "gemini": self = .geminiGenerateContent
        case "command": self = .command
        default: self = .openAIChat
        }
    }

    /// The `temperature` values the protocol accepts, as each API documents them: Anthropic 0–1, OpenAI
    /// and Gemini 0–2. `nil` when the parameter is not sent at all.
    package var temperatureRange: ClosedRange<Double>? {
        switch self {
        case .anthropicMessages: 0...1
        case .openAIChat, .geminiGenerateContent: 0...2
        case .command: nil
        }
    }
}
