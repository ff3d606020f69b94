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
    /// written) when it holds a non-finite number.
    package func write(into output: inout JSONOutput) -> Bool {
        switch self {
        case .null: output.append("null")
        case .bool(let flag): output.append(flag ? "true" : "false")
        case .number(let number):
            guard number.isFinite else { return false }
            Self.writeNumber(number, into: &output)
        case .string(let text): Self.writeString(text, into: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                guard element.write(into: &output) else { return false }
            }
            output.append(UInt8(ascii: "]"))
        case .object(let pairs):
            output.append(UInt8(ascii: "{"))
            // Most objects are written sorted already (built from a dictionary): sort only when not.
            let isSorted = zip(pairs, pairs.dropFirst()).allSatisfy { Self.precedes($0.key, $1.key) }
            let ordered = isSorted ? pairs : pairs.sorted { Self.precedes($0.key, $1.key) }
            for (index, pair) in ordered.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                Self.writeString(pair.key, into: &output)
                output.append(UInt8(ascii: ":"))
                guard pair.value.write(into: &output) else { return false }
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
            output.append(String(Int64(number)))
            return
        }
        var text = number.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        output.append(text)
    }

    private static let hexDigits: StaticString = "0123456789abcdef"

    /// `text` as a JSON string, escaped as `JSONEncoder` escapes (`.withoutEscapingSlashes`).
    ///
    /// Looks for the next byte to escape eight bytes at a time and copies the plain run before it in
    /// one piece: every request is written for its hash, and prompts are long, mostly plain, with
    /// stretches of escapes where they show a reply or a schema (appending byte by byte was 17 % of
    /// a batch's CPU, Benchmarks/README.md).
    static func writeString(_ text: String, into output: inout JSONOutput) {
        var text = text
        text.withUTF8 { utf8 in
            output.reserve(utf8.count + 2)
            output.appendReserved(UInt8(ascii: "\""))
            guard let base = utf8.baseAddress else {
                output.appendReserved(UInt8(ascii: "\""))
                return
            }
            var plainStart = 0
            var index = 0
            while index < utf8.count {
                let escaped: Int
                if index + 8 <= utf8.count {
                    // Read little-endian, so the first byte in memory is the lowest.
                    let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
                    let mask = escapeMask(word)
                    if mask == 0 {
                        index += 8
                        continue
                    }
                    escaped = index + (mask.trailingZeroBitCount >> 3)
                } else {
                    let byte = base[index]
                    guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else {
                        index += 1
                        continue
                    }
                    escaped = index
                }
                output.append(UnsafeBufferPointer(start: base + plainStart, count: escaped - plainStart))
                writeEscape(base[escaped], into: &output)
                plainStart = escaped + 1
                index = plainStart
            }
            output.append(UnsafeBufferPointer(start: base + plainStart, count: utf8.count - plainStart))
            output.append(UInt8(ascii: "\""))
        }
    }

    /// The high bit of each byte of `word` that is a control character, a quote or a backslash, by
    /// the bit tricks `hasless` and `haszero` of "Bit Twiddling Hacks". A borrow can flag a byte above
    /// a flagged one wrongly, never one below it: zero means none, and the lowest bit set is exact.
    @inline(__always)
    private static func escapeMask(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let control = (word &- ones &* 0x20) & ~word
        let quotes = word ^ (ones &* UInt64(UInt8(ascii: "\"")))
        let backslashes = word ^ (ones &* UInt64(UInt8(ascii: "\\")))
        let matches = (quotes &- ones) & ~quotes | (backslashes &- ones) & ~backslashes
        return (control | matches) & 0x8080_8080_8080_8080
    }

    /// The escape `JSONEncoder` writes for a quote, a backslash or a control character.
    private static func writeEscape(_ byte: UInt8, into output: inout JSONOutput) {
        output.reserve(6)
        output.appendReserved(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): output.appendReserved(byte)
        case 0x0A: output.appendReserved(UInt8(ascii: "n"))
        case 0x0D: output.appendReserved(UInt8(ascii: "r"))
        case 0x09: output.appendReserved(UInt8(ascii: "t"))
        case 0x08: output.appendReserved(UInt8(ascii: "b"))
        case 0x0C: output.appendReserved(UInt8(ascii: "f"))
        default:
            let digits = hexDigits.utf8Start
            output.appendReserved(UInt8(ascii: "u"))
            output.appendReserved(UInt8(ascii: "0"))
            output.appendReserved(UInt8(ascii: "0"))
            output.appendReserved(digits[Int(byte >> 4)])
            output.appendReserved(digits[Int(byte & 0x0F)])
        }
    }
}
