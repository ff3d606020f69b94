public import RefineryCompiler

/// One model call as the event stream reports it (start, retry, finish or failure).
public struct CallEvent: Sendable, Hashable, Codable {
    /// Round number (0 for the prelude).
    public var round: Int
    /// Execution graph node id.
    public var node: String
    /// Member id or `arbiter`.
    public var participant: String
    /// The model called.
    public var model: ModelRef
    /// Attempt number, from 1.
    public var attempt: Int
    /// Tokens used (finished calls).
    public var usage: TokenUsage?
    /// Cost in US dollars (finished calls).
    @OptionalDollars public var costUSD: Double?
    /// Latency of the attempt in milliseconds (finished calls).
    public var latencyMs: Int?
    /// `succeeded` or `replayed` (finished calls).
    public var status: CallStatus?
    /// Error code (retried and failed calls), e.g. `rate_limited`.
    public var errorCode: String?
    /// Error message (retried and failed calls). Never contains a credential.
    public var error: String?
    /// How long the engine waits before the next attempt, in milliseconds (retried calls).
    public var retryDelayMs: Int?
    /// How a structured reply was asked for (`json_schema`, `json_object`, `prompt`), when the
    /// provider adapts it to the endpoint (finished calls).
    public var structuredMode: String?
    /// `true` for the one re-ask of a reply that could not be read (a structured stage's reply that was not the
    /// JSON asked for), sent with a format reminder; absent otherwise. Without it the re-ask was a second
    /// `call_started` of the same node and attempt, with nothing saying why.
    public var reminder: Bool?

    /// Creates a call event.
    public init(
        round: Int, node: String, participant: String, model: ModelRef, attempt: Int, usage: TokenUsage? = nil,
        costUSD: Double? = nil, latencyMs: Int? = nil, status: CallStatus? = nil, errorCode: String? = nil,
        error: String? = nil, retryDelayMs: Int? = nil
    ) {
        self.round = round
        self.node = node
        self.participant = participant
        self.model = model
        self.attempt = attempt
        self.usage = usage
        self.costUSD = costUSD
        self.latencyMs = latencyMs
        self.status = status
        self.errorCode = errorCode
        self.error = error
        self.retryDelayMs = retryDelayMs
    }
}
