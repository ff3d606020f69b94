// Option groups shared by several subcommands.

import ArgumentParser
import Refinery
import RefineryCommandSupport

/// How results are printed.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json, markdown, jsonl
}

/// How a listing or a description is printed (`list`, `show`, `models`, `estimate`, `runs list|show`): text or
/// JSON only, so that `markdown` or `jsonl` is refused rather than printed as something else.
enum ListingFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json
}

extension StoreOptions {
    /// The service `run` and `resume` use: this store, and the warnings of ``RunService/commandLine(storePath:)``.
    func runService() -> RunService {
        RunService.commandLine(storePath: store)
    }
}

extension RunService {
    /// The process's service with its warnings on stderr: the compiler's (a flag the workflow has no use for,
    /// rendered like `validate`'s) and those found before the first call (a member starting with its fallback).
    static func commandLine(storePath: String? = nil) -> RunService {
        var service = RunService.current(storePath: storePath)
        service.onWarning = { CLIError.printError("warning: \($0)") }
        service.onCompileWarnings = { CLIError.printDiagnostics($0) }
        return service
    }
}

/// `--seed`'s value: a whole number from 0 to 2⁶⁴−1. Anything else is refused with the range, rather
/// than ArgumentParser's bare "is invalid".
enum Seed {
    static func parse(_ text: String) throws -> UInt64 {
        guard let seed = UInt64(text) else {
            throw ValidationError("--seed must be a whole number from 0 to \(UInt64.max), found \(text).")
        }
        return seed
    }
}
