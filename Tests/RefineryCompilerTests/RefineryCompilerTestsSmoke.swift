import Testing

@Test func RefineryCompilerTestsBuilds() { #expect(Bool(true)) }
