// The batch tables of `refinery batch` and `refinery bench` on PostgreSQL (migration `v2-batches`, the
// same name and columns as the SQLite store's) and the ``BatchLedger`` queries over them. A job's row is
// written when it starts (with its run id, so a killed batch can resume that run) and again when it ends.

import Foundation
import PostgresNIO
import RefineryRuntime

extension PostgresRunStore {
    /// The statements of migration `v2-batches`.
    static let batchTables: [String] = [
        // `seq` orders batches created in the same microsecond, as SQLite's rowid does.
        """
        CREATE TABLE batches (
          seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
          id text PRIMARY KEY,
          kind text NOT NULL,
          status text NOT NULL,
          created_at timestamptz NOT NULL,
          workflow text NOT NULL,
          spec text NOT NULL,
          input_path text NOT NULL,
          input_sha256 text NOT NULL,
          total bigint NOT NULL
        )
        """,
        "CREATE INDEX batches_by_creation ON batches (created_at DESC, seq DESC)",
        // No foreign key to runs: the row is written before its run, so a kill in between leaves a run id
        // that resume starts afresh.
        """
        CREATE TABLE batch_items (
          batch_id text NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
          item_id text NOT NULL,
          system text NOT NULL DEFAULT '',
          position bigint NOT NULL,
          run_id text NOT NULL,
          status text NOT NULL,
          answer text,
          extracted_answer text,
          correct boolean,
          cost_usd double precision NOT NULL DEFAULT 0,
          calls bigint NOT NULL DEFAULT 0,
          input_tokens bigint NOT NULL DEFAULT 0,
          output_tokens bigint NOT NULL DEFAULT 0,
          latency_ms bigint NOT NULL DEFAULT 0,
          error text,
          finished_at timestamptz,
          PRIMARY KEY (batch_id, system, item_id)
        )
        """,
        "CREATE INDEX batch_items_in_order ON batch_items (batch_id, position, system)",
    ]

    /// Inserts a new batch.
    public func createBatch(_ batch: BatchRecord) async throws {
        try await query(
            """
            INSERT INTO batches (id, kind, status, created_at, workflow, spec, input_path, input_sha256, total)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            """,
            binds: batch.id, batch.kind, batch.status, batch.createdAt, batch.workflow, batch.specJSON,
            batch.inputPath, batch.inputSHA256, batch.total)
    }

    /// The batch with this id, or the only batch whose id starts with it.
    public func batch(id: String) async throws -> BatchRecord {
        let row = try await rowByIDOrPrefix(
            in: "batches", id: id,
            notFound: "No batch with id \(id). `refinery batch list` shows the recorded batches and benches.")
        return BatchRecord(
            id: try row["id"].decode(String.self), kind: try row["kind"].decode(String.self),
            status: try row["status"].decode(String.self), createdAt: try row["created_at"].decode(Date.self),
            workflow: try row["workflow"].decode(String.self), specJSON: try row["spec"].decode(String.self),
            inputPath: try row["input_path"].decode(String.self),
            inputSHA256: try row["input_sha256"].decode(String.self), total: try row["total"].decode(Int.self))
    }

    /// Sets a batch's status.
    public func setBatchStatus(id: String, status: String) async throws {
        try await query("UPDATE batches SET status = $1 WHERE id = $2", binds: status, id)
    }

    /// Inserts or replaces the row of one job (an upsert: repeating it after a lost connection is harmless).
    public func recordItem(_ item: BatchItemRecord) async throws {
        try await query(
            """
            INSERT INTO batch_items (batch_id, item_id, system, position, run_id, status, answer, extracted_answer,
              correct, cost_usd, calls, input_tokens, output_tokens, latency_ms, error, finished_at, origin)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
            ON CONFLICT (batch_id, system, item_id) DO UPDATE SET position = EXCLUDED.position,
              run_id = EXCLUDED.run_id, status = EXCLUDED.status, answer = EXCLUDED.answer,
              extracted_answer = EXCLUDED.extracted_answer, correct = EXCLUDED.correct, cost_usd = EXCLUDED.cost_usd,
              calls = EXCLUDED.calls, input_tokens = EXCLUDED.input_tokens, output_tokens = EXCLUDED.output_tokens,
              latency_ms = EXCLUDED.latency_ms, error = EXCLUDED.error, finished_at = EXCLUDED.finished_at,
              origin = EXCLUDED.origin
            """,
            binds: item.batchID, item.itemID, item.system, item.position, item.runID, item.status, item.answer,
            item.extractedAnswer, item.correct, item.costUSD, item.calls, item.inputTokens, item.outputTokens,
            item.latencyMs, item.error.map(redactor.redact), item.finishedAt, item.origin?.json)
    }

    /// The jobs recorded for a batch, in input order, then by system; an unfinished one with what its run's
    /// finished calls spent (one statement: the calls of the unfinished jobs' runs summed per run).
    public func items(batchID: String, spendingOf unfinished: Set<String>) async throws -> [BatchItemRecord] {
        let rows = try await query(
            """
            SELECT i.*, s.cost AS spent_cost, s.input AS spent_input, s.output AS spent_output
            FROM batch_items i LEFT JOIN (
              SELECT c.run_id, SUM(c.cost_usd) AS cost, SUM(c.input_tokens)::bigint AS input,
                SUM(c.output_tokens)::bigint AS output
              FROM calls c WHERE c.status <> 'replayed' AND c.run_id IN
                (SELECT run_id FROM batch_items WHERE batch_id = $1 AND status = ANY($2))
              GROUP BY c.run_id) s ON s.run_id = i.run_id
            WHERE i.batch_id = $1 ORDER BY i.position, i.system
            """, binds: batchID, unfinished.sorted())
        return try rows.map { row in
            let row = row.makeRandomAccess()
            let status = try row["status"].decode(String.self)
            let spent = unfinished.contains(status)
            return BatchItemRecord(
                batchID: try row["batch_id"].decode(String.self), itemID: try row["item_id"].decode(String.self),
                system: try row["system"].decode(String.self), position: try row["position"].decode(Int.self),
                runID: try row["run_id"].decode(String.self), status: status,
                answer: try row["answer"].decode(String?.self),
                extractedAnswer: try row["extracted_answer"].decode(String?.self),
                correct: try row["correct"].decode(Bool?.self),
                costUSD: spent
                    ? try row["spent_cost"].decode(Double?.self) ?? 0 : try row["cost_usd"].decode(Double.self),
                calls: try row["calls"].decode(Int.self),
                inputTokens: spent
                    ? try row["spent_input"].decode(Int?.self) ?? 0 : try row["input_tokens"].decode(Int.self),
                outputTokens: spent
                    ? try row["spent_output"].decode(Int?.self) ?? 0 : try row["output_tokens"].decode(Int.self),
                latencyMs: try row["latency_ms"].decode(Int.self), error: try row["error"].decode(String?.self),
                finishedAt: try row["finished_at"].decode(Date?.self),
                origin: AnswerOrigin(json: try row["origin"].decode(String?.self)))
        }
    }

    /// Batches and benches, newest first, with how many jobs are done and what they spent: a job's result's
    /// cost once it has one; until then (in flight, cancelled, or its process killed) its run's finished calls.
    public func listBatches(limit: Int = 50, resumable: Set<String>) async throws -> [BatchSummary] {
        let rows = try await query(
            """
            SELECT b.id, b.kind, b.status, b.created_at, b.workflow, b.input_path, b.total,
              (SELECT COUNT(*) FROM batch_items i WHERE i.batch_id = b.id AND i.status <> ALL($1)) AS done,
              (SELECT COALESCE(SUM(CASE WHEN i.status = ANY($1) THEN (SELECT COALESCE(SUM(c.cost_usd), 0) FROM calls c
                 WHERE c.run_id = i.run_id AND c.status <> 'replayed') ELSE i.cost_usd END), 0)
                 FROM batch_items i WHERE i.batch_id = b.id) AS cost
            FROM batches b ORDER BY b.created_at DESC, b.seq DESC LIMIT $2
            """, binds: resumable.sorted(), limit)
        return try rows.map { row in
            let row = row.makeRandomAccess()
            return BatchSummary(
                id: try row["id"].decode(String.self), kind: try row["kind"].decode(String.self),
                status: try row["status"].decode(String.self), createdAt: try row["created_at"].decode(Date.self),
                workflow: try row["workflow"].decode(String.self), input: try row["input_path"].decode(String.self),
                done: try row["done"].decode(Int.self), total: try row["total"].decode(Int.self),
                costUSD: try row["cost"].decode(Double.self))
        }
    }
}
