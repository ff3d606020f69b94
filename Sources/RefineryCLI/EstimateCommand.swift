// `refinery estimate NAME|PATH [PROMPT] [flags]`: calls, tokens and dollars without any call.

import ArgumentParser
import Foundation
import Refinery
import RefineryCompiler

struct EstimateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "estimate", abstract: "Estimate calls, tokens and cost for min and max rounds (no network).")

    @Argument(help: "The workflow: a name, NAME@REV or a path.")
    var workflow: String = RunCommand.defaultWorkflow

    @Argument(help: "The prompt, to size the input tokens (optional).")
    var prompt: String?

    @OptionGroup var workflowOptions: WorkflowOptions
    @OptionGroup var inputOptions: InputOptions

    @Option(help: "text or json.")
    var outputFormat: ListingFormat = .text

    func run() async throws {
        try await withExitCode {
            let service = RunService.commandLine()
            var text: String?
            if prompt != nil || !inputOptions.file.isEmpty {
                text = try InputAssembler().assemble(
                    prompt: prompt.map(RawArguments.bytes(of:)), filePaths: inputOptions.file,
                    workingDirectory: service.workingDirectory)
            }
            let estimate = try await service.estimate(workflow, overrides: workflowOptions.overrides, prompt: text)
            try Self.print(estimate, format: outputFormat == .json ? .json : .text)
        }
    }

    static func print(_ estimate: WorkflowEstimate, format: OutputFormat) throws {
        switch format {
        case .json: Output.line(try Output.json(estimate))
        // `run --dry-run --output-format jsonl`: one line, as every jsonl output.
        case .jsonl: Output.line(try Output.jsonLine(estimate))
        case .text: Output.line(estimate.text)
        case .markdown: Output.line(estimate.markdown)
        }
    }
}
