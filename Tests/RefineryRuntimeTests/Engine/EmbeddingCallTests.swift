import Foundation
import RefineryCompiler
import RefineryTestSupport
import Testing

@testable import RefineryRuntime

/// The semantic strategy's embedding requests go through the engine's call machinery: recorded in the run
/// ledger and replayed on resume, priced from the catalog into the run's cost, and checked against its budget.
@Suite struct EmbeddingCallTests {
    private static let embeddingModel = ModelRef(provider: "openai", model: "text-embedding-3-small")

    /// One member drafts and revises; the cascade always reaches the embedding scorer (every revision differs
    /// from the last, and no char or Jaccard bound decides), whose vectors are all the same: converged in round 1.
    private let workflow = Fixtures.workflow(
        members: Fixtures.members(1),
        stages: [
            .proposeStage, .repeat([.refine(RefineStage(refineProtocol: .critiqueRevise)), .closeStage]),
        ],
        iterations: Iterations(min: 1, max: 3),
        convergence: .semantic(
            SemanticOptions(
                charHigh: 0.999, charLow: 0.01, jaccardHigh: 1.0, threshold: 0.9, embeddingModel: embeddingModel,
                regressionGuard: false)),
        output: .draft)

    private static let script: @Sendable (ScriptedCall) -> ScriptedResponse = { call in
        switch call.kind {
        case "critiqueRevise":
            .text(ScriptedReplies.critiqueRevise(critique: "ok", revised: "The revised draft of round \(call.round)"))
        default:
            .text("The first draft")
        }
    }

    private func configuration(ledger: InMemoryRunLedger, embedder: FakeEmbedder) -> EngineConfiguration {
        var configuration = Fixtures.configuration(ledger: ledger)
        configuration.embedder = embedder
        return configuration
    }

    @Test func anEmbeddingRequestIsPricedIntoTheRunAndReplayedOnResume() async throws {
        let ledger = InMemoryRunLedger()
        let embedder = FakeEmbedder()
        let first = try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: ScriptedProvider(script: Self.script)),
            configuration: configuration(ledger: ledger, embedder: embedder)
        ).run("Q")
        #expect(embedder.calls == [["The first draft", "The revised draft of round 1"]])
        // The request is a call of the run, on its close's node, priced at $0.02 per million input tokens.
        let embeds = ledger.records.filter { $0.node.hasSuffix(".close.embed") }
        #expect(embeds.count == 1)
        let usage = Embeddings.estimatedUsage(of: embedder.calls[0])
        #expect(abs((embeds.first?.costUSD ?? 0) - Double(usage.inputTokens) * 0.02 / 1_000_000) < 1e-15)
        #expect(first.costUSD > 0)
        #expect(abs(first.costUSD - ledger.records.reduce(0) { $0 + $1.costUSD }) < 1e-15)
        #expect(first.totalCalls == ledger.records.count)

        // Resumed: the vectors come from the ledger, no request is made, the outcome is the same.
        let second = FakeEmbedder()
        let resumed = try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: ScriptedProvider(script: Self.script)),
            configuration: configuration(ledger: ledger, embedder: second)
        ).run("Q")
        #expect(second.calls.isEmpty)
        #expect(resumed == first)
    }

    /// Drafts embedded far apart (cosine 0), so a run goes to max rounds and each close asks for embeddings.
    private static let drafts = ["The first draft"] + (1...3).map { "The revised draft of round \($0)" }
    private static let apart = Dictionary(
        uniqueKeysWithValues: drafts.enumerated().map { ($1, $0.isMultiple(of: 2) ? [1.0, 0] : [0, 1.0]) })

    private func semantic(cacheSize: Int = 256, ttl: Double = 300, model: ModelRef = Self.embeddingModel) -> Workflow {
        var workflow = self.workflow
        workflow.convergence.strategy = .semantic(
            SemanticOptions(
                charHigh: 0.999, charLow: 0.01, jaccardHigh: 1.0, threshold: 0.9, embeddingModel: model,
                cacheSize: cacheSize, cacheTTLSeconds: ttl, regressionGuard: false))
        return workflow
    }

    /// Runs (or resumes, on a ledger that holds the run) `workflow` with `embedder`, model calls from `provider`.
    private func run(
        _ workflow: Workflow, ledger: InMemoryRunLedger, embedder: FakeEmbedder,
        provider: ScriptedProvider = ScriptedProvider(script: Self.script), clock: TestClock = TestClock()
    ) async throws -> RunOutcome {
        var configuration = configuration(ledger: ledger, embedder: embedder)
        configuration.clock = clock
        return try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: configuration
        ).run("Q")
    }

    /// Which texts a round's request asks for depends on the judge's cache: a draft embedded at one close and
    /// expired by the next is asked for again. A resumed run's cache need not have lost what the first attempt's
    /// had (its replayed calls take no time): it asks for other texts than the ledger recorded, and paid again
    /// for each such request (2 of 3 here). The recorded requests are replayed by node and round.
    @Test func aResumeWhoseCacheStillHoldsWhatTheFirstAttemptsLostSendsNoRequestAgain() async throws {
        let workflow = semantic(ttl: 1)
        let ledger = InMemoryRunLedger()
        let clock = TestClock()
        // Each model call takes two seconds of the run's clock: a draft embedded at a close (kept 1 s) has
        // expired at the next.
        let slow = ScriptedProvider { call in
            clock.advance(by: .seconds(2))
            return Self.script(call)
        }
        let embedder = FakeEmbedder(vectors: Self.apart)
        let outcome = try await run(workflow, ledger: ledger, embedder: embedder, provider: slow, clock: clock)
        let d = Self.drafts
        #expect(embedder.calls == [[d[0], d[1]], [d[1], d[2]], [d[2], d[3]]])
        #expect(outcome.status == .maxRounds)

        let second = FakeEmbedder(vectors: Self.apart)
        let resumed = try await run(workflow, ledger: ledger, embedder: second)
        #expect(second.calls.isEmpty)
        #expect(resumed.status == outcome.status && resumed.draft == outcome.draft)
        #expect(resumed.totalCalls == outcome.totalCalls && resumed.costUSD == outcome.costUSD)
        #expect(resumed.rounds.map(\.decision) == outcome.rounds.map(\.decision))
        // Each recorded request replayed once; a second resume replays the same, and sends nothing either.
        #expect(ledger.records.filter { $0.node.hasSuffix(".embed") }.map(\.status) == [
            .succeeded, .succeeded, .succeeded, .replayed, .replayed, .replayed,
        ])
        let third = FakeEmbedder(vectors: Self.apart)
        let again = try await run(workflow, ledger: ledger, embedder: third)
        #expect(third.calls.isEmpty)
        #expect(again.costUSD == outcome.costUSD)
    }

    /// The other way round: the first attempt's cache held the previous draft (its requests asked for the new
    /// draft only), the resumed run's holds nothing (here: no cache at all). The draft it lacks comes from the
    /// round before's recorded request, not from a request.
    @Test func aResumeWhoseCacheLostWhatTheFirstAttemptsHeldSendsNoRequestAgain() async throws {
        let ledger = InMemoryRunLedger()
        let embedder = FakeEmbedder(vectors: Self.apart)
        let outcome = try await run(semantic(), ledger: ledger, embedder: embedder)
        let d = Self.drafts
        #expect(embedder.calls == [[d[0], d[1]], [d[2]], [d[3]]])

        let second = FakeEmbedder(vectors: Self.apart)
        let resumed = try await run(semantic(cacheSize: 0), ledger: ledger, embedder: second)
        #expect(second.calls.isEmpty)
        #expect(resumed == outcome)
    }

    /// Requests are replayed by node and round, not by their hash (which holds the model): a recorded request of
    /// another embedding model (a library caller resuming with another workflow) is not taken, its vectors are
    /// not comparable.
    @Test func aRecordedRequestOfAnotherEmbeddingModelIsNotReplayed() async throws {
        let ledger = InMemoryRunLedger()
        _ = try await run(semantic(), ledger: ledger, embedder: FakeEmbedder(vectors: Self.apart))
        let second = FakeEmbedder(vectors: Self.apart)
        let large = ModelRef(provider: "openai", model: "text-embedding-3-large")
        _ = try await run(semantic(model: large), ledger: ledger, embedder: second)
        let d = Self.drafts
        #expect(second.calls == [[d[0], d[1]], [d[2]], [d[3]]])
    }

    /// A ledger written before vectors were kept as binary32 holds them as a JSON array of numbers: a resume
    /// still reads them, and sends nothing.
    @Test func aRecordedRequestOfAnOlderLedgerIsReadAsItWasWritten() async throws {
        let ledger = InMemoryRunLedger()
        let embedder = FakeEmbedder(vectors: Self.apart)
        let outcome = try await run(semantic(), ledger: ledger, embedder: embedder)
        // The run keeps each request's vectors in 4 bytes a component (base64): `f32le:2,2:` then 16 bytes.
        let embeds = ledger.records.filter { $0.node.hasSuffix(".embed") }
        #expect(embeds.first?.reply?.text == "f32le:2,2:AACAPwAAAAAAAAAAAACAPw==")
        // The same ledger as an older version wrote it: the vectors as JSON.
        let old = InMemoryRunLedger()
        for var record in ledger.records {
            if record.node.hasSuffix(".embed"), let reply = record.reply {
                let vectors = record.request.messages.map { Self.apart[$0.content] ?? [] }
                record.reply = ModelReply(
                    text: String(decoding: try JSONEncoder().encode(vectors), as: UTF8.self), usage: reply.usage,
                    model: reply.model)
            }
            try await old.record(record)
        }
        let second = FakeEmbedder(vectors: Self.apart)
        let resumed = try await run(semantic(), ledger: old, embedder: second)
        #expect(second.calls.isEmpty)
        #expect(resumed == outcome)
    }

    /// A budget the embedding request would pass stops the run before the request, as it stops a model call.
    @Test func theBudgetStopsAnEmbeddingRequestItCannotPayFor() async throws {
        var limited = workflow
        limited.limits.budgetUSD = 1e-12
        let embedder = FakeEmbedder()
        let outcome = try await Engine(
            workflow: limited, providers: ScriptedResolver(default: ScriptedProvider(script: Self.script)),
            configuration: configuration(ledger: InMemoryRunLedger(), embedder: embedder)
        ).run("Q")
        #expect(embedder.calls.isEmpty)
        #expect(outcome.status == .budgetExhausted)
        #expect(outcome.stoppedBy.contains("embedding"), "\(outcome.stoppedBy)")
    }
}
