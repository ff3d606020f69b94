// The `command` provider: runs a local CLI agent with the prompt on standard input and takes
// its standard output as the reply. The agent runs in its own process group so that a timeout
// or a cancelled run kills it together with everything it spawned.

import Foundation
package import Logging
import RefineryCompiler
package import RefineryRuntime
import Subprocess

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
#if canImport(System)
    import System
#else
    import SystemPackage
#endif

/// Runs `command/NAME` models as subprocesses.
package struct CommandProvider: ModelProvider {
    package let agents: [String: CommandAgent]
    /// The environment the whitelisted variables are taken from.
    package let environment: [String: String]
    package let logger: Logger
    package let redactor: Redactor
    package let provider = "command"

    /// Largest reply read from an agent.
    private static let maxOutputBytes = 16 * 1024 * 1024

    /// SIGPIPE ignored, once, before the first agent starts: writing the prompt to an agent that exited or
    /// closed its standard input without reading it all (a long prompt fills the pipe) must fail that
    /// write, not end this process on the spot (exit 141, its run left `running` in the ledger), which is
    /// SIGPIPE's default action. A process that runs agents has no use for that action: a write to a
    /// closed pipe or socket fails with `EPIPE` instead, which every writer here handles.
    private static let brokenPipesIgnored: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    package init(agents: [String: CommandAgent], environment: [String: String], logger: Logger, redactor: Redactor) {
        self.agents = agents
        self.environment = environment
        self.logger = logger
        self.redactor = redactor
    }

    /// Why `model` (the agent's name) cannot run: not declared, or its program is not on `PATH`; `nil` when it
    /// can. The run's check before any call (``ProviderRegistry/checkCredentials(for:)``) and each call ask it.
    package func unavailable(_ model: String) -> CredentialProblem? {
        if case .missing(let problem) = locate(model) { return problem }
        return nil
    }

    package func complete(_ request: ModelRequest) async throws -> ModelReply {
        let (agent, argv, executable): (CommandAgent, [String], String)
        switch locate(request.model.model) {
        case .found(let found, let arguments, let path):
            (agent, argv, executable) = (found, arguments, path)
        case .missing(let problem):
            let code: ProviderError.Code = if case .agent = problem.missing { .unknownModel } else { .unsupported }
            throw ProviderError(code: code, message: problem.description, provider: provider)
        }
        let program = argv.first ?? executable
        let prompt = Self.prompt(for: request)
        let env = childEnvironment(agent)
        _ = Self.brokenPipesIgnored
        logger.debug(
            "command request",
            metadata: ["argv": "\(redactor.redact(argv.joined(separator: " ")))", "env": "\(env.keys.sorted())"])
        // The call's watch bounds the agent (the engine's, or one of its own outside the engine): when
        // the deadline passes the task is cancelled, which kills the agent's process group.
        let timeout = HTTPProviderSupport.timeout(request)
        let output = try await CallWatch.bounding(
            timeout: .milliseconds(HTTPProviderSupport.milliseconds(timeout)),
            expired: ProviderError(
                code: .timeout,
                message:
                    "the command agent did not finish within \(ErrorClassifier.formatTimeout(timeout)); it was killed",
                provider: provider)
        ) { [self] in
            try await run(executable: executable, arguments: Array(argv.dropFirst()), environment: env, prompt: prompt)
        }
        logger.debug(
            "command reply",
            metadata: [
                "status": "\(output.status)", "stdout": "\(String(redactor.redact(output.stdout).prefix(4096)))",
            ])
        let tail = String(redactor.redact(output.stderr).suffix(500)).trimmingCharacters(in: .whitespacesAndNewlines)
        guard output.status == 0 else {
            throw ProviderError(
                code: .server,
                message: "`\(program)` exited with status \(output.status)\(tail.isEmpty ? "" : ": \(tail)")",
                provider: provider)
        }
        let text = output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else {
            // Not a model's empty reply (no max_tokens was hit): the command printed nothing. Its stderr says why.
            throw ProviderError(
                code: .emptyResponse,
                message: "`\(program)` exited with status 0 but printed nothing on stdout"
                    + (tail.isEmpty ? " and nothing on stderr" : "; its stderr ends: \(tail)")
                    + "; check the agent's argv in providers.yaml (it must print its answer on stdout)",
                provider: provider)
        }
        let parts = ModelReplyParts(text: text, model: agent.name, finishReason: "exit")
        return try HTTPProviderSupport.reply(from: parts, request: request, provider: provider, redactor: redactor)
    }

    /// The whole conversation as one text: the system prompt, then each turn (labelled when
    /// there are several).
    package static func prompt(for request: ModelRequest) -> String {
        var sections: [String] = []
        if let system = request.system, !system.isEmpty { sections.append(system) }
        if request.messages.count == 1, let only = request.messages.first {
            sections.append(only.content)
        } else {
            sections += request.messages.map { "\($0.role == .user ? "User" : "Assistant"): \($0.content)" }
        }
        return sections.joined(separator: "\n\n") + "\n"
    }

    /// `PATH`, `HOME`, `LANG`, `TERM` and the agent's own variables, when set.
    package func childEnvironment(_ agent: CommandAgent) -> [String: String] {
        var result: [String: String] = [:]
        for name in CommandAgent.baseEnvironment + agent.environment {
            if let value = environment[name] { result[name] = value }
        }
        return result
    }

    /// An agent's argv (`{model}` replaced) and the executable it runs, or why it cannot run.
    private enum Located {
        case found(CommandAgent, argv: [String], executable: String)
        case missing(CredentialProblem)
    }

    private func locate(_ model: String) -> Located {
        guard let agent = agents[model] else {
            return .missing(
                CredentialProblem(
                    provider: provider, models: [model], variables: [], missing: .agent(known: agents.keys.sorted())))
        }
        let argv = agent.argv.map { $0.replacingAll("{model}", with: model) }
        let program = argv.first ?? ""
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let executable =
            program.contains("/")
            ? (FileManager.default.isExecutableFile(atPath: program) ? program : nil)
            : path.split(separator: ":").map { "\($0)/\(program)" }.first {
                FileManager.default.isExecutableFile(atPath: $0)
            }
        guard !program.isEmpty, let executable else {
            return .missing(
                CredentialProblem(
                    provider: provider, models: [model], variables: [], missing: .program(program, path: path)))
        }
        return .found(agent, argv: argv, executable: executable)
    }

    private struct Output: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the agent in a new process group; on cancellation (its deadline passed, or the run was
    /// stopped) sends SIGKILL to the whole group (the agent and anything it spawned).
    private func run(
        executable: String, arguments: [String], environment: [String: String], prompt: String
    ) async throws -> Output {
        var options = PlatformOptions()
        options.processGroupID = 0  // a new group whose id is the agent's pid
        let env = Environment.custom(
            Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(stringLiteral: $0.key), $0.value) }))
        let provider = provider
        do {
            let result = try await Subprocess.run(
                .path(FilePath(executable)), arguments: Arguments(arguments), environment: env,
                platformOptions: options, input: .inputWriter, output: .sequence, error: .sequence
            ) { execution -> AgentEnd in
                let group = execution.processIdentifier.value
                return try await withTaskCancellationHandler {
                    try await withThrowingTaskGroup(of: Stream.self) { tasks in
                        // The prompt is written here rather than with `input: .string`: an agent that
                        // exits without reading stdin must not turn into an unclosed-descriptor trap.
                        tasks.addTask {
                            _ = try? await execution.standardInputWriter.write(prompt)
                            try? await execution.standardInputWriter.finish()
                            return .inputDone
                        }
                        tasks.addTask {
                            try await Self.collect(execution.standardOutput).map(Stream.stdout)
                                ?? .tooLarge("standard output")
                        }
                        tasks.addTask {
                            try await Self.collect(execution.standardError).map(Stream.stderr)
                                ?? .tooLarge("standard error")
                        }
                        var stdout: String?
                        var stderr: String?
                        while stdout == nil || stderr == nil {
                            guard let next = try await tasks.next() else { break }
                            switch next {
                            case .stdout(let text): stdout = text
                            case .stderr(let text): stderr = text
                            case .inputDone: break
                            case .tooLarge(let stream):
                                _ = kill(-group, SIGKILL)
                                tasks.cancelAll()
                                return .tooLarge(stream)
                            }
                        }
                        tasks.cancelAll()
                        return .finished(stdout: stdout ?? "", stderr: stderr ?? "")
                    }
                } onCancel: {
                    _ = kill(-group, SIGKILL)
                }
            }
            if Task.isCancelled {
                throw ProviderError(
                    code: .cancelled, message: "the command agent was cancelled and killed", provider: provider)
            }
            let stdout: String
            let stderr: String
            switch result.closureResult {
            case .finished(let out, let err):
                (stdout, stderr) = (out, err)
            case .tooLarge(let stream):
                throw ProviderError(
                    code: .invalidResponse,
                    message:
                        "the command agent wrote more than \(Self.maxOutputBytes / (1024 * 1024)) MiB to its \(stream); "
                        + "it was killed",
                    provider: provider)
            }
            let status: Int32 =
                switch result.terminationStatus {
                case .exited(let code): code
                case .signaled(let signal): 128 + signal
                }
            return Output(status: status, stdout: stdout, stderr: stderr)
        } catch let error as ProviderError {
            throw error
        } catch {
            if Task.isCancelled || error is CancellationError {
                throw ProviderError(
                    code: .cancelled, message: "the command agent was cancelled and killed", provider: provider)
            }
            throw ProviderError(
                code: .unsupported,
                message: "could not run `\(executable)`: \(redactor.redact(String(describing: error)))",
                provider: provider)
        }
    }

    private enum Stream: Sendable {
        case stdout(String)
        case stderr(String)
        case inputDone
        /// A stream passed ``maxOutputBytes``.
        case tooLarge(String)
    }

    /// How the agent's run ended, as the body of `Subprocess.run` saw it.
    private enum AgentEnd: Sendable {
        case finished(stdout: String, stderr: String)
        /// Killed: the named stream passed ``maxOutputBytes``.
        case tooLarge(String)
    }

    /// The whole stream as text; `nil` once it passes ``maxOutputBytes`` (the caller kills the agent).
    private static func collect(_ sequence: SubprocessOutputSequence) async throws -> String? {
        var bytes: [UInt8] = []
        for try await buffer in sequence {
            buffer.withUnsafeBytes { bytes.append(contentsOf: $0) }
            if bytes.count > maxOutputBytes { return nil }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
