// The tools `refinery mcp` offers, described for a model that has never seen Refinery: what each
// does, when to use it, what it costs, and every argument's meaning.

import MCP
import RefinerySyntax

enum MCPTools {
    static let all: [Tool] = [runWorkflow, estimate, listWorkflows, showWorkflow, listRuns, getRun, resumeRun]

    /// The tool called `name`, if this server has one.
    static func named(_ name: String) -> Tool? { all.first { $0.name == name } }

    /// Checks `arguments` against the tool's input schema, the one statement of what each tool takes:
    /// refuses an argument the schema does not list (it says `additionalProperties: false`: a misspelt
    /// `budjet` or `max_rounds` was ignored, and the run went ahead without it), and a whole number outside
    /// its `minimum`...`maximum` (`list_runs` with `limit: -5` listed one run, `limit: 10000` 200, silently).
    /// Refused as the tool's error result, which the calling model reads and can correct (MCP's
    /// SEP-1303: input validation errors are tool execution errors, not protocol errors).
    static func check(_ arguments: MCPArguments, for name: String) throws(MCPToolError) {
        guard case .object(let schema)? = named(name)?.inputSchema, case .object(let properties)? = schema["properties"]
        else { return }
        let unknown = arguments.values.keys.filter { properties[$0] == nil }.sorted()
        if let first = unknown.first {
            let known = properties.keys.sorted().map { "`\($0)`" }
            throw MCPToolError(
                "\(name) takes no argument `\(first)`"
                    + (known.isEmpty ? "; it takes none." : "; it takes \(known.joined(separator: ", ")).")
                    + (Suggestions.closest(to: first, in: properties.keys).map { " Did you mean `\($0)`?" } ?? ""))
        }
        for key in arguments.values.keys.sorted() {
            guard case .object(let property)? = properties[key], property["type"] == "integer",
                let value = try arguments.int(key)
            else { continue }
            let minimum = property["minimum"]?.intValue
            let maximum = property["maximum"]?.intValue
            guard value < (minimum ?? .min) || value > (maximum ?? .max) else { continue }
            let range =
                switch (minimum, maximum) {
                case (let minimum?, let maximum?): "between \(minimum) and \(maximum)"
                case (let minimum?, nil): "at least \(minimum)"
                case (nil, let maximum?): "at most \(maximum)"
                case (nil, nil): "a whole number"
                }
            throw MCPToolError("`\(key)` must be \(range), found \(value).")
        }
    }

    private static func string(_ description: String) -> Value {
        .object(["type": "string", "description": .string(description)])
    }

    /// A whole number from `minimum` (to `maximum`, when given): ``check(_:for:)`` refuses a value outside.
    private static func integer(_ description: String, minimum: Int = 1, maximum: Int? = nil) -> Value {
        var property: [String: Value] = [
            "type": "integer", "minimum": .int(minimum), "description": .string(description),
        ]
        if let maximum { property["maximum"] = .int(maximum) }
        return .object(property)
    }

    private static func strings(_ description: String) -> Value {
        .object(["type": "array", "items": .object(["type": "string"]), "description": .string(description)])
    }

    private static func schema(_ properties: [String: Value], required: [String] = []) -> Value {
        .object([
            "type": "object", "properties": .object(properties), "required": .array(required.map { .string($0) }),
            "additionalProperties": false,
        ])
    }

    private static let workflowArguments: [String: Value] = [
        "workflow": string(
            "The workflow to run: a name from list_workflows (default the built-in `consensus`: every model answers, they "
                + "score each other anonymously, and the best-scored answer wins), or NAME@REV for a git revision of it."
        ),
        "workflow_yaml": string(
            "Instead of `workflow`: a whole workflow file as YAML text (see show_workflow for examples; it may "
                + "`extends:` a listed workflow). It cannot read prompt files."),
        "prompt": string("The question or task for the models. Be complete: they see nothing else but `files`."),
        "files": strings(
            "Paths of files (relative to the server's working folder, and inside it) whose text is added to the "
                + "prompt; 1 MB in all."),
        "models": strings(
            "Replace the workflow's members: model strings such as `openai/gpt-4o`, `anthropic/claude-sonnet-4-5`, "
                + "`gemini/gemini-2.5-pro`; `MODEL:N` for N copies."),
        "arbiter": string("Replace the workflow's arbiter (the model that synthesizes the final answer)."),
        "rounds": integer("The most rounds to run (each round: answer, review, refine)."),
        "min_rounds": integer("The fewest rounds to run before the models may stop on agreement."),
    ]

    static let runWorkflow = Tool(
        name: "run_workflow",
        title: "Ask a council of models",
        description: """
            Run a Refinery workflow: several LLMs answer the prompt, review each other anonymously and refine \
            until they agree, then one answer or a synthesis is returned. Use it for a second opinion, a \
            hard question, or a review where independent models catching each other's mistakes helps. \
            Costs real money: the run's estimated maximum must fit the server's per-call cap (and what is left \
            of its total cap) or it is refused before any model is called; call `estimate` first when unsure. \
            The result is the run report (schemas/run-output.schema.json): `status` (converged, max_rounds, \
            ...), `winner.answer` or `synthesis`, `all_answers`, `cost_usd`, and `run_id` for get_run and \
            resume_run. Progress notifications (round, stage, calls done of the estimated total, cost) are sent \
            when the request has a progress token; cancelling the request stops the run, which stays \
            resumable with resume_run.
            """,
        inputSchema: schema(
            workflowArguments.merging([
                "budget": .object([
                    "type": "number", "exclusiveMinimum": 0,
                    "description": "The most this run may spend, in US dollars (capped by the server's per-call cap).",
                ])
            ]) { first, _ in first }, required: ["prompt"]),
        annotations: .init(readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true))

    static let estimate = Tool(
        name: "estimate",
        title: "Estimate a run's cost",
        description: """
            Estimate what run_workflow would cost with the same arguments, without calling any model: calls, \
            tokens and dollars for the fewest and the most rounds. `within_cap` says whether the maximum fits \
            this server's per-call cap (`max_budget_per_call_usd`).
            """,
        inputSchema: schema(workflowArguments),
        annotations: .init(readOnlyHint: true, idempotentHint: true, openWorldHint: false))

    static let listWorkflows = Tool(
        name: "list_workflows",
        title: "List workflows",
        description: """
            List the workflows run_workflow can run by name (project `./workflows/`, REFINERY_PATH, the user's \
            folder and the built-ins), each with its description and where it lives.
            """,
        inputSchema: schema([:]),
        annotations: .init(readOnlyHint: true, idempotentHint: true, openWorldHint: false))

    static let showWorkflow = Tool(
        name: "show_workflow",
        title: "Show a workflow",
        description: "Show one workflow: its members, arbiter, rounds and YAML source.",
        inputSchema: schema(
            ["workflow": string("A workflow name (or NAME@REV) from list_workflows.")], required: ["workflow"]),
        annotations: .init(readOnlyHint: true, idempotentHint: true, openWorldHint: false))

    static let listRuns = Tool(
        name: "list_runs",
        title: "List recorded runs",
        description: "List the runs in Refinery's ledger, newest first: id, workflow, status, calls and cost.",
        inputSchema: schema(["limit": integer("How many runs to list (default 20).", maximum: 200)]),
        annotations: .init(readOnlyHint: true, idempotentHint: true, openWorldHint: false))

    static let getRun = Tool(
        name: "get_run",
        title: "Get a recorded run",
        description: """
            Get one recorded run by id (or a unique prefix): status, prompt, cost and, once it finished, its \
            report (the same JSON run_workflow returns).
            """,
        inputSchema: schema(["run_id": string("The run id from run_workflow or list_runs.")], required: ["run_id"]),
        annotations: .init(readOnlyHint: true, idempotentHint: true, openWorldHint: false))

    static let resumeRun = Tool(
        name: "resume_run",
        title: "Resume a stopped run",
        description: """
            Finish a run that was cancelled, failed or interrupted: calls already recorded are served from the \
            ledger (not paid twice), the rest are made. Returns the run report like run_workflow. Refused when \
            the run's budget passes this server's per-call cap or what is left of its total cap.
            """,
        inputSchema: schema(
            ["run_id": string("The id of a cancelled, failed or interrupted run (list_runs shows statuses).")],
            required: ["run_id"]),
        annotations: .init(readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true))
}
