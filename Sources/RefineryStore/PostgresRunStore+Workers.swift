// Many workers on one batch (`refinery batch|bench --detach`, `refinery worker`): migration
// `v3-workers` and its statements. `--detach` inserts every job up front (status `pending`, its run id
// chosen); workers claim jobs with `FOR UPDATE SKIP LOCKED` under a lease that their heartbeat renews,
// and record each result fenced by the claim (`claimed_by` and the `attempt` it was claimed with), so
// no job's result is recorded twice. A job whose worker died is claimable again once its lease has
// expired and resumes the same run. The batch budget lives in the `batches` row: grants are taken by
// `refinery_grant`, which locks that row, so the grants in flight over all workers never add up to
// more than is left. Times are the server's `now()`, never a worker's clock. Every write here is safe
// to repeat after a lost connection (the reconnect loop repeats it): each is fenced by the claim, so a
// repeat matches nothing.

import Foundation
import PostgresNIO
import RefineryRuntime

/// A job a worker claimed: which one, the run it answers, and the claim's fencing token.
package struct ClaimedItem: Sendable, Hashable {
    package var batchID: String
    package var itemID: String
    package var system: String
    package var position: Int
    package var runID: String
    /// Bumped by every claim: a result is recorded only with the attempt it was claimed with.
    package var attempt: Int

    /// The job's key (as ``BatchItemRecord`` keys: system, then item).
    package var key: String { system + "\u{1F}" + itemID }
}

/// A worker as `refinery batch status` shows it.
public struct WorkerState: Sendable, Hashable, Codable {
    /// `host:pid:random`, chosen by the worker.
    public var id: String
    /// The machine it runs on.
    public var host: String
    /// Its process id there.
    public var pid: Int
    /// Jobs of this batch it holds (claimed, not yet recorded).
    public var inFlight: Int
    /// Seconds since its last heartbeat (the server's clock).
    public var heartbeatAgeSeconds: Double
    /// Whether its heartbeat is within its lease: a worker that is not alive has died or stalled, and its
    /// jobs are claimed again.
    public var alive: Bool

    enum CodingKeys: String, CodingKey {
        case id, host, pid, alive
        case inFlight = "in_flight"
        case heartbeatAgeSeconds = "heartbeat_age_seconds"
    }
}

/// The shared-ledger part of a batch's state: its budget as the database holds it, and its workers.
package struct DetachedBatchState: Sendable {
    package var detached: Bool
    package var budgetUSD: Double?
    package var spentUSD: Double
    package var reservedUSD: Double
    package var workers: [WorkerState]
}

extension PostgresRunStore {
    /// The statements of migration `v3-workers`.
    static let workerTables: [String] = [
        // Who is working. A worker is alive while its heartbeat is within its lease.
        """
        CREATE TABLE workers (
          id text PRIMARY KEY,
          host text NOT NULL,
          pid bigint NOT NULL,
          batch_id text REFERENCES batches(id) ON DELETE CASCADE,
          concurrency bigint NOT NULL,
          lease_seconds double precision NOT NULL,
          started_at timestamptz NOT NULL DEFAULT now(),
          heartbeat_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        // The batch budget, held by the database: what finished attempts spent, and the grants in flight.
        """
        ALTER TABLE batches
          ADD COLUMN detached boolean NOT NULL DEFAULT false,
          ADD COLUMN budget_usd double precision,
          ADD COLUMN spent_usd double precision NOT NULL DEFAULT 0,
          ADD COLUMN reserved_usd double precision NOT NULL DEFAULT 0
        """,
        // A lease on each claimed job; `attempt` is the fencing token; `grant_usd` is reserved for the
        // current attempt; `booked_usd` is what of its run's cost is in `spent_usd` already.
        """
        ALTER TABLE batch_items
          ADD COLUMN claimed_by text,
          ADD COLUMN lease_until timestamptz,
          ADD COLUMN attempt bigint NOT NULL DEFAULT 0,
          ADD COLUMN grant_usd double precision NOT NULL DEFAULT 0,
          ADD COLUMN booked_usd double precision NOT NULL DEFAULT 0
        """,
        // What a claim scans: the claimable jobs of a batch in input order; done rows leave the index.
        """
        CREATE INDEX batch_items_claimable ON batch_items (batch_id, position, system)
        WHERE status IN ('pending', 'running', 'cancelled')
        """,
        "CREATE INDEX batch_items_by_worker ON batch_items (claimed_by) WHERE claimed_by IS NOT NULL",
        // The grant: the row lock on the batch serializes every worker's grants, so the grants in flight
        // never add up to more than is left. NULL: the claim was lost, the batch stopped, or no room.
        // -1: the end game (what is left is under `p_concurrency` estimates) and the worker already holds a
        // grant: it takes grants one item at a time from here, so that the batch passes its cap by at most
        // one item's in-flight calls per worker; also when the job does not fit but grants are in flight,
        // since their runs give back what they do not spend (the batch stops only when nothing is).
        """
        CREATE FUNCTION refinery_grant(p_batch text, p_system text, p_item text, p_worker text, p_attempt bigint,
                                       p_estimate double precision, p_held bigint, p_concurrency bigint)
        RETURNS double precision LANGUAGE plpgsql AS $$
        DECLARE b batches%ROWTYPE; i batch_items%ROWTYPE; slots bigint; amount double precision;
          left_usd double precision;
        BEGIN
          SELECT * INTO b FROM batches WHERE id = p_batch FOR UPDATE;
          SELECT * INTO i FROM batch_items
          WHERE batch_id = p_batch AND system = p_system AND item_id = p_item AND claimed_by = p_worker
            AND attempt = p_attempt FOR UPDATE;
          IF NOT FOUND OR b.status <> 'running' THEN RETURN NULL; END IF;
          IF i.grant_usd > 0 THEN RETURN i.grant_usd; END IF;
          IF b.budget_usd IS NULL THEN RETURN 'Infinity'::double precision; END IF;
          left_usd := b.budget_usd - b.spent_usd - b.reserved_usd;
          IF p_held > 0 AND left_usd < p_concurrency * p_estimate THEN RETURN -1; END IF;
          IF p_estimate > left_usd + 1e-12 THEN
            -- Grants in flight (any worker's) give back what their runs do not spend: ask again once they
            -- are settled. No room with nothing in flight is final.
            IF b.reserved_usd > 1e-12 THEN RETURN -1; END IF;
            RETURN NULL;
          END IF;
          SELECT GREATEST(1, COALESCE(SUM(concurrency), 0)) INTO slots FROM workers
          WHERE (batch_id = p_batch OR batch_id IS NULL)
            AND heartbeat_at > now() - lease_seconds * interval '1 second';
          amount := p_estimate + GREATEST(0, left_usd - p_estimate) / slots;
          UPDATE batch_items SET grant_usd = amount
          WHERE batch_id = p_batch AND system = p_system AND item_id = p_item;
          UPDATE batches SET reserved_usd = reserved_usd + amount WHERE id = p_batch;
          RETURN amount;
        END $$
        """,
    ]

    /// The channel of `LISTEN`/`NOTIFY`: a batch id when jobs became claimable.
    static let workChannel = "refinery_work"

    /// `--detach`: inserts the batch (detached, with its budget) and every job (`pending`, its run id
    /// chosen) in one statement, and wakes the idle workers when it commits.
    package func enqueueBatch(_ batch: BatchRecord, items: [BatchItemRecord], budgetUSD: Double?) async throws {
        // One statement is one transaction: a worker never sees the batch without its jobs. Repeated after
        // a lost connection, the conflicts skip what the first attempt committed.
        try await query(
            """
            WITH b AS (
              INSERT INTO batches (id, kind, status, created_at, workflow, spec, input_path, input_sha256, total,
                detached, budget_usd)
              VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, true, $10)
              ON CONFLICT (id) DO NOTHING RETURNING id
            ), i AS (
              INSERT INTO batch_items (batch_id, item_id, system, position, run_id, status)
              SELECT $1, t.item_id, t.system, t.position::bigint, t.run_id, 'pending'
              FROM unnest($11::text[], $12::text[], $13::text[], $14::text[]) AS t(item_id, system, position, run_id)
              ON CONFLICT (batch_id, system, item_id) DO NOTHING
            )
            SELECT pg_notify('\(Self.workChannel)', $1)
            """,
            binds: batch.id, batch.kind, batch.status, batch.createdAt, batch.workflow, batch.specJSON,
            batch.inputPath, batch.inputSHA256, batch.total, budgetUSD, items.map(\.itemID), items.map(\.system),
            items.map { String($0.position) }, items.map(\.runID))
    }

    /// Records a worker (its heartbeat starts now).
    package func registerWorker(
        id: String, host: String, pid: Int, batchID: String?, concurrency: Int, leaseSeconds: Double
    ) async throws {
        try await query(
            """
            INSERT INTO workers (id, host, pid, batch_id, concurrency, lease_seconds) VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()
            """, binds: id, host, pid, batchID, concurrency, leaseSeconds)
    }

    /// Removes a worker that stopped (its jobs are recorded or released first).
    package func removeWorker(id: String) async throws {
        try await query("DELETE FROM workers WHERE id = $1", binds: id)
    }

    /// The detached batches still running, oldest first.
    package func runningDetachedBatches() async throws -> [String] {
        try await query("SELECT id FROM batches WHERE detached AND status = 'running' ORDER BY created_at, seq")
            .map { try $0.decode(String.self) }
    }

    /// Claims up to `limit` jobs of `batchID` for `worker`, in input order: pending jobs, jobs released by
    /// a stopped worker (`cancelled`) and jobs whose worker's lease expired. Claiming a dead worker's job
    /// hands its grant back and books what its run's recorded calls cost, so a dead worker neither leaks
    /// budget nor hides spend.
    package func claimItems(
        batchID: String, worker: String, limit: Int, leaseSeconds: Double
    ) async throws -> [ClaimedItem] {
        let rows = try await query(
            """
            WITH next AS (
              SELECT batch_id, system, item_id, run_id, claimed_by AS dead, grant_usd AS old_grant,
                booked_usd AS old_booked
              FROM batch_items
              WHERE batch_id = $1 AND status IN ('pending', 'running', 'cancelled')
                AND (lease_until IS NULL OR lease_until < now())
                AND EXISTS (SELECT 1 FROM batches WHERE id = $1 AND status = 'running' AND detached)
              ORDER BY position, system
              LIMIT $2
              FOR UPDATE SKIP LOCKED
            ), paid AS (
              SELECT n.item_id, n.system, COALESCE(SUM(c.cost_usd), 0) AS cost
              FROM next n JOIN calls c ON c.run_id = n.run_id AND c.status = 'succeeded'
              WHERE n.dead IS NOT NULL GROUP BY n.item_id, n.system
            ), claimed AS (
              UPDATE batch_items i
              SET status = 'running', claimed_by = $3, lease_until = now() + $4 * interval '1 second',
                attempt = i.attempt + 1, grant_usd = 0, booked_usd = GREATEST(i.booked_usd, COALESCE(p.cost, 0))
              FROM next n LEFT JOIN paid p ON p.item_id = n.item_id AND p.system = n.system
              WHERE i.batch_id = n.batch_id AND i.system = n.system AND i.item_id = n.item_id
              RETURNING i.item_id, i.system, i.position, i.run_id, i.attempt, n.dead, n.old_grant,
                i.booked_usd - n.old_booked AS newly_booked
            ), handed_back AS (
              UPDATE batches SET
                reserved_usd = reserved_usd - (SELECT COALESCE(SUM(old_grant), 0) FROM claimed WHERE dead IS NOT NULL),
                spent_usd = spent_usd + (SELECT COALESCE(SUM(newly_booked), 0) FROM claimed)
              WHERE id = $1 AND EXISTS (SELECT 1 FROM claimed WHERE dead IS NOT NULL)
            )
            SELECT item_id, system, position, run_id, attempt FROM claimed ORDER BY position, system
            """, binds: batchID, limit, worker, leaseSeconds)
        return try rows.map { row in
            let (itemID, system, position, runID, attempt) = try row.decode((String, String, Int, String, Int).self)
            return ClaimedItem(
                batchID: batchID, itemID: itemID, system: system, position: position, runID: runID, attempt: attempt)
        }
    }

    /// Renews the worker's heartbeat and the lease of every job it holds; returns the keys of the jobs it
    /// still holds (a job missing was claimed by another worker after this one stalled past its lease).
    @discardableResult
    package func heartbeat(worker: String, leaseSeconds: Double) async throws -> Set<String> {
        let rows = try await query(
            """
            WITH alive AS (UPDATE workers SET heartbeat_at = now() WHERE id = $1)
            UPDATE batch_items SET lease_until = now() + $2 * interval '1 second'
            WHERE claimed_by = $1 AND status = 'running'
            RETURNING system, item_id
            """, binds: worker, leaseSeconds)
        return Set(try rows.map { row in try row.decode((String, String).self) }.map { $0.0 + "\u{1F}" + $0.1 })
    }

    /// What the batch budget answers a worker asking for a job's grant.
    package enum Grant: Sendable, Equatable {
        /// Run the job with at most this many dollars (`.infinity`: the batch has no budget).
        case granted(Double)
        /// Not now: what is left is under `concurrency` estimates and this worker holds grants; ask again
        /// once they are settled.
        case later
        /// No room, the batch stopped, or the claim was lost.
        case refused
    }

    /// Takes the grant of a claimed job from the batch budget (`refinery_grant`): its estimated maximum
    /// plus a share of what is left. `held`: the grants this worker holds for jobs in flight.
    package func grant(
        _ claim: ClaimedItem, worker: String, estimateUSD: Double, held: Int, concurrency: Int
    ) async throws -> Grant {
        let amount = try await query(
            "SELECT refinery_grant($1, $2, $3, $4, $5, $6, $7, $8)", binds: claim.batchID, claim.system, claim.itemID,
            worker, claim.attempt, estimateUSD, held, concurrency
        ).first?.decode(Double?.self)
        guard let amount else { return .refused }
        return amount < 0 ? .later : .granted(amount)
    }

    /// Settles the grant of a job whose run stopped at it (its grant was too small for its next call),
    /// keeping the claim: the grant is handed back and what the run has cost so far (`spentUSD`, over all
    /// its attempts) is booked, so that ``regrant(_:worker:hadUSD:)`` sees what is really left. Safe to
    /// repeat: a settled job holds no grant and its cost is booked.
    package func settleCutGrant(_ claim: ClaimedItem, worker: String, spentUSD: Double) async throws {
        try await query(
            """
            WITH cut AS (
              UPDATE batch_items i SET grant_usd = 0, booked_usd = GREATEST(old.booked_usd, $6)
              FROM batch_items old
              WHERE old.batch_id = i.batch_id AND old.system = i.system AND old.item_id = i.item_id
                AND i.batch_id = $1 AND i.system = $2 AND i.item_id = $3 AND i.claimed_by = $4 AND i.attempt = $5
              RETURNING old.grant_usd, GREATEST(old.booked_usd, $6) - old.booked_usd AS newly_spent
            )
            UPDATE batches b SET reserved_usd = b.reserved_usd - cut.grant_usd,
              spent_usd = b.spent_usd + cut.newly_spent
            FROM cut WHERE b.id = $1
            """, binds: claim.batchID, claim.system, claim.itemID, worker, claim.attempt, spentUSD)
    }

    /// A larger grant for a job whose run stopped at its grant (settled by ``settleCutGrant``): everything
    /// left of the batch budget, when that gives the run more than `hadUSD` (its whole budget last time);
    /// the answer is the run's new whole budget (what it has cost plus the grant). `.later` when it would not
    /// but other grants are in flight (their runs give back what they do not spend); `.refused` when nothing
    /// more can come (nothing in flight), the batch stopped or the claim was lost. The batch row's lock
    /// serializes this with `refinery_grant`, so the grants in flight still never add up to more than is left.
    package func regrant(_ claim: ClaimedItem, worker: String, hadUSD: Double) async throws -> Grant {
        let row = try await query(
            """
            WITH b AS (
              SELECT budget_usd - spent_usd - reserved_usd AS left_usd, reserved_usd FROM batches
              WHERE id = $1 AND status = 'running' AND budget_usd IS NOT NULL FOR UPDATE
            ), held AS (
              SELECT grant_usd, booked_usd FROM batch_items
              WHERE batch_id = $1 AND system = $2 AND item_id = $3 AND claimed_by = $4 AND attempt = $5
            ), taken AS (
              UPDATE batch_items i SET grant_usd = b.left_usd FROM b, held
              WHERE i.batch_id = $1 AND i.system = $2 AND i.item_id = $3 AND held.grant_usd = 0
                AND held.booked_usd + b.left_usd > $6 + 1e-12
              RETURNING i.grant_usd + i.booked_usd AS budget
            ), reserved AS (
              UPDATE batches x SET reserved_usd = x.reserved_usd + b.left_usd FROM b, taken WHERE x.id = $1
            )
            SELECT COALESCE((SELECT budget FROM taken),
                (SELECT grant_usd + booked_usd FROM held WHERE grant_usd > 0)),
              EXISTS (SELECT 1 FROM b) AND EXISTS (SELECT 1 FROM held), COALESCE((SELECT reserved_usd FROM b), 0)
            """, binds: claim.batchID, claim.system, claim.itemID, worker, claim.attempt, hadUSD
        ).first
        guard let (budget, running, reserved) = try row?.decode((Double?, Bool, Double).self) else { return .refused }
        if let budget { return .granted(budget) }
        return running && reserved > 1e-12 ? .later : .refused
    }

    /// Records a claimed job's result and settles its budget, fenced by the claim: `false` (nothing
    /// written) when another worker holds the job now. `record.costUSD` is its run's cost over all its
    /// attempts (each call is recorded once), so only what was not booked yet is added to the spend.
    /// Repeated after a lost connection whose commit went through, it finds its own write (same attempt,
    /// status and finish time), writes the same again, books nothing more (the grant is 0 and the cost
    /// booked) and answers `true`.
    package func completeItem(_ record: BatchItemRecord, worker: String, attempt: Int) async throws -> Bool {
        let rows = try await query(
            """
            WITH done AS (
              UPDATE batch_items i SET status = $5, answer = $6, extracted_answer = $7, correct = $8, cost_usd = $9,
                calls = $10, input_tokens = $11, output_tokens = $12, latency_ms = $13, error = $14,
                finished_at = $15, origin = $17, claimed_by = NULL, lease_until = NULL, grant_usd = 0, booked_usd = $9
              FROM batch_items old
              WHERE old.batch_id = i.batch_id AND old.system = i.system AND old.item_id = i.item_id
                AND i.batch_id = $1 AND i.system = $2 AND i.item_id = $3 AND i.attempt = $16
                AND (i.claimed_by = $4 OR (i.claimed_by IS NULL AND i.status = $5 AND i.finished_at = $15))
              RETURNING old.grant_usd, $9 - old.booked_usd AS newly_spent
            ), settled AS (
              UPDATE batches b SET reserved_usd = b.reserved_usd - done.grant_usd,
                spent_usd = b.spent_usd + done.newly_spent
              FROM done WHERE b.id = $1
            )
            SELECT count(*) FROM done
            """,
            binds: record.batchID, record.system, record.itemID, worker, record.status, record.answer,
            record.extractedAnswer, record.correct, record.costUSD, record.calls, record.inputTokens,
            record.outputTokens, record.latencyMs, record.error.map(redactor.redact), record.finishedAt, attempt,
            record.origin?.json)
        return try rows.first?.decode(Int.self) == 1
    }

    /// Hands back every job `worker` still holds (claimed, not started or not recorded): `pending` again,
    /// its grant returned, and wakes the other workers.
    package func releaseClaims(worker: String) async throws {
        try await query(
            """
            WITH released AS (
              UPDATE batch_items i SET status = 'pending', claimed_by = NULL, lease_until = NULL, grant_usd = 0
              FROM batch_items old
              WHERE old.batch_id = i.batch_id AND old.system = i.system AND old.item_id = i.item_id
                AND i.claimed_by = $1
              RETURNING i.batch_id, old.grant_usd
            ), returned AS (
              UPDATE batches b SET reserved_usd = b.reserved_usd - r.total
              FROM (SELECT batch_id, SUM(grant_usd) AS total FROM released GROUP BY batch_id) r WHERE b.id = r.batch_id
            )
            SELECT pg_notify('\(Self.workChannel)', batch_id) FROM (SELECT DISTINCT batch_id FROM released) d
            """, binds: worker)
    }

    /// Wakes the idle workers (a batch's jobs became claimable, or it is done).
    package func notifyWork(batchID: String) async throws {
        try await query("SELECT pg_notify('\(Self.workChannel)', $1)", binds: batchID)
    }

    /// Stops a running batch with `status` (`budget_exhausted`): no job is claimed from it any more.
    package func stopBatch(id: String, status: String) async throws {
        try await query("UPDATE batches SET status = $2 WHERE id = $1 AND status = 'running'", binds: id, status)
    }

    /// How many jobs of the batch are still to do or in flight (pending, running, released); zero for a
    /// batch that stopped (budget, cancelled): nothing more is claimed from it. At zero, a running batch
    /// gets its final status: `finished` when every job is done, else `failed`.
    package func settleDetachedBatch(id: String, notDone: Set<String>) async throws -> Int {
        let rows = try await query(
            """
            WITH open AS (
              SELECT count(*) AS n FROM batch_items
              WHERE batch_id = $1 AND status IN ('pending', 'running', 'cancelled')
                AND EXISTS (SELECT 1 FROM batches WHERE id = $1 AND status = 'running')
            ), final AS (
              UPDATE batches SET status = CASE
                  WHEN EXISTS (SELECT 1 FROM batch_items WHERE batch_id = $1 AND status = ANY($2)) THEN 'failed'
                  ELSE 'finished' END
              WHERE id = $1 AND status = 'running' AND (SELECT n FROM open) = 0
            )
            SELECT n FROM open
            """, binds: id, notDone.sorted())
        return try rows.first?.decode(Int.self) ?? 0
    }

    /// The soonest a job held by another worker can be claimed again (its lease's end), in seconds from
    /// now; `nil` when no job of the batch is held.
    package func secondsToNextLeaseExpiry(batchID: String) async throws -> Double? {
        try await query(
            """
            SELECT GREATEST(0, EXTRACT(EPOCH FROM min(lease_until) - now()))::double precision FROM batch_items
            WHERE batch_id = $1 AND status = 'running' AND lease_until IS NOT NULL
            """, binds: batchID
        ).first?.decode(Double?.self)
    }

    /// The budget columns of a batch and its workers (those that named it and those working any batch
    /// that hold its jobs), for `refinery batch status`.
    package func detachedState(batchID: String) async throws -> DetachedBatchState {
        guard
            let batch = try await query(
                "SELECT detached, budget_usd, spent_usd, reserved_usd FROM batches WHERE id = $1", binds: batchID
            ).first
        else { throw StoreError(code: .notFound, message: "No batch with id \(batchID).") }
        let (detached, budget, spent, reserved) = try batch.decode((Bool, Double?, Double, Double).self)
        let rows = try await query(
            """
            SELECT w.id, w.host, w.pid,
              (SELECT count(*) FROM batch_items i WHERE i.batch_id = $1 AND i.claimed_by = w.id) AS in_flight,
              EXTRACT(EPOCH FROM now() - w.heartbeat_at)::double precision AS age,
              w.heartbeat_at > now() - w.lease_seconds * interval '1 second' AS alive
            FROM workers w
            WHERE w.batch_id = $1 OR w.batch_id IS NULL
              OR EXISTS (SELECT 1 FROM batch_items i WHERE i.batch_id = $1 AND i.claimed_by = w.id)
            ORDER BY w.started_at, w.id
            """, binds: batchID)
        let workers = try rows.map { row in
            let (id, host, pid, inFlight, age, alive) = try row.decode((String, String, Int, Int, Double, Bool).self)
            return WorkerState(
                id: id, host: host, pid: pid, inFlight: inFlight, heartbeatAgeSeconds: age, alive: alive)
        }
        return DetachedBatchState(
            detached: detached, budgetUSD: budget, spentUSD: spent, reservedUSD: reserved, workers: workers)
    }
}
