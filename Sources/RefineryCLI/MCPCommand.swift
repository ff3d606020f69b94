// `refinery mcp`: serve Refinery's tools to an agent over the Model Context Protocol (stdio).

import ArgumentParser
import Refinery
import RefineryMCP

struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve run_workflow, estimate and the ledger as MCP tools over stdin/stdout.",
        discussion: """
            Register it with an agent, e.g. `claude mcp add refinery -- refinery mcp`.
            A run whose estimated maximum cost passes --max-budget (per call) or what is left of
            --max-budget-total (per server process) is refused before any model is called.
            """)

    @Option(help: "The most one run may spend, in US dollars.")
    var maxBudget: Double = MCPSafety.defaultPerCall

    @Option(help: "The most all runs of this server process may spend together, in US dollars.")
    var maxBudgetTotal: Double = MCPSafety.defaultPerProcess

    @Flag(help: "Also run workflows given as file paths (default: only names on the search path).")
    var allowPaths = false

    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
        if !(maxBudget > 0) || !(maxBudgetTotal > 0) {
            throw ValidationError("--max-budget and --max-budget-total must be more than 0 dollars.")
        }
    }

    func run() async throws {
        try await withExitCode {
            var service = RunService.current(storePath: storeOptions.store)
            // stdout carries the protocol: a warning goes to stderr, which MCP clients log.
            service.onWarning = { CLIError.printError("warning: \($0)") }
            let safety = MCPSafety(
                maxBudgetPerCall: maxBudget, maxBudgetPerProcess: maxBudgetTotal, allowPaths: allowPaths)
            try await RefineryMCPServer(service: service, safety: safety).serveStdio()
        }
    }
}
