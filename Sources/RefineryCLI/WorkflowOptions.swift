// Flags that override the workflow file, shared by run, estimate and graph.

import ArgumentParser
import Foundation
import Refinery

struct WorkflowOptions: ParsableArguments {
    @Option(help: "Members, comma-separated: MODEL[:COUNT],... (replaces the workflow's members).")
    var models: String?

    @Option(help: "The arbiter model.")
    var arbiter: String?

    @Option(help: "Convergence threshold (mean score 1–10, or confidence/similarity 0–1).")
    var threshold: Double?

    @Option(help: "Minimum rounds.")
    var minRounds: Int?

    @Option(help: "Maximum rounds.")
    var maxRounds: Int?

    @Option(help: "Per-call timeout in seconds.")
    var timeout: Double?

    @Option(help: "Maximum calls in flight.")
    var maxConcurrent: Int?

    @Option(help: "Budget cap in US dollars.")
    var budget: Double?

    func validate() throws {
        if let minRounds, minRounds < 0 { throw ValidationError("--min-rounds must not be negative.") }
        if let maxRounds, maxRounds < 1 { throw ValidationError("--max-rounds must be at least 1.") }
        if let minRounds, let maxRounds, minRounds > maxRounds {
            throw ValidationError("--min-rounds (\(minRounds)) exceeds --max-rounds (\(maxRounds)).")
        }
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout must be a positive number of seconds.") }
        if let maxConcurrent, maxConcurrent < 1 { throw ValidationError("--max-concurrent must be at least 1.") }
        if let budget, !(budget > 0) { throw ValidationError("--budget must be a positive number of dollars.") }
        if let models,
            models.split(separator: ",", omittingEmptySubsequences: false).contains(where: {
                $0.trimmingCharacters(in: .whitespaces).isEmpty
            })
        {
            throw ValidationError("--models has an empty entry; write a,b,c.")
        }
    }

    var overrides: WorkflowOverrides {
        WorkflowOverrides(
            models: models.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } },
            arbiter: arbiter, threshold: threshold, minRounds: minRounds, maxRounds: maxRounds,
            timeoutSeconds: timeout, maxConcurrent: maxConcurrent, budgetUSD: budget)
    }
}

/// `-f/--file` and `--var`.
struct InputOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "A file to include (repeatable; 1 MB in all).")
    var file: [String] = []

    @Option(name: .customLong("var"), help: "A template variable, k=v (repeatable).")
    var variables: [String] = []

    func validate() throws {
        for variable in variables where !variable.contains("=") || variable.hasPrefix("=") {
            throw ValidationError("--var \(variable): write NAME=VALUE.")
        }
    }

    var variableMap: [String: String] {
        var map: [String: String] = [:]
        for variable in variables {
            let parts = variable.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            map[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return map
    }
}
