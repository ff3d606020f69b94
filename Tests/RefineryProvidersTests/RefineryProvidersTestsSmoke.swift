import Testing

@Test func RefineryProvidersTestsBuilds() { #expect(Bool(true)) }
