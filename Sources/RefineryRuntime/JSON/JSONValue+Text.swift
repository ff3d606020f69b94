// Compact JSON text with sorted keys, written straight to bytes. It is the text Foundation's
// `JSONEncoder` (`.sortedKeys`, `.withoutEscapingSlashes`) wrote for the same value, byte for byte (a
// test compares them), at a fraction of the cost: every model call's request body goes through it
// (JSONEncoder took ~8 % of `refinery`'s CPU per call, Benchmarks/README.md, real path).

extension JSONValue {
    /// Compact JSON text with sorted keys (stable for tests and request hashes); `null` when the
    /// value holds a number JSON cannot spell (NaN, an infinity).
    package var jsonText: String {
        var output = JSONOutput(capacity: 256)
        guard write(into: &output) else { return "null" }
        return output.text
    }

    /// Appends the compact sorted-key text of this value to `output`; `false` (with `output` partly
    /// written) when it holds a non-finite number. With `escapingSlashes`, `/` is written `\/`, as
    /// `JSONEncoder` writes it without `.withoutEscapingSlashes` (GRDB's encoder of the ledger's JSON columns).
    package func write(into output: inout JSONOutput, escapingSlashes: Bool = false) -> Bool {
        switch self {
        case .null: output.append("null")
        case .bool(let flag): output.append(flag ? "true" : "false")
        case .number(let number):
            guard number.isFinite else { return false }
            Self.writeNumber(number, into: &output)
        case .string(let text): output.appendString(text, escapingSlashes: escapingSlashes)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                guard element.write(into: &output, escapingSlashes: escapingSlashes) else { return false }
            }
            output.append(UInt8(ascii: "]"))
        case .object(let pairs):
            output.append(UInt8(ascii: "{"))
            // Most objects are written sorted already (built from a dictionary): sort only when not.
            let isSorted = zip(pairs, pairs.dropFirst()).allSatisfy { Self.precedes($0.key, $1.key) }
            let ordered = isSorted ? pairs : pairs.sorted { Self.precedes($0.key, $1.key) }
            for (index, pair) in ordered.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                output.appendString(pair.key, escapingSlashes: escapingSlashes)
                output.append(UInt8(ascii: ":"))
                guard pair.value.write(into: &output, escapingSlashes: escapingSlashes) else { return false }
            }
            output.append(UInt8(ascii: "}"))
        }
        return true
    }

    /// The key order of `.sortedKeys`: by UTF-8 bytes.
    private static func precedes(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Whole numbers below 10¹⁵ as integers (`3`, not `3.0`); others as Swift spells a `Double`,
    /// without a trailing `.0`. The number must be finite.
    static func writeNumber(_ number: Double, into output: inout JSONOutput) {
        if number.rounded() == number, abs(number) < 1e15 {
            output.appendInteger(Int(number))
        } else {
            _ = output.appendDouble(number)
        }
    }
}
