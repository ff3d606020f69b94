// The semantic strategy (seed 003): successive drafts compared by a cascade of ever more expensive
// scorers, each allowed to short-circuit:
//   1. char similarity ≥ char_high → converged; < char_low → diverged (no further scorer runs)
//   2. token Jaccard ≥ jaccard_high with confidence ≥ 0.6 → converged
//   3. embedding cosine ≥ threshold → converged (only with an embedding model)
// When the embedder fails or its breaker is open: permissive mode takes Jaccard's verdict without the
// confidence floor (signal marked degradedFrom=embedding_unavailable); strict mode refuses to converge.
// Before the cascade, the regression guard compares each draft to the original (token Jaccard): when
// that similarity drops by more than 0.02 from the previous round, the best draft seen is restored.

import RefineryCompiler

extension ConvergenceJudge {
    /// Jaccard only short-circuits the cascade with at least this confidence.
    static let jaccardMinConfidence = 0.6
    /// A drop in similarity-to-original larger than this triggers the regression guard.
    static let regressionTolerance = 0.02

    func semantic(_ signals: RoundSignals, options: SemanticOptions, embed: EmbeddingRequest?) async -> Verdict {
        guard let draft = signals.draft else {
            return Verdict(holds: false, signal: "semantic: no draft this round")
        }
        if drafts.original == nil { drafts.original = signals.previousDraft ?? draft }
        guard let previous = drafts.last ?? signals.previousDraft else {
            drafts.last = draft
            return Verdict(holds: false, signal: "semantic: first draft recorded, nothing to compare yet")
        }
        drafts.last = draft
        if options.regressionGuard, let rollback = regressionCheck(draft, round: signals.round) {
            return rollback
        }
        return await cascade(
            previous: previous, current: draft, options: options, recorded: signals.embeddings, embed: embed)
    }

    private func regressionCheck(_ draft: String, round: Int) -> Verdict? {
        guard let original = drafts.original else { return nil }
        let similarity = TextSimilarity.jaccard(original, draft).similarity
        let before = drafts.revisions.last
        drafts.revisions.append(.init(round: round, text: draft, similarityToOriginal: similarity))
        guard let before, similarity < before.similarityToOriginal - Self.regressionTolerance else { return nil }
        // The best earlier revision; among equals the most recent (it carries the most refinement).
        let earlier = drafts.revisions.dropLast()
        guard let best = earlier.max(by: { $0.similarityToOriginal <= $1.similarityToOriginal }) else { return nil }
        drafts.last = best.text
        return Verdict(
            holds: false,
            signal: "semantic: regression guard: similarity to the original draft fell from "
                + "\(Self.number(before.similarityToOriginal)) (round \(before.round)) to \(Self.number(similarity)) "
                + "(round \(round)); rolled back to the round \(best.round) draft "
                + "(similarity \(Self.number(best.similarityToOriginal)))",
            rolledBackTo: best.text
        )
    }

    private func cascade(
        previous: String, current: String, options: SemanticOptions, recorded: [String: [Double]],
        embed: EmbeddingRequest?
    ) async -> Verdict {
        let char = TextSimilarity.charSimilarity(previous, current)
        if char >= options.charHigh {
            return Verdict(
                holds: true,
                signal: "semantic: char similarity \(Self.number(char)) ≥ char_high \(Self.number(options.charHigh))")
        }
        if char < options.charLow {
            return Verdict(
                holds: false,
                signal: "semantic: char similarity \(Self.number(char)) < char_low \(Self.number(options.charLow)) "
                    + "(diverged)")
        }
        let jaccard = TextSimilarity.jaccard(previous, current)
        let scores =
            "char \(Self.number(char)), jaccard \(Self.number(jaccard.similarity)) "
            + "(confidence \(Self.number(jaccard.confidence)))"
        let jaccardHigh = jaccard.similarity >= options.jaccardHigh
        if jaccardHigh && jaccard.confidence >= Self.jaccardMinConfidence {
            return Verdict(
                holds: true,
                signal: "semantic: jaccard \(Self.number(jaccard.similarity)) ≥ jaccard_high "
                    + "\(Self.number(options.jaccardHigh)) with confidence \(Self.number(jaccard.confidence))")
        }
        guard let model = options.embeddingModel else {
            return Verdict(
                holds: false,
                signal: "semantic: \(scores) below jaccard_high \(Self.number(options.jaccardHigh)); "
                    + "no embedding model, cascade ends at jaccard")
        }
        switch await embeddingSimilarity(previous, current, model: model, recorded: recorded, embed: embed) {
        case .success(let cosine):
            let holds = cosine >= options.threshold
            return Verdict(
                holds: holds,
                signal: "semantic: embedding cosine \(Self.number(cosine)) \(holds ? "≥" : "<") threshold "
                    + "\(Self.number(options.threshold)) (\(scores))")
        case .failure(let unavailable):
            switch options.mode {
            case .strict:
                return Verdict(
                    holds: false,
                    signal: "semantic: embedding unavailable (\(unavailable.reason)); strict mode refuses "
                        + "convergence (\(scores))")
            case .permissive:
                return Verdict(
                    holds: jaccardHigh,
                    signal: "semantic: degradedFrom=embedding_unavailable (\(unavailable.reason)); jaccard "
                        + "\(Self.number(jaccard.similarity)) \(jaccardHigh ? "≥" : "<") jaccard_high "
                        + "\(Self.number(options.jaccardHigh)) (\(scores))")
            }
        }
    }

    struct EmbeddingUnavailable: Error {
        var reason: String
    }

    /// Cosine similarity of the two texts' embeddings, using the round's `recorded` vectors (which feed the
    /// cache), the cache and the breaker. The texts none of them holds are one request, made through `embed`
    /// (the run's call: priced, budgeted, recorded) when given; a cache hit makes no request and costs nothing.
    private func embeddingSimilarity(
        _ a: String, _ b: String, model: ModelRef, recorded: [String: [Double]], embed: EmbeddingRequest?
    ) async -> Result<Double, EmbeddingUnavailable> {
        var vectors: [String: [Double]] = [:]
        let now = elapsed()
        // Answered in an earlier attempt of the run: as if just now.
        for (text, vector) in recorded { cache.store(vector, for: text, now: now) }
        for text in [a, b] where vectors[text] == nil {
            if let held = recorded[text] ?? cache.vector(for: text, now: now) { vectors[text] = held }
        }
        var missing: [String] = []
        for text in [a, b] where vectors[text] == nil && !missing.contains(text) { missing.append(text) }
        if !missing.isEmpty {
            guard embedder != nil || embed != nil else {
                return .failure(EmbeddingUnavailable(reason: "no embedder configured"))
            }
            guard breaker.allowsCall(at: now) else {
                let remaining = (breaker.openUntil ?? now) - now
                return .failure(
                    EmbeddingUnavailable(
                        reason: "circuit breaker open for \(Self.number(Self.seconds(remaining)))s more"))
            }
            do {
                let fetched =
                    if let embed { try await embed(missing, model) } else {
                        try await embedder?.embed(missing, model: model) ?? []
                    }
                guard fetched.count == missing.count else {
                    throw EmbeddingUnavailable(
                        reason: "embedder returned \(fetched.count) vectors for \(missing.count) texts")
                }
                breaker.recordSuccess()
                let storedAt = elapsed()
                for (text, vector) in zip(missing, fetched) {
                    vectors[text] = vector
                    cache.store(vector, for: text, now: storedAt)
                }
            } catch is CancellationError {
                return .failure(EmbeddingUnavailable(reason: "cancelled"))
            } catch let refused as EmbeddingRefused {
                // The run's budget or ledger stopped the request, not the embedder: the breaker does not count it.
                return .failure(EmbeddingUnavailable(reason: refused.reason))
            } catch {
                breaker.recordFailure(at: elapsed())
                return .failure(EmbeddingUnavailable(reason: "embedder error: \(Self.describe(error))"))
            }
        }
        guard let left = vectors[a], let right = vectors[b], let cosine = TextSimilarity.cosine(left, right) else {
            return .failure(EmbeddingUnavailable(reason: "embedding vectors are empty, zero or of different lengths"))
        }
        return .success(cosine)
    }

    /// A short error description that cannot leak a request (provider errors never hold credentials).
    private static func describe(_ error: any Error) -> String {
        if let provider = error as? ProviderError { return "\(provider.code)" }
        if let unavailable = error as? EmbeddingUnavailable { return unavailable.reason }
        return String(describing: type(of: error))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
