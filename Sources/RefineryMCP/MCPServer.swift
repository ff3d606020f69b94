// `refinery mcp`: Refinery as a Model Context Protocol server, so a coding agent can call a council of
// models as a tool. Every tool goes through RunService, the CLI's own entry points: the same name
// resolution, ledger and credential redaction. Only the protocol and the safety limits live here.

import Dispatch
import Foundation
import MCP
public import Refinery
import RefineryCompiler
import RefineryRuntime
import RefineryStore
import RefinerySyntax

/// The MCP server over a ``RunService``.
public struct RefineryMCPServer: Sendable {
    /// The service every tool calls.
    public var service: RunService
    /// The spend caps and path rules.
    public var safety: MCPSafety
    let account: SpendAccount
    let inFlight = InFlightCalls()

    /// Creates a server; nothing runs until ``serveStdio()`` or ``serveHTTP(_:)``.
    public init(service: RunService, safety: MCPSafety = MCPSafety()) {
        self.init(service: service, safety: safety, account: SpendAccount(cap: safety.maxBudgetPerProcess))
    }

    /// A server drawing on `account`: each HTTP session is one, all sharing the process's spend cap.
    init(service: RunService, safety: MCPSafety, account: SpendAccount) {
        self.service = service
        self.safety = safety
        self.account = account
    }

    /// The protocol's server with every tool and resource of this one; `start(transport:)` serves it.
    func makeServer() async -> Server {
        let server = Server(
            name: "refinery", version: "0.1.0",
            instructions: """
                Refinery runs multi-model workflows: several LLMs answer, review each other anonymously and \
                refine until they agree. Call `estimate` before an expensive `run_workflow`; every run is \
                recorded (list_runs, get_run) and a stopped one can be finished with resume_run.
                """,
            capabilities: .init(
                resources: .init(subscribe: false, listChanged: false), tools: .init(listChanged: false)))
        await register(on: server)
        return server
    }

    /// Cancels every tool call of this server in progress and returns once their runs are recorded.
    func cancelCalls() async { await inFlight.cancelAll() }

    /// Whether none of this server's tool calls is in progress.
    var isIdle: Bool { inFlight.isIdle }

    /// Serves MCP on stdin/stdout until the client closes stdin.
    public func serveStdio() async throws {
        let server = await makeServer()
        // SIGTERM, SIGINT and SIGHUP (an agent stopping its servers) end the server as a closed stdin does:
        // the runs in flight are cancelled and recorded so before the process exits, where the default action
        // killed it with them marked `running`. A second signal exits at once.
        let signals = await StopSignals.listen { _ in Task { await server.stop() } }
        defer { for source in signals { source.cancel() } }
        try await server.start(transport: LineTransport())
        await server.waitUntilCompleted()
        // stdin closed or a signal: a run still going is cancelled and recorded so before the process exits.
        await inFlight.cancelAll()
    }

    func register(on server: Server) async {
        await server.withMethodHandler(ListTools.self) { _ in .init(tools: MCPTools.all) }
        await server.withMethodHandler(CallTool.self) { params in
            // An unknown tool is a protocol error (-32602), as the MCP spec's tools section says; a
            // known tool's failure is its error result.
            guard MCPTools.named(params.name) != nil else {
                throw MCPError.invalidParams("Unknown tool: \(params.name); tools/list shows the tools.")
            }
            let result = await inFlight.run { await call(params, server: server) }
            // A cancelled request gets no response (the SDK drops it on CancellationError); its run is
            // already recorded `cancelled` by then.
            try Task.checkCancellation()
            return result
        }
        await server.withMethodHandler(ListResources.self) { _ in try await listResources() }
        // Part of the resources capability: a client asks for them at start-up (it got "Method not
        // found"), and they name every run, where resources/list shows the latest 20.
        await server.withMethodHandler(ListResourceTemplates.self) { _ in .init(templates: Self.resourceTemplates) }
        await server.withMethodHandler(ReadResource.self) { params in
            // A refused or unknown resource is the client's mistake, said in words: any other error
            // reached the client as "Internal error: The operation could not be completed".
            do {
                return try await readResource(params.uri)
            } catch let error as MCPError {
                throw error
            } catch {
                throw MCPError.invalidParams(Self.message(for: error))
            }
        }
    }

    /// One tool call. A refusal or a failure is the tool's error result (text the calling model
    /// reads), not a protocol error.
    func call(_ params: CallTool.Parameters, server: Server) async -> CallTool.Result {
        let arguments = MCPArguments(params.arguments ?? [:])
        do {
            try MCPTools.check(arguments, for: params.name)
            let value: Value
            switch params.name {
            case "run_workflow":
                value = try await runWorkflow(arguments, progress: progressSink(params, server: server))
            case "estimate": value = try await estimate(arguments)
            case "list_workflows": value = try MCPJSON.value(["workflows": service.listWorkflows()])
            case "show_workflow": value = try await showWorkflow(arguments)
            case "list_runs":
                value = try MCPJSON.value(["runs": try await service.listRuns(limit: try arguments.int("limit") ?? 20)])
            case "get_run": value = try await getRun(try arguments.requiredString("run_id"))
            case "resume_run":
                value = try await resumeRun(arguments, progress: progressSink(params, server: server))
            default: throw MCPToolError("unknown tool '\(params.name)'; tools/list shows the tools.")
            }
            return try .init(
                content: [.text(text: MCPJSON.text(value), annotations: nil, _meta: nil)],
                structuredContent: value)
        } catch {
            return .init(
                // Arguments and workflow text it quotes are the client's or a file's: shown, not obeyed.
                content: [
                    .text(
                        text: TerminalText.escaped("error: \(Self.message(for: error))"), annotations: nil, _meta: nil)
                ],
                isError: true)
        }
    }

    /// What a failed call's error result says: a workflow's diagnostics as the CLI prints them (each with its
    /// excerpt, hint and notes), else the error's message.
    static func message(for error: any Error) -> String {
        switch error {
        case let error as MCPToolError: error.description
        case let error as InputError: error.message
        case let error as WorkflowDiagnosticsError: withoutFinalNewlines(error.rendered())
        case let error as any RefineryError where !error.diagnostics.isEmpty: withoutFinalNewlines(error.rendered())
        case is CancellationError: "cancelled"
        default: String(describing: error)
        }
    }

    private static func withoutFinalNewlines(_ text: String) -> String {
        String(text.dropLast(text.reversed().prefix(while: \.isNewline).count))
    }

    // MARK: tools

    /// What a call's diagnostics name a workflow given as `workflow_yaml`, as the client gave it (its
    /// private file's path means nothing to the client, and was a path of the server's machine).
    static let inlineWorkflowName = "<inline workflow>"

    /// A call's workflow: the service that loads it, the name or path it is loaded by, and what to do after.
    typealias Target = (service: RunService, target: String, cleanup: @Sendable () -> Void)

    /// The workflow a call names: `workflow` (name, `NAME@REV`, or a path with `--allow-paths`), or
    /// `workflow_yaml` written to a private temporary folder, with the service that loads it (shown in
    /// diagnostics as ``inlineWorkflowName``).
    func target(_ arguments: MCPArguments) throws -> Target {
        if let yaml = try arguments.string("workflow_yaml") {
            if try arguments.string("workflow") != nil {
                throw MCPToolError("give either `workflow` or `workflow_yaml`, not both.")
            }
            // Compiled from a private, empty folder: it may extend workflows on the search path, but a prompt
            // file it names resolves in that folder (never `..`, an absolute path or a link out of it), so it
            // reads no file of the machine. The spend caps apply to it like to any run.
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "refinery-mcp-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let file = folder.appendingPathComponent("inline.yaml")
            try Data(yaml.utf8).write(to: file)
            var service = service
            service.shownPaths[file.path] = Self.inlineWorkflowName
            return (service, file.path, { try? FileManager.default.removeItem(at: folder) })
        }
        let name = try arguments.string("workflow") ?? WorkflowLibrary.defaultWorkflow
        try safety.checkTarget(name)
        return (service, name, {})
    }

    func overrides(_ arguments: MCPArguments, budget: Double?) throws -> WorkflowOverrides {
        var overrides = WorkflowOverrides(
            models: try arguments.strings("models"), arbiter: try arguments.string("arbiter"),
            minRounds: try arguments.int("min_rounds"), maxRounds: try arguments.int("rounds"), budgetUSD: budget)
        // Its diagnostics name these arguments, not the command-line flags they stand for.
        overrides.surface = .toolArguments
        return overrides
    }

    /// The prompt with the `files` arguments, each confined to the working folder.
    func prompt(_ arguments: MCPArguments, required: Bool) throws -> String? {
        let text: String? = try required ? arguments.requiredString("prompt") : arguments.string("prompt")
        let files = try arguments.strings("files") ?? []
        for path in files { try MCPSafety.checkInside(path, folder: service.workingDirectory) }
        if text == nil && files.isEmpty { return nil }
        return try InputAssembler().assemble(
            prompt: text.map { Data($0.utf8) }, filePaths: files, workingDirectory: service.workingDirectory)
    }

    func estimate(_ arguments: MCPArguments) async throws -> Value {
        let (service, target, cleanup) = try target(arguments)
        defer { cleanup() }
        let estimate = try await service.estimate(
            target, overrides: try overrides(arguments, budget: nil), prompt: try prompt(arguments, required: false))
        var value = try MCPJSON.value(estimate)
        if case .object(var object) = value {
            object["max_budget_per_call_usd"] = .double(safety.maxBudgetPerCall)
            object["within_cap"] = .bool(
                estimate.unpricedModels.isEmpty && estimate.costUSD.max <= safety.maxBudgetPerCall)
            value = .object(object)
        }
        return value
    }

    func runWorkflow(_ arguments: MCPArguments, progress: ProgressSink?) async throws -> Value {
        let (service, target, cleanup) = try target(arguments)
        defer { cleanup() }
        let prompt = try prompt(arguments, required: true) ?? ""
        let requested = try arguments.double("budget")
        if let requested, requested <= 0 { throw MCPToolError("`budget` must be more than 0 dollars.") }
        let limit = min(requested ?? safety.maxBudgetPerCall, safety.maxBudgetPerCall)
        let estimate = try await service.estimate(
            target, overrides: try overrides(arguments, budget: limit), prompt: prompt)
        if !estimate.unpricedModels.isEmpty {
            throw MCPToolError(
                "refused: the catalog has no price for \(estimate.unpricedModels.joined(separator: ", ")), so the "
                    + "run's cost cannot be checked against the cap. Use priced models (`refinery models`).")
        }
        let granted = try await account.reserve(
            estimate: estimate.costUSD.max, limit: limit,
            what: "workflow '\(estimate.workflow)' (\(estimate.calls.max) calls at most)")
        let tracker = RunTracker(totalCalls: estimate.calls.max, progress: progress)
        let request = RunRequest(
            target: target, prompt: prompt, overrides: try overrides(arguments, budget: granted))
        return try await settle(granted: granted, tracker: tracker) {
            try await service.run(request, events: { tracker.record($0) })
        }
    }

    func resumeRun(_ arguments: MCPArguments, progress: ProgressSink?) async throws -> Value {
        let id = try arguments.requiredString("run_id")
        let stored = try await service.showRun(id: id)
        // A run's recorded budget is the most it can spend; a run with none (started outside this
        // server) cannot be bounded, so it is not resumed here.
        guard let budget = stored.workflow.limits.budgetUSD, budget <= safety.maxBudgetPerCall else {
            let recorded = stored.workflow.limits.budgetUSD.map { "a budget of \(SpendAccount.dollars($0))" }
            throw MCPToolError(
                "refused: run \(stored.id) has \(recorded ?? "no budget")"
                    + ", more than this server's \(SpendAccount.dollars(safety.maxBudgetPerCall)) per call. "
                    + "Resume it with `refinery resume \(stored.id)`.")
        }
        let granted = try await account.reserve(estimate: budget, limit: budget, what: "resuming run \(stored.id)")
        let tracker = RunTracker(totalCalls: nil, progress: progress)
        let service = service
        return try await settle(granted: granted, tracker: tracker) {
            try await service.resume(runID: stored.id, events: { tracker.record($0) })
        }
    }

    /// Runs `body`, then books what it cost against the process's cap: the outcome's cost, or what
    /// the finished calls reported when it stopped early; less what the calls served from the ledger
    /// cost, which was booked when they were made (a resumed run's outcome counts them again).
    private func settle(
        granted: Double, tracker: RunTracker, _ body: @Sendable () async throws -> RunResult
    ) async throws -> Value {
        // The notifications go out next to the run and are all sent before the result.
        async let sent: Void = tracker.send()
        let result: RunResult
        do {
            result = try await body()
        } catch {
            tracker.finish()
            await sent
            await account.settle(reserved: granted, spent: tracker.cost - tracker.replayedCost)
            throw error
        }
        tracker.finish()
        await sent
        await account.settle(reserved: granted, spent: result.outcome.costUSD - tracker.replayedCost)
        // The report as `refinery run --output-format json` prints it (schemas/run-output.schema.json).
        return try MCPJSON.value(result.report)
    }

    func showWorkflow(_ arguments: MCPArguments) async throws -> Value {
        let name = try arguments.requiredString("workflow")
        try safety.checkTarget(name)
        let loaded = try await service.show(name)
        return try MCPJSON.value(WorkflowSummary(loaded))
    }

    func getRun(_ id: String) async throws -> Value {
        let run = try await service.showRun(id: id)
        var object: [String: Value] = [
            "id": .string(run.id), "workflow": .string(run.workflowName), "status": .string(run.status),
            "prompt": .string(run.prompt), "cost_usd": .double(Dollars.rounded(run.costUSD)),
            "started_at": .string(ISO8601DateFormatter().string(from: run.startedAt)),
        ]
        if let finished = run.finishedAt {
            object["finished_at"] = .string(ISO8601DateFormatter().string(from: finished))
        }
        if let json = run.outcomeJSON { object["report"] = try JSONDecoder().decode(Value.self, from: Data(json.utf8)) }
        return .object(object)
    }

    // MARK: resources

    func listResources() async throws -> ListResources.Result {
        var resources = service.listWorkflows().filter { $0.shadowedBy == nil }.map {
            Resource(
                name: "workflow \($0.name)", uri: "refinery://workflows/\($0.name)", description: $0.description,
                mimeType: "application/yaml")
        }
        for run in (try? await service.listRuns(limit: 20)) ?? [] {
            resources.append(
                Resource(
                    name: "run \(run.id)", uri: "refinery://runs/\(run.id)",
                    description: "\(run.workflow) \(run.status)", mimeType: "application/json"))
        }
        return .init(resources: resources, nextCursor: nil)
    }

    /// The resources by name: any workflow on the search path, any recorded run.
    static let resourceTemplates = [
        Resource.Template(
            uriTemplate: "refinery://workflows/{name}", name: "workflow",
            description: "A workflow's YAML, by a name from list_workflows.", mimeType: "application/yaml"),
        Resource.Template(
            uriTemplate: "refinery://runs/{id}", name: "run",
            description: "A recorded run (as get_run returns it), by its id or a unique prefix.",
            mimeType: "application/json"),
    ]

    func readResource(_ uri: String) async throws -> ReadResource.Result {
        if let name = uri.dropPrefix("refinery://workflows/") {
            try safety.checkTarget(name)
            let loaded = try await service.show(name)
            return .init(contents: [
                .text(String(decoding: loaded.located.bytes, as: UTF8.self), uri: uri, mimeType: "application/yaml")
            ])
        }
        if let id = uri.dropPrefix("refinery://runs/") {
            return .init(contents: [.text(MCPJSON.text(try await getRun(id)), uri: uri, mimeType: "application/json")])
        }
        throw MCPError.invalidParams("unknown resource \(uri); resources/list shows them.")
    }

    // MARK: progress

    func progressSink(_ params: CallTool.Parameters, server: Server) -> ProgressSink? {
        guard let token = params._meta?.progressToken else { return nil }
        return ProgressSink { progress, total, message in
            try? await server.notify(
                ProgressNotification.message(
                    .init(progressToken: token, progress: progress, total: total, message: message)))
        }
    }
}

extension String {
    fileprivate func dropPrefix(_ prefix: String) -> String? {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
    }
}

/// `show_workflow`'s answer: what a caller needs to pick a workflow and its arguments.
struct WorkflowSummary: Encodable {
    var name: String
    var description: String?
    var origin: String
    var location: String
    var members: [String]
    var arbiter: String?
    var rounds: String
    var yaml: String

    init(_ loaded: LoadedWorkflow) {
        name = loaded.workflow.name
        description = loaded.workflow.description
        origin = loaded.located.origin.rawValue
        location = loaded.located.path ?? loaded.located.displayName
        members = loaded.workflow.members.map { "\($0.id)=\($0.model)" }
        arbiter = loaded.workflow.arbiter.map { "\($0.model)" }
        rounds = "\(loaded.workflow.iterations.min)-\(loaded.workflow.iterations.max)"
        yaml = String(decoding: loaded.located.bytes, as: UTF8.self)
    }
}
