import Foundation
import RefineryCompiler
import RefineryTestSupport
import Synchronization
import Testing

@testable import RefineryRuntime

/// The engine waits for a call a provider started (``ModelProvider/start(_:)``) in its ``PendingReply``:
/// a reply completed later from outside the call's task is recorded and used, and a call whose deadline
/// passes while it is pending is given up by its sender (the cancellation reaches the pending reply) and
/// fails as a timeout.
@Suite struct PendingReplyTests {
    private final class Count: Sendable {
        let value = Mutex(0)
    }

    /// Holds m1's proposal pending until its task is cancelled; completes every other call from another
    /// thread, after `start` has returned.
    private final class HoldingProvider: ModelProvider {
        let scripted: ScriptedProvider
        let startedElsewhere = Mutex(0)
        let gaveUp = Mutex(0)

        init(_ scripted: ScriptedProvider) { self.scripted = scripted }

        func complete(_ request: ModelRequest) async throws -> ModelReply {
            try await scripted.complete(request)
        }

        func start(_ request: ModelRequest) async throws -> PendingReply {
            let pending = PendingReply()
            if CallContext.current?.node == "s0.propose[m1]" {
                pending.onCancel { [self] in
                    gaveUp.withLock { $0 += 1 }
                    pending.finish(.failure(CancellationError()))
                }
                return pending
            }
            let reply = try await scripted.reply(to: request)
            startedElsewhere.withLock { $0 += 1 }
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.01) { pending.finish(.success(reply)) }
            return pending
        }
    }

    @Test func aPendingCallIsGivenUpAtItsDeadlineAndOthersAreRecordedWhenTheyComplete() async throws {
        let clock = TestClock()
        let provider = HoldingProvider(ScriptedProvider(clock: clock, script: Fixtures.script()))
        let workflow = Fixtures.workflow(
            members: Fixtures.members(2), stages: [.repeat([.proposeStage, .closeStage])],
            iterations: Iterations(min: 1, max: 1), limits: Limits(timeoutSeconds: 300, retries: 0, quorum: 1))
        let recorder = EventRecorder()
        let ledger = InMemoryRunLedger()
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider),
            configuration: Fixtures.configuration(clock: clock, ledger: ledger))
        async let outcome = engine.run("Q", events: recorder.sink)
        await clock.waitUntil { $0.contains(.seconds(300)) }
        #expect(provider.gaveUp.withLock { $0 } == 0)
        clock.advance(by: .seconds(300))
        let result = try await outcome
        #expect(provider.gaveUp.withLock { $0 } == 1)
        #expect(recorder.calls("call_failed").map { "\($0.node) \($0.errorCode ?? "")" } == ["s0.propose[m1] timeout"])
        #expect(ledger.records.filter { $0.status == .succeeded }.map(\.node).contains("s0.propose[m2]"))
        #expect(provider.startedElsewhere.withLock { $0 } >= 1)
        #expect(result.answers.map(\.memberID) == ["m2"])
        #expect(clock.pendingDeadlines.isEmpty)
    }

    /// A reply completed before anyone waits is there when the waiter comes; one completed twice keeps
    /// its first outcome; a cancelled waiter asks the sender to give up once, and still gets the outcome
    /// the sender then completes with.
    @Test func aPendingValueIsCompletedOnceAndCancellationReachesItsSender() async throws {
        let early = Pending<Int>()
        early.finish(.success(1))
        early.finish(.success(2))
        #expect(try await early.value() == 1)

        let held = Pending<Int>()
        let asked = Count()
        held.onCancel {
            asked.value.withLock { $0 += 1 }
            held.finish(.success(7))
        }
        let waiter = Task { try await held.value() }
        try await Task.sleep(for: .milliseconds(20))
        waiter.cancel()
        #expect(try await waiter.value == 7)
        #expect(asked.value.withLock { $0 } == 1)

        let restarted = Pending<Int>()
        restarted.again { Pending(3) }
        #expect(try await restarted.value() == 3)
    }
}
