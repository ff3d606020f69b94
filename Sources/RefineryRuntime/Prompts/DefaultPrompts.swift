// The product's default prompts, one Mustache template per PromptKind. They are what users get unless a
// stage overrides `prompt:`, so they are written to be followed literally by any model: a task section,
// the material under clear headings, then instructions and the exact reply format. Answers under review
// appear only as "Response A", "Response B", ...: never with a model or member name.

internal import Mustache

/// Default prompt templates.
package enum DefaultPrompts {
    /// Compiled defaults, parsed once.
    private static let templates: [PromptKind: Result<MustacheTemplate, PromptRenderError>] = Dictionary(
        uniqueKeysWithValues: PromptKind.allCases.map { kind in
            (kind, PromptRenderer.compile(source(kind), name: "default \(kind.rawValue) template", validate: false))
        }
    )

    static func compiled(_ kind: PromptKind) -> Result<MustacheTemplate, PromptRenderError> {
        templates[kind] ?? .failure(PromptRenderError(message: "no default template for \(kind.rawValue)"))
    }

    /// The Mustache source of the default user template for `kind`.
    package static func source(_ kind: PromptKind) -> String {
        switch kind {
        case .propose: propose
        case .proposeWithHistory: proposeWithHistory
        case .proposeWithPeers: proposeWithPeers
        case .proposeWithSynthesis: proposeWithSynthesis
        case .evaluatePairwise: evaluatePairwise
        case .evaluateBatched: evaluateBatched
        case .refine: refine
        case .critiqueRevise: critiqueRevise
        case .synthesize: synthesize
        case .verifyPlan: verifyPlan
        case .verifyAnswer: verifyAnswer
        case .verifyRevise: verifyRevise
        }
    }

    private static let task = """
        ## Task
        {{{prompt}}}
        {{#has_extra_context}}

        ## Additional context
        {{{extra_context}}}
        {{/has_extra_context}}
        """

    private static let rubric = """
        ## Rubric
        Score from 1 to 10:
        - 9–10: correct, complete and clear; nothing material to add.
        - 7–8: correct and useful, with minor gaps or imprecision.
        - 5–6: partly correct or incomplete; at least one error or gap that matters.
        - 3–4: major errors, or misses the main point of the task.
        - 1–2: wrong, off-task or unusable.
        Judge correctness first, then completeness, then clarity. Length is not a merit, and a confident tone \
        is not evidence.
        {{#has_rubric}}
        Also judge: {{{rubric}}}
        {{/has_rubric}}
        """

    private static let evaluationFields = """
        "strengths": ["..."], "weaknesses": ["..."], "suggestions": ["..."], "rationale": "...", "score": 7
        """

    static let propose = """
        {{{prompt}}}
        {{#has_extra_context}}

        ## Additional context
        {{{extra_context}}}
        {{/has_extra_context}}
        """

    static let proposeWithHistory = """
        \(task)

        ## Your earlier answers and the reviews they received
        {{#history}}
        ### Round {{{round}}}: your answer
        {{{answer}}}

        {{#has_reviews}}
        ### Round {{{round}}}: reviews of that answer
        {{#reviews}}
        - {{{.}}}
        {{/reviews}}

        {{/has_reviews}}
        {{/history}}
        ## Instructions
        Write your best answer to the task now. Keep what the reviews confirmed, fix what they showed to be \
        wrong or missing, and disregard feedback that is mistaken or asks for more than the task does.
        Reply with the complete answer only, without commentary about what changed.
        """

    static let proposeWithPeers = """
        \(task)
        {{#has_own_answer}}

        ## Your previous answer
        {{{own_answer}}}
        {{/has_own_answer}}

        {{#has_peers}}
        ## Other participants' answers
        {{#peers}}
        ### Response {{{label}}}
        {{{text}}}

        {{/peers}}
        {{/has_peers}}
        ## Instructions
        Use these answers as additional information and give your updated answer to the task. Check each \
        claim instead of trusting it; where the answers disagree, work out which is right. Change your position \
        only for a good reason, not because others hold a different one.
        Reply with the complete answer only.
        """

    static let proposeWithSynthesis = """
        \(task)
        {{#has_synthesis}}

        ## Synthesis of the previous round
        {{{synthesis.text}}}
        {{#synthesis.has_dissent}}

        ## Unresolved disagreements
        {{{synthesis.dissent}}}
        {{/synthesis.has_dissent}}
        {{#synthesis.has_refinement_areas}}

        ## Areas to improve
        {{#synthesis.refinement_areas}}
        - {{{.}}}
        {{/synthesis.refinement_areas}}
        {{/synthesis.has_refinement_areas}}
        {{/has_synthesis}}

        ## Instructions
        Answer the task again, improving on the synthesis: address every area to improve and settle the \
        disagreements where you can. Keep what the synthesis got right; correct what it got wrong.
        Reply with the complete answer only.
        """

    static let evaluatePairwise = """
        You are reviewing one answer to the task below. \
        {{#anonymous}}You do not know who wrote it; judge it on its merits.{{/anonymous}}\
        {{^anonymous}}It is labelled with the model that wrote it; judge it on its merits, not on its author.\
        {{/anonymous}}

        \(task)

        ## Response {{{answer.label}}}
        {{{answer.text}}}

        \(rubric)

        ## Reply format
        Reply with only a JSON object, nothing before or after it, with the fields in this order:
        {\(evaluationFields)}
        List concrete strengths, weaknesses and suggestions (empty lists are fine). Write the rationale \
        before you decide the score; the score is a number from 1 to 10.
        """

    static let evaluateBatched = """
        You are reviewing several answers to the task below. \
        {{#anonymous}}You do not know who wrote them; judge each one on its merits, independently of the others.\
        {{/anonymous}}\
        {{^anonymous}}Each is labelled with the model that wrote it; judge each one on its merits, not on its \
        author, independently of the others.{{/anonymous}}

        \(task)

        ## Responses
        {{#answers}}
        ### Response {{{label}}}
        {{{text}}}

        {{/answers}}
        \(rubric)

        ## Reply format
        Reply with only a JSON object, nothing before or after it, with one key per response label \
        ({{{labels}}}). Each value is an evaluation with the fields in this order:
        {"<label>": {\(evaluationFields)}}
        Every label is required. Write each rationale before you decide its score; scores are numbers from 1 \
        to 10.
        """

    static let refine = """
        \(task)

        ## Your current answer
        {{{own_answer}}}

        ## Reviews of your answer
        {{#reviews}}
        ### {{{label}}}: score {{{score}}}/10
        {{#has_strengths}}
        Strengths:
        {{#strengths}}
        - {{{.}}}
        {{/strengths}}
        {{/has_strengths}}
        {{#has_weaknesses}}
        Weaknesses:
        {{#weaknesses}}
        - {{{.}}}
        {{/weaknesses}}
        {{/has_weaknesses}}
        {{#has_suggestions}}
        Suggestions:
        {{#suggestions}}
        - {{{.}}}
        {{/suggestions}}
        {{/has_suggestions}}
        Rationale: {{{rationale}}}

        {{/reviews}}
        {{^has_reviews}}
        (No reviews were received.)

        {{/has_reviews}}
        ## Instructions
        Revise your answer using the reviews. Fix every weakness that is real, adopt the suggestions that make \
        the answer more correct or complete, and reject feedback that is wrong or asks for more than the task \
        does. Keep what is already good.
        Reply with the complete revised answer only, without commentary about what changed.
        """

    static let critiqueRevise = """
        You are a refiner. Improve the draft so that it better accomplishes the task.

        \(task)

        ## Draft
        {{{draft}}}

        ## Rules
        - Output ONLY the two blocks shown below: nothing before them, nothing after them.
        - In <critique>, list the draft's concrete problems against the task: errors, omissions, unclear parts.
        - In <revised>, write the complete improved draft, not a diff or a list of changes.
        - If the draft is already excellent, write "no material issues" in <critique> and repeat the draft \
        verbatim in <revised>.
        - Never invent requirements beyond the task.
        - Keep the draft's format: code stays code, prose stays prose, in the same language and structure.

        <critique>
        ...
        </critique>
        <revised>
        ...
        </revised>
        """

    static let synthesize = """
        You are the arbiter. Several answers to the task below were written independently. Merge them into \
        the single best answer.

        \(task)

        ## Answers
        {{#answers}}
        ### Response {{{label}}}
        {{{text}}}

        {{/answers}}
        ## Instructions
        1. Compare the answers: where they agree, where they differ, and which is right where they differ. \
        Check the reasoning; do not side with the majority by default.
        2. Write the synthesis: the best answer to the task, complete on its own (the reader sees only it). \
        Keep the correct details from every answer and drop the errors.
        3. Give your confidence, from 0 to 1, that the synthesis is correct and complete.
        4. Describe the dissent: the important disagreements and how you resolved them, or what stays \
        unresolved; an empty string if the answers agreed.
        5. List the refinement areas: what another round should improve (an empty list if nothing).
        6. Set needs_iteration to true if another round would materially improve the answer.
        7. Rank the responses by label, best first.

        ## Reply format
        Reply with only a JSON object, nothing before or after it:
        {"synthesis": "...", "confidence": 0.8, "dissent": "...", "refinement_areas": ["..."], \
        "needs_iteration": false, "ranking": {{{labels_json}}}}
        """

    static let verifyPlan = """
        \(task)

        ## Draft answer
        {{{draft}}}

        ## Instructions
        Plan at most {{{question_count}}} verification questions that check the facts the draft relies on: \
        names, numbers, dates, definitions, causal claims, what code does. Each question must make sense on \
        its own, without the draft, and must not assume the draft's claim is true (ask "When was X founded?", \
        not "Was X founded in 1990?"). Put the claims that matter most to the answer first.

        ## Reply format
        Reply with only a JSON object, nothing before or after it:
        {"questions": ["...", "..."]}
        """

    static let verifyAnswer = """
        Answer the question below accurately and concisely. If you are not sure, say so instead of guessing.

        ## Question
        {{{question}}}
        """

    static let verifyRevise = """
        \(task)

        ## Draft answer
        {{{draft}}}

        ## Verification
        Each question below was answered independently, without seeing the draft.
        {{#verification_answers}}

        ### Question {{{number}}}: {{{question}}}
        {{{answer}}}
        {{/verification_answers}}

        ## Instructions
        Revise the draft so that it agrees with the verification answers: correct or remove every claim they \
        contradict. Where a verification answer is itself unsure, keep the draft's claim only if you are \
        confident it is right. Change nothing else and keep the draft's format.
        Reply with the complete revised answer only.
        """
}
