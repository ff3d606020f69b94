// Turning a ready graph node into a request: what each stage shows the model. Answers of other
// members only ever appear under the viewer's shuffled labels, so no prompt names another member.

import RefineryCompiler

/// A ready node: a call to make, or a result known without calling.
enum Prepared {
    case call(CallTicket)
    case result(NodeResult)
}

extension RunExecutor {
    func prepare(_ index: Int) -> Prepared {
        guard let run = section, run.nodes.indices.contains(index) else { return .result(.skipped("unknown node")) }
        let node = run.nodes[index]
        let stageIndex = run.stageIndexOf[index]
        guard let stage = run.stages.first(where: { $0.index == stageIndex }) else {
            return .result(.skipped("unknown stage"))
        }
        if stopReason != nil { return .result(.skipped("run stopped")) }
        if case .close = node.kind { return .result(NodeResult()) }
        if case .vote(let voters) = node.kind, case .vote(let options) = stage.stage {
            (run.vote, run.voteWinnerText) = countVote(voters: voters, options: options, stageIndex: stageIndex)
            return .result(NodeResult())
        }
        let participant = node.participant
        guard participants[participant] != nil else {
            return .result(.skipped(participant == "arbiter" ? "the workflow has no arbiter" : "unknown participant"))
        }
        if participant != "arbiter", !isActive(participant) { return .result(.skipped(notMade(participant))) }
        var context = PromptContext(prompt: prompt, extraContext: extraContext)

        // Exhaustive over node kinds: a new kind does not compile until it says how it is prepared.
        let mismatch = Prepared.result(.skipped("node kind does not match its stage"))
        switch node.kind {
        case .propose(let member):
            guard case .propose(let options) = stage.stage else { return mismatch }
            var kind = PromptKind.propose
            switch options.context {
            case .ownHistory:
                if let past = history[member], !past.isEmpty {
                    kind = .proposeWithHistory
                    context.ownHistory = past.map(\.entry)
                }
            case .peers:
                // Debate (Du et al.) and Mixture-of-Agents (Wang et al.) both give each member every answer of
                // the step before, its own included: its own as its previous answer, the others under labels.
                let peers = labelled(for: member, members: memberIDs.filter { $0 != member && isActive($0) }) {
                    answers[$0]?.text
                }
                let own = answers[member]?.text
                if !peers.texts.isEmpty || own != nil {
                    kind = .proposeWithPeers
                    context.peers = peers.texts
                    context.ownAnswer = own
                }
            case .synthesis:
                if let synthesis {
                    kind = .proposeWithSynthesis
                    context.synthesis = synthesis
                }
            case .none:
                break
            }
            return makeTicket(node, index, stage: stage, kind: kind, context: context)

        case .evaluate(let reviewer, let target):
            guard case .evaluate(let options) = stage.stage else { return mismatch }
            guard reviewer != target else { return .result(.skipped("a member never scores itself")) }
            guard isActive(target), let answer = answerText(of: target, before: stageIndex) else {
                return .result(.skipped("\(target) has no answer"))
            }
            let label = reviewLabels(for: reviewer, anonymize: options.anonymize, before: stageIndex)[target] ?? "A"
            context.answerUnderReview = LabeledText(label: label, text: answer)
            context.rubric = options.rubric
            context.anonymous = options.anonymize
            return makeTicket(
                node, index, stage: stage, kind: .evaluatePairwise, context: context, format: JSONSchemas.evaluation,
                replyKind: .evaluation, shown: (label, target))

        case .evaluateBatch(let reviewer, let targets):
            guard case .evaluate(let options) = stage.stage else { return mismatch }
            let shown = labelled(
                for: reviewer, members: targets.filter { $0 != reviewer && isActive($0) },
                labels: reviewLabels(for: reviewer, anonymize: options.anonymize, before: stageIndex)
            ) { answerText(of: $0, before: stageIndex) }
            guard !shown.texts.isEmpty else { return .result(.skipped("nothing to score")) }
            context.answersToScore = shown.texts
            context.rubric = options.rubric
            context.anonymous = options.anonymize
            let labels = shown.texts.map(\.label)
            return makeTicket(
                node, index, stage: stage, kind: .evaluateBatched, context: context,
                format: JSONSchemas.batchedEvaluation(labels: labels), replyKind: .batchedEvaluation(labels: labels),
                labels: shown.members)

        case .refine(let member):
            guard case .refine(let options) = stage.stage else { return mismatch }
            let own = member == "arbiter" ? draftText(before: stageIndex) : answerText(of: member, before: stageIndex)
            guard let own else { return .result(.skipped("nothing to refine")) }
            if own.utf8.count < options.minBytes {
                return .result(.skipped("draft shorter than min_bytes \(options.minBytes)"))
            }
            if options.refineProtocol == .critiqueRevise {
                context.draft = own
                return makeTicket(
                    node, index, stage: stage, kind: .critiqueRevise, context: context, replyKind: .critiqueRevise)
            }
            context.ownAnswer = own
            // The member's reviews copied out: sharing the step's array would make its next append copy it all.
            let received = ReceivedReviews(
                reviews: (run.reviewsByTarget[member] ?? []).map { run.reviews[$0] }, labels: labels(for: member))
            return makeTicket(node, index, stage: stage, kind: .refine, context: context, reviews: received)

        case .synthesize(let by):
            guard case .synthesize = stage.stage else { return mismatch }
            let shown = labelled(for: by, members: memberIDs.filter { isActive($0) }) {
                answerText(of: $0, before: stageIndex)
            }
            guard !shown.texts.isEmpty else { return .result(.skipped("no answers to synthesize")) }
            context.answersToScore = shown.texts
            return makeTicket(
                node, index, stage: stage, kind: .synthesize, context: context, format: JSONSchemas.synthesis,
                replyKind: .synthesis, labels: shown.members)

        case .verifyPlan(let by):
            guard case .verify(let options) = stage.stage else { return mismatch }
            let text = by == "arbiter" ? draftText(before: stageIndex) : answerText(of: by, before: stageIndex)
            guard let text else { return .result(.skipped("no draft to verify")) }
            context.draft = text
            context.questionCount = options.questions
            return makeTicket(
                node, index, stage: stage, kind: .verifyPlan, context: context,
                format: JSONSchemas.verificationQuestions,
                replyKind: .verificationQuestions)

        case .verifyAnswer(let by, let question):
            guard case .verify = stage.stage else { return mismatch }
            guard let plan = planResult(by: by, stageIndex: stageIndex), let questions = plan.questions,
                question < questions.count
            else { return .result(.skipped("no verification question \(question + 1)")) }
            // Factored CoVe: a fresh context with the question only, never the draft.
            context = PromptContext(prompt: prompt, extraContext: extraContext, question: questions[question])
            return makeTicket(node, index, stage: stage, kind: .verifyAnswer, context: context)

        case .verifyRevise(let by):
            guard case .verify = stage.stage else { return mismatch }
            guard let plan = planResult(by: by, stageIndex: stageIndex), let questions = plan.questions,
                let planned = plan.text
            else { return .result(.skipped("verification was not planned")) }
            // The plan found nothing to check: the draft stands as it is, verified by no question.
            guard !questions.isEmpty else { return .result(.skipped("nothing to verify")) }
            context.draft = planned
            context.questions = questions
            context.verificationAnswers = verificationAnswers(by: by, stageIndex: stageIndex, questions: questions)
            return makeTicket(node, index, stage: stage, kind: .verifyRevise, context: context)

        case .vote, .close:
            // Answered above when the stage matches; a mismatched one is skipped like any other kind.
            return mismatch
        }
    }

    /// The vote over the active voters' answers: the current one, or with `over: all-rounds` every
    /// answer each gave in earlier rounds too (answers of a round are recorded in its history when it closes).
    private func countVote(voters: [String], options: VoteStage, stageIndex: Int) -> (VoteResult, String?) {
        var ballots: [(voter: String, text: String)] = []
        for voter in voters where isActive(voter) {
            if options.over == .all {
                // Earlier rounds from the history, this step's answer only if it gave one (no double count).
                for past in history[voter] ?? [] { ballots.append((voter, past.answer)) }
                if let text = section?.latestText(of: voter, before: stageIndex)?.text { ballots.append((voter, text)) }
            } else if let text = answerText(of: voter, before: stageIndex) {
                ballots.append((voter, text))
            }
        }
        let counted = VoteResult.count(ballots, options: options, round: section?.round ?? 0, seed: configuration.seed)
        return (counted.result, counted.winnerText)
    }

    /// Renders the prompt and builds the ticket for `node`'s participant at its current model.
    private func makeTicket(
        _ node: GraphNode, _ index: Int, stage: GraphStage, kind: PromptKind, context: PromptContext,
        format: ResponseFormat? = nil, replyKind: ReplyKind? = nil, shown: (label: String, member: String)? = nil,
        labels: [String: String] = [:], reviews: ReceivedReviews? = nil
    ) -> Prepared {
        guard let participant = participants[node.participant], let run = section else {
            return .result(.skipped("unknown participant"))
        }
        let common = stage.stage.common ?? StageCommon()
        let renderer: PromptRenderer
        if let cached = renderers[stage.index] {
            renderer = cached
        } else {
            renderer = PromptRenderer(overrides: common.prompt, variables: workflow.variables)
            renderers[stage.index] = renderer
        }
        let model = participant.models[participant.modelIndex]
        let request = ModelRequest(
            model: model, system: participant.system ?? workflow.system, messages: [],
            params: participant.params.merged(with: common.params), responseFormat: format,
            timeoutSeconds: common.timeoutSeconds ?? workflow.limits.timeoutSeconds)
        let pending = PendingPrompt(renderer: renderer, kind: kind, context: context, reviews: reviews)
        let pricing = participant.prices[participant.modelIndex]
        let plan = CallPlan(
            runID: configuration.runID, participationChanges: participationChanges, node: node, nodeIndex: index,
            participant: node.participant, round: run.round, stageIndex: stage.index, promptKind: kind, shown: shown,
            labels: labels, replyKind: replyKind, draft: context.draft,
            estimate: estimateCost(request, node: node, stage: stage.stage, prompt: pending, pricing: pricing),
            pricing: pricing, pricedModelIndex: participant.modelIndex)
        return .call(
            CallTicket(plan: plan, request: request, pendingPrompt: pending, modelIndex: participant.modelIndex))
    }

    /// The viewer's labels for every other member, shuffled with the run's seed (stable per round).
    func labels(for viewer: String) -> [String: String] {
        if let cached = labelCache[viewer] { return cached }
        var others = memberIDs.filter { $0 != viewer }
        var generator = SeededGenerator(seed: configuration.seed, salt: "labels|\(section?.round ?? 0)|\(viewer)")
        others.shuffle(using: &generator)
        var map: [String: String] = [:]
        map.reserveCapacity(others.count)
        for (index, member) in others.enumerated() {
            let label = Self.labelName(index)
            map[member] = label
            anonymization.append(
                AnonymizationEntry(round: section?.round ?? 0, viewer: viewer, label: label, memberID: member))
        }
        labelCache[viewer] = map
        return map
    }

    /// What a reviewer sees each answer labelled with: its shuffled labels, or with `anonymize: false`
    /// the model id that wrote each answer (with the member id where two members share a model).
    private func reviewLabels(for reviewer: String, anonymize: Bool, before stageIndex: Int) -> [String: String] {
        if anonymize { return labels(for: reviewer) }
        let authors = memberIDs.filter { $0 != reviewer }.compactMap { member -> (String, String)? in
            let model =
                section?.latestText(of: member, before: stageIndex)?.model ?? answers[member]?.model
                ?? participants[member].map { $0.models[$0.modelIndex] }
            return model.map { (member, $0.description) }
        }
        var uses: [String: Int] = [:]
        for (_, model) in authors { uses[model, default: 0] += 1 }
        return Dictionary(
            uniqueKeysWithValues: authors.map { member, model in
                (member, uses[model, default: 0] > 1 ? "\(model) (\(member))" : model)
            })
    }

    /// A, B, ..., Z, AA, AB, ...
    static func labelName(_ index: Int) -> String {
        if index < 26 { return singleLetters[index] }
        var index = index
        var name = ""
        repeat {
            name.insert(Character(Unicode.Scalar(UInt8(ascii: "A") + UInt8(index % 26))), at: name.startIndex)
            index = index / 26 - 1
        } while index >= 0
        return name
    }

    private static let singleLetters = (0..<26).map { String(Character(Unicode.Scalar(UInt8(ascii: "A") + UInt8($0)))) }

    /// `members`' texts under the viewer's labels (or `labels`, when given), in label order.
    private func labelled(
        for viewer: String, members: [String], labels given: [String: String]? = nil, text: (String) -> String?
    ) -> (texts: [LabeledText], members: [String: String]) {
        let labels = given ?? labels(for: viewer)
        var shown: [(label: String, text: String, member: String)] = []
        for member in members {
            guard let body = text(member), let label = labels[member] else { continue }
            shown.append((label, body, member))
        }
        shown.sort { ($0.label.count, $0.label) < ($1.label.count, $1.label) }
        return (
            shown.map { LabeledText(label: $0.label, text: $0.text) },
            Dictionary(uniqueKeysWithValues: shown.map { ($0.label, $0.member) })
        )
    }

    /// `member`'s answer as of the stages before `stageIndex` of this step.
    func answerText(of member: String, before stageIndex: Int) -> String? {
        section?.latestText(of: member, before: stageIndex)?.text ?? answers[member]?.text
    }

    /// The current draft: the latest arbiter text (synthesis, refinement, verified revision) or
    /// the first active member's latest answer, whichever came later in the chain.
    func draftText(before stageIndex: Int) -> String? {
        latestDraft(before: stageIndex)?.text
    }

    /// ``draftText(before:)`` with who wrote it (`nil` only for a draft of unknown origin).
    func latestDraft(before stageIndex: Int) -> (text: String, source: AnswerSource?)? {
        let first = memberIDs.first { isActive($0) } ?? memberIDs[0]
        func source(_ participant: String, _ model: ModelRef?) -> AnswerSource? {
            model.map { AnswerSource(participant: participant, model: $0) }
        }
        let arbiter = section?.latestText(of: "arbiter", before: stageIndex)
        let member = section?.latestText(of: first, before: stageIndex)
        switch (arbiter, member) {
        case (let a?, let m?):
            return a.stage > m.stage ? (a.text, source("arbiter", a.model)) : (m.text, source(first, m.model))
        case (let a?, nil): return (a.text, source("arbiter", a.model))
        case (nil, let m?): return (m.text, source(first, m.model))
        case (nil, nil):
            if let draft { return (draft, draftSource) }
            return answers[first].map { ($0.text, AnswerSource(participant: first, model: $0.model)) }
        }
    }

    private func planResult(by: String, stageIndex: Int) -> NodeResult? {
        guard let run = section else { return nil }
        for (index, node) in run.nodes.enumerated() where run.stageIndexOf[index] == stageIndex {
            if case .verifyPlan(let planner) = node.kind, planner == by { return run.results[index] }
        }
        return nil
    }

    private func verificationAnswers(by: String, stageIndex: Int, questions: [String]) -> [QuestionAnswer] {
        guard let run = section else { return [] }
        var found: [Int: String] = [:]
        for (index, node) in run.nodes.enumerated() where run.stageIndexOf[index] == stageIndex {
            if case .verifyAnswer(let verifier, let question) = node.kind, verifier == by,
                let text = run.results[index]?.text
            {
                found[question] = text
            }
        }
        return questions.indices.compactMap { index in
            found[index].map { QuestionAnswer(question: questions[index], answer: $0) }
        }
    }
}
