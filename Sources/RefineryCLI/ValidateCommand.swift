// `refinery validate FILE...`: exit 0 when every file compiles cleanly, 4 otherwise, with each
// diagnostic rendered against its source line.

import ArgumentParser
import Foundation
import Refinery
import RefinerySyntax

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Check workflow files; print located diagnostics.")

    @Argument(help: "Workflow files (or names).")
    var files: [String]

    @OptionGroup var variableOptions: VariableOptions

    func validate() throws {
        if files.isEmpty { throw ValidationError("Give at least one workflow file.") }
    }

    func run() async throws {
        try await withExitCode {
            let service = RunService.current()
            let colored = ProgressLine(quiet: false, environment: service.environment).color
            var failed = false
            for file in files {
                let checked: [(path: String, diagnostics: [Diagnostic], sources: [String: String])]
                do {
                    checked = try await service.validate([file], variables: variableOptions.variableMap)
                } catch let error as InputError {
                    failed = true
                    CLIError.printError(error.message)
                    Output.line("\(file): not checked")
                    continue
                }
                for (path, diagnostics, sources) in checked {
                    let errors = diagnostics.filter { $0.severity == .error }.count
                    if !diagnostics.isEmpty {
                        let rendered = WorkflowDiagnosticsError(diagnostics: diagnostics, sources: sources)
                            .rendered(colored: colored)
                        Output.diagnostics(rendered)
                    }
                    if errors > 0 {
                        failed = true
                        Output.line("\(path): \(Counted.text(errors, "error"))")
                    } else {
                        Output.line(
                            "\(path): ok"
                                + (diagnostics.isEmpty ? "" : " (\(Counted.text(diagnostics.count, "warning")))"))
                    }
                }
            }
            if failed { throw ExitCode(RunExitCode.configurationError.rawValue) }
        }
    }
}
