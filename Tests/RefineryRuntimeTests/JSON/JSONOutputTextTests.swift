import Testing

@testable import RefineryRuntime

/// `JSONOutput.string(fromUTF8:)` makes a `String` from long ASCII runs and the pieces between them
/// rather than in one piece: it must give what `String(decoding:as:)` gives for any bytes, valid UTF-8
/// or not (the pieces are repaired on their own).
@Suite("JSONOutput text")
struct JSONOutputTextTests {
    /// Pieces whose mixes cover: long and short ASCII runs at the start, middle and end, characters
    /// of two to four bytes, and broken sequences (a lone continuation byte, a truncated character, an
    /// invalid lead byte, an overlong encoding, a surrogate) next to ASCII and next to each other.
    static let pieces: [[UInt8]] = [
        Array(String(repeating: "plain ascii text, ", count: 20).utf8),  // 360 bytes: a long run
        Array("short".utf8), Array("\n\"quoted\"\\".utf8), Array("–".utf8), Array("≥".utf8), Array("é".utf8),
        Array("😀".utf8), Array("日本語".utf8), [0x80], [0xE2, 0x80], [0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80],
        [0xF0, 0x9F, 0x98], Array(String(repeating: "x", count: 255).utf8),
        Array(String(repeating: "y", count: 256).utf8),
    ]

    func check(_ bytes: [UInt8]) {
        let made = bytes.withUnsafeBufferPointer { JSONOutput.string(fromUTF8: $0) }
        let reference = String(decoding: bytes, as: UTF8.self)
        #expect(made == reference)
        #expect(Array(made.utf8) == Array(reference.utf8), "bytes \(bytes.prefix(40))…")
    }

    @Test func everyPairAndTripleOfPiecesReadsAsStringDecoding() {
        check([])
        for a in Self.pieces {
            check(a)
            for b in Self.pieces {
                check(a + b)
                for c in Self.pieces { check(a + b + c) }
            }
        }
    }

    @Test func seededRandomMixesReadAsStringDecoding() {
        var generator = SeededGenerator(seed: 7, salt: "json output text")
        for _ in 0..<2000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int(generator.next() % 12) {
                bytes += Self.pieces[Int(generator.next() % UInt64(Self.pieces.count))]
            }
            check(bytes)
        }
    }

    /// The text of an output (what the request hash stores) is the text written, non-ASCII included.
    @Test func outputTextKeepsWhatWasWritten() {
        var output = JSONOutput(capacity: 16)
        let prompt = String(repeating: "Judge correctness first. ", count: 20) + "- 9–10: correct ≥ 😀 " + "end"
        output.appendString(prompt)
        #expect(output.text == "\"" + prompt + "\"")
    }
}
