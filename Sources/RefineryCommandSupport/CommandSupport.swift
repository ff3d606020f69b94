// What the two executables, `refinery` and `refinery-mcp`, parse alike: the `--store` option and ArgumentParser's
// entry point with the configuration-or-input exit code for usage errors.

package import ArgumentParser
import Foundation
import Refinery

/// `--store FILE|postgres://USER@HOST:PORT/DB`: where the run ledger lives.
package struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The run store: a SQLite file, or postgres://USER@HOST:PORT/DB for a shared PostgreSQL ledger "
                + "(default: $REFINERY_STORE, else $XDG_DATA_HOME/refinery/refinery.db).",
            valueName: "file-or-url"))
    package var store: String?

    package init() {}
}

extension AsyncParsableCommand {
    /// Parses and runs like ArgumentParser's default `main()`, except that a usage error (a bad flag or
    /// value) exits with 4, the configuration-or-input code of DESIGN §4, instead of 64; `report` prints
    /// its message.
    package static func parseAndRun(reportingUsageError report: (String) -> Void) async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                report(fullMessage(for: error) + "\n")
                Foundation.exit(RunExitCode.configurationError.rawValue)
            }
            exit(withError: error)
        }
    }
}
