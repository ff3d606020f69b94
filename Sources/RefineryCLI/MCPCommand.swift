// `refinery mcp`: serve Refinery's tools to an agent over the Model Context Protocol (stdio).
//
// The server is the separate executable `refinery-mcp` (Sources/RefineryMCPServer), installed beside
// `refinery`: the MCP SDK imports FoundationNetworking, whose ~30 shared libraries every `refinery`
// process would otherwise map and relocate at start-up (Benchmarks/README.md, "Start-up"). This command
// replaces itself with that program, handing it the same arguments, stdin, stdout and stderr.

import ArgumentParser
import Foundation
import Refinery

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

struct MCPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve run_workflow, estimate and the ledger as MCP tools over stdin/stdout.",
        discussion: """
            Register it with an agent, e.g. `claude mcp add refinery -- refinery mcp`.
            Runs the refinery-mcp executable installed beside refinery; `refinery mcp --help` lists its options.
            """)

    /// Every argument after `mcp`, `--help` included: `refinery-mcp` parses and validates them.
    @Argument(parsing: .captureForPassthrough, help: .hidden)
    var arguments: [String] = []

    /// The server's file name, beside `refinery`.
    static let serverName = "refinery-mcp"

    func run() throws {
        guard let executable = Bundle.main.executableURL?.resolvingSymlinksInPath() else {
            throw Self.missing(at: Self.serverName)
        }
        let server = executable.deletingLastPathComponent().appendingPathComponent(Self.serverName).path
        guard FileManager.default.isExecutableFile(atPath: server) else { throw Self.missing(at: server) }
        // The raw bytes of the arguments, not their decoded Strings (see RawArguments): after the first
        // `mcp`, which is how this command was reached (the root command has no options of its own).
        var raw: [UnsafeMutablePointer<CChar>?] = []
        var afterCommand = false
        for index in 1..<Int(CommandLine.argc) {
            guard let argument = CommandLine.unsafeArgv[index] else { continue }
            if afterCommand {
                raw.append(argument)
            } else {
                afterCommand = String(cString: argument) == Self.configuration.commandName
            }
        }
        let exitCode = server.withCString { path in
            let argv = [UnsafeMutablePointer(mutating: path)] + raw + [nil]
            execv(path, argv)
            return errno
        }
        CLIError.printError("cannot start \(server): \(String(cString: strerror(exitCode)))")
        throw ExitCode(RunExitCode.failure.rawValue)
    }

    /// A `refinery` built or installed without its server (`swift run refinery` builds only `refinery`).
    static func missing(at path: String) -> ExitCode {
        CLIError.printError(
            "`refinery mcp` needs the \(serverName) executable beside refinery, but \(path) does not exist. "
                + "Hint: build it with `swift build --product \(serverName)` (`swift build` builds every "
                + "product) and install it in the same folder as refinery.")
        return ExitCode(RunExitCode.configurationError.rawValue)
    }
}
