// The one dynamic JSON value of the package: model replies are read into it (LenientJSON), and the
// providers build and read their wire bodies with it. Objects keep their keys in the order they were
// read or written, so a reply's fields can be shown as the model wrote them; the wire text sorts keys
// (`jsonText`), so a request body does not depend on that order.

/// Any JSON value; objects keep their keys in order.
package enum JSONValue: Sendable, Hashable {
    case object([(key: String, value: JSONValue)])
    case array([JSONValue])
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

    /// An object with `fields`, keys sorted (a dictionary has no order of its own to keep).
    package init(_ fields: [String: JSONValue]) {
        self = .object(fields.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) })
    }

    /// Parses JSON text; `nil` when it is not one JSON value. Lenient as model replies need
    /// (trailing commas, raw control characters in strings); see ``LenientJSON``.
    package static func parse(_ text: some StringProtocol) -> JSONValue? {
        LenientJSON.parse(bytes: Array(text.utf8))
    }

    /// Parses UTF-8 JSON bytes; `nil` when they are not one JSON value.
    package static func parse(bytes: [UInt8]) -> JSONValue? {
        LenientJSON.parse(bytes: bytes)
    }

    /// The value under `key`: an exact match first, else one that differs only in case, `_`, `-` and
    /// spaces (models write `Score`, `score_`, `final-score`).
    package subscript(key: String) -> JSONValue? {
        guard case .object(let pairs) = self else { return nil }
        if let exact = pairs.first(where: { $0.key == key }) { return exact.value }
        return pairs.first(where: { Self.looselyEqual($0.key, key) })?.value
    }

    /// The element at `index` of an array; `nil` out of range or for other values.
    package subscript(index: Int) -> JSONValue? {
        if case .array(let array) = self, array.indices.contains(index) { return array[index] }
        return nil
    }

    /// The first value present under any of `keys`.
    package func first(_ keys: [String]) -> JSONValue? {
        for key in keys {
            if let value = self[key] { return value }
        }
        return nil
    }

    static func normalizedKey(_ key: String) -> String {
        String(key.lowercased().filter { $0 != "_" && $0 != "-" && $0 != " " })
    }

    /// `normalizedKey(a) == normalizedKey(b)`, without building either string when both are ASCII (as
    /// the keys of every provider's replies are). A reply's decoder asks for keys a chunk lacks (`error`,
    /// in every chunk of a stream), and normalizing each key of the chunk for that was 0.8 % of
    /// `refinery`'s CPU at N = 50 (Benchmarks/README.md, real path).
    static func looselyEqual(_ a: String, _ b: String) -> Bool {
        guard a.utf8.allSatisfy({ $0 < 0x80 }), b.utf8.allSatisfy({ $0 < 0x80 }) else {
            return normalizedKey(a) == normalizedKey(b)
        }
        var left = a.utf8.makeIterator()
        var right = b.utf8.makeIterator()
        while true {
            let byte = nextKeyByte(&left)
            guard byte == nextKeyByte(&right) else { return false }
            if byte == nil { return true }
        }
    }

    /// The next ASCII byte of a key as `normalizedKey` keeps it: lowercased, `_`, `-` and spaces skipped.
    private static func nextKeyByte(_ bytes: inout String.UTF8View.Iterator) -> UInt8? {
        while let byte = bytes.next() {
            switch byte {
            case UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: " "): continue
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte | 0x20
            default: return byte
            }
        }
        return nil
    }

    /// The string, when this is one.
    package var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The number as an integer (toward zero), when this is a number an `Int` can hold.
    package var int: Int? {
        // `Int(exactly:)`: a server's `1e300` must not trap the conversion.
        if case .number(let value) = self { return Int(exactly: value.rounded(.towardZero)) }
        return nil
    }

    /// The number, when this is one.
    package var double: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// The flag, when this is one.
    package var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The elements, when this is an array.
    package var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The fields in order, when this is an object.
    package var fields: [(key: String, value: JSONValue)]? {
        if case .object(let pairs) = self { return pairs }
        return nil
    }

    package static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.object(let a), .object(let b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case (.array(let a), .array(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.bool(let a), .bool(let b)): a == b
        case (.null, .null): true
        default: false
        }
    }

    package func hash(into hasher: inout Hasher) {
        switch self {
        case .object(let pairs):
            hasher.combine(0)
            for pair in pairs {
                hasher.combine(pair.key)
                hasher.combine(pair.value)
            }
        case .array(let values): hasher.combine(1); hasher.combine(values)
        case .string(let text): hasher.combine(2); hasher.combine(text)
        case .number(let number): hasher.combine(3); hasher.combine(number)
        case .bool(let flag): hasher.combine(4); hasher.combine(flag)
        case .null: hasher.combine(5)
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByFloatLiteral
{
    package init(stringLiteral value: String) { self = .string(value) }
    package init(integerLiteral value: Int) { self = .number(Double(value)) }
    package init(floatLiteral value: Double) { self = .number(value) }
    package init(booleanLiteral value: Bool) { self = .bool(value) }
    package init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// An object with the fields in the order written (a repeated key keeps its last value).
    package init(dictionaryLiteral elements: (String, JSONValue)...) {
        var pairs: [(key: String, value: JSONValue)] = []
        for (key, value) in elements {
            if let index = pairs.firstIndex(where: { $0.key == key }) {
                pairs[index].value = value
            } else {
                pairs.append((key, value))
            }
        }
        self = .object(pairs)
    }
}
