// The PostgreSQL run ledger (`--store postgres://...`): the same runs, rounds and calls as the SQLite
// store, on a server a team shares. One connection per process, through vapor/postgres-nio. Each call
// is committed before `record` returns (calls that finish together go in one multi-row INSERT), a
// succeeded call is stored once (a partial unique index), and a server that goes away for a moment
// (a restart, a fail-over) is waited for and reconnected to, within ``PostgresRunStore/reconnectWindow``.

public import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
public import RefineryRuntime
import Synchronization

/// The run store and call ledger, backed by a PostgreSQL server.
///
/// Open one per process with ``open(_:redactor:reconnectWindow:)``; any number of processes on any
/// number of machines may share one database. Statement arguments (prompts, replies) never appear in
/// error messages, and the password never appears in any output.
public actor PostgresRunStore: RunStore {
    /// The server and database, without the password when printed.
    public nonisolated let server: PostgresLocation
    /// Hides credentials in the error texts written to the ledger, as the SQLite store does.
    let redactor: Redactor
    /// How long a statement waits for a server that went away before it fails.
    public nonisolated let reconnectWindow: Duration

    private var connection: PostgresConnection?
    private var connecting = false
    private var waitingForConnection: [CheckedContinuation<Void, Never>] = []
    private var nextConnectionID = 1
    /// Whether a connection was ever made: until then a failure to connect is reported after
    /// ``PostgresLocation/connectTimeout``, afterwards the server is waited for up to ``reconnectWindow``.
    private var connectedOnce = false
    /// Calls waiting for the next group commit, and whether one is under way.
    /// A `nil` continuation is the committing caller's own call.
    private var pendingCalls: [(row: PostgresCallRow, continuation: CheckedContinuation<CommitTurn, any Error>?)] = []
    private var committing = false
    /// The advisory-lock keys of the runs and batches owned through this store (PostgresRunStore+Ownership).
    var owned: Set<Int> = []

    /// The default ``reconnectWindow``: a restart or fail-over takes seconds; a server down for longer
    /// is an outage the run should report rather than hide.
    public static let defaultReconnectWindow: Duration = .seconds(30)

    /// The printable URL (no password).
    public nonisolated var location: String { server.description }

    /// Connects to `server`, creates or migrates the schema, and returns the store. Every error text
    /// recorded is passed through `redactor`. A server that is not up yet is waited for up to the
    /// location's ``PostgresLocation/connectTimeout`` (and no longer than `reconnectWindow`), one that goes
    /// away later for up to `reconnectWindow`; a refused login or a missing database fails at once with
    /// what to do.
    public static func open(
        _ server: PostgresLocation, redactor: Redactor = Redactor(),
        reconnectWindow: Duration = defaultReconnectWindow
    ) async throws -> PostgresRunStore {
        let store = PostgresRunStore(server: server, redactor: redactor, reconnectWindow: reconnectWindow)
        try await store.migrate()
        return store
    }

    /// Opens the ledger at `server` for a command that only reads it: `nil` when the database holds no Refinery
    /// ledger (no `refinery_migrations` table), which is then left as it was (no table is created). A ledger
    /// there is brought up to date as ``open(_:redactor:reconnectWindow:)`` does. A server that cannot be
    /// reached throws ``StoreError/Code/cannotOpen``.
    public static func openRecorded(
        _ server: PostgresLocation, redactor: Redactor = Redactor(),
        reconnectWindow: Duration = defaultReconnectWindow
    ) async throws -> PostgresRunStore? {
        let store = PostgresRunStore(server: server, redactor: redactor, reconnectWindow: reconnectWindow)
        let exists = try await store.query("SELECT to_regclass('refinery_migrations') IS NOT NULL").first?.decode(
            Bool.self)
        guard exists == true else {
            await store.close()
            return nil
        }
        try await store.migrate()
        return store
    }

    private init(server: PostgresLocation, redactor: Redactor, reconnectWindow: Duration) {
        self.server = server
        self.redactor = redactor
        self.reconnectWindow = reconnectWindow
    }

    deinit {
        // A process usually just exits; a test opening many stores must not leave their sockets open.
        if let connection { Self.close(connection) }
    }

    /// Closes `connection` in the background; the callback holds it until it is closed (postgres-nio
    /// requires a connection to be closed before it is released).
    private static func close(_ connection: PostgresConnection) {
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    /// Closes the connection (the store reconnects if used again).
    public func close() async {
        if let connection { try? await connection.close() }
        connection = nil
    }

    /// Connections opened so far: more than one means the store reconnected (tests check a restart was seen).
    package var connectionsOpened: Int { nextConnectionID - 1 }

    /// Runs raw SQL (no arguments): tests use it to create and drop their databases and to stage what
    /// another version of Refinery would have written.
    package func executeForTesting(_ sql: String) async throws {
        try await execute(PostgresQuery(unsafeSQL: sql))
    }

    // MARK: RunLedger

    /// The reply of an earlier succeeded call with the same run, round, node and request hash, and its cost.
    public func recordedReply(
        runID: String, round: Int, node: String, requestHash: String
    ) async throws -> RecordedReply? {
        let rows = try await query(
            """
            SELECT response, cost_usd FROM calls WHERE run_id = $1 AND round = $2 AND node = $3 AND request_hash = $4
              AND status IN ('succeeded', 'replayed') AND response IS NOT NULL ORDER BY id DESC LIMIT 1
            """, binds: runID, round, node, requestHash)
        guard let row = rows.first?.makeRandomAccess() else { return nil }
        return RecordedReply(
            reply: try decodeJSON(ModelReply.self, row["response"]), costUSD: try row["cost_usd"].decode(Double.self))
    }

    /// The succeeded (or replayed) calls of `node` in `round` of `runID`, in recording order.
    public func recordedCalls(runID: String, round: Int, node: String) async throws -> [CallRecord] {
        let rows = try await query(
            """
            SELECT * FROM calls WHERE run_id = $1 AND round = $2 AND node = $3
              AND status IN ('succeeded', 'replayed') AND response IS NOT NULL ORDER BY id
            """, binds: runID, round, node)
        return try rows.map { try PostgresCallRow.record($0.makeRandomAccess(), store: self) }
    }

    /// Whether a succeeded (or replayed) call of `runID` is recorded.
    public func hasRecordedReplies(runID: String) async throws -> Bool {
        let rows = try await query(
            "SELECT 1 FROM calls WHERE run_id = $1 AND status IN ('succeeded', 'replayed') LIMIT 1", binds: runID)
        return !rows.isEmpty
    }

    /// Commits the call before returning. A second succeeded record of the same call is ignored.
    ///
    /// Group commit: while one INSERT is under way, the calls that finish meanwhile wait and go in the
    /// next one, so a wide round costs a few round trips to the server rather than one per call.
    /// Returns once the call is committed.
    public func record(_ call: CallRecord) async throws {
        let row: PostgresCallRow
        do {
            row = try PostgresCallRow(call, redactor: redactor)
        } catch {
            throw StoreError(code: .io, message: "Cannot encode a call for the run store at \(location).", cause: error)
        }
        if committing {
            // Another caller is committing: wait to be committed by it, or to be handed the next commit.
            let role = try await withCheckedThrowingContinuation { pendingCalls.append((row, $0)) }
            guard role == .commitNext else { return }
        } else {
            committing = true
            pendingCalls.append((row, nil))
        }
        // This caller commits every waiting call (its own, without a continuation, among them) in one go,
        // then hands the next commit to the first caller that arrived meanwhile: no caller waits for more
        // than two commits however long calls keep arriving.
        let batch = pendingCalls
        pendingCalls = []
        let results = await insert(batch.map(\.row))
        var own: Result<Void, any Error> = .success(())
        for (entry, result) in zip(batch, results) {
            if let continuation = entry.continuation {
                continuation.resume(with: result.map { .committed })
            } else {
                own = result
            }
        }
        if let next = pendingCalls.first?.continuation {
            pendingCalls[0].continuation = nil
            next.resume(returning: .commitNext)
        } else {
            committing = false
        }
        try own.get()
    }

    /// What a waiting `record` is told.
    private enum CommitTurn { case committed, commitNext }

    /// Inserts `rows` in multi-row statements; when one fails for a reason other than the connection,
    /// its rows are inserted one by one so a bad call fails alone.
    private func insert(_ rows: [PostgresCallRow]) async -> [Result<Void, any Error>] {
        var results: [Result<Void, any Error>] = []
        for start in stride(from: 0, to: rows.count, by: PostgresCallRow.rowsPerStatement) {
            let chunk = Array(rows[start..<min(start + PostgresCallRow.rowsPerStatement, rows.count)])
            do {
                try await execute(PostgresCallRow.insert(chunk))
                results += chunk.map { _ in .success(()) }
            } catch  where chunk.count > 1 {
                for row in chunk {
                    do {
                        try await execute(PostgresCallRow.insert([row]))
                        results.append(.success(()))
                    } catch {
                        results.append(.failure(error))
                    }
                }
            } catch {
                results.append(.failure(error))
            }
        }
        return results
    }

    /// Runs `sql` on a connection of its own that is closed first: what a statement meets when the server
    /// closes its connection just before the statement is written. Tests check that it fails, not waits.
    package func executeOnClosedConnectionForTesting(_ sql: String) async throws {
        let connection = try await connect(until: .now + reconnectWindow)
        try await connection.close()
        _ = try await Self.run(PostgresQuery(unsafeSQL: sql), on: connection)
    }

    // MARK: Statements

    /// Runs `sql` with `binds` and returns its rows, reconnecting (within ``reconnectWindow``) if the
    /// server went away. Only statements that are safe to repeat go through here: reads, upserts,
    /// updates, and inserts that ignore a row already there.
    @discardableResult
    func query(_ sql: String, binds: any PostgresBindable...) async throws -> [PostgresRow] {
        var bindings = PostgresBindings(capacity: binds.count)
        for bind in binds { bind.append(to: &bindings) }
        return try await execute(PostgresQuery(unsafeSQL: sql, binds: bindings))
    }

    @discardableResult
    func execute(_ statement: PostgresQuery) async throws -> [PostgresRow] {
        let deadline = ContinuousClock.now + reconnectWindow
        while true {
            let connection = try await liveConnection(until: deadline)
            do {
                return try await Self.run(statement, on: connection)
            } catch {
                let lost = Self.isConnectionLoss(error, connection: connection)
                guard lost, ContinuousClock.now < deadline else {
                    throw statementError(error, connectionLost: lost)
                }
                drop(connection)
                try await Self.pause()
            }
        }
    }

    /// Runs one statement on `connection`: every statement the store sends goes through here.
    ///
    /// The EventLoopFuture API, not the async one: a write must still commit in a cancelled task (after
    /// Ctrl-C the finished calls and the run's outcome are recorded). And the answer is watched: postgres-nio
    /// leaves a statement unanswered when it is written to a connection the server has just closed (a
    /// restart at the wrong moment; the write fails with no promise to tell, vapor/postgres-nio#487,
    /// reverted in #501), so a statement whose connection has been closed for a second without an answer
    /// fails with a connection loss, and the caller repeats it on a new connection. A slow statement on a
    /// live connection is never cut short.
    static func run(_ statement: PostgresQuery, on connection: PostgresConnection) async throws -> [PostgresRow] {
        try await answer(connection.query(statement, logger: logger), on: connection).get().rows
    }

    /// `query`'s result, or a failure once its connection has been closed for a second without it.
    private static func answer(
        _ query: EventLoopFuture<PostgresQueryResult>, on connection: PostgresConnection
    ) -> EventLoopFuture<PostgresQueryResult> {
        let promise = query.eventLoop.makePromise(of: PostgresQueryResult.self)
        let settled = SettledOnce()
        query.whenComplete { result in
            if settled.claim() { promise.completeWith(result) }
        }
        watchClosing(connection, promise: promise, settled: settled, closedChecks: 0)
        return promise.futureResult
    }

    private static func watchClosing(
        _ connection: PostgresConnection, promise: EventLoopPromise<PostgresQueryResult>, settled: SettledOnce,
        closedChecks: Int
    ) {
        promise.futureResult.eventLoop.scheduleTask(in: .milliseconds(250)) {
            guard !settled.isClaimed else { return }
            let checks = connection.isClosed ? closedChecks + 1 : 0
            guard checks < 4 else {
                if settled.claim() { promise.fail(UnansweredOnClosedConnection()) }
                return
            }
            watchClosing(connection, promise: promise, settled: settled, closedChecks: checks)
        }
    }

    /// The open connection, connecting first when there is none. Concurrent callers share one attempt.
    func liveConnection(until deadline: ContinuousClock.Instant) async throws -> PostgresConnection {
        while true {
            if let connection, !connection.isClosed { return connection }
            if connecting {
                await withCheckedContinuation { waitingForConnection.append($0) }
                continue
            }
            connecting = true
            defer {
                connecting = false
                let waiting = waitingForConnection
                waitingForConnection = []
                for waiter in waiting { waiter.resume() }
            }
            let connection = try await connect(until: deadline)
            // The server let this store's locks go with the connection it lost.
            if !owned.isEmpty { await relock(on: connection) }
            self.connection = connection
            return connection
        }
    }

    func drop(_ lost: PostgresConnection) {
        if connection === lost { connection = nil }
        Self.close(lost)
    }

    /// Connects, retrying while the server is unreachable or starting up, until `deadline`. Until a first
    /// connection has been made, no longer than the location's ``PostgresLocation/connectTimeout``: a server
    /// that was never reached is a wrong URL or a server that is down, not one restarting, and the user
    /// hears of it within seconds rather than after the whole reconnect window.
    func connect(until deadline: ContinuousClock.Instant) async throws -> PostgresConnection {
        let started = ContinuousClock.now
        let deadline = connectedOnce ? deadline : min(deadline, started + server.connectTimeout)
        var configuration = PostgresConnection.Configuration(
            host: server.host, port: server.port, username: server.user, password: server.password,
            database: server.database, tls: .disable)
        switch server.tls {
        case .disable: break
        case .prefer, .require:
            do {
                let context = try NIOSSLContext(configuration: .makeClientConfiguration())
                configuration.tls = server.tls == .require ? .require(context) : .prefer(context)
            } catch {
                throw StoreError(
                    code: .cannotOpen, message: "Cannot set up TLS for the run store at \(location).", cause: error)
            }
        }
        while true {
            let id = nextConnectionID
            nextConnectionID += 1
            // One attempt (TCP connect and startup) waits at most 5 seconds, and never past the deadline: a
            // black-holed host or a socket that never answers fails in time.
            let remaining = max(deadline - ContinuousClock.now, .milliseconds(100))
            configuration.options.connectTimeout = Self.timeAmount(min(remaining, .seconds(5)))
            do {
                let connection = try await PostgresConnection.connect(
                    on: PostgresConnection.defaultEventLoopGroup.any(), configuration: configuration, id: id,
                    logger: Self.logger)
                connectedOnce = true
                return connection
            } catch {
                // postgres-nio's connect gives up at once in a cancelled task (Ctrl-C): retrying would only
                // delay the exit by the whole window.
                guard Self.isTransient(error), !Task.isCancelled, ContinuousClock.now < deadline else {
                    throw connectError(error, waited: deadline - started)
                }
                try await Self.pause()
            }
        }
    }

    /// Waits a moment between attempts. Not `Task.sleep`: a cancelled task must still get its writes in.
    static func pause() async throws {
        try await PostgresConnection.defaultEventLoopGroup.any().scheduleTask(in: .milliseconds(200)) {}
            .futureResult.get()
    }

    /// Whether `error` means the connection is gone (so the statement may be repeated on a new one).
    static func isConnectionLoss(_ error: any Error, connection: PostgresConnection) -> Bool {
        if connection.isClosed { return true }
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown: return true
        case .server:
            // Class 08 (connection exception) and 57P (operator intervention: shutdown, restart).
            let state = error.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("08") || state.hasPrefix("57P")
        default: return false
        }
    }

    /// Whether a failed connection attempt is worth repeating: the server is down, restarting or
    /// starting up — not a refused login or a missing database.
    static func isTransient(_ error: any Error) -> Bool {
        if unresolvedHost(error) != nil { return false }
        guard let error = error as? PSQLError else { return true }  // socket errors: refused, reset
        switch error.code {
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("08") || state.hasPrefix("57P")
        case .serverClosedConnection, .connectionError, .uncleanShutdown: return true
        default: return false
        }
    }

    /// The resolver's error when the host name has no address (a typo, a name only another network knows):
    /// no server was ever asked, so this is said as it is, at once, not as a server that did not answer.
    static func unresolvedHost(_ error: any Error) -> String? {
        let underlying = (error as? PSQLError)?.underlying ?? error
        if let failed = underlying as? NIOConnectionError, failed.connectionErrors.isEmpty,
            let dns = failed.dnsAError ?? failed.dnsAAAAError
        {
            return "\(dns)"
        }
        if let address = underlying as? SocketAddressError, case .unknown = address { return "\(address)" }
        return nil
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// Why connecting failed, with what to do; `waited` is how long attempts were repeated.
    private func connectError(_ error: any Error, waited: Duration) -> StoreError {
        let server = (error as? PSQLError)?.serverInfo
        let state = server?[.sqlState] ?? ""
        let detail = server?[.message].map { " (\($0))" } ?? ""
        let hint: String
        switch state {
        case "28P01", "28000":
            hint =
                "the server refused the login\(detail); give the password in PGPASSWORD or ~/.pgpass "
                + "(host:port:database:user:password, mode 0600)"
                + (self.server.passwordFileNote.map { "; \($0)" } ?? "")
        case "3D000":
            hint =
                "the database does not exist\(detail); create it (`createdb \(self.server.database)`) or name another"
        default:
            if (error as? PSQLError)?.code == .authMechanismRequiresPassword {
                hint =
                    "the server asks for a password and none was given; set PGPASSWORD or add it to ~/.pgpass "
                    + "(host:port:database:user:password, mode 0600)"
                    + (self.server.passwordFileNote.map { "; \($0)" } ?? "")
            } else if (error as? PSQLError)?.code == .sslUnsupported {
                hint =
                    "the server at \(self.server.host):\(self.server.port) does not accept TLS, which sslmode="
                    + "\(self.server.tls.rawValue) requires; turn on ssl in its postgresql.conf, or give "
                    + "sslmode=prefer (TLS when the server offers it) or sslmode=disable"
            } else if let resolver = Self.unresolvedHost(error) {
                hint =
                    "the host name \(self.server.host) could not be resolved to an address (\(resolver)); check the "
                    + "host in the URL"
            } else if Task.isCancelled {
                hint = "the run was cancelled while the connection was being opened again"
            } else if state.isEmpty {
                let waitLonger =
                    connectedOnce
                    ? "" : " (`?connect_timeout=SECONDS` in the URL waits longer for a server that is starting)"
                hint =
                    "the server did not answer within \(Self.seconds(waited)) seconds; check that "
                    + "PostgreSQL is running and listening at \(self.server.host):\(self.server.port)\(waitLonger)"
            } else {
                hint = "the server answered \(state)\(detail)"
            }
        }
        // No cause: the hint holds what the server said (PSQLError's own text is a fixed placeholder).
        return StoreError(code: .cannotOpen, message: "Cannot connect to the run store at \(location): \(hint).")
    }

    private func statementError(_ error: any Error, connectionLost: Bool) -> any Error {
        if error is StoreError { return error }
        let advice =
            connectionLost
            ? "the connection to the server was lost and it did not come back within "
                + "\(Self.seconds(reconnectWindow)) seconds; check that PostgreSQL is running"
            : "check the server's log, and that the user may read and write the ledger's tables"
        return StoreError(
            code: .io,
            message: "A statement on the run store at \(location) failed\(Self.serverDetail(error)); \(advice).")
    }

    /// ` (SQLSTATE: message)` of a server error, `""` otherwise. Server messages carry no statement
    /// arguments (prompts) and never the password.
    static func serverDetail(_ error: any Error) -> String {
        guard let info = (error as? PSQLError)?.serverInfo else { return "" }
        return " (\(info[.sqlState] ?? "")\(info[.message].map { ": \($0)" } ?? ""))"
    }

    static func seconds(_ duration: Duration) -> Int { Int((duration / .seconds(1)).rounded()) }

    /// postgres-nio's own log lines stay out of the user's output: the store reports what matters.
    static let logger = Logger(label: "refinery.store.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    nonisolated func decodeJSON<T: Decodable>(_ type: T.Type, _ cell: PostgresCell) throws -> T {
        let text = try cell.decode(String.self)
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw StoreError(
                code: .corrupt,
                message: "A stored \(cell.columnName) value in the run store at \(location) cannot be read.",
                cause: error)
        }
    }
}

/// A value that can be a statement argument. Optional values bind as NULL.
protocol PostgresBindable: Sendable {
    func append(to bindings: inout PostgresBindings)
}

extension String: PostgresBindable {
    func append(to bindings: inout PostgresBindings) { bindings.append(self) }
}
extension Int: PostgresBindable {
    func append(to bindings: inout PostgresBindings) { bindings.append(self) }
}
extension Double: PostgresBindable {
    func append(to bindings: inout PostgresBindings) { bindings.append(self) }
}
extension Bool: PostgresBindable {
    func append(to bindings: inout PostgresBindings) { bindings.append(self) }
}
extension Array: PostgresBindable where Element == String {
    func append(to bindings: inout PostgresBindings) { bindings.append(self) }
}
extension Date: PostgresBindable {
    func append(to bindings: inout PostgresBindings) { bindings.append(self) }
}
extension Optional: PostgresBindable where Wrapped: PostgresBindable {
    func append(to bindings: inout PostgresBindings) {
        switch self {
        case .some(let value): value.append(to: &bindings)
        case .none: bindings.appendNull()
        }
    }
}

/// Whichever of a query's answer and its watchdog comes first completes the promise.
private final class SettledOnce: Sendable {
    private let state = Mutex(false)

    var isClaimed: Bool { state.withLock { $0 } }

    /// `true` for the first caller only.
    func claim() -> Bool {
        state.withLock { claimed in
            defer { claimed = true }
            return !claimed
        }
    }
}

/// A query left unanswered on a closed connection (see ``PostgresRunStore/run(_:on:)``); the
/// statement is repeated on a new connection.
private struct UnansweredOnClosedConnection: Error, CustomStringConvertible {
    var description: String { "the connection closed before the server answered" }
}
