// UTF-8 validation before libyaml sees the bytes: libyaml's own message for bad input has no
// line or column, and a Swift String would silently replace the bad bytes.

enum UTF8Check {
    /// The location and value of the first byte that is not part of valid UTF-8, or `nil`.
    static func firstInvalidByte(in bytes: [UInt8]) -> (location: SourceLocation, byte: UInt8)? {
        var line = 1
        var column = 1
        var index = 0
        while index < bytes.count {
            let length = sequenceLength(bytes, at: index)
            guard length > 0 else { return (SourceLocation(line: line, column: column), bytes[index]) }
            if bytes[index] == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else {
                column += 1
            }
            index += length
        }
        return nil
    }

    /// Where byte `offset` of `bytes` is, counting lines by `\n` and columns by scalar.
    static func location(ofByteOffset offset: Int, in bytes: [UInt8]) -> SourceLocation {
        var line = 1
        var column = 1
        for byte in bytes.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return SourceLocation(line: line, column: column)
    }

    private static func expectedLength(_ lead: UInt8) -> Int {
        switch lead {
        case 0x00...0x7F: 1
        case 0xC2...0xDF: 2
        case 0xE0...0xEF: 3
        case 0xF0...0xF4: 4
        default: 0
        }
    }

    /// The length of the well-formed sequence starting at `index`, or 0 when it is malformed
    /// (overlong forms, surrogates and code points above U+10FFFF included).
    private static func sequenceLength(_ bytes: [UInt8], at index: Int) -> Int {
        let lead = bytes[index]
        let length = expectedLength(lead)
        guard length > 0, index + length <= bytes.count else { return 0 }
        if length == 1 { return 1 }
        let second = bytes[index + 1]
        let secondRange: ClosedRange<UInt8> =
            switch lead {
            case 0xE0: 0xA0...0xBF
            case 0xED: 0x80...0x9F
            case 0xF0: 0x90...0xBF
            case 0xF4: 0x80...0x8F
            default: 0x80...0xBF
            }
        guard secondRange.contains(second) else { return 0 }
        for offset in 2..<length where bytes[index + offset] & 0xC0 != 0x80 {
            return 0
        }
        return length
    }
}
