// Anthropic Messages API: POST {base}/v1/messages, JSON or SSE (`message_start` …
// `content_block_delta` … `message_delta` … `message_stop`).

import RefineryCompiler
package import RefineryRuntime

/// How a request to Anthropic authenticates.
package enum AnthropicAuth: Sendable, Hashable {
    /// `x-api-key: KEY` (from `ANTHROPIC_API_KEY`).
    case apiKey(String)
    /// `Authorization: Bearer TOKEN` plus `anthropic-beta: oauth-2025-04-20` (from `CLAUDE_CODE_OAUTH_TOKEN`).
    case oauth(String)
}

/// Calls Claude models through the Anthropic Messages API.
///
/// Reasoning effort turns thinking on: adaptive thinking with `output_config.effort` on Opus 4.7 and later
/// (``ClaudeGeneration/adaptiveEffort(_:)``), a fixed extended-thinking budget on older models (see
/// ``thinkingBudget(for:)``); either way `max_tokens` becomes the answer allowance plus that budget, the most
/// the call may think and answer. When thinking is on, `temperature` and `top_p` are not sent (the API refuses
/// them), nor on Opus 4.7 and later, which refuse them always; otherwise one of them is, `temperature` when both
/// are set (recent models refuse the pair). A ``ResponseFormat`` becomes an instruction appended to the
/// system prompt.
package struct AnthropicProvider: WireProtocolProvider {
    package static let defaultBaseURL = "https://api.anthropic.com"
    package static let apiVersion = "2023-06-01"
    package static let oauthBeta = "oauth-2025-04-20"
    /// Answer allowance when the workflow sets no `max_tokens` (the API requires one).
    package static let defaultMaxTokens = 8192

    package let client: WireClient
    package let baseURL: String
    package let auth: AnthropicAuth

    package init(client: WireClient, baseURL: String, auth: AnthropicAuth) {
        self.client = client
        self.baseURL = baseURL
        self.auth = auth
    }

    package func parse(_ json: JSONValue) throws -> ModelReplyParts { try Self.parseReply(json) }

    package func makeDecoder() -> StreamDecoder { StreamDecoder(provider: client.provider) }

    /// A subscription (OAuth) token refused by the Messages API gets a way out in its message.
    package func advise(_ error: ProviderError) -> ProviderError {
        guard case .oauth = auth, [.authentication, .badRequest].contains(error.code) else { return error }
        var advised = error
        advised.message +=
            " (the key was CLAUDE_CODE_OAUTH_TOKEN: if the API does not accept subscription tokens for this model, "
            + "set ANTHROPIC_API_KEY or use the model `command/claude`, which runs Claude Code)"
        return advised
    }

    /// Extended-thinking budget (tokens) for a reasoning effort (``ThinkingAllowance/anthropicBudget(effort:)``).
    package static func thinkingBudget(for effort: String?) -> Int? {
        ThinkingAllowance.anthropicBudget(effort: effort)
    }

    package func call(_ request: ModelRequest, stream: Bool) throws -> WireCall {
        var headers: [(String, String)] = [
            ("anthropic-version", Self.apiVersion), ("accept", stream ? "text/event-stream" : "application/json"),
        ]
        switch auth {
        case .apiKey(let key): headers.append(("x-api-key", key))
        case .oauth(let token):
            headers.append(("authorization", "Bearer \(token)"))
            headers.append(("anthropic-beta", Self.oauthBeta))
        }
        return WireCall(
            url: HTTPProviderSupport.join(baseURL, "/v1/messages"), headers: headers,
            body: Self.body(for: request, stream: stream), timeoutSeconds: HTTPProviderSupport.timeout(request),
            model: request.model.model, estimatedTokens: client.estimatedTokens(request))
    }

    /// The request body.
    package static func body(for request: ModelRequest, stream: Bool) -> JSONValue {
        let params = request.params
        var body: [String: JSONValue] = [
            "model": .string(request.model.model),
            "messages": .array(
                request.messages.map { ["role": .string($0.role.rawValue), "content": .string($0.content)] }),
        ]
        var system = request.system ?? ""
        if let format = request.responseFormat {
            system += (system.isEmpty ? "" : "\n\n") + HTTPProviderSupport.jsonInstruction(format)
        }
        if !system.isEmpty { body["system"] = .string(system) }
        body["max_tokens"] = .number(Double(outputCap(for: request)))
        let generation = ClaudeGeneration(model: request.model.model)
        if let budget = thinkingBudget(for: params.reasoningEffort) {
            if let effort = generation?.adaptiveEffort(params.reasoningEffort) {
                body["thinking"] = ["type": "adaptive"]
                body["output_config"] = ["effort": .string(effort)]
            } else {
                body["thinking"] = ["type": "enabled", "budget_tokens": .number(Double(budget))]
            }
        } else if generation?.takesSamplingParameters ?? true {
            // Not both: the API says to alter one or the other, and its models since Claude 4.5 refuse the
            // pair ("`temperature` and `top_p` cannot both be specified for this model"), which dropped the
            // member for the run. Opus 4.7 and later refuse either (the compiler warns where one is set).
            if let temperature = params.temperature {
                body["temperature"] = .number(temperature)
            } else if let topP = params.topP {
                body["top_p"] = .number(topP)
            }
        }
        if let stop = params.stop, !stop.isEmpty { body["stop_sequences"] = .array(stop.map(JSONValue.string)) }
        if stream { body["stream"] = true }
        return JSONValue(body)
    }

    /// `max_tokens` of a call of `request`: the answer allowance, plus the thinking budget when it thinks.
    package static func outputCap(for request: ModelRequest) -> Int {
        ThinkingAllowance.outputCap(
            answer: request.params.maxTokens ?? defaultMaxTokens,
            model: ModelRef(provider: "anthropic", model: request.model.model),
            reasoningEffort: request.params.reasoningEffort)
    }

    package func outputCap(_ request: ModelRequest) -> Int? { Self.outputCap(for: request) }

    /// Text (thinking blocks skipped), usage, model and stop reason of a non-streamed reply.
    package static func parseReply(_ json: JSONValue) throws -> ModelReplyParts {
        guard let content = json["content"]?.array else {
            throw ProviderError(
                code: .invalidResponse, message: "the Anthropic reply has no `content` array", provider: "anthropic")
        }
        let text = try content.filter { $0["type"]?.string == "text" }
            .compactMap { try HTTPProviderSupport.text($0["text"], at: "content[].text", provider: "anthropic") }
            .joined()
        var parts = ModelReplyParts(
            text: text, outputTokens: json["usage"]?["output_tokens"]?.int, model: json["model"]?.string,
            finishReason: json["stop_reason"]?.string)
        if let usage = json["usage"] { readInput(usage, into: &parts) }
        return parts
    }

    /// The input counts of a `usage` object: `input_tokens` is what neither read from nor wrote to the prompt
    /// cache; `cache_read_input_tokens` (billed at 0.1 times the input price) and `cache_creation_input_tokens`
    /// (1.25 times for 5-minute writes, 2 times for 1-hour ones) are billed input too, so the input total holds
    /// all three. `cache_creation` splits the writes by lifetime (`ephemeral_5m_input_tokens`,
    /// `ephemeral_1h_input_tokens`); the 1-hour ones are kept apart to be priced at their rate. A usage without
    /// `input_tokens` (a `message_delta` that reports output only) leaves the counts as they were.
    static func readInput(_ usage: JSONValue, into parts: inout ModelReplyParts) {
        guard let base = usage["input_tokens"]?.int else { return }
        let read = usage["cache_read_input_tokens"]?.int ?? 0
        let written = usage["cache_creation_input_tokens"]?.int ?? 0
        parts.inputTokens = TokenUsage.sum(base, written, read)
        parts.cachedInputTokens = read
        parts.cacheWriteTokens = written
        parts.cacheWrite1hTokens = usage["cache_creation"]?["ephemeral_1h_input_tokens"]?.int ?? 0
    }

    /// Decodes the Messages streaming events.
    package struct StreamDecoder: RefineryProviders.StreamDecoder {
        let provider: String
        private var parts = ModelReplyParts()
        private var done = false

        package init(provider: String = "anthropic") { self.provider = provider }

        /// `message_stop`, or the `message_delta` with the stop reason before it: that event closes the message
        /// (its `usage` is the final, cumulative count) and only `message_stop`, which carries nothing, follows.
        /// A server that went silent after it, holding the connection open, had the call wait for the idle
        /// limit, fail as a stall and be paid for again.
        package var isComplete: Bool { done || parts.finishReason != nil }

        package func reply() throws -> ModelReplyParts { parts }

        package func wholeReply(_ json: JSONValue) throws -> ModelReplyParts? {
            json["content"] == nil ? nil : try AnthropicProvider.parseReply(json)
        }

        package mutating func consume(_ event: SSEEvent) throws -> [String] {
            guard let json = JSONValue.parse(event.data) else {
                throw ProviderError(
                    code: .invalidResponse, message: "\(provider) sent an undecodable `\(event.event)` event",
                    provider: provider)
            }
            let type = json["type"]?.string ?? event.event
            switch type {
            case "message_start":
                let message = json["message"]
                parts.model = message?["model"]?.string
                if let usage = message?["usage"] { AnthropicProvider.readInput(usage, into: &parts) }
                parts.outputTokens = message?["usage"]?["output_tokens"]?.int
            case "content_block_delta":
                if json["delta"]?["type"]?.string == "text_delta",
                    let text = try HTTPProviderSupport.text(
                        json["delta"]?["text"], at: "delta.text", provider: provider)
                {
                    parts.text += text
                    return [text]
                }
            case "message_delta":
                if let reason = json["delta"]?["stop_reason"]?.string { parts.finishReason = reason }
                if let output = json["usage"]?["output_tokens"]?.int { parts.outputTokens = output }
                if let usage = json["usage"] { AnthropicProvider.readInput(usage, into: &parts) }
            case "message_stop":
                done = true
            case "error":
                throw ErrorClassifier.classify(
                    errorType: json["error"]?["type"]?.string ?? "", message: json["error"]?["message"]?.string ?? "",
                    provider: provider)
            default:
                break  // ping, content_block_start/stop, thinking deltas
            }
            return []
        }
    }
}
