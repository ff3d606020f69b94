import Testing

@Test func RefineryRuntimeTestsBuilds() { #expect(Bool(true)) }
