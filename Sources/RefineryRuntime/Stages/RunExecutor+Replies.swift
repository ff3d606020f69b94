// Reading a reply into the step's state. A structured reply that cannot be read is re-asked once
// with the parser's format reminder; after that a review is recorded as unscored (never a silent 0)
// and any other call as failed. A text reply that is empty or only a placeholder is no answer at all.

import RefineryCompiler

/// What to do with a reply.
enum AppliedReply {
    case done(NodeResult)
    case retryWithReminder(ReplyKind)
    /// Still unreadable after the reminder: the call failed, and the run says why.
    case unreadable(String)
    /// No answer at all (empty, a placeholder): handled like a provider's empty reply.
    case invalid(ProviderError)
}

extension RunExecutor {
    /// `evaluation`: the reply already parsed as a review, when the child task did it.
    func applyReply(
        _ reply: ModelReply, to ticket: CallTicket, evaluation: Result<Evaluation, ReplyParseError>? = nil
    ) -> AppliedReply {
        let model = ticket.request.model
        switch ticket.node.kind {
        case .propose, .verifyAnswer, .verifyRevise:
            return answer(reply, model: model)

        case .evaluate(let reviewer, let target):
            let label = ticket.plan.shown?.label ?? ""
            switch evaluation ?? ReplyParser.evaluation(from: reply.text) {
            case .success(let evaluation):
                addReview(reviewer: reviewer, target: target, label: label, evaluation)
            case .failure(let error):
                if !ticket.reminder { return .retryWithReminder(.evaluation) }
                addReview(reviewer: reviewer, target: target, label: label, nil, unread: error.message)
            }
            return .done(NodeResult())

        case .evaluateBatch(let reviewer, _):
            let labels = ticket.labels.keys.sorted { ($0.count, $0) < ($1.count, $1) }
            let batch: BatchedEvaluations
            switch ReplyParser.batchedEvaluations(from: reply.text, labels: labels) {
            case .success(let read) where read.unread.isEmpty || ticket.reminder:
                // After the reminder, the labels the reply scored keep their scores; only the others are unscored.
                batch = read
            case .failure(let error) where ticket.reminder:
                batch = BatchedEvaluations(unread: Dictionary(uniqueKeysWithValues: labels.map { ($0, error.message) }))
            case .success, .failure:
                return .retryWithReminder(.batchedEvaluation(labels: labels))
            }
            for label in labels {
                guard let target = ticket.labels[label] else { continue }
                addReview(
                    reviewer: reviewer, target: target, label: label, batch.evaluations[label],
                    unread: batch.unread[label])
            }
            return .done(NodeResult())

        case .refine:
            guard ticket.promptKind == .critiqueRevise else { return answer(reply, model: model) }
            switch ReplyParser.critiqueRevise(from: reply.text) {
            case .success(let parsed):
                return .done(NodeResult(text: parsed.revised, model: model))
            case .failure(let error):
                if !ticket.reminder { return .retryWithReminder(.critiqueRevise) }
                return .unreadable("unreadable refinement: \(error.message)")
            }

        case .synthesize(let by):
            switch ReplyParser.synthesis(from: reply.text) {
            case .success(var parsed):
                let labels = ticket.labels
                parsed.rankedMembers = parsed.ranking.compactMap { labels[$0] }
                // `by: members`: keep the most confident synthesis; on ties, the earlier member's.
                let rank = memberIDs.firstIndex(of: by) ?? -1
                if let current = section?.synthesis, let currentBy = section?.synthesisBy, by != "arbiter" {
                    let currentRank = memberIDs.firstIndex(of: currentBy) ?? -1
                    if (parsed.confidence, -rank) > (current.confidence, -currentRank) {
                        section?.synthesis = parsed
                        section?.synthesisBy = by
                        section?.synthesisModel = model
                    }
                } else {
                    section?.synthesis = parsed
                    section?.synthesisBy = by
                    section?.synthesisModel = model
                }
                return .done(NodeResult(synthesis: parsed, model: model))
            case .failure(let error):
                if !ticket.reminder { return .retryWithReminder(.synthesis) }
                return .unreadable("unreadable synthesis: \(error.message)")
            }

        case .verifyPlan(_):
            let count =
                (section?.stages.first { $0.index == ticket.stageIndex }).flatMap { stage -> Int? in
                    if case .verify(let options) = stage.stage { return options.questions }
                    return nil
                } ?? 3
            switch ReplyParser.verificationQuestions(from: reply.text, max: count) {
            case .success(let questions):
                return .done(NodeResult(text: ticket.draft, questions: questions, model: model))
            case .failure(let error):
                if !ticket.reminder { return .retryWithReminder(.verificationQuestions) }
                return .unreadable("unreadable verification plan: \(error.message)")
            }

        case .vote, .close:
            // Decision nodes are settled in `prepare`; no reply ever reaches them.
            return .done(NodeResult())
        }
    }

    /// A text reply as an answer, unless it holds none.
    private func answer(_ reply: ModelReply, model: ModelRef) -> AppliedReply {
        guard ReplyParser.isPlaceholder(reply.text) else { return .done(NodeResult(text: reply.text, model: model)) }
        let shown = ReplyParser.trimmed(reply.text)
        let what = shown.isEmpty ? "an empty reply" : "only a placeholder (\"\(shown.prefix(20))\")"
        return .invalid(
            ProviderError(
                code: .emptyResponse, message: "the model sent \(what), not an answer", provider: model.provider))
    }

    /// `unread`: why the reply gave no readable evaluation (the review is then unscored, and coverage names it).
    private func addReview(
        reviewer: String, target: String, label: String, _ evaluation: Evaluation?, unread: String? = nil
    ) {
        let review = Review(
            reviewer: reviewer, target: target, label: label, score: evaluation?.score,
            strengths: evaluation?.strengths ?? [], weaknesses: evaluation?.weaknesses ?? [],
            suggestions: evaluation?.suggestions ?? [], rationale: evaluation?.rationale ?? "")
        section?.addReview(review)
        if evaluation == nil, let section {
            section.unscored.append(
                "\(reviewer)'s review of \(target)\(placeSuffix(round: section.round)): \(unread ?? "unreadable")")
        }
    }
}
