// `refinery run NAME|PATH [PROMPT|-] [-f FILE]... [flags]`, also the default command:
// `refinery "prompt" --models a,b,c` runs the built-in `consensus`.

import ArgumentParser
import Foundation
import Refinery
import RefineryCommandSupport
import RefineryCompiler
import RefineryRuntime

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a workflow (default: the built-in consensus) on a prompt.",
        discussion: """
            refinery "prompt" --models claude,codex,gemini     (built-in consensus)
            refinery run review-loop "prompt"                  (a workflow by name)
            refinery run ./team.yaml - -f src/main.rs < q.txt  (stdin and a file)
            """)

    /// The bare form's workflow (``WorkflowLibrary/defaultWorkflow``).
    static let defaultWorkflow = WorkflowLibrary.defaultWorkflow

    @Argument(help: "[NAME|PATH] [PROMPT|-]: the workflow (default consensus) and the prompt (`-` reads stdin).")
    var arguments: [String] = []

    @OptionGroup var workflowOptions: WorkflowOptions
    @OptionGroup var inputOptions: InputOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var storeOptions: StoreOptions

    @Flag(help: "Print the cost estimate and exit without calling any model.")
    var dryRun = false

    @Option(help: "Seed for label shuffles (recorded with the run).", transform: Seed.parse)
    var seed: UInt64?

    func validate() throws {
        guard arguments.count <= 2 else {
            throw ValidationError("Too many arguments: give a workflow and one prompt (quote it).")
        }
        if arguments.filter({ $0 == "-" }).count > 1 { throw ValidationError("Only one `-` (stdin) is allowed.") }
        // Nothing at all to ask (a bare `refinery`): a missing argument, shown with the usage as ArgumentParser
        // shows one (it was "Nothing to ask" alone, after the set-up).
        if arguments.isEmpty, inputOptions.file.isEmpty, !dryRun {
            throw ValidationError(
                "Nothing to ask: give a prompt (`refinery \"PROMPT\" --models a,b,c`), `-` to read it from stdin, "
                    + "or --file.")
        }
        try outputOptions.check(
            keeping: KeptFile.existing(inputOptions.file + arguments, role: "a file this run reads")
                + KeptFile.store(storeOptions.runService()))
    }

    func run() async throws {
        try await withExitCode {
            let service = storeOptions.runService()
            let (target, promptArgument) = resolveArguments(library: service.library())
            if dryRun {
                let prompt = try assemblePrompt(promptArgument, service: service, required: false)
                let estimate = try await service.estimate(target, overrides: workflowOptions.overrides, prompt: prompt)
                try EstimateCommand.print(estimate, format: outputOptions.outputFormat)
                return
            }
            let prompt = try assemblePrompt(promptArgument, service: service, required: true) ?? ""
            let request = RunRequest(
                target: target, prompt: prompt, overrides: workflowOptions.overrides, seed: seed,
                debug: outputOptions.debug)
            let result = try await RunPresenter(options: outputOptions, environment: service.environment).present {
                events in try await service.run(request, events: events)
            }
            throw ExitCode(result.exitCode.rawValue)
        }
    }

    /// Splits the positional arguments into the workflow and the prompt. One argument is the
    /// workflow when it is a path or a name the library knows, else the prompt for `consensus`.
    func resolveArguments(library: WorkflowLibrary) -> (target: String, prompt: String?) {
        switch arguments.count {
        case 2: return (arguments[0], arguments[1])
        case 1:
            let argument = arguments[0]
            if argument == "-" { return (Self.defaultWorkflow, argument) }
            let name = (try? WorkflowLibrary.splitRevision(argument).name) ?? argument
            if WorkflowLibrary.isPath(argument)
                || (WorkflowLibrary.isValidName(name) && (try? library.locate(name)) != nil)
            {
                return (argument, nil)
            }
            return (Self.defaultWorkflow, argument)
        default: return (Self.defaultWorkflow, nil)
        }
    }

    func assemblePrompt(_ argument: String?, service: RunService, required: Bool) throws -> String? {
        if !required && argument == nil && inputOptions.file.isEmpty { return nil }
        var data: Data?
        if argument == "-" {
            data = try FileHandle.standardInput.read(upToCount: InputAssembler.defaultByteLimit + 1) ?? Data()
        } else if let argument {
            data = RawArguments.bytes(of: argument)
        }
        return try InputAssembler().assemble(
            prompt: data, filePaths: inputOptions.file, workingDirectory: service.workingDirectory)
    }
}
