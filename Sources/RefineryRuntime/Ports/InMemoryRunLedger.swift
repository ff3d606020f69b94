import Synchronization

/// A ledger kept in memory, for tests and for library users who do not need persistence.
public final class InMemoryRunLedger: RunLedger {
    private let calls = Mutex<[CallRecord]>([])

    /// Creates an empty ledger.
    public init() {}

    /// Every call recorded so far, in recording order.
    public var records: [CallRecord] { calls.withLock { $0 } }

    /// The reply of a succeeded (or replayed) call with the same run, round, node and request hash.
    public func recordedReply(
        runID: String, round: Int, node: String, requestHash: String
    ) async throws -> RecordedReply? {
        calls.withLock { records in
            records.last {
                $0.runID == runID && $0.round == round && $0.node == node && $0.requestHash == requestHash
                    && $0.reply != nil && ($0.status == .succeeded || $0.status == .replayed)
            }.flatMap { record in record.reply.map { RecordedReply(reply: $0, costUSD: record.costUSD) } }
        }
    }

    /// The succeeded (or replayed) calls of `node` in `round` of `runID`, in recording order.
    public func recordedCalls(runID: String, round: Int, node: String) async throws -> [CallRecord] {
        calls.withLock { records in
            records.filter {
                $0.runID == runID && $0.round == round && $0.node == node && $0.reply != nil
                    && ($0.status == .succeeded || $0.status == .replayed)
            }
        }
    }

    /// Whether a succeeded (or replayed) call of `runID` is recorded.
    public func hasRecordedReplies(runID: String) async throws -> Bool {
        calls.withLock { records in records.contains { $0.runID == runID && $0.status != .failed } }
    }

    /// Appends the call.
    public func record(_ call: CallRecord) async throws {
        calls.withLock { $0.append(call) }
    }
}
