// OpenAI Chat Completions: POST {base}/v1/chat/completions, JSON or SSE (`data: {chunk}` …
// `data: [DONE]`). The same client serves every OpenAI-compatible server (Ollama, OpenRouter,
// llama.cpp, vLLM, LM Studio, endpoints declared in providers.yaml).

import Foundation
import RefineryCompiler
package import RefineryRuntime

/// Calls chat models through the OpenAI Chat Completions API or a compatible server.
///
/// For OpenAI reasoning models (`o1*`, `o3*`, `o4*`, `gpt-5*`) the body carries
/// `max_completion_tokens` and `reasoning_effort` and omits `temperature`/`top_p`, which those
/// models refuse; other models get `max_tokens`. A ``ResponseFormat`` becomes
/// `response_format: {type: json_schema, json_schema: {name, schema, strict: true}}`.
package struct OpenAIChatProvider: WireProtocolProvider {
    package static let defaultBaseURL = "https://api.openai.com"

    package let client: WireClient
    package let baseURL: String
    /// Bearer key; `nil` for servers that need none (Ollama).
    package let apiKey: String?
    /// Extra headers from providers.yaml (e.g. OpenRouter's `HTTP-Referer`).
    package let extraHeaders: [(String, String)]
    /// Whether this is api.openai.com itself (the reasoning-model rules apply only there).
    package let isOpenAI: Bool

    package init(
        client: WireClient, baseURL: String, apiKey: String?, extraHeaders: [(String, String)] = [], isOpenAI: Bool
    ) {
        self.client = client
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.extraHeaders = extraHeaders
        self.isOpenAI = isOpenAI
    }

    package func parse(_ json: JSONValue) throws -> ModelReplyParts {
        try Self.parseReply(json, provider: client.provider)
    }

    package func makeDecoder() -> StreamDecoder { StreamDecoder(provider: client.provider) }

    /// Whether OpenAI treats `model` as a reasoning model.
    /// (`gpt-5-chat*` models are chat models despite the name.)
    package static func isReasoningModel(_ model: String) -> Bool {
        ["o1", "o3", "o4", "gpt-5"].contains { model.hasPrefix($0) } && !model.contains("-chat")
    }

    package func call(_ request: ModelRequest, stream: Bool) throws -> WireCall {
        var headers = extraHeaders
        if let apiKey { headers.append(("authorization", "Bearer \(apiKey)")) }
        headers.append(("accept", stream ? "text/event-stream" : "application/json"))
        return WireCall(
            url: HTTPProviderSupport.join(baseURL, "/v1/chat/completions"), headers: headers,
            body: try Self.body(for: request, stream: stream, reasoningRules: isOpenAI, provider: client.provider),
            timeoutSeconds: HTTPProviderSupport.timeout(request), model: request.model.model,
            estimatedTokens: HTTPProviderSupport.estimateTokens(request: request))
    }

    /// The request body.
    package static func body(for request: ModelRequest, stream: Bool, reasoningRules: Bool, provider: String) throws
        -> JSONValue
    {
        let params = request.params
        var messages: [JSONValue] = []
        if let system = request.system, !system.isEmpty {
            messages.append(["role": "system", "content": .string(system)])
        }
        messages += request.messages.map { ["role": .string($0.role.rawValue), "content": .string($0.content)] }
        var body: [String: JSONValue] = ["model": .string(request.model.model), "messages": .array(messages)]
        let reasoning = reasoningRules && isReasoningModel(request.model.model)
        if reasoning {
            if let maxTokens = params.maxTokens { body["max_completion_tokens"] = .number(Double(maxTokens)) }
            if let effort = params.reasoningEffort { body["reasoning_effort"] = .string(effort) }
        } else {
            if let maxTokens = params.maxTokens { body["max_tokens"] = .number(Double(maxTokens)) }
            if let temperature = params.temperature { body["temperature"] = .number(temperature) }
            if let topP = params.topP { body["top_p"] = .number(topP) }
            // Compatible servers that understand it (OpenRouter, recent Ollama) use it; others ignore it.
            if !reasoningRules, let effort = params.reasoningEffort { body["reasoning_effort"] = .string(effort) }
        }
        if let seed = params.seed { body["seed"] = .number(Double(seed)) }
        if let stop = params.stop, !stop.isEmpty { body["stop"] = .array(stop.map(JSONValue.string)) }
        if let format = request.responseFormat {
            body["response_format"] = [
                "type": "json_schema",
                "json_schema": [
                    "name": .string(format.name), "schema": try HTTPProviderSupport.schema(format, provider: provider),
                    "strict": true,
                ],
            ]
        }
        if stream {
            body["stream"] = true
            body["stream_options"] = ["include_usage": true]
        }
        return .object(body)
    }

    /// Text, usage, model and finish reason of a non-streamed reply.
    package static func parseReply(_ json: JSONValue, provider: String) throws -> ModelReplyParts {
        if let error = json["error"], error != .null {
            throw ErrorClassifier.classify(
                errorType: error["type"]?.string ?? error["code"]?.string ?? "",
                message: error["message"]?.string ?? "",
                provider: provider, context: "in its reply")
        }
        guard let choice = json["choices"]?[0] else {
            throw ProviderError(
                code: .invalidResponse, message: "the \(provider) reply has no `choices`", provider: provider)
        }
        let message = choice["message"]
        let text = message?["content"]?.string ?? message?["refusal"]?.string ?? ""
        return ModelReplyParts(
            text: text, inputTokens: json["usage"]?["prompt_tokens"]?.int,
            outputTokens: json["usage"]?["completion_tokens"]?.int, model: json["model"]?.string,
            finishReason: choice["finish_reason"]?.string)
    }

    /// Decodes `chat.completion.chunk` events.
    package struct StreamDecoder: RefineryProviders.StreamDecoder {
        let provider: String
        private var parts = ModelReplyParts()
        private var sawDone = false

        package init(provider: String) { self.provider = provider }

        /// `[DONE]`, or a finish reason (some compatible servers end without `[DONE]`).
        package var isComplete: Bool { sawDone || parts.finishReason != nil }

        package func reply() throws -> ModelReplyParts { parts }

        package mutating func consume(_ event: SSEEvent) throws -> [String] {
            let data = event.data.trimmingCharacters(in: .whitespaces)
            if data == "[DONE]" {
                sawDone = true
                return []
            }
            guard let json = JSONValue.parse(data) else {
                throw ProviderError(
                    code: .invalidResponse, message: "\(provider) sent an undecodable stream chunk", provider: provider)
            }
            if let error = json["error"], error != .null {
                throw ErrorClassifier.classify(
                    errorType: error["type"]?.string ?? error["code"]?.string ?? "",
                    message: error["message"]?.string ?? "",
                    provider: provider)
            }
            if let model = json["model"]?.string { parts.model = model }
            if let usage = json["usage"], usage != .null {
                parts.inputTokens = usage["prompt_tokens"]?.int ?? parts.inputTokens
                parts.outputTokens = usage["completion_tokens"]?.int ?? parts.outputTokens
            }
            guard let choice = json["choices"]?[0] else { return [] }
            if let reason = choice["finish_reason"]?.string { parts.finishReason = reason }
            guard let text = choice["delta"]?["content"]?.string, !text.isEmpty else { return [] }
            parts.text += text
            return [text]
        }
    }
}
