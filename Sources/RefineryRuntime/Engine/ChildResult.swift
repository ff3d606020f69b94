// What a child task of the executor's task group reports back to the parent loop.

import RefineryCompiler

/// How one attempt of a call ended, as a child task reports it.
enum AttemptResult: Sendable {
    /// `evaluation` is a pairwise review's reply already parsed in the child task, off the parent loop.
    /// `replayedCost`: the reply was served from the ledger, and this is what the call cost when it was made
    /// (`nil`: the call was made now, priced at the catalog's prices).
    case replied(ModelReply, replayedCost: Double?, evaluation: Result<Evaluation, ReplyParseError>?)
    case failed(ProviderError)
    /// The prompt template failed to render: no call was made.
    case unrenderable(String)
    /// The ledger could not say whether a resumed run already made the call: no call was made, and the
    /// reason is in ``CallEnvironment/ledgerFailure``.
    case ledgerUnreadable
}

/// What a child task returns to the parent loop. Children never decide what runs next.
enum ChildResult: Sendable {
    /// An attempt finished.
    case attempt(CallTicket, AttemptResult, latency: Duration, startedAt: Duration)
    /// A retry's backoff elapsed; the ticket may start again.
    case backoffElapsed(CallTicket)
    /// The run was cancelled while the child ran.
    case cancelled(CallTicket, wasCall: Bool)
    /// The drive's deadline timer ended (the drive is over or the run was cancelled).
    case deadlineTimerStopped
}
