import RefineryCompiler
import Testing

@testable import RefineryRuntime

private let embedModel = ModelRef(provider: "openai", model: "text-embedding-3-small")

/// Two drafts that share most tokens but differ enough that neither char nor Jaccard short-circuits.
private let paraphraseA = "The quick brown fox jumps over the lazy dog near the river bank today at noon."
private let paraphraseB = "A fast brown fox leaps across the sleepy dog beside the river shore today around noon."

private func judge(
    _ options: SemanticOptions, embedder: FakeEmbedder? = nil, clock: ManualClock = ManualClock(), max: Int = 20
) -> ConvergenceJudge {
    ConvergenceJudge(
        strategy: .semantic(options), iterations: Iterations(min: 1, max: max), embedder: embedder, clock: clock)
}

@Suite("Semantic cascade")
struct SemanticConvergenceTests {
    @Test func scorersMatchTheirDefinitions() {
        #expect(TextSimilarity.charSimilarity("kitten", "sitting") == 1 - 3.0 / 7.0)
        #expect(TextSimilarity.charSimilarity("", "") == 1)
    }

    /// Drafts of 100,000 words each would need a 10-billion-cell edit table; the multiset
    /// measure answers in linear time and still sees the change.
    @Test func veryLongDraftsAreComparedInLinearTime() {
        let words = (0..<100_000).map { "w\($0 % 5_000)" }
        let a = words.joined(separator: " ")
        var changed = words
        for index in stride(from: 0, to: changed.count, by: 10) { changed[index] = "other" }
        let b = changed.joined(separator: " ")
        #expect(TextSimilarity.charSimilarity(a, a + " ") == 1)
        #expect(TextSimilarity.charSimilarity(a, b) == 0.9)
        #expect(TextSimilarity.multisetDistance(["a", "b", "b"], ["b", "c"]) == 2)
        #expect(TextSimilarity.tokens("The Cat, o gato é preto!") == ["cat", "gato", "preto"])
        let jaccard = TextSimilarity.jaccard("red green blue", "blue red yellow")
        #expect(jaccard.similarity == 0.5)
        #expect(jaccard.confidence == 0.3)
        #expect(TextSimilarity.cosine([1, 0], [0, 1]) == 0)
        #expect(TextSimilarity.cosine([1, 0], [1]) == nil)
    }

    static let cascadeRows: [(String, String, String, Bool, String)] = [
        ("identical", "Same text.", "Same text.", true, "semantic: char similarity 1 ≥ char_high 0.99"),
        (
            "totally different", "Apples are red and sweet fruit.", "42", false,
            "semantic: char similarity 0 < char_low 0.3 (diverged)"
        ),
        (
            "reordered sentences", "Alpha beta gamma delta epsilon zeta eta theta iota kappa.",
            "Kappa iota theta eta zeta epsilon delta gamma beta alpha.", true,
            "semantic: jaccard 1 ≥ jaccard_high 0.95 with confidence 1"
        ),
        (
            "too few tokens for Jaccard", "Alpha beta gamma.", "Gamma, beta alpha!", false,
            "no embedding model, cascade ends at jaccard"
        ),
    ]

    @Test(arguments: cascadeRows)
    func cascadeWithoutEmbeddings(
        _ name: String, _ previous: String, _ current: String, _ holds: Bool, _ signal: String
    ) async {
        let options = SemanticOptions(charLow: name == "too few tokens for Jaccard" ? 0 : 0.3)
        let decision = await judge(options).close(RoundSignals(round: 1, draft: current, previousDraft: previous))
        #expect(decision.converged == holds, "\(decision.signal)")
        #expect(decision.shouldStop == holds)
        #expect(decision.signal.contains(signal), "\(decision.signal)")
    }

    @Test func shortCircuitsSkipTheEmbedder() async {
        let embedder = FakeEmbedder()
        let options = SemanticOptions(embeddingModel: embedModel)
        let same = await judge(options, embedder: embedder).close(
            RoundSignals(round: 1, draft: "x y z", previousDraft: "x y z"))
        let far = await judge(options, embedder: embedder).close(
            RoundSignals(round: 1, draft: "1", previousDraft: "a long text"))
        #expect(same.converged && !far.converged)
        #expect(embedder.calls.isEmpty)
    }

    @Test(arguments: [(0.95, true), (0.5, false)])
    func embeddingDecidesTheMiddle(_ cosine: Double, _ holds: Bool) async {
        let y = (1 - cosine * cosine).squareRoot()
        let embedder = FakeEmbedder(vectors: [paraphraseA: [1, 0], paraphraseB: [cosine, y]])
        let decision = await judge(SemanticOptions(embeddingModel: embedModel), embedder: embedder)
            .close(RoundSignals(round: 1, draft: paraphraseB, previousDraft: paraphraseA))
        #expect(decision.converged == holds)
        #expect(
            decision.signal.hasPrefix(
                "semantic: embedding cosine \(ConvergenceJudge.number(cosine)) \(holds ? "≥" : "<") threshold 0.92 (char "
            ))
        #expect(embedder.calls == [[paraphraseA, paraphraseB]])
    }

    @Test func cacheServesRepeatedTextsUntilTheTTLExpires() async {
        let clock = ManualClock()
        let embedder = FakeEmbedder()
        let options = SemanticOptions(embeddingModel: embedModel, cacheTTLSeconds: 300, regressionGuard: false)
        let judge = judge(options, embedder: embedder, clock: clock)
        let drafts = [paraphraseA, paraphraseB, paraphraseA + " Extra words here.", paraphraseB + " More words."]
        _ = await judge.close(RoundSignals(round: 1, draft: drafts[1], previousDraft: drafts[0]))
        _ = await judge.close(RoundSignals(round: 2, draft: drafts[2]))
        #expect(embedder.calls == [[drafts[0], drafts[1]], [drafts[2]]])  // drafts[1] came from the cache
        clock.advance(by: .seconds(301))
        _ = await judge.close(RoundSignals(round: 3, draft: drafts[3]))
        #expect(embedder.calls.last == [drafts[2], drafts[3]])  // drafts[2] expired
        #expect(embedder.calls.count == 3)
    }

    @Test func cacheEvictsTheLeastRecentlyUsed() {
        var cache = EmbeddingCache(capacity: 2, ttl: .seconds(60))
        cache.store([1], for: "a", now: .zero)
        cache.store([2], for: "b", now: .zero)
        #expect(cache.vector(for: "a", now: .seconds(1)) == [1])  // "b" is now the least recently used
        cache.store([3], for: "c", now: .seconds(2))
        #expect(cache.vector(for: "b", now: .seconds(3)) == nil)
        #expect(cache.vector(for: "a", now: .seconds(3)) == [1])
        #expect(cache.vector(for: "c", now: .seconds(3)) == [3])
        #expect(cache.vector(for: "c", now: .seconds(62)) == nil)
        #expect(EmbeddingCache.key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func breakerOpensAfterConsecutiveFailuresAndClosesAfterCooldown() async {
        let clock = ManualClock()
        let embedder = FakeEmbedder(failing: true)
        let options = SemanticOptions(
            embeddingModel: embedModel, cacheSize: 0, breakerFailures: 2, breakerCooldownSeconds: 30,
            regressionGuard: false)
        let judge = judge(options, embedder: embedder, clock: clock)
        let texts = (0..<6).map { index in index.isMultiple(of: 2) ? paraphraseA : paraphraseB }
        var signals: [String] = []
        for round in 1...3 {
            let decision = await judge.close(RoundSignals(round: round, draft: texts[round], previousDraft: texts[0]))
            signals.append(decision.signal)
        }
        #expect(embedder.calls.count == 2)  // the third round found the breaker open
        #expect(signals[0].contains("degradedFrom=embedding_unavailable (embedder error: overloaded)"))
        #expect(signals[2].contains("degradedFrom=embedding_unavailable (circuit breaker open for 30s more)"))
        clock.advance(by: .seconds(29))
        _ = await judge.close(RoundSignals(round: 4, draft: texts[4]))
        #expect(embedder.calls.count == 2)
        clock.advance(by: .seconds(1))
        embedder.setFailing(false)
        let recovered = await judge.close(RoundSignals(round: 5, draft: texts[5]))
        #expect(embedder.calls.count == 3)  // half-open: one call let through, and it succeeded
        #expect(recovered.signal.hasPrefix("semantic: embedding cosine 1 ≥ threshold 0.92"))
        #expect(recovered.converged)
    }

    @Test func halfOpenFailureReopensTheBreaker() {
        var breaker = CircuitBreaker(threshold: 2, cooldown: .seconds(10))
        breaker.recordFailure(at: .zero)
        #expect(breaker.allowsCall(at: .zero))
        breaker.recordFailure(at: .zero)
        #expect(!breaker.allowsCall(at: .seconds(9)))
        #expect(breaker.allowsCall(at: .seconds(10)))
        breaker.recordFailure(at: .seconds(10))
        #expect(!breaker.allowsCall(at: .seconds(19)))
        breaker.recordSuccess()
        #expect(breaker.allowsCall(at: .seconds(19)))
    }

    @Test(arguments: [SemanticOptions.Mode.permissive, .strict])
    func embedderDownPermissiveDegradesStrictRefuses(_ mode: SemanticOptions.Mode) async {
        // Jaccard 1 but only 3 tokens: too little confidence to short-circuit, so the embedder is asked.
        let options = SemanticOptions(charLow: 0, embeddingModel: embedModel, mode: mode)
        let decision = await judge(options, embedder: FakeEmbedder(failing: true))
            .close(RoundSignals(round: 1, draft: "Gamma, beta alpha!", previousDraft: "Alpha beta gamma."))
        switch mode {
        case .permissive:
            #expect(decision.converged)
            #expect(
                decision.signal.hasPrefix(
                    "semantic: degradedFrom=embedding_unavailable (embedder error: overloaded); jaccard 1 ≥ jaccard_high 0.95"
                ))
        case .strict:
            #expect(!decision.converged && !decision.shouldStop)
            #expect(
                decision.signal.hasPrefix(
                    "semantic: embedding unavailable (embedder error: overloaded); strict mode refuses convergence"))
        }
    }

    @Test func regressionGuardRollsBackToTheBestDraft() async {
        let original = "alpha beta gamma delta epsilon zeta eta theta iota kappa"
        let better = "alpha beta gamma delta epsilon zeta eta theta iota lambda"  // 9 of 10 kept
        let best = "alpha beta gamma delta epsilon zeta eta theta iota kappa mu"  // 10 of 11
        let drifted = "alpha beta gamma delta omega psi chi phi upsilon tau"  // 4 of 16
        let options = SemanticOptions(charLow: 0, jaccardHigh: 1.1)  // only the guard can end this run
        let judge = judge(options, max: 10)
        let first = await judge.close(RoundSignals(round: 1, draft: better, previousDraft: original))
        let second = await judge.close(RoundSignals(round: 2, draft: best))
        #expect(first.rolledBackTo == nil && second.rolledBackTo == nil)
        #expect(!first.shouldStop && !second.shouldStop)
        let third = await judge.close(RoundSignals(round: 3, draft: drifted))
        #expect(third.rolledBackTo == best)
        #expect(third.shouldStop && !third.converged)
        #expect(
            third.signal
                == "semantic: regression guard: similarity to the original draft fell from 0.909 (round 2) to 0.25 "
                + "(round 3); rolled back to the round 2 draft (similarity 0.909); stopping with the best draft")
    }

    @Test func regressionGuardBeforeMinKeepsGoingFromTheBestDraft() async {
        let original = "alpha beta gamma delta epsilon zeta eta theta iota kappa"
        let good = "alpha beta gamma delta epsilon zeta eta theta iota lambda"
        let drifted = "alpha beta omega psi chi phi upsilon tau sigma rho"
        let judge = ConvergenceJudge(
            strategy: .semantic(SemanticOptions(charLow: 0, jaccardHigh: 1.1)), iterations: Iterations(min: 5, max: 10),
            embedder: nil, clock: ManualClock())
        _ = await judge.close(RoundSignals(round: 1, draft: good, previousDraft: original))
        let rolled = await judge.close(RoundSignals(round: 2, draft: drifted))
        #expect(rolled.rolledBackTo == good)
        #expect(!rolled.shouldStop)
        // The next comparison is against the restored draft: an unchanged restored draft converges on char.
        let next = await judge.close(RoundSignals(round: 5, draft: good))
        #expect(next.converged)
    }

    @Test func firstDraftWithoutBaselineIsOnlyRecorded() async {
        let judge = judge(SemanticOptions())
        let first = await judge.close(RoundSignals(round: 1, draft: "text"))
        #expect(first.signal == "semantic: first draft recorded, nothing to compare yet")
        let none = await judge.close(RoundSignals(round: 2))
        #expect(none.signal == "semantic: no draft this round")
        let second = await judge.close(RoundSignals(round: 3, draft: "text"))
        #expect(second.converged)
    }
}
