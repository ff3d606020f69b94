// The PostgreSQL schema as an ordered list of named migrations, recorded in `refinery_migrations`
// (the SQLite store's are in `grdb_migrations`). Never edit a shipped migration: add a new one.
// Processes that migrate at once take turns on a transaction-scoped advisory lock.

import Foundation
import Logging
import PostgresNIO

extension PostgresRunStore {
    /// Each migration's statements, in order (one statement per element: the extended protocol runs
    /// one at a time).
    static let migrations: [(name: String, statements: [String])] = [
        (
            "v1-runs-rounds-calls",
            [
                """
                CREATE TABLE runs (
                  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
                  id text PRIMARY KEY,
                  workflow_name text NOT NULL,
                  status text NOT NULL,
                  prompt text NOT NULL,
                  prompt_hash text NOT NULL,
                  workflow text NOT NULL,
                  provenance text NOT NULL,
                  resolved_models text NOT NULL,
                  params text NOT NULL,
                  template_hashes text NOT NULL,
                  seed text NOT NULL,
                  variables text NOT NULL,
                  anonymization text NOT NULL,
                  outcome text,
                  cost_usd double precision NOT NULL DEFAULT 0,
                  input_tokens bigint NOT NULL DEFAULT 0,
                  output_tokens bigint NOT NULL DEFAULT 0,
                  exit_code bigint,
                  started_at timestamptz NOT NULL,
                  finished_at timestamptz
                )
                """,
                "CREATE INDEX runs_by_start ON runs (started_at DESC, seq DESC)",
                "CREATE INDEX runs_by_workflow ON runs (workflow_name)",
                """
                CREATE TABLE rounds (
                  run_id text NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                  round bigint NOT NULL,
                  decision text NOT NULL,
                  recorded_at timestamptz NOT NULL,
                  PRIMARY KEY (run_id, round)
                )
                """,
                // No foreign key: a library user may ledger calls without a run row. `record_key` makes a
                // statement repeated after a lost connection harmless: a row already committed is skipped.
                """
                CREATE TABLE calls (
                  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                  record_key uuid NOT NULL UNIQUE,
                  run_id text NOT NULL,
                  round bigint NOT NULL,
                  node text NOT NULL,
                  participant text NOT NULL,
                  request_hash text NOT NULL,
                  request text NOT NULL,
                  response text,
                  input_tokens bigint NOT NULL,
                  output_tokens bigint NOT NULL,
                  latency_ms bigint NOT NULL,
                  cost_usd double precision NOT NULL,
                  attempts bigint NOT NULL,
                  status text NOT NULL,
                  error text,
                  started_at timestamptz NOT NULL,
                  finished_at timestamptz NOT NULL
                )
                """,
                "CREATE INDEX calls_by_run ON calls (run_id, round, node)",
                // A call is paid for once: at most one succeeded record per (run, round, node, request).
                """
                CREATE UNIQUE INDEX calls_succeeded_once ON calls (run_id, round, node, request_hash)
                WHERE status = 'succeeded'
                """,
            ]
        ),
        ("v2-batches", batchTables),
        ("v3-workers", workerTables),
        // What produced each item's answer (AnswerOrigin, JSON): the model, a fallback, degraded coverage.
        ("v4-item-origin", ["ALTER TABLE batch_items ADD COLUMN origin text"]),
    ]

    /// An arbitrary constant naming Refinery's migration lock among the server's advisory locks.
    static let migrationLockKey = 0x5245_4649_4E45  // "REFINE"

    /// Applies the migrations this build knows, in one transaction holding the migration lock, so two
    /// processes opening a new database at once apply each migration once. Refuses a database migrated
    /// by a newer Refinery.
    func migrate() async throws {
        let deadline = ContinuousClock.now + reconnectWindow
        while true {
            let connection = try await liveConnection(until: deadline)
            do {
                return try await migrate(on: connection)
            } catch let error as StoreError {
                throw error
            } catch {
                // The server went away mid-transaction: it rolled back; start again on a new connection.
                guard Self.isConnectionLoss(error, connection: connection), ContinuousClock.now < deadline else {
                    throw StoreError(
                        code: .migrationFailed,
                        message: "Cannot bring the run store at \(location) up to date\(Self.serverDetail(error)); "
                            + "check that the user may create tables in the database.")
                }
                drop(connection)
                try await Self.pause()
            }
        }
    }

    /// One attempt: the whole transaction on one connection (a statement repeated on a new connection
    /// after a lost one would run outside it). Throws a ``StoreError`` for a failure that retrying cannot
    /// fix, the connection's error otherwise.
    private func migrate(on connection: PostgresConnection) async throws {
        func run(_ sql: String, _ binds: PostgresBindings = PostgresBindings()) async throws -> [PostgresRow] {
            try await Self.run(PostgresQuery(unsafeSQL: sql, binds: binds), on: connection)
        }
        // An up-to-date schema needs no lock and no DDL: a team member granted only reads and writes on the
        // tables (not CREATE, PostgreSQL 15's default for non-owners) opens it like its owner.
        let appliedSQL = "SELECT name FROM refinery_migrations"
        if try await run("SELECT to_regclass('refinery_migrations') IS NOT NULL").first?.decode(Bool.self) == true,
            Set(try await run(appliedSQL).map { try $0.decode(String.self) }) == Set(Self.migrations.map(\.name))
        {
            return
        }
        do {
            _ = try await run("BEGIN")
            _ = try await run("SELECT pg_advisory_xact_lock(\(Self.migrationLockKey))")
            _ = try await run(
                """
                CREATE TABLE IF NOT EXISTS refinery_migrations (
                  name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                """)
            let applied = Set(try await run(appliedSQL).map { try $0.decode(String.self) })
            let unknown = applied.subtracting(Self.migrations.map(\.name))
            guard unknown.isEmpty else {
                throw StoreError(
                    code: .newerSchema,
                    message: "The run store at \(location) was written by a newer Refinery (migrations "
                        + "\(unknown.sorted().joined(separator: ", ")) are unknown to this version); upgrade "
                        + "Refinery or choose another store with --store.")
            }
            for migration in Self.migrations where !applied.contains(migration.name) {
                for statement in migration.statements { _ = try await run(statement) }
                var binds = PostgresBindings()
                binds.append(migration.name)
                _ = try await run("INSERT INTO refinery_migrations (name) VALUES ($1)", binds)
            }
            _ = try await run("COMMIT")
        } catch {
            if !connection.isClosed { _ = try? await run("ROLLBACK") }
            if error is StoreError || Self.isConnectionLoss(error, connection: connection) { throw error }
            throw StoreError(
                code: .migrationFailed,
                message: "Cannot bring the run store at \(location) up to date\(Self.serverDetail(error)); "
                    + "check that the user may create tables in the database.")
        }
    }

    /// Names of the migrations applied to this database, sorted.
    public func appliedMigrations() async throws -> [String] {
        try await query("SELECT name FROM refinery_migrations ORDER BY name").map { try $0.decode(String.self) }
    }
}
