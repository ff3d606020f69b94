/// Payload of ``RunEvent/runStarted(_:)``.
public struct RunStartedEvent: Sendable, Hashable, Codable {
    /// The run's identifier.
    public var runID: String
    /// The workflow's name.
    public var workflow: String
    /// Member ids, in workflow order.
    public var members: [String]
    /// Convergence strategy name.
    public var strategy: String
    /// `iterations.max`.
    public var maxRounds: Int

    /// Creates the payload.
    public init(runID: String, workflow: String, members: [String], strategy: String, maxRounds: Int) {
        self.runID = runID
        self.workflow = workflow
        self.members = members
        self.strategy = strategy
        self.maxRounds = maxRounds
    }
}

/// Payload of ``RunEvent/roundStarted(_:)``.
public struct RoundStartedEvent: Sendable, Hashable, Codable {
    /// Round number.
    public var round: Int
    /// Prelude, round or epilogue.
    public var phase: RoundPhase
    /// Model calls the step plans (before skips and retries).
    public var plannedCalls: Int

    /// Creates the payload.
    public init(round: Int, phase: RoundPhase, plannedCalls: Int) {
        self.round = round
        self.phase = phase
        self.plannedCalls = plannedCalls
    }
}

/// Payload of ``RunEvent/stageStarted(_:)``.
public struct StageStartedEvent: Sendable, Hashable, Codable {
    /// Round number.
    public var round: Int
    /// The stage keyword, e.g. `evaluate`.
    public var stage: String
    /// The stage's position in the flattened chain.
    public var stageIndex: Int

    /// Creates the payload.
    public init(round: Int, stage: String, stageIndex: Int) {
        self.round = round
        self.stage = stage
        self.stageIndex = stageIndex
    }
}

/// Payload of ``RunEvent/memberDropped(_:)``.
public struct MemberDroppedEvent: Sendable, Hashable, Codable {
    /// Round number.
    public var round: Int
    /// The member id.
    public var member: String
    /// Why, e.g. `authentication: key rejected`.
    public var reason: String
    /// `true` when dropped for the rest of the run, `false` for this round only.
    public var forRun: Bool

    /// Creates the payload.
    public init(round: Int, member: String, reason: String, forRun: Bool) {
        self.round = round
        self.member = member
        self.reason = reason
        self.forRun = forRun
    }
}

/// Payload of ``RunEvent/decision(_:)``.
public struct DecisionEvent: Sendable, Hashable, Codable {
    /// Round number.
    public var round: Int
    /// The decision.
    public var decision: RoundDecision

    /// Creates the payload.
    public init(round: Int, decision: RoundDecision) {
        self.round = round
        self.decision = decision
    }
}
