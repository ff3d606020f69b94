// The bytes JSON text is written into, and the spelling of its strings and numbers: the bytes
// Foundation's `JSONEncoder` writes, at a fraction of the cost. Every model call's request is
// written here (its body, and its canonical form for the ledger's hash), and so is every run's
// report; prompts that show a reply or a schema hold a quote to escape every few bytes. One
// allocation grown by doubling, appended to without `Array`'s checks on every byte.

/// JSON text being written: bytes in one growing buffer.
package struct JSONOutput: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// The number of bytes written.
    package private(set) var count = 0

    /// An empty output with room for `capacity` bytes before it grows.
    package init(capacity: Int = 1024) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// Calls `body` with the bytes written so far.
    package func withBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try body(UnsafeBufferPointer(start: base, count: count))
    }

    /// The text written so far.
    package var text: String {
        withBytes { Self.string(fromUTF8: $0) }
    }

    /// ASCII runs at least this long are made strings on their own (see ``string(fromUTF8:)``): below
    /// it, the extra string and append cost more than checking the run byte by byte saves.
    private static let longASCIIRun = 256

    /// `bytes` as a `String`, the same as `String(decoding:as:)` gives, checked in fewer steps.
    ///
    /// `String(decoding:as:)` checks the whole buffer eight bytes at a time when it is all ASCII, but
    /// once it holds one other byte (every default prompt has a `–` or `≥`) it checks every byte one at
    /// a time, ~6 instructions a byte: 8 % of a batch's instructions, made a request hash's text
    /// (Benchmarks/README.md, "Session 7"). Long ASCII runs are made strings apart, which takes the
    /// fast check, and the rest in pieces between them; each piece starts and ends next to an ASCII
    /// byte, so no piece splits a character (nor an invalid sequence, which is repaired the same).
    static func string(fromUTF8 bytes: UnsafeBufferPointer<UInt8>) -> String {
        guard let start = bytes.baseAddress else { return "" }
        let count = bytes.count
        var index = nextNonASCII(start, from: 0, count: count)
        guard index < count else { return String(decoding: bytes, as: UTF8.self) }
        var text = ""
        text.reserveCapacity(count)
        func append(_ range: Range<Int>) {
            guard !range.isEmpty else { return }
            text.append(
                String(
                    decoding: UnsafeBufferPointer(start: start + range.lowerBound, count: range.count), as: UTF8.self))
        }
        // `pending` is where the bytes not yet appended begin; `index` is at a non-ASCII byte.
        var pending = 0
        if index >= longASCIIRun {
            append(0..<index)
            pending = index
        }
        while index < count {
            while index < count, start[index] >= 0x80 { index += 1 }
            let runEnd = nextNonASCII(start, from: index, count: count)
            if runEnd - index >= longASCIIRun {
                append(pending..<index)
                append(index..<runEnd)
                pending = runEnd
            }
            index = runEnd
        }
        append(pending..<count)
        return text
    }

    /// The position of the first byte at or after `index` that is not ASCII (`count` if none).
    private static func nextNonASCII(_ start: UnsafePointer<UInt8>, from index: Int, count: Int) -> Int {
        var index = index
        while index + 8 <= count {
            let word = UnsafeRawPointer(start + index).loadUnaligned(as: UInt64.self)
            let high = UInt64(littleEndian: word) & 0x8080_8080_8080_8080
            if high != 0 { return index + (high.trailingZeroBitCount >> 3) }
            index += 8
        }
        while index < count, start[index] < 0x80 { index += 1 }
        return index
    }

    // MARK: Bytes

    /// Makes room for `extra` more bytes, so the next `extra` bytes need no check.
    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private mutating func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    /// Appends one byte where ``reserve(_:)`` made room for it.
    @inline(__always)
    private mutating func appendReserved(_ byte: UInt8) {
        base[count] = byte
        count += 1
    }

    /// Appends one byte (punctuation).
    @inline(__always)
    package mutating func append(_ byte: UInt8) {
        reserve(1)
        appendReserved(byte)
    }

    /// Appends the bytes of a literal: punctuation, keys with their quotes and colon, `null`.
    @inline(__always)
    package mutating func append(_ literal: StaticString) {
        append(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    @inline(__always)
    private mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        (base + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    /// Appends bytes that are already JSON text (e.g. a string written and kept earlier).
    package mutating func appendJSON(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append($0) }
    }

    /// Appends `text` as it is (a number's spelling).
    private mutating func appendRaw(_ text: String) {
        var text = text
        text.withUTF8 { append($0) }
    }

    // MARK: Values

    /// Appends `"key":` for an object's next key: `{` before the first (`first` is then cleared), `,`
    /// before the others. `quotedKey` is the key with its quotes and colon; keys come in sorted order.
    package mutating func appendKey(_ quotedKey: StaticString, first: inout Bool) {
        append(UInt8(ascii: first ? "{" : ","))
        append(quotedKey)
        first = false
    }

    /// Appends `true` or `false`.
    package mutating func appendBool(_ flag: Bool) {
        append(flag ? "true" : "false")
    }

    /// Appends an integer as `JSONEncoder` spells it.
    package mutating func appendInteger(_ integer: Int) {
        appendRaw(String(integer))
    }

    /// Appends a `Double` as `JSONEncoder` spells it: Swift's description without a trailing `.0`
    /// (`3`, `0.1`, `-0`, `1e+16`). `false`, and nothing written, when it is NaN or infinite, which
    /// `JSONEncoder` refuses.
    package mutating func appendDouble(_ number: Double) -> Bool {
        guard number.isFinite else { return false }
        var text = number.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        appendRaw(text)
        return true
    }

    private static let hexDigits: StaticString = "0123456789abcdef"

    /// Appends `text` as a JSON string, escaped as `JSONEncoder` escapes it: quotes, backslashes and
    /// control characters, and slashes (`\/`) unless `escapingSlashes` is off
    /// (`.withoutEscapingSlashes`).
    ///
    /// Looks for the next byte to escape eight bytes at a time and copies the plain run before it in
    /// one piece: prompts are long, mostly plain, with stretches of escapes where they show a reply or
    /// a schema (appending byte by byte to an `Array` was 17 % of a batch's CPU, Benchmarks/README.md).
    package mutating func appendString(_ text: String, escapingSlashes: Bool = false) {
        var text = text
        text.withUTF8 { utf8 in
            reserve(utf8.count + 2)
            appendReserved(UInt8(ascii: "\""))
            guard let start = utf8.baseAddress else {
                appendReserved(UInt8(ascii: "\""))
                return
            }
            var plainStart = 0
            var index = 0
            while index < utf8.count {
                let escaped: Int
                if index + 8 <= utf8.count {
                    // Read little-endian, so the first byte in memory is the lowest.
                    let word = UInt64(littleEndian: UnsafeRawPointer(start + index).loadUnaligned(as: UInt64.self))
                    let mask = Self.escapeMask(word, slashes: escapingSlashes)
                    if mask == 0 {
                        index += 8
                        continue
                    }
                    escaped = index + (mask.trailingZeroBitCount >> 3)
                } else {
                    guard Self.needsEscape(start[index], slashes: escapingSlashes) else {
                        index += 1
                        continue
                    }
                    escaped = index
                }
                append(UnsafeBufferPointer(start: start + plainStart, count: escaped - plainStart))
                appendEscape(start[escaped])
                plainStart = escaped + 1
                index = plainStart
            }
            append(UnsafeBufferPointer(start: start + plainStart, count: utf8.count - plainStart))
            append(UInt8(ascii: "\""))
        }
    }

    @inline(__always)
    private static func needsEscape(_ byte: UInt8, slashes: Bool) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
            || (slashes && byte == UInt8(ascii: "/"))
    }

    /// The high bit of each byte of `word` that needs an escape, by the bit tricks `hasless` and
    /// `haszero` of "Bit Twiddling Hacks". A borrow can flag a byte above a flagged one wrongly, never
    /// one below it: zero means none, and the lowest bit set is exact.
    @inline(__always)
    private static func escapeMask(_ word: UInt64, slashes: Bool) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let control = (word &- ones &* 0x20) & ~word
        let quotes = word ^ (ones &* UInt64(UInt8(ascii: "\"")))
        let backslashes = word ^ (ones &* UInt64(UInt8(ascii: "\\")))
        var matches = (quotes &- ones) & ~quotes | (backslashes &- ones) & ~backslashes
        if slashes {
            let slashBytes = word ^ (ones &* UInt64(UInt8(ascii: "/")))
            matches |= (slashBytes &- ones) & ~slashBytes
        }
        return (control | matches) & 0x8080_8080_8080_8080
    }

    /// The escape `JSONEncoder` writes for a quote, a backslash, a slash or a control character.
    private mutating func appendEscape(_ byte: UInt8) {
        reserve(6)
        appendReserved(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): appendReserved(byte)
        case 0x0A: appendReserved(UInt8(ascii: "n"))
        case 0x0D: appendReserved(UInt8(ascii: "r"))
        case 0x09: appendReserved(UInt8(ascii: "t"))
        case 0x08: appendReserved(UInt8(ascii: "b"))
        case 0x0C: appendReserved(UInt8(ascii: "f"))
        default:
            let digits = Self.hexDigits.utf8Start
            appendReserved(UInt8(ascii: "u"))
            appendReserved(UInt8(ascii: "0"))
            appendReserved(UInt8(ascii: "0"))
            appendReserved(digits[Int(byte >> 4)])
            appendReserved(digits[Int(byte & 0x0F)])
        }
    }
}
