// The port between the engine and the model APIs. Real HTTP providers live in
// RefineryProviders; tests and examples implement it directly.

public import RefineryCompiler

/// A chat message sent to a model.
public struct ChatMessage: Sendable, Hashable, Codable {
    /// Who speaks.
    public enum Role: String, Sendable, Hashable, Codable {
        /// The user (the engine's prompts).
        case user
        /// The model's own earlier turn.
        case assistant
    }
    /// Who speaks.
    public var role: Role
    /// The text.
    public var content: String

    /// Creates a message.
    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }
}

/// A request for a structured (JSON) reply.
public struct ResponseFormat: Sendable, Hashable, Codable {
    /// Schema name (OpenAI's `json_schema.name`), e.g. `evaluation`.
    public var name: String
    /// JSON Schema of the expected reply, as JSON text.
    public var schemaJSON: String

    /// Creates a response format.
    public init(name: String, schemaJSON: String) {
        self.name = name
        self.schemaJSON = schemaJSON
    }
}

/// One model call, provider-neutral.
public struct ModelRequest: Sendable, Hashable, Codable {
    /// The model to call.
    public var model: ModelRef
    /// System prompt.
    public var system: String?
    /// The conversation, ending with a user message.
    public var messages: [ChatMessage]
    /// Generation parameters.
    public var params: ModelParams
    /// Structured reply, when the stage wants JSON.
    public var responseFormat: ResponseFormat?
    /// Per-call timeout in seconds. Under the engine, the engine enforces it for every provider (it
    /// cancels the call's task when it passes); Refinery's own providers enforce it too when called
    /// outside the engine.
    public var timeoutSeconds: Double?

    /// Creates a request.
    public init(
        model: ModelRef, system: String? = nil, messages: [ChatMessage], params: ModelParams = ModelParams(),
        responseFormat: ResponseFormat? = nil, timeoutSeconds: Double? = nil
    ) {
        self.model = model
        self.system = system
        self.messages = messages
        self.params = params
        self.responseFormat = responseFormat
        self.timeoutSeconds = timeoutSeconds
    }
}

/// Token counts reported by a provider (or estimated when it reports none).
///
/// Every count is kept within `0...`\(``maxTokens``): the initializer, the setters, decoding and
/// `+` clamp, so a provider (or a ledger row) reporting `5e18` or a negative count can never make
/// the run's totals, its cost or its estimates overflow.
public struct TokenUsage: Sendable, Hashable, Codable {
    /// Largest count kept (2⁴⁰, about 1.1 trillion): far above any real call or run, and small
    /// enough that millions of such counts add up without overflowing an `Int`.
    public static let maxTokens = 1 << 40

    /// Input (prompt) tokens, within `0...maxTokens`.
    public var inputTokens: Int {
        didSet { inputTokens = Self.clamped(inputTokens) }
    }
    /// Output (completion) tokens, reasoning included, within `0...maxTokens`.
    public var outputTokens: Int {
        didSet { outputTokens = Self.clamped(outputTokens) }
    }
    /// Of ``inputTokens``, those read from the provider's prompt cache, billed at its cached-input price
    /// (Anthropic `cache_read_input_tokens`, OpenAI `prompt_tokens_details.cached_tokens`, Gemini
    /// `cachedContentTokenCount`); within `0...inputTokens`.
    public var cachedInputTokens: Int {
        didSet { cachedInputTokens = min(Self.clamped(cachedInputTokens), inputTokens) }
    }
    /// Of ``inputTokens``, those written to the prompt cache, billed at its cache-write price (Anthropic
    /// `cache_creation_input_tokens`); within `0...inputTokens - cachedInputTokens`.
    public var cacheWriteTokens: Int {
        didSet {
            cacheWriteTokens = min(Self.clamped(cacheWriteTokens), inputTokens - cachedInputTokens)
            if cacheWrite1hTokens > cacheWriteTokens { cacheWrite1hTokens = cacheWriteTokens }
        }
    }
    /// Of ``cacheWriteTokens``, those written with the 1-hour lifetime, billed at the catalog's 1-hour
    /// cache-write price (Anthropic `cache_creation.ephemeral_1h_input_tokens`: twice the input price, where
    /// a 5-minute write is 1.25 times); within `0...cacheWriteTokens`.
    public var cacheWrite1hTokens: Int {
        didSet { cacheWrite1hTokens = min(Self.clamped(cacheWrite1hTokens), cacheWriteTokens) }
    }
    /// Whether the counts are estimates (the provider reported none), not the provider's figures.
    public var isEstimated: Bool

    /// Creates usage; counts outside `0...maxTokens` are clamped into it, the cached and cache-write counts
    /// into what `inputTokens` holds, the 1-hour writes into the writes.
    public init(
        inputTokens: Int = 0, outputTokens: Int = 0, cachedInputTokens: Int = 0, cacheWriteTokens: Int = 0,
        cacheWrite1hTokens: Int = 0, isEstimated: Bool = false
    ) {
        let input = Self.clamped(inputTokens)
        let cached = min(Self.clamped(cachedInputTokens), input)
        let written = min(Self.clamped(cacheWriteTokens), input - cached)
        self.inputTokens = input
        self.outputTokens = Self.clamped(outputTokens)
        self.cachedInputTokens = cached
        self.cacheWriteTokens = written
        self.cacheWrite1hTokens = min(Self.clamped(cacheWrite1hTokens), written)
        self.isEstimated = isEstimated
    }

    /// Of ``inputTokens``, those billed at the full input price: neither read from nor written to a cache.
    public var uncachedInputTokens: Int { max(0, inputTokens - cachedInputTokens - cacheWriteTokens) }

    /// Whether `count` is one a provider could truly report for a call (`0...maxTokens`); a provider
    /// reporting another is not believed (its usage is estimated instead).
    public static func isPlausible(_ count: Int) -> Bool {
        (0...maxTokens).contains(count)
    }

    /// The sum of token counts, saturating at `Int.max` instead of trapping: for counts read from a
    /// reply before they become a ``TokenUsage`` (e.g. input plus cached input).
    package static func sum(_ counts: Int...) -> Int {
        counts.reduce(0) { total, count in
            let (sum, overflow) = total.addingReportingOverflow(count)
            return overflow ? (count < 0 ? Int.min : Int.max) : sum
        }
    }

    private static func clamped(_ count: Int) -> Int {
        min(max(count, 0), maxTokens)
    }

    private enum CodingKeys: String, CodingKey {
        case inputTokens, outputTokens, cachedInputTokens, cacheWriteTokens, cacheWrite1hTokens, isEstimated
    }

    /// Decodes usage; `isEstimated` and the cache counts may be absent (older records) and then mean `false`
    /// and 0. A count
    /// out of range (even beyond `Int`, e.g. `1e30` in a damaged ledger row) is clamped, never refused.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func count(_ key: CodingKeys) throws -> Int {
            if key != .inputTokens, key != .outputTokens, !container.contains(key) { return 0 }
            if let count = try? container.decode(Int.self, forKey: key) { return count }
            let value = try container.decode(Double.self, forKey: key)
            guard !value.isNaN else { return 0 }
            return value >= Double(Self.maxTokens) ? Self.maxTokens : Int(max(value, 0))
        }
        self.init(
            inputTokens: try count(.inputTokens), outputTokens: try count(.outputTokens),
            cachedInputTokens: try count(.cachedInputTokens), cacheWriteTokens: try count(.cacheWriteTokens),
            cacheWrite1hTokens: try count(.cacheWrite1hTokens),
            isEstimated: try container.decodeIfPresent(Bool.self, forKey: .isEstimated) ?? false)
    }

    /// Encodes usage; the cache counts only when there are any, so a record without caching keeps its shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(inputTokens, forKey: .inputTokens)
        try container.encode(outputTokens, forKey: .outputTokens)
        if cachedInputTokens > 0 { try container.encode(cachedInputTokens, forKey: .cachedInputTokens) }
        if cacheWriteTokens > 0 { try container.encode(cacheWriteTokens, forKey: .cacheWriteTokens) }
        if cacheWrite1hTokens > 0 { try container.encode(cacheWrite1hTokens, forKey: .cacheWrite1hTokens) }
        try container.encode(isEstimated, forKey: .isEstimated)
    }

    /// Sum of two usages, clamped to ``maxTokens`` per count; estimated when either part is.
    public static func + (lhs: TokenUsage, rhs: TokenUsage) -> TokenUsage {
        // Both sides are within 0...maxTokens (2⁴⁰), so the sums cannot overflow before clamping.
        TokenUsage(
            inputTokens: lhs.inputTokens + rhs.inputTokens, outputTokens: lhs.outputTokens + rhs.outputTokens,
            cachedInputTokens: lhs.cachedInputTokens + rhs.cachedInputTokens,
            cacheWriteTokens: lhs.cacheWriteTokens + rhs.cacheWriteTokens,
            cacheWrite1hTokens: lhs.cacheWrite1hTokens + rhs.cacheWrite1hTokens,
            isEstimated: lhs.isEstimated || rhs.isEstimated)
    }
}

/// A model's reply.
public struct ModelReply: Sendable, Hashable, Codable {
    /// The reply text (for JSON replies, the JSON text).
    public var text: String
    /// Token usage.
    public var usage: TokenUsage
    /// The model that actually answered, as the provider reports it.
    public var model: String?
    /// Why generation stopped (`stop`, `length`, `end_turn`, ...), as the provider reports it.
    public var finishReason: String?
    /// How a structured (JSON) reply was asked for (`json_schema`, `json_object`, `prompt`), when the
    /// provider adapts it to what the endpoint accepts; recorded with the call in the ledger.
    public var structuredMode: String?

    /// Why a reply stopped before the model ended it: what it was cut by.
    public enum Cut: Sendable, Hashable, CaseIterable {
        /// The output cap (`max_tokens`) or the context's end: the text may end mid-sentence.
        case outputCap
        /// The provider's safety filter: the text may be partial, or a refusal in place of an answer.
        case safetyFilter
    }

    /// The finish reasons that say the reply was cut, each provider's own words, as each documents them:
    /// OpenAI and compatible servers `length` and `content_filter`; Anthropic `max_tokens`,
    /// `model_context_window_exceeded` and `refusal`; Gemini `MAX_TOKENS` and its safety stops `SAFETY`,
    /// `RECITATION`, `BLOCKLIST`, `PROHIBITED_CONTENT`, `SPII`, `IMAGE_SAFETY`.
    public static let cutReasons: [String: Cut] = [
        "length": .outputCap, "max_tokens": .outputCap, "MAX_TOKENS": .outputCap,
        "model_context_window_exceeded": .outputCap,
        "content_filter": .safetyFilter, "refusal": .safetyFilter, "SAFETY": .safetyFilter,
        "RECITATION": .safetyFilter, "BLOCKLIST": .safetyFilter, "PROHIBITED_CONTENT": .safetyFilter,
        "SPII": .safetyFilter, "IMAGE_SAFETY": .safetyFilter,
    ]

    /// What the provider says cut the reply short, `nil` when the model ended it (or the reason is unknown).
    public var cut: Cut? { finishReason.flatMap { Self.cutReasons[$0] } }

    /// Creates a reply.
    public init(text: String, usage: TokenUsage = TokenUsage(), model: String? = nil, finishReason: String? = nil) {
        self.text = text
        self.usage = usage
        self.model = model
        self.finishReason = finishReason
    }
}

/// Incremental output of a streaming call.
public enum ModelStreamEvent: Sendable, Hashable {
    /// A piece of the reply text.
    case delta(String)
    /// The call finished; the full reply.
    case finished(ModelReply)
}

/// A model API. Implement it to plug in a custom provider.
///
/// Implementations throw ``ProviderError`` for every failure so the engine can tell a
/// permanent failure (drop the member, try its fallback) from a transient one (retry).
///
/// ## Timeouts and cancellation
///
/// The engine bounds every call by its deadline (``ModelRequest/timeoutSeconds``, the stage's or
/// the run's `timeout`) with one timer for the whole run: when the deadline passes it cancels the
/// task that called ``reply(to:)`` and records a timeout. A provider therefore needs no timer of its
/// own under the engine, but it must honour task cancellation promptly, giving up the work it
/// started (closing its connection, killing its process): Ctrl-C cancels calls in flight the same
/// way. Time a call spends waiting in a provider's own queue (a concurrency or rate limit) does not
/// count against its deadline for Refinery's own providers.
public protocol ModelProvider: Sendable {
    /// Sends one request and returns the whole reply.
    func complete(_ request: ModelRequest) async throws -> ModelReply

    /// Streams one request. The default implementation calls ``complete(_:)``.
    func stream(_ request: ModelRequest) -> AsyncThrowingStream<ModelStreamEvent, any Error>

    /// Whether the engine should call ``stream(_:)`` rather than ``complete(_:)``. Default `false`.
    ///
    /// A provider that reads replies over the network as they are written returns `true`: it can
    /// then notice a stalled reply between pieces instead of waiting out the whole call's timeout,
    /// and read usage from the stream's end.
    var prefersStreaming: Bool { get }

    /// The reply of one call: what the engine calls. The default implementation uses ``stream(_:)``
    /// when ``prefersStreaming`` says so, else ``complete(_:)``. A provider that streams can read its
    /// stream here, in the caller's task, instead of through an `AsyncThrowingStream` fed by a second
    /// task (with thousands of calls in flight, each task's memory adds up).
    func reply(to request: ModelRequest) async throws -> ModelReply

    /// The most output tokens a call of `request` can be billed: the cap the provider sends, thinking
    /// included; `nil` when unknown (the default). The engine's budget check reserves a call's cost at this
    /// cap while it is in flight, so calls running together cannot pass the run's budget; the HTTP providers
    /// also refuse to believe a reply that reports more.
    func outputCap(_ request: ModelRequest) -> Int?
}

extension ModelProvider {
    /// `false`: the engine calls ``complete(_:)``.
    public var prefersStreaming: Bool { false }

    /// `nil`: the cap is unknown, and the budget check reserves a call at its estimate.
    public func outputCap(_ request: ModelRequest) -> Int? { nil }

    /// The reply of one call, made with ``stream(_:)`` when ``prefersStreaming`` says so, else
    /// with ``complete(_:)``. A stream that ends without its finished reply throws a transient
    /// ``ProviderError/Code/truncated``.
    public func reply(to request: ModelRequest) async throws -> ModelReply {
        guard prefersStreaming else { return try await complete(request) }
        for try await event in stream(request) {
            if case .finished(let reply) = event { return reply }
        }
        try Task.checkCancellation()
        throw ProviderError(
            code: .truncated, message: "the reply stream ended before the reply was complete; retry",
            provider: request.model.provider)
    }

    /// Wraps ``complete(_:)`` as a one-event stream.
    public func stream(_ request: ModelRequest) -> AsyncThrowingStream<ModelStreamEvent, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let reply = try await complete(request)
                    continuation.yield(.finished(reply))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

/// Hands the engine a provider for each model it needs.
///
/// Resolution happens lazily, per model, so a run only needs credentials for the providers it uses.
public protocol ProviderResolver: Sendable {
    /// The provider serving `model`. Throws ``ProviderError`` (e.g. `.authentication` for a
    /// missing key) when it cannot be served.
    func provider(for model: ModelRef) throws -> any ModelProvider
}

/// Turns texts into vectors for the semantic convergence strategy.
///
/// Under the engine each request is a call of the run: replayed from the ledger on resume, priced from the
/// catalog with the usage ``embeddings(_:model:)`` reports, counted in the run's cost and its budget.
public protocol Embedder: Sendable {
    /// One vector per text, in order.
    func embed(_ texts: [String], model: ModelRef) async throws -> [[Double]]

    /// One vector per text, in order, and the tokens the provider billed for them. Defaults to
    /// ``embed(_:model:)`` with the input estimated (four characters a token) and marked so.
    func embeddings(_ texts: [String], model: ModelRef) async throws -> Embeddings
}

extension Embedder {
    /// ``embed(_:model:)``'s vectors with the input estimated (four characters a token), marked so: for an
    /// embedder whose provider reports no usage.
    public func embeddings(_ texts: [String], model: ModelRef) async throws -> Embeddings {
        let vectors = try await embed(texts, model: model)
        return Embeddings(vectors: vectors, usage: Embeddings.estimatedUsage(of: texts))
    }
}

/// The vectors of one embedding request and what the provider billed for it (input tokens only).
public struct Embeddings: Sendable, Hashable, Codable {
    /// One vector per text, in order.
    public var vectors: [[Double]]
    /// Tokens billed: `inputTokens` the provider's count (OpenAI `usage.prompt_tokens`), else estimated.
    public var usage: TokenUsage

    /// Creates embeddings.
    public init(vectors: [[Double]], usage: TokenUsage) {
        self.vectors = vectors
        self.usage = usage
    }

    /// `texts` at four UTF-8 bytes a token, as `estimate` counts them (at least one each), marked as estimated.
    public static func estimatedUsage(of texts: [String]) -> TokenUsage {
        TokenUsage(inputTokens: texts.reduce(0) { $0 + max(1, EstimateAssumptions.tokens(for: $1)) }, isEstimated: true)
    }

    /// The usage of a reply whose provider said `reported` input tokens for `texts`: believed when a request
    /// of these texts can hold that many (a token is at least one byte, plus room for what a server adds),
    /// else estimated.
    public static func usage(reported: Int?, texts: [String]) -> TokenUsage {
        let most = texts.reduce(8192) { $0 + $1.utf8.count }
        guard let reported, TokenUsage.isPlausible(reported), reported <= most else { return estimatedUsage(of: texts) }
        return TokenUsage(inputTokens: reported)
    }
}
