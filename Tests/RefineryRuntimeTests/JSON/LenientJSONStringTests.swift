import Foundation
import Testing

@testable import RefineryRuntime

/// `LenientJSON` reads strings as Foundation reads the same JSON text: escapes at either end, back to back
/// and between long runs, a JSON reply inside JSON (a stream chunk's text), and `true`/`false`/`null` beside them.
@Suite("LenientJSON strings")
struct LenientJSONStringTests {
    static let texts: [String] = [
        "", "plain", "quote \" and backslash \\", "slash / and </script>", "line\nfeed\r\ttab\u{8}\u{c}",
        "\u{0}\u{1}\u{1f}\u{7f}", "é — ✓ 🤖 \u{2028}\u{2029}", "emoji family 👨‍👩‍👧", "\\u0041 literal",
        "\"leading quote", "trailing backslash\\", "\"\"\\\n", "a\"b\\c\nd\u{1}e",
        #"{"score": 0.8, "reason": "a \"quoted\" word", "list": ["a", "b\\c"]}"#,
        String(repeating: #"{\"k\":\"v\"} "#, count: 300) + "é\"end",
    ]

    @Test(arguments: texts)
    func escapedStringsReadAsFoundationReadsThem(_ text: String) throws {
        for escapingSlashes in [false, true] {
            let encoder = JSONEncoder()
            if !escapingSlashes { encoder.outputFormatting = .withoutEscapingSlashes }
            let json = String(decoding: try encoder.encode([text]), as: UTF8.self)
            let reference = try JSONDecoder().decode([String].self, from: Data(json.utf8))
            #expect(JSONValue.parse(json)?[0]?.string == reference[0], "\(json)")
            #expect(reference[0] == text)
        }
    }

    /// `\u` escapes, surrogate pairs among them, a lone surrogate (read as U+FFFD), and raw control
    /// characters that strict JSON refuses and models write.
    @Test func unicodeEscapesAndRawControlCharacters() {
        let cases: [(json: String, text: String?)] = [
            (#"["\u0041\u00e9\ud83e\udd16x"]"#, "Aé🤖x"),
            (#"["a\ud83e"]"#, "a\u{FFFD}"),
            (#"["\ud83ex"]"#, "\u{FFFD}x"),
            ("[\"raw\ttab\nand line\"]", "raw\ttab\nand line"),
            (#"["\q\/"]"#, "q/"),
            (#"["unterminated"#, nil),
            (#"["ends in an escape\"#, nil),
            (#"["\u00"]"#, nil),
        ]
        for (json, text) in cases {
            #expect(JSONValue.parse(json)?[0]?.string == text, "\(json)")
        }
    }

    /// `true`, `false` and `null` are compared in place: a cut or miscased word is none of them, at the end of
    /// the text too.
    @Test func literals() {
        #expect(JSONValue.parse("[null, true,false ,null]") == [.null, true, false, .null])
        #expect(JSONValue.parse(#"{"a":null}"#) == ["a": .null])
        for broken in ["[nul]", "[tru", "[fals]", "nullx", "[null", "[True]", "n"] {
            #expect(JSONValue.parse(broken) == nil, "\(broken)")
        }
    }
}
