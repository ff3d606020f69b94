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
    ///
    /// The bytes are those `JSONEncoder` (`.sortedKeys`, `.withoutEscapingSlashes`) wrote through
    /// `Codable`, which recorded runs resume against; they are written by `JSONValue`'s writer
    /// (`JSONEncoder` was 6 % of `refinery`'s CPU per call, Benchmarks/README.md, real path). A
    /// request that writer cannot spell the same way (an integer beyond 2⁵³'s exact range, a
    /// non-finite number) still goes through `JSONEncoder`.
    static func canonical(_ request: ModelRequest) -> (json: String, hash: String) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1024)
        if let value = jsonValue(request), value.write(into: &bytes) {
            return (String(decoding: bytes, as: UTF8.self), WorkflowCompiler.sha256Hex(bytes))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a value type made only of strings, numbers and arrays fails only on a
        // non-finite number, whose hash is then that of no bytes (as it always was).
        let data = (try? encoder.encode(request)) ?? Data()
        return (String(decoding: data, as: UTF8.self), WorkflowCompiler.sha256Hex(data))
    }

    /// `request` as the JSON its synthesized `Codable` conformance encodes (absent optionals left
    /// out); `nil` when an integer is too large for a `Double` to hold exactly.
    private static func jsonValue(_ request: ModelRequest) -> JSONValue? {
        var top: [(key: String, value: JSONValue)] = [
            (
                "messages",
                .array(
                    request.messages.map {
                        .object([("content", .string($0.content)), ("role", .string($0.role.rawValue))])
                    })
            ),
            ("model", model(request.model)),
        ]
        guard let params = params(request.params) else { return nil }
        top.append(("params", params))
        if let format = request.responseFormat {
            top.append(
                (
                    "responseFormat",
                    .object([("name", .string(format.name)), ("schemaJSON", .string(format.schemaJSON))])
                ))
        }
        if let system = request.system { top.append(("system", .string(system))) }
        if let timeout = request.timeoutSeconds { top.append(("timeoutSeconds", .number(timeout))) }
        return .object(top)
    }

    private static func model(_ ref: ModelRef) -> JSONValue {
        var pairs: [(key: String, value: JSONValue)] = []
        if let alias = ref.alias { pairs.append(("alias", .string(alias))) }
        pairs.append(("model", .string(ref.model)))
        pairs.append(("provider", .string(ref.provider)))
        return .object(pairs)
    }

    private static func params(_ params: ModelParams) -> JSONValue? {
        var pairs: [(key: String, value: JSONValue)] = []
        if let maxTokens = params.maxTokens {
            guard let number = exact(maxTokens) else { return nil }
            pairs.append(("maxTokens", number))
        }
        if let effort = params.reasoningEffort { pairs.append(("reasoningEffort", .string(effort))) }
        if let seed = params.seed {
            guard let number = exact(seed) else { return nil }
            pairs.append(("seed", number))
        }
        if let stop = params.stop { pairs.append(("stop", .array(stop.map { .string($0) }))) }
        if let temperature = params.temperature { pairs.append(("temperature", .number(temperature))) }
        if let topP = params.topP { pairs.append(("topP", .number(topP))) }
        return .object(pairs)
    }

    /// An integer as a JSON number the writer spells as `JSONEncoder` does: below 10¹⁵ (which a
    /// `Double` holds exactly and the writer writes without a fraction).
    private static func exact(_ integer: Int) -> JSONValue? {
        integer.magnitude < 1_000_000_000_000_000 ? .number(Double(integer)) : nil
    }
}
