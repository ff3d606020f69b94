// `refinery`: the root command. The bare form `refinery "prompt" --models a,b,c` is the `run`
// subcommand with the built-in `consensus` workflow (seed 000's quick start).

import ArgumentParser
import Foundation
import Refinery
import RefineryCommandSupport
import RefineryProcessTuning
import RefineryRuntime

@main
struct RefineryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refinery",
        abstract: "Get several LLMs to reach a better answer together.",
        discussion: """
            Exit codes:
              0  converged, or a single model answered
              1  error, budget exhausted or cancelled
              2  max rounds without convergence
              3  too few models answered (below quorum)
              4  configuration or input error (before any call)
            """,
        version: "0.1.0",
        // Every command and subcommand names itself (`commandName`): ArgumentParser builds the whole tree at
        // each start and otherwise derives a name from `String(describing:)` of the type, a dynamic cast whose
        // first use scans every protocol conformance record of the process, once per command.
        subcommands: [
            RunCommand.self, EstimateCommand.self, ValidateCommand.self, GraphCommand.self, ListCommand.self,
            ShowCommand.self, SaveCommand.self, RemoveCommand.self, ModelsCommand.self, RunsCommand.self,
            ResumeCommand.self, MCPCommand.self, ReportCommand.self, BatchCommand.self, BenchCommand.self,
            WorkerCommand.self,
        ],
        defaultSubcommand: RunCommand.self
    )

    /// Parses and runs like ArgumentParser's default, except that a usage error (a bad flag or
    /// value) exits with 4, the configuration-or-input code of DESIGN §4, instead of 64.
    static func main() async {
        // Before any thread allocates: glibc then grows each thread's heap in large steps (see ProcessTuning).
        ProcessTuning.reserveHeapGrowth()
        // Each call in flight holds a socket; the declared limits, not the shell's soft limit, bound them.
        ProcessTuning.raiseOpenFileLimit()
        await parseAndRun(reportingUsageError: Output.error)
    }
}
