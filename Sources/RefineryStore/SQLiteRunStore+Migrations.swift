// The schema as an ordered list of named migrations, recorded by GRDB in `grdb_migrations`.
// Never edit a shipped migration: add a new one.

import GRDB

extension SQLiteRunStore {
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-runs-rounds-calls") { db in
            try db.create(table: "runs") { t in
                t.primaryKey("id", .text)
                t.column("workflow_name", .text).notNull().indexed()
                t.column("status", .text).notNull()
                t.column("prompt", .text).notNull()
                t.column("prompt_hash", .text).notNull()
                t.column("workflow", .jsonText).notNull()
                t.column("provenance", .jsonText).notNull()
                t.column("resolved_models", .jsonText).notNull()
                t.column("params", .jsonText).notNull()
                t.column("template_hashes", .jsonText).notNull()
                t.column("seed", .text).notNull()
                t.column("variables", .jsonText).notNull()
                t.column("anonymization", .jsonText).notNull()
                t.column("outcome", .jsonText)
                t.column("cost_usd", .double).notNull().defaults(to: 0)
                t.column("input_tokens", .integer).notNull().defaults(to: 0)
                t.column("output_tokens", .integer).notNull().defaults(to: 0)
                t.column("exit_code", .integer)
                t.column("started_at", .datetime).notNull().indexed()
                t.column("finished_at", .datetime)
            }
            try db.create(table: "rounds") { t in
                t.column("run_id", .text).notNull().references("runs", onDelete: .cascade)
                t.column("round", .integer).notNull()
                t.column("decision", .jsonText).notNull()
                t.column("recorded_at", .datetime).notNull()
                t.primaryKey(["run_id", "round"])
            }
            try db.create(table: "calls") { t in
                t.autoIncrementedPrimaryKey("id")
                // No foreign key: a library user may ledger calls without a run row.
                t.column("run_id", .text).notNull()
                t.column("round", .integer).notNull()
                t.column("node", .text).notNull()
                t.column("participant", .text).notNull()
                t.column("request_hash", .text).notNull()
                t.column("request", .jsonText).notNull()
                t.column("response", .jsonText)
                t.column("input_tokens", .integer).notNull()
                t.column("output_tokens", .integer).notNull()
                t.column("latency_ms", .integer).notNull()
                t.column("cost_usd", .double).notNull()
                t.column("attempts", .integer).notNull()
                t.column("status", .text).notNull()
                t.column("error", .text)
                t.column("started_at", .datetime).notNull()
                t.column("finished_at", .datetime).notNull()
            }
            try db.create(index: "calls_by_run", on: "calls", columns: ["run_id", "round", "node"])
            // A call is paid for once: at most one succeeded record per (run, round, node, request).
            try db.execute(
                sql: """
                    CREATE UNIQUE INDEX calls_succeeded_once ON calls(run_id, round, node, request_hash)
                    WHERE status = 'succeeded'
                    """)
        }
        migrator.registerMigration("v2-batches") { db in try createBatchTables(db) }
        // What produced each item's answer (AnswerOrigin, JSON): the model, a fallback, degraded coverage.
        migrator.registerMigration("v4-item-origin") { db in
            try db.alter(table: "batch_items") { t in t.add(column: "origin", .jsonText) }
        }
        return migrator
    }()
}
