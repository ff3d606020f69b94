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

        func recordedReply(runID: String, round: Int, node: String, requestHash: String) async throws -> RecordedReply? {
            lookups.withLock { $0 += 1 }
            return try await inner.recordedReply(runID: runID, round: round, node: node, requestHash: requestHash)
        }

        func record(_ call: CallRecord) async throws { try await inner.record(call) }

        func hasRecordedReplies(runID: String) async throws -> Bool {
            asks.withLock { $0 += 1 }
            return try await inner.hasRecordedReplies(runID: runID)
        }
    }

    /// A ledger that refuses the records of the first round's reviews, as a full disk or a ledger locked
    /// by another process past its wait refuses them.
    private final class RefusingLedger: RunLedger {
        let inner = InMemoryRunLedger()

        func recordedReply(runID: String, round: Int, node: String, requestHash: String) async throws -> RecordedReply? {
            try await inner.recordedReply(runID: runID, round: round, node: node, requestHash: requestHash)
        }

        func record(_ call: CallRecord) async throws {
            struct DiskFull: Error, CustomStringConvertible {
                var description: String { "database or disk is full" }
            }
            if call.node.contains("evaluate") { throw DiskFull() }
            try await inner.record(call)
        }
    }

    /// A call the ledger could not record stops the run as `failed`, naming why, before any call of the
    /// next stage: it ran on, paying for calls it could not record (that `resume` would pay again), and
    /// ended `converged` with calls missing from its ledger and nothing said (the warning went to a log
    /// nobody reads without `--debug`).
    @Test func aCallTheLedgerCannotRecordStopsTheRunBeforeAnotherIsPaidFor() async throws {
        let ledger = RefusingLedger()
        let provider = ScriptedProvider(script: Fixtures.script())
        let outcome = try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider),
            configuration: Fixtures.configuration(ledger: ledger)
        ).run("Q")
        #expect(outcome.status == .failed)
        #expect(outcome.stoppedBy.contains("could not record the call"), "\(outcome.stoppedBy)")
        #expect(outcome.stoppedBy.contains("database or disk is full"), "\(outcome.stoppedBy)")
        // Three proposals, then the round's six reviews at most (started together): no refine, no round 2.
        #expect(provider.calls.count <= 9, "\(provider.calls.count) calls")
        #expect(ledger.inner.records.allSatisfy { !$0.node.contains("refine") && $0.round == 1 })
    }

    /// A call the ledger cannot record names its step as the run's other reasons do: no round in a workflow
    /// without a repeat block, `before round 1` for the stages before one. It said `(round 0)` for both.
    @Test func aCallTheLedgerCannotRecordIsNamedByItsStep() async throws {
        let single = Fixtures.workflow(members: Fixtures.members(3), stages: [.proposeStage, .pairwise])
        let before = Fixtures.workflow(
            members: Fixtures.members(3), stages: [.proposeStage, .pairwise, .repeat([.refineStage, .closeStage])],
            iterations: Iterations(min: 1, max: 1))
        for (workflow, place) in [(single, ""), (before, #" \(before round 1\)"#)] {
            let outcome = try await Engine(
                workflow: workflow, providers: ScriptedResolver(default: ScriptedProvider(script: Fixtures.script())),
                configuration: Fixtures.configuration(ledger: RefusingLedger())
            ).run("Q")
            #expect(outcome.status == .failed)
            let named = try Regex(#"could not record the call s1\.evaluate\[[^ ]*\]"# + place + ", so")
            #expect(outcome.stoppedBy.contains(named), "\(outcome.stoppedBy)")
            #expect(!outcome.stoppedBy.contains("round 0"), "\(outcome.stoppedBy)")
        }
    }

    /// A ledger whose lookups fail, as a database file gone unreadable or a server that dropped the
    /// connection fails them.
    private final class UnreadableLedger: RunLedger {
        let inner = InMemoryRunLedger()
        let readable = Mutex(true)

        func recordedReply(runID: String, round: Int, node: String, requestHash: String) async throws -> RecordedReply? {
            struct Unreadable: Error, CustomStringConvertible {
                var description: String { "disk I/O error" }
            }
            if !readable.withLock({ $0 }) { throw Unreadable() }
            return try await inner.recordedReply(runID: runID, round: round, node: node, requestHash: requestHash)
        }

        func record(_ call: CallRecord) async throws { try await inner.record(call) }
    }

    /// A resumed run whose ledger cannot say whether a call was made stops as `failed`, naming why, and
    /// makes no call: a failed lookup counted as "not recorded", so every recorded call was paid again.
    @Test func aLookupTheLedgerCannotAnswerStopsTheRunInsteadOfPayingAgain() async throws {
        let ledger = UnreadableLedger()
        let first = try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: ScriptedProvider(script: Fixtures.script())),
            configuration: Fixtures.configuration(ledger: ledger)
        ).run("Q")
        #expect(ledger.inner.records.count == first.totalCalls)
        ledger.readable.withLock { $0 = false }
        let provider = ScriptedProvider(script: Fixtures.script())
        let again = try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider),
            configuration: Fixtures.configuration(ledger: ledger)
        ).run("Q")
        #expect(again.status == .failed)
        #expect(again.stoppedBy.contains("could not look up the call"), "\(again.stoppedBy)")
        #expect(again.stoppedBy.contains("disk I/O error"), "\(again.stoppedBy)")
        #expect(provider.calls.count == 0, "calls paid again")
        #expect(ledger.inner.records.count == first.totalCalls)
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
