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
                (String(decoding: $0, as: UTF8.self), WorkflowCompiler.sha256Hex(UnsafeRawBufferPointer($0)))
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
            JSONValue.writeString(message.content, into: &output)
            output.append(#","role":"#)
            JSONValue.writeString(message.role.rawValue, into: &output)
            output.append(UInt8(ascii: "}"))
        }
        output.append(#"],"model":{"#)
        let model = request.model
        if let alias = model.alias {
            output.append(#""alias":"#)
            JSONValue.writeString(alias, into: &output)
            output.append(UInt8(ascii: ","))
        }
        output.append(#""model":"#)
        JSONValue.writeString(model.model, into: &output)
        output.append(#","provider":"#)
        JSONValue.writeString(model.provider, into: &output)
        output.append(#"},"params":"#)
        guard write(request.params, into: &output) else { return false }
        if let format = request.responseFormat {
            output.append(#","responseFormat":{"name":"#)
            JSONValue.writeString(format.name, into: &output)
            output.append(#","schemaJSON":"#)
            JSONValue.writeString(format.schemaJSON, into: &output)
            output.append(UInt8(ascii: "}"))
        }
        if let system = request.system {
            output.append(#","system":"#)
            JSONValue.writeString(system, into: &output)
        }
        if let timeout = request.timeoutSeconds {
            output.append(#","timeoutSeconds":"#)
            guard write(timeout, into: &output) else { return false }
        }
        output.append(UInt8(ascii: "}"))
        return true
    }

    private static func write(_ params: ModelParams, into output: inout JSONOutput) -> Bool {
        var first = true
        if let maxTokens = params.maxTokens {
            key(#""maxTokens":"#, first: &first, into: &output)
            guard write(maxTokens, into: &output) else { return false }
        }
        if let effort = params.reasoningEffort {
            key(#""reasoningEffort":"#, first: &first, into: &output)
            JSONValue.writeString(effort, into: &output)
        }
        if let seed = params.seed {
            key(#""seed":"#, first: &first, into: &output)
            guard write(seed, into: &output) else { return false }
        }
        if let stop = params.stop {
            key(#""stop":["#, first: &first, into: &output)
            for (index, text) in stop.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                JSONValue.writeString(text, into: &output)
            }
            output.append(UInt8(ascii: "]"))
        }
        if let temperature = params.temperature {
            key(#""temperature":"#, first: &first, into: &output)
            guard write(temperature, into: &output) else { return false }
        }
        if let topP = params.topP {
            key(#""topP":"#, first: &first, into: &output)
            guard write(topP, into: &output) else { return false }
        }
        output.append(first ? "{}" : "}")
        return true
    }

    /// Opens the object or separates this key from the one before, then writes `quotedKey` (with its colon).
    private static func key(_ quotedKey: StaticString, first: inout Bool, into output: inout JSONOutput) {
        output.append(UInt8(ascii: first ? "{" : ","))
        output.append(quotedKey)
        first = false
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
