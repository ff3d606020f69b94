// Gemini API: POST {base}/v1beta/models/{model}:generateContent, or
// :streamGenerateContent?alt=sse for SSE. The key travels in `x-goog-api-key`, never in the URL.

import Foundation
import RefineryCompiler
package import RefineryRuntime

/// Calls Gemini models through the Gemini API (Google AI Studio keys).
///
/// Reasoning effort maps to `generationConfig.thinkingConfig`: for `gemini-3*` a
/// `thinkingLevel` (Flash: the effort itself, `xhigh` → `high`; Pro: `minimal`/`low` → `low`, `medium` as
/// it is from 3.1 Pro on, else `high`); for other models a `thinkingBudget` (`minimal` → 0, or 128 on Pro models,
/// `low` → 1,024, `medium` → 8,192, `high` → 24,576, `xhigh` → 32,768).
/// A ``ResponseFormat`` becomes `responseMimeType: application/json` plus a `responseSchema`
/// reduced to the OpenAPI subset Gemini accepts (see ``GeminiSchema``).
///
/// Every call carries `maxOutputTokens`. Gemini counts a thinking model's thoughts against it, so
/// a cap meant for the answer alone could be spent thinking and return no text: the cap is the
/// answer allowance (the request's `max_tokens`, else the endpoint's, else ``defaultMaxTokens``)
/// plus a thinking allowance (the `thinkingBudget` sent, else ``defaultThinkingTokens`` for models
/// that think by default, nothing for those that do not), at most ``maxOutputTokensLimit``.
package struct GeminiProvider: WireProtocolProvider {
    package static let defaultBaseURL = "https://generativelanguage.googleapis.com"

    /// Answer allowance when neither the request nor the endpoint sets `max_tokens`.
    package static let defaultMaxTokens = 4096
    /// Thinking allowance of a model that chooses its own budget (``ThinkingAllowance/geminiDefaultThinkingTokens``).
    package static let defaultThinkingTokens = ThinkingAllowance.geminiDefaultThinkingTokens
    /// Output limit of Gemini 2.5 and 3 models; no cap sent exceeds it.
    package static let maxOutputTokensLimit = ThinkingAllowance.geminiMaxOutputTokens

    package let client: WireClient
    package let baseURL: String
    package let apiKey: String
    /// Answer allowance when the request sets none (providers.yaml `max_tokens`).
    package let maxTokens: Int?

    package init(client: WireClient, baseURL: String, apiKey: String, maxTokens: Int? = nil) {
        self.client = client
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.maxTokens = maxTokens
    }

    package func parse(_ json: JSONValue) throws -> ModelReplyParts {
        try Self.parseReply(json, provider: client.provider)
    }

    package func makeDecoder() -> StreamDecoder { StreamDecoder(provider: client.provider) }

    package func call(_ request: ModelRequest, stream: Bool) throws -> WireCall {
        let model = Self.modelPath(request.model.model)
        let path = stream ? "/v1beta/\(model):streamGenerateContent?alt=sse" : "/v1beta/\(model):generateContent"
        return WireCall(
            url: HTTPProviderSupport.join(baseURL, path),
            headers: [("x-goog-api-key", apiKey), ("accept", stream ? "text/event-stream" : "application/json")],
            body: try Self.body(for: request, provider: client.provider, maxTokens: maxTokens),
            timeoutSeconds: HTTPProviderSupport.timeout(request), model: request.model.model,
            estimatedTokens: client.estimatedTokens(request))
    }

    /// `models/NAME`, percent-encoded, whether or not the user wrote the `models/` prefix.
    package static func modelPath(_ model: String) -> String {
        let name = model.hasPrefix("models/") ? String(model.dropFirst(7)) : model
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._")
        return "models/" + (name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name)
    }

    /// The request body; `endpointMaxTokens` is the answer allowance when the request sets none.
    package static func body(
        for request: ModelRequest, provider: String, maxTokens endpointMaxTokens: Int? = nil
    ) throws -> JSONValue {
        let params = request.params
        var body: [String: JSONValue] = [
            "contents": .array(
                request.messages.map {
                    ["role": .string($0.role == .user ? "user" : "model"), "parts": [["text": .string($0.content)]]]
                })
        ]
        if let system = request.system, !system.isEmpty {
            body["systemInstruction"] = ["parts": [["text": .string(system)]]]
        }
        var config: [String: JSONValue] = [:]
        if let temperature = params.temperature { config["temperature"] = .number(temperature) }
        if let topP = params.topP { config["topP"] = .number(topP) }
        if let seed = params.seed { config["seed"] = .number(Double(seed)) }
        if let stop = params.stop, !stop.isEmpty { config["stopSequences"] = .array(stop.map(JSONValue.string)) }
        let thinking = thinkingConfig(model: request.model.model, effort: params.reasoningEffort)
        if let thinking { config["thinkingConfig"] = thinking }
        config["maxOutputTokens"] = .number(Double(outputCap(for: request, maxTokens: endpointMaxTokens)))
        if let format = request.responseFormat {
            config["responseMimeType"] = "application/json"
            config["responseSchema"] = GeminiSchema.convert(try HTTPProviderSupport.schema(format, provider: provider))
        }
        if !config.isEmpty { body["generationConfig"] = JSONValue(config) }
        return JSONValue(body)
    }

    /// `maxOutputTokens` of a call of `request`: the answer allowance (the request's, else the
    /// endpoint's, else the default) plus room for its thoughts, within Gemini's limit.
    package static func outputCap(for request: ModelRequest, maxTokens endpointMaxTokens: Int?) -> Int {
        ThinkingAllowance.outputCap(
            answer: request.params.maxTokens ?? endpointMaxTokens ?? defaultMaxTokens,
            model: ModelRef(provider: "gemini", model: request.model.model),
            reasoningEffort: request.params.reasoningEffort)
    }

    package func outputCap(_ request: ModelRequest) -> Int? { Self.outputCap(for: request, maxTokens: maxTokens) }

    /// Whether `model` thinks when the request says nothing about thinking: every Gemini from 2.5
    /// on (2.5 Flash-Lite only when asked, which costs nothing here); not Gemini 1.x and 2.0, nor
    /// the Gemma models served by the same API.
    package static func thinksByDefault(_ model: String) -> Bool {
        ThinkingAllowance.geminiThinksByDefault(model)
    }

    /// The thinking configuration for a reasoning effort, `nil` when none is set.
    package static func thinkingConfig(model: String, effort: String?) -> JSONValue? {
        guard let effort = effort?.lowercased() else { return nil }
        if ThinkingAllowance.geminiTakesLevels(model) {
            // Flash models take all four levels; Pro models `low` and `high`, and `medium` from 3.1 Pro on (a
            // medium call was sent `high`, the deepest and dearest level, before).
            if model.contains("flash"), ["minimal", "low", "medium", "high"].contains(effort) {
                return ["thinkingLevel": .string(effort)]
            }
            if effort == "medium", let version = ThinkingAllowance.geminiVersion(model), version >= 3.1 {
                return ["thinkingLevel": "medium"]
            }
            return ["thinkingLevel": .string(["minimal", "low"].contains(effort) ? "low" : "high")]
        }
        let budget = ThinkingAllowance.geminiBudget(model: model, effort: effort)
        return budget.map { ["thinkingBudget": .number(Double($0))] }
    }

    /// Text (thought parts skipped), usage, model and finish reason of one response object.
    /// A blocked prompt is a `.badRequest` naming the reason (a safety stop without text is one too, in
    /// ``HTTPProviderSupport/reply(from:request:provider:redactor:outputCap:)``, as for every provider).
    package static func parseReply(_ json: JSONValue, provider: String) throws -> ModelReplyParts {
        var parts = ModelReplyParts()
        try absorb(json, into: &parts, provider: provider, context: "in its reply")
        return parts
    }

    /// Adds one response object to `parts`; returns the text it added (a stream's delta).
    @discardableResult
    static func absorb(
        _ json: JSONValue, into parts: inout ModelReplyParts, provider: String, context: String = "mid-stream"
    ) throws -> String {
        if let error = json["error"], error != .null {
            throw ErrorClassifier.classify(
                errorType: error["status"]?.string ?? "", message: error["message"]?.string ?? "", provider: provider,
                context: context)
        }
        if let reason = json["promptFeedback"]?["blockReason"]?.string {
            throw ProviderError(
                code: .badRequest,
                message: "Gemini blocked the prompt (\(reason)); rephrase it or use another model", provider: provider)
        }
        if let model = json["modelVersion"]?.string { parts.model = model }
        if let usage = json["usageMetadata"] {
            // `promptTokenCount` holds the cached content too, `cachedContentTokenCount` of it read from a cache.
            if let prompt = usage["promptTokenCount"]?.int { parts.inputTokens = prompt }
            if let cached = usage["cachedContentTokenCount"]?.int { parts.cachedInputTokens = cached }
            if let candidates = usage["candidatesTokenCount"]?.int {
                parts.outputTokens = TokenUsage.sum(candidates, usage["thoughtsTokenCount"]?.int ?? 0)
            }
        }
        guard let candidate = json["candidates"]?[0] else { return "" }
        var added = ""
        for part in candidate["content"]?["parts"]?.array ?? [] where part["thought"]?.bool != true {
            added +=
                try HTTPProviderSupport.text(part["text"], at: "candidates[0].content.parts[].text", provider: provider)
                ?? ""
        }
        parts.text += added
        if let reason = candidate["finishReason"]?.string { parts.finishReason = reason }
        return added
    }

    /// Decodes `streamGenerateContent?alt=sse` events: each is a whole response object.
    package struct StreamDecoder: RefineryProviders.StreamDecoder {
        let provider: String
        private var parts = ModelReplyParts()

        package init(provider: String) { self.provider = provider }

        package var isComplete: Bool { parts.finishReason != nil }

        package func reply() throws -> ModelReplyParts {
            parts
        }

        /// One response object, or the JSON array of them `streamGenerateContent` sends without `alt=sse` (a proxy
        /// that drops the query).
        package func wholeReply(_ json: JSONValue) throws -> ModelReplyParts? {
            let objects = json.array ?? [json]
            guard objects.contains(where: { $0["candidates"] != nil }) else { return nil }
            var parts = ModelReplyParts()
            for object in objects {
                try GeminiProvider.absorb(object, into: &parts, provider: provider, context: "in its reply")
            }
            return parts
        }

        package mutating func consume(_ event: SSEEvent) throws -> [String] {
            guard let json = JSONValue.parse(event.data) else {
                throw ProviderError(
                    code: .invalidResponse, message: "\(provider) sent an undecodable stream chunk", provider: provider)
            }
            // The event's own text, not the reply's tail after its old length: counting the characters of the
            // whole reply at every event made a long stream quadratic (a 4 MB reply in 4,000 events took 83 s
            // of one event loop in a debug build, and its 60 s timeout failed it).
            let added = try GeminiProvider.absorb(json, into: &parts, provider: provider)
            return added.isEmpty ? [] : [added]
        }
    }
}
