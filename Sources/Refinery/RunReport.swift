// The result document of a run: `--output-format json`, `--output FILE`, the last line of
// `jsonl`, and what the store keeps as the run's outcome. Its shape keeps the seed's fields
// (status, winner, final_round, strategy, all_answers, metadata) and adds what Refinery knows
// more. `schemas/run-output.schema.json` describes it; bump `formatVersion` on breaking changes.

public import RefineryCompiler
package import RefineryStore

/// The result of a run, as printed with `--output-format json`.
public struct RunReport: Sendable, Hashable, Codable {
    /// The version of this document's shape.
    public static let currentFormatVersion = 1

    /// The version of this document's shape.
    public var formatVersion: Int
    /// The run's id in the store.
    public var runID: String
    /// `converged`, `single_model`, `max_rounds`, `insufficient_models`, `budget_exhausted`, `cancelled` or
    /// `failed`.
    public var status: String
    /// The selected answer.
    public var winner: Winner?
    /// The last round that ran (0 when the workflow has no repeat block).
    public var finalRound: Int
    /// The convergence strategy's name.
    public var strategy: String
    /// Every member's final answer with its mean score.
    public var allAnswers: [Answer]
    /// Counts and timing.
    public var metadata: Metadata
    /// Cost in US dollars.
    @Dollars public var costUSD: Double
    /// Token totals.
    public var tokens: Tokens
    /// Who answered and reviewed.
    public var coverage: Coverage
    /// The signal that ended the run, e.g. `confidence: 0.92 ≥ 0.80`.
    public var stoppedBy: String
    /// The workflow that ran.
    public var workflow: WorkflowInfo
    /// The close decision of each round (full result only).
    public var rounds: [RoundSummary]?
    /// The error that ended the run, if any.
    public var error: String?
    /// The last vote, when the workflow has a `vote` stage.
    public var vote: Vote?

    /// Creates a report.
    public init(
        formatVersion: Int = RunReport.currentFormatVersion, runID: String, status: String, winner: Winner?,
        finalRound: Int, strategy: String, allAnswers: [Answer], metadata: Metadata, costUSD: Double,
        tokens: Tokens, coverage: Coverage, stoppedBy: String, workflow: WorkflowInfo, rounds: [RoundSummary]? = nil,
        error: String? = nil
    ) {
        self.formatVersion = formatVersion
        self.runID = runID
        self.status = status
        self.winner = winner
        self.finalRound = finalRound
        self.strategy = strategy
        self.allAnswers = allAnswers
        self.metadata = metadata
        self.costUSD = costUSD
        self.tokens = tokens
        self.coverage = coverage
        self.stoppedBy = stoppedBy
        self.workflow = workflow
        self.rounds = rounds
        self.error = error
    }

    /// Encodes the report; `winner` is `null` when no answer was produced (a budget stop before the first reply),
    /// not left out: the seed's keys are always there for a script reading `winner`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(formatVersion, forKey: .formatVersion)
        try container.encode(runID, forKey: .runID)
        try container.encode(status, forKey: .status)
        if let winner {
            try container.encode(winner, forKey: .winner)
        } else {
            try container.encodeNil(forKey: .winner)
        }
        try container.encode(finalRound, forKey: .finalRound)
        try container.encode(strategy, forKey: .strategy)
        try container.encode(allAnswers, forKey: .allAnswers)
        try container.encode(metadata, forKey: .metadata)
        try container.encode(_costUSD, forKey: .costUSD)
        try container.encode(tokens, forKey: .tokens)
        try container.encode(coverage, forKey: .coverage)
        try container.encode(stoppedBy, forKey: .stoppedBy)
        try container.encode(workflow, forKey: .workflow)
        try container.encodeIfPresent(rounds, forKey: .rounds)
        try container.encodeIfPresent(error, forKey: .error)
        try container.encodeIfPresent(vote, forKey: .vote)
    }

    enum CodingKeys: String, CodingKey {
        case status, winner, strategy, metadata, tokens, coverage, workflow, rounds, error, vote
        case formatVersion = "format_version"
        case runID = "run_id"
        case finalRound = "final_round"
        case allAnswers = "all_answers"
        case costUSD = "cost_usd"
        case stoppedBy = "stopped_by"
    }

    /// The selected answer.
    public struct Winner: Sendable, Hashable, Codable {
        /// `provider/model` that produced it: a fallback model when the primary failed.
        public var modelID: String
        /// The member id, or `arbiter`: whoever produced the answer.
        public var memberID: String
        /// The answer text.
        public var answer: String
        /// The configured `provider/model` that failed, when a fallback produced the answer.
        public var fallbackFrom: String?
        /// Whether this is only the best answer so far: the run stopped early (e.g. below quorum) or what
        /// the workflow's `output` selects was never produced.
        public var degraded: Bool

        /// Creates a winner.
        public init(
            modelID: String, memberID: String, answer: String, fallbackFrom: String? = nil, degraded: Bool = false
        ) {
            self.modelID = modelID
            self.memberID = memberID
            self.answer = answer
            self.fallbackFrom = fallbackFrom
            self.degraded = degraded
        }

        /// Decodes a winner; results recorded before `degraded` existed read as not degraded.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                modelID: try container.decode(String.self, forKey: .modelID),
                memberID: try container.decode(String.self, forKey: .memberID),
                answer: try container.decode(String.self, forKey: .answer),
                fallbackFrom: try container.decodeIfPresent(String.self, forKey: .fallbackFrom),
                degraded: try container.decodeIfPresent(Bool.self, forKey: .degraded) ?? false)
        }

        /// Who produced the answer, with the model that did and the one that failed before it, as every output
        /// names them: `arbiter (openai/gpt-4o, fallback for anthropic/claude-sonnet-4-5, which failed)`.
        public var producer: String {
            RunReport.producer(memberID: memberID, modelID: modelID, fallbackFrom: fallbackFrom)
        }

        enum CodingKeys: String, CodingKey {
            case answer, degraded
            case modelID = "model_id"
            case memberID = "member_id"
            case fallbackFrom = "fallback_from"
        }
    }

    /// Who produced an answer, with the model that did and the configured one that failed before it, as every
    /// output names them: `arbiter (openai/gpt-4o, fallback for anthropic/claude-sonnet-4-5, which failed)`.
    public static func producer(memberID: String, modelID: String, fallbackFrom: String?) -> String {
        var model = modelID
        if let primary = fallbackFrom { model += ", fallback for \(primary), which failed" }
        return "\(memberID) (\(model))"
    }

    /// One member's final answer.
    public struct Answer: Sendable, Hashable, Codable {
        /// `provider/model` that produced it: a fallback model when the member's own failed.
        public var modelID: String
        /// Member id.
        public var memberID: String
        /// The answer text.
        public var answer: String
        /// Mean score received in the last evaluated round, if any.
        public var meanScore: Double?
        /// The member's configured `provider/model`, when it failed and a fallback produced the answer.
        public var fallbackFrom: String?

        /// Creates an answer.
        public init(
            modelID: String, memberID: String, answer: String, meanScore: Double?, fallbackFrom: String? = nil
        ) {
            self.modelID = modelID
            self.memberID = memberID
            self.answer = answer
            self.meanScore = meanScore
            self.fallbackFrom = fallbackFrom
        }

        /// Who produced the answer (``RunReport/producer(memberID:modelID:fallbackFrom:)``).
        public var producer: String {
            RunReport.producer(memberID: memberID, modelID: modelID, fallbackFrom: fallbackFrom)
        }

        enum CodingKeys: String, CodingKey {
            case answer
            case modelID = "model_id"
            case memberID = "member_id"
            case meanScore = "mean_score"
            case fallbackFrom = "fallback_from"
        }
    }

    /// Counts and timing (the seed's `metadata`).
    public struct Metadata: Sendable, Hashable, Codable {
        /// Rounds run.
        public var totalRounds: Int
        /// Calls made (replayed calls included).
        public var totalCalls: Int
        /// Wall time in milliseconds.
        public var elapsedMs: Int

        /// Creates metadata.
        public init(totalRounds: Int, totalCalls: Int, elapsedMs: Int) {
            self.totalRounds = totalRounds
            self.totalCalls = totalCalls
            self.elapsedMs = elapsedMs
        }

        enum CodingKeys: String, CodingKey {
            case totalRounds = "total_rounds"
            case totalCalls = "total_calls"
            case elapsedMs = "elapsed_ms"
        }
    }

    /// Token totals.
    public struct Tokens: Sendable, Hashable, Codable {
        /// Input tokens.
        public var input: Int
        /// Output tokens.
        public var output: Int
        /// `true` when part of the totals is an estimate (a server that reported no usage); absent otherwise.
        public var estimated: Bool?
        /// Of `input`, the tokens read from the providers' prompt caches (billed at their cached-input
        /// prices); absent when none were.
        public var cachedInput: Int?
        /// Of `input`, the tokens written to a prompt cache (Anthropic; billed at its cache-write price); absent
        /// when none were.
        public var cacheWrite: Int?
        /// Of `cacheWrite`, the tokens written with the 1-hour lifetime (Anthropic; billed at its 1-hour
        /// cache-write price, twice the input price); absent when none were.
        public var cacheWrite1h: Int?

        /// Creates totals.
        public init(
            input: Int, output: Int, estimated: Bool? = nil, cachedInput: Int? = nil, cacheWrite: Int? = nil,
            cacheWrite1h: Int? = nil
        ) {
            self.input = input
            self.output = output
            self.estimated = estimated
            self.cachedInput = cachedInput
            self.cacheWrite = cacheWrite
            self.cacheWrite1h = cacheWrite1h
        }

        enum CodingKeys: String, CodingKey {
            case input, output, estimated
            case cachedInput = "cached_input"
            case cacheWrite = "cache_write"
            case cacheWrite1h = "cache_write_1h"
        }
    }

    /// Who answered and reviewed.
    public struct Coverage: Sendable, Hashable, Codable {
        /// Members with an answer at the end.
        public var membersAnswered: Int
        /// Reviews received in the last evaluated round.
        public var reviewsReceived: Int
        /// Whether an arbiter fallback model was used.
        public var arbiterFallbackUsed: Bool
        /// Whether the run lost members, calls or reviews on the way.
        public var degraded: Bool
        /// Why it is degraded, one sentence each (empty when it is not).
        public var reasons: [String]

        /// Creates coverage.
        public init(
            membersAnswered: Int, reviewsReceived: Int, arbiterFallbackUsed: Bool, degraded: Bool,
            reasons: [String] = []
        ) {
            self.membersAnswered = membersAnswered
            self.reviewsReceived = reviewsReceived
            self.arbiterFallbackUsed = arbiterFallbackUsed
            self.degraded = degraded
            self.reasons = reasons
        }

        /// Decodes coverage; results recorded before `reasons` existed read as giving none.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                membersAnswered: try container.decode(Int.self, forKey: .membersAnswered),
                reviewsReceived: try container.decode(Int.self, forKey: .reviewsReceived),
                arbiterFallbackUsed: try container.decode(Bool.self, forKey: .arbiterFallbackUsed),
                degraded: try container.decode(Bool.self, forKey: .degraded),
                reasons: try container.decodeIfPresent([String].self, forKey: .reasons) ?? [])
        }

        enum CodingKeys: String, CodingKey {
            case degraded, reasons
            case membersAnswered = "members_answered"
            case reviewsReceived = "reviews_received"
            case arbiterFallbackUsed = "arbiter_fallback_used"
        }
    }

    /// The workflow that ran.
    public struct WorkflowInfo: Sendable, Hashable, Codable {
        /// Name.
        public var name: String
        /// The workflow's own version.
        public var version: String?
        /// File path or `builtin:NAME`.
        public var path: String?
        /// Git commit, when the file is in a repository.
        public var gitCommit: String?
        /// The revision named with `NAME@REV`.
        public var gitRevision: String?
        /// Whether the file had uncommitted changes.
        public var gitDirty: Bool?

        /// Creates workflow info.
        public init(
            name: String, version: String?, path: String?, gitCommit: String?, gitRevision: String?, gitDirty: Bool?
        ) {
            self.name = name
            self.version = version
            self.path = path
            self.gitCommit = gitCommit
            self.gitRevision = gitRevision
            self.gitDirty = gitDirty
        }

        enum CodingKeys: String, CodingKey {
            case name, version, path
            case gitCommit = "git_commit"
            case gitRevision = "git_revision"
            case gitDirty = "git_dirty"
        }
    }

    /// One round's close decision.
    public struct RoundSummary: Sendable, Hashable, Codable {
        /// Round number.
        public var round: Int
        /// Leader member id, if scored.
        public var leader: String?
        /// Leader's mean score or the arbiter's confidence.
        public var score: Double?
        /// Whether the round converged.
        public var converged: Bool
        /// Mean score per member.
        public var scores: [String: Double]
        /// Explanation from the strategy.
        public var reason: String?
        /// Every member's answer in that round.
        public var answers: [Answer]

        /// Creates a round summary.
        public init(
            round: Int, leader: String?, score: Double?, converged: Bool, scores: [String: Double], reason: String?,
            answers: [Answer] = []
        ) {
            self.round = round
            self.leader = leader
            self.score = score
            self.converged = converged
            self.scores = scores
            self.reason = reason
            self.answers = answers
        }
    }
}

extension RunReport {
    /// What produced the answer, as ``winner`` and ``coverage`` say: what a batch or bench line carries for the
    /// run. `nil` without a winner.
    package var origin: AnswerOrigin? {
        guard let winner else { return nil }
        return AnswerOrigin(
            modelID: winner.modelID, memberID: winner.memberID, fallbackFrom: winner.fallbackFrom,
            degraded: winner.degraded || coverage.degraded, degradedReasons: coverage.reasons)
    }
}
