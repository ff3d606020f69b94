// Compact JSON text with sorted keys, written straight to bytes. It is the text Foundation's
// `JSONEncoder` (`.sortedKeys`, `.withoutEscapingSlashes`) wrote for the same value, byte for byte (a
// test compares them), at a fraction of the cost: every model call's request body goes through it
// (JSONEncoder took ~8 % of `refinery`'s CPU per call, Benchmarks/README.md, real path).

extension JSONValue {
    /// Compact JSON text with sorted keys (stable for tests and request hashes); `null` when the
    /// value holds a number JSON cannot spell (NaN, an infinity).
    package var jsonText: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        guard write(into: &bytes) else { return "null" }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the compact sorted-key text of this value to `bytes`; `false` (with `bytes` partly
    /// written) when it holds a non-finite number. With `escapingSlashes`, `/` is written `\/`, as
    /// `JSONEncoder` writes it without `.withoutEscapingSlashes` (GRDB's encoder of the ledger's JSON columns).
    package func write(into bytes: inout [UInt8], escapingSlashes: Bool = false) -> Bool {
        switch self {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .bool(let flag): bytes.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number):
            guard number.isFinite else { return false }
            Self.writeNumber(number, into: &bytes)
        case .string(let text): Self.writeString(text, into: &bytes, escapingSlashes: escapingSlashes)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                guard element.write(into: &bytes, escapingSlashes: escapingSlashes) else { return false }
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let pairs):
            bytes.append(UInt8(ascii: "{"))
            // Most objects are written sorted already (built from a dictionary): sort only when not.
            let isSorted = zip(pairs, pairs.dropFirst()).allSatisfy { Self.precedes($0.key, $1.key) }
            let ordered = isSorted ? pairs : pairs.sorted { Self.precedes($0.key, $1.key) }
            for (index, pair) in ordered.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                Self.writeString(pair.key, into: &bytes, escapingSlashes: escapingSlashes)
                bytes.append(UInt8(ascii: ":"))
                guard pair.value.write(into: &bytes, escapingSlashes: escapingSlashes) else { return false }
            }
            bytes.append(UInt8(ascii: "}"))
        }
        return true
    }

    /// The key order of `.sortedKeys`: by UTF-8 bytes.
    private static func precedes(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Whole numbers below 10¹⁵ as integers (`3`, not `3.0`); others as Swift spells a `Double`,
    /// without a trailing `.0`.
    private static func writeNumber(_ number: Double, into bytes: inout [UInt8]) {
        if number.rounded() == number, abs(number) < 1e15 {
            bytes.append(contentsOf: String(Int64(number)).utf8)
            return
        }
        var text = number.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Writes `text` quoted and escaped. The bytes between two that need escaping are appended as one
    /// run, not one at a time: prompts and schemas are kilobytes of plain text written twice per call
    /// (the request body and the request hash), and the byte-by-byte loop was 3.7 % of `refinery`'s CPU
    /// at N = 50 (Benchmarks/README.md, real path).
    private static func writeString(_ text: String, into bytes: inout [UInt8], escapingSlashes: Bool) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var start = 0
            for index in utf8.indices {
                let byte = utf8[index]
                guard
                    byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
                        || (escapingSlashes && byte == UInt8(ascii: "/"))
                else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                writeEscape(byte, into: &bytes)
                start = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// The escape JSONEncoder writes for a quote, a backslash, a slash or a control character.
    private static func writeEscape(_ byte: UInt8, into bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(byte)
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        default:
            bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
            bytes.append(hexDigits[Int(byte >> 4)])
            bytes.append(hexDigits[Int(byte & 0x0F)])
        }
    }
}
