import Foundation
import Refinery
import RefineryStore
import RefineryTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The test PostgreSQL server (`REFINERY_TEST_POSTGRES`, started by `.ci/run`), for the CLI's shared
/// ledger. Without one the tests are skipped, except under CI.
enum PostgresLedger {
    static let url: String? = ProcessInfo.processInfo.environment["REFINERY_TEST_POSTGRES"].flatMap {
        $0.isEmpty ? nil : $0
    }
    static let enabled = url != nil || ProcessInfo.processInfo.environment["CI"] == "true"
    static let skipReason = Comment(
        rawValue:
            "REFINERY_TEST_POSTGRES names no PostgreSQL server; `source .ci/postgres.sh && postgres_start` starts one")

    /// A new database on the test server: its URL *without* the password (the binary gets that from
    /// PGPASSWORD), the password, and a way to drop it.
    struct Database {
        let url: String
        let password: String
        private let admin: PostgresRunStore
        private let name: String

        /// On the shared test server, or with `onFaultServer` on the one the fault tests restart and stop.
        init(onFaultServer: Bool = false) async throws {
            let serverURL =
                onFaultServer
                ? try #require(FaultServer.url, "CI=true requires REFINERY_TEST_POSTGRES_FAULTS")
                : try #require(PostgresLedger.url, "CI=true requires REFINERY_TEST_POSTGRES")
            let server = try PostgresLocation(url: serverURL, environment: [:])
            admin = try await PostgresRunStore.open(server)
            name = "refinery_cli_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            try await admin.executeForTesting("CREATE DATABASE \(name)")
            var location = server
            location.database = name
            url = location.description
            password = try #require(server.password, "the test server's URL carries its password")
        }

        func drop() async {
            try? await admin.executeForTesting("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            await admin.close()
        }

        /// Runs `body`, then drops the database, whether `body` threw or not.
        func use<T>(_ body: () async throws -> T) async throws -> T {
            do {
                let result = try await body()
                await drop()
                return result
            } catch {
                await drop()
                throw error
            }
        }

        /// The sandbox environment pointed at `server`, with this database's password in PGPASSWORD.
        func environment(_ sandbox: Sandbox, _ server: FakeServer) -> [String: String] {
            var environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
            environment["PGPASSWORD"] = password
            return environment
        }
    }

    /// What the PostgreSQL CLI tests start from: the binary, a sandbox, a new database (on the shared test server,
    /// or with `onFaultServer` on the one the fault tests restart), and a fake OpenAI-compatible server answering
    /// each request with `reply`, the environment pointing at both (the password in PGPASSWORD). The database is
    /// dropped and the sandbox removed after, whatever `body` did.
    static func withLedger<T: Sendable>(
        onFaultServer: Bool = false, reply: @escaping @Sendable (RecordedRequest) -> FakeReply,
        _ body: @Sendable (RefineryBinary, Sandbox, Database, FakeServer, [String: String]) async throws -> T
    ) async throws -> T {
        let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
        let sandbox = try Sandbox()
        defer { sandbox.cleanup() }
        let database = try await Database(onFaultServer: onFaultServer)
        return try await database.use {
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, handler: reply)
                return try await body(binary, sandbox, database, server, database.environment(sandbox, server))
            }
        }
    }

    /// Writes `count` questions to the sandbox's `in.jsonl` (ids `q0`, `q1`, ...), a batch's input.
    static func writeQuestions(_ count: Int, to sandbox: Sandbox) throws -> [String] {
        let questions = (1...count).map { "What is \($0)+\($0)?" }
        let input = questions.enumerated().map { #"{"id":"q\#($0.offset)","question":"\#($0.element)"}"# }
        try sandbox.write("in.jsonl", Data((input.joined(separator: "\n") + "\n").utf8))
        return questions
    }

    /// The requests `server` received after its first `start` that were about `question`.
    static func hits(_ server: FakeServer, _ question: String, since start: Int) -> Int {
        server.requests.dropFirst(start).filter { $0.body.contains(question) }.count
    }
}

extension CLIEndToEnd {
    /// `--store postgres://...`: every ledger command works on PostgreSQL as on SQLite, and the
    /// database password is never printed.
    @Suite(.enabled(if: PostgresLedger.enabled, PostgresLedger.skipReason))
    struct PostgresLedgerCLITests {
        private static let delay = Duration.milliseconds(120)
        private static let answer = FakeOpenAI.completion(CLIHarness.universalReply())

        private func arguments(_ store: String, _ extra: [String] = []) -> [String] {
            [
                "What is 2+2?", "--models", CLIHarness.threeModels, "--max-concurrent", "2", "--seed", "7",
                "--output-format", "json", "--store", store,
            ] + extra
        }

        @Test func runThenListShowExportAndReportReadTheSharedLedger() async throws {
            let (password, outputs) = try await PostgresLedger.withLedger(reply: { _ in Self.answer }) {
                binary, sandbox, database, server, environment in
                var outputs: [String] = []
                let run = try await binary.run(
                    arguments(database.url), environment: environment, directory: sandbox.root)
                outputs += [run.stdout, run.stderr]
                #expect(run.exitCode == 0, "\(run.stderr)")
                let id = try #require(try CLIHarness.json(run.stdout)["run_id"] as? String)
                let calls = server.requests.count

                // REFINERY_STORE selects the same ledger as --store.
                var viaVariable = environment
                viaVariable["REFINERY_STORE"] = database.url
                let list = try await binary.run(
                    ["runs", "list", "--output-format", "json"], environment: viaVariable, directory: sandbox.root)
                outputs += [list.stdout, list.stderr]
                let runs = try #require(
                    try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
                #expect(runs.map { $0["id"] as? String } == [id])
                #expect(runs.first?["status"] as? String == "converged")
                #expect(runs.first?["calls"] as? Int == calls)

                let show = try await binary.run(
                    ["runs", "show", String(id.prefix(8)), "--store", database.url], environment: environment,
                    directory: sandbox.root)
                outputs += [show.stdout, show.stderr]
                #expect(show.exitCode == 0, "\(show.stderr)")
                #expect(show.stdout.contains(id))

                let export = try await binary.run(
                    ["runs", "export", id, "--store", database.url], environment: environment,
                    directory: sandbox.root)
                outputs += [export.stdout, export.stderr]
                let exported = try CLIHarness.json(export.stdout)
                #expect((exported["calls"] as? [[String: Any]])?.count == calls)
                #expect((exported["run"] as? [String: Any])?["id"] as? String == id)

                let report = try await binary.run(
                    ["report", id, "--store", database.url], environment: environment, directory: sandbox.root)
                outputs += [report.stdout, report.stderr]
                #expect(report.exitCode == 0, "\(report.stderr)")
                #expect(report.stdout.contains("<html") && report.stdout.contains(id))

                // A wrong password: a clear error, exit 4, and still no password printed.
                var wrong = environment
                wrong["PGPASSWORD"] = "wrong-\(database.password)"
                let refused = try await binary.run(
                    ["runs", "list", "--store", database.url], environment: wrong, directory: sandbox.root)
                outputs += [refused.stdout, refused.stderr]
                #expect(refused.exitCode == 4)
                #expect(refused.stderr.contains("refused the login"))
                return (database.password, outputs)
            }
            for output in outputs { #expect(!output.contains(password), "the password was printed") }
        }

        /// `sslmode=require` against a server without TLS (the test server's) says so, at once: it said "the server
        /// did not answer within 30 seconds" after a fifth of a second.
        /// Reading commands on a database with no ledger in it (`runs list`, `batch list`, `report`) read it as
        /// empty and create no table there (they ran the migrations at open: a typo'd database name became a
        /// ledger); a recording command then creates it. An unreachable server is refused, exit 4.
        @Test func readingCommandsCreateNoTables() async throws {
            try await PostgresLedger.withLedger(reply: { _ in Self.answer }) {
                binary, sandbox, database, _, environment in
                func tables() async throws -> Int {
                    var location = try PostgresLocation(url: database.url, environment: environment)
                    location.password = database.password
                    let store = try await PostgresRunStore.openRecorded(location)
                    await store?.close()
                    return store == nil ? 0 : 1
                }
                let list = try await binary.run(
                    ["runs", "list", "--output-format", "json", "--store", database.url],
                    environment: environment, directory: sandbox.root)
                #expect(list.exitCode == 0, "\(list.stderr)")
                let listed = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [Any]
                #expect(listed?.isEmpty == true, "\(list.stdout)")
                let batches = try await binary.run(
                    ["batch", "list", "--store", database.url], environment: environment, directory: sandbox.root)
                #expect(batches.exitCode == 0, "\(batches.stderr)")
                let report = try await binary.run(
                    ["report", "abc123", "--store", database.url, "-o", "r.html"], environment: environment,
                    directory: sandbox.root)
                #expect(report.exitCode != 0)
                #expect(try await tables() == 0, "a reading command created Refinery's tables")

                let run = try await binary.run(
                    arguments(database.url), environment: environment, directory: sandbox.root)
                #expect(run.exitCode == 0, "\(run.stderr)")
                #expect(try await tables() == 1)
                let after = try await binary.run(
                    ["runs", "list", "--output-format", "json", "--store", database.url],
                    environment: environment, directory: sandbox.root)
                let runs = try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [[String: Any]]
                #expect(runs?.count == 1, "\(after.stdout)")

                // No server listens on port 9: refused with exit 4, not read as empty.
                let unreachable = try await binary.run(
                    ["runs", "list", "--store", "postgres://refinery@127.0.0.1:9/nothing?connect_timeout=1"],
                    environment: CLIHarness.environment(home: sandbox.root, baseURL: "http://127.0.0.1:9"),
                    directory: sandbox.root)
                #expect(unreachable.exitCode == 4, "\(unreachable.stderr)")
                #expect(unreachable.stderr.contains("Cannot connect to the run store"), "\(unreachable.stderr)")
            }
        }

        @Test func aServerWithoutTLSIsNamedForSslmodeRequire() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let database = try await PostgresLedger.Database()
            var environment = RefineryBinary.environment(home: sandbox.root)
            environment["PGPASSWORD"] = database.password
            let result = try await binary.run(
                ["runs", "list", "--store", database.url + "?sslmode=require"], environment: environment,
                directory: sandbox.root)
            await database.drop()
            #expect(result.exitCode == 4)
            #expect(result.stderr.contains("does not accept TLS"), "\(result.stderr)")
            #expect(!result.stderr.contains("did not answer"), "\(result.stderr)")
        }

        @Test func aPasswordInTheURLIsNeverPrinted() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let database = try await PostgresLedger.Database()
            let withPassword = database.url.replacingOccurrences(of: "@", with: ":\(database.password)@")
            let environment = RefineryBinary.environment(home: sandbox.root)
            var results: [RefineryBinary.Result] = []
            for command in [
                ["runs", "list", "--store", withPassword], ["runs", "show", "nope", "--store", withPassword],
                ["runs", "list", "--store", withPassword + "?sslmode=bogus"],
                ["runs", "list", "--store", withPassword.replacingOccurrences(of: "/refinery_cli", with: "/x/y")],
            ] {
                results.append(try await binary.run(command, environment: environment, directory: sandbox.root))
            }
            await database.drop()
            #expect(results.map(\.exitCode) == [0, 4, 4, 4])
            #expect(results[2].stderr.contains("sslmode must be"))
            #expect(results[3].stderr.contains("postgres://USER@HOST:PORT/DATABASE"))
            for result in results {
                #expect(!result.stdout.contains(database.password) && !result.stderr.contains(database.password))
            }
        }

        /// `~/.pgpass` (libpq's format) gives the password; one that others can read is ignored, as libpq
        /// ignores it, and the refused login says why.
        @Test func thePasswordComesFromPgpassAndAnOpenFileIsIgnored() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let database = try await PostgresLedger.Database()
            let pgpass = sandbox.root.appendingPathComponent(".pgpass").path
            let escaped = database.password.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: ":", with: "\\:")
            try "# the test server\nnot-this-host:*:*:*:wrong\n*:*:*:*:\(escaped)\n".write(
                toFile: pgpass, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: pgpass)
            let environment = RefineryBinary.environment(home: sandbox.root)
            let readable = try await binary.run(
                ["runs", "list", "--store", database.url], environment: environment, directory: sandbox.root)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: pgpass)
            let ignored = try await binary.run(
                ["runs", "list", "--store", database.url], environment: environment, directory: sandbox.root)
            await database.drop()
            #expect(readable.exitCode == 0, "\(readable.stderr)")
            #expect(ignored.exitCode == 4)
            #expect(ignored.stderr.contains("chmod 600 \(pgpass)"), "\(ignored.stderr)")
            for output in [readable.stdout, readable.stderr, ignored.stdout, ignored.stderr] {
                #expect(!output.contains(database.password))
            }
        }

        /// The binary killed with SIGKILL mid-run against a PostgreSQL ledger, then `resume`: no call
        /// finished before the kill reaches the server again.
        @Test(arguments: [3, 9])
        func killedRunResumesWithoutPayingTwice(killAfterRequests: Int) async throws {
            try await PostgresLedger.withLedger(reply: { _ in .delayed(Self.delay, Self.answer) }) {
                binary, sandbox, database, server, environment in
                let reference = try await binary.run(
                    arguments(sandbox.root.appendingPathComponent("reference.db").path), environment: environment,
                    directory: sandbox.root)
                #expect(reference.exitCode == 0, "\(reference.stderr)")
                let referenceCalls = server.requests.count

                let running = try binary.start(
                    arguments(database.url), environment: environment, directory: sandbox.root)
                let deadline = ContinuousClock.now + .seconds(30)
                while server.requests.count - referenceCalls < killAfterRequests && running.process.isRunning
                    && ContinuousClock.now < deadline
                {
                    try await Task.sleep(for: .milliseconds(5))
                }
                kill(running.process.processIdentifier, SIGKILL)
                try await running.wait()
                #expect(running.process.terminationReason == .uncaughtSignal)

                let list = try await binary.run(
                    ["runs", "list", "--store", database.url, "--output-format", "json"],
                    environment: environment, directory: sandbox.root)
                let runs = try #require(
                    try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
                let id = try #require(runs.first?["id"] as? String)
                // No process runs it any more: its session's advisory lock went with the killed process.
                #expect(runs.first?["status"] as? String == "interrupted")
                let export = try await binary.run(
                    ["runs", "export", id, "--store", database.url], environment: environment,
                    directory: sandbox.root)
                let recorded = (try CLIHarness.json(export.stdout)["calls"] as? [[String: Any]] ?? [])
                    .filter { $0["status"] as? String == "succeeded" }.count
                #expect(recorded <= killAfterRequests)

                let beforeResume = server.requests.count
                let resumed = try await binary.run(
                    ["resume", id, "--store", database.url, "--output-format", "json"], environment: environment,
                    directory: sandbox.root)
                #expect(resumed.exitCode == 0, "\(resumed.stderr)")
                #expect(server.requests.count - beforeResume == referenceCalls - recorded)
                let final = try CLIHarness.json(resumed.stdout)
                let first = try CLIHarness.json(reference.stdout)
                #expect(final["status"] as? String == first["status"] as? String)
                #expect(
                    (final["winner"] as? [String: Any])?["answer"] as? String
                        == (first["winner"] as? [String: Any])?["answer"] as? String)
            }
        }

        /// `refinery batch` on a PostgreSQL ledger, killed with SIGKILL after `killAt` of the calls a whole
        /// batch makes, then `batch resume`: an item finished before the kill is not run again, the server
        /// sees exactly the calls not recorded before the kill, and every item ends with the answer and
        /// the batch with the cost of an uninterrupted run (a SQLite ledger, the reference).
        @Test(arguments: [0.1, 0.6])
        func killedBatchResumesWithoutRedoingOrPayingTwice(killAt: Double) async throws {
            let (password, outputs) = try await PostgresLedger.withLedger(reply: { _ in
                .delayed(.milliseconds(60), Self.answer)
            }) { binary, sandbox, database, server, environment in
                let questions = try PostgresLedger.writeQuestions(6, to: sandbox)
                var outputs: [String] = []
                let batch = [
                    "batch", "consensus", "--input", "in.jsonl", "--models", CLIHarness.threeModels,
                    "--concurrency", "2", "--seed", "3",
                ]
                func hits(_ question: String, since start: Int) -> Int {
                    PostgresLedger.hits(server, question, since: start)
                }
                let reference = try await binary.run(
                    batch + ["--store", "reference.db", "--output", "reference.jsonl"], environment: environment,
                    directory: sandbox.root)
                #expect(reference.exitCode == 0, "\(reference.stderr)")
                let referenceCalls = server.requests.count
                let referenceHits = questions.map { hits($0, since: 0) }
                #expect(referenceHits.reduce(0, +) == referenceCalls)

                let baseline = server.requests.count
                let running = try binary.start(
                    batch + ["--store", database.url, "--output", "shared.jsonl"], environment: environment,
                    directory: sandbox.root)
                let killAfter = max(1, Int(Double(referenceCalls) * killAt))
                try await running.kill { server.requests.count - baseline >= killAfter }
                #expect(running.process.terminationReason == .uncaughtSignal)
                let killed = try running.result()
                outputs += [killed.stdout, killed.stderr]

                // The items whose result line was written before the kill: done, never to run again.
                let streamed =
                    (try? String(contentsOf: sandbox.root.appendingPathComponent("shared.jsonl"), encoding: .utf8))
                    ?? ""
                let finishedBefore = streamed.split(separator: "\n").compactMap { try? CLIHarness.json(String($0)) }
                    .compactMap { $0["item_id"] as? String }
                if killAt >= 0.5 { #expect(!finishedBefore.isEmpty, "no item finished before the kill") }
                let before = try await binary.listRuns(
                    store: database.url, environment: environment, directory: sandbox.root)
                let recorded = before.compactMap { $0["calls"] as? Int }.reduce(0, +)
                let listedBefore = try await BatchCLITests.list(
                    binary, store: database.url, environment: environment, directory: sandbox.root)
                #expect(listedBefore.first?["status"] as? String == "interrupted")
                #expect(listedBefore.first?["done"] as? Int == finishedBefore.count)
                let id = try #require(listedBefore.first?["id"] as? String)

                let beforeResume = server.requests.count
                let resumed = try await binary.run(
                    ["batch", "resume", String(id.prefix(8)), "--store", database.url], environment: environment,
                    directory: sandbox.root)
                outputs += [resumed.stdout, resumed.stderr]
                #expect(resumed.exitCode == 0, "\(resumed.stderr)")
                #expect(server.requests.count - beforeResume == referenceCalls - recorded)
                for item in finishedBefore {
                    let question = questions[try #require(Int(item.dropFirst()))]
                    #expect(hits(question, since: beforeResume) == 0, "\(item) was run again")
                }
                for (question, reference) in zip(questions, referenceHits) {
                    #expect(hits(question, since: beforeResume) <= reference)
                }

                // One run per item, each converged, with the reference's answers; the batch finished at
                // the reference's cost.
                let after = try await binary.listRuns(
                    store: database.url, environment: environment, directory: sandbox.root)
                #expect(after.count == questions.count)
                #expect(after.allSatisfy { $0["status"] as? String == "converged" })
                func answers(_ file: String) throws -> [String: String] {
                    let text = try String(contentsOf: sandbox.root.appendingPathComponent(file), encoding: .utf8)
                    var answers: [String: String] = [:]
                    for line in text.split(separator: "\n") {
                        let result = try CLIHarness.json(String(line))
                        answers[result["item_id"] as? String ?? ""] = result["answer"] as? String ?? "(none)"
                    }
                    return answers
                }
                let shared = try answers("shared.jsonl")
                #expect(shared.count == questions.count)
                #expect(shared == (try answers("reference.jsonl")))
                let listed = try #require(
                    try await BatchCLITests.list(
                        binary, store: database.url, environment: environment, directory: sandbox.root
                    ).first)
                let referenceBatch = try #require(
                    try await BatchCLITests.list(
                        binary, store: "reference.db", environment: environment, directory: sandbox.root
                    ).first)
                #expect(listed["id"] as? String == id)
                #expect(listed["kind"] as? String == "batch")
                #expect(listed["status"] as? String == "finished")
                #expect(listed["done"] as? Int == questions.count && listed["total"] as? Int == questions.count)
                let cost = try #require(listed["cost_usd"] as? Double)
                let referenceCost = try #require(referenceBatch["cost_usd"] as? Double)
                #expect(referenceCost > 0 && abs(cost - referenceCost) < 1e-9, "\(cost) vs \(referenceCost)")
                return (database.password, outputs)
            }
            for output in outputs { #expect(!output.contains(password), "the password was printed") }
        }
    }
}

/// Which store `RunService` opens for a `--store` value: no server needed.
@Suite struct StoreSelectionTests {
    private func service(store: String?, environment: [String: String] = [:]) -> RunService {
        RunService(
            environment: environment, workingDirectory: FileManager.default.temporaryDirectory, storePath: store)
    }

    @Test func aPostgresURLFromTheFlagOrTheVariableSelectsPostgreSQL() async throws {
        for service in [
            service(store: "postgres://u:pw@host/a/b"),
            service(store: nil, environment: ["REFINERY_STORE": "postgresql://u:pw@host/a/b"]),
        ] {
            // A malformed URL is refused before any connection: the PostgreSQL store was chosen.
            await #expect {
                _ = try await service.openStore()
            } throws: { error in
                (error as? StoreError)?.code == .cannotOpen && "\(error)".contains("postgres://USER@HOST:PORT/DATABASE")
                    && !"\(error)".contains("pw")
            }
        }
    }

    @Test func aFileOpensTheSQLiteStore() async throws {
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("sel-\(UUID().uuidString).db")
        defer { try? FileManager.default.removeItem(at: database) }
        let store = try await service(store: database.path).openStore()
        #expect((store as? SQLiteRunStore)?.path == database.path)
    }
}

/// A password in `--store`'s URL is hidden from `ps` once parsed: no server needed, only a port that accepts
/// the connection and never answers, which keeps the process waiting.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/cmdline"), "needs Linux's /proc"))
struct StorePasswordInArgumentsTests {
    /// While `refinery runs list --store postgres://refinery:PASSWORD@...` waits for the server, its arguments as
    /// `ps` reads them (`/proc/PID/cmdline`) show the URL with the password's characters as `*`: they showed
    /// the password to every user of the machine, for as long as the process (a worker) lived.
    @Test func aPasswordInTheStoreURLIsNotInTheProcessArguments() async throws {
        let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
        let sandbox = try Sandbox()
        defer { sandbox.cleanup() }
        let accepted = sandbox.root.appendingPathComponent("accepted")
        let listener = Process()
        listener.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        listener.arguments = [
            "python3", "-c",
            """
            import socket, sys, time
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(4)
            print(s.getsockname()[1], flush=True)
            connection, _ = s.accept()
            open(sys.argv[1], "w").close()
            time.sleep(60)
            """, accepted.path,
        ]
        let out = Pipe()
        listener.standardOutput = out
        try listener.run()
        defer { listener.terminate() }
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let port = try #require(Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        let password = "Pw-\(UUID().uuidString.prefix(8))@x"
        let running = try binary.start(
            ["runs", "list", "--store", "postgres://refinery:\(password)@127.0.0.1:\(port)/db?connect_timeout=30"],
            environment: RefineryBinary.environment(home: sandbox.root), directory: sandbox.root)
        let deadline = ContinuousClock.now + .seconds(20)
        while !FileManager.default.fileExists(atPath: accepted.path), running.process.isRunning,
            ContinuousClock.now < deadline
        {
            try await Task.sleep(for: .milliseconds(10))
        }
        let cmdline = FileManager.default.contents(atPath: "/proc/\(running.process.processIdentifier)/cmdline")
        try await running.kill { true }
        let arguments = String(decoding: cmdline ?? Data(), as: UTF8.self)
        #expect(FileManager.default.fileExists(atPath: accepted.path), "the process never connected")
        #expect(arguments.contains("postgres://refinery:\(String(repeating: "*", count: password.utf8.count))@127.0.0.1"))
        #expect(!arguments.contains(password), "\(arguments)")
    }
}
