public import RefineryCompiler

/// Everything a run produced: status, winner, answers, synthesis, cost and coverage.
///
/// Encodes to the JSON the CLI prints (the seed's `status`, `winner`, `final_round`, `strategy`,
/// answers and metadata, plus run id, cost, tokens and coverage).
public struct RunOutcome: Sendable, Hashable, Codable {
    /// The run's identifier.
    public var runID: String
    /// The workflow's name.
    public var workflow: String
    /// How the run ended.
    public var status: RunStatus
    /// The signal that stopped it, e.g. `confidence: 0.92 ≥ 0.80` or `budget: next call $0.04 > $0.01 left`.
    public var stoppedBy: String
    /// The best-scored answer, when answers were scored.
    public var winner: Winner?
    /// The answer the workflow's `output` selects (winner, synthesis or draft), if there is one.
    public var finalAnswer: String?
    /// ``finalAnswer`` with the participant and model that produced it; when what `output` selects was
    /// never produced (e.g. the run fell below quorum before scoring), the best answer so far, marked
    /// ``Winner/degraded``.
    public var selected: Winner?
    /// Every member's latest answer.
    public var answers: [MemberAnswer]
    /// The last synthesis, if the workflow synthesizes.
    public var synthesis: Synthesis?
    /// The latest draft of a refine/verify chain.
    public var draft: String?
    /// The last vote, if the workflow has a `vote` stage.
    public var vote: VoteResult?
    /// The last round of the repeat block that ran (0 when the workflow has none).
    public var finalRound: Int
    /// The convergence strategy's name.
    public var strategy: String
    /// Every step, in order.
    public var rounds: [RoundResult]
    /// Tokens used by all calls.
    public var usage: TokenUsage
    /// Total cost in US dollars from the catalog's prices.
    @Dollars public var costUSD: Double
    /// Model calls made (replayed ones included; retries of one call count once).
    public var totalCalls: Int
    /// Wall time on the engine's clock, in milliseconds.
    public var elapsedMs: Int
    /// Who answered, who was reviewed, what degraded.
    public var coverage: Coverage
    /// Which member stood behind which label in which prompt.
    public var anonymizationMap: [AnonymizationEntry]

    /// Creates an outcome.
    public init(
        runID: String, workflow: String, status: RunStatus, stoppedBy: String, winner: Winner? = nil,
        finalAnswer: String? = nil, selected: Winner? = nil, answers: [MemberAnswer] = [], synthesis: Synthesis? = nil,
        draft: String? = nil, finalRound: Int = 0, strategy: String, rounds: [RoundResult] = [],
        usage: TokenUsage = TokenUsage(),
        costUSD: Double = 0, totalCalls: Int = 0, elapsedMs: Int = 0, coverage: Coverage = Coverage(),
        anonymizationMap: [AnonymizationEntry] = []
    ) {
        self.runID = runID
        self.workflow = workflow
        self.status = status
        self.stoppedBy = stoppedBy
        self.winner = winner
        self.finalAnswer = finalAnswer
        self.selected = selected
        self.answers = answers
        self.synthesis = synthesis
        self.draft = draft
        self.finalRound = finalRound
        self.strategy = strategy
        self.rounds = rounds
        self.usage = usage
        self.costUSD = costUSD
        self.totalCalls = totalCalls
        self.elapsedMs = elapsedMs
        self.coverage = coverage
        self.anonymizationMap = anonymizationMap
    }
}
