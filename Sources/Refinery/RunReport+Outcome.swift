// Building the JSON document from the engine's outcome.

public import RefineryCompiler
public import RefineryRuntime

extension RunReport {
    /// `converged`, `single_model`, `max_rounds`, `insufficient_models`, `budget_exhausted`, `cancelled`,
    /// `failed`.
    public static func statusName(_ status: RunStatus) -> String {
        switch status {
        case .converged: "converged"
        case .singleModel: "single_model"
        case .maxRounds: "max_rounds"
        case .insufficientModels: "insufficient_models"
        case .budgetExhausted: "budget_exhausted"
        case .cancelled: "cancelled"
        case .failed: "failed"
        }
    }

    /// The report of `outcome` for `workflow`; `full` adds every round (for `--output FILE`).
    public init(outcome: RunOutcome, workflow: Workflow, full: Bool = false) {
        let rounds = outcome.rounds.filter { $0.phase == .round }
        self.init(
            runID: outcome.runID,
            status: Self.statusName(outcome.status),
            // An outcome built by hand may name only its winner.
            winner: (outcome.selected ?? outcome.winner).map(Winner.init),
            finalRound: outcome.finalRound,
            strategy: outcome.strategy,
            allAnswers: outcome.answers.map(Answer.init),
            metadata: Metadata(
                totalRounds: rounds.count, totalCalls: outcome.totalCalls, elapsedMs: outcome.elapsedMs),
            costUSD: outcome.costUSD,
            tokens: Tokens(
                input: outcome.usage.inputTokens, output: outcome.usage.outputTokens,
                estimated: outcome.usage.isEstimated ? true : nil,
                cachedInput: outcome.usage.cachedInputTokens > 0 ? outcome.usage.cachedInputTokens : nil,
                cacheWrite: outcome.usage.cacheWriteTokens > 0 ? outcome.usage.cacheWriteTokens : nil,
                cacheWrite1h: outcome.usage.cacheWrite1hTokens > 0 ? outcome.usage.cacheWrite1hTokens : nil),
            coverage: Coverage(
                membersAnswered: outcome.coverage.membersAnswered,
                reviewsReceived: outcome.coverage.reviewsReceived.values.reduce(0, +),
                arbiterFallbackUsed: outcome.coverage.arbiterFallbackUsed,
                degraded: outcome.coverage.degraded, reasons: outcome.coverage.reasons),
            stoppedBy: outcome.stoppedBy,
            workflow: WorkflowInfo(
                name: workflow.name, version: workflow.version, path: workflow.provenance.path,
                gitCommit: workflow.provenance.gitCommit, gitRevision: workflow.provenance.gitRevision,
                gitDirty: workflow.provenance.gitDirty),
            rounds: full ? rounds.map(Self.roundSummary) : nil)
        vote = outcome.vote.map(Vote.init)
    }

    private static func roundSummary(_ round: RoundResult) -> RoundSummary {
        var scores: [String: Double] = [:]
        for answer in round.answers { if let score = answer.meanScore { scores[answer.memberID] = score } }
        let leader = round.decision?.leader
        return RoundSummary(
            round: round.round, leader: leader,
            score: round.synthesis?.confidence ?? leader.flatMap { scores[$0] },
            converged: round.decision?.converged ?? false, scores: scores, reason: round.decision?.signal,
            answers: round.answers.map(Answer.init))
    }
}

extension RunReport.Winner {
    /// The report's view of the answer a run selected, named by whoever produced it.
    public init(_ selected: RefineryRuntime.Winner) {
        self.init(
            modelID: selected.model.description, memberID: selected.memberID, answer: selected.answer,
            fallbackFrom: selected.fallbackFrom?.description, degraded: selected.degraded)
    }
}

extension RunReport.Answer {
    /// The report's view of a member's answer: the same fields for the final answers and for each round's.
    public init(_ answer: MemberAnswer) {
        self.init(
            modelID: answer.model.description, memberID: answer.memberID, answer: answer.answer,
            meanScore: answer.meanScore, fallbackFrom: answer.fallbackFrom?.description)
    }
}
