import RefineryCompiler

/// Executes one run: the single actor that owns the run's state and its task group.
actor RunExecutor {
    private let workflow: Workflow
    private let configuration: EngineConfiguration
    private var finished = false

    init(
        workflow: Workflow, providers: any ProviderResolver, configuration: EngineConfiguration, prompt: String,
        events: (@Sendable (RunEvent) -> Void)?
    ) throws {
        self.workflow = workflow
        self.configuration = configuration
    }

    var isFinished: Bool { finished }

    func step(overrides: RoundOverrides) async -> RoundResult? {
        finished = true
        return nil
    }

    func runToEnd() async -> RunOutcome {
        await finalize()
    }

    func finalize() async -> RunOutcome {
        finished = true
        return RunOutcome(
            runID: configuration.runID, workflow: workflow.name, status: .failed, stoppedBy: "not implemented",
            strategy: workflow.convergence.strategy.name)
    }
}
