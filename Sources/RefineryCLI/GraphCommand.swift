// `refinery graph NAME|PATH --format mermaid|dot`.

import ArgumentParser
import Refinery

enum GraphFormatOption: String, ExpressibleByArgument, CaseIterable {
    case mermaid, dot

    var format: GraphFormat { self == .dot ? .dot : .mermaid }
}

struct GraphCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph", abstract: "Draw a workflow's execution graph (Mermaid or Graphviz DOT).")

    @Argument(help: "The workflow: a name, NAME@REV or a path.")
    var workflow: String

    @Option(help: "mermaid or dot.")
    var format: GraphFormatOption = .mermaid

    @OptionGroup var workflowOptions: WorkflowOptions

    func run() async throws {
        try await withExitCode {
            let text = try await RunService.commandLine().graph(
                workflow, overrides: workflowOptions.overrides, format: format.format)
            Output.line(text)
        }
    }
}
