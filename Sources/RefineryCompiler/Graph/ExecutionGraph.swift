// The compiled execution graph: one node per model call, edges from data dependencies, the
// repeat block as a round template. The runtime executes it; `refinery graph` draws it;
// the estimator counts it.

/// The execution graph of a workflow.
///
/// Stages before the `repeat` block form the ``prelude`` (run once, round 0), the block is the
/// ``round`` template (run once per round, rounds 1...n), and stages after it form the
/// ``epilogue`` (run once after the last round). Dependencies only point to nodes of the same
/// section; inputs from earlier rounds or sections are available by construction, because the
/// `close` decision is the only cross-round barrier.
public struct ExecutionGraph: Sendable, Hashable, Codable {
    /// Stages before the repeat block.
    public var prelude: GraphSection
    /// The repeat block's template, or `nil` when the workflow has no repeat block.
    public var round: GraphSection?
    /// Stages after the repeat block.
    public var epilogue: GraphSection

    /// Creates a graph from its sections.
    public init(prelude: GraphSection, round: GraphSection?, epilogue: GraphSection) {
        self.prelude = prelude
        self.round = round
        self.epilogue = epilogue
    }
}

/// A run of consecutive stages and their call nodes.
public struct GraphSection: Sendable, Hashable, Codable {
    /// The stages in order, each with its nodes.
    public var stages: [GraphStage] {
        didSet { layout = SectionLayout(stages: stages) }
    }

    /// The section laid out for running it, made with the section: a fact of the graph, shared by every
    /// run of the workflow (each item of a batch). Not part of equality or coding: it follows from `stages`.
    package private(set) var layout: SectionLayout

    /// Creates a section.
    public init(stages: [GraphStage]) {
        self.stages = stages
        self.layout = SectionLayout(stages: stages)
    }

    /// Every node of the section, in stage order.
    public var nodes: [GraphNode] { layout.nodes }

    /// Sections are equal when their stages are (the layout follows from them).
    public static func == (lhs: GraphSection, rhs: GraphSection) -> Bool {
        lhs.stages == rhs.stages
    }

    /// Hashes the stages (the layout follows from them).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(stages)
    }

    private enum CodingKeys: String, CodingKey {
        case stages
    }

    /// Decodes the stages and lays the section out.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(stages: try container.decode([GraphStage].self, forKey: .stages))
    }

    /// Encodes the stages (the layout is not stored: it is made again when decoded).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(stages, forKey: .stages)
    }
}

/// One stage of a section with its nodes.
public struct GraphStage: Sendable, Hashable, Codable {
    /// Position of the stage in the flattened stage chain of the file (0-based), used in node ids.
    public var index: Int
    /// The stage and its options.
    public var stage: Stage
    /// One node per model call the stage makes (none for `close`, which is a decision node).
    public var nodes: [GraphNode]

    /// Creates a graph stage.
    public init(index: Int, stage: Stage, nodes: [GraphNode]) {
        self.index = index
        self.stage = stage
        self.nodes = nodes
    }
}

/// One model call (or the `close` decision) of the graph.
public struct GraphNode: Sendable, Hashable, Codable, Identifiable {
    /// Unique and stable within a section, e.g. `s1.evaluate[gem#1>claude]`. Used as the
    /// ledger's node key, so it must not depend on anything but the workflow.
    public var id: String
    /// What the node does.
    public var kind: NodeKind
    /// The member id performing the call, or `arbiter`.
    public var participant: String
    /// Ids of nodes of the same section whose outputs this node reads.
    public var dependencies: [String]

    /// Creates a node.
    public init(id: String, kind: NodeKind, participant: String, dependencies: [String]) {
        self.id = id
        self.kind = kind
        self.participant = participant
        self.dependencies = dependencies
    }

    /// Whether the node is a model call (every kind but the `vote` and `close` decisions).
    public var isCall: Bool {
        switch kind {
        case .propose, .evaluate, .evaluateBatch, .refine, .synthesize, .verifyPlan, .verifyAnswer, .verifyRevise:
            true
        case .vote, .close:
            false
        }
    }
}

/// What a graph node does.
public enum NodeKind: Sendable, Hashable, Codable {
    /// `member` answers the prompt (with round context).
    case propose(member: String)
    /// `reviewer` scores `target`'s current answer (pairwise evaluation).
    case evaluate(reviewer: String, target: String)
    /// `reviewer` scores every target in one call (batched evaluation).
    case evaluateBatch(reviewer: String, targets: [String])
    /// `member` revises its answer.
    case refine(member: String)
    /// `by` (a member id or `arbiter`) merges the answers.
    case synthesize(by: String)
    /// CoVe step 1: plan verification questions about the draft.
    case verifyPlan(by: String)
    /// CoVe step 2: answer question `question` (0-based) in a fresh context, without the draft.
    case verifyAnswer(by: String, question: Int)
    /// CoVe step 3: revise the draft from the verification answers.
    case verifyRevise(by: String)
    /// Counts the voters' answers (`voters`, in member order). Makes no call.
    case vote(voters: [String])
    /// Applies the convergence strategy. Makes no call.
    case close

    /// The participant whose answer this node produces (a proposal, a revision, a verified revision),
    /// or nil. The one definition of "which nodes produce answers" that the graph builder, its queries and
    /// the engine share; exhaustive, so a new kind must say whether it answers.
    public var answerOf: String? {
        switch self {
        case .propose(let member), .refine(let member), .verifyRevise(let member): member
        case .synthesize, .evaluate, .evaluateBatch, .verifyPlan, .verifyAnswer, .vote, .close: nil
        }
    }

    /// The participant whose text this node produces: its answer, or a synthesis (a draft the arbiter
    /// or a member refines or verifies next).
    public var producedTextOf: String? {
        if case .synthesize(let by) = self { return by }
        return answerOf
    }
}
