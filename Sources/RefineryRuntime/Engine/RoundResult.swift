public import RefineryCompiler

/// Which part of the stage chain a step ran.
public enum RoundPhase: String, Sendable, Hashable, Codable {
    /// The stages before the repeat block (round 0).
    case prelude
    /// One pass of the repeat block.
    case round
    /// The stages after the repeat block.
    case epilogue

    /// The graph's section this phase runs.
    public var sectionKind: ExecutionGraph.SectionKind {
        switch self {
        case .prelude: .prelude
        case .round: .round
        case .epilogue: .epilogue
        }
    }
}

/// What one step of a run produced: one pass of the repeat block, or the prelude or epilogue.
public struct RoundResult: Sendable, Hashable, Codable {
    /// Round number: 0 for the prelude, 1... for the repeat block, last round + 1 for the epilogue.
    public var round: Int
    /// Which part of the chain ran.
    public var phase: RoundPhase
    /// Every member's current answer at the end of the step.
    public var answers: [MemberAnswer]
    /// Reviews given during the step.
    public var reviews: [Review]
    /// The synthesis produced during the step, if any.
    public var synthesis: Synthesis?
    /// The current draft (refine/verify chains) at the end of the step.
    public var draft: String?
    /// The vote taken during the step, if it has a `vote` stage.
    public var vote: VoteResult?
    /// The `close` decision, when the step ran one.
    public var decision: RoundDecision?
    /// Members that stopped answering during the step (for the step or for the run).
    public var droppedMembers: [String]
    /// Model calls made (replayed ones included).
    public var calls: Int
    /// Tokens used by the step's calls.
    public var usage: TokenUsage
    /// Cost of the step's calls in US dollars.
    @Dollars public var costUSD: Double

    /// Creates a result.
    public init(
        round: Int, phase: RoundPhase, answers: [MemberAnswer] = [], reviews: [Review] = [],
        synthesis: Synthesis? = nil, draft: String? = nil, vote: VoteResult? = nil, decision: RoundDecision? = nil,
        droppedMembers: [String] = [], calls: Int = 0, usage: TokenUsage = TokenUsage(), costUSD: Double = 0
    ) {
        self.round = round
        self.phase = phase
        self.answers = answers
        self.reviews = reviews
        self.synthesis = synthesis
        self.draft = draft
        self.vote = vote
        self.decision = decision
        self.droppedMembers = droppedMembers
        self.calls = calls
        self.usage = usage
        self.costUSD = costUSD
    }
}
