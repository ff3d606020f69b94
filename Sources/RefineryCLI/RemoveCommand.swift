// `refinery remove NAME`: deletes a saved config (never a built-in, nor one others extend without `--force`).

import ArgumentParser
import Foundation
import Refinery
import RefineryCompiler

struct RemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove a saved configuration.")

    @Argument(help: "The saved config's name.")
    var name: String

    @Option(help: "Folder it was saved to (default: $XDG_CONFIG_HOME/refinery/workflows).")
    var from: String?

    @Flag(help: "Remove it even when other workflows `extends:` it (they stop compiling).")
    var force = false

    func run() async throws {
        try await withExitCode {
            let service = RunService.current()
            let configs = service.savedConfigs(in: from)
            if !FileManager.default.fileExists(atPath: configs.url(for: name).path),
                (try? service.library().locate(name))?.origin == .builtin
            {
                throw InputError(
                    code: .invalidName,
                    message: "\(name) is a built-in workflow; built-ins cannot be removed. A saved config of the "
                        + "same name would shadow it.")
            }
            let file = try service.removeSavedConfig(name, from: from, force: force)
            Output.line("Removed \(file.path)")
        }
    }
}
