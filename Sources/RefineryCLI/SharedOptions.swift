// Option groups shared by several subcommands.

import ArgumentParser
import Refinery

/// `--store FILE|postgres://USER@HOST:PORT/DB`: where the run ledger lives.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The run store: a SQLite file, or postgres://USER@HOST:PORT/DB for a shared PostgreSQL ledger "
                + "(default: $REFINERY_STORE, else $XDG_DATA_HOME/refinery/refinery.db).",
            valueName: "file-or-url"))
    var store: String?
}

/// How results are printed.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json, markdown, jsonl
}

extension StoreOptions {
    /// The service `run` and `resume` use: this store, and the warnings found before the first call
    /// (a member starting with its fallback) on stderr.
    func runService() -> RunService {
        var service = RunService.current(storePath: store)
        service.onWarning = { CLIError.printError("warning: \($0)") }
        return service
    }
}
