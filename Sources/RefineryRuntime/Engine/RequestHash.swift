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
    /// `Codable`, which recorded runs resume against; they are written from the request's fields with
    /// `JSONValue`'s string and number writers (`JSONEncoder` was 6 % of `refinery`'s CPU per call,
    /// Benchmarks/README.md, real path). A
    /// request that writer cannot spell the same way (an integer beyond 2⁵³'s exact range, a
    /// non-finite number) still goes through `JSONEncoder`.
    static func canonical(_ request: ModelRequest) -> (json: String, hash: String) {
        var output = JSONOutput(capacity: 4096)
        if write(request, into: &output) {
            return output.withBytes {
                (JSONOutput.string(fromUTF8: $0), WorkflowCompiler.sha256Hex(UnsafeRawBufferPointer($0)))
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a value type made only of strings, numbers and arrays fails only on a
        // non-finite number, whose hash is then that of no bytes (as it always was).
        let data = (try? encoder.encode(request)) ?? Data()
        return (String(decoding: data, as: UTF8.self), WorkflowCompiler.sha256Hex(data))
    }

    /// Writes `request` as its synthesized `Codable` conformance encodes it (keys sorted, absent
    /// optionals left out), straight from its fields rather than through a `JSONValue` tree; `false`
    /// when a number is not one the writer spells as `JSONEncoder` does (an integer too large for a
    /// `Double` to hold exactly, a non-finite number).
    private static func write(_ request: ModelRequest, into output: inout JSONOutput) -> Bool {
        output.append(#"{"messages":["#)
        for (index, message) in request.messages.enumerated() {
            output.append(index == 0 ? #"{"content":"# : #",{"content":"#)
            output.appendString(message.content)
            output.append(#","role":"#)
            output.appendString(message.role.rawValue)
            output.append(UInt8(ascii: "}"))
        }
        output.append(#"],"model":{"#)
        let model = request.model
        if let alias = model.alias {
            output.append(#""alias":"#)
            output.appendString(alias)
            output.append(UInt8(ascii: ","))
        }
        output.append(#""model":"#)
        output.appendString(model.model)
        output.append(#","provider":"#)
        output.appendString(model.provider)
        output.append(#"},"params":"#)
        guard write(request.params, into: &output) else { return false }
        if let format = request.responseFormat {
            output.append(#","responseFormat":{"name":"#)
            output.appendString(format.name)
            output.append(#","schemaJSON":"#)
            if let known = escapedSchemas.first(where: { $0.schema == format.schemaJSON }) {
                output.appendJSON(known.json)
            } else {
                output.appendString(format.schemaJSON)
            }
            output.append(UInt8(ascii: "}"))
        }
        if let system = request.system {
            output.append(#","system":"#)
            output.appendString(system)
        }
        if let timeout = request.timeoutSeconds {
            output.append(#","timeoutSeconds":"#)
            guard write(timeout, into: &output) else { return false }
        }
        output.append(UInt8(ascii: "}"))
        return true
    }

    /// The engine's fixed schemas as JSON strings, written once: a schema is the densest text a
    /// request holds (~90 quotes to escape in 500 bytes, ~6,000 instructions), and every review,
    /// synthesis and verification plan sends one. Compared with `==`, which is one check when the
    /// request holds the very string (it does: the schemas are constants).
    private static let escapedSchemas: [(schema: String, json: [UInt8])] = [
        JSONSchemas.evaluation, JSONSchemas.synthesis, JSONSchemas.verificationQuestions,
    ].map { format in
        var output = JSONOutput(capacity: format.schemaJSON.utf8.count * 2)
        output.appendString(format.schemaJSON)
        return (format.schemaJSON, output.withBytes { Array($0) })
    }

    private static func write(_ params: ModelParams, into output: inout JSONOutput) -> Bool {
        var first = true
        if let maxTokens = params.maxTokens {
            output.appendKey(#""maxTokens":"#, first: &first)
            guard write(maxTokens, into: &output) else { return false }
        }
        if let effort = params.reasoningEffort {
            output.appendKey(#""reasoningEffort":"#, first: &first)
            output.appendString(effort)
        }
        if let seed = params.seed {
            output.appendKey(#""seed":"#, first: &first)
            guard write(seed, into: &output) else { return false }
        }
        if let stop = params.stop {
            output.appendKey(#""stop":["#, first: &first)
            for (index, text) in stop.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                output.appendString(text)
            }
            output.append(UInt8(ascii: "]"))
        }
        if let temperature = params.temperature {
            output.appendKey(#""temperature":"#, first: &first)
            guard write(temperature, into: &output) else { return false }
        }
        if let topP = params.topP {
            output.appendKey(#""topP":"#, first: &first)
            guard write(topP, into: &output) else { return false }
        }
        output.append(first ? "{}" : "}")
        return true
    }

    /// A finite number as `JSONEncoder` spells a `Double`.
    private static func write(_ number: Double, into output: inout JSONOutput) -> Bool {
        guard number.isFinite else { return false }
        JSONValue.writeNumber(number, into: &output)
        return true
    }

    /// An integer as `JSONEncoder` spells it, when below 10¹⁵ (which a `Double` holds exactly and the
    /// writer writes without a fraction).
    private static func write(_ integer: Int, into output: inout JSONOutput) -> Bool {
        guard integer.magnitude < 1_000_000_000_000_000 else { return false }
        JSONValue.writeNumber(Double(integer), into: &output)
        return true
    }
}
