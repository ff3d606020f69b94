// Turning library errors into a message on stderr and a named exit code.

import ArgumentParser
import Foundation
import Refinery
import RefineryStore

enum CLIError {
    /// Prints `error` (never a stack trace) and returns the exit code it maps to.
    static func exit(for error: any Error) -> ExitCode {
        switch error {
        case let error as InputError:
            printError(error.message)
            return ExitCode(RunExitCode.configurationError.rawValue)
        case let error as WorkflowDiagnosticsError:
            // A workflow that does not compile is a configuration error: show every problem with its
            // source line and caret, as `validate` does.
            printDiagnostics(error)
            return ExitCode(RunExitCode.configurationError.rawValue)
        case let error as StoreError
        where error.code == .cannotOpen || error.code == .damaged || error.code == .newerSchema:
            // A --store (or REFINERY_STORE) that cannot be opened is configuration, found before any call.
            printError(error.description)
            return ExitCode(RunExitCode.configurationError.rawValue)
        case let error as StoreError
        where error.code == .notFound || error.code == .ambiguousID || error.code == .live:
            // `.live`: a resume of a run or batch another process runs, refused before any call.
            printError(error.message)
            return ExitCode(RunExitCode.configurationError.rawValue)
        case let error as StoreError:
            printError(error.description)
            return ExitCode(RunExitCode.failure.rawValue)
        case is CancellationError:
            printError("cancelled")
            return ExitCode(RunExitCode.failure.rawValue)
        default:
            printError(String(describing: error))
            return ExitCode(RunExitCode.failure.rawValue)
        }
    }

    /// Every diagnostic of `error` on stderr with its source line and caret, coloured as `validate` colours them.
    static func printDiagnostics(_ error: WorkflowDiagnosticsError) {
        let colored = ProgressLine(quiet: false, environment: ProcessInfo.processInfo.environment).color
        Output.diagnostics(error.rendered(colored: colored))
    }

    static func printError(_ message: String) {
        Output.error("refinery: \(message)\n")
    }
}

/// Runs `body`, mapping any thrown error to an exit code with a message.
func withExitCode(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ExitCode {
        throw error
    } catch {
        throw CLIError.exit(for: error)
    }
}
