// The run's orchestrator: one actor owning all run state, one task group per drive. Child tasks
// make one call attempt (or sit out one backoff) and return a `ChildResult`; only the parent loop
// decides what starts next, what is retried, who falls back and who is dropped. A node starts as
// soon as its dependencies finished; a step's end (where `close` decides) is the only barrier.

import Foundation
import Logging
import RefineryCompiler
import RefinerySyntax
import Synchronization

/// Executes one run of a workflow.
actor RunExecutor {
    let workflow: Workflow
    let graph: ExecutionGraph
    let configuration: EngineConfiguration
    let resolver: any ProviderResolver
    let prompt: String
    /// The caller's listener, handed every event from a task of its own (see ``EventStream``).
    let listener: (@Sendable (RunEvent) -> Void)?
    /// Yields into the current drive's event stream; `nil` when nobody listens.
    var emit: (@Sendable (RunEvent) -> Void)?
    let clock: EngineClock
    let judge: ConvergenceJudge
    let memberIDs: [String]
    let memberIDSet: Set<String>
    /// Each member's position, and the arbiter's after them: the order of a step's reviews.
    let participantOrder: [String: Int]
    let startDate: Date
    var renderers: [Int: PromptRenderer] = [:]
    /// The catalog's price per model (`nil` inside: no price known), filled as models are first used.
    var pricingCache: [ModelRef: ModelPricing?] = [:]
    /// The provider of each model a call was priced for (`nil`: it cannot be resolved), asked for the call's
    /// output cap (``outputCap(of:)``).
    var capProviders: [ModelRef: (any ModelProvider)?] = [:]
    /// Counts drops and permanent model moves: a call prepared since the last one needs no re-check.
    var participationChanges = 0

    // What carries over from one step to the next.
    var participants: [String: ParticipantState] = [:]
    var answers: [String: (text: String, model: ModelRef)] = [:]
    var draft: String?
    /// Who wrote `draft`, when known.
    var draftSource: AnswerSource?
    var synthesis: Synthesis?
    /// Who wrote `synthesis`.
    var synthesisSource: AnswerSource?
    /// Why the run's evidence is incomplete beyond what the counters say (e.g. an unreadable plan).
    var degradations: [String] = []
    /// The calls (participant and round) whose reply was cut (by its output cap, by the provider's safety
    /// filter), in the order they came.
    var cutReplies: [ModelReply.Cut: [String]] = [:]
    /// Each member's earlier answers and the reviews they got, described only when a prompt shows them.
    var history: [String: [PastAnswer]] = [:]
    var extraContext: String?
    var lastScores: [String: (mean: Double, count: Int)] = [:]
    var lastDecision: RoundDecision?
    /// The vectors the previous round's recorded embedding requests returned (a resumed run): the round after
    /// compares its draft with that round's, which its own recorded request left out when the first attempt's
    /// cache held it.
    var previousRecordedEmbeddings: [String: [Double]] = [:]
    /// The latest vote of the run, if the workflow votes.
    var lastVote: VoteResult?
    /// The answer text that carries the last vote's winning value.
    var lastVoteWinnerText: String?
    var anonymization: [AnonymizationEntry] = []
    var labelCache: [String: [String: String]] = [:]
    var rounds: [RoundResult] = []
    /// Why each dropped member was dropped (the provider's error), for the quorum message.
    var dropReasons: [String: String] = [:]
    /// How many calls of each member dropped for the run were not made because it was, for coverage.
    var callsNotMade: [String: Int] = [:]
    var droppedBetweenSteps: [String] = []

    // Totals.
    var totalCalls = 0
    var usage = TokenUsage()
    var costUSD: Double = 0
    /// What the estimate assumed for the replies so far whose request set no max tokens, and what they wrote:
    /// later calls' estimates are scaled by their ratio (``estimateCost(_:node:stage:prompt:pricing:)``).
    var assumedOutputSeen = 0
    var outputSeen = 0
    var arbiterFallbackUsed = false
    /// Every review recorded unscored, as who reviewed whom in which round and why.
    var unscoredReviews: [String] = []
    var failedCalls = 0

    // Progress.
    var stopReason: StopReason?
    /// Changed only by ``enter(_:)``.
    private(set) var lifecycle = RunPhase.notStarted(skipRounds: false)
    var currentRound = 0
    var section: SectionRun?

    // Scheduling.
    /// Calls ready to start, one lane per provider in the order providers were first used.
    var lanes: [ProviderLane] = []
    var laneIndex: [String: Int] = [:]
    var lastLane: (provider: String, lane: ProviderLane)?
    var queuedCount = 0
    var pendingBackoffs: [(CallTicket, Duration)] = []
    /// Retrying calls given up (member dropped, run stopped), for the ledger as `cancelled`.
    var abandonedCalls: [(CallTicket, String)] = []
    var inFlight = 0
    /// What the calls in flight hold against the budget: each one's worst case (``CallPlan/reservedCostUSD``),
    /// replaced by what it cost when it ends.
    var reservedUSD: Double = 0
    var backoffsRunning = 0
    /// What the current drive's calls share (the ledger, the clock, deadlines).
    var callEnvironment: CallEnvironment?
    /// Whether the ledger held replies of this run when it started (`nil`: not asked yet).
    var replayable: Bool?

    init(
        workflow: Workflow, graph: ExecutionGraph? = nil, providers: any ProviderResolver,
        configuration: EngineConfiguration, prompt: String, events: (@Sendable (RunEvent) -> Void)?
    ) throws {
        guard !workflow.members.isEmpty else {
            throw EngineError(
                code: .invalidWorkflow, message: "Workflow '\(workflow.name)' has no members; add at least one model.")
        }
        self.workflow = workflow
        self.graph = graph ?? ExecutionGraph(workflow: workflow)
        self.configuration = configuration
        self.resolver = providers
        self.prompt = prompt
        self.listener = events
        self.clock = EngineClock(configuration.clock)
        self.judge = ConvergenceJudge(
            strategy: workflow.convergence.strategy, iterations: workflow.iterations, embedder: configuration.embedder,
            clock: configuration.clock)
        self.memberIDs = workflow.members.map(\.id)
        self.memberIDSet = Set(memberIDs)
        self.participantOrder = Dictionary(
            uniqueKeysWithValues: (memberIDs + ["arbiter"]).enumerated().map { ($1, $0) })
        self.startDate = Date()
        let catalog = configuration.catalog
        func participant(_ id: String, _ models: [ModelRef], system: String?, params: ModelParams) -> ParticipantState {
            ParticipantState(
                id: id, models: models, prices: models.map { catalog.pricing(for: $0) }, modelIndex: 0, system: system,
                params: params)
        }
        for member in workflow.members {
            participants[member.id] = participant(
                member.id, [member.model] + member.fallback, system: member.system, params: member.params)
        }
        if let arbiter = workflow.arbiter {
            participants["arbiter"] = participant(
                "arbiter", [arbiter.model] + arbiter.fallback, system: arbiter.system, params: arbiter.params)
        }
    }

    var isFinished: Bool { lifecycle == .finished }

    // MARK: - Entry points

    func step(overrides: RoundOverrides) async -> RoundResult? {
        guard !isFinished else { return nil }
        return await delivering {
            apply(overrides)
            return await drive(singleStep: true)
        }
    }

    func runToEnd() async -> RunOutcome {
        _ = await delivering { await drive(singleStep: false) }
        return makeOutcome()
    }

    func finalize() async -> RunOutcome {
        if !isFinished {
            enter(lifecycle.endingRepeat)
            _ = await delivering { await drive(singleStep: false) }
        }
        return makeOutcome()
    }

    /// Runs `body` with its events streamed to the listener, and returns once the listener has
    /// seen the last of them (so a caller that returns writes nothing after).
    private func delivering<T>(_ body: () async -> T) async -> T {
        guard let listener else { return await body() }
        let stream = EventStream(listener: listener)
        emit = { stream.yield($0) }
        let result = await body()
        emit = nil
        await stream.finish()
        return result
    }

    /// Refuses overrides that name no member of the workflow (see ``RunSession/nextRound(overrides:)``).
    func check(_ overrides: RoundOverrides) throws {
        let ids = workflow.members.map(\.id)
        let unknown = overrides.dropMembers.filter { !ids.contains($0) }
        guard unknown.isEmpty else {
            throw EngineError(
                code: .unknownMember,
                message: "dropMembers names \(unknown.map { "`\($0)`" }.joined(separator: ", ")), which "
                    + "\(unknown.count == 1 ? "is" : "are") not a member of workflow '\(workflow.name)'; its members "
                    + "are \(ids.map { "`\($0)`" }.joined(separator: ", "))")
        }
    }

    private func apply(_ overrides: RoundOverrides) {
        if let context = overrides.additionalContext, !context.isEmpty {
            extraContext = [extraContext, context].compactMap { $0 }.joined(separator: "\n\n")
        }
        for member in overrides.dropMembers where participants[member]?.droppedForRun == false {
            dropForRun(member, reason: "dropped by the caller", round: currentRound)
        }
    }

    // MARK: - The parent loop

    private func drive(singleStep: Bool) async -> RoundResult? {
        var produced: RoundResult?
        if replayable == nil, let ledger = configuration.ledger {
            // A resumed run replays its recorded calls; a new one has none to look up, call by call
            // (and when the caller knows the run is new, the ledger is not even asked).
            replayable =
                configuration.mayHaveRecordedCalls
                ? (try? await ledger.hasRecordedReplies(runID: configuration.runID)) ?? true : false
        }
        let environment = CallEnvironment(
            resolver: resolver, ledger: configuration.ledger, replays: replayable ?? false, clock: clock,
            runID: configuration.runID, deadlines: CallDeadlines(clock: clock),
            callPriority: Self.callPriority(below: Task.currentPriority), startDate: startDate,
            catalog: configuration.catalog, logger: configuration.logger, graph: graph)
        callEnvironment = environment
        await withTaskGroup(of: ChildResult.self) { group in
            group.addTask {
                await environment.deadlines.watch()
                return .deadlineTimerStopped
            }
            defer { group.cancelAll() }
            while true {
                if section == nil {
                    if singleStep, produced != nil { break }
                    guard beginNextSection() else { break }
                }
                launch(into: &group, environment: environment)
                if !abandonedCalls.isEmpty { await recordAbandoned(environment) }
                if inFlight == 0, backoffsRunning == 0, queuedCount == 0 {
                    produced = await finishSection()
                    continue
                }
                guard let child = await group.next() else { continue }
                await handle(child)
            }
        }
        return produced
    }

    /// Moves the run to `next`: the one place its phase changes. Leaving `notStarted` announces the
    /// run, reaching `finished` announces its outcome; a phase entered again announces nothing.
    func enter(_ next: RunPhase) {
        let previous = lifecycle
        lifecycle = next
        if previous.isNotStarted, !next.isNotStarted {
            emit?(
                .runStarted(
                    RunStartedEvent(
                        runID: configuration.runID, workflow: workflow.name, members: memberIDs,
                        strategy: workflow.convergence.strategy.name, maxRounds: workflow.iterations.max)))
        }
        if next == .finished, previous != .finished { emitRunFinished() }
    }

    private func launch(into group: inout TaskGroup<ChildResult>, environment: CallEnvironment) {
        if Task.isCancelled, stopReason == nil { stopReason = .cancelled }
        for (ticket, delay) in pendingBackoffs {
            backoffsRunning += 1
            let sleepUntil = clock.sleepUntil
            let deadline = clock.elapsed() + delay
            group.addTask {
                do {
                    try await sleepUntil(deadline)
                    return .backoffElapsed(ticket)
                } catch {
                    return .cancelled(ticket, wasCall: false)
                }
            }
        }
        pendingBackoffs.removeAll()
        if stopReason != nil {
            drainQueues(reason: "run stopped")
            return
        }
        let limits = workflow.limits
        var launchedAny = true
        while launchedAny, queuedCount > 0 {
            launchedAny = false
            for lane in lanes {
                if limits.maxConcurrent > 0, inFlight >= limits.maxConcurrent { return }
                guard let queued = lane.peek() else { continue }
                if lane.cap > 0, lane.inFlight >= lane.cap { continue }
                guard let ticket = current(queued) else {
                    lane.dequeue()
                    queuedCount -= 1
                    launchedAny = true
                    continue
                }
                if let budget = limits.budgetUSD {
                    // A call the run cannot afford even at its estimate is not made. One that can starts once
                    // its worst case (``CallEstimate/reserved``) fits beside what the calls in flight hold at
                    // theirs, else it waits for them (the batch budget's rule, call by call); with nothing in
                    // flight it starts alone. So the calls in flight together stay under the budget, and a run
                    // passes it by at most one call's worst case beyond its estimate.
                    if costUSD + ticket.estimatedCostUSD > budget {
                        stopReason = .budget(
                            "budget: next call ~$\(DollarText.plain(ticket.estimatedCostUSD)) would pass "
                                + "$\(DollarText.plain(budget)) (spent $\(DollarText.plain(costUSD)))")
                        drainQueues(reason: "budget exhausted")
                        return
                    }
                    if inFlight > 0, costUSD + reservedUSD + ticket.reservedCostUSD > budget { continue }
                }
                lane.dequeue()
                queuedCount -= 1
                lane.inFlight += 1
                start(ticket, into: &group, environment: environment)
                launchedAny = true
            }
        }
    }

    private func start(_ ticket: CallTicket, into group: inout TaskGroup<ChildResult>, environment: CallEnvironment) {
        inFlight += 1
        reservedUSD += ticket.reservedCostUSD
        if section?.startedStages.insert(ticket.stageIndex).inserted == true {
            emit?(
                .stageStarted(
                    StageStartedEvent(
                        round: ticket.round,
                        stage: section?.stages.first { $0.index == ticket.stageIndex }?.stage.keyword
                            ?? "", stageIndex: ticket.stageIndex)))
        }
        emit?(.callStarted(callEvent(ticket)))
        group.addTask(priority: environment.callPriority) {
            await RunExecutor.perform(ticket, environment: environment)
        }
    }

    /// The ticket as it should start now: `nil` (and the node skipped) when its participant was
    /// dropped while it waited; moved to the participant's fallback model when the primary failed
    /// for good meanwhile.
    private func current(_ ticket: CallTicket) -> CallTicket? {
        if ticket.plan.participationChanges == participationChanges { return ticket }
        let id = ticket.participant
        if id != "arbiter", !isActive(id) {
            // A retry given up is recorded as a cancelled call (see `abandon`): only a first attempt was never made.
            abandon(ticket, reason: ticket.attempt == 1 ? notMade(id) : "\(id) dropped")
            return nil
        }
        guard let participant = participants[id], participant.modelIndex > ticket.modelIndex else { return ticket }
        return retargeted(ticket, to: participant.modelIndex, of: participant)
    }

    func enqueue(_ ticket: CallTicket) {
        lane(for: ticket.request.model.provider).enqueue(ticket)
        queuedCount += 1
    }

    /// The lane of `provider`, opened on first use with its concurrency cap.
    private func lane(for provider: String) -> ProviderLane {
        // Consecutive calls mostly go to the same provider: comparing its name is cheaper than hashing it.
        if let last = lastLane, last.provider == provider { return last.lane }
        let found = openLane(for: provider)
        lastLane = (provider, found)
        return found
    }

    private func openLane(for provider: String) -> ProviderLane {
        if let index = laneIndex[provider] { return lanes[index] }
        let limits = workflow.limits
        let lane = ProviderLane(cap: limits.perProvider[provider] ?? limits.maxConcurrent)
        laneIndex[provider] = lanes.count
        lanes.append(lane)
        return lane
    }

    private func drainQueues(reason: String) {
        while queuedCount > 0 {
            var skipped: [CallTicket] = []
            for lane in lanes { skipped += lane.removeAll() }
            queuedCount = 0
            for ticket in skipped { abandon(ticket, reason: reason) }
        }
    }

    /// Skips `ticket`'s node. A ticket past its first attempt was called (and is waiting to retry):
    /// it is kept for the ledger as `cancelled`, so every call made has its row.
    private func abandon(_ ticket: CallTicket, reason: String) {
        if ticket.attempt > 1 { abandonedCalls.append((ticket, reason)) }
        complete(ticket.plan.nodeIndex, .skipped(reason))
    }

    /// Records the calls ``abandon(_:reason:)`` kept, and tells listeners they ended.
    private func recordAbandoned(_ environment: CallEnvironment) async {
        let abandoned = abandonedCalls
        abandonedCalls.removeAll()
        for (ticket, reason) in abandoned {
            let made = ticket.attempt(ticket.attempt - 1)
            await Self.record(
                made, reply: nil, error: "cancelled: \(reason)", status: .cancelled, latency: .zero,
                startedAt: clock.elapsed(), cost: 0, environment: environment)
            var event = callEvent(made)
            event.status = .cancelled
            event.errorCode = ProviderError.Code.cancelled.description
            event.error = "cancelled: \(reason)"
            emit?(.callFailed(event))
        }
    }

    // MARK: - Child results

    private func handle(_ child: ChildResult) async {
        switch child {
        case .deadlineTimerStopped:
            break
        case .backoffElapsed(let ticket):
            backoffsRunning -= 1
            if stopReason == nil, Task.isCancelled { stopReason = .cancelled }
            if stopReason != nil {
                abandon(ticket, reason: "run stopped")
            } else {
                enqueue(ticket)
            }
        case .cancelled(let ticket, let wasCall):
            if wasCall { release(ticket) } else { backoffsRunning -= 1 }
            if stopReason == nil { stopReason = .cancelled }
            complete(ticket.plan.nodeIndex, .skipped("cancelled"))
        case .attempt(let ticket, let result, let latency, let startedAt):
            release(ticket)
            await handleAttempt(ticket, result, latency: latency, startedAt: startedAt)
            stopIfTheLedgerFailed()
        }
    }

    /// A call the ledger could not record (a full disk, a ledger locked by another process past its
    /// wait) stops the run as `failed`, naming why: every further call would be paid for with no record,
    /// and so paid again by `resume`. So does a resumed run's lookup the ledger could not answer: the call
    /// may have been paid for already. The calls in flight end and are recorded if the ledger lets them.
    func stopIfTheLedgerFailed() {
        guard stopReason == nil, let failure = callEnvironment?.ledgerFailure.withLock({ $0 }) else { return }
        configuration.logger.error("The run ledger failed; the run stops.")
        stopReason = .failed(failure)
    }

    private func release(_ ticket: CallTicket) {
        inFlight -= 1
        lane(for: ticket.request.model.provider).inFlight -= 1
        reservedUSD = max(0, reservedUSD - ticket.reservedCostUSD)
    }
}

/// What a child task needs to make a call, copied out of the actor. A class: every call in flight
/// holds it in its closure and async frames, where a 150-byte value would be copied into each.
final class CallEnvironment: Sendable {
    let resolver: any ProviderResolver
    let ledger: (any RunLedger)?
    /// Whether first attempts look for a recorded reply (the run is being resumed).
    let replays: Bool
    let clock: EngineClock
    let runID: String
    /// Timeouts of the calls in flight.
    let deadlines: CallDeadlines
    /// The priority of call tasks (see ``RunExecutor/callPriority(below:)``).
    let callPriority: TaskPriority
    /// When the run started (the ledger's timestamps are offsets from it).
    let startDate: Date
    /// Prices, for a call that moved to a fallback model after it was prepared.
    let catalog: ModelCatalog
    /// Ledger write failures.
    let logger: Logger
    /// The run's graph, to name a call's step in a ledger failure as the run's other reasons do.
    let graph: ExecutionGraph
    /// The first ledger failure, and why: a call it could not record, or a resumed run's call it could
    /// not look up. Set by the call's task, read by the parent loop, which then stops the run (a call paid
    /// for and not recorded would be paid again by `resume`; one not looked up would be paid again now).
    let ledgerFailure = Mutex<String?>(nil)

    /// Keeps `reason` as the run's ledger failure, unless one is already kept.
    func ledgerFailed(_ reason: String) {
        ledgerFailure.withLock { first in
            if first == nil { first = reason }
        }
    }

    /// `the call NODE` and, in a workflow with a repeat block, its step: `the call s1.propose[a] (round 2)`.
    func callName(node: String, round: Int) -> String {
        "the call \(node)" + (graph.place(round: round, node: node).map { " (\($0))" } ?? "")
    }

    init(
        resolver: any ProviderResolver, ledger: (any RunLedger)?, replays: Bool, clock: EngineClock, runID: String,
        deadlines: CallDeadlines, callPriority: TaskPriority, startDate: Date, catalog: ModelCatalog, logger: Logger,
        graph: ExecutionGraph
    ) {
        self.graph = graph
        self.replays = replays
        self.startDate = startDate
        self.catalog = catalog
        self.logger = logger
        self.resolver = resolver
        self.ledger = ledger
        self.clock = clock
        self.runID = runID
        self.deadlines = deadlines
        self.callPriority = callPriority
    }
}

extension RunExecutor {
    /// One step below the run's own priority: when a wide round's calls start or end together, the
    /// parent loop that starts the next calls and reads the replies goes before the calls' own CPU
    /// work (rendering prompts, parsing replies), instead of waiting behind thousands of them. A call
    /// spends nearly all its time waiting for the provider, where priority does not matter.
    static func callPriority(below priority: TaskPriority) -> TaskPriority {
        switch priority.rawValue {
        case TaskPriority.high.rawValue...: .medium
        case TaskPriority.medium.rawValue...: .low
        default: .background
        }
    }
}
