// Printing to stdout and stderr, and JSON encoding shared by every command. Everything the CLI prints
// goes through here, and text bound for a terminal is made inert here (see `TerminalText`): workflow
// descriptions, member names and model answers are not the CLI's to turn into terminal commands.

import ArgumentParser
import Foundation
import Refinery
import RefinerySyntax

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

enum Output {
    /// Whether stdout / stderr is a terminal, decided once: control characters are escaped only there,
    /// so a pipe or a file receives the text exactly.
    static let stdoutIsTerminal = isatty(STDOUT_FILENO) == 1
    static let stderrIsTerminal = isatty(STDERR_FILENO) == 1

    static func line(_ text: String = "") {
        write(text + "\n")
    }

    /// Writes to stdout, escaping control characters when stdout is a terminal. Foundation's
    /// non-throwing `write(_:)` traps when the reader has gone away (`refinery ... | head`); here a
    /// closed pipe ends the process quietly with exit code 1, as a SIGPIPE would, and any other failure
    /// (a full disk behind `> file`) says why on stderr first. Every finished call is already in the
    /// ledger, so the run can be resumed.
    static func write(_ text: String) {
        let safe = stdoutIsTerminal ? TerminalText.escaped(text) : text
        do {
            try FileHandle.standardOutput.write(contentsOf: Data(safe.utf8))
        } catch {
            if systemError(of: error) != EPIPE {
                CLIError.printError("cannot write the output: \(reason(of: error)).")
            }
            Foundation.exit(1)
        }
    }

    /// The `errno` under a Foundation file error, if it has one.
    private static func systemError(of error: any Error) -> Int32? {
        let error = error as NSError
        if error.domain == NSPOSIXErrorDomain { return Int32(error.code) }
        let underlying = (error.userInfo[NSUnderlyingErrorKey] as? any Error).map { $0 as NSError }
        return underlying.flatMap { $0.domain == NSPOSIXErrorDomain ? Int32($0.code) : nil }
    }

    /// The system's reason for a file error ("No space left on device"), not Foundation's whole NSError dump.
    static func reason(of error: any Error) -> String {
        var reason = systemError(of: error).map { String(cString: strerror($0)) } ?? error.localizedDescription
        while reason.hasSuffix(".") { reason.removeLast() }
        return reason
    }

    /// Writes to stderr, escaping control characters when stderr is a terminal; a closed stderr is
    /// ignored (there is nobody left to tell).
    static func error(_ text: String) {
        errorControl(stderrIsTerminal ? TerminalText.escaped(text) : text)
    }

    /// Writes a rendered diagnostic to stderr: on a terminal its colour (SGR) sequences are kept and every
    /// other control escaped. Only for `DiagnosticRenderer` output, which makes the file's text in it inert.
    static func diagnostics(_ text: String) {
        errorControl(stderrIsTerminal ? TerminalText.escaped(text, keepingColour: true) : text)
    }

    /// Writes the CLI's own terminal control sequences (the progress line's carriage return and line
    /// erase) to stderr as they are. Never pass text from a file or a model: escape it first.
    static func errorControl(_ sequence: String) {
        try? FileHandle.standardError.write(contentsOf: Data(sequence.utf8))
    }

    /// Writes `text` to the file at `path` (`-o`, `--output`). A regular file (or a new one) is written whole
    /// or not at all: beside it, then renamed over it (through a link, over the file it names), so a full disk
    /// leaves an earlier file as it was instead of empty. Anything else (`/dev/stdout`, a pipe) is written to
    /// as it is. A failure is said on stderr with the system's reason and `recovery` (where the content can
    /// be had again), exit 1.
    static func file(_ text: String, to path: String, flag: String, recovery: String) throws {
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath()
        let type = (try? FileManager.default.attributesOfItem(atPath: target.path))?[.type] as? FileAttributeType
        do {
            try Data(text.utf8).write(to: target, options: type == nil || type == .typeRegular ? .atomic : [])
        } catch {
            CLIError.printError("cannot write \(flag) \(path): \(reason(of: error)). \(recovery)")
            throw ExitCode(RunExitCode.failure.rawValue)
        }
    }

    /// Pretty JSON for a document a person reads (`--output-format json`, `--output FILE`), with the output's
    /// snake_case keys (``OutputJSON``).
    static func json<T: Encodable>(_ value: T) throws -> String {
        try OutputJSON.text(value, pretty: true)
    }

    /// One JSON object per line (`jsonl` events).
    static func jsonLine<T: Encodable>(_ value: T) throws -> String {
        try OutputJSON.text(value)
    }
}
