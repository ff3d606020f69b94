// The checked chain of stages: each stage kind with its options, who performs it and with
// which prompt template. Part of the IR (see Workflow.swift).

/// One stage of the chain (DESIGN §2).
public indirect enum Stage: Sendable, Hashable, Codable {
    /// Each participant answers (round 2+: with the context the workflow feeds back).
    case propose(ProposeStage)
    /// Participants score each other's current answers 1–10.
    case evaluate(EvaluateStage)
    /// Each participant revises its answer from the reviews it received (or critique-revise).
    case refine(RefineStage)
    /// The arbiter (or each member) merges the answers.
    case synthesize(SynthesizeStage)
    /// Factored Chain-of-Verification.
    case verify(VerifyStage)
    /// Plurality vote over the current answers after extracting what is compared. Makes no call.
    case vote(VoteStage)
    /// Applies the convergence strategy; ends the repeat block when it holds.
    case close(CloseStage)
    /// One pass is one round, bounded by `iterations`.
    case `repeat`([Stage])

    /// The stage keyword as written in workflow files.
    public var keyword: String {
        switch self {
        case .propose: "propose"
        case .evaluate: "evaluate"
        case .refine: "refine"
        case .synthesize: "synthesize"
        case .verify: "verify"
        case .vote: "vote"
        case .close: "close"
        case .repeat: "repeat"
        }
    }

    /// Options shared by every stage, `nil` for `repeat`.
    public var common: StageCommon? {
        switch self {
        case .propose(let s): s.common
        case .evaluate(let s): s.common
        case .refine(let s): s.common
        case .synthesize(let s): s.common
        case .verify(let s): s.common
        case .vote(let s): s.common
        case .close(let s): s.common
        case .repeat: nil
        }
    }
}

/// Who performs a stage's calls.
public enum Participants: Sendable, Hashable, Codable {
    /// Every (active) member.
    case members
    /// The arbiter.
    case arbiter
    /// The named members (by member id or entry name; an entry name selects all its instances).
    case named([String])
}

/// A prompt template override: a Mustache file, or inline templates.
public struct PromptTemplate: Sendable, Hashable, Codable {
    /// Path as written in the workflow (relative to the workflow file), when loaded from a file.
    public var path: String?
    /// Mustache template for the system prompt, if overridden.
    public var system: String?
    /// Mustache template for the user message, if overridden.
    public var user: String?
    /// SHA-256 (hex) of the template text(s), recorded with runs.
    public var sha256: String?

    /// Creates a template override.
    public init(path: String? = nil, system: String? = nil, user: String? = nil, sha256: String? = nil) {
        self.path = path
        self.system = system
        self.user = user
        self.sha256 = sha256
    }
}

/// Options every stage takes.
public struct StageCommon: Sendable, Hashable, Codable {
    /// Who performs the stage. Defaults: members, except `synthesize` and `verify` (arbiter).
    public var by: Participants
    /// Prompt template override.
    public var prompt: PromptTemplate?
    /// Parameters merged over the member's.
    public var params: ModelParams
    /// Per-call timeout override, in seconds.
    public var timeoutSeconds: Double?

    /// Creates common options.
    public init(
        by: Participants = .members, prompt: PromptTemplate? = nil, params: ModelParams = ModelParams(),
        timeoutSeconds: Double? = nil
    ) {
        self.by = by
        self.prompt = prompt
        self.params = params
        self.timeoutSeconds = timeoutSeconds
    }
}

/// `propose` options.
public struct ProposeStage: Sendable, Hashable, Codable {
    /// What round 2+ feeds back into the prompt.
    public enum Context: String, Sendable, Hashable, Codable, CaseIterable {
        /// Nothing: every round starts fresh.
        case none
        /// The member's own past answers and the reviews it received.
        case ownHistory = "own-history"
        /// Every member's current answers (debate).
        case peers
        /// The arbiter's last synthesis and refinement areas (llm-consortium).
        case synthesis
    }
    /// Shared options.
    public var common: StageCommon
    /// Round 2+ context. Default `own-history`.
    public var context: Context

    /// Creates propose options.
    public init(common: StageCommon = StageCommon(), context: Context = .ownHistory) {
        self.common = common
        self.context = context
    }
}

/// `evaluate` options.
public struct EvaluateStage: Sendable, Hashable, Codable {
    /// How reviews are requested.
    public enum Mode: String, Sendable, Hashable, Codable, CaseIterable {
        /// One call per ordered (reviewer, reviewed) pair: N(N−1) calls.
        case pairwise
        /// One call per reviewer scoring all peers: N calls.
        case batched
    }
    /// Shared options.
    public var common: StageCommon
    /// Pairwise or batched. Default pairwise.
    public var mode: Mode
    /// Hide model ids and member names behind shuffled labels. Default true.
    public var anonymize: Bool
    /// Extra rubric text appended to the default rubric.
    public var rubric: String?

    /// Creates evaluate options.
    public init(
        common: StageCommon = StageCommon(), mode: Mode = .pairwise, anonymize: Bool = true, rubric: String? = nil
    ) {
        self.common = common
        self.mode = mode
        self.anonymize = anonymize
        self.rubric = rubric
    }
}

/// `refine` options.
public struct RefineStage: Sendable, Hashable, Codable {
    /// How a revision is produced.
    public enum RefineProtocol: String, Sendable, Hashable, Codable, CaseIterable {
        /// Revise from the reviews received in this round.
        case reviews
        /// Emit `<critique>` then `<revised>` (ChatCLI's refiner).
        case critiqueRevise = "critique-revise"
    }
    /// Shared options.
    public var common: StageCommon
    /// Default `reviews`.
    public var refineProtocol: RefineProtocol
    /// Drafts shorter than this many bytes are not refined. Default 0.
    public var minBytes: Int

    /// Creates refine options.
    public init(common: StageCommon = StageCommon(), refineProtocol: RefineProtocol = .reviews, minBytes: Int = 0) {
        self.common = common
        self.refineProtocol = refineProtocol
        self.minBytes = minBytes
    }
}

/// `synthesize` options.
public struct SynthesizeStage: Sendable, Hashable, Codable {
    /// Shared options (`by` defaults to the arbiter).
    public var common: StageCommon

    /// Creates synthesize options.
    public init(common: StageCommon = StageCommon(by: .arbiter)) {
        self.common = common
    }
}

/// `verify` options (factored Chain-of-Verification).
public struct VerifyStage: Sendable, Hashable, Codable {
    /// Shared options (`by` defaults to the arbiter).
    public var common: StageCommon
    /// Number of verification questions `k`. Default 3.
    public var questions: Int

    /// Creates verify options.
    public init(common: StageCommon = StageCommon(by: .arbiter), questions: Int = 3) {
        self.common = common
        self.questions = questions
    }
}

/// `vote` options: a plurality vote over answers, with no model call.
public struct VoteStage: Sendable, Hashable, Codable {
    /// Which tied value wins when several share the most votes.
    public enum TieRule: String, Sendable, Hashable, Codable, CaseIterable {
        /// The tied value given first in member order.
        case first
        /// One of the tied values drawn with the run's seed (reproducible, recorded).
        case random
        /// No winner: the vote reports the tie and the run falls back to the workflow's other outputs.
        case none
    }
    /// Which answers are counted.
    public enum Pool: String, Sendable, Hashable, Codable, CaseIterable {
        /// Each voter's current answer.
        case current
        /// Every answer each voter gave in every round so far (self-consistency sampling in batches).
        case all = "all-rounds"
    }
    /// Shared options (`by`: whose answers are counted; default every member).
    public var common: StageCommon
    /// What is compared. Default `last-line`.
    public var extract: AnswerExtraction
    /// Default `first`.
    public var tie: TieRule
    /// Default `current`.
    public var over: Pool

    /// Creates vote options.
    public init(
        common: StageCommon = StageCommon(), extract: AnswerExtraction = .lastLine, tie: TieRule = .first,
        over: Pool = .current
    ) {
        self.common = common
        self.extract = extract
        self.tie = tie
        self.over = over
    }
}

/// `close` options.
public struct CloseStage: Sendable, Hashable, Codable {
    /// Shared options (unused: close makes no calls).
    public var common: StageCommon

    /// Creates close options.
    public init(common: StageCommon = StageCommon()) {
        self.common = common
    }
}
