// The one JSON writer of everything `refinery` and `refinery-mcp` print for a person or a script: run and
// event output, `runs show|export`, the checked workflow, batch and bench documents, MCP tool results. Its
// keys are snake_case (`run_id`, `cost_usd`, `finish_reason`), the convention DESIGN.md fixes for the run
// JSON, whatever the Swift property is called. The conversion is the encoder's, so the ledger, which
// encodes the same types with its own encoder, keeps the shape its rows were written in.
//
// Dictionary keys are data (model ids, member ids, `--var` names) and stay as they are: this toolchain's
// `JSONEncoder` converts only coding keys, not a `[String: V]`'s keys (`OutputJSONTests` pins it). A
// dictionary keyed by a `CodingKeyRepresentable` type would have its keys converted: output types key
// their dictionaries by `String`.

package import Foundation

/// How a document a person or a script reads is written: sorted snake_case keys, unescaped slashes,
/// ISO 8601 dates.
package enum OutputJSON {
    /// A fresh encoder with the output conventions; `pretty` adds indentation and newlines.
    package static func encoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if pretty { encoder.outputFormatting.insert(.prettyPrinted) }
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    /// `value` as output JSON text.
    package static func text(_ value: some Encodable, pretty: Bool = false) throws -> String {
        String(decoding: try encoder(pretty: pretty).encode(value), as: UTF8.self)
    }
}
