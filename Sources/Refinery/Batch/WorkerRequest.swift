// What `refinery worker` asks for, and what `--detach` and a worker report.

import Foundation
public import RefineryCompiler
public import RefineryStore

/// A worker to run: it claims jobs of detached batches from the shared ledger and runs them.
public struct WorkerRequest: Sendable {
    /// The default lease on a claimed job, in seconds: a worker's jobs are claimed again this long after
    /// its last heartbeat (it renews them every third of it).
    public static let defaultLeaseSeconds = 30.0

    /// Jobs run at once by this worker (default ``BatchRequest/defaultConcurrency``); every provider limit
    /// of this process applies across them.
    public var concurrency: Int
    /// Work only this batch (an id or a unique prefix); `nil` = every detached batch, oldest first.
    public var batchID: String?
    /// Exit once the batch (or, without ``batchID``, every detached batch) has nothing left to claim and
    /// nothing in flight anywhere; otherwise wait for more work until cancelled.
    public var exitWhenDone: Bool
    /// The lease, in seconds; `nil` = `REFINERY_WORKER_LEASE_SECONDS`, else ``defaultLeaseSeconds``.
    public var leaseSeconds: Double?
    /// Log provider requests and replies (credentials redacted) to stderr.
    public var debug: Bool

    /// Creates a request.
    public init(
        concurrency: Int = BatchRequest.defaultConcurrency, batchID: String? = nil, exitWhenDone: Bool = false,
        leaseSeconds: Double? = nil, debug: Bool = false
    ) {
        self.concurrency = concurrency
        self.batchID = batchID
        self.exitWhenDone = exitWhenDone
        self.leaseSeconds = leaseSeconds
        self.debug = debug
    }
}

/// A batch enqueued by `--detach`: workers run it.
public struct DetachedBatch: Sendable, Hashable, Codable {
    /// The batch id (for `refinery batch status`, `refinery worker --batch`).
    public var batchID: String
    /// `batch` or `bench`.
    public var kind: String
    /// Jobs enqueued.
    public var total: Int
    /// The shared store, printable (no password).
    public var store: String

    enum CodingKeys: String, CodingKey {
        case kind, total, store
        case batchID = "batch_id"
    }
}

/// How a worker ended.
public struct WorkerOutcome: Sendable, Hashable, Codable {
    /// The worker's id (`host:pid:random`).
    public var workerID: String
    /// Jobs whose result this worker recorded.
    public var recorded: Int
    /// Jobs it ran whose result it did not record: another worker held the job by then (this one had
    /// stalled past its lease).
    public var lost: Int
    /// The batches it worked on.
    public var batches: [String]

    enum CodingKeys: String, CodingKey {
        case recorded, lost, batches
        case workerID = "worker_id"
    }
}

/// `refinery batch status`: how far a batch is, from the ledger, on any machine.
public struct BatchStatusReport: Sendable, Hashable, Codable {
    /// The batch id.
    public var batchID: String
    /// `batch` or `bench`.
    public var kind: String
    /// `running`, `finished`, `cancelled`, `budget_exhausted`, `failed`, or `interrupted`: recorded `running`
    /// but owned by no live process (killed, or its machine stopped); `batch resume` finishes it.
    public var status: String
    /// Whether workers run it (`--detach`).
    public var detached: Bool
    /// Jobs done (an outcome recorded).
    public var done: Int
    /// Jobs in all.
    public var total: Int
    /// Jobs whose run failed, was cut by the batch budget or lost its quorum (`batch resume` retries them).
    public var failed: Int
    /// Jobs in flight.
    public var running: Int
    /// Jobs waiting to be claimed (or to be resumed).
    public var pending: Int
    /// Dollars spent by the recorded jobs: a finished job's cost, else what its run's finished calls cost.
    @Dollars public var costUSD: Double
    /// The batch budget (`--max-budget`), if any.
    @OptionalDollars public var budgetUSD: Double?
    /// What the shared ledger has booked against the budget (recorded jobs, and calls of dead workers' runs).
    @OptionalDollars public var spentUSD: Double?
    /// Grants held by jobs in flight.
    @OptionalDollars public var reservedUSD: Double?
    /// The workers on it (PostgreSQL only; empty for SQLite).
    public var workers: [WorkerState]

    enum CodingKeys: String, CodingKey {
        case kind, status, detached, done, total, failed, running, pending, workers
        case batchID = "batch_id"
        case costUSD = "cost_usd"
        case budgetUSD = "budget_usd"
        case spentUSD = "spent_usd"
        case reservedUSD = "reserved_usd"
    }
}
