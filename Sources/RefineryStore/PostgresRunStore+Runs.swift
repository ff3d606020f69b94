// Run-level writes and the queries behind `refinery runs list|show|export`, `resume` and `report`,
// on PostgreSQL. JSON values are stored as text (not jsonb), so what was written reads back unchanged.

public import Foundation
import PostgresNIO
import RefineryCompiler
public import RefineryRuntime

extension PostgresRunStore {
    /// Inserts a new run (status `running`).
    public func createRun(_ run: StoredRun) async throws {
        let encoder = JSONEncoder.sorted
        var params: [String: ModelParams] = [:]
        for member in run.workflow.members { params[member.id] = member.params }
        if let arbiter = run.workflow.arbiter { params["arbiter"] = arbiter.params }
        let json: [String]
        do {
            json = try [
                run.workflow.json(encoder), run.provenance.json(encoder), run.resolvedModels.json(encoder),
                params.json(encoder), RunRow.templateHashes(run.workflow.stages).json(encoder),
                run.variables.json(encoder), run.anonymization.json(encoder),
            ]
        } catch {
            throw StoreError(
                code: .io, message: "Cannot encode the run for the run store at \(location).", cause: error)
        }
        try await query(
            """
            INSERT INTO runs (id, workflow_name, status, prompt, prompt_hash, workflow, provenance, resolved_models,
              params, template_hashes, seed, variables, anonymization, outcome, cost_usd, input_tokens, output_tokens,
              exit_code, started_at, finished_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
            """,
            binds: run.id, run.workflowName, run.status, run.prompt, run.promptHash, json[0], json[1], json[2],
            json[3], json[4], String(run.seed), json[5], json[6], run.outcomeJSON, run.costUSD, run.inputTokens,
            run.outputTokens, run.exitCode, run.startedAt, run.finishedAt)
    }

    /// Marks a run as running again (for `resume`).
    public func markRunning(id: String) async throws {
        try await query(
            "UPDATE runs SET status = 'running', finished_at = NULL, exit_code = NULL WHERE id = $1", binds: id)
    }

    /// Records how the run ended.
    public func finishRun(id: String, _ completion: RunCompletion) async throws {
        let anonymization = try String(decoding: JSONEncoder.sorted.encode(completion.anonymization), as: UTF8.self)
        try await query(
            """
            UPDATE runs SET status = $1, outcome = $2, cost_usd = $3, input_tokens = $4, output_tokens = $5,
              exit_code = $6, finished_at = $7, anonymization = $8 WHERE id = $9
            """,
            binds: completion.status, completion.outcomeJSON, completion.costUSD, completion.inputTokens,
            completion.outputTokens, completion.exitCode, completion.finishedAt, anonymization, id)
    }

    /// Records (or, on resume, replaces) the close decision of a round.
    public func recordRound(runID: String, round: Int, decisionJSON: String, at date: Date) async throws {
        try await query(
            """
            INSERT INTO rounds (run_id, round, decision, recorded_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (run_id, round) DO UPDATE SET decision = EXCLUDED.decision, recorded_at = EXCLUDED.recorded_at
            """, binds: runID, round, decisionJSON, date)
    }

    /// The run with this id, or the only run whose id starts with it.
    public func run(id: String) async throws -> StoredRun {
        try await fetchRun(id: id).run
    }

    /// The run with exactly this id, `nil` when none is recorded (an index look-up, never a prefix scan).
    public func run(exactID id: String) async throws -> StoredRun? {
        guard let row = try await query("SELECT * FROM runs WHERE id = $1", binds: id).first else { return nil }
        return try decodeRun(row.makeRandomAccess()).run
    }

    /// Runs, newest first.
    public func listRuns(limit: Int = 50) async throws -> [RunSummary] {
        let rows = try await query(
            """
            SELECT r.id, r.workflow_name, r.status, r.started_at, r.finished_at,
              \(SQLiteRunStore.listedCost)::double precision AS cost_usd,
              (r.provenance::jsonb) ->> 'gitCommit' AS git_commit,
              (SELECT COUNT(*) FROM calls c WHERE c.run_id = r.id AND c.status IN (\(SQLiteRunStore.callStatusList))) AS calls
            FROM runs r ORDER BY r.started_at DESC, r.seq DESC LIMIT $1
            """, binds: limit)
        return try rows.map { row in
            let row = row.makeRandomAccess()
            return RunSummary(
                id: try row["id"].decode(String.self), workflow: try row["workflow_name"].decode(String.self),
                status: try row["status"].decode(String.self), startedAt: try row["started_at"].decode(Date.self),
                finishedAt: try row["finished_at"].decode(Date?.self), costUSD: try row["cost_usd"].decode(Double.self),
                calls: try row["calls"].decode(Int.self), gitCommit: try row["git_commit"].decode(String?.self))
        }
    }

    /// The calls of a run, in recording order.
    public func calls(runID: String) async throws -> [CallRecord] {
        let rows = try await query("SELECT * FROM calls WHERE run_id = $1 ORDER BY id", binds: runID)
        return try rows.map { try PostgresCallRow.record($0.makeRandomAccess(), store: self) }
    }

    /// The rounds of a run, in order.
    public func rounds(runID: String) async throws -> [RoundRecord] {
        let rows = try await query(
            "SELECT round, decision, recorded_at FROM rounds WHERE run_id = $1 ORDER BY round", binds: runID)
        return try rows.map { row in
            let row = row.makeRandomAccess()
            return RoundRecord(
                round: try row["round"].decode(Int.self), decisionJSON: try row["decision"].decode(String.self),
                recordedAt: try row["recorded_at"].decode(Date.self))
        }
    }

    /// Everything about one run.
    public func export(runID: String) async throws -> RunExport {
        let found = try await fetchRun(id: runID)
        return RunExport(
            run: found.run, rounds: try await rounds(runID: found.run.id), calls: try await calls(runID: found.run.id),
            templateHashes: found.templateHashes)
    }

    /// The row of `table` whose id is `id`, else the only row whose id starts with it (`runs show 3f2c`).
    /// `table` is one of this store's own tables, never the user's text.
    func rowByIDOrPrefix(
        in table: String, id: String, notFound: String
    ) async throws -> PostgresRandomAccessRow {
        var rows = try await query("SELECT * FROM \(table) WHERE id = $1", binds: id)
        if rows.isEmpty, !id.isEmpty {
            rows = try await query(
                "SELECT * FROM \(table) WHERE id LIKE $1 ESCAPE '\\' LIMIT 2", binds: likePattern(prefix: id))
            guard rows.count < 2 else {
                throw StoreError(
                    code: .ambiguousID, message: "Several \(table) start with \(id); give more characters of the id.")
            }
        }
        guard let row = rows.first?.makeRandomAccess() else { throw StoreError(code: .notFound, message: notFound) }
        return row
    }

    private func fetchRun(id: String) async throws -> (run: StoredRun, templateHashes: [String]) {
        try decodeRun(
            try await rowByIDOrPrefix(
                in: "runs", id: id, notFound: "No run with id \(id). `refinery runs list` shows the recorded runs."))
    }

    private nonisolated func decodeRun(
        _ row: PostgresRandomAccessRow
    ) throws -> (run: StoredRun, templateHashes: [String]) {
        let run = StoredRun(
            id: try row["id"].decode(String.self), workflowName: try row["workflow_name"].decode(String.self),
            status: try row["status"].decode(String.self), prompt: try row["prompt"].decode(String.self),
            promptHash: try row["prompt_hash"].decode(String.self),
            workflow: try decodeJSON(Workflow.self, row["workflow"]),
            provenance: try decodeJSON(Provenance.self, row["provenance"]),
            seed: UInt64(try row["seed"].decode(String.self)) ?? 0,
            variables: try decodeJSON([String: String].self, row["variables"]),
            anonymization: try decodeJSON([String: [String: String]].self, row["anonymization"]),
            outcomeJSON: try row["outcome"].decode(String?.self), costUSD: try row["cost_usd"].decode(Double.self),
            inputTokens: try row["input_tokens"].decode(Int.self),
            outputTokens: try row["output_tokens"].decode(Int.self),
            exitCode: try row["exit_code"].decode(Int?.self), startedAt: try row["started_at"].decode(Date.self),
            finishedAt: try row["finished_at"].decode(Date?.self))
        return (run, try decodeJSON([String].self, row["template_hashes"]))
    }
}

extension Encodable {
    fileprivate func json(_ encoder: JSONEncoder) throws -> String {
        String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
