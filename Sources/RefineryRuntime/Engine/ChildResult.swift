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
    /// The call's request is out and its reply still to come: the parent waits for it in a task of its
    /// own (``RunExecutor/finish(_:environment:)``), free of the frames that sent it.
    case sent(CallInFlight)
    /// A retry's backoff elapsed; the ticket may start again.
    case backoffElapsed(CallTicket)
    /// The run was cancelled while the child ran.
    case cancelled(CallTicket, wasCall: Bool)
    /// The drive's deadline timer ended (the drive is over or the run was cancelled).
    case deadlineTimerStopped
}
