import Foundation
import RefineryCompiler
import RefineryRuntime
import RefineryStore
import Testing

/// The two ledger implementations.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// SQLite always; PostgreSQL when a server is named (and always under CI).
    static let available: [StoreKind] = PostgresTestServer.enabled ? [.sqlite, .postgres] : [.sqlite]
}

/// A fresh, empty store of one kind, with a way to open it again (another process's view) and to
/// remove it.
struct ContractStore: Sendable {
    let store: any RunStore
    let reopen: @Sendable (Redactor) async throws -> any RunStore
    let cleanup: @Sendable () async -> Void

    /// The migrations every store of this build has applied: the same names in both, and PostgreSQL's
    /// `v3-workers` (the worker queue, which only a shared store has).
    static func migrations(_ kind: StoreKind) -> [String] {
        kind == .postgres
            ? ["v1-runs-rounds-calls", "v2-batches", "v3-workers", "v4-item-origin"]
            : ["v1-runs-rounds-calls", "v2-batches", "v4-item-origin"]
    }

    static func make(_ kind: StoreKind, redactor: Redactor = Redactor()) async throws -> ContractStore {
        switch kind {
        case .sqlite:
            let database = try TemporaryDatabase()
            let path = database.path
            return ContractStore(
                store: try SQLiteRunStore(path: path, redactor: redactor),
                reopen: { try SQLiteRunStore(path: path, redactor: $0) }, cleanup: { database.cleanup() })
        case .postgres:
            let database = try await PostgresTestServer.Database()
            return ContractStore(
                store: try await database.open(redactor: redactor), reopen: { try await database.open(redactor: $0) },
                cleanup: { await database.drop() })
        }
    }
}

/// Runs `body` against a fresh store of `kind`, then removes it.
func withStore(
    _ kind: StoreKind, redactor: Redactor = Redactor(), _ body: (ContractStore) async throws -> Void
) async throws {
    let opened = try await ContractStore.make(kind, redactor: redactor)
    do {
        try await body(opened)
    } catch {
        await opened.cleanup()
        throw error
    }
    await opened.cleanup()
}

/// One ledger contract, run against both stores: what `run`, `resume` and `runs list|show|export`
/// rely on must hold whichever database keeps the ledger.
@Suite(.timeLimit(.minutes(2))) struct RunStoreContractTests {
    @Test(.enabled(if: PostgresTestServer.enabled, PostgresTestServer.skipReason))
    func thePostgresCasesRun() throws {
        // Present so that a run without a server says why the PostgreSQL cases are missing.
        #expect(try PostgresTestServer.location().host.isEmpty == false)
    }

    @Test(arguments: StoreKind.available)
    func migrationsAreAppliedOnceAndReopeningIsIdempotent(kind: StoreKind) async throws {
        try await withStore(kind) { opened in
            #expect(try await opened.store.appliedMigrations() == ContractStore.migrations(kind))
            try await opened.store.createRun(Fixture.run(id: "run-1"))
            let again = try await opened.reopen(Redactor())
            #expect(try await again.appliedMigrations() == ContractStore.migrations(kind))
            #expect(try await again.run(id: "run-1") == Fixture.run(id: "run-1"))
        }
    }

    /// A run or batch has one live owner: while it is held, taking it again is refused at once with
    /// `live`, through another store (another process's view) and through the same one, naming the subject,
    /// its holder and the resume command; a run and a batch with the same id are two subjects; once released
    /// it can be taken again.
    @Test(arguments: StoreKind.available)
    func aRunOrBatchHasOneLiveOwner(kind: StoreKind) async throws {
        try await withStore(kind) { opened in
            let other = try await opened.reopen(Redactor())
            let run = LedgerSubject.run("run-1")
            let owner = try await opened.store.takeOwnership(of: run)
            for store in [other, opened.store] {
                do {
                    _ = try await store.takeOwnership(of: run)
                    Issue.record("a live run was taken again")
                } catch let error as StoreError {
                    #expect(error.code == .live)
                    #expect(error.message.contains("Run run-1 is live in another process"), "\(error.message)")
                    #expect(error.message.contains("pid \(ProcessInfo.processInfo.processIdentifier)"))
                    #expect(error.message.contains("`refinery resume run-1`"), "\(error.message)")
                }
            }
            let batch = try await other.takeOwnership(of: .batch("run-1", kind: "bench"))
            do {
                _ = try await opened.store.takeOwnership(of: .batch("run-1", kind: "bench"))
                Issue.record("a live bench was taken again")
            } catch let error as StoreError {
                #expect(error.message.contains("`refinery bench resume run-1`"), "\(error.message)")
            }
            await owner.release()
            let again = try await other.takeOwnership(of: run)
            await again.release()
            await batch.release()
            try await opened.store.withOwnership(of: run) {
                try await opened.store.withOwnership(of: .batch("run-1", kind: "batch")) {}
            }
        }
    }

    /// Several processes opening a new store at once (here: several connections) all succeed, and each
    /// migration is applied once.
    @Test(arguments: StoreKind.available)
    func storesMigratingANewStoreAtOnceAllSucceed(kind: StoreKind) async throws {
        try await withStore(kind) { opened in
            let stores = try await withThrowingTaskGroup(of: (any RunStore).self) { group in
                for _ in 0..<6 { group.addTask { try await opened.reopen(Redactor()) } }
                return try await group.reduce(into: [any RunStore]()) { $0.append($1) }
            }
            for store in stores { #expect(try await store.appliedMigrations() == ContractStore.migrations(kind)) }
        }
    }

    @Test(arguments: StoreKind.available)
    func runRoundTripsAndFinishRecordsTheOutcome(kind: StoreKind) async throws {
        try await withStore(kind) { opened in
            let store = opened.store
            try await store.createRun(Fixture.run(id: "run-1"))
            #expect(try await store.run(id: "run-1") == Fixture.run(id: "run-1"))
            #expect(try await store.run(id: "run-1").seed == UInt64.max - 7)
            try await store.finishRun(
                id: "run-1",
                RunCompletion(
                    status: "converged", outcomeJSON: #"{"status":"converged"}"#, costUSD: 0.25, inputTokens: 100,
                    outputTokens: 40, exitCode: 0, finishedAt: Fixture.date.addingTimeInterval(30),
                    anonymization: ["claude": ["A": "gpt-4o#1"]]))
            let finished = try await store.run(id: "run-1")
            #expect(finished.status == "converged")
            #expect(finished.outcomeJSON == #"{"status":"converged"}"#)
            #expect(finished.costUSD == 0.25 && finished.inputTokens == 100 && finished.outputTokens == 40)
            #expect(finished.exitCode == 0)
            #expect(finished.finishedAt == Fixture.date.addingTimeInterval(30))
            #expect(finished.anonymization == ["claude": ["A": "gpt-4o#1"]])
            // `resume` marks it running again.
            try await store.markRunning(id: "run-1")
            let resumed = try await store.run(id: "run-1")
            #expect(resumed.status == "running" && resumed.finishedAt == nil && resumed.exitCode == nil)
        }
    }

    @Test(arguments: StoreKind.available)
    func aCallRoundTripsAndItsReplyIsServedOnlyForTheExactCall(kind: StoreKind) async throws {
        try await withStore(kind) { opened in
            let store = opened.store
            #expect(try await store.hasRecordedReplies(runID: "run-1") == false)
            try await store.record(Fixture.call())
            #expect(try await store.calls(runID: "run-1") == [Fixture.call()])
            #expect(try await store.hasRecordedReplies(runID: "run-1"))
            let reply = try await store.recordedReply(
                runID: "run-1", round: 1, node: "s0.propose[claude]", requestHash: "req-1")
            #expect(reply?.reply == Fixture.call().reply)
            // What the call cost when it was paid for: a resume counts it at that, whatever the prices are then.
            #expect(reply?.costUSD == Fixture.call().costUSD)
            for (run, round, node, hash) in [
                ("run-1", 1, "s0.propose[claude]", "other-hash"), ("run-1", 2, "s0.propose[claude]", "req-1"),
                ("run-1", 1, "s0.propose[gpt-4o#1]", "req-1"), ("run-2", 1, "s0.propose[claude]", "req-1"),
            ] {
                #expect(try await store.recordedReply(runID: run, round: round, node: node, requestHash: hash) == nil)
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func aFailedCallIsNeverServedAndASucceededCallIsStoredOnce(kind: StoreKind) async throws {
        try await withStore(kind) { opened in
            let store = opened.store
            try await store.record(Fixture.call(node: "f", status: .failed, error: "openai: overloaded (HTTP 529)"))
            #expect(try await store.recordedReply(runID: "run-1", round: 1, node: "f", requestHash: "req-1") == nil)
            #expect(try await store.hasRecordedReplies(runID: "run-1") == false)
            try await store.record(Fixture.call(text: "first"))
            try await store.record(Fixture.call(text: "second"))
            let calls = try await store.calls(runID: "run-1")
            #expect(calls.map(\.status) == [.failed, .succeeded])
            #expect(calls.first?.error == "openai: overloaded (HTTP 529)")
            #expect(calls.last?.reply?.text == "first")
        }
    }

    /// A node's recorded calls of a round, whatever their requests: how a resumed run replays the semantic
    /// strategy's embedding requests, whose texts depend on what the judge's cache held.
    @Test(arguments: StoreKind.available)
    func aNodesRecordedCallsOfARoundAreListedWhateverTheirRequests(kind: StoreKind) async throws {
        try await withStore(kind) { opened in
            let store = opened.store
            let node = "s2.close.embed"
            for call in [
                Fixture.call(node: node, hash: "a", status: .failed, error: "openai: overloaded (HTTP 529)"),
                Fixture.call(node: node, hash: "b", text: "f32le:2:AACAPwAAAAA="),
                Fixture.call(node: node, hash: "c", text: "[[1.0,0.0]]"),
                Fixture.call(node: node, hash: "b", status: .replayed, text: "f32le:2:AACAPwAAAAA="),
                Fixture.call(round: 2, node: node, hash: "d"), Fixture.call(node: "s2.close", hash: "e"),
                Fixture.call(run: "run-2", node: node, hash: "f"),
            ] {
                try await store.record(call)
            }
            let recorded = try await store.recordedCalls(runID: "run-1", round: 1, node: node)
            #expect(recorded.map(\.requestHash) == ["b", "c", "b"])
            #expect(recorded.map(\.status) == [.succeeded, .succeeded, .replayed])
            #expect(recorded.map { $0.reply?.text } == ["f32le:2:AACAPwAAAAA=", "[[1.0,0.0]]", "f32le:2:AACAPwAAAAA="])
            #expect(recorded.first == Fixture.call(node: node, hash: "b", text: "f32le:2:AACAPwAAAAA="))
            #expect(try await store.recordedCalls(runID: "run-1", round: 3, node: node).isEmpty)
        }
    }

    /// Calls that finish together are committed together; each `record` returns only once its call is
    /// readable by another connection (another process resuming the run).
    @Test(arguments: StoreKind.available)
    func callsRecordedConcurrentlyAreCommittedBeforeRecordReturns(kind: StoreKind) async throws {
        try await withStore(kind) { opened in
            let writer = opened.store
            let reader = try await opened.reopen(Redactor())
            let nodes = (0..<300).map { "s1.evaluate[m\($0)]" }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for node in nodes {
                    group.addTask {
                        try await writer.record(Fixture.call(node: node, hash: node))
                        let reply = try await reader.recordedReply(
                            runID: "run-1", round: 1, node: node, requestHash: node)
                        #expect(reply?.reply.text == "4")
                    }
                }
                try await group.waitForAll()
            }
            #expect(Set(try await reader.calls(runID: "run-1").map(\.node)) == Set(nodes))
        }
    }

    @Test(arguments: StoreKind.available)
    func theEnginesRequestJSONIsStoredAsGiven(kind: StoreKind) async throws {
        try await withStore(kind) { opened in
            var call = Fixture.call()
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            call.requestJSON = String(decoding: try encoder.encode(call.request), as: UTF8.self)
            try await opened.store.record(call)
            let stored = try #require(try await opened.store.calls(runID: "run-1").first)
            #expect(stored.request == call.request && stored.reply == call.reply)
        }
    }

    @Test(arguments: StoreKind.available)
    func runsAreListedNewestFirstWithCallCountsAndFoundByPrefix(kind: StoreKind) async throws {
        try await withStore(kind) { opened in
            let store = opened.store
            try await store.createRun(Fixture.run(id: "abc-old", startedAt: Fixture.date))
            try await store.createRun(Fixture.run(id: "abd-new", startedAt: Fixture.date.addingTimeInterval(60)))
            try await store.createRun(Fixture.run(id: "a_c%\\", startedAt: Fixture.date.addingTimeInterval(-60)))
            try await store.record(Fixture.call(run: "abd-new", node: "a"))
            try await store.record(Fixture.call(run: "abd-new", node: "b", status: .replayed))
            let runs = try await store.listRuns(limit: 50)
            #expect(runs.map(\.id) == ["abd-new", "abc-old", "a_c%\\"])
            #expect(runs.map(\.calls) == [1, 0, 0])
            #expect(runs.first?.gitCommit == "1234abcd")
            #expect(runs.first?.startedAt == Fixture.date.addingTimeInterval(60))
            #expect(try await store.listRuns(limit: 1).map(\.id) == ["abd-new"])
            #expect(try await store.run(id: "abc").id == "abc-old")
            // LIKE's wildcards in an id are matched literally.
            #expect(try await store.run(id: "a_c%").id == "a_c%\\")
            #expect(try await store.run(id: "a_").id == "a_c%\\")
            // The batch runner's look-up takes the whole id only: a prefix is not a run.
            #expect(try await store.run(exactID: "abd-new")?.id == "abd-new")
            #expect(try await store.run(exactID: "abd") == nil)
            #expect(try await store.run(exactID: "a_c%") == nil)
            #expect(try await store.run(exactID: "zzz") == nil)
            for (id, code) in [("ab", StoreError.Code.ambiguousID), ("zzz", .notFound), ("", .notFound)] {
                do {
                    _ = try await store.run(id: id)
                    Issue.record("expected \(code) for \(id)")
                } catch let error as StoreError {
                    #expect(error.code == code)
                }
            }
        }
    }

    /// A run still running lists what its recorded calls cost so far (its replayed calls were paid for by
    /// an earlier session), from the one listing query: `runs list` fetched every call of each such run to add
    /// them up, one more query per running run.
    @Test(arguments: StoreKind.available)
    func aRunningRunIsListedWithWhatItsCallsCostSoFar(kind: StoreKind) async throws {
        try await withStore(kind) { opened in
            let store = opened.store
            try await store.createRun(Fixture.run(id: "running"))
            try await store.record(Fixture.call(run: "running", node: "a"))
            try await store.record(Fixture.call(run: "running", node: "b"))
            try await store.record(Fixture.call(run: "running", node: "c", status: .replayed))
            let listed = try #require(try await store.listRuns(limit: 5).first)
            #expect(listed.status == "running")
            #expect(abs(listed.costUSD - 2 * 0.000135) < 1e-12, "\(listed.costUSD)")
        }
    }

    @Test(arguments: StoreKind.available)
    func exportHoldsRunRoundsAndCalls(kind: StoreKind) async throws {
        try await withStore(kind) { opened in
            let store = opened.store
            try await store.createRun(Fixture.run(id: "run-1"))
            try await store.record(Fixture.call())
            try await store.recordRound(
                runID: "run-1", round: 1, decisionJSON: #"{"converged":false}"#, at: Fixture.date)
            try await store.recordRound(
                runID: "run-1", round: 1, decisionJSON: #"{"converged":true}"#, at: Fixture.date)
            try await store.recordRound(
                runID: "run-1", round: 2, decisionJSON: #"{"converged":true}"#, at: Fixture.date)
            let export = try await store.export(runID: "run")
            #expect(export.run == Fixture.run(id: "run-1"))
            #expect(export.rounds.map(\.decisionJSON) == [#"{"converged":true}"#, #"{"converged":true}"#])
            #expect(export.rounds.map(\.round) == [1, 2])
            #expect(export.calls == [Fixture.call()])
            #expect(export.templateHashes == ["propose:abc"])
        }
    }

    @Test(arguments: StoreKind.available)
    func errorTextIsRedactedOfKeysBeforeStoring(kind: StoreKind) async throws {
        let key = "proj-9f8e7d6c5b4a3210ZZ"
        try await withStore(kind, redactor: Redactor(secrets: [key])) { opened in
            let echoed = Data(key.utf8).base64EncodedString()
            let anthropic = "sk-ant-api03-SECRETSECRETSECRET"
            try await opened.store.record(
                Fixture.call(status: .failed, error: "openai: denied for \(echoed) and \(key); \(anthropic)"))
            let stored = try #require(try await opened.store.calls(runID: "run-1").first?.error)
            #expect(stored.hasPrefix("openai: denied for [REDACTED]"))
            #expect(stored.hasSuffix(" and [REDACTED]; [REDACTED]"))
            #expect(!stored.contains(key) && !stored.contains(echoed.prefix(24)) && !stored.contains(anthropic))
        }
    }

    @Test(arguments: StoreKind.available)
    func writesStillCommitInACancelledTask(kind: StoreKind) async throws {
        try await withStore(kind) { opened in
            let store = opened.store
            try await store.createRun(Fixture.run(id: "run-1"))
            let task = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                try await store.record(Fixture.call())
                try await store.finishRun(
                    id: "run-1",
                    RunCompletion(
                        status: "cancelled", outcomeJSON: nil, costUSD: 0, inputTokens: 0, outputTokens: 0,
                        exitCode: 1, finishedAt: Fixture.date))
            }
            try await task.value
            #expect(try await store.calls(runID: "run-1").count == 1)
            #expect(try await store.run(id: "run-1").status == "cancelled")
        }
    }
}
