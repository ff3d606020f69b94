import Testing

@Test func RefineryCLITestsBuilds() { #expect(Bool(true)) }
