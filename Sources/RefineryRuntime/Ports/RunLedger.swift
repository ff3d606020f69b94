public import Foundation
public import RefineryCompiler

/// How a call ended.
public enum CallStatus: String, Sendable, Hashable, Codable {
    /// A reply was received (and, for structured stages, parsed).
    case succeeded
    /// Every attempt failed.
    case failed
    /// Served from the ledger of an earlier, interrupted attempt of the same run.
    case replayed
    /// Attempted (and retrying) when its member was dropped or the run stopped: abandoned without
    /// a final reply or error.
    case cancelled
    /// An attempt that failed, was billed all the same (an empty reply the provider charges for) and was
    /// tried again: kept for its cost, an attempt of the call its retry ends, not a call of its own.
    case retried

    /// Whether a ledger row of this status is a call as the run counts it, in its JSON's `total_calls`, the
    /// text summary, `runs show`, `runs list` and the report: a request that ended, with a reply
    /// (`succeeded`) or with an error after its retries (`failed`, the failed calls). Its retries are
    /// attempts of it (`retried` rows when billed); a `replayed` row is a call served again from the ledger
    /// on resume, counted once, as made; a `cancelled` one was abandoned before it ended.
    public var isCall: Bool { self == .succeeded || self == .failed }

    /// The statuses of the rows that are calls (``isCall``), for a ledger's queries.
    public static let callStatuses: [CallStatus] = [.succeeded, .failed]
}

/// One model call as the ledger records it.
public struct CallRecord: Sendable, Hashable, Codable {
    /// The run.
    public var runID: String
    /// Round number (0 for stages before the repeat block, rounds count from 1).
    public var round: Int
    /// The execution graph node, e.g. `evaluate[gem#1→claude]`.
    public var node: String
    /// The member (or `arbiter`) on whose behalf the call was made.
    public var participant: String
    /// SHA-256 (hex) of the canonical request.
    public var requestHash: String
    /// The request as sent.
    public var request: ModelRequest
    /// The reply, when the call succeeded.
    public var reply: ModelReply?
    /// The final error, when it failed (never contains a credential).
    public var error: String?
    /// Outcome.
    public var status: CallStatus
    /// Attempts made (1 = no retry).
    public var attempts: Int
    /// Wall time of the successful (or last) attempt, in milliseconds.
    public var latencyMs: Int
    /// Cost in US dollars from the catalog's prices.
    @Dollars public var costUSD: Double
    /// When the call started.
    public var startedAt: Date
    /// When the call finished.
    public var finishedAt: Date
    /// `request` as the canonical JSON its `requestHash` was computed over, when the engine has it: a
    /// store may keep this text rather than encode `request` again (JSON encoding is most of the cost
    /// of recording a call). `nil`: encode `request`.
    public var requestJSON: String?

    /// Creates a record.
    public init(
        runID: String, round: Int, node: String, participant: String, requestHash: String, request: ModelRequest,
        reply: ModelReply?, error: String?, status: CallStatus, attempts: Int, latencyMs: Int, costUSD: Double,
        startedAt: Date, finishedAt: Date, requestJSON: String? = nil
    ) {
        self.requestJSON = requestJSON
        self.runID = runID
        self.round = round
        self.node = node
        self.participant = participant
        self.requestHash = requestHash
        self.request = request
        self.reply = reply
        self.error = error
        self.status = status
        self.attempts = attempts
        self.latencyMs = latencyMs
        self.costUSD = costUSD
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

/// A reply the ledger holds for a call, and what the call cost when it was made.
public struct RecordedReply: Sendable, Hashable {
    /// The reply.
    public var reply: ModelReply
    /// What the call cost when it was made, in US dollars (the ledger's ``CallRecord/costUSD``).
    public var costUSD: Double

    /// Creates a recorded reply.
    public init(reply: ModelReply, costUSD: Double) {
        self.reply = reply
        self.costUSD = costUSD
    }
}

/// Where the engine records calls as they finish, and finds them again on resume.
///
/// The SQLite and PostgreSQL implementations live in RefineryStore (its `RunStore`); tests may use
/// ``InMemoryRunLedger``.
public protocol RunLedger: Sendable {
    /// The reply recorded for this exact call of this run, if it succeeded before, with what it cost then.
    /// The engine serves it instead of calling the model again (resume never pays twice), and counts it at
    /// its recorded cost: the catalog's prices may have changed since the call was paid for.
    func recordedReply(runID: String, round: Int, node: String, requestHash: String) async throws -> RecordedReply?

    /// The calls of `node` in `round` of `runID` that have a reply (succeeded or replayed), in recording order.
    /// The engine replays the semantic strategy's embedding requests by node and round with it: which texts such
    /// a request asks for depends on what the judge's cache held then, so a resumed run whose cache differs
    /// would not find the request by its hash, and would pay for it again.
    func recordedCalls(runID: String, round: Int, node: String) async throws -> [CallRecord]

    /// Records a finished call (success or final failure). Called as each call finishes.
    func record(_ call: CallRecord) async throws

    /// Whether any reply of `runID` is recorded. The engine asks once when a run starts and, when
    /// none is (a new run, not a resumed one), skips looking up every call. Defaults to `true`.
    func hasRecordedReplies(runID: String) async throws -> Bool
}

extension RunLedger {
    /// `true`: every call is looked up. Implement it to spare a new run one lookup per call.
    public func hasRecordedReplies(runID: String) async throws -> Bool { true }

    /// None: each embedding request is then looked up by its hash
    /// (``recordedReply(runID:round:node:requestHash:)``). Implement it so that a resumed run never pays again
    /// for an embedding request because its cache held other texts than the first attempt's.
    public func recordedCalls(runID: String, round: Int, node: String) async throws -> [CallRecord] { [] }
}
