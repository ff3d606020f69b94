// Steps of a run: which section runs next, node readiness, and what a finished step leaves behind
// (answers, history, scores, the close decision, quorum).

import Foundation
import RefineryCompiler
import RefinerySyntax

extension RunExecutor {
    /// Sets up the next step; `false` when the run is over.
    func beginNextSection() -> Bool {
        var next: (GraphSection, Int, RoundPhase)?
        if case .notStarted(let skipRounds) = lifecycle {
            enter(skipRounds ? .repeatEnded : .rounds)
            if !graph.prelude.nodes.isEmpty { next = (graph.prelude, 0, .prelude) }
        }
        if next == nil, stopReason == nil, lifecycle == .rounds, let round = graph.round {
            if currentRound < workflow.iterations.max {
                currentRound += 1
                next = (round, currentRound, .round)
            } else {
                enter(lifecycle.endingRepeat)
            }
        }
        if next == nil, stopReason == nil, lifecycle == .rounds || lifecycle == .repeatEnded {
            enter(.epilogue)
            if !graph.epilogue.nodes.isEmpty { next = (graph.epilogue, currentRound + 1, .epilogue) }
        }
        guard let (graphSection, round, phase) = next else {
            enter(.finished)
            return false
        }
        // Labels are shuffled per round; the table keeps its room (refilled with as many viewers).
        labelCache.removeAll(keepingCapacity: true)
        let run = SectionRun(round: round, phase: phase, layout: graphSection.layout)
        run.droppedNames = droppedBetweenSteps
        droppedBetweenSteps = []
        section = run
        emit?(
            .roundStarted(
                RoundStartedEvent(
                    round: round, phase: phase, plannedCalls: graphSection.callCount)))
        activate(run.initiallyReady)
        return true
    }

    /// Prepares nodes whose dependencies are done: each becomes a queued call or finishes at once.
    private func activate(_ nodes: [Int]) {
        var work = nodes
        var next = 0
        while next < work.count {
            let index = work[next]
            next += 1
            switch prepare(index) {
            case .call(let ticket):
                enqueue(ticket)
            case .result(let result):
                work += finish(index, result)
            }
        }
    }

    /// Records a node's result and prepares the nodes it unblocked.
    func complete(_ node: Int, _ result: NodeResult) {
        activate(finish(node, result))
    }

    private func finish(_ node: Int, _ result: NodeResult) -> [Int] {
        guard let run = section, run.results.indices.contains(node), run.results[node] == nil else { return [] }
        run.results[node] = result
        run.unfinished -= 1
        var ready: [Int] = []
        for dependent in run.dependents(of: node) {
            run.pendingDependencies[dependent] -= 1
            if run.pendingDependencies[dependent] == 0 { ready.append(dependent) }
        }
        return ready
    }

    /// Closes the current step: carries answers over, applies quorum and the close decision.
    func finishSection() async -> RoundResult? {
        guard let run = section else { return nil }
        // Nodes never reached (run stopped) count as skipped.
        for index in run.results.indices where run.results[index] == nil {
            run.results[index] = .skipped("not started")
        }
        // Reviews in member order, not arrival order, so the step's results are deterministic.
        // The positions are looked up once per review, not per comparison (N² reviews a step).
        let order = participantOrder
        let keyed = run.reviews.enumerated().map { index, review in
            (reviewer: order[review.reviewer] ?? 0, target: order[review.target] ?? 0, index: index)
        }
        let permutation = keyed.sorted { ($0.reviewer, $0.target, $0.index) < ($1.reviewer, $1.target, $1.index) }
            .map(\.index)
        Self.permute(&run.reviews, by: permutation)
        // Positions of each member's scored reviews, in that order.
        var scoredByTarget: [String: [Int]] = [:]
        for (index, review) in run.reviews.enumerated() where review.score != nil {
            scoredByTarget[review.target, default: []].append(index)
        }
        for member in memberIDs {
            if let latest = run.latestText(of: member, before: Int.max),
                let model = latest.model ?? participants[member].map({ $0.models[$0.modelIndex] })
            {
                answers[member] = (latest.text, model)
            }
        }
        let previousDraft = draft
        let latest = latestDraft(before: Int.max)
        draft = latest?.text
        if let source = latest?.source { draftSource = source }
        if let taken = run.vote {
            lastVote = taken
            lastVoteWinnerText = run.voteWinnerText
        }
        if let produced = run.synthesis {
            synthesis = produced
            if let by = run.synthesisBy, let model = run.synthesisModel {
                synthesisSource = AnswerSource(participant: by, model: model)
            }
        }

        // Scores of this step.
        let sorted = run.reviews
        let scores = scoredByTarget.mapValues { positions in
            (
                mean: positions.reduce(0) { $0 + (sorted[$1].score ?? 0) } / Double(positions.count),
                count: positions.count
            )
        }
        if !scores.isEmpty { lastScores = scores }
        if run.phase != .epilogue {
            for member in memberIDs where isActive(member) {
                guard let answer = answers[member]?.text else { continue }
                history[member, default: []].append(
                    PastAnswer(
                        round: run.round, answer: answer, reviews: sorted, positions: scoredByTarget[member] ?? []))
            }
        }

        // Quorum.
        let answered = memberIDs.filter { isActive($0) && answers[$0] != nil }
        let quorum = min(workflow.limits.quorum, memberIDs.count)
        let hasMemberNodes = run.layout.callParticipants.contains(where: memberIDSet.contains)
        if stopReason == nil, hasMemberNodes, answered.count < quorum {
            stopReason = .quorum(quorumMessage(round: run.round, active: answered, quorum: quorum))
        }

        var decision: RoundDecision?
        if run.phase == .round, stopReason == nil {
            if run.hasClose {
                let round = run.round
                let closeNode = run.layout.nodes.first { $0.kind == .close }?.id ?? "close"
                var signals = RoundSignals(
                    round: run.round, meanScores: scores.mapValues(\.mean),
                    answers: Dictionary(
                        uniqueKeysWithValues: answered.compactMap { id in answers[id].map { (id, $0.text) } }),
                    synthesis: run.synthesis, vote: run.vote, draft: draft, previousDraft: previousDraft,
                    activeMembers: answered)
                let recorded = await replayedEmbeddings(round: round, closeNode: closeNode)
                signals.embeddings = recorded.merging(previousRecordedEmbeddings) { current, _ in current }
                previousRecordedEmbeddings = recorded
                let made = await judge.close(signals) { texts, model in
                    try await self.embed(texts, model: model, round: round, closeNode: closeNode)
                }
                if let rollback = made.rolledBackTo { draft = rollback }
                decision = made
                lastDecision = made
                emit?(.decision(DecisionEvent(round: run.round, decision: made)))
                if made.shouldStop { enter(lifecycle.endingRepeat) }
            }
            if run.round >= workflow.iterations.max { enter(lifecycle.endingRepeat) }
        }

        let result = RoundResult(
            round: run.round, phase: run.phase, answers: memberAnswers(), reviews: run.reviews,
            synthesis: run.synthesis, draft: draft, vote: run.vote, decision: decision,
            droppedMembers: run.droppedNames,
            calls: run.calls, usage: run.usage, costUSD: run.costUSD)
        rounds.append(result)
        unscoredReviews += run.unscored
        section = nil
        emit?(.roundFinished(result))
        let lastSection = lifecycle == .epilogue || (lifecycle == .repeatEnded && graph.epilogue.nodes.isEmpty)
        if stopReason != nil || lastSection { enter(.finished) }
        return result
    }

    /// Reorders `items` in place so that `items[i]` is the old `items[order[i]]`. Elements are
    /// swapped (moved), never copied: copying N² reviews, each a handful of reference counts on
    /// objects spread over the heap, was most of the time a round took to close.
    static func permute<Element>(_ items: inout [Element], by order: [Int]) {
        var placed = [Bool](repeating: false, count: items.count)
        for start in items.indices where !placed[start] {
            var current = start
            while true {
                placed[current] = true
                let next = order[current]
                if next == start { break }
                items.swapAt(current, next)
                current = next
            }
        }
    }

    /// Whether `member` still takes part in the current step.
    func isActive(_ member: String) -> Bool {
        guard let participant = participants[member], !participant.droppedForRun else { return false }
        // Nobody is dropped for the round in nearly every step: no second string hashed.
        guard let dropped = section?.droppedThisRound, !dropped.isEmpty else { return true }
        return !dropped.contains(member)
    }

    func memberAnswers() -> [MemberAnswer] {
        memberIDs.compactMap { id in
            guard let answer = answers[id] else { return nil }
            let scores = lastScores[id]
            return MemberAnswer(
                memberID: id, model: answer.model, answer: answer.text, meanScore: scores?.mean,
                scoresReceived: scores?.count ?? 0, fallbackFrom: fallbackFrom(id, served: answer.model))
        }
    }

    /// A review as its target sees it in its history: no reviewer name.
    static func describe(_ review: Review) -> String {
        var parts = ["\(review.score.map(oneDecimal) ?? "-")/10: \(review.rationale)"]
        if !review.weaknesses.isEmpty { parts.append("Weaknesses: " + review.weaknesses.joined(separator: "; ")) }
        if !review.suggestions.isEmpty { parts.append("Suggestions: " + review.suggestions.joined(separator: "; ")) }
        return parts.joined(separator: " ")
    }

    /// `%.1f` of `value`; whole scores (the usual case) without going through Foundation's formatter.
    static func oneDecimal(_ value: Double) -> String {
        // -0.0 stays with the formatter, which keeps its sign.
        if value == value.rounded(), abs(value) < 1e15, value != 0 || value.sign == .plus {
            return "\(Int(value)).0"
        }
        return String(format: "%.1f", value)
    }
}

extension RunExecutor {
    /// Where step `round` of the step running falls, as users count rounds: ``ExecutionGraph/place(round:in:)``.
    func place(round: Int) -> String? {
        graph.place(round: round, in: (section?.phase ?? .round).sectionKind)
    }

    /// ``place(round:)`` after a comma (`, round 2`), or nothing.
    func placeSuffix(round: Int) -> String { place(round: round).map { ", \($0)" } ?? "" }

    /// Why a round fell short of its quorum, in the terms the JSON output uses: the members that
    /// answered, those still in the run, and the provider's error (shortened) for each one missing.
    func quorumMessage(round: Int, active: [String], quorum: Int) -> String {
        let answered = memberIDs.filter { answers[$0] != nil }
        let step = place(round: round)
        let when = step.map { section?.phase == .round ? " in \($0)" : " \($0)" } ?? ""
        var message =
            answered.count > active.count
            ? "quorum: \(Counted.text(answered.count, "member")) answered\(when) but only \(active.count) remain "
                + "\(step == nil ? "" : "in it ")(the others were dropped since), \(quorum) required"
            : "quorum: \(Counted.text(active.count, "member")) answered\(when), \(quorum) required"
        let reasons = memberIDs.filter { !active.contains($0) }.compactMap { member in
            dropReasons[member].map { "\(member): \(Self.shortened($0))" }
        }
        if !reasons.isEmpty { message += "; " + reasons.joined(separator: "; ") }
        return message
    }

    /// A provider's error on one line, at most 160 characters. A short ending after the message's last `; ` is
    /// what to do (`…; check that the server is running and the base URL`): kept whole, the text before it
    /// shortened. Otherwise the end is cut: a message that says what happened and what to do first (a wait
    /// beyond the timeout) and the provider's own words last loses those.
    static func shortened(_ reason: String) -> String {
        let line = reason.split(whereSeparator: \.isNewline).joined(separator: " ")
        guard line.count > 160 else { return line }
        if let cut = line.range(of: "; ", options: .backwards), line[cut.upperBound...].count <= 80 {
            let advice = line[cut.upperBound...]
            return String(line[..<cut.lowerBound].prefix(160 - advice.count - 3)) + "…; " + advice
        }
        return String(line.prefix(159)) + "…"
    }
}
