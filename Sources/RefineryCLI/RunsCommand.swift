// `refinery runs list|show ID|export ID`: reading the run ledger.

import ArgumentParser
import Foundation
import Refinery
import RefineryCommandSupport
import RefineryStore
import RefinerySyntax

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List, show and export recorded runs.",
        subcommands: [List.self, Show.self, Export.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List runs, newest first.")

        @OptionGroup var storeOptions: StoreOptions
        @Option(help: "How many runs to list.") var limit = 20
        @Option(help: "text or json.") var outputFormat: ListingFormat = .text

        func validate() throws {
            if limit < 1 { throw ValidationError("--limit must be at least 1.") }
        }

        func run() async throws {
            try await withExitCode {
                let runs = try await RunService.current(storePath: storeOptions.store).listRuns(limit: limit)
                if outputFormat == .json {
                    Output.line(try Output.json(runs))
                    return
                }
                if runs.isEmpty {
                    Output.line("No runs recorded yet.")
                    return
                }
                for run in runs {
                    let commit = run.gitCommit.map { " @" + $0.prefix(8) } ?? ""
                    Output.line(
                        "\(run.id)  \(TextFormat.date(run.startedAt))  \(run.workflow)\(commit)  \(run.status)  "
                            + "\(Counted.text(run.calls, "call"))  \(TextFormat.dollars(run.costUSD))")
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Show one run: workflow revision, models, outcome.")

        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: "Run id (or a unique prefix).", transform: RecordID.run) var id: String
        @Option(help: "text or json.") var outputFormat: ListingFormat = .text

        func run() async throws {
            try await withExitCode {
                let run = try await RunService.current(storePath: storeOptions.store).showRun(id: id)
                if outputFormat == .json {
                    Output.line(try Output.json(run))
                    return
                }
                Output.line(TextFormat.describe(run))
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export", abstract: "Export a run with every call as JSON.")

        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: "Run id (or a unique prefix).", transform: RecordID.run) var id: String

        func run() async throws {
            try await withExitCode {
                let export = try await RunService.current(storePath: storeOptions.store).exportRun(id: id)
                Output.line(try Output.json(export))
            }
        }
    }
}
