// `refinery list`: every workflow runnable by name, and where it lives.

import ArgumentParser
import Foundation
import Refinery
import RefineryCompiler

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the workflows runnable by name (project, REFINERY_PATH, user, built-in).")

    @Option(help: "text or json.")
    var outputFormat: ListingFormat = .text

    func run() async throws {
        try await withExitCode {
            let entries = RunService.current().listWorkflows()
            if outputFormat == .json {
                Output.line(try Output.json(entries))
                return
            }
            let width = entries.map(\.name.count).max() ?? 0
            Output.line("Run one with `refinery run NAME \"prompt\"`; `refinery show NAME` for details.")
            for entry in entries {
                let name = entry.name.padding(toLength: width, withPad: " ", startingAt: 0)
                var line = "\(name)  \(entry.origin.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0))"
                line += entry.location
                if let shadow = entry.shadowedBy { line += "  (shadowed by \(shadow))" }
                Output.line(line)
                if let description = entry.description, entry.shadowedBy == nil {
                    Output.line(String(repeating: " ", count: width + 2) + Self.firstSentence(description))
                }
            }
        }
    }

    /// The description up to its first full stop, so the list stays one screen.
    static func firstSentence(_ text: String) -> String {
        guard let stop = text.range(of: ". ") ?? text.range(of: ": ") else { return text }
        return String(text[..<stop.lowerBound]) + "."
    }
}
