import Foundation
import RefineryCompiler
import RefineryRuntime
import RefineryStore
import RefineryTestSupport
import Testing

/// A fresh temporary database file, removed by the caller with `cleanup()`.
struct TemporaryDatabase {
    let directory: URL
    var path: String { directory.appendingPathComponent("refinery.db").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("refinery-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func cleanup() {
        try? FileManager.default.removeItem(at: directory)
    }
}

enum Fixture {
    static let date = Date(timeIntervalSince1970: 1_790_000_000)

    static let workflow = Workflow(
        name: "consensus",
        members: [
            Member(
                id: "gpt-4o#1", model: ModelRef(provider: "openai", model: "gpt-4o"),
                params: ModelParams(temperature: 0.7)),
            Member(id: "claude", model: ModelRef(provider: "anthropic", model: "claude-opus-4-6", alias: "claude")),
        ],
        arbiter: Arbiter(model: ModelRef(provider: "anthropic", model: "claude-opus-4-6")),
        stages: [
            .propose(ProposeStage(common: StageCommon(prompt: PromptTemplate(user: "{{prompt}}", sha256: "abc")))),
            .repeat([.evaluate(EvaluateStage()), .close(CloseStage())]),
        ],
        provenance: Provenance(path: "builtin:consensus", contentSHA256: "ff00", gitCommit: "1234abcd", gitDirty: false)
    )

    static func run(id: String, startedAt: Date = date) -> StoredRun {
        StoredRun(
            id: id, workflowName: "consensus", prompt: "What is 2+2?", promptHash: "h", workflow: workflow,
            provenance: workflow.provenance, seed: UInt64.max - 7, variables: ["audience": "kids"],
            startedAt: startedAt)
    }

    static func call(
        run: String = "run-1", round: Int = 1, node: String = "s0.propose[claude]", hash: String = "req-1",
        status: CallStatus = .succeeded, text: String = "4", error: String? = nil
    ) -> CallRecord {
        CallRecord(
            runID: run, round: round, node: node, participant: "claude", requestHash: hash,
            request: ModelRequest(
                model: ModelRef(provider: "anthropic", model: "claude-opus-4-6"), system: "Be precise.",
                messages: [ChatMessage(role: .user, content: "What is 2+2?")]),
            reply: status == .failed
                ? nil
                : ModelReply(
                    text: text, usage: TokenUsage(inputTokens: 12, outputTokens: 3), model: "claude-opus-4-6",
                    finishReason: "end_turn"),
            error: error, status: status, attempts: 2, latencyMs: 840, costUSD: 0.000135,
            startedAt: date, finishedAt: date.addingTimeInterval(1))
    }
}

/// The PostgreSQL server of the shared-ledger tests: `REFINERY_TEST_POSTGRES`
/// (`postgres://USER:PASSWORD@HOST:PORT/DB`), which `.ci/run` starts and exports. Without it the
/// PostgreSQL tests are skipped, except under CI (`CI=true`), where they must run.
enum PostgresTestServer {
    static let url: String? = ProcessInfo.processInfo.environment["REFINERY_TEST_POSTGRES"].flatMap {
        $0.isEmpty ? nil : $0
    }
    static let requiredByCI = ProcessInfo.processInfo.environment["CI"] == "true"
    /// Whether the PostgreSQL cases run: a server is named, or CI requires them (and they fail if it is not).
    static let enabled = url != nil || requiredByCI
    static let skipReason = Comment(
        rawValue:
            "REFINERY_TEST_POSTGRES names no PostgreSQL server (e.g. postgres://user:password@127.0.0.1:5432/db); "
            + "`source .ci/postgres.sh && postgres_start` starts a throwaway one")

    static func location() throws -> PostgresLocation {
        let url = try #require(url, "CI=true requires REFINERY_TEST_POSTGRES (set by .ci/run)")
        return try PostgresLocation(url: url, environment: [:])
    }

    /// A new, empty database on the test server, dropped by `drop()`.
    struct Database {
        let location: PostgresLocation
        private let admin: PostgresRunStore

        /// On the shared test server, or with `onFaultServer` on the one the fault tests restart.
        init(onFaultServer: Bool = false) async throws {
            let base =
                onFaultServer
                ? try PostgresLocation(
                    url: try #require(FaultServer.url, "CI=true requires REFINERY_TEST_POSTGRES_FAULTS"),
                    environment: [:])
                : try PostgresTestServer.location()
            admin = try await PostgresRunStore.open(base)
            var location = base
            location.database = "refinery_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            try await admin.executeForTesting("CREATE DATABASE \(location.database)")
            self.location = location
        }

        func open(redactor: Redactor = Redactor()) async throws -> PostgresRunStore {
            try await PostgresRunStore.open(location, redactor: redactor)
        }

        func drop() async {
            try? await admin.executeForTesting("DROP DATABASE IF EXISTS \(location.database) WITH (FORCE)")
            await admin.close()
        }
    }
}
