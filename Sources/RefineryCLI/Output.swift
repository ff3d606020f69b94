// Printing to stdout and stderr, and JSON encoding shared by every command. Everything the CLI prints
// goes through here, and text bound for a terminal is made inert here (see `TerminalText`): workflow
// descriptions, member names and model answers are not the CLI's to turn into terminal commands.

import Foundation

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
    /// closed pipe ends the process quietly with exit code 1, as a SIGPIPE would. Every finished call
    /// is already in the ledger, so the run can be resumed.
    static func write(_ text: String) {
        let safe = stdoutIsTerminal ? TerminalText.escaped(text) : text
        do {
            try FileHandle.standardOutput.write(contentsOf: Data(safe.utf8))
        } catch {
            Foundation.exit(1)
        }
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

    /// Pretty JSON for a document a person reads (`--output-format json`, `--output FILE`).
    static func json<T: Encodable>(_ value: T) throws -> String {
        try encode(value, pretty: true)
    }

    /// One JSON object per line (`jsonl` events).
    static func jsonLine<T: Encodable>(_ value: T) throws -> String {
        try encode(value, pretty: false)
    }

    private static func encode<T: Encodable>(_ value: T, pretty: Bool) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if pretty { encoder.outputFormatting.insert(.prettyPrinted) }
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// Text made safe to print on a terminal.
///
/// Every C0 control but newline and tab, DEL, and every C1 control is shown as `\xHH` (or `\u{HHHH}`),
/// so a description or an answer cannot set the window title (`ESC ] 0;…BEL`), clear the screen, move
/// the cursor, change or hide text, ring the bell or write the clipboard. Only the CLI's own coloured
/// diagnostics keep their SGR sequences (`ESC [ digits ; … m`, `keepingColour`); their renderer makes the
/// file's text inside them inert itself.
enum TerminalText {
    static func escaped(_ text: String, keepingColour: Bool = false) -> String {
        let scalars = Array(text.unicodeScalars)
        guard scalars.contains(where: isControl) else { return text }
        var result = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if keepingColour, scalar == "\u{1B}", let end = sgrEnd(scalars, from: index) {
                result.append(contentsOf: scalars[index...end])
                index = end + 1
                continue
            }
            if isControl(scalar) {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                let shown =
                    scalar.value < 0x100 ? "\\x" + String(repeating: "0", count: 2 - hex.count) + hex : "\\u{\(hex)}"
                result.append(contentsOf: shown.unicodeScalars)
            } else {
                result.append(scalar)
            }
            index += 1
        }
        return String(result)
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "\n" || scalar == "\t" { return false }
        return scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// The index of the `m` closing an SGR sequence that starts at `start` (`ESC [ [0-9;]* m`), or `nil`.
    private static func sgrEnd(_ scalars: [Unicode.Scalar], from start: Int) -> Int? {
        guard start + 2 < scalars.count, scalars[start + 1] == "[" else { return nil }
        var index = start + 2
        while index < scalars.count, index - start < 32 {
            let scalar = scalars[index]
            if scalar == "m" { return index }
            guard scalar == ";" || ("0"..."9").contains(scalar) else { return nil }
            index += 1
        }
        return nil
    }
}
