// A small, forgiving JSON reader for model replies. Models wrap JSON in ```json fences, surround it
// with prose and leave trailing commas; Foundation's JSONSerialization accepts none of that and turns
// `true` into a number on Linux, so replies are read with this parser instead.

internal import Foundation

/// Finds and reads the JSON value in a model reply.
package enum LenientJSON {
    /// Which top-level value to look for.
    package enum Want: Sendable {
        case object
        case array
        case objectOrArray
    }

    /// The JSON value in `text`: the content of the first ```json (or bare ```) fence that parses,
    /// else the first balanced object/array in the text that parses. Trailing commas are tolerated.
    package static func extract(from text: String, want: Want = .object) -> JSONValue? {
        // Most replies have no fence at all: skip the search for one unless a backtick occurs. Looked
        // for with `memchr` in the reply's bytes: through `String.UTF8View` the scan took a fifth of
        // the time to read a review.
        var bytes = text
        let mayHaveFence = bytes.withUTF8 { utf8 in
            utf8.baseAddress.map { memchr($0, Int32(UInt8(ascii: "`")), utf8.count) != nil } ?? false
        }
        for block in mayHaveFence ? fencedBlocks(in: text) : [] {
            if let value = firstBalanced(in: block, want: want) { return value }
        }
        return firstBalanced(in: text, want: want)
    }

    /// Parses `text` as a single JSON value (leading/trailing whitespace allowed).
    package static func parse(_ text: String) -> JSONValue? {
        parse(bytes: Array(text.utf8))
    }

    /// Parses UTF-8 `bytes` as a single JSON value (leading/trailing whitespace allowed).
    package static func parse(bytes: [UInt8]) -> JSONValue? {
        bytes.withUnsafeBufferPointer { bytes in
            var reader = Reader(bytes)
            reader.skipWhitespace()
            guard let value = reader.value(depth: 0) else { return nil }
            reader.skipWhitespace()
            return reader.atEnd ? value : nil
        }
    }

    private static func fencedBlocks(in text: String) -> [String] {
        var blocks: [String] = []
        var rest = text[...]
        while let open = rest.range(of: "```") {
            let afterOpen = rest[open.upperBound...]
            // The info string (`json`, `JSON`, nothing) runs to the end of the line.
            guard let lineEnd = afterOpen.firstIndex(of: "\n") else { break }
            let body = afterOpen[afterOpen.index(after: lineEnd)...]
            guard let close = body.range(of: "```") else {
                blocks.append(String(body))  // an unclosed fence (truncated reply) still holds the JSON
                break
            }
            blocks.append(String(body[..<close.lowerBound]))
            rest = body[close.upperBound...]
        }
        return blocks
    }

    private static func firstBalanced(in text: String, want: Want) -> JSONValue? {
        // Read in place in the reply's own bytes: no copy into an array.
        var text = text
        return text.withUTF8 { firstBalanced(in: $0, want: want) }
    }

    private static func firstBalanced(in bytes: UnsafeBufferPointer<UInt8>, want: Want) -> JSONValue? {
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let isStart: Bool =
                switch want {
                case .object: byte == UInt8(ascii: "{")
                case .array: byte == UInt8(ascii: "[")
                case .objectOrArray: byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[")
                }
            if isStart {
                var reader = Reader(bytes, position: index)
                if let value = reader.value(depth: 0) { return value }
            }
            index += 1
        }
        return nil
    }

    /// A recursive-descent reader over UTF-8 bytes, borrowed for the time of one read.
    ///
    /// Reading a review (a dozen strings, a number, a boolean) went through an `Array` copy of the
    /// reply with its checks on every byte, two arrays for each `true`/`false`/`null` and a `String`
    /// for each number: ~13,600 instructions a reply (Benchmarks/README.md, "Session 7").
    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var position: Int
        static let maxDepth = 64

        init(_ bytes: UnsafeBufferPointer<UInt8>, position: Int = 0) {
            self.bytes = bytes
            self.position = position
        }

        var atEnd: Bool { position >= bytes.count }
        var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipWhitespace() {
            while let byte = peek, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
                position += 1
            }
        }

        mutating func value(depth: Int) -> JSONValue? {
            guard depth < Self.maxDepth else { return nil }
            skipWhitespace()
            guard let byte = peek else { return nil }
            switch byte {
            case UInt8(ascii: "{"): return object(depth: depth)
            case UInt8(ascii: "["): return array(depth: depth)
            case UInt8(ascii: "\""): return string().map(JSONValue.string)
            case UInt8(ascii: "t"): return literal("true", .bool(true))
            case UInt8(ascii: "f"): return literal("false", .bool(false))
            case UInt8(ascii: "n"): return literal("null", .null)
            default: return number()
            }
        }

        mutating func literal(_ word: StaticString, _ result: JSONValue) -> JSONValue? {
            let length = word.utf8CodeUnitCount
            guard position + length <= bytes.count,
                UnsafeBufferPointer(rebasing: bytes[position..<position + length])
                    .elementsEqual(UnsafeBufferPointer(start: word.utf8Start, count: length))
            else { return nil }
            position += length
            return result
        }

        /// The text of `bytes[range]`, broken sequences repaired as `String(decoding:as:)` repairs them.
        func text(_ range: Range<Int>) -> String {
            String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        }

        mutating func object(depth: Int) -> JSONValue? {
            position += 1  // {
            var pairs: [(key: String, value: JSONValue)] = []
            pairs.reserveCapacity(8)  // a review has five or six fields: one allocation, not four
            while true {
                skipWhitespace()
                guard let byte = peek else { return nil }
                if byte == UInt8(ascii: "}") {
                    position += 1
                    return .object(pairs)
                }
                if !pairs.isEmpty {
                    guard byte == UInt8(ascii: ",") else { return nil }
                    position += 1
                    skipWhitespace()
                    if peek == UInt8(ascii: "}") {  // trailing comma
                        position += 1
                        return .object(pairs)
                    }
                }
                skipWhitespace()
                guard peek == UInt8(ascii: "\""), let key = string() else { return nil }
                skipWhitespace()
                guard peek == UInt8(ascii: ":") else { return nil }
                position += 1
                guard let element = value(depth: depth + 1) else { return nil }
                pairs.append((key, element))
            }
        }

        mutating func array(depth: Int) -> JSONValue? {
            position += 1  // [
            var elements: [JSONValue] = []
            while true {
                skipWhitespace()
                guard let byte = peek else { return nil }
                if byte == UInt8(ascii: "]") {
                    position += 1
                    return .array(elements)
                }
                if !elements.isEmpty {
                    guard byte == UInt8(ascii: ",") else { return nil }
                    position += 1
                    skipWhitespace()
                    if peek == UInt8(ascii: "]") {  // trailing comma
                        position += 1
                        return .array(elements)
                    }
                }
                guard let element = value(depth: depth + 1) else { return nil }
                elements.append(element)
            }
        }

        mutating func string() -> String? {
            position += 1  // opening quote
            // Fast path: a string without escapes is decoded straight from the reply's bytes.
            let start = position
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    position += 1
                    return text(start..<position - 1)
                }
                if byte == UInt8(ascii: "\\") { break }
                position += 1
            }
            position = start
            var out: [UInt8] = []
            while let byte = peek {
                position += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard let escaped = peek else { return nil }
                    position += 1
                    switch escaped {
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "u"):
                        guard let scalar = unicodeEscape() else { return nil }
                        out.append(contentsOf: Array(String(Character(scalar)).utf8))
                    default: out.append(escaped)  // \" \\ \/ and anything a model invents
                    }
                case 0x0A, 0x0D, 0x09:
                    out.append(byte)  // raw control characters inside strings: models emit them; keep them
                default:
                    out.append(byte)
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard position + 4 <= bytes.count,
                let code = UInt32(text(position..<position + 4), radix: 16)
            else { return nil }
            position += 4
            return code
        }

        mutating func unicodeEscape() -> Unicode.Scalar? {
            guard let high = hex4() else { return nil }
            if (0xD800...0xDBFF).contains(high) {
                guard peek == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u")
                else { return Unicode.Scalar(0xFFFD) }
                position += 2
                guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return Unicode.Scalar(0xFFFD) }
                return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
            }
            return Unicode.Scalar(high) ?? Unicode.Scalar(0xFFFD)
        }

        mutating func number() -> JSONValue? {
            let start = position
            while let byte = peek,
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
                    || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e")
                    || byte == UInt8(ascii: "E")
            {
                position += 1
            }
            guard position > start else { return nil }
            if let integer = Self.smallInteger(bytes[start..<position]) { return .number(integer) }
            guard let number = Double(text(start..<position)) else { return nil }
            return .number(number)
        }

        /// `digits` as `Double(String)` reads them when they are an integer of at most 15 digits (a
        /// score, a count), which a `Double` holds exactly: no string, no `strtod`. `nil` otherwise.
        static func smallInteger(_ digits: Slice<UnsafeBufferPointer<UInt8>>) -> Double? {
            var digits = digits[...]
            let negative = digits.first == UInt8(ascii: "-")
            if negative { digits = digits.dropFirst() }
            guard !digits.isEmpty, digits.count <= 15 else { return nil }
            var value = 0
            for byte in digits {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            // `-0` is negative zero, as `Double("-0")` reads it.
            return negative ? -Double(value) : Double(value)
        }
    }
}
