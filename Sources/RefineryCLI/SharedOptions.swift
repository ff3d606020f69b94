// Option groups shared by several subcommands.

import ArgumentParser
import Refinery
import RefineryCommandSupport

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
