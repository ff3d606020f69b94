// The token model of the cost estimate: how big prompts, templates and replies are assumed to
// be. Every number is a documented default a caller can change.

/// Token sizes the estimator assumes for each kind of call.
///
/// ## The model
/// - Every call's input is the user prompt (`promptTokens`), the effective system prompt
///   (member or arbiter `system`, else the workflow's; bytes ÷ 4) and the stage's template
///   overhead (the inline `prompt` template's bytes ÷ 4 when the stage sets one, else the
///   default per kind below), plus what the stage reads:
///   - `propose`: nothing the first time; then its context — `own-history` every earlier answer
///     of the member and every review it received (so it grows each round), `peers` every
///     member's current answer, `synthesis` the latest synthesis (else every answer);
///   - `evaluate`: the answer under review (batched: every answer under review);
///   - `refine`: the member's answer and the reviews it received in its latest evaluation
///     (`critique-revise`: the answer only; by the arbiter: the draft);
///   - `synthesize`: every member's current answer;
///   - `verify`: the plan reads the draft; each answer reads only its question (no prompt,
///     no draft); the revision reads the draft, the plan and the answers.
/// - Every call's output is `params.max_tokens` (stage params over member params) when set,
///   else the default per kind below. An answer's size is the output of the call that made it.
/// - `refine`'s `min_bytes`: the cheapest run (`min`) skips every refine that has it, the dearest
///   (`max`) runs every refine; likewise a verification plan lists no question in `min` (nothing to
///   verify: no answer, no revision), `questions` in `max`.
public struct EstimateAssumptions: Sendable, Hashable, Codable {
    /// Output tokens of a `propose` answer, a `refine` revision and a `verify` revision.
    public var answerTokens: Int
    /// Output tokens of one review (pairwise: one call; batched: per reviewed answer).
    public var reviewTokens: Int
    /// Extra output tokens of a `critique-revise` refine (the `<critique>` block).
    public var critiqueTokens: Int
    /// Output tokens of a synthesis.
    public var synthesisTokens: Int
    /// Output tokens of a verification plan.
    public var verifyPlanTokens: Int
    /// Output tokens of one verification answer.
    public var verifyAnswerTokens: Int
    /// Input tokens of one verification question.
    public var verifyQuestionTokens: Int
    /// Template overhead (instructions around the prompt) per call of each kind.
    public var proposeOverhead: Int
    /// Template overhead of an evaluation (the rubric and JSON reply format).
    public var evaluateOverhead: Int
    /// Template overhead of a refine.
    public var refineOverhead: Int
    /// Template overhead of a synthesis.
    public var synthesizeOverhead: Int
    /// Template overhead of each verify call.
    public var verifyOverhead: Int

    /// Creates assumptions; the defaults are typical sizes for essay-length answers.
    public init(
        answerTokens: Int = 800, reviewTokens: Int = 350, critiqueTokens: Int = 300, synthesisTokens: Int = 1_000,
        verifyPlanTokens: Int = 200, verifyAnswerTokens: Int = 250, verifyQuestionTokens: Int = 50,
        proposeOverhead: Int = 150, evaluateOverhead: Int = 400, refineOverhead: Int = 250,
        synthesizeOverhead: Int = 400, verifyOverhead: Int = 200
    ) {
        self.answerTokens = answerTokens
        self.reviewTokens = reviewTokens
        self.critiqueTokens = critiqueTokens
        self.synthesisTokens = synthesisTokens
        self.verifyPlanTokens = verifyPlanTokens
        self.verifyAnswerTokens = verifyAnswerTokens
        self.verifyQuestionTokens = verifyQuestionTokens
        self.proposeOverhead = proposeOverhead
        self.evaluateOverhead = evaluateOverhead
        self.refineOverhead = refineOverhead
        self.synthesizeOverhead = synthesizeOverhead
        self.verifyOverhead = verifyOverhead
    }

    /// Output tokens a call of `kind` in `stage` is assumed to write when its params set no
    /// `max_tokens`; nil for the `vote` and `close` decisions, which make no call.
    ///
    /// The one mapping from a node to its assumed reply size: the estimate prices every call with it,
    /// and so does the engine's budget check before a run has seen a reply, so a run granted its
    /// estimate is not refused its first call by a different guess.
    public func outputTokens(for kind: NodeKind, in stage: Stage) -> Int? {
        switch kind {
        case .propose, .verifyRevise: return answerTokens
        case .evaluate: return reviewTokens
        case .evaluateBatch(_, let targets): return reviewTokens * targets.count
        case .refine:
            guard case .refine(let options) = stage, options.refineProtocol == .critiqueRevise else {
                return answerTokens
            }
            return answerTokens + critiqueTokens
        case .synthesize: return synthesisTokens
        case .verifyPlan: return verifyPlanTokens
        case .verifyAnswer: return verifyAnswerTokens
        case .vote, .close: return nil
        }
    }

    /// Template overhead of a call of `kind` whose stage sets no prompt template of its own.
    public func overhead(for kind: NodeKind) -> Int {
        switch kind {
        case .propose: return proposeOverhead
        case .evaluate, .evaluateBatch: return evaluateOverhead
        case .refine: return refineOverhead
        case .synthesize: return synthesizeOverhead
        case .verifyPlan, .verifyAnswer, .verifyRevise: return verifyOverhead
        case .vote, .close: return 0
        }
    }

    /// Input tokens of one call of `kind`: the user prompt (`promptTokens`; a verification answer sees only its
    /// question), the system prompt (`systemTokens`), the stage's own text (`template`, from
    /// ``templateTokens(of:)``: its own template or else the kind's ``overhead(for:)``, and its rubric), and
    /// `reading`: what the stage shows the call (answers, reviews, history, a draft, a question).
    ///
    /// The one pricing of a call's input: the estimate calls it with the sizes it simulates, the engine's budget
    /// check with the sizes the call really reads, so a run granted its estimate (a batch item's share) is not
    /// refused a call the estimate priced.
    public func inputTokens(
        for kind: NodeKind, promptTokens: Int, systemTokens: Int, template: StageText, reading: Int
    ) -> Int {
        var prompt = promptTokens
        if case .verifyAnswer = kind { prompt = 0 }
        return prompt + systemTokens + (template.ownTemplate ?? overhead(for: kind)) + template.rubric + reading
    }

    /// The text a stage adds to each of its calls' input, in tokens.
    public struct StageText: Sendable, Hashable {
        /// Its own prompt template (`system` and `user`), or `nil` when it uses the default prompts.
        public var ownTemplate: Int?
        /// Its `rubric` (an evaluation's criteria: the default prompt shows it, an own template may); 0 without.
        public var rubric: Int

        /// Creates the sizes.
        public init(ownTemplate: Int? = nil, rubric: Int = 0) {
            self.ownTemplate = ownTemplate
            self.rubric = rubric
        }
    }

    /// What `stage`'s text adds to each call's input: its own prompt template and its rubric.
    public static func templateTokens(of stage: Stage) -> StageText {
        var text = StageText()
        if let prompt = stage.common?.prompt, prompt.system != nil || prompt.user != nil {
            text.ownTemplate = tokens(forBytes: (prompt.system?.utf8.count ?? 0) + (prompt.user?.utf8.count ?? 0))
        }
        if case .evaluate(let evaluate) = stage, let rubric = evaluate.rubric { text.rubric = tokens(for: rubric) }
        return text
    }

    /// Tokens of a text of `bytes` UTF-8 bytes: bytes ÷ 4, rounded up.
    public static func tokens(forBytes bytes: Int) -> Int {
        (max(bytes, 0) + 3) / 4
    }

    /// Tokens of `text` (UTF-8 bytes ÷ 4, rounded up).
    public static func tokens(for text: String) -> Int {
        tokens(forBytes: text.utf8.count)
    }
}
