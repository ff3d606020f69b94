// The run's result: status and the signal that stopped it, winner, the selected answer, totals.

import RefineryCompiler
import RefinerySyntax

extension RunExecutor {
    func makeOutcome() -> RunOutcome {
        let (status, stoppedBy) = statusAndSignal()
        let memberAnswers = memberAnswers()
        let winner = pickWinner()
        let selected = select(winner: winner, status: status)
        // In member order, not the order the failures came in: the same run says the same.
        let dropped = memberIDs.filter { participants[$0]?.droppedForRun == true }
        let unscored = unscoredReviews.count
        let droppedForRound = rounds.contains { !$0.droppedMembers.isEmpty }
        var reasons: [String] = []
        if !dropped.isEmpty {
            // A member's later calls wait for its answer (see `ExecutionGraph`): the calls not made are the same
            // every run, never a race between its failure and its reviews.
            let named = dropped.map { member in
                callsNotMade[member].map { "\(member) (\(Counted.text($0, "later call")) not made)" } ?? member
            }
            reasons.append("dropped for the run: \(named.joined(separator: ", "))")
        }
        if droppedForRound, dropped.isEmpty { reasons.append("a member was dropped for a round") }
        if failedCalls > 0 { reasons.append("\(Counted.text(failedCalls, "call")) failed") }
        if unscored > 0 {
            let shown = unscoredReviews.prefix(3).joined(separator: "; ")
            let more = unscored > 3 ? "; and \(unscored - 3) more" : ""
            reasons.append("\(Counted.text(unscored, "review")) unreadable, recorded as unscored (\(shown)\(more))")
        }
        if arbiterFallbackUsed { reasons.append("the arbiter's primary model failed; a fallback model answered") }
        reasons += degradations
        reasons += ModelReply.Cut.allCases.compactMap(cutDescription)
        if let budget = workflow.limits.budgetUSD, costUSD > budget * (1 + 1e-9) {
            // Said whatever stopped the run: a budget stop's message names what was spent when it stopped.
            reasons.append(
                "the run spent $\(DollarText.plain(costUSD)), past its $\(DollarText.plain(budget)) budget: a call "
                    + "made alone was billed more than its estimate; set max_tokens to cap each call")
        }
        if let selected, selected.degraded, !Self.stoppedEarly(status) {
            // The answer shown is not what `output` selects (a vote without a winner, no scores, no synthesis):
            // said here, or coverage would call a stand-in answer whole.
            let why = lastVote.map { $0.winner == nil } == true ? "the vote had no winner" : "it was never produced"
            reasons.append(
                "`output: \(workflow.output.rawValue)` has no answer (\(why)); the answer shown is the best one so far")
        }
        if let selected, selected.degraded, let why = Self.earlyStop(status, stopReason) {
            // A run that stopped before its chain was done shows a partial answer: coverage says so whatever
            // stopped it, or a budget stop with one member of three answered would read as whole.
            reasons.append("\(why): the answer is the best one so far")
        }
        if selected == nil, let why = Self.earlyStop(status, stopReason) {
            // Nothing answered at all (`--budget 0`, Ctrl-C during the first calls): coverage says so, or a run
            // with no answer would read as whole (`degraded: false`, no reason).
            reasons.append("\(why) before any answer")
        }
        let coverage = Coverage(
            membersAnswered: memberIDs.filter { participants[$0]?.droppedForRun == false && answers[$0] != nil }.count,
            reviewsReceived: lastScores.mapValues(\.count), arbiterFallbackUsed: arbiterFallbackUsed,
            degraded: !reasons.isEmpty, droppedMembers: dropped, unscoredReviews: unscored, reasons: reasons)
        var outcome = RunOutcome(
            runID: configuration.runID, workflow: workflow.name, status: status, stoppedBy: stoppedBy, winner: winner,
            finalAnswer: selected?.answer, selected: selected, answers: memberAnswers, synthesis: synthesis,
            draft: draft, finalRound: graph.round == nil ? 0 : rounds.last { $0.phase == .round }?.round ?? 0,
            strategy: workflow.convergence.strategy.name, rounds: rounds, usage: usage, costUSD: costUSD,
            totalCalls: totalCalls, elapsedMs: clock.elapsed().milliseconds, coverage: coverage,
            anonymizationMap: sortedAnonymization())
        outcome.vote = lastVote
        return outcome
    }

    /// The replies used although the provider said they were cut (at their output cap, `max_tokens`, so their
    /// text may end mid-sentence; by its safety filter, so it may be partial or a refusal): how many, and the
    /// first few by participant and round.
    private func cutDescription(_ cut: ModelReply.Cut) -> String? {
        guard let replies = cutReplies[cut], !replies.isEmpty else { return nil }
        let shown = replies.prefix(3).joined(separator: ", ")
        let more = replies.count > 3 ? " and \(replies.count - 3) more" : ""
        switch cut {
        case .outputCap:
            return "\(replies.count) reply(ies) stopped at the output cap and may be cut short (\(shown)\(more)); "
                + "raise max_tokens"
        case .safetyFilter:
            return "\(replies.count) reply(ies) were stopped by the provider's safety filter and may be partial or "
                + "a refusal (\(shown)\(more)); rephrase the prompt or use another model"
        }
    }

    /// What `output` selects, with who produced it. When it was never produced, the next best text the
    /// run has (winner, synthesis, draft, then a member's answer), marked degraded; so is any answer of a
    /// run that stopped early. Only a participant that produced the text is ever named.
    private func select(winner: Winner?, status: RunStatus) -> Winner? {
        // Each candidate is worked out only when asked for: the intended one is nearly always there.
        func fromSynthesis() -> Winner? {
            synthesis.flatMap { synthesis in synthesisSource.map { provenance($0, text: synthesis.synthesis) } }
        }
        func fromDraft() -> Winner? { draft.flatMap { draft in draftSource.map { provenance($0, text: draft) } } }
        func fromMember() -> Winner? {
            (memberIDs.filter { isActive($0) } + memberIDs).lazy.compactMap { id in
                self.answers[id].map { self.provenance(AnswerSource(participant: id, model: $0.model), text: $0.text) }
            }.first
        }
        let intended: Winner? =
            switch workflow.output {
            case .winner: winner
            case .synthesis: fromSynthesis()
            case .draft: fromDraft()
            }
        let stoppedEarly = Self.stoppedEarly(status)
        // A lone member has no peers to score it: its answer is the winner intended.
        if var chosen = intended ?? (memberIDs.count == 1 && workflow.output == .winner ? fromMember() : nil) {
            chosen.degraded = stoppedEarly
            return chosen
        }
        let fallbacks: [() -> Winner?] =
            switch workflow.output {
            case .winner: [fromSynthesis, fromDraft, fromMember]
            case .synthesis: [{ winner }, fromDraft, fromMember]
            case .draft: [fromSynthesis, { winner }, fromMember]
            }
        guard var best = fallbacks.lazy.compactMap({ $0() }).first else { return nil }
        best.degraded = true
        return best
    }

    /// Whether a run that ended with `status` stopped before its chain was done (any answer is then partial).
    private static func stoppedEarly(_ status: RunStatus) -> Bool {
        earlyStop(status, nil) != nil
    }

    /// What stopped a run that ended with `status` before its chain was done, or `nil` when it was not.
    private static func earlyStop(_ status: RunStatus, _ reason: StopReason?) -> String? {
        switch status {
        case .converged, .maxRounds, .singleModel: nil
        case .insufficientModels:
            if case .arbiterFailed = reason { "the arbiter failed" } else { "below quorum" }
        case .budgetExhausted: "the budget stopped the run"
        case .cancelled: "the run was cancelled"
        case .failed: "the run failed"
        }
    }

    /// `text` as produced by `source`, naming the configured model when a fallback produced it.
    private func provenance(_ source: AnswerSource, text: String) -> Winner {
        Winner(
            memberID: source.participant, model: source.model, answer: text,
            meanScore: lastScores[source.participant]?.mean,
            fallbackFrom: fallbackFrom(source.participant, served: source.model))
    }

    /// `participant`'s configured model when `model`, which served it, is a fallback; `nil` when it is its own.
    func fallbackFrom(_ participant: String, served model: ModelRef) -> ModelRef? {
        participants[participant]?.models.first.flatMap { $0 == model ? nil : $0 }
    }

    /// The anonymization map in (round, viewer, label) order. A viewer's labels are recorded all at once
    /// and in label order, so the viewers' groups are sorted rather than every entry (N² a round); the
    /// result is checked, and any other recording order falls back to sorting the entries.
    private func sortedAnonymization() -> [AnonymizationEntry] {
        func key(_ entry: AnonymizationEntry) -> (Int, String, Int, String) {
            (entry.round, entry.viewer, entry.label.count, entry.label)
        }
        let entries = anonymization
        var groups: [Range<Int>] = []
        var start = 0
        for index in entries.indices.dropFirst()
        where entries[index].round != entries[index - 1].round || entries[index].viewer != entries[index - 1].viewer {
            groups.append(start..<index)
            start = index
        }
        if !entries.isEmpty { groups.append(start..<entries.count) }
        groups.sort {
            (entries[$0.lowerBound].round, entries[$0.lowerBound].viewer)
                < (entries[$1.lowerBound].round, entries[$1.lowerBound].viewer)
        }
        let grouped = groups.flatMap { entries[$0] }
        let inOrder = zip(grouped, grouped.dropFirst()).allSatisfy { !(key($1) < key($0)) }
        return inOrder ? grouped : entries.sorted { key($0) < key($1) }
    }

    private func statusAndSignal() -> (RunStatus, String) {
        switch stopReason {
        case .cancelled: return (.cancelled, "cancelled")
        case .budget(let signal): return (.budgetExhausted, signal)
        case .quorum(let signal), .arbiterFailed(let signal): return (.insufficientModels, signal)
        case .failed(let signal): return (.failed, signal)
        case nil: break
        }
        if graph.round == nil { return (.converged, "single-pass: the workflow has no repeat block") }
        if let decision = lastDecision, decision.converged { return (.converged, decision.signal) }
        if memberIDs.count == 1, workflow.convergence.strategy.needsPeerScores {
            return (.singleModel, "single model: one member has no peers to score it")
        }
        let ran = rounds.last { $0.phase == .round }?.round ?? 0
        let signal =
            lastDecision?.signal ?? "max-rounds: \(ran) of \(Counted.text(workflow.iterations.max, "round")) ran"
        return (.maxRounds, signal)
    }

    /// The last vote's winner when the workflow votes; else the last scored round's ``RoundLeader``
    /// (ties keep the judge's last leader, then member order).
    private func pickWinner() -> Winner? {
        if let vote = lastVote {
            guard let id = vote.winnerMember, let text = lastVoteWinnerText, let model = answers[id]?.model else {
                return nil
            }
            var winner = provenance(AnswerSource(participant: id, model: model), text: text)
            winner.meanScore = lastScores[id]?.mean
            return winner
        }
        guard
            let leader = RoundLeader.pick(
                meanScores: lastScores.mapValues(\.mean), order: memberIDs, previous: lastDecision?.leader),
            let answer = answers[leader.id]
        else { return nil }
        var winner = provenance(AnswerSource(participant: leader.id, model: answer.model), text: answer.text)
        winner.meanScore = leader.mean
        return winner
    }

    func emitRunFinished() {
        emit?(.runFinished(makeOutcome()))
    }
}

extension ConvergenceStrategy {
    /// Whether the strategy decides on scores members give each other (so one member can never converge).
    fileprivate var needsPeerScores: Bool {
        switch self {
        case .voteThreshold, .unanimous: true
        case .confidence, .semantic, .agreement, .none: false
        }
    }
}
