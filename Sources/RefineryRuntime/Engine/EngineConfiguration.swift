// How one run is identified, seeded, priced, timed and recorded. Everything the engine would
// otherwise take from the environment is injected here, so tests run without network or time.

import Foundation
public import Logging
public import RefineryCompiler

/// The injected dependencies and identity of one run.
///
/// Every field has a default that suits a library caller; tests inject a ``RunLedger`` and a
/// test clock so timeouts and backoff never wait for real.
public struct EngineConfiguration: Sendable {
    /// The run's identifier, recorded with every call in the ledger. Reuse it to resume a run.
    public var runID: String
    /// Seed for every random choice (label shuffles, backoff jitter). Same seed and same replies
    /// give the same requests, so a resumed run replays the ledger exactly.
    public var seed: UInt64
    /// Prices (for cost accounting and the budget) and aliases.
    public var catalog: ModelCatalog
    /// The clock used for timeouts, backoff and elapsed time.
    public var clock: any Clock<Duration>
    /// Where finished calls are recorded and, on resume, found again. `nil` records nothing.
    public var ledger: (any RunLedger)?
    /// Embedder for the `semantic` convergence strategy's last scorer. `nil` stops the cascade at Jaccard.
    public var embedder: (any Embedder)?
    /// Diagnostics logger (ledger write failures, prompt templates that fail to render). Prompts,
    /// replies and credentials are never logged.
    public var logger: Logger
    /// Whether the ledger may hold calls of this run already (a resumed run). `false` for a run just
    /// created: the executor then does not ask the ledger (one database read a run, which a batch of
    /// thousands of runs would pay thousands of times) and looks up no call.
    public var mayHaveRecordedCalls: Bool

    /// Creates a configuration.
    ///
    /// - Parameters:
    ///   - runID: the run's identifier; defaults to a random UUID string.
    ///   - seed: seed for shuffles and jitter; defaults to 0.
    ///   - catalog: prices and aliases; defaults to ``ModelCatalog/builtin``.
    ///   - clock: defaults to `ContinuousClock()`.
    ///   - ledger: defaults to none.
    ///   - embedder: defaults to none.
    ///   - logger: defaults to a logger labelled `refinery.engine`.
    ///   - mayHaveRecordedCalls: `false` when `runID` is new (nothing of it can be in the ledger);
    ///     defaults to `true` (the ledger is asked once when the run starts).
    public init(
        runID: String = EngineConfiguration.makeRunID(), seed: UInt64 = 0, catalog: ModelCatalog = .builtin,
        clock: any Clock<Duration> = ContinuousClock(), ledger: (any RunLedger)? = nil,
        embedder: (any Embedder)? = nil, logger: Logger = Logger(label: "refinery.engine"),
        mayHaveRecordedCalls: Bool = true
    ) {
        self.runID = runID
        self.seed = seed
        self.catalog = catalog
        self.clock = clock
        self.ledger = ledger
        self.embedder = embedder
        self.logger = logger
        self.mayHaveRecordedCalls = mayHaveRecordedCalls
    }

    /// A fresh random run identifier (a lowercase version 4 UUID).
    public static func makeRunID() -> String {
        // From the system generator (one `getrandom` call): Foundation's `UUID()` opens, reads and
        // closes /dev/urandom for each UUID on Linux, three system calls for every run of a batch.
        var generator = SystemRandomNumberGenerator()
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &uuid) { bytes in
            bytes.storeBytes(of: generator.next() as UInt64, toByteOffset: 0, as: UInt64.self)
            bytes.storeBytes(of: generator.next() as UInt64, toByteOffset: 8, as: UInt64.self)
            bytes[6] = bytes[6] & 0x0F | 0x40  // version 4
            bytes[8] = bytes[8] & 0x3F | 0x80  // the RFC 9562 variant
        }
        return UUID(uuid: uuid).uuidString.lowercased()
    }
}
