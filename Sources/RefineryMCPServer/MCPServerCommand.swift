// `refinery-mcp`: the Model Context Protocol server behind `refinery mcp`, a separate executable so that
// the MCP SDK, and FoundationNetworking with the ~30 shared libraries (libcurl, TLS, Kerberos, LDAP…) it
// imports, are loaded only by the process that serves MCP, not by every `refinery run` (Benchmarks/README.md,
// "Start-up"). `refinery mcp ARGS` execs this program with the same ARGS and stdio.

import ArgumentParser
import Foundation
import Refinery
import RefineryCommandSupport
import RefineryMCP

@main
struct MCPServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        // Usage and help read as the command users type; `refinery mcp --help` shows this help.
        commandName: "refinery mcp",
        abstract: "Serve run_workflow, estimate and the ledger as MCP tools over stdin/stdout (or HTTP).",
        discussion: """
            Register it with an agent, e.g. `claude mcp add refinery -- refinery mcp`.
            With --http HOST:PORT it serves MCP's streamable HTTP transport at http://HOST:PORT/mcp instead,
            and every request must carry `Authorization: Bearer $REFINERY_MCP_TOKEN` (a token of 16
            characters or more, read from the environment).
            A run whose estimated maximum cost passes --max-budget (per call) or what is left of
            --max-budget-total (per server process) is refused before any model is called.
            """)

    @Option(help: "The most one run may spend, in US dollars.")
    var maxBudget: Double = MCPSafety.defaultPerCall

    @Option(help: "The most all runs of this server process may spend together, in US dollars.")
    var maxBudgetTotal: Double = MCPSafety.defaultPerProcess

    @Flag(help: "Also run workflows given as file paths (default: only names on the search path).")
    var allowPaths = false

    @Option(
        name: .customLong("http"),
        help: ArgumentHelp(
            "Serve streamable HTTP on HOST:PORT (path /mcp) instead of stdio; needs REFINERY_MCP_TOKEN.",
            valueName: "host:port"))
    var httpAddress: String?

    @OptionGroup var storeOptions: StoreOptions

    /// `--http`'s endpoint, with the token from the environment.
    func endpoint() throws -> MCPHTTPEndpoint? {
        guard let httpAddress else { return nil }
        do {
            return try MCPHTTPEndpoint(
                address: httpAddress,
                token: ProcessInfo.processInfo.environment[MCPHTTPEndpoint.tokenVariable])
        } catch {
            throw ValidationError(error.description)
        }
    }

    func validate() throws {
        if !(maxBudget > 0) || !(maxBudgetTotal > 0) {
            throw ValidationError("--max-budget and --max-budget-total must be more than 0 dollars.")
        }
        // `inf` parses as a Double: a cap that caps nothing, and a run budget no workflow accepts.
        if !maxBudget.isFinite || !maxBudgetTotal.isFinite {
            throw ValidationError("--max-budget and --max-budget-total must be a finite number of dollars.")
        }
        _ = try endpoint()
    }

    func run() async throws {
        var service = RunService.current(storePath: storeOptions.store)
        // stdout carries the protocol: a warning goes to stderr, which MCP clients log.
        service.onWarning = { Self.printError("warning: \($0)") }
        // The server records its runs in this ledger: listing a new one is an empty list, not an error.
        service.readingCreatesStore = true
        let safety = MCPSafety(
            maxBudgetPerCall: maxBudget, maxBudgetPerProcess: maxBudgetTotal, allowPaths: allowPaths)
        do {
            let server = RefineryMCPServer(service: service, safety: safety)
            if let endpoint = try endpoint() {
                try await server.serveHTTP(endpoint) { url in
                    Self.printStandardError("refinery mcp: serving MCP at \(url)\n")
                }
            } else {
                try await server.serveStdio()
            }
        } catch {
            // The store opens lazily, per tool call (a tool's failure is its result), so what ends the
            // server is the transport: an error, not bad input.
            Self.printError(String(describing: error))
            throw ExitCode(RunExitCode.failure.rawValue)
        }
    }

    /// Parses and runs like `refinery`: a usage error exits with 4.
    static func main() async {
        await parseAndRun(reportingUsageError: printStandardError)
    }

    static func printError(_ message: String) {
        printStandardError("refinery: \(message)\n")
    }

    /// Foundation's non-throwing `write(_:)` traps on a closed stderr; there is nobody left to tell then.
    static func printStandardError(_ text: String) {
        try? FileHandle.standardError.write(contentsOf: Data(text.utf8))
    }
}
