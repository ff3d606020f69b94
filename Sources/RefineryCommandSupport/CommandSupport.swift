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
    /// its message; and a negative number after a long option is that option's value
    /// (``NegativeValues``).
    package static func parseAndRun(reportingUsageError report: (String) -> Void) async {
        do {
            var command = try parseAsRoot(NegativeValues.attached(Array(CommandLine.arguments.dropFirst())))
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

/// ArgumentParser reads an argument that starts with `-` as an option, so `--seed -5` or `--timeout -1`
/// failed as a missing value (`Missing value for '--seed <seed>'`) before the option's own range check
/// could say what is allowed. A negative number right after a long option is attached to it
/// (`--seed=-5`), the form ArgumentParser takes as a value, so every option of both executables gets
/// its value and reports its own range (exit 4, with what to write). After a flag, which takes no
/// value, it is refused as a value that flag does not take, as it was refused as an unknown option.
package enum NegativeValues {
    /// `arguments` with each negative number that follows a `--long` option (without `=`) attached to
    /// it. Arguments after `--` are left alone.
    package static func attached(_ arguments: [String]) -> [String] {
        var result: [String] = []
        result.reserveCapacity(arguments.count)
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                result += arguments[index...]
                break
            }
            if argument.hasPrefix("--"), argument.count > 2, !argument.contains("="),
                index + 1 < arguments.count, isNegativeNumber(arguments[index + 1])
            {
                result.append(argument + "=" + arguments[index + 1])
                index += 2
                continue
            }
            result.append(argument)
            index += 1
        }
        return result
    }

    /// `-5`, `-0.5`, `-.5`, `-1e3`: a minus sign, then a digit or a point and a digit. No option of
    /// either executable has a name that starts with a digit.
    static func isNegativeNumber(_ argument: String) -> Bool {
        let characters = Array(argument.utf8.prefix(3))
        guard characters.count >= 2, characters[0] == UInt8(ascii: "-") else { return false }
        let digits = UInt8(ascii: "0")...UInt8(ascii: "9")
        if digits.contains(characters[1]) { return true }
        return characters[1] == UInt8(ascii: ".") && characters.count == 3 && digits.contains(characters[2])
    }
}
