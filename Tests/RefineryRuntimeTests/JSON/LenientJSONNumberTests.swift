import Testing

@testable import RefineryRuntime

/// The reply reader takes integers of up to 15 digits without `Double(String)`: what it reads must be
/// what `Double(String)` reads, sign of zero included, and every other number still goes through it.
@Suite("LenientJSON numbers")
struct LenientJSONNumberTests {
    static let spellings = [
        "0", "-0", "7", "007", "-7", "10", "123456789012345", "-999999999999999", "1234567890123456",
        "99999999999999999999", "1.5", "-0.0", "1e3", "1E-2", "+4", "0.95", "9007199254740993",
    ]

    @Test func numbersReadAsDoubleReadsThem() throws {
        for spelling in Self.spellings {
            let expected = try #require(Double(spelling))
            let read = LenientJSON.parse("{\"score\": \(spelling)}")
            guard case .object(let pairs)? = read, case .number(let number)? = pairs.first?.value else {
                Issue.record("\(spelling) was not read as a number: \(String(describing: read))")
                continue
            }
            #expect(number == expected, "\(spelling)")
            #expect(number.sign == expected.sign, "\(spelling)")
        }
    }

    @Test func notNumbersStayUnread() {
        for spelling in ["-", "--1", "1-", "e", "."] {
            #expect(LenientJSON.parse("[\(spelling)]") == nil, "\(spelling)")
        }
    }

    @Test func literalsAndStringsReadInPlace() {
        let read = LenientJSON.extract(
            from: "Here: {\"ok\": true, \"no\": false, \"none\": null, \"s\": \"a–b\", \"e\": \"x\\ny\"}")
        #expect(
            read
                == .object([
                    ("ok", .bool(true)), ("no", .bool(false)), ("none", .null), ("s", .string("a–b")),
                    ("e", .string("x\ny")),
                ]))
        #expect(LenientJSON.parse("[tru]") == nil)
        #expect(LenientJSON.parse("[nul") == nil)
    }
}
