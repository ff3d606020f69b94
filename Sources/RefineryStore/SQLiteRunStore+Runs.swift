// Run-level writes and the queries behind `refinery runs list|show|export` and `resume`.

public import Foundation
import GRDB
public import RefineryRuntime

extension SQLiteRunStore {
    /// Inserts a new run (status `running`).
    public func createRun(_ run: StoredRun) async throws {
        let row: [DatabaseValue]
        do {
            row = try RunRow(run).insertArguments()
        } catch {
            throw writeError(error)
        }
        try await writeAsync { db in
            try db.cachedStatement(sql: RunRow.insertSQL).execute(arguments: StatementArguments(row))
        }
    }

    /// Marks a run as running again (for `resume`).
    public func markRunning(id: String) async throws {
        try await writeAsync { db in
            try db.execute(
                sql: "UPDATE runs SET status = 'running', finished_at = NULL, exit_code = NULL WHERE id = ?",
                arguments: [id])
        }
    }

    /// Records how the run ended.
    public func finishRun(id: String, _ completion: RunCompletion) async throws {
        let anonymization = try String(decoding: JSONEncoder.sorted.encode(completion.anonymization), as: UTF8.self)
        try await writeAsync { db in
            // A cached statement: every run of a batch writes one, and SQLite would compile it each time.
            try db.cachedStatement(
                sql: """
                    UPDATE runs SET status = ?, outcome = ?, cost_usd = ?, input_tokens = ?, output_tokens = ?,
                    exit_code = ?, finished_at = ?, anonymization = ? WHERE id = ?
                    """
            ).execute(
                arguments: [
                    completion.status, completion.outcomeJSON, completion.costUSD, completion.inputTokens,
                    completion.outputTokens, completion.exitCode, LedgerDate.value(completion.finishedAt),
                    anonymization,
                    id,
                ])
        }
    }

    /// Records (or, on resume, replaces) the close decision of a round.
    public func recordRound(runID: String, round: Int, decisionJSON: String, at date: Date) async throws {
        let recordedAt = LedgerDate.value(date)
        try await writeAsync { db in
            try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO rounds (run_id, round, decision, recorded_at) VALUES (?, ?, ?, ?)"
            ).execute(arguments: [runID, round, decisionJSON, recordedAt])
        }
    }

    /// The run with this id, or the only run whose id starts with it.
    public func run(id: String) async throws -> StoredRun {
        try await readAsync { db in try Self.fetchRun(db, id: id).run }
    }

    /// The run with exactly this id, `nil` when none is recorded.
    public func run(exactID id: String) async throws -> StoredRun? {
        try await readAsync { db in try RunRow.fetchOne(db, key: id)?.run }
    }

    /// The statuses of the rows that are calls (``CallStatus/isCall``) as an SQL list: `'succeeded', 'failed'`.
    static let callStatusList = CallStatus.callStatuses.map { "'\($0.rawValue)'" }.joined(separator: ", ")

    /// What a listed run cost: its outcome's cost once it has one; while it is `running` (or was stopped without
    /// a word), what its recorded calls cost so far, those replayed from an earlier session aside. Summed in the
    /// listing's query: `runs list` fetched every call of each such run to add them up.
    static let listedCost = """
        CASE WHEN r.status = 'running' THEN (SELECT COALESCE(SUM(c.cost_usd), 0) FROM calls c \
        WHERE c.run_id = r.id AND c.status <> '\(CallStatus.replayed.rawValue)') ELSE r.cost_usd END
        """

    /// Runs, newest first.
    public func listRuns(limit: Int = 50) async throws -> [RunSummary] {
        try await readAsync { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT r.id, r.workflow_name, r.status, r.started_at, r.finished_at, \(Self.listedCost) AS cost_usd,
                      json_extract(r.provenance, '$.gitCommit') AS git_commit,
                      (SELECT COUNT(*) FROM calls c WHERE c.run_id = r.id AND c.status IN (\(Self.callStatusList))) AS calls
                    FROM runs r ORDER BY r.started_at DESC, r.rowid DESC LIMIT ?
                    """,
                arguments: [limit])
            return rows.map { row in
                RunSummary(
                    id: row["id"], workflow: row["workflow_name"], status: row["status"],
                    startedAt: row["started_at"], finishedAt: row["finished_at"], costUSD: row["cost_usd"],
                    calls: row["calls"], gitCommit: row["git_commit"])
            }
        }
    }

    /// The calls of a run, in recording order.
    public func calls(runID: String) async throws -> [CallRecord] {
        try await readAsync { db in
            try CallRow.filter(Column("run_id") == runID).order(Column("id")).fetchAll(db).map(\.record)
        }
    }

    /// The rounds of a run, in order.
    public func rounds(runID: String) async throws -> [RoundRecord] {
        try await readAsync { db in
            try RoundRow.filter(Column("run_id") == runID).order(Column("round")).fetchAll(db).map {
                RoundRecord(round: $0.round, decisionJSON: $0.decision, recordedAt: $0.recordedAt)
            }
        }
    }

    /// Everything about one run.
    public func export(runID: String) async throws -> RunExport {
        let row = try await readAsync { db in try Self.fetchRun(db, id: runID) }
        return RunExport(
            run: row.run, rounds: try await rounds(runID: row.id), calls: try await calls(runID: row.id),
            templateHashes: row.templateHashes)
    }

    private static func fetchRun(_ db: Database, id: String) throws -> RunRow {
        if let row = try RunRow.fetchOne(db, key: id) { return row }
        let matches = try RunRow.fetchAll(
            db, sql: "SELECT * FROM runs WHERE id LIKE ? ESCAPE '\\' LIMIT 2", arguments: [likePattern(prefix: id)])
        guard !id.isEmpty, let first = matches.first else {
            throw StoreError(
                code: .notFound, message: "No run with id \(id). `refinery runs list` shows the recorded runs.")
        }
        guard matches.count == 1 else {
            throw StoreError(
                code: .ambiguousID, message: "Several runs start with \(id); give more characters of the id.")
        }
        return first
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }
}
