// The state of one step (prelude, one round, or epilogue) while its nodes run.

import RefineryCompiler

/// What a graph section is, laid out for running it: its nodes by position, dependencies resolved to
/// positions. The same for every pass of a section, so made once per section and run (a `repeat`
/// block runs up to `iterations.max` times): resolving each dependency's node id again every round
/// was most of setting a round up (~36,000 instructions a round of three members).
final class SectionLayout {
    let stages: [GraphStage]
    /// The step's nodes in stage order; a node is known by its position here.
    let nodes: [GraphNode]
    /// The stage index (``GraphStage/index``) of each node.
    let stageIndexOf: [Int]
    /// Dependencies of each node, counted.
    let dependencyCounts: [Int]
    /// Dependents of node `i`: `dependentList[dependentStart[i]..<dependentStart[i + 1]]`, in stage order.
    let dependentStart: [Int]
    let dependentList: [Int]
    /// Answer-producing nodes per participant, in stage order.
    let producers: [String: [Int]]
    let hasClose: Bool
    let hasMemberNodes: Bool

    /// Sized once, with flat arrays indexed by position: N² nodes a round, and keying every table by
    /// node id hashed strings a dozen times per call.
    init(section: GraphSection, memberIDs: Set<String>) {
        self.stages = section.stages
        let nodeCount = section.stages.reduce(0) { $0 + $1.nodes.count }
        var nodes: [GraphNode] = []
        var position: [String: Int] = [:]
        var stageIndexOf: [Int] = []
        var producers: [String: [Int]] = [:]
        var hasClose = false
        var hasMemberNodes = false
        nodes.reserveCapacity(nodeCount)
        position.reserveCapacity(nodeCount)
        stageIndexOf.reserveCapacity(nodeCount)
        for stage in section.stages {
            if case .close = stage.stage { hasClose = true }
            for node in stage.nodes {
                let index = nodes.count
                position[node.id] = index
                nodes.append(node)
                stageIndexOf.append(stage.index)
                if !hasMemberNodes, node.isCall, memberIDs.contains(node.participant) { hasMemberNodes = true }
                if let producer = node.kind.producedTextOf { producers[producer, default: []].append(index) }
            }
        }
        // Dependencies resolved to positions once; counted, then laid out flat (no array per node).
        var pending = [Int](repeating: 0, count: nodes.count)
        var edges: [(from: Int, to: Int)] = []
        edges.reserveCapacity(nodes.count)
        var counts = [Int](repeating: 0, count: nodes.count + 1)
        for (index, node) in nodes.enumerated() {
            for dependency in node.dependencies {
                guard let from = position[dependency] else { continue }
                pending[index] += 1
                counts[from + 1] += 1
                edges.append((from, index))
            }
        }
        for index in 0..<nodes.count { counts[index + 1] += counts[index] }
        var fill = counts
        var list = [Int](repeating: 0, count: edges.count)
        for edge in edges {
            list[fill[edge.from]] = edge.to
            fill[edge.from] += 1
        }
        self.nodes = nodes
        self.stageIndexOf = stageIndexOf
        self.dependencyCounts = pending
        self.dependentStart = counts
        self.dependentList = list
        self.producers = producers
        self.hasClose = hasClose
        self.hasMemberNodes = hasMemberNodes
    }
}

/// One execution of a graph section: readiness bookkeeping and everything the step produced.
///
/// A class, owned by the executor actor and never shared: reading one field through the actor's
/// optional struct property copied the whole step (a dozen retains and releases) on every call.
final class SectionRun {
    var round: Int
    var phase: RoundPhase
    /// The section's shape, shared by every pass of it.
    let layout: SectionLayout
    /// Dependencies of each node not finished yet.
    var pendingDependencies: [Int]
    var results: [NodeResult?]
    var unfinished: Int
    var startedStages: Set<Int> = []
    var reviews: [Review] = []
    /// Positions in `reviews` of the reviews each member received.
    var reviewsByTarget: [String: [Int]] = [:]
    var unscored = 0
    var synthesis: Synthesis?
    var synthesisBy: String?
    /// The model that wrote `synthesis` (a fallback when the primary failed).
    var synthesisModel: ModelRef?
    /// The vote taken in this step, if it has a `vote` stage.
    var vote: VoteResult?
    /// The answer text that carries the vote's winning value.
    var voteWinnerText: String?
    var droppedThisRound: Set<String> = []
    var droppedNames: [String] = []
    var calls = 0
    var usage = TokenUsage()
    var costUSD: Double = 0

    init(round: Int, phase: RoundPhase, layout: SectionLayout) {
        self.round = round
        self.phase = phase
        self.layout = layout
        self.pendingDependencies = layout.dependencyCounts
        self.results = [NodeResult?](repeating: nil, count: layout.nodes.count)
        self.unfinished = layout.nodes.count
    }

    var stages: [GraphStage] { layout.stages }
    /// The step's nodes in stage order; a node is known by its position here.
    var nodes: [GraphNode] { layout.nodes }
    /// The stage index (``GraphStage/index``) of each node.
    var stageIndexOf: [Int] { layout.stageIndexOf }
    var hasClose: Bool { layout.hasClose }
    var hasMemberNodes: Bool { layout.hasMemberNodes }

    /// Positions of the nodes with no unfinished dependency, in stage order.
    var initiallyReady: [Int] {
        pendingDependencies.indices.filter { pendingDependencies[$0] == 0 }
    }

    /// Dependents of the node at `index`.
    func dependents(of index: Int) -> ArraySlice<Int> {
        layout.dependentList[layout.dependentStart[index]..<layout.dependentStart[index + 1]]
    }

    /// Records a review and indexes it by the member reviewed.
    func addReview(_ review: Review) {
        reviewsByTarget[review.target, default: []].append(reviews.count)
        reviews.append(review)
    }

    /// The latest text `participant` produced in a stage before `stageIndex`, if any.
    func latestText(of participant: String, before stageIndex: Int) -> (text: String, model: ModelRef?, stage: Int)? {
        let stageIndexOf = layout.stageIndexOf
        for index in (layout.producers[participant] ?? []).reversed() {
            let stage = stageIndexOf[index]
            guard stage < stageIndex, let result = results[index] else { continue }
            if let text = result.text { return (text, result.model, stage) }
            if let synthesis = result.synthesis { return (synthesis.synthesis, result.model, stage) }
        }
        return nil
    }
}
