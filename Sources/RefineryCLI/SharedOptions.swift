// Option groups shared by several subcommands.

import ArgumentParser

/// `--store FILE`: where the run ledger lives.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The run store (default: $REFINERY_STORE, else $XDG_DATA_HOME/refinery/refinery.db).")
    var store: String?
}

/// How results are printed.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json, markdown, jsonl
}
