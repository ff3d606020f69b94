import Foundation
import RefineryCompiler
import RefineryRuntime
import RefineryStore
import Testing

@Suite struct SQLiteRunStoreTests {
    @Test func migrationsAreAppliedInOrderOnce() throws {
        let database = try TemporaryDatabase()
        defer { database.cleanup() }
        let first = try SQLiteRunStore(path: database.path)
        #expect(try first.appliedMigrations() == ["v1-runs-rounds-calls", "v2-batches", "v4-item-origin"])
        // Reopening an up-to-date file applies nothing new and keeps the data.
        let second = try SQLiteRunStore(path: database.path)
        #expect(try second.appliedMigrations() == ["v1-runs-rounds-calls", "v2-batches", "v4-item-origin"])
    }

    @Test func usesWriteAheadLogging() throws {
        let database = try TemporaryDatabase()
        defer { database.cleanup() }
        let store = try SQLiteRunStore(path: database.path)
        #expect(try store.journalMode() == "wal")
    }

    /// A new file is switched to WAL without syncs (nothing is in it yet); its commits after that are synced
    /// as on an existing file (`synchronous = NORMAL`), and what it recorded is there when it is opened again.
    @Test func aNewStoreCommitsLikeAnExistingOneAfterItsUnsyncedCreation() async throws {
        let database = try TemporaryDatabase()
        defer { database.cleanup() }
        do {
            let created = try SQLiteRunStore(path: database.path)
            #expect(try created.writerSynchronousForTesting() == 1)
            #expect(try created.journalMode() == "wal")
            try await created.createRun(Fixture.run(id: "run-1"))
        }
        let reopened = try SQLiteRunStore(path: database.path)
        #expect(try reopened.writerSynchronousForTesting() == 1)
        #expect(try await reopened.run(id: "run-1") == Fixture.run(id: "run-1"))
        #expect(try reopened.appliedMigrations() == ["v1-runs-rounds-calls", "v2-batches", "v4-item-origin"])
    }

    @Test func runRoundTripsWithProvenanceAndSeed() async throws {
        let store = try SQLiteRunStore(path: ":memory:")
        try await store.createRun(Fixture.run(id: "run-1"))
        let stored = try await store.run(id: "run-1")
        #expect(stored == Fixture.run(id: "run-1"))
        #expect(stored.seed == UInt64.max - 7)
        #expect(stored.provenance.gitCommit == "1234abcd")
        #expect(
            stored.resolvedModels == [
                "gpt-4o#1": "openai/gpt-4o", "claude": "anthropic/claude-opus-4-6",
                "arbiter": "anthropic/claude-opus-4-6",
            ])
    }

    @Test func finishRunRecordsOutcomeAndTotals() async throws {
        let store = try SQLiteRunStore(path: ":memory:")
        try await store.createRun(Fixture.run(id: "run-1"))
        try await store.finishRun(
            id: "run-1",
            RunCompletion(
                status: "converged", outcomeJSON: #"{"status":"converged"}"#, costUSD: 0.25, inputTokens: 100,
                outputTokens: 40, exitCode: 0, finishedAt: Fixture.date.addingTimeInterval(30),
                anonymization: ["claude": ["A": "gpt-4o#1"]]))
        let stored = try await store.run(id: "run-1")
        #expect(stored.status == "converged")
        #expect(stored.outcomeJSON == #"{"status":"converged"}"#)
        #expect(stored.costUSD == 0.25)
        #expect(stored.inputTokens == 100)
        #expect(stored.outputTokens == 40)
        #expect(stored.exitCode == 0)
        #expect(stored.finishedAt == Fixture.date.addingTimeInterval(30))
        #expect(stored.anonymization == ["claude": ["A": "gpt-4o#1"]])
    }

    @Test func callRoundTripsAndServesReplies() async throws {
        let store = try SQLiteRunStore(path: ":memory:")
        try await store.record(Fixture.call())
        #expect(try await store.calls(runID: "run-1") == [Fixture.call()])
        let reply = try await store.recordedReply(
            runID: "run-1", round: 1, node: "s0.propose[claude]", requestHash: "req-1")
        #expect(reply?.reply.text == "4")
        #expect(reply?.reply.usage == TokenUsage(inputTokens: 12, outputTokens: 3))
    }

    @Test(arguments: [
        (1, "s0.propose[claude]", "other-hash"),
        (2, "s0.propose[claude]", "req-1"),
        (1, "s0.propose[gpt-4o#1]", "req-1"),
    ])
    func replyIsServedOnlyForTheExactCall(round: Int, node: String, hash: String) async throws {
        let store = try SQLiteRunStore(path: ":memory:")
        try await store.record(Fixture.call())
        #expect(try await store.recordedReply(runID: "run-1", round: round, node: node, requestHash: hash) == nil)
        #expect(
            try await store.recordedReply(runID: "run-2", round: 1, node: "s0.propose[claude]", requestHash: "req-1")
                == nil)
    }

    @Test func failedCallIsNeverServed() async throws {
        let store = try SQLiteRunStore(path: ":memory:")
        try await store.record(Fixture.call(status: .failed, error: "openai: overloaded (overloaded, HTTP 529)"))
        #expect(
            try await store.recordedReply(runID: "run-1", round: 1, node: "s0.propose[claude]", requestHash: "req-1")
                == nil)
        #expect(try await store.calls(runID: "run-1").first?.error == "openai: overloaded (overloaded, HTTP 529)")
    }

    @Test func aSucceededCallIsStoredOnce() async throws {
        let store = try SQLiteRunStore(path: ":memory:")
        try await store.record(Fixture.call(text: "first"))
        try await store.record(Fixture.call(text: "second"))
        let calls = try await store.calls(runID: "run-1")
        #expect(calls.count == 1)
        #expect(calls.first?.reply?.text == "first")
    }

    @Test func committedCallsSurviveForASecondStoreOnTheSameFile() async throws {
        let database = try TemporaryDatabase()
        defer { database.cleanup() }
        let writer = try SQLiteRunStore(path: database.path)
        try await writer.record(Fixture.call(node: "a"))
        try await writer.record(Fixture.call(node: "b"))
        // A second process (here: a second connection pool) sees every committed call at once,
        // without the first one closing: what a resume after SIGKILL relies on.
        let reader = try SQLiteRunStore(path: database.path)
        #expect(try await reader.calls(runID: "run-1").map(\.node) == ["a", "b"])
        #expect(try await reader.recordedReply(runID: "run-1", round: 1, node: "b", requestHash: "req-1")?.reply.text == "4")
    }

    /// Calls that finish together are committed together; each `record` still returns only once its
    /// call is committed, readable by another connection (another process resuming the run).
    @Test func callsRecordedConcurrentlyAreAllCommittedBeforeRecordReturns() async throws {
        let database = try TemporaryDatabase()
        defer { database.cleanup() }
        let writer = try SQLiteRunStore(path: database.path)
        let reader = try SQLiteRunStore(path: database.path)
        let nodes = (0..<300).map { "s1.evaluate[m\($0)]" }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for node in nodes {
                group.addTask {
                    try await writer.record(Fixture.call(node: node, hash: node))
                    // Committed by now: another connection sees it.
                    let reply = try await reader.recordedReply(runID: "run-1", round: 1, node: node, requestHash: node)
                    #expect(reply?.reply.text == "4")
                }
            }
            try await group.waitForAll()
        }
        #expect(Set(try await reader.calls(runID: "run-1").map(\.node)) == Set(nodes))
        #expect(try await reader.hasRecordedReplies(runID: "run-1"))
        #expect(try await reader.hasRecordedReplies(runID: "run-2") == false)
    }

    @Test func theEnginesRequestJSONIsStoredAsGivenAndReadsBackAsTheRequest() async throws {
        let store = try SQLiteRunStore(path: ":memory:")
        var call = Fixture.call()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        call.requestJSON = String(decoding: try encoder.encode(call.request), as: UTF8.self)
        try await store.record(call)
        let stored = try #require(try await store.calls(runID: "run-1").first)
        #expect(stored.request == call.request)
        #expect(stored.reply == call.reply)
    }

    @Test func runsAreListedNewestFirstWithCallCounts() async throws {
        let store = try SQLiteRunStore(path: ":memory:")
        try await store.createRun(Fixture.run(id: "old", startedAt: Fixture.date))
        try await store.createRun(Fixture.run(id: "new", startedAt: Fixture.date.addingTimeInterval(60)))
        try await store.record(Fixture.call(run: "new", node: "a"))
        try await store.record(Fixture.call(run: "new", node: "b", status: .replayed))
        let runs = try await store.listRuns()
        #expect(runs.map(\.id) == ["new", "old"])
        #expect(runs.map(\.calls) == [1, 0])
        #expect(runs.first?.gitCommit == "1234abcd")
        #expect(try await store.listRuns(limit: 1).map(\.id) == ["new"])
    }

    @Test func runIsFoundByUniquePrefix() async throws {
        let store = try SQLiteRunStore(path: ":memory:")
        try await store.createRun(Fixture.run(id: "abc-123"))
        try await store.createRun(Fixture.run(id: "abd-456"))
        #expect(try await store.run(id: "abc").id == "abc-123")
        await #expect(throws: StoreError.self) { try await store.run(id: "ab") }
        do {
            _ = try await store.run(id: "zzz")
            Issue.record("expected notFound")
        } catch let error as StoreError {
            #expect(error.code == .notFound)
        }
        do {
            _ = try await store.run(id: "ab")
        } catch let error as StoreError {
            #expect(error.code == .ambiguousID)
        }
    }

    @Test func exportHoldsRunRoundsAndCalls() async throws {
        let store = try SQLiteRunStore(path: ":memory:")
        try await store.createRun(Fixture.run(id: "run-1"))
        try await store.record(Fixture.call())
        try await store.recordRound(runID: "run-1", round: 1, decisionJSON: #"{"converged":false}"#, at: Fixture.date)
        try await store.recordRound(runID: "run-1", round: 1, decisionJSON: #"{"converged":true}"#, at: Fixture.date)
        let export = try await store.export(runID: "run-1")
        #expect(export.run.id == "run-1")
        #expect(export.rounds.map(\.decisionJSON) == [#"{"converged":true}"#])
        #expect(export.calls.count == 1)
        // The template hashes the run row holds are part of "everything about the run".
        #expect(export.templateHashes == ["propose:abc"])
        let json = String(decoding: try JSONEncoder().encode(export), as: UTF8.self)
        #expect(json.contains(#""template_hashes":["propose:abc"]"#))
    }

    /// The workflow snapshot is plain JSON (`{"propose": {...}}`), not Swift's `{"propose": {"_0": ...}}`,
    /// and a snapshot an older version stored in that shape still reads back (so its runs resume).
    @Test func workflowSnapshotIsPlainJSONAndTheOlderShapeStillReads() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var workflow = Fixture.workflow
        workflow.stages.append(.propose(ProposeStage(common: StageCommon(by: .named(["claude"])))))
        workflow.convergence = Convergence(strategy: .semantic(SemanticOptions()))
        let json = String(decoding: try encoder.encode(workflow), as: UTF8.self)
        #expect(!json.contains("_0"))
        #expect(json.contains(#""by":{"named":["claude"]}"#))
        #expect(try JSONDecoder().decode(Workflow.self, from: Data(json.utf8)) == workflow)

        let propose = String(decoding: try encoder.encode(ProposeStage()), as: UTF8.self)
        let close = String(decoding: try encoder.encode(CloseStage()), as: UTF8.self)
        let legacy = #"[{"propose":{"_0":\#(propose)}},{"repeat":{"_0":[{"close":{"_0":\#(close)}}]}}]"#
        let stages = try JSONDecoder().decode([Stage].self, from: Data(legacy.utf8))
        #expect(stages == [.propose(ProposeStage()), .repeat([.close(CloseStage())])])
        let named = try JSONDecoder().decode(Participants.self, from: Data(#"{"named":{"_0":["a"]}}"#.utf8))
        #expect(named == .named(["a"]))
    }

    @Test func errorTextIsScrubbedOfKeysBeforeStoring() async throws {
        let database = try TemporaryDatabase()
        defer { database.cleanup() }
        let store = try SQLiteRunStore(path: database.path)
        let key = "sk-ant-api03-SECRETSECRETSECRET"
        try await store.record(
            Fixture.call(status: .failed, error: "anthropic: invalid x-api-key \(key) (authentication)"))
        let stored = try await store.calls(runID: "run-1").first?.error
        #expect(stored == "anthropic: invalid x-api-key [REDACTED] (authentication)")
        let bytes = [database.path, database.path + "-wal"].compactMap { FileManager.default.contents(atPath: $0) }
        #expect(bytes.contains { $0.range(of: Data(key.utf8)) != nil } == false)
        #expect(bytes.contains { $0.range(of: Data("claude-opus-4-6".utf8)) != nil })
    }

    @Test func providerErrorCauseIsShownAndRecordedWithoutKeys() async throws {
        let error = ProviderError(
            code: .network, message: "The provider failed.", provider: "openai",
            cause: "connection reset while sending Authorization: Bearer sk-live-SECRETSECRET1234")
        #expect(
            error.description
                == "openai: The provider failed. (network); caused by: connection reset while sending "
                + "Authorization: Bearer sk-live-SECRETSECRET1234")
        #expect(ProviderError(code: .network, message: "m", provider: "p").cause == nil)
        let store = try SQLiteRunStore(path: ":memory:")
        try await store.record(Fixture.call(status: .failed, error: error.description))
        #expect(
            try await store.calls(runID: "run-1").first?.error
                == "openai: The provider failed. (network); caused by: connection reset while sending "
                + "Authorization: Bearer [REDACTED]")
    }

    @Test func defaultPathFollowsXDG() {
        #expect(
            SQLiteRunStore.defaultPath(environment: ["XDG_DATA_HOME": "/x/data", "HOME": "/home/u"])
                == "/x/data/refinery/refinery.db")
        #expect(
            SQLiteRunStore.defaultPath(environment: ["HOME": "/home/u"]) == "/home/u/.local/share/refinery/refinery.db")
    }

    @Test func unopenablePathIsAStoreError() {
        do {
            _ = try SQLiteRunStore(path: "/proc/refinery-cannot-exist/refinery.db")
            Issue.record("expected cannotOpen")
        } catch let error as StoreError {
            #expect(error.code == .cannotOpen)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

/// Opening a store file: concurrent creation, damaged files, newer schemas, paths that are not files.
@Suite struct SQLiteRunStoreOpeningTests {
    /// Several processes creating the same new store at once all succeed: switching the new file to WAL
    /// and migrating it wait for each other (they failed with "database is locked" or "written by a
    /// newer Refinery", and the run was lost).
    @Test func storesCreatingTheSameNewFileAtOnceAllSucceed() async throws {
        for _ in 0..<12 {
            let database = try TemporaryDatabase()
            defer { database.cleanup() }
            let path = database.path
            let failures = try await withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        try await offloadedToThread {
                            do {
                                _ = try SQLiteRunStore(path: path)
                                return nil
                            } catch {
                                return "\(error)"
                            }
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { if let failure = $1 { $0.append(failure) } }
            }
            #expect(failures.isEmpty, "\(failures)")
            #expect(try SQLiteRunStore(path: path).appliedMigrations() == ["v1-runs-rounds-calls", "v2-batches", "v4-item-origin"])
        }
    }

    /// A file that is not a database is reported as damaged, with what to do, and left byte for byte as it was.
    @Test func aFileThatIsNotADatabaseIsDamagedAndLeftUnchanged() throws {
        let database = try TemporaryDatabase()
        defer { database.cleanup() }
        let garbage = Data(String(repeating: "not a database, ", count: 400).utf8)
        try garbage.write(to: URL(fileURLWithPath: database.path))
        let error = try #require(throws: StoreError.self) { try SQLiteRunStore(path: database.path) }
        #expect(error.code == .damaged)
        #expect(error.message.contains("is damaged"))
        #expect(error.message.contains("mv "))
        #expect(!error.message.contains("writable"))
        #expect(FileManager.default.contents(atPath: database.path) == garbage)
        #expect(!FileManager.default.fileExists(atPath: database.path + "-wal"))
    }

    /// A store whose pages were damaged fails the integrity check before anything is written into it.
    @Test func aStoreWithDamagedPagesIsRefusedBeforeAnyWrite() async throws {
        let database = try TemporaryDatabase()
        defer { database.cleanup() }
        do {
            let store = try SQLiteRunStore(path: database.path)
            for index in 0..<40 { try await store.createRun(Fixture.run(id: "run-\(index)")) }
            try store.executeForTesting("PRAGMA wal_checkpoint(TRUNCATE)")
        }
        var bytes = try #require(FileManager.default.contents(atPath: database.path))
        #expect(bytes.count > 8192)
        // Scribble over the second page (a b-tree page), keeping the header intact.
        for offset in 4096..<4200 { bytes[offset] = 0xA5 }
        try bytes.write(to: URL(fileURLWithPath: database.path))
        try? FileManager.default.removeItem(atPath: database.path + "-wal")
        try? FileManager.default.removeItem(atPath: database.path + "-shm")
        let error = try #require(throws: StoreError.self) { try SQLiteRunStore(path: database.path) }
        #expect(error.code == .damaged)
        #expect(FileManager.default.contents(atPath: database.path) == bytes)
    }

    /// A store migrated by a newer Refinery (a migration this build does not know) is refused.
    @Test func aStoreMigratedByANewerRefineryIsRefused() throws {
        let database = try TemporaryDatabase()
        defer { database.cleanup() }
        try SQLiteRunStore(path: database.path).executeForTesting(
            "INSERT INTO grdb_migrations (identifier) VALUES ('v9-from-the-future')")
        let error = try #require(throws: StoreError.self) { try SQLiteRunStore(path: database.path) }
        #expect(error.code == .newerSchema)
        #expect(error.message.contains("newer Refinery"))
    }

    @Test(arguments: ["folder", "fifo"])
    func aPathThatIsNotAFileIsRefusedWithoutWaiting(kind: String) throws {
        let database = try TemporaryDatabase()
        defer { database.cleanup() }
        if kind == "folder" {
            try FileManager.default.createDirectory(atPath: database.path, withIntermediateDirectories: true)
        } else {
            #expect(mkfifo(database.path, 0o600) == 0)
        }
        let error = try #require(throws: StoreError.self) { try SQLiteRunStore(path: database.path) }
        #expect(error.code == .cannotOpen)
        #expect(error.message.contains(kind == "folder" ? "is a folder" : "is a FIFO"))
    }
}

/// Runs blocking work on a thread of its own, off the cooperative pool.
private func offloadedToThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

@Suite struct SQLiteRunStoreCancellationTests {
    @Test func writesStillCommitInACancelledTask() async throws {
        let store = try SQLiteRunStore(path: ":memory:")
        try await store.createRun(Fixture.run(id: "run-1"))
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await store.record(Fixture.call())
            try await store.finishRun(
                id: "run-1",
                RunCompletion(
                    status: "cancelled", outcomeJSON: nil, costUSD: 0, inputTokens: 0, outputTokens: 0, exitCode: 1,
                    finishedAt: Fixture.date))
        }
        try await task.value
        #expect(try await store.calls(runID: "run-1").count == 1)
        #expect(try await store.run(id: "run-1").status == "cancelled")
    }
}

extension SQLiteRunStoreTests {
    @Test func errorTextIsRedactedOfTheRunsKeysInAnyEncoding() async throws {
        let key = "proj-9f8e7d6c5b4a3210ZZ"
        let store = try SQLiteRunStore(path: ":memory:", redactor: Redactor(secrets: [key]))
        let echoed = Data(key.utf8).base64EncodedString()
        try await store.record(Fixture.call(status: .failed, error: "openai: denied for \(echoed) and \(key)"))
        let stored = try #require(try await store.calls(runID: "run-1").first?.error)
        #expect(stored.hasPrefix("openai: denied for [REDACTED]"))
        #expect(stored.hasSuffix(" and [REDACTED]"))
        #expect(!stored.contains(key) && !stored.contains(echoed.prefix(24)))
    }
}
