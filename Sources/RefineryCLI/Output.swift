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

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func jsonLine<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
