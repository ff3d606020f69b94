// `refinery batch` on a real terminal: the progress line (items done/total, cost, ETA) is drawn in
// place on stderr while items finish, and the result lines still go to `--output`, not the screen.
// The terminal is a pseudo-terminal made by util-linux `script`, so the binary's own `isatty` check
// decides, as it does for a user.

import Foundation
import Testing

extension CLIEndToEnd {
    @Suite struct BatchProgressTerminalTests {
        private static let workflow = """
            refinery: 1
            name: w
            models: [openai/gpt-4o]
            stages: [propose]

            """

        /// What a four-item batch drew on a terminal set up by `terminalSetup` (a shell command run first),
        /// its exit code, and the sandbox it ran in (cleaned up after `body`).
        private func batchOnTerminal(
            terminalSetup: String = "", _ body: @Sendable (String, Int32, Sandbox) throws -> Void
        ) async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write("w.yaml", Data(Self.workflow.utf8))
            let rows = (1...4).map { #"{"id":"q\#($0)","question":"Q\#($0)?"}"# }.joined(separator: "\n")
            try sandbox.write("in.jsonl", Data((rows + "\n").utf8))
            try await FakeServer.run { server in
                // Items a little over the redraw interval (100 ms) apart, so each one is drawn.
                server.route(FakeOpenAI.path) { _ in .delayed(.milliseconds(150), FakeOpenAI.completion("Four.")) }
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let terminal = try await CLIHarness.onTerminal(
                    binary,
                    [
                        "batch", "w.yaml", "--input", "in.jsonl", "--output", "out.jsonl", "--store", "runs.db",
                        "--concurrency", "1",
                    ], setup: terminalSetup, environment: environment, directory: sandbox.root)
                try body(terminal.stdout, terminal.exitCode, sandbox)
            }
        }

        /// On a terminal narrower than the progress line, the line is cut to the width (ending in `…`), so it is
        /// rewritten in place: at full length it wrapped, and every redraw added a line.
        @Test func theProgressLineIsCutToTheTerminalsWidth() async throws {
            try await batchOnTerminal(terminalSetup: "stty cols 20; ") { screen, exitCode, _ in
                #expect(exitCode == 0, "\(screen)")
                let states = screen.components(separatedBy: "\r\u{1B}[2K").dropFirst().map {
                    $0.prefix { $0 != "\r" && $0 != "\n" }
                }.filter { $0.hasPrefix("items ") }
                #expect(states.contains { $0.hasSuffix("…") }, "\(screen.debugDescription)")
                let tooWide = states.filter { $0.count > 19 }
                #expect(tooWide.isEmpty, "\(tooWide)")
            }
        }

        @Test func theProgressLineCountsItemsCostAndETAOnATerminal() async throws {
            try await batchOnTerminal { screen, exitCode, sandbox in
                #expect(exitCode == 0, "\(screen)")
                // Drawn in place: carriage return and erase-line before each state.
                #expect(screen.contains("\r\u{1B}[2Kitems 1/4 · $"), "\(screen.debugDescription)")
                #expect(screen.contains("\r\u{1B}[2Kitems 4/4 · $"), "\(screen.debugDescription)")
                #expect(screen.contains(" · ETA "), "\(screen.debugDescription)")
                // The last state has no ETA, and the line is cleared before the summary.
                let lastStates = screen.components(separatedBy: "\r").filter { $0.contains("items 4/4") }
                #expect(!lastStates.isEmpty && lastStates.allSatisfy { !$0.contains("ETA") }, "\(lastStates)")
                #expect(screen.contains("finished · 4/4 items"), "\(screen.debugDescription)")
                // Results went to the file only.
                #expect(!screen.contains("\"item_id\""), "\(screen.debugDescription)")
                let results = try String(
                    contentsOf: sandbox.root.appendingPathComponent("out.jsonl"), encoding: .utf8)
                #expect(results.split(separator: "\n").count == 4)
            }
        }
    }
}
