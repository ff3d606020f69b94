// `refinery save NAME --model gpt-4o:2 --model claude --arbiter claude ...` (llm-consortium's flags).

import ArgumentParser
import Foundation
import Refinery
import RefineryCompiler

struct SaveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "save",
        abstract: "Save a configuration as a small workflow that extends a built-in; it then runs by name.")

    @Argument(help: "The name to run it by.")
    var name: String

    @Option(name: [.short, .long], help: "A member, MODEL or MODEL:COUNT (repeatable).")
    var model: [String] = []

    @Option(help: "The arbiter model.")
    var arbiter: String?

    @Option(name: [.customLong("confidence-threshold"), .customLong("threshold")], help: "Convergence threshold.")
    var confidenceThreshold: Double?

    @Option(help: "Maximum rounds.")
    var maxIterations: Int?

    @Option(help: "Minimum rounds.")
    var minIterations: Int?

    @Option(help: "System prompt for every call.")
    var system: String?

    @Option(help: "The workflow it extends.")
    var extends: String = "consortium"

    @Option(help: "Folder to write to (default: $XDG_CONFIG_HOME/refinery/workflows).")
    var to: String?

    @Flag(help: "Replace an existing config of that name.")
    var force = false

    func validate() throws {
        if let maxIterations, maxIterations < 1 { throw ValidationError("--max-iterations must be at least 1.") }
        if let minIterations, minIterations < 0 { throw ValidationError("--min-iterations must not be negative.") }
        if let minIterations, let maxIterations, minIterations > maxIterations {
            throw ValidationError("--min-iterations (\(minIterations)) exceeds --max-iterations (\(maxIterations)).")
        }
    }

    func run() async throws {
        try await withExitCode {
            let config = SavedConfig(
                name: name, models: model, arbiter: arbiter, confidenceThreshold: confidenceThreshold,
                maxIterations: maxIterations, minIterations: minIterations, system: system, extends: extends)
            let file = try RunService.current().save(config, in: to, replace: force)
            Output.line("Saved \(name) to \(file.path)")
            // Allowed, as DESIGN's search order lets a folder shadow a built-in on purpose; said, because the
            // bare form keeps the built-in and a user would otherwise wonder which one ran.
            if BuiltinWorkflows.all.contains(where: { $0.name == name }) {
                Output.error(
                    "note: `refinery run \(name)` now runs this config; the built-in stays `builtin:\(name)`"
                        + (name == "consensus" ? ", and the bare form `refinery \"PROMPT\"` still runs it" : "")
                        + "\n")
            }
        }
    }
}
