// Pieces every HTTP provider shares: turning gathered parts into a `ModelReply` (estimating
// usage when the provider reports none), wrapping a streamed call as an `AsyncThrowingStream`,
// and joining base URLs with API paths.

import Foundation
import RefineryCompiler
package import RefineryRuntime
import Synchronization

/// Helpers shared by the wire protocols.
package enum HTTPProviderSupport {
    /// Default per-call timeout when the request sets none (long: reasoning models think for minutes).
    package static let defaultTimeoutSeconds = 600.0

    /// A reply from `parts`; `.emptyResponse` when there is no text, `.badRequest` when the provider's safety
    /// filter withheld it all (``ModelReply/Cut/safetyFilter``: asking again gets the same) or the output cap
    /// ran out before any text (``ModelReply/Cut/outputCap``: a reasoning model thinking to its cap, billed, which
    /// asking again pays for again). Usage the provider did not
    /// report (or reports implausibly) is estimated at four characters a token and marked
    /// ``TokenUsage/isEstimated``. Implausible: a count no call can have (negative, or `5e18`), more
    /// output than the call's cap (`outputCap`, the `max_tokens` sent, thinking included), or more input
    /// than the request's bytes allow (a token is at least a byte) with room for a chat template.
    /// A credential of the run that the reply holds (a server or agent that echoes its key back in
    /// its answer) is hidden by `redactor` before anything prints, stores or forwards the text to
    /// another member (``Redactor/redactCredentials(_:)``).
    /// Never inlined: it runs in the async frame of every call in flight.
    @inline(never)
    package static func reply(
        from parts: ModelReplyParts, request: ModelRequest, provider: String, redactor: Redactor,
        outputCap: Int? = nil
    ) throws -> ModelReply {
        // A count this call cannot have is a server bug: estimated like a missing one (a count of 1e12
        // output tokens was believed, and the run cost $15 million).
        let input = parts.inputTokens.flatMap { TokenUsage.isPlausible($0) && $0 <= maxInputTokens(request) ? $0 : nil }
        let cap = outputCap ?? TokenUsage.maxTokens
        let output = parts.outputTokens.flatMap { TokenUsage.isPlausible($0) && $0 <= cap ? $0 : nil }
        // The cache counts are parts of the input the provider reported (clamped into it); an estimated input
        // has none.
        var usage = TokenUsage(
            inputTokens: input ?? 0, outputTokens: output ?? 0,
            cachedInputTokens: input == nil ? 0 : parts.cachedInputTokens ?? 0,
            cacheWriteTokens: input == nil ? 0 : parts.cacheWriteTokens ?? 0,
            cacheWrite1hTokens: input == nil ? 0 : parts.cacheWrite1hTokens ?? 0)
        if input == nil || output == nil {
            usage.isEstimated = true
            if input == nil { usage.inputTokens = estimateTokens(request: request) }
            // No more than the cap sent either: a provider bills no more, and a server that ignores the cap
            // (10 MB of text for `max_tokens: 4096`) was booked 2.5 million output tokens ($25 on gpt-4o).
            if output == nil { usage.outputTokens = min(estimateTokens(parts.text), cap) }
        }
        // `allSatisfy` stops at the first letter; Foundation's trimming copied every reply.
        guard !parts.text.allSatisfy(\.isWhitespace) else {
            // No answer, but a reply the provider bills (a reasoning model can spend its whole cap thinking and
            // write nothing): the error carries the usage it reported, which the engine charges to the run.
            let billed = parts.inputTokens != nil || parts.outputTokens != nil ? usage : nil
            if let reason = parts.finishReason, let cut = ModelReply.cutReasons[reason] {
                switch cut {
                case .safetyFilter:
                    throw ProviderError(
                        code: .badRequest,
                        message: "\(provider) withheld the answer (finish reason \(reason)): its safety filter stopped "
                            + "it; rephrase the prompt or use another model",
                        provider: provider, billedUsage: billed)
                case .outputCap:
                    // Thinking spent the whole cap (billed, with nothing to show): the same request spends it the
                    // same way, so retrying paid for it again, three times.
                    let cap = outputCap.map { " of \($0) tokens" } ?? ""
                    throw ProviderError(
                        code: .badRequest,
                        message: "\(provider) spent the whole output cap\(cap) before any answer text (finish reason "
                            + "\(reason)); raise max_tokens: a model's thinking counts against it",
                        provider: provider, billedUsage: billed)
                }
            }
            let reason = parts.finishReason.map { " (finish reason: \($0))" } ?? ""
            throw ProviderError(
                code: .emptyResponse, message: "\(provider) returned no text\(reason); retry or raise max_tokens",
                provider: provider, billedUsage: billed)
        }
        return ModelReply(
            text: redactor.redactCredentials(parts.text), usage: usage, model: parts.model,
            finishReason: parts.finishReason)
    }

    /// The most input tokens `request` can be: a token holds at least one byte of the text sent (system
    /// prompt, messages, response schema), plus room for what a chat template or server adds.
    static func maxInputTokens(_ request: ModelRequest) -> Int {
        var bytes = (request.system?.utf8.count ?? 0) + (request.responseFormat?.schemaJSON.utf8.count ?? 0)
        for message in request.messages { bytes += message.content.utf8.count }
        return bytes + 8192
    }

    /// The text a reply holds in the field `path` names (`value`): `nil` when the field is absent or null. A
    /// field holding anything else (a number, an object) is not the provider's API: refused as `bad_response`,
    /// naming the field and what it held. Read as no text, it failed as "returned no text; retry or raise
    /// max_tokens" and was asked for again, paid each time; one such piece of a stream dropped out of the answer
    /// unseen. With `parts`, a list of content parts (`[{"type": "text", "text": …}]`, as Mistral's API and
    /// other OpenAI-compatible servers send `content`) is the text of its `text` parts.
    package static func text(
        _ value: JSONValue?, at path: String, provider: String, parts: Bool = false
    ) throws -> String? {
        switch value {
        case nil, .null?:
            return nil
        case .string(let text)?:
            return text
        case .array(let items)? where parts && items.allSatisfy({ $0["type"]?.string != nil }):
            return try items.filter { $0["type"]?.string == "text" }
                .compactMap { try text($0["text"], at: path + "[].text", provider: provider) }.joined()
        case let other?:
            let kind: String
            switch other {
            case .object: kind = "an object"
            case .array: kind = "a list"
            case .number: kind = "a number"
            case .bool: kind = "a boolean"
            case .string, .null: kind = "text"
            }
            throw ProviderError(
                code: .badResponse,
                message: "\(provider) sent `\(path)` as \(kind), not text; check the base URL and the server",
                provider: provider)
        }
    }

    /// Rough token count of a text (four characters a token, at least one).
    package static func estimateTokens(_ text: String) -> Int {
        max(1, (text.count + 3) / 4)
    }

    /// Rough token count of a whole request.
    package static func estimateTokens(request: ModelRequest) -> Int {
        estimateTokens((request.system ?? "") + request.messages.map(\.content).joined(separator: "\n"))
    }

    /// Longest timeout honoured (a week): longer, infinite or NaN values would overflow the
    /// integer durations the clocks take.
    package static let maxTimeoutSeconds = 7 * 24 * 3600.0

    /// The request's timeout, or the default, within 1 ms … ``maxTimeoutSeconds``.
    package static func timeout(_ request: ModelRequest) -> Double {
        guard let seconds = request.timeoutSeconds, !seconds.isNaN else { return defaultTimeoutSeconds }
        return min(max(0.001, seconds), maxTimeoutSeconds)
    }

    /// `seconds` as whole milliseconds, clamped to 1 ms … ``maxTimeoutSeconds`` so the conversion never traps.
    package static func milliseconds(_ seconds: Double) -> Int64 {
        guard !seconds.isNaN else { return Int64(defaultTimeoutSeconds * 1000) }
        return Int64((min(max(0.001, seconds), maxTimeoutSeconds) * 1000).rounded(.up))
    }

    /// `base` + `path`, without a doubled slash or a doubled `/v1` (users often write the base
    /// URL with its `/v1`, as the OpenAI SDKs expect). A query the base URL carries (`?api-version=…`,
    /// an Azure function's `?code=…`) stays a query, after the path and after `path`'s own.
    package static func join(_ base: String, _ path: String) -> String {
        var base = Substring(base)
        var query = ""
        if let mark = base.firstIndex(of: "?") {
            query = String(base[base.index(after: mark)...])
            base = base[..<mark]
        }
        while base.hasSuffix("/") { base.removeLast() }
        var path = Substring(path)
        if base.hasSuffix("/v1"), path.hasPrefix("/v1/") { path = path.dropFirst(3) }
        if base.hasSuffix("/v1beta"), path.hasPrefix("/v1beta/") { path = path.dropFirst(7) }
        guard !query.isEmpty else { return String(base + path) }
        return String(base + path) + (path.contains("?") ? "&" : "?") + query
    }

    /// Runs a streamed call as a stream of deltas followed by the finished reply. Cancelling the
    /// consumer cancels the call.
    package static func stream(
        _ body: @escaping @Sendable (_ onDelta: @escaping @Sendable (String) -> Void) async throws -> ModelReply
    ) -> AsyncThrowingStream<ModelStreamEvent, any Error> {
        AsyncThrowingStream { continuation in
            // The stream's producer must outlive this call; it is cancelled with the consumer.
            let task = Task {
                do {
                    let reply = try await body { continuation.yield(.delta($0)) }
                    continuation.yield(.finished(reply))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// The JSON schema of a response format, or `.badRequest` when it is not JSON.
    package static func schema(_ format: ResponseFormat, provider: String) throws -> JSONValue {
        if let schema = parsedSchemas.withLock({ $0[format.schemaJSON] }) { return schema }
        guard let schema = JSONValue.parse(format.schemaJSON) else {
            throw ProviderError(
                code: .badRequest, message: "the response schema `\(format.name)` is not valid JSON", provider: provider
            )
        }
        parsedSchemas.withLock { cache in
            if cache.count >= maxParsedSchemas { cache.removeAll() }
            cache[format.schemaJSON] = schema
        }
        return schema
    }

    /// Schemas already parsed, by their text. Every call of an evaluation stage carries the same
    /// schema: parsing it once, not per request, took 13.5 % off `refinery`'s CPU per call at N = 50
    /// (Benchmarks/README.md, real path).
    private static let parsedSchemas = Mutex<[String: JSONValue]>([:])
    /// A run uses a handful of schemas (one per structured stage, one per batched label set); the
    /// bound only keeps a long-lived process from collecting them without end.
    private static let maxParsedSchemas = 256

    /// An instruction asking for JSON matching `format`, for APIs without a native schema option.
    package static func jsonInstruction(_ format: ResponseFormat) -> String {
        "Reply with a single JSON object and nothing else (no prose, no code fences). "
            + "It must match this JSON Schema (\(format.name)):\n\(format.schemaJSON)"
    }
}

extension ProviderError {
    /// What an event stream that ended without a byte (a 2xx reply with an empty body) is.
    package static func emptyStream(provider: String) -> ProviderError {
        ProviderError(
            code: .emptyResponse, message: "\(provider) sent an empty stream", provider: provider,
            cause: emptyStreamCause)
    }

    /// Whether this is ``emptyStream(provider:)``.
    package var isEmptyStream: Bool { code == .emptyResponse && cause == Self.emptyStreamCause }

    private static let emptyStreamCause = "the event stream ended without a byte"
}
