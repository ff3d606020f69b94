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

    /// Once parsed, a password in the URL is no longer shown by `ps` (see ``StorePasswordInArguments``). An empty
    /// `--store` (an unset variable in `--store "$STORE"`) is refused: it was a ledger SQLite keeps nowhere, so a
    /// run failed after its set-up with SQLite's own words and `runs list` read "No runs recorded yet."
    package func validate() throws {
        StorePasswordInArguments.hide()
        if let store, store.allSatisfy(\.isWhitespace) {
            throw ValidationError(
                "--store is empty: give a SQLite file path or a postgres://USER@HOST:PORT/DB URL, or leave --store "
                    + "out for $REFINERY_STORE, else $XDG_DATA_HOME/refinery/refinery.db.")
        }
    }
}

/// A PostgreSQL password given in `--store`'s URL is in the process's arguments, which every user of the
/// machine reads with `ps` for as long as the process lives (a worker: days). Once ArgumentParser has its
/// copy of them, the password's bytes in the arguments themselves are overwritten with `*`, as PostgreSQL's
/// own server processes rewrite theirs: `ps` then shows `postgres://user:*****@host/db`. (`PGPASSWORD` or
/// `~/.pgpass` keep it out of the arguments altogether.)
package enum StorePasswordInArguments {
    package static func hide() {
        var valueFollows = false
        for index in 1..<Int(CommandLine.argc) {
            guard let pointer = CommandLine.unsafeArgv[index] else { continue }
            let bytes = UnsafeMutableBufferPointer(
                start: UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: strlen(pointer))
            let option = Array("--store".utf8)
            var url = bytes[...]
            if valueFollows {
                valueFollows = false
            } else if bytes.starts(with: option + [UInt8(ascii: "=")]) {
                url = bytes[(option.count + 1)...]
            } else {
                valueFollows = bytes.elementsEqual(option)
                continue
            }
            if let password = passwordRange(in: url) {
                for position in password { bytes[position] = UInt8(ascii: "*") }
            }
        }
    }

    /// Where the password of a `postgres://` or `postgresql://` URL is: after the first `:` of the user
    /// information, up to the last `@` before the path (a password may hold an unescaped `@`).
    static func passwordRange(in url: Slice<UnsafeMutableBufferPointer<UInt8>>) -> Range<Int>? {
        let text = String(decoding: url, as: UTF8.self).lowercased()
        guard let scheme = ["postgres://", "postgresql://"].first(where: text.hasPrefix) else { return nil }
        let authorityStart = url.startIndex + scheme.utf8.count
        let authorityEnd =
            url[authorityStart...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? url.endIndex
        guard let at = url[authorityStart..<authorityEnd].lastIndex(of: UInt8(ascii: "@")),
            let colon = url[authorityStart..<at].firstIndex(of: UInt8(ascii: ":")), colon + 1 < at
        else { return nil }
        return (colon + 1)..<at
    }
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
