// Flags that override the workflow file, shared by run, estimate and graph. Their values are checked
// by the compiler, as the command line's layer of the workflow, not here: a flag gets the diagnostic
// the same value in a file gets.

import ArgumentParser
import Foundation
import Refinery
import RefineryCompiler

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

    @Option(help: "Per-call timeout: seconds, or a duration such as 90s, 2m or 500ms.")
    var timeout: Timeout?

    @Option(help: "Maximum calls in flight.")
    var maxConcurrent: Int?

    @Option(help: "Budget cap in US dollars.")
    var budget: Double?

    @OptionGroup var variableOptions: VariableOptions

    var overrides: WorkflowOverrides {
        WorkflowOverrides(
            models: models.map {
                $0.split(separator: ",", omittingEmptySubsequences: false).map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
            },
            arbiter: arbiter, threshold: threshold, minRounds: minRounds, maxRounds: maxRounds,
            timeoutSeconds: timeout?.seconds, maxConcurrent: maxConcurrent, budgetUSD: budget,
            variables: variableOptions.variableMap)
    }
}

/// `--timeout`: a number of seconds, or a duration as a workflow file writes it (`90s`, `2m`, `500ms`), which is what
/// the compiler's hint for a bad timeout suggests. The value's range is checked by the compiler, as the file's is.
struct Timeout: ExpressibleByArgument {
    let seconds: Double

    init?(argument: String) {
        guard let seconds = Double(argument) ?? parseDurationSeconds(argument) else { return nil }
        self.seconds = seconds
    }
}

/// `-f/--file`.
struct InputOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "A file to include (repeatable; 1 MB in all).")
    var file: [String] = []
}

/// `--var`: template variables, part of the command line's layer of the workflow.
struct VariableOptions: ParsableArguments {
    @Option(name: .customLong("var"), help: "A template variable, k=v (repeatable).")
    var variables: [String] = []

    func validate() throws {
        for variable in variables where !variable.contains("=") || variable.hasPrefix("=") {
            throw ValidationError("--var \(variable): write NAME=VALUE.")
        }
        // A value reaches the models inside the prompts: checked on the bytes the shell passed, as the prompt
        // argument is (RawArguments), not sent with U+FFFD in place of what was not UTF-8.
        for variable in variables where String(data: RawArguments.bytes(of: variable), encoding: .utf8) == nil {
            throw ValidationError(
                "--var \(variable.prefix { $0 != "=" }): the value is not valid UTF-8; convert it (e.g. with iconv).")
        }
        // Two values for one name are a mistake (a pasted command, a script's default and its override),
        // not an order to keep the last: which one the user meant is not guessed.
        var seen: Set<Substring> = []
        for variable in variables {
            let name = variable.prefix { $0 != "=" }
            guard seen.insert(name).inserted else {
                throw ValidationError("--var \(name) is given twice; give each variable once.")
            }
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
