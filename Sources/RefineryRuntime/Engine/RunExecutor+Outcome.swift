// The run's result: status and the signal that stopped it, winner, the selected answer, totals.

import RefineryCompiler

extension RunExecutor {
    func makeOutcome() -> RunOutcome {
        let (status, stoppedBy) = statusAndSignal()
        let memberAnswers = memberAnswers()
        let winner = pickWinner()
        let finalAnswer: String?
        switch workflow.output {
        case .winner: finalAnswer = winner?.answer ?? synthesis?.synthesis ?? draft ?? memberAnswers.first?.answer
        case .synthesis: finalAnswer = synthesis?.synthesis ?? winner?.answer ?? draft
        case .draft: finalAnswer = draft ?? synthesis?.synthesis ?? winner?.answer
        }
        let dropped = droppedForRunOrder
        let unscored = unscoredTotal
        let degraded =
            !dropped.isEmpty || unscored > 0 || arbiterFallbackUsed || failedCalls > 0
            || rounds.contains { !$0.droppedMembers.isEmpty }
        let coverage = Coverage(
            membersAnswered: memberIDs.filter { participants[$0]?.droppedForRun == false && answers[$0] != nil }.count,
            reviewsReceived: lastScores.mapValues(\.count), arbiterFallbackUsed: arbiterFallbackUsed,
            degraded: degraded, droppedMembers: dropped, unscoredReviews: unscored)
        var outcome = RunOutcome(
            runID: configuration.runID, workflow: workflow.name, status: status, stoppedBy: stoppedBy, winner: winner,
            finalAnswer: finalAnswer, answers: memberAnswers, synthesis: synthesis, draft: draft,
            finalRound: graph.round == nil ? 0 : rounds.last { $0.phase == .round }?.round ?? 0,
            strategy: workflow.convergence.strategy.name, rounds: rounds, usage: usage, costUSD: costUSD,
            totalCalls: totalCalls, elapsedMs: clock.elapsed().milliseconds, coverage: coverage,
            anonymizationMap: sortedAnonymization())
        outcome.vote = lastVote
        return outcome
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
        case .quorum(let signal): return (.insufficientModels, signal)
        case .failed(let signal): return (.failed, signal)
        case nil: break
        }
        if graph.round == nil { return (.converged, "single-pass: the workflow has no repeat block") }
        if let decision = lastDecision, decision.converged { return (.converged, decision.signal) }
        let ran = rounds.last { $0.phase == .round }?.round ?? 0
        let signal = lastDecision?.signal ?? "max-rounds: \(ran) of \(workflow.iterations.max) rounds ran"
        return (.maxRounds, signal)
    }

    /// The last vote's winner when the workflow votes; else the highest mean score of the last scored
    /// round (ties keep the last leader, then member order).
    private func pickWinner() -> Winner? {
        if let vote = lastVote {
            guard let id = vote.winnerMember, let text = lastVoteWinnerText, let model = answers[id]?.model else {
                return nil
            }
            return Winner(memberID: id, model: model, answer: text, meanScore: lastScores[id]?.mean)
        }
        guard let best = lastScores.values.map(\.mean).max() else { return nil }
        let tied = memberIDs.filter { lastScores[$0]?.mean == best }
        let leader = lastDecision?.leader
        guard let id = tied.first(where: { $0 == leader }) ?? tied.first, let answer = answers[id] else { return nil }
        return Winner(memberID: id, model: answer.model, answer: answer.text, meanScore: best)
    }

    func emitRunFinished() {
        emit?(.runFinished(makeOutcome()))
    }
}
