/// A run stepped by its caller: one round per ``nextRound(overrides:)``, with overrides in between.
///
/// ```swift
/// let session = try await engine.start("prompt")
/// while let round = try await session.nextRound() {
///     print(round.round, round.decision?.signal ?? "")
/// }
/// let outcome = try await session.finalize()
/// ```
///
/// The prelude (stages before the repeat block) and the epilogue (stages after it) are steps of
/// their own, reported with ``RoundPhase/prelude`` and ``RoundPhase/epilogue``.
public actor RunSession {
    private let executor: RunExecutor

    init(executor: RunExecutor) {
        self.executor = executor
    }

    /// Runs the next step, with `overrides` applied first.
    ///
    /// - Returns: the step's result, or `nil` when the run has finished (converged, max rounds,
    ///   quorum lost, budget exhausted or cancelled).
    /// - Throws: ``EngineError`` with code `unknownMember` when `overrides.dropMembers` names an id
    ///   that is no member of the workflow (a typo would drop nobody, and the member meant would go on being
    ///   called and paid for); nothing is run or applied.
    public func nextRound(overrides: RoundOverrides = .init()) async throws -> RoundResult? {
        try await executor.check(overrides)
        return await executor.step(overrides: overrides)
    }

    /// Whether the run has finished.
    public var isFinished: Bool {
        get async { await executor.isFinished }
    }

    /// Runs any steps left (the epilogue included) and returns the outcome.
    ///
    /// Calling it before the repeat block converged skips the remaining rounds: the run ends with
    /// the current answers, and status ``RunStatus/maxRounds`` unless it already converged.
    public func finalize() async throws -> RunOutcome {
        await executor.finalize()
    }
}
