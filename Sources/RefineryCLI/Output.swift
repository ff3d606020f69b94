// Printing to stdout, and JSON encoding shared by every command.

import Foundation

enum Output {
    static func line(_ text: String = "") {
        write(text + "\n")
    }

    /// Writes to stdout. Foundation's non-throwing `write(_:)` traps when the reader has gone away
    /// (`refinery ... | head`); here a closed pipe ends the process quietly with exit code 1, as a
    /// SIGPIPE would. Every finished call is already in the ledger, so the run can be resumed.
    static func write(_ text: String) {
        do {
            try FileHandle.standardOutput.write(contentsOf: Data(text.utf8))
        } catch {
            Foundation.exit(1)
        }
    }

    /// Writes to stderr; a closed stderr is ignored (there is nobody left to tell).
    static func error(_ text: String) {
        try? FileHandle.standardError.write(contentsOf: Data(text.utf8))
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
