import Foundation
import Testing

/// Runs the example programs of `examples/swift/` as built next to the test bundle.
@Suite struct ExampleProgramTests {
    static let buildDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()

    static func built(_ name: String) -> Bool {
        FileManager.default.isExecutableFile(atPath: buildDirectory.appendingPathComponent(name).path)
    }

    private func run(_ name: String) throws -> (output: String, status: Int32) {
        let process = Process()
        process.executableURL = Self.buildDirectory.appendingPathComponent(name)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (String(decoding: data, as: UTF8.self), process.terminationStatus)
    }

    @Test(.enabled(if: built("ExampleCustomProvider"), "ExampleCustomProvider is not built; run `swift build` first"))
    func customProviderExampleRuns() throws {
        let (output, status) = try run("ExampleCustomProvider")
        #expect(status == 0)
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.first == "status: converged")
        #expect(lines.contains("calls: 9"))
        #expect(lines.contains("winner: local/alpha"))
        #expect(lines.contains("answer: alpha says: insertion sort, because nearly sorted input makes it linear."))
    }

    @Test(.enabled(if: built("ExampleRoundByRound"), "ExampleRoundByRound is not built; run `swift build` first"))
    func roundByRoundExampleRuns() throws {
        let (output, status) = try run("ExampleRoundByRound")
        #expect(status == 0)
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.count == 6)
        #expect(lines.first?.hasPrefix("round 1: 9 calls, best mean 6.0") == true)
        #expect(lines.dropFirst().first?.hasPrefix("round 2: 4 calls, best mean 9.0") == true)
        #expect(lines.contains("status: converged"))
        #expect(lines.contains("final round: 2"))
        #expect(lines.contains("dropped: local/three"))
        #expect(lines.last == "answer: one: water boils at 100 °C at sea level (revised).")
    }
}
