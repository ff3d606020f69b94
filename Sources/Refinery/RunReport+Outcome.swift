// Building the JSON document from the engine's outcome.

public import RefineryCompiler
public import RefineryRuntime

extension RunReport {
    /// `converged`, `single_model`, `max_rounds`, `insufficient_models`, `budget_exhausted`, `cancelled`,
    /// `failed`. A single member cannot be scored by peers, so its completed run is `single_model`.
    public static func statusName(_ status: RunStatus, memberCount: Int = 2) -> String {
        if memberCount == 1 && status == .maxRounds { return "single_model" }
        return switch status {
        case .converged: "converged"
        case .maxRounds: "max_rounds"
        case .insufficientModels: "insufficient_models"
        case .budgetExhausted: "budget_exhausted"
        case .cancelled: "cancelled"
        case .failed: "failed"
        }
    }

    /// The report of `outcome` for `workflow`; `full` adds every round (for `--output FILE`).
    public init(outcome: RunOutcome, workflow: Workflow, full: Bool = false) {
        let selected = Self.selectedAnswer(outcome: outcome, workflow: workflow)
        let rounds = outcome.rounds.filter { $0.phase == .round }
        self.init(
            runID: outcome.runID,
            status: Self.statusName(outcome.status, memberCount: workflow.members.count),
            winner: selected,
            finalRound: outcome.finalRound,
            strategy: outcome.strategy,
            allAnswers: outcome.answers.map(Answer.init),
            metadata: Metadata(
                totalRounds: rounds.count, totalCalls: outcome.totalCalls, elapsedMs: outcome.elapsedMs),
            costUSD: outcome.costUSD,
            tokens: Tokens(
                input: outcome.usage.inputTokens, output: outcome.usage.outputTokens,
                estimated: outcome.usage.isEstimated ? true : nil),
            coverage: Coverage(
                membersAnswered: outcome.coverage.membersAnswered,
                reviewsReceived: outcome.coverage.reviewsReceived.values.reduce(0, +),
                arbiterFallbackUsed: outcome.coverage.arbiterFallbackUsed,
                degraded: outcome.coverage.degraded),
            stoppedBy: outcome.stoppedBy,
            workflow: WorkflowInfo(
                name: workflow.name, version: workflow.version, path: workflow.provenance.path,
                gitCommit: workflow.provenance.gitCommit, gitRevision: workflow.provenance.gitRevision,
                gitDirty: workflow.provenance.gitDirty),
            rounds: full ? rounds.map(Self.roundSummary) : nil)
    }

    private static func selectedAnswer(outcome: RunOutcome, workflow: Workflow) -> Winner? {
        switch workflow.output {
        case .synthesis:
            if let text = outcome.finalAnswer ?? outcome.synthesis?.synthesis, let arbiter = workflow.arbiter {
                return Winner(modelID: arbiter.model.description, memberID: "arbiter", answer: text)
            }
        case .draft:
            if let text = outcome.finalAnswer ?? outcome.draft {
                let member =
                    outcome.winner.map { ($0.memberID, $0.model.description) }
                    ?? workflow.members.first.map { ($0.id, $0.model.description) }
                return Winner(modelID: member?.1 ?? "", memberID: member?.0 ?? "", answer: text)
            }
        case .winner:
            break
        }
        guard let winner = outcome.winner else { return nil }
        return Winner(
            modelID: winner.model.description, memberID: winner.memberID,
            answer: outcome.finalAnswer ?? winner.answer)
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

extension RunReport.Answer {
    /// The report's view of a member's answer: the same fields for the final answers and for each round's.
    public init(_ answer: MemberAnswer) {
        self.init(
            modelID: answer.model.description, memberID: answer.memberID, answer: answer.answer,
            meanScore: answer.meanScore)
    }
}
