// `refinery worker --store postgres://...`: claims the jobs of detached batches (`batch|bench
// --detach`) from the shared ledger and runs them; any number of workers on any number of machines.

import ArgumentParser
import Foundation
import Refinery
import RefineryCommandSupport
import RefineryStore
import RefinerySyntax

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run the items of detached batches from a shared PostgreSQL ledger.",
        discussion: """
            refinery batch review-loop --input questions.jsonl --store postgres://me@db/refinery --detach
            refinery worker --store postgres://me@db/refinery --concurrency 8     (on each machine)
            refinery batch status ID --store postgres://me@db/refinery            (from anywhere)

            A worker claims items under a lease (30 s; --lease or REFINERY_WORKER_LEASE_SECONDS) that it
            renews every third of it; the items of a worker that dies are claimed again when its lease
            expires, and their runs resume from the ledger. Ctrl-C or SIGTERM: it stops claiming, records
            its runs in flight as cancelled and hands their items back.
            """)

    @Option(help: "Items run at once by this worker (default \(BatchRequest.defaultConcurrency)).")
    var concurrency: Int?

    @Option(help: "Work only this batch (an id or a unique prefix); default: every detached batch, oldest first.")
    var batch: String?

    @Flag(help: "Exit once the batch (or every detached batch) has nothing left to claim or in flight.")
    var exitWhenDone = false

    @Option(help: "Seconds a claimed item stays leased without a heartbeat (default 30).")
    var lease: Double?

    @Flag(help: "Log provider requests and replies (credentials redacted) to stderr.")
    var debug = false

    @Flag(name: .shortAndLong, help: "Do not print a line per recorded item on stderr.")
    var quiet = false

    @Option(help: "text or json (the summary on exit).")
    var outputFormat: OutputFormat = .text

    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1.") }
        if let lease, !(lease >= 0.5) || !lease.isFinite {
            throw ValidationError("--lease must be a number of seconds, at least 0.5.")
        }
    }

    func run() async throws {
        try await withExitCode {
            let service = storeOptions.runService()
            let request = WorkerRequest(
                concurrency: concurrency ?? BatchRequest.defaultConcurrency, batchID: batch,
                exitWhenDone: exitWhenDone, leaseSeconds: lease, debug: debug)
            let quiet = quiet
            let outcome = try await Interrupt.cancellingOnInterrupt {
                try await service.work(request) { item in
                    if !quiet {
                        Output.error(
                            "\(item.batchID.prefix(8)) \(item.system.isEmpty ? "" : item.system + " ")"
                                + "\(item.itemID): \(item.status) \(TextFormat.dollars(item.costUSD))\n")
                    }
                }
            }
            switch outputFormat {
            case .json, .jsonl: Output.line(try Output.json(outcome))
            case .text, .markdown:
                Output.line(
                    "worker \(outcome.workerID): \(Counted.text(outcome.recorded, "item")) recorded"
                        + (outcome.lost > 0 ? ", \(outcome.lost) run but held by another worker by then" : ""))
            }
        }
    }
}
