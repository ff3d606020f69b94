// Printing to stdout, and JSON encoding shared by every command.

import Foundation

enum Output {
    static func line(_ text: String = "") {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
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
