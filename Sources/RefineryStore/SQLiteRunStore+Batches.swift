// The batch tables of `refinery batch` and `refinery bench` (migration `v2-batches`) and the
// ``BatchLedger`` queries over them. A job's row is written when it starts (with its run id, so a
// killed batch can resume that run) and again when it ends.

import Foundation
import GRDB
import RefineryRuntime

extension SQLiteRunStore: BatchLedger {
    static func createBatchTables(_ db: Database) throws {
        try db.create(table: "batches") { t in
            t.primaryKey("id", .text)
            t.column("kind", .text).notNull()
            t.column("status", .text).notNull()
            t.column("created_at", .datetime).notNull().indexed()
            t.column("workflow", .text).notNull()
            t.column("spec", .jsonText).notNull()
            t.column("input_path", .text).notNull()
            t.column("input_sha256", .text).notNull()
            t.column("total", .integer).notNull()
        }
        try db.create(table: "batch_items") { t in
            t.column("batch_id", .text).notNull().references("batches", onDelete: .cascade)
            t.column("item_id", .text).notNull()
            t.column("system", .text).notNull().defaults(to: "")
            t.column("position", .integer).notNull()
            // No foreign key: the row is written before its run, so a kill in between leaves a run id
            // that resume starts afresh.
            t.column("run_id", .text).notNull()
            t.column("status", .text).notNull()
            t.column("answer", .text)
            t.column("extracted_answer", .text)
            t.column("correct", .boolean)
            t.column("cost_usd", .double).notNull().defaults(to: 0)
            t.column("calls", .integer).notNull().defaults(to: 0)
            t.column("input_tokens", .integer).notNull().defaults(to: 0)
            t.column("output_tokens", .integer).notNull().defaults(to: 0)
            t.column("latency_ms", .integer).notNull().defaults(to: 0)
            t.column("error", .text)
            t.column("finished_at", .datetime)
            t.primaryKey(["batch_id", "system", "item_id"])
        }
        try db.create(index: "batch_items_in_order", on: "batch_items", columns: ["batch_id", "position", "system"])
    }

    /// Inserts a new batch.
    public func createBatch(_ batch: BatchRecord) async throws {
        try await writeAsync { db in
            try db.execute(
                sql: """
                    INSERT INTO batches (id, kind, status, created_at, workflow, spec, input_path, input_sha256, total)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    batch.id, batch.kind, batch.status, LedgerDate.value(batch.createdAt), batch.workflow,
                    batch.specJSON,
                    batch.inputPath, batch.inputSHA256, batch.total,
                ])
        }
    }

    /// The batch with this id, or the only batch whose id starts with it.
    public func batch(id: String) async throws -> BatchRecord {
        try await readAsync { db in
            if let row = try Row.fetchOne(db, sql: "SELECT * FROM batches WHERE id = ?", arguments: [id]) {
                return Self.batchRecord(row)
            }
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM batches WHERE id LIKE ? ESCAPE '\\' LIMIT 2",
                arguments: [likePattern(prefix: id)])
            guard !id.isEmpty, let first = rows.first else {
                throw StoreError(
                    code: .notFound,
                    message: "No batch with id \(id). `refinery batch list` shows the recorded batches and benches.")
            }
            guard rows.count == 1 else {
                throw StoreError(
                    code: .ambiguousID, message: "Several batches start with \(id); give more characters of the id.")
            }
            return Self.batchRecord(first)
        }
    }

    /// Sets a batch's status.
    public func setBatchStatus(id: String, status: String) async throws {
        try await writeAsync { db in
            try db.execute(sql: "UPDATE batches SET status = ? WHERE id = ?", arguments: [status, id])
        }
    }

    /// Inserts or replaces the row of one job.
    public func recordItem(_ item: BatchItemRecord) async throws {
        let error = item.error.map(redactor.redact)
        try await writeAsync { db in
            // A cached statement: every job writes two, and SQLite would compile each.
            try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO batch_items (batch_id, item_id, system, position, run_id, status, answer,
                      extracted_answer, correct, cost_usd, calls, input_tokens, output_tokens, latency_ms, error,
                      finished_at, origin)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(
                arguments: [
                    item.batchID, item.itemID, item.system, item.position, item.runID, item.status, item.answer,
                    item.extractedAnswer, item.correct, item.costUSD, item.calls, item.inputTokens,
                    item.outputTokens, item.latencyMs, error, item.finishedAt.map(LedgerDate.value),
                    item.origin?.json,
                ])
        }
    }

    /// The jobs recorded for a batch, in input order, then by system; an unfinished one with what its run's
    /// finished calls spent (one statement: the calls of the unfinished jobs' runs summed per run).
    public func items(batchID: String, spendingOf unfinished: Set<String>) async throws -> [BatchItemRecord] {
        let statuses = unfinished.sorted()
        let marks = Self.marks(statuses)
        return try await readAsync { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT i.*, s.cost AS spent_cost, s.input AS spent_input, s.output AS spent_output
                    FROM batch_items i LEFT JOIN (
                      SELECT c.run_id, SUM(c.cost_usd) AS cost, SUM(c.input_tokens) AS input,
                        SUM(c.output_tokens) AS output
                      FROM calls c WHERE c.status != 'replayed' AND c.run_id IN
                        (SELECT run_id FROM batch_items WHERE batch_id = ? AND status IN (\(marks)))
                      GROUP BY c.run_id) s ON s.run_id = i.run_id
                    WHERE i.batch_id = ? ORDER BY i.position, i.system
                    """,
                arguments: [batchID] + StatementArguments(statuses) + [batchID]
            ).map { row in
                let status: String = row["status"]
                let spent = unfinished.contains(status)
                return BatchItemRecord(
                    batchID: row["batch_id"], itemID: row["item_id"], system: row["system"], position: row["position"],
                    runID: row["run_id"], status: status, answer: row["answer"],
                    extractedAnswer: row["extracted_answer"], correct: row["correct"],
                    costUSD: spent ? (row["spent_cost"] as Double?) ?? 0 : row["cost_usd"], calls: row["calls"],
                    inputTokens: spent ? (row["spent_input"] as Int?) ?? 0 : row["input_tokens"],
                    outputTokens: spent ? (row["spent_output"] as Int?) ?? 0 : row["output_tokens"],
                    latencyMs: row["latency_ms"], error: row["error"], finishedAt: row["finished_at"],
                    origin: AnswerOrigin(json: row["origin"]))
            }
        }
    }

    /// Batches and benches, newest first, with how many jobs are done and what they spent (``itemSpend(unfinished:)``).
    public func listBatches(limit: Int = 50, resumable: Set<String>) async throws -> [BatchSummary] {
        let unfinished = resumable.sorted()
        let marks = Self.marks(unfinished)
        return try await readAsync { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT b.id, b.kind, b.status, b.created_at, b.workflow, b.input_path, b.total,
                      (SELECT COUNT(*) FROM batch_items i WHERE i.batch_id = b.id AND i.status NOT IN (\(marks)))
                        AS done,
                      (SELECT COALESCE(SUM(\(Self.itemSpend(unfinished: marks))), 0) FROM batch_items i
                        WHERE i.batch_id = b.id) AS cost
                    FROM batches b ORDER BY b.created_at DESC, b.rowid DESC LIMIT ?
                    """,
                arguments: StatementArguments(unfinished) + StatementArguments(unfinished) + [limit])
            return rows.map { row in
                BatchSummary(
                    id: row["id"], kind: row["kind"], status: row["status"], createdAt: row["created_at"],
                    workflow: row["workflow"], input: row["input_path"], done: row["done"], total: row["total"],
                    costUSD: row["cost"])
            }
        }
    }

    /// One `?` per status of `statuses`, for `IN (...)`; `''` (no status) for none. The statuses are the
    /// runner's, never the user's: they are bound as arguments all the same.
    private static func marks(_ statuses: [String]) -> String {
        statuses.isEmpty ? "''" : Array(repeating: "?", count: statuses.count).joined(separator: ", ")
    }

    /// What item `i` spent, its status one of `marks` (the unfinished statuses, bound as arguments) or not:
    /// its result's cost once it has one; until then (in flight, cancelled, or its process killed) what its
    /// run's finished calls cost, as `runs list` counts that run (an item's cost comes with its result).
    private static func itemSpend(unfinished marks: String) -> String {
        """
        CASE WHEN i.status IN (\(marks)) THEN (SELECT COALESCE(SUM(c.cost_usd), 0) FROM calls c
          WHERE c.run_id = i.run_id AND c.status != 'replayed') ELSE i.cost_usd END
        """
    }

    private static func batchRecord(_ row: Row) -> BatchRecord {
        BatchRecord(
            id: row["id"], kind: row["kind"], status: row["status"], createdAt: row["created_at"],
            workflow: row["workflow"], specJSON: row["spec"], inputPath: row["input_path"],
            inputSHA256: row["input_sha256"], total: row["total"])
    }
}
