// `refinery run` on a real terminal (a pseudo-terminal made by util-linux `script`, so the binary's own `isatty`
// check decides, as it does for a user): the progress line drawn in place on stderr.

import Foundation
import Testing

extension CLIEndToEnd {
    @Suite struct RunProgressTerminalTests {
        /// A new round is drawn with no stage of its own until its first stage starts: the line read
        /// "evaluate · round 2 · calls 4/8" (round 1's last stage beside round 2) before "propose · round 2".
        /// A round's start is a milestone, so the state is drawn whatever the throttle.
        @Test func aNewRoundIsNotDrawnWithTheLastRoundsStage() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path) { _ in FakeOpenAI.completion(CLIHarness.universalReply()) }
                var environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                environment["NO_COLOR"] = "1"
                let terminal = try await CLIHarness.onTerminal(
                    binary, ["What is 2+2?", "--models", "openai/gpt-4o:2", "--max-rounds", "2"],
                    environment: environment, directory: sandbox.root)
                #expect(terminal.exitCode == 0, "\(terminal.stdout)")
                let states = terminal.stdout.components(separatedBy: "\r\u{1B}[2K").dropFirst().map {
                    String($0.prefix { $0 != "\r" && $0 != "\n" })
                }
                let secondRound = states.filter { $0.contains(" · round 2 · ") }
                #expect(secondRound.first?.hasPrefix("starting · round 2 · calls 4/8") == true, "\(states)")
                #expect(!secondRound.contains { $0.hasPrefix("evaluate · round 2 · calls 4/") }, "\(states)")
            }
        }
    }
}
