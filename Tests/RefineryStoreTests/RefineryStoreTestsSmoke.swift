import Testing

@Test func RefineryStoreTestsBuilds() { #expect(Bool(true)) }
