import Foundation
import Testing

@testable import RefineryRuntime

/// `JSONValue.jsonText` replaced Foundation's `JSONEncoder` for request bodies and must write the very
/// same bytes (request hashes and tests pin them): each value here goes through both.
@Suite("JSONValue text")
struct JSONValueTextTests {
    /// The encoding the providers' JSONValue had: whole numbers below 10¹⁵ as integers, others as
    /// doubles, objects as dictionaries, through `JSONEncoder` with sorted keys and unescaped slashes.
    private struct Reference: Encodable {
        let value: JSONValue

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch value {
            case .null: try container.encodeNil()
            case .bool(let flag): try container.encode(flag)
            case .number(let number):
                if number.rounded() == number, abs(number) < 1e15 {
                    try container.encode(Int64(number))
                } else {
                    try container.encode(number)
                }
            case .string(let text): try container.encode(text)
            case .array(let elements): try container.encode(elements.map(Reference.init))
            case .object(let pairs):
                try container.encode(
                    Dictionary(pairs.map { ($0.key, Reference(value: $0.value)) }, uniquingKeysWith: { _, new in new }))
            }
        }

        var text: String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            guard let data = try? encoder.encode(self) else { return "null" }
            return String(decoding: data, as: UTF8.self)
        }
    }

    static let strings: [String] = [
        "", "plain", "quote \" and backslash \\", "slash / and </script>", "line\nfeed\r\ttab",
        "\u{8}\u{c}\u{0}\u{1}\u{1f}\u{7f}", "é — ✓ 🤖 \u{2028}\u{2029}", "emoji family 👨‍👩‍👧", "\\u0041 literal",
        // Escapes at either end and back to back, around the runs of plain bytes written at once.
        "\"leading quote", "trailing backslash\\", "\n", "\"\"\\\n", "a\"b\\c\nd\u{1}e",
        String(repeating: "A prompt's plain text, line after line.\n", count: 200) + "é\"end",
    ]

    static let numbers: [Double] = [
        0, -0.0, 1, -1, 42, 0.7, 0.1, -2.5, 1e-7, 123_456.789, 999_999_999_999_999, 1e15, 1e16, -1e15,
        4096, 32768, 1.0 / 3.0, 9.3e18, 1e300, .leastNonzeroMagnitude, .pi,
    ]

    static let keys: [String] = [
        "model", "messages", "max_tokens", "maxTokens", "max-tokens", "Max", "max", "_private", "a1", "a10", "a2", "Z",
        "z", "é", "e", "stream", "stream_options", "top_p", "topP", "",
    ]

    @Test(arguments: strings)
    func stringsMatchJSONEncoder(text: String) {
        let value = JSONValue.string(text)
        #expect(value.jsonText == Reference(value: value).text)
    }

    /// The writer looks for bytes to escape eight at a time: every ASCII byte, and a few multi-byte
    /// characters, at every place of two such words and the tail after them, next to plain text, to
    /// other bytes to escape and to bytes above 0x7F (which the word tests must not mistake).
    @Test func everyByteAtEveryPlaceOfAWordMatchesJSONEncoder() {
        let specials = (0..<0x80).map { String(UnicodeScalar(UInt8($0))) } + ["é", "✓", "🤖", "\u{7F}\u{80}", "ÿ"]
        let neighbours = [
            "abcdefghijklmnopqrst", String(repeating: "\"", count: 20), String(repeating: "é", count: 11),
            "\u{1}\\\u{1F} !#[]~\u{7F}é\"\\\n\t~ ",
        ]
        var mismatches: [String] = []
        for special in specials {
            for neighbour in neighbours {
                let plain = Array(neighbour)
                for place in 0...plain.count {
                    let text = String(plain[..<place]) + special + String(plain[place...])
                    let value = JSONValue.string(text)
                    if value.jsonText != Reference(value: value).text { mismatches.append(text) }
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) strings differ, e.g. \(mismatches.prefix(3))")
    }

    @Test(arguments: numbers)
    func numbersMatchJSONEncoder(number: Double) {
        let value = JSONValue.number(number)
        #expect(value.jsonText == Reference(value: value).text)
    }

    @Test func keysAreSortedAsJSONEncoderSortsThem() {
        // In reverse and in a shuffled order, so the writer must sort.
        for order in [Self.keys, Self.keys.reversed(), Self.keys.shuffled()] {
            let value = JSONValue.object(order.enumerated().map { (key: $0.element, value: .number(Double($0.offset))) })
            #expect(value.jsonText == Reference(value: value).text)
        }
    }

    @Test func aWholeRequestBodyMatchesJSONEncoder() throws {
        let schema = try #require(LenientJSON.parse(JSONSchemas.evaluation.schemaJSON))
        let body = JSONValue([
            "model": "gpt-4o", "max_tokens": 4096, "temperature": 0.7, "top_p": 0.9, "seed": 3, "stream": true,
            "stream_options": ["include_usage": true], "stop": ["END", "\n\n"],
            "messages": [["role": "system", "content": "Be brief. \"Quote\" / slash"], ["role": "user", "content": "2+2?"]],
            "response_format": ["type": "json_schema", "json_schema": ["name": "evaluation", "schema": schema, "strict": true]],
            "nothing": .null, "flags": [true, false, .null, 1.5, -3],
        ])
        #expect(body.jsonText == Reference(value: body).text)
    }

    @Test func nonFiniteNumbersWriteNullAsJSONEncoderFailed() {
        for number in [Double.nan, .infinity, -.infinity] {
            let value: JSONValue = ["a": .number(number)]
            #expect(value.jsonText == "null")
            #expect(Reference(value: value).text == "null")
        }
    }

    @Test func textReadBackIsTheSameValue() throws {
        let value: JSONValue = ["b": [1, 2.5, "x\n\"y\""], "a": ["nested": .null, "flag": false]]
        let read = try #require(JSONValue.parse(value.jsonText))
        // Read back in sorted key order: the same value once the source is sorted the same way.
        #expect(read.jsonText == value.jsonText)
        #expect(read["b"]?[2]?.string == "x\n\"y\"")
    }
}
