// The ledger key of a request: the same request always hashes the same, so a resumed run finds
// the replies of the calls it already paid for.

import Foundation
import RefineryCompiler

/// SHA-256 over a canonical JSON encoding of a request.
enum RequestHash {
    /// Lowercase hex SHA-256 of `request` encoded as JSON with sorted keys.
    static func of(_ request: ModelRequest) -> String {
        canonical(request).hash
    }

    /// The canonical JSON of `request` and its hash (the JSON is what the ledger stores).
    static func canonical(_ request: ModelRequest) -> (json: String, hash: String) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a value type made only of strings, numbers and arrays cannot fail.
        let data = (try? encoder.encode(request)) ?? Data()
        return (String(decoding: data, as: UTF8.self), WorkflowCompiler.sha256Hex(data))
    }
}
