// The state of one step (prelude, one round, or epilogue) while its nodes run.

import RefineryCompiler

/// One execution of a graph section: readiness bookkeeping and everything the step produced.
///
/// A class, owned by the executor actor and never shared: reading one field through the actor's
/// optional struct property copied the whole step (a dozen retains and releases) on every call.
final class SectionRun {
    var round: Int
    var phase: RoundPhase
    var stages: [GraphStage]
    /// The step's nodes in stage order; a node is known by its position here.
    let nodes: [GraphNode]
    /// Position of each node id.
    let position: [String: Int]
    /// The stage index (``GraphStage/index``) of each node.
    let stageIndexOf: [Int]
    /// Dependencies of each node not finished yet.
    var pendingDependencies: [Int]
    /// Dependents of node `i`: `dependentList[dependentStart[i]..<dependentStart[i + 1]]`, in stage order.
    let dependentStart: [Int]
    let dependentList: [Int]
    var results: [NodeResult?]
    /// Answer-producing nodes per participant, in stage order.
    let producers: [String: [Int]]
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
    let hasClose: Bool
    let hasMemberNodes: Bool

    /// Sized once, with flat arrays indexed by position: N² nodes a round, and keying every table by
    /// node id hashed strings a dozen times per call.
    init(round: Int, phase: RoundPhase, section: GraphSection, memberIDs: Set<String>) {
        self.round = round
        self.phase = phase
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
        self.position = position
        self.stageIndexOf = stageIndexOf
        self.pendingDependencies = pending
        self.dependentStart = counts
        self.dependentList = list
        self.results = [NodeResult?](repeating: nil, count: nodes.count)
        self.producers = producers
        self.unfinished = nodes.count
        self.hasClose = hasClose
        self.hasMemberNodes = hasMemberNodes
    }

    /// Positions of the nodes with no unfinished dependency, in stage order.
    var initiallyReady: [Int] {
        pendingDependencies.indices.filter { pendingDependencies[$0] == 0 }
    }

    /// Dependents of the node at `index`.
    func dependents(of index: Int) -> ArraySlice<Int> {
        dependentList[dependentStart[index]..<dependentStart[index + 1]]
    }

    /// Records a review and indexes it by the member reviewed.
    func addReview(_ review: Review) {
        reviewsByTarget[review.target, default: []].append(reviews.count)
        reviews.append(review)
    }

    /// The latest text `participant` produced in a stage before `stageIndex`, if any.
    func latestText(of participant: String, before stageIndex: Int) -> (text: String, model: ModelRef?, stage: Int)? {
        for index in (producers[participant] ?? []).reversed() {
            let stage = stageIndexOf[index]
            guard stage < stageIndex, let result = results[index] else { continue }
            if let text = result.text { return (text, result.model, stage) }
            if let synthesis = result.synthesis { return (synthesis.synthesis, result.model, stage) }
        }
        return nil
    }
}
