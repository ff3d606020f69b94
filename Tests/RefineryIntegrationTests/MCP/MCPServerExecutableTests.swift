import Foundation
import Testing

extension CLIEndToEnd {
    /// `refinery mcp` runs the separate `refinery-mcp` executable, so that the MCP SDK and FoundationNetworking
    /// (libcurl, TLS, Kerberos, LDAP…) stay out of every other command's start-up (Benchmarks/README.md).
    @Suite struct MCPServerExecutableTests {
        #if os(Linux)
            /// The dynamic loader's list of what `refinery` maps at start-up: no FoundationNetworking, no libcurl.
            @Test func refineryDoesNotLoadFoundationNetworking() async throws {
                let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
                let sandbox = try Sandbox()
                defer { sandbox.cleanup() }
                var environment = RefineryBinary.environment(home: sandbox.root)
                // glibc's loader lists the objects it would map and exits, as `ldd` does.
                environment["LD_TRACE_LOADED_OBJECTS"] = "1"
                let result = try await binary.run(["--version"], environment: environment, directory: sandbox.root)
                #expect(result.exitCode == 0, "\(result.stderr)")
                #expect(result.stdout.contains("libFoundationEssentials"), "not the loader's list: \(result.stdout)")
                #expect(!result.stdout.contains("libFoundationNetworking"), "\(result.stdout)")
                #expect(!result.stdout.contains("libcurl"), "\(result.stdout)")
            }
        #endif

        /// A `refinery` without its server beside it (`swift run refinery` builds only `refinery`) says what
        /// is missing and how to build it, with the configuration exit code, instead of serving nothing.
        @Test func mcpWithoutTheServerExecutableIsAConfigurationError() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let alone = sandbox.root.appendingPathComponent("bin/refinery")
            try FileManager.default.createDirectory(
                at: alone.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: binary.url, to: alone)
            let result = try await RefineryBinary(url: alone).run(
                ["mcp", "--max-budget", "1"], environment: RefineryBinary.environment(home: sandbox.root),
                directory: sandbox.root, stdin: Data())
            #expect(result.exitCode == 4, "\(result.stderr)")
            #expect(result.stderr.contains("\(alone.deletingLastPathComponent().path)/refinery-mcp does not exist"))
            #expect(result.stderr.contains("swift build --product refinery-mcp"), "\(result.stderr)")
            #expect(result.stdout.isEmpty, "stdout is the protocol's: \(result.stdout)")
        }

        /// The arguments after `mcp` reach the server as given: its help lists its options, and its own
        /// validation refuses a bad value with exit code 4.
        @Test func mcpHandsItsArgumentsToTheServer() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let environment = RefineryBinary.environment(home: sandbox.root)
            let help = try await binary.run(["mcp", "--help"], environment: environment, directory: sandbox.root)
            #expect(help.exitCode == 0, "\(help.stderr)")
            #expect(help.stdout.contains("USAGE: refinery mcp"), "\(help.stdout)")
            for option in ["--max-budget <max-budget>", "--max-budget-total", "--allow-paths", "--store"] {
                #expect(help.stdout.contains(option), "\(option) missing from: \(help.stdout)")
            }
            let refused = try await binary.run(
                ["mcp", "--max-budget", "0"], environment: environment, directory: sandbox.root, stdin: Data())
            #expect(refused.exitCode == 4, "\(refused.stderr)")
            #expect(refused.stderr.contains("--max-budget and --max-budget-total must be more than 0 dollars"))
            // An infinite cap is no cap: it was taken, and every run_workflow then failed on its budget.
            for flags in [["--max-budget", "inf", "--max-budget-total", "inf"], ["--max-budget-total", "infinity"]] {
                let infinite = try await binary.run(
                    ["mcp"] + flags, environment: environment, directory: sandbox.root, stdin: Data())
                #expect(infinite.exitCode == 4, "\(flags): \(infinite.stderr)")
                #expect(infinite.stderr.contains("a finite number of dollars"), "\(infinite.stderr)")
            }
        }
    }
}
