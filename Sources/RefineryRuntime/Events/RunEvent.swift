// The typed progress stream of a run. The CLI renders it as a live display or prints it as JSONL;
// every event encodes with a stable `type` discriminator next to its payload's fields.

/// Something that happened during a run.
public enum RunEvent: Sendable, Hashable {
    /// The run began.
    case runStarted(RunStartedEvent)
    /// A step (prelude, round or epilogue) began.
    case roundStarted(RoundStartedEvent)
    /// A stage's first call of the step is about to start.
    case stageStarted(StageStartedEvent)
    /// A model call attempt started.
    case callStarted(CallEvent)
    /// A call attempt failed transiently and will be retried after `retryDelayMs`.
    case callRetried(CallEvent)
    /// A call finished (or was replayed from the ledger).
    case callFinished(CallEvent)
    /// A call failed for good.
    case callFailed(CallEvent)
    /// A member stopped taking part, for the round or for the run.
    case memberDropped(MemberDroppedEvent)
    /// A `close` stage decided.
    case decision(DecisionEvent)
    /// A step finished.
    case roundFinished(RoundResult)
    /// The run finished.
    case runFinished(RunOutcome)

    /// The stable discriminator written as `type`: `run_started`, `call_finished`, ...
    public var type: String {
        switch self {
        case .runStarted: "run_started"
        case .roundStarted: "round_started"
        case .stageStarted: "stage_started"
        case .callStarted: "call_started"
        case .callRetried: "call_retried"
        case .callFinished: "call_finished"
        case .callFailed: "call_failed"
        case .memberDropped: "member_dropped"
        case .decision: "decision"
        case .roundFinished: "round_finished"
        case .runFinished: "run_finished"
        }
    }
}

extension RunEvent: Codable {
    private enum TypeKey: String, CodingKey {
        case type
    }

    /// Decodes an event from its `type` and the payload's fields.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: TypeKey.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "run_started": self = .runStarted(try RunStartedEvent(from: decoder))
        case "round_started": self = .roundStarted(try RoundStartedEvent(from: decoder))
        case "stage_started": self = .stageStarted(try StageStartedEvent(from: decoder))
        case "call_started": self = .callStarted(try CallEvent(from: decoder))
        case "call_retried": self = .callRetried(try CallEvent(from: decoder))
        case "call_finished": self = .callFinished(try CallEvent(from: decoder))
        case "call_failed": self = .callFailed(try CallEvent(from: decoder))
        case "member_dropped": self = .memberDropped(try MemberDroppedEvent(from: decoder))
        case "decision": self = .decision(try DecisionEvent(from: decoder))
        case "round_finished": self = .roundFinished(try RoundResult(from: decoder))
        case "run_finished": self = .runFinished(try RunOutcome(from: decoder))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: container, debugDescription: "Unknown run event type '\(type)'.")
        }
    }

    /// Encodes the payload's fields and `type` into one object.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: TypeKey.self)
        try container.encode(type, forKey: .type)
        switch self {
        case .runStarted(let payload): try payload.encode(to: encoder)
        case .roundStarted(let payload): try payload.encode(to: encoder)
        case .stageStarted(let payload): try payload.encode(to: encoder)
        case .callStarted(let payload), .callRetried(let payload), .callFinished(let payload),
            .callFailed(let payload):
            try payload.encode(to: encoder)
        case .memberDropped(let payload): try payload.encode(to: encoder)
        case .decision(let payload): try payload.encode(to: encoder)
        case .roundFinished(let payload): try payload.encode(to: encoder)
        case .runFinished(let payload): try payload.encode(to: encoder)
        }
    }
}
