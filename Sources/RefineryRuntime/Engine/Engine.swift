// The library's entry point for running a compiled workflow against model providers.

public import RefineryCompiler

/// Runs a compiled ``Workflow`` against model providers.
///
/// ```swift
/// let engine = Engine(workflow: workflow, providers: resolver, configuration: EngineConfiguration(seed: 7))
/// let outcome = try await engine.run("What are the three most impactful breakthroughs in physics?")
/// print(outcome.status, outcome.finalAnswer ?? "")
/// ```
///
/// A run never throws for a failed model call: failures are retried, fall back, drop members and
/// end up in the ``RunOutcome``'s status and coverage. It throws ``EngineError`` only when the
/// workflow cannot be executed at all. Cancelling the calling task ends the run cleanly with
/// status ``RunStatus/cancelled``.
public struct Engine: Sendable {
    /// The workflow this engine runs.
    public let workflow: Workflow
    /// The injected clock, ledger, catalog, seed and run id.
    public let configuration: EngineConfiguration
    private let providers: any ProviderResolver
    /// The compiler's graph of `workflow`, when the caller has it; else the engine builds it.
    private let graph: ExecutionGraph?

    /// Creates an engine.
    ///
    /// - Parameters:
    ///   - workflow: a checked workflow, e.g. from the compiler.
    ///   - graph: the compiler's execution graph of `workflow` (``CompileResult/graph``), so it is built once;
    ///     `nil` builds it from `workflow`. It must be the graph of this workflow.
    ///   - providers: resolves each model to a provider, lazily.
    ///   - configuration: run id, seed, clock, ledger, catalog.
    public init(
        workflow: Workflow, graph: ExecutionGraph? = nil, providers: any ProviderResolver,
        configuration: EngineConfiguration = .init()
    ) {
        self.workflow = workflow
        self.graph = graph
        self.providers = providers
        self.configuration = configuration
    }

    /// Runs the whole workflow on `prompt` and returns its outcome.
    ///
    /// - Parameters:
    ///   - prompt: the user's task.
    ///   - events: called for every ``RunEvent``, in order, from a task of its own: the engine streams
    ///     events to it and does not wait, so a slow listener delays no call. The run returns after
    ///     the listener saw the last event (`run_finished`), also when the run was cancelled.
    /// - Returns: the outcome, also for runs that ended early (budget, quorum, cancellation).
    /// - Throws: ``EngineError`` when the workflow cannot be executed.
    public func run(_ prompt: String, events: (@Sendable (RunEvent) -> Void)? = nil) async throws -> RunOutcome {
        let executor = try RunExecutor(
            workflow: workflow, graph: graph, providers: providers, configuration: configuration, prompt: prompt,
            events: events)
        return await executor.runToEnd()
    }

    /// Estimates calls, tokens and dollars of running `workflow` on `prompt`, without any call.
    ///
    /// Delegates to the compiler's estimator
    /// (``WorkflowEstimate/estimate(workflow:catalog:promptTokens:assumptions:)``) with the prompt's
    /// size; the range spans `iterations.min` to `iterations.max` rounds.
    public static func estimate(
        workflow: Workflow, prompt: String, catalog: ModelCatalog = .builtin
    ) -> WorkflowEstimate {
        WorkflowEstimate.estimate(
            workflow: workflow, catalog: catalog, promptTokens: EstimateAssumptions.tokens(for: prompt))
    }

    /// Starts a run that the caller steps round by round with ``RunSession/nextRound(overrides:)``.
    ///
    /// - Parameters:
    ///   - prompt: the user's task.
    ///   - events: called for every ``RunEvent``, in order, from a task of its own; each step returns
    ///     after the listener saw that step's events.
    /// - Throws: ``EngineError`` when the workflow cannot be executed.
    public func start(_ prompt: String, events: (@Sendable (RunEvent) -> Void)? = nil) async throws -> RunSession {
        let executor = try RunExecutor(
            workflow: workflow, graph: graph, providers: providers, configuration: configuration, prompt: prompt,
            events: events)
        return RunSession(executor: executor)
    }
}
