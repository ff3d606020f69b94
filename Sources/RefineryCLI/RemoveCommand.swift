// `refinery remove NAME`: deletes a saved config (never a built-in).

import ArgumentParser
import Foundation
import Refinery

struct RemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove a saved configuration.")

    @Argument(help: "The saved config's name.")
    var name: String

    @Option(help: "Folder it was saved to (default: $XDG_CONFIG_HOME/refinery/workflows).")
    var from: String?

    func run() async throws {
        try await withExitCode {
            let file = try RunService.current().savedConfigs(in: from).remove(name)
            Output.line("Removed \(file.path)")
        }
    }
}
