// Applies the workflow's convergence strategy at each `close` stage. Stateful across rounds: it
// remembers the leader and its streak (vote-threshold and tie-breaking) and the drafts, embedding cache
// and breaker of the semantic cascade. Whatever the strategy: never stop before `iterations.min`,
// always stop at `iterations.max` (converged only if the condition holds there).

package import RefineryCompiler
import RefinerySyntax

/// Decides at each `close` whether the repeat block ends.
package actor ConvergenceJudge {
    /// What a strategy concluded for one round, before the min/max bounds are applied.
    struct Verdict {
        var holds: Bool
        var signal: String
        var rolledBackTo: String? = nil
    }

    let strategy: ConvergenceStrategy
    let iterations: Iterations
    let embedder: (any Embedder)?
    /// Time since the judge was created, read from the injected clock (cache TTL, breaker cooldown).
    let elapsed: @Sendable () -> Duration

    var previousLeader: String?
    var leaderStreak = 0
    var drafts = DraftHistory()
    var cache: EmbeddingCache
    var breaker: CircuitBreaker

    /// Creates a judge for one run.
    package init(
        strategy: ConvergenceStrategy, iterations: Iterations, embedder: (any Embedder)?, clock: any Clock<Duration>
    ) {
        self.strategy = strategy
        self.iterations = iterations
        self.embedder = embedder
        self.elapsed = Self.stopwatch(clock)
        let options: SemanticOptions = if case .semantic(let options) = strategy { options } else { SemanticOptions() }
        cache = EmbeddingCache(capacity: options.cacheSize, ttl: .seconds(options.cacheTTLSeconds))
        breaker = CircuitBreaker(threshold: options.breakerFailures, cooldown: .seconds(options.breakerCooldownSeconds))
    }

    private static func stopwatch<C: Clock<Duration>>(_ clock: C) -> @Sendable () -> Duration {
        let start = clock.now
        return { start.duration(to: clock.now) }
    }

    /// Makes one embedding request for the semantic strategy: under the engine, a call of the run
    /// (``RunExecutor/embed(_:model:round:closeNode:)``); `nil`, the judge's embedder directly.
    package typealias EmbeddingRequest = @Sendable (_ texts: [String], _ model: ModelRef) async throws -> [[Double]]

    /// Decides whether to stop after the round described by `signals`; the semantic strategy's embedding
    /// requests go through `embed` when given.
    package func close(_ signals: RoundSignals, embed: EmbeddingRequest? = nil) async -> RoundDecision {
        let leader = updateLeader(signals)
        let verdict: Verdict
        switch strategy {
        case .voteThreshold(let threshold, let stability):
            verdict = voteThreshold(signals, leader: leader, threshold: threshold, stability: stability)
        case .confidence(let threshold):
            verdict = confidence(signals, threshold: threshold)
        case .unanimous(let threshold):
            verdict = unanimous(signals, threshold: threshold)
        case .agreement(let threshold):
            verdict = agreement(signals, threshold: threshold)
        case .semantic(let options):
            verdict = await semantic(signals, options: options, embed: embed)
        case .none:
            verdict = Verdict(holds: false, signal: "strategy none: runs to max \(iterations.max)")
        }
        return bounded(verdict, round: signals.round, leader: leader?.id)
    }

    /// Applies `iterations.min`/`max` to a strategy's verdict.
    private func bounded(_ verdict: Verdict, round: Int, leader: String?) -> RoundDecision {
        if round < iterations.min {
            let why = verdict.holds ? "condition holds but " : ""
            return RoundDecision(
                shouldStop: false, converged: false,
                signal: "\(verdict.signal); continuing: \(why)round \(round) < min \(iterations.min)",
                leader: leader, rolledBackTo: verdict.rolledBackTo
            )
        }
        if verdict.holds {
            return RoundDecision(
                shouldStop: true, converged: true, signal: verdict.signal, leader: leader,
                rolledBackTo: verdict.rolledBackTo)
        }
        if verdict.rolledBackTo != nil {
            // The draft got worse; more passes from here are unlikely to help (seed 003 stops and reverts).
            return RoundDecision(
                shouldStop: true, converged: false, signal: "\(verdict.signal); stopping with the best draft",
                leader: leader, rolledBackTo: verdict.rolledBackTo)
        }
        if round >= iterations.max {
            return RoundDecision(
                shouldStop: true, converged: false,
                signal:
                    "\(verdict.signal); stopping: reached max \(Counted.text(iterations.max, "round")) without converging",
                leader: leader)
        }
        return RoundDecision(shouldStop: false, converged: false, signal: verdict.signal, leader: leader)
    }

    /// The round's ``RoundLeader`` (ties keep the previous leader, then `activeMembers` order),
    /// Updates the streak.
    private func updateLeader(_ signals: RoundSignals) -> RoundLeader? {
        let order = signals.activeMembers.isEmpty ? signals.meanScores.keys.sorted() : signals.activeMembers
        guard let leader = RoundLeader.pick(meanScores: signals.meanScores, order: order, previous: previousLeader)
        else {
            previousLeader = nil
            leaderStreak = 0
            return nil
        }
        leaderStreak = leader.id == previousLeader ? leaderStreak + 1 : 1
        previousLeader = leader.id
        return leader
    }

    private func voteThreshold(
        _ signals: RoundSignals, leader: RoundLeader?, threshold: Double, stability: Int
    ) -> Verdict {
        guard let leader else {
            return Verdict(holds: false, signal: "vote-threshold: no scores this round")
        }
        let needed = max(1, stability)
        let holds = leader.mean >= threshold && leaderStreak >= needed
        let comparison = leader.mean >= threshold ? "≥" : "<"
        return Verdict(
            holds: holds,
            signal: "vote-threshold: leader \(leader.id) mean \(Self.number(leader.mean)) \(comparison) "
                + "threshold \(Self.number(threshold)), led \(leaderStreak)/\(needed) rounds"
        )
    }

    private func confidence(_ signals: RoundSignals, threshold: Double) -> Verdict {
        guard let synthesis = signals.synthesis else {
            return Verdict(holds: false, signal: "confidence: no synthesis this round")
        }
        let high = synthesis.confidence >= threshold
        return Verdict(
            holds: high && !synthesis.needsIteration,
            signal: "confidence: \(Self.number(synthesis.confidence)) \(high ? "≥" : "<") threshold "
                + "\(Self.number(threshold)), needs_iteration \(synthesis.needsIteration)"
        )
    }

    private func unanimous(_ signals: RoundSignals, threshold: Double) -> Verdict {
        let members = signals.activeMembers.isEmpty ? signals.meanScores.keys.sorted() : signals.activeMembers
        guard !members.isEmpty else { return Verdict(holds: false, signal: "unanimous: no active members") }
        let unscored = members.filter { signals.meanScores[$0] == nil }
        if !unscored.isEmpty {
            return Verdict(
                holds: false, signal: "unanimous: no score for \(unscored.joined(separator: ", "))")
        }
        let below = members.filter { (signals.meanScores[$0] ?? 0) < threshold }
        let lowest = members.compactMap { signals.meanScores[$0] }.min() ?? 0
        if below.isEmpty {
            return Verdict(
                holds: true,
                signal: "unanimous: all \(Counted.text(members.count, "member")) ≥ threshold \(Self.number(threshold)) "
                    + "(lowest \(Self.number(lowest)))")
        }
        return Verdict(
            holds: false,
            signal: "unanimous: \(below.count) of \(members.count) below threshold \(Self.number(threshold)) "
                + "(lowest \(Self.number(lowest)): \(below.joined(separator: ", ")))")
    }

    /// Adaptive self-consistency: the winning answer's share of the votes reaches the threshold.
    private func agreement(_ signals: RoundSignals, threshold: Double) -> Verdict {
        guard let vote = signals.vote else { return Verdict(holds: false, signal: "agreement: no vote this round") }
        guard let winner = vote.winner else {
            let why = vote.distribution.isEmpty ? "nothing could be extracted" : "a tie with no winner"
            return Verdict(holds: false, signal: "agreement: no winning answer (\(why))")
        }
        let votes = vote.distribution.first?.votes ?? 0
        let high = vote.share >= threshold
        return Verdict(
            holds: high,
            signal: "agreement: \(votes) of \(vote.answersCounted) answers say \(Self.quoted(winner)) "
                + "(share \(Self.number(vote.share)) \(high ? "≥" : "<") threshold \(Self.number(threshold)))")
    }

    /// A short quotation of an extracted answer for a signal line.
    private static func quoted(_ text: String) -> String {
        let line = text.prefix { $0 != "\n" }
        return "“" + (line.count > 40 ? line.prefix(39) + "…" : line) + "”"
    }

    /// A number for signals: at most 3 decimals, no trailing zeros.
    static func number(_ value: Double) -> String {
        let rounded = (value * 1000).rounded() / 1000
        // The magnitude check keeps `Int(_:)` from trapping on an infinite or huge value.
        if rounded == rounded.rounded(), abs(rounded) < 1e15 { return String(Int(rounded)) }
        return String(rounded)
    }
}
