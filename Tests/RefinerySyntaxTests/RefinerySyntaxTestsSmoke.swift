import Testing

@Test func RefinerySyntaxTestsBuilds() { #expect(Bool(true)) }
