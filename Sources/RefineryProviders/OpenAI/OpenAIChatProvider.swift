// OpenAI Chat Completions: POST {base}/v1/chat/completions, JSON or SSE (`data: {chunk}` …
// `data: [DONE]`). The same client serves every OpenAI-compatible server (Ollama, OpenRouter,
// llama.cpp, vLLM, LM Studio, endpoints declared in providers.yaml).

import Foundation
import Logging
import RefineryCompiler
package import RefineryRuntime

/// Calls chat models through the OpenAI Chat Completions API or a compatible server.
///
/// For OpenAI reasoning models (`o1*`, `o3*`, `o4*`, `gpt-5*`) the body carries
/// `max_completion_tokens` and `reasoning_effort` and omits `temperature`/`top_p` and `stop`, which those
/// models refuse; other models get `max_tokens`. Every call carries an output cap: the request's
/// `max_tokens`, else the endpoint's (providers.yaml `max_tokens`), else ``defaultMaxTokens``
/// (``defaultReasoningMaxTokens`` for reasoning models, whose cap includes their thinking).
///
/// A ``ResponseFormat`` is sent in the endpoint's ``StructuredMode``: `json_schema`
/// (`{type: json_schema, json_schema: {name, schema, strict: true}}`), `json_object`
/// (`{type: json_object, schema}` plus the schema in the prompt) or the prompt alone. The first
/// refusal of a mode (see ``StructuredMode/isRefusal(_:)``) steps the endpoint down for the rest of
/// the run and resends at once, without spending one of the engine's retries.
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
    /// The structured mode this endpoint is known to accept, shared by its calls for the run.
    package let structured: StructuredModeMemory
    /// Output cap when the request sets none (providers.yaml `max_tokens`).
    package let maxTokens: Int?

    /// Output cap of a chat model when neither the request nor the endpoint sets one: a runaway
    /// reply (a local server generates to its context limit without one) ends in minutes, not hours.
    package static let defaultMaxTokens = 4096
    /// Output cap of an OpenAI reasoning model, whose `max_completion_tokens` counts its thinking too.
    package static let defaultReasoningMaxTokens = 32768

    package init(
        client: WireClient, baseURL: String, apiKey: String?, extraHeaders: [(String, String)] = [], isOpenAI: Bool,
        structured: StructuredMode? = nil, maxTokens: Int? = nil
    ) {
        self.client = client
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.extraHeaders = extraHeaders
        self.isOpenAI = isOpenAI
        self.structured = StructuredModeMemory(structured ?? .jsonSchema)
        self.maxTokens = maxTokens
    }

    package func complete(_ request: ModelRequest) async throws -> ModelReply {
        try await adapting(request, stream: false) { build, learn in
            let json = try await client.send(
                estimatedTokens: client.estimatedTokens(request), failed: learn, building: build)
            return try HTTPProviderSupport.reply(
                from: parse(json), request: request, provider: client.provider, redactor: client.redactor,
                outputCap: outputCap(request))
        }
    }

    package func streamedReply(
        _ request: ModelRequest, onDelta: (@Sendable (String) -> Void)?
    ) async throws -> ModelReply {
        try await adapting(request, stream: true) { build, learn in
            let parts = try await client.stream(
                estimatedTokens: client.estimatedTokens(request), decoder: makeDecoder(), failed: learn,
                onDelta: onDelta, building: build)
            return try HTTPProviderSupport.reply(
                from: parts, request: request, provider: client.provider, redactor: client.redactor,
                outputCap: outputCap(request))
        }
    }

    /// Runs `attempt` with a builder of the call in the endpoint's structured mode, read when the
    /// call is built (again once the endpoint's gate admits it, so a call queued behind the first
    /// refusal goes out in the mode that refusal taught). A refusal of the mode sent steps the
    /// endpoint down and runs `attempt` again at once (a refusal comes before any text, so nothing
    /// was streamed). The endpoint learns from the refusal through `learn` while the call still
    /// holds its gate slot, so the next queued call is already built in the weaker mode. The reply
    /// records the mode that produced it.
    private func adapting(
        _ request: ModelRequest, stream: Bool,
        _ attempt: (
            _ build: @escaping @Sendable () throws -> WireCall, _ learn: @escaping @Sendable (ProviderError) -> Void
        ) async throws -> ModelReply
    ) async throws -> ModelReply {
        // Every call in flight is suspended in here: the building, the learning and the stepping down
        // are synchronous helpers, never inlined, so that little of them stays in the async frame.
        let sent = StructuredModeMemory(structured.current)
        let (build, learn) = attemptClosures(request, stream: stream, sent: sent)
        while true {
            do {
                return marked(try await attempt(build, learn), request: request, sent: sent)
            } catch let error as ProviderError {
                try stepDown(after: error, request: request, sent: sent)
            }
        }
    }

    /// The builder of `request`'s call in the endpoint's mode (noting the mode in `sent`), and the
    /// learner that steps the endpoint down when that mode is refused.
    @inline(never)
    private func attemptClosures(
        _ request: ModelRequest, stream: Bool, sent: StructuredModeMemory
    ) -> (build: @Sendable () throws -> WireCall, learn: @Sendable (ProviderError) -> Void) {
        let build: @Sendable () throws -> WireCall = {
            let mode = structured.current
            sent.set(mode)
            return try call(request, stream: stream, mode: mode)
        }
        // The learner keeps what it reads, not a copy of the whole request (every call in flight holds it).
        let asksFormat = request.responseFormat != nil
        let learn: @Sendable (ProviderError) -> Void = { [structured] error in
            if asksFormat, StructuredMode.isRefusal(error) {
                _ = structured.stepDown(from: sent.current)
            }
        }
        return (build, learn)
    }

    /// `reply` with the structured mode that produced it, when the request asked for a format.
    @inline(never)
    private func marked(_ reply: ModelReply, request: ModelRequest, sent: StructuredModeMemory) -> ModelReply {
        var reply = reply
        if request.responseFormat != nil { reply.structuredMode = sent.current.rawValue }
        return reply
    }

    /// Returns when `error` refused the structured mode sent and the endpoint steps down to a weaker
    /// one (the call is then made again); otherwise throws `error`, with the provider's advice.
    @inline(never)
    private func stepDown(after error: ProviderError, request: ModelRequest, sent: StructuredModeMemory) throws {
        let error = advise(client.redacting(error))
        let refused = sent.current
        guard request.responseFormat != nil, StructuredMode.isRefusal(error),
            let next = structured.stepDown(from: refused)
        else { throw error }
        client.logger.info(
            "\(client.provider) refused response_format \(refused.rawValue); \(next.rawValue) from now on",
            metadata: ["error": "\(error.message.prefix(300))"])
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

    /// The `reasoning_effort` OpenAI's `model` takes for a workflow's `effort`: each family refuses words it
    /// lacks with a 400 ("Unsupported value: 'minimal' is not supported with the 'gpt-5.1' model"), which dropped
    /// the member. From gpt-5.1 on `none` stands where `minimal` was; `xhigh` exists from gpt-5.2 (and
    /// gpt-5.1-codex-max) on, and is `high` before; the o-series takes `low`, `medium` and `high`.
    package static func openAIEffort(_ effort: String, model: String) -> String {
        let name = model.lowercased()
        if ["o1", "o3", "o4"].contains(where: { name.hasPrefix($0) }) {
            return switch effort {
            case "minimal": "low"
            case "xhigh": "high"
            default: effort
            }
        }
        guard name.hasPrefix("gpt-5") else { return effort }
        let rest = name.dropFirst("gpt-5".count)
        let minor = rest.first == "." ? Int(rest.dropFirst().prefix(while: \.isNumber)) ?? 0 : 0
        switch effort {
        case "minimal" where minor >= 1: return "none"
        case "xhigh" where minor < 1 || (minor == 1 && !name.contains("codex-max")): return "high"
        default: return effort
        }
    }

    package func call(_ request: ModelRequest, stream: Bool) throws -> WireCall {
        try call(request, stream: stream, mode: structured.current)
    }

    /// The HTTP call for `request` in structured mode `mode`.
    package func call(_ request: ModelRequest, stream: Bool, mode: StructuredMode) throws -> WireCall {
        var headers = extraHeaders
        if let apiKey { headers.append(("authorization", "Bearer \(apiKey)")) }
        headers.append(("accept", stream ? "text/event-stream" : "application/json"))
        return WireCall(
            url: HTTPProviderSupport.join(baseURL, "/v1/chat/completions"), headers: headers,
            body: try Self.body(
                for: request, stream: stream, reasoningRules: isOpenAI, provider: client.provider, mode: mode,
                maxTokens: maxTokens),
            timeoutSeconds: HTTPProviderSupport.timeout(request), model: request.model.model,
            estimatedTokens: client.estimatedTokens(request))
    }

    /// The request body.
    package static func body(
        for request: ModelRequest, stream: Bool, reasoningRules: Bool, provider: String,
        mode: StructuredMode = .jsonSchema, maxTokens endpointMaxTokens: Int? = nil
    ) throws -> JSONValue {
        var params = request.params
        // Every object is built with its keys in the sorted order the wire text has, so writing the body
        // neither sorts nor hashes (a dictionary of the fields, sorted into an object, then each message
        // sorted again when written, was half of building a call, Benchmarks/README.md session 7).
        var messages: [JSONValue] = []
        messages.reserveCapacity(request.messages.count + 1)
        if let system = request.system, !system.isEmpty {
            messages.append(["content": .string(system), "role": "system"])
        }
        var chat = request.messages
        if let format = request.responseFormat, mode != .jsonSchema, let last = chat.indices.last {
            // Without json_schema the prompt carries the schema; in the last user turn, since some
            // chat templates (Gemma's) drop system messages.
            chat[last].content += "\n\n" + HTTPProviderSupport.jsonInstruction(format)
        }
        for message in chat {
            messages.append(["content": .string(message.content), "role": .string(message.role.rawValue)])
        }
        let reasoning = reasoningRules && isReasoningModel(request.model.model)
        params.maxTokens = outputCap(for: request, reasoningRules: reasoningRules, maxTokens: endpointMaxTokens)
        var body: [(key: String, value: JSONValue)] = []
        body.reserveCapacity(12)
        if let maxTokens = params.maxTokens {
            body.append((reasoning ? "max_completion_tokens" : "max_tokens", .number(Double(maxTokens))))
        }
        body.append(("messages", .array(messages)))
        body.append(("model", .string(request.model.model)))
        // Compatible servers that understand it (OpenRouter, recent Ollama) use it; others ignore it.
        if reasoning || !reasoningRules, let effort = params.reasoningEffort {
            let sent = reasoning ? openAIEffort(effort, model: request.model.model) : effort
            body.append(("reasoning_effort", .string(sent)))
        }
        if let format = request.responseFormat {
            let schema = try HTTPProviderSupport.schema(format, provider: provider)
            switch mode {
            case .jsonSchema:
                body.append(
                    (
                        "response_format",
                        [
                            "json_schema": ["name": .string(format.name), "schema": schema, "strict": true],
                            "type": "json_schema",
                        ]
                    ))
            case .jsonObject:
                // `schema` beside the type: llama.cpp's servers constrain the reply's grammar with it.
                body.append(("response_format", ["schema": schema, "type": "json_object"]))
            case .prompt:
                break
            }
        }
        if let seed = params.seed { body.append(("seed", .number(Double(seed)))) }
        // Not to a reasoning model, which refuses it as it refuses `temperature` (OpenAI: "not supported with
        // latest reasoning models o3 and o4-mini"): the call failed for good (HTTP 400) and the member was dropped.
        if !reasoning, let stop = params.stop, !stop.isEmpty {
            body.append(("stop", .array(stop.map(JSONValue.string))))
        }
        if stream {
            body.append(("stream", true))
            body.append(("stream_options", ["include_usage": true]))
        }
        if !reasoning {
            if let temperature = params.temperature { body.append(("temperature", .number(temperature))) }
            if let topP = params.topP { body.append(("top_p", .number(topP))) }
        }
        return .object(body)
    }

    /// The output cap a call of `request` carries: its `max_tokens`, else the endpoint's, else the default.
    package static func outputCap(for request: ModelRequest, reasoningRules: Bool, maxTokens endpointMaxTokens: Int?)
        -> Int
    {
        let reasoning = reasoningRules && isReasoningModel(request.model.model)
        return request.params.maxTokens ?? endpointMaxTokens
            ?? (reasoning ? defaultReasoningMaxTokens : defaultMaxTokens)
    }

    package func outputCap(_ request: ModelRequest) -> Int? {
        Self.outputCap(for: request, reasoningRules: isOpenAI, maxTokens: maxTokens)
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
        let text =
            try HTTPProviderSupport.text(
                message?["content"], at: "choices[0].message.content", provider: provider, parts: true)
            ?? HTTPProviderSupport.text(message?["refusal"], at: "choices[0].message.refusal", provider: provider)
            ?? ""
        var parts = ModelReplyParts(
            text: text, model: json["model"]?.string, finishReason: choice["finish_reason"]?.string)
        if let usage = json["usage"], usage != .null { readUsage(usage, into: &parts) }
        return parts
    }

    /// The counts of a `usage` object: `prompt_tokens` holds every input token, of which
    /// `prompt_tokens_details.cached_tokens` were read from the prompt cache (billed at the model's cached-input
    /// price); `completion_tokens` holds the output, reasoning included. A count absent leaves the one read before.
    static func readUsage(_ usage: JSONValue, into parts: inout ModelReplyParts) {
        parts.inputTokens = usage["prompt_tokens"]?.int ?? parts.inputTokens
        parts.outputTokens = usage["completion_tokens"]?.int ?? parts.outputTokens
        parts.cachedInputTokens = usage["prompt_tokens_details"]?["cached_tokens"]?.int ?? parts.cachedInputTokens
    }

    /// Decodes `chat.completion.chunk` events.
    package struct StreamDecoder: RefineryProviders.StreamDecoder {
        let provider: String
        private var parts = ModelReplyParts()
        private var sawDone = false
        /// Whether usage came with or after the finish reason: the last chunk before `[DONE]` (`stream_options`'
        /// `include_usage` chunk, or a compatible server's finish chunk carrying it).
        private var sawFinalUsage = false

        package init(provider: String) { self.provider = provider }

        /// A finish reason, which every choice ends with (some compatible servers then omit `[DONE]`). `[DONE]`
        /// without one is a reply cut short: llama-cpp-python ends a stream it interrupts for another request
        /// so, mid-sentence, and the cut answer was taken whole.
        package var isComplete: Bool { parts.finishReason != nil }

        /// `[DONE]`, or the usage that comes last before it, after the finish reason.
        package var isFinished: Bool { isComplete && (sawDone || sawFinalUsage) }

        package var incompleteReason: String? {
            sawDone
                ? "`[DONE]` came without a finish reason: the server cut it short, as llama-cpp-python's does "
                    + "when another request arrives; give a serial server `max_concurrent: 1` in providers.yaml"
                : nil
        }

        package func reply() throws -> ModelReplyParts { parts }

        package func wholeReply(_ json: JSONValue) throws -> ModelReplyParts? {
            json["choices"] == nil ? nil : try OpenAIChatProvider.parseReply(json, provider: provider)
        }

        /// Whether `data` is `[DONE]` between whitespace: what `data.trimmingCharacters(in: .whitespaces) ==
        /// "[DONE]"` says, without Foundation's bridging and character set, which cost as much as reading a
        /// chunk (Benchmarks/README.md session 7). `.whitespaces` is CoreFoundation's list: space, tab, U+00A0,
        /// U+1680, U+2000–U+200B, U+202F, U+205F, U+3000.
        package static func isDone(_ data: String) -> Bool {
            func isSpace(_ scalar: Unicode.Scalar) -> Bool {
                switch scalar.value {
                case 0x20, 0x09, 0xA0, 0x1680, 0x2000...0x200B, 0x202F, 0x205F, 0x3000: true
                default: false
                }
            }
            let scalars = data.unicodeScalars
            guard let first = scalars.firstIndex(where: { !isSpace($0) }),
                let last = scalars.lastIndex(where: { !isSpace($0) })
            else { return false }
            return scalars[first...last].elementsEqual("[DONE]".unicodeScalars)
        }

        package mutating func consume(_ event: SSEEvent) throws -> [String] {
            let data = event.data
            // Only a short event can be `[DONE]`: Foundation's trimming of every chunk cost 4 % of the CPU.
            if data.utf8.count <= 32, Self.isDone(data) {
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
            let usage = json["usage"].flatMap { $0 == .null ? nil : $0 }
            if let usage { OpenAIChatProvider.readUsage(usage, into: &parts) }
            defer { if usage != nil, parts.finishReason != nil { sawFinalUsage = true } }
            guard let choice = json["choices"]?[0] else { return [] }
            if let reason = choice["finish_reason"]?.string { parts.finishReason = reason }
            // A refusal streams as `delta.refusal`: it is the text, as in a whole reply (parseReply).
            let delta = choice["delta"]
            guard
                let text = try HTTPProviderSupport.text(
                    delta?["content"], at: "choices[0].delta.content", provider: provider, parts: true)
                    ?? HTTPProviderSupport.text(delta?["refusal"], at: "choices[0].delta.refusal", provider: provider),
                !text.isEmpty
            else { return [] }
            parts.text += text
            return [text]
        }
    }
}
