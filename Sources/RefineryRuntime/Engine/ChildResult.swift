// What a child task of the executor's task group reports back to the parent loop.

import RefineryCompiler

/// How one attempt of a call ended, as a child task reports it.
enum AttemptResult: Sendable {
    /// `evaluation` is a pairwise review's reply already parsed in the child task, off the parent loop.
    case replied(ModelReply, replayed: Bool, evaluation: Result<Evaluation, ReplyParseError>?)
    case failed(ProviderError)
    /// The prompt template failed to render: no call was made.
    case unrenderable(String)
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
