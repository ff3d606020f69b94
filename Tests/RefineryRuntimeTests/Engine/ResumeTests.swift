import Foundation
import RefineryCompiler
import RefineryTestSupport
import Synchronization
import Testing

@testable import RefineryRuntime

@Suite struct ResumeTests {
    private let workflow = Fixtures.workflow(
        members: Fixtures.members(3), stages: [.repeat([.proposeStage, .pairwise, .refineStage, .closeStage])],
        iterations: Iterations(min: 2, max: 2))

    @Test func aRecordedRunReplaysWithoutCallingAnyProvider() async throws {
        let ledger = InMemoryRunLedger()
        let live = ScriptedProvider(script: Fixtures.script())
        let first = try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: live),
            configuration: Fixtures.configuration(ledger: ledger)
        ).run("Q")
        #expect(ledger.records.count == first.totalCalls)
        #expect(ledger.records.allSatisfy { $0.status == .succeeded })

        let dead = ScriptedProvider { _ in
            .error(ProviderError(code: .authentication, message: "no key", provider: "test"))
        }
        let recorder = EventRecorder()
        let second = try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: dead),
            configuration: Fixtures.configuration(ledger: ledger)
        ).run("Q", events: recorder.sink)
        #expect(dead.calls.isEmpty)
        #expect(second == first)
        #expect(recorder.calls("call_finished").allSatisfy { $0.status == .replayed })
        #expect(recorder.calls("call_finished").count == first.totalCalls)
    }

    /// A ledger that counts the engine's replay lookups.
    private final class CountingLedger: RunLedger {
        let inner = InMemoryRunLedger()
        let lookups = Mutex(0)
        let asks = Mutex(0)

        func recordedReply(runID: String, round: Int, node: String, requestHash: String) async throws -> ModelReply? {
            lookups.withLock { $0 += 1 }
            return try await inner.recordedReply(runID: runID, round: round, node: node, requestHash: requestHash)
        }

        func record(_ call: CallRecord) async throws { try await inner.record(call) }

        func hasRecordedReplies(runID: String) async throws -> Bool {
            asks.withLock { $0 += 1 }
            return try await inner.hasRecordedReplies(runID: runID)
        }
    }

    @Test func aNewRunAsksTheLedgerOnceInsteadOfLookingUpEveryCall() async throws {
        let ledger = CountingLedger()
        let provider = ScriptedProvider(script: Fixtures.script())
        let first = try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider),
            configuration: Fixtures.configuration(ledger: ledger)
        ).run("Q")
        #expect(ledger.lookups.withLock { $0 } == 0)
        #expect(ledger.inner.records.count == first.totalCalls)
        // Resumed (the same run id, with replies recorded): every first attempt is looked up and replayed.
        let again = try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider),
            configuration: Fixtures.configuration(ledger: ledger)
        ).run("Q")
        #expect(ledger.lookups.withLock { $0 } == first.totalCalls)
        #expect(again == first)
        #expect(provider.calls.count == first.totalCalls)
    }

    @Test func aRunKnownToBeNewDoesNotAskTheLedgerAtAll() async throws {
        let ledger = CountingLedger()
        var configuration = Fixtures.configuration(ledger: ledger)
        configuration.mayHaveRecordedCalls = false
        let outcome = try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: ScriptedProvider(script: Fixtures.script())),
            configuration: configuration
        ).run("Q")
        #expect(ledger.asks.withLock { $0 } == 0)
        #expect(ledger.lookups.withLock { $0 } == 0)
        #expect(ledger.inner.records.count == outcome.totalCalls)
        // Not known to be new (the default): asked once.
        let asked = CountingLedger()
        _ = try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: ScriptedProvider(script: Fixtures.script())),
            configuration: Fixtures.configuration(ledger: asked)
        ).run("Q")
        #expect(asked.asks.withLock { $0 } == 1)
    }

    @Test func aPartlyRecordedRunOnlyCallsWhatIsMissing() async throws {
        let full = InMemoryRunLedger()
        let first = try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: ScriptedProvider(script: Fixtures.script())),
            configuration: Fixtures.configuration(ledger: full)
        ).run("Q")
        // An interrupted run: only round 1 made it to the ledger.
        let partial = InMemoryRunLedger()
        for record in full.records where record.round == 1 { try await partial.record(record) }
        let live = ScriptedProvider(script: Fixtures.script())
        let resumed = try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: live),
            configuration: Fixtures.configuration(ledger: partial)
        ).run("Q")
        #expect(live.calls.count == 12)
        #expect(live.calls.allSatisfy { $0.round == 2 })
        #expect(resumed == first)
    }

    @Test func requestHashIsTheSHA256OfSortedKeyJSON() {
        let request = ModelRequest(
            model: ModelRef(provider: "p", model: "m"), messages: [ChatMessage(role: .user, content: "hi")])
        let hash = RequestHash.of(request)
        #expect(hash.count == 64)
        #expect(hash == RequestHash.of(request))
        var other = request
        other.messages[0].content = "hi!"
        #expect(RequestHash.of(other) != hash)
    }
}
