import Foundation
import Glibc
import RefineryRuntime
import RefineryStore
import RefineryTestSupport
import Synchronization
import Testing

/// The `postgres://` URL and where its password comes from: no server needed.
@Suite struct PostgresLocationTests {
    @Test func aFullURLIsParsedAndPrintedWithoutItsPassword() throws {
        let location = try PostgresLocation(
            url: "postgresql://ledger:s3cr%3At@db.example:6543/runs?sslmode=require", environment: [:])
        #expect(location.host == "db.example" && location.port == 6543)
        #expect(location.user == "ledger" && location.database == "runs")
        #expect(location.password == "s3cr:t")
        #expect(location.tls == .require)
        #expect(location.description == "postgres://ledger@db.example:6543/runs?sslmode=require")
    }

    @Test func defaultsFollowLibpq() throws {
        let location = try PostgresLocation(url: "postgres://", environment: ["USER": "ana", "HOME": "/nonexistent"])
        #expect(location.host == "localhost" && location.port == 5432)
        #expect(location.user == "ana" && location.database == "ana")
        #expect(location.password == nil)
        let fromPGUSER = try PostgresLocation(url: "postgres://h/db", environment: ["PGUSER": "bo", "USER": "ana"])
        #expect(fromPGUSER.user == "bo")
    }

    @Test(arguments: [
        "postgres://user@host:99999/db", "postgres://user:pw@host/db?application_name=x",
        "postgres://user@host/db?sslmode=sometimes", "postgres://user:pw@host/a/b",
        "postgres://user:pw@ho st/db", "postgres://user:pw@host/db?connect_timeout=0",
        "postgres://user:pw@host/db?connect_timeout=-5", "postgres://user:pw@host/db?connect_timeout=soon",
    ])
    func aMalformedURLIsACannotOpenErrorWithAHintAndNoPassword(url: String) {
        guard let error = Self.refusal(url) else { return }
        #expect(error.code == .cannotOpen)
        #expect(error.description.contains("postgres://USER@HOST:PORT/DATABASE"))
        #expect(!error.description.contains("pw@"))
    }

    /// The error `url` is refused with; records an issue when it is accepted or fails otherwise.
    private static func refusal(_ url: String) -> StoreError? {
        do {
            _ = try PostgresLocation(url: url, environment: [:])
            Issue.record("accepted \(url)")
        } catch let error as StoreError {
            return error
        } catch {
            Issue.record("unexpected \(error)")
        }
        return nil
    }

    /// libpq takes a password as a query parameter too: the error about the unsupported parameter names
    /// it but never prints its value (it printed `?password=hunter2` whole).
    @Test(arguments: [
        "postgres://user@host/db?password=hunter2", "postgres://user:hunter2@host/db?sslmode=require&password=hunter2",
        "postgres://user@host/db?sslmode=nope&password=hunter2", "postgres://user@host/db?hunter2",
    ])
    func aPasswordInTheQueryIsNotPrinted(url: String) {
        guard let error = Self.refusal(url) else { return }
        #expect(error.code == .cannotOpen)
        #expect(!error.description.contains("hunter2"), "\(error.description)")
        #expect(error.description.contains("postgres://user"), "\(error.description)")
    }

    @Test func thePasswordComesFromTheURLThenPGPASSWORDThenThePasswordFile() throws {
        let folder = try TemporaryDatabase()
        defer { folder.cleanup() }
        let file = folder.directory.appendingPathComponent("pgpass").path
        try """
        # comment
        other:5432:*:ledger:wrong
        db.example:6543:runs:ledger:from\\:file\\\\x
        *:*:*:ledger:fallback
        """.write(toFile: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        let url = "postgres://ledger@db.example:6543/runs"
        #expect(try PostgresLocation(url: url, environment: ["PGPASSFILE": file]).password == "from:file\\x")
        #expect(
            try PostgresLocation(url: "postgres://ledger@h/other", environment: ["PGPASSFILE": file]).password
                == "fallback")
        #expect(
            try PostgresLocation(url: url, environment: ["PGPASSFILE": file, "PGPASSWORD": "env"]).password == "env")
        #expect(
            try PostgresLocation(url: "postgres://ledger:url@db.example:6543/runs", environment: ["PGPASSWORD": "env"])
                .password == "url")
        // ~/.pgpass when PGPASSFILE is not set.
        try FileManager.default.moveItem(atPath: file, toPath: folder.directory.appendingPathComponent(".pgpass").path)
        #expect(try PostgresLocation(url: url, environment: ["HOME": folder.directory.path]).password == "from:file\\x")
    }

    @Test func aPasswordFileOthersCanReadIsIgnoredAndTheLoginErrorSaysWhy() throws {
        let folder = try TemporaryDatabase()
        defer { folder.cleanup() }
        let file = folder.directory.appendingPathComponent("pgpass").path
        try "*:*:*:*:secret\n".write(toFile: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        let location = try PostgresLocation(url: "postgres://u@h/db", environment: ["PGPASSFILE": file])
        #expect(location.password == nil)
        #expect(location.passwordFileNote?.contains("chmod 600 \(file)") == true)
    }

    /// A server that does not come back within the reconnect window is reported, not waited on forever.
    @Test func anUnreachableServerFailsClearlyAfterTheReconnectWindow() async throws {
        // Port 9 (discard): nothing listens there on a test machine.
        let location = try PostgresLocation(url: "postgres://u:topsecret@127.0.0.1:9/db", environment: [:])
        let started = ContinuousClock.now
        do {
            _ = try await PostgresRunStore.open(location, reconnectWindow: .seconds(1))
            Issue.record("connected to nothing")
        } catch let error as StoreError {
            #expect(error.code == .cannotOpen)
            #expect(error.description.contains("did not answer within 1 seconds"))
            #expect(error.description.contains("postgres://u@127.0.0.1:9/db"))
            #expect(!error.description.contains("topsecret"))
        }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .seconds(1) && elapsed < .seconds(10))
    }
}

extension PostgresLocationTests {
    /// libpq's `connect_timeout` (seconds) sets how long opening the store waits; it is kept when printed.
    @Test func connectTimeoutIsReadFromTheURL() throws {
        let location = try PostgresLocation(url: "postgres://u:pw@h/db?connect_timeout=12", environment: [:])
        #expect(location.connectTimeout == .seconds(12))
        #expect(location.description == "postgres://u@h:5432/db?connect_timeout=12")
        let plain = try PostgresLocation(url: "postgres://u@h/db", environment: [:])
        #expect(plain.connectTimeout == PostgresLocation.defaultConnectTimeout)
    }

    /// A server never reached fails after the connect timeout, not the 30-second reconnect window (it
    /// took 30 s for a refused port, a black-holed host, or a socket that never answers), naming
    /// host:port, never the password, and how to wait longer.
    @Test(arguments: [false, true])
    func aServerNeverReachedFailsAfterTheConnectTimeout(listening: Bool) async throws {
        let silent = try listening ? SilentListener() : nil
        defer { silent?.close() }
        let port = silent?.port ?? 9  // 9 (discard): nothing listens there on a test machine.
        let location = try PostgresLocation(
            url: "postgres://u:topsecret@127.0.0.1:\(port)/db?connect_timeout=2", environment: [:])
        let started = ContinuousClock.now
        await #expect {
            _ = try await PostgresRunStore.open(location)
        } throws: { error in
            let text = "\(error)"
            return (error as? StoreError)?.code == .cannotOpen && text.contains("did not answer within 2 seconds")
                && text.contains("127.0.0.1:\(port)") && text.contains("connect_timeout") && !text.contains("topsecret")
        }
        // Far less than the 30-second window (a loaded machine may take a few seconds to schedule).
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    /// Without the parameter the default applies, and the message says how long was waited.
    @Test func theDefaultConnectTimeoutIsReported() async throws {
        let location = try PostgresLocation(url: "postgres://u@127.0.0.1:9/db", environment: [:])
        await #expect {
            _ = try await PostgresRunStore.open(location)
        } throws: { error in
            "\(error)".contains("did not answer within 5 seconds")
        }
    }

    /// A host name that resolves to nothing is said as such (and at once): it read "the server did not answer
    /// within 5 seconds", which sends the user looking for a server that is down.
    @Test func anUnresolvableHostIsNamedAsSuch() async throws {
        let location = try PostgresLocation(url: "postgres://u:topsecret@no-such-host.invalid/db", environment: [:])
        await #expect {
            _ = try await PostgresRunStore.open(location)
        } throws: { error in
            let text = "\(error)"
            return (error as? StoreError)?.code == .cannotOpen
                && text.contains("the host name no-such-host.invalid could not be resolved to an address")
                && text.contains("check the host in the URL") && !text.contains("did not answer")
                && !text.contains("topsecret")
        }
    }

    /// After Ctrl-C a store that must reconnect fails at once rather than after the whole window.
    @Test func reconnectingInACancelledTaskFailsAtOnce() async throws {
        let location = try PostgresLocation(url: "postgres://u@127.0.0.1:9/db", environment: [:])
        let started = ContinuousClock.now
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await PostgresRunStore.open(location, reconnectWindow: .seconds(60))
        }
        await #expect {
            _ = try await task.value
        } throws: { error in
            "\(error)".contains("cancelled")
        }
        // Far less than the window (a loaded machine may take a few seconds to schedule the task).
        #expect(ContinuousClock.now - started < .seconds(30))
    }
}

/// PostgreSQL-only behaviour: logins, a newer schema, a server restarting under a writer.
@Suite(.enabled(if: PostgresTestServer.enabled, PostgresTestServer.skipReason))
struct PostgresRunStoreTests {
    @Test func aWrongPasswordIsRefusedWithAHintAndNeverShown() async throws {
        var location = try PostgresTestServer.location()
        location.password = "not-the-password-\(UUID().uuidString.prefix(8))"
        do {
            _ = try await PostgresRunStore.open(location)
            Issue.record("logged in with a wrong password")
        } catch let error as StoreError {
            #expect(error.code == .cannotOpen)
            #expect(error.description.contains("refused the login"))
            #expect(error.description.contains("PGPASSWORD"))
            #expect(!error.description.contains(location.password ?? "?"))
        }
    }

    @Test func aMissingPasswordSaysWhereToGiveIt() async throws {
        var location = try PostgresTestServer.location()
        location.password = nil
        do {
            _ = try await PostgresRunStore.open(location)
            Issue.record("logged in without a password")
        } catch let error as StoreError {
            #expect(error.code == .cannotOpen)
            #expect(error.description.contains("PGPASSWORD") && error.description.contains(".pgpass"))
        }
    }

    /// A team member granted reads and writes on the tables, but not CREATE (PostgreSQL 15's default
    /// for a user who does not own the database), opens an up-to-date ledger and records calls.
    @Test func aUserWithoutCreateRightsUsesAnUpToDateLedger() async throws {
        let database = try await PostgresTestServer.Database()
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let role = "refinery_rw_\(suffix)"
        let owner = try await database.open()
        do {
            try await owner.executeForTesting("CREATE ROLE \(role) LOGIN PASSWORD 'pw-\(suffix)'")
            try await owner.executeForTesting("GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO \(role)")
            var location = database.location
            location.user = role
            location.password = "pw-\(suffix)"
            let member = try await PostgresRunStore.open(location)
            try await member.record(Fixture.call())
            #expect(try await member.calls(runID: "run-1").count == 1)
            await member.close()
        } catch {
            Issue.record(error)
        }
        await owner.close()
        await database.drop()
        let admin = try await PostgresRunStore.open(try PostgresTestServer.location())
        try await admin.executeForTesting("DROP ROLE IF EXISTS \(role)")
        await admin.close()
    }

    @Test func aStoreMigratedByANewerRefineryIsRefused() async throws {
        let database = try await PostgresTestServer.Database()
        do {
            let store = try await database.open()
            try await store.executeForTesting("INSERT INTO refinery_migrations (name) VALUES ('v99-from-the-future')")
            await store.close()
            await #expect {
                try await database.open()
            } throws: { error in
                (error as? StoreError)?.code == .newerSchema
                    && "\(error)".contains("v99-from-the-future")
            }
        }
        await database.drop()
    }
}

/// The server restarted (`pg_ctl restart`) under the store: it waits for it, reconnects, and nothing is lost
/// or left waiting. On the fault server, one fault test at a time.
@Suite(.enabled(if: FaultServer.enabled, Comment(rawValue: FaultServer.skipReason)), .timeLimit(.minutes(2)))
struct PostgresRestartTests {
    /// Every call `record` returned for is in the ledger, once.
    @Test func aRestartMidRunLosesNoRecordedCall() async throws {
        let restart = try #require(FaultServer.restart, "CI=true requires REFINERY_TEST_POSTGRES_RESTART")
        try await FaultServer.exclusively {
            let database = try await PostgresTestServer.Database(onFaultServer: true)
            let store = try await database.open()
            try await store.createRun(Fixture.run(id: "run-1"))
            let restarted = RestartFlag()
            let recorded = try await withThrowingTaskGroup(of: [String].self) { group in
                group.addTask {
                    // Restart once the writers are under way.
                    try await Task.sleep(for: .milliseconds(150))
                    #expect(try await ServerRestart.run(restart) == 0, "the restart command failed")
                    restarted.done.withLock { $0 = true }
                    return []
                }
                // Eight writers, one call at a time each, from before the restart until 20 calls each after it
                // (at most 1,000 each, should the restart never end).
                for writer in 0..<8 {
                    group.addTask {
                        var nodes: [String] = []
                        var afterRestart = 0
                        while afterRestart < 20 && nodes.count < 1000 {
                            let node = "s1.evaluate[w\(writer)#\(nodes.count)]"
                            try await store.record(Fixture.call(node: node, hash: node))
                            nodes.append(node)
                            if restarted.done.withLock({ $0 }) { afterRestart += 1 }
                            try await Task.sleep(for: .milliseconds(10))
                        }
                        return nodes
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            // The writers really lost their connection: the store connected again.
            #expect(await store.connectionsOpened >= 2)
            // Every call `record` returned for is there, once.
            let calls = try await store.calls(runID: "run-1")
            #expect(calls.count == recorded.count)
            #expect(Set(calls.map(\.node)) == Set(recorded))
            await store.close()
            await database.drop()
        }
    }

    /// Stores opened (connect, migrate, read) again and again while the server restarts every few hundred
    /// milliseconds: each open either succeeds or fails with an error, none waits past its bound. Before
    /// every statement went through one watched path, the migration's statements were sent without the
    /// watch, and about one open in 250 written just as the server closed its connection waited forever
    /// (`refinery runs list` in a loop against restarts reproduced it; so did CI).
    @Test func storesOpenedDuringRestartsNeverWaitForever() async throws {
        let restart = try #require(FaultServer.restart, "CI=true requires REFINERY_TEST_POSTGRES_RESTART")
        try await FaultServer.exclusively {
            let database = try await PostgresTestServer.Database(onFaultServer: true)
            try await database.open().close()
            let until = ContinuousClock.now + .seconds(15)
            let outcomes = try await withThrowingTaskGroup(of: (opened: Int, stuck: Int).self) { group in
                group.addTask {
                    while ContinuousClock.now < until {
                        try await Task.sleep(for: .milliseconds(Int.random(in: 100...600)))
                        #expect(try await ServerRestart.run(restart) == 0, "the restart command failed")
                    }
                    return (0, 0)
                }
                for _ in 0..<4 {
                    group.addTask {
                        var opened = 0
                        var stuck = 0
                        while ContinuousClock.now < until && stuck == 0 {
                            // A store that waits forever cannot be cancelled (its writes must commit after
                            // Ctrl-C): it is left behind in a task of its own and counted.
                            let finished = await Self.finishes(within: .seconds(40)) {
                                let store = try await database.open()
                                _ = try await store.listRuns(limit: 5)
                                await store.close()
                            }
                            if finished { opened += 1 } else { stuck += 1 }
                        }
                        return (opened, stuck)
                    }
                }
                return try await group.reduce(into: (opened: 0, stuck: 0)) {
                    $0.opened += $1.opened
                    $0.stuck += $1.stuck
                }
            }
            #expect(outcomes.stuck == 0, "\(outcomes.stuck) stores waited past 40 s")
            #expect(outcomes.opened > 20)
            await database.drop()
        }
    }

    /// A statement written to a connection that has just closed fails (and `execute` repeats it on a new
    /// connection) instead of waiting forever: postgres-nio never answers it.
    @Test func aStatementOnAClosedConnectionFails() async throws {
        try await FaultServer.exclusively {
            let database = try await PostgresTestServer.Database(onFaultServer: true)
            let store = try await database.open()
            let finished = await Self.finishes(within: .seconds(20)) {
                await #expect(throws: (any Error).self) {
                    try await store.executeOnClosedConnectionForTesting("SELECT 1")
                }
            }
            #expect(finished, "the statement waited past 20 s")
            await store.close()
            await database.drop()
        }
    }

    /// Whether `body` (succeeding or failing) returns within `limit`; it runs in a task of its own, left
    /// behind if it does not.
    static func finishes(within limit: Duration, _ body: @escaping @Sendable () async throws -> Void) async -> Bool {
        let done = RestartFlag()
        let work = Task {
            try? await body()
            done.done.withLock { $0 = true }
        }
        let until = ContinuousClock.now + limit
        while ContinuousClock.now < until {
            if done.done.withLock({ $0 }) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        _ = work
        return done.done.withLock { $0 }
    }
}

/// Set once the server was restarted; read by every writer.
private final class RestartFlag: Sendable {
    let done = Mutex(false)
}

/// A TCP socket that listens on a free loopback port and never accepts nor answers: the kernel completes
/// the handshake, then the client waits for a server that says nothing (a hung or black-holed server).
struct SilentListener {
    let descriptor: Int32
    let port: Int

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(descriptor, address, length) == 0 && listen(descriptor, 8) == 0
                    && getsockname(descriptor, address, &length) == 0
            }
        }
        guard bound else {
            _ = Glibc.close(descriptor)
            throw POSIXError(.EADDRNOTAVAIL)
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(descriptor) }
}
