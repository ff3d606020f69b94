// The state of one step (prelude, one round, or epilogue) while its nodes run.

import RefineryCompiler

/// One execution of a graph section: readiness bookkeeping and everything the step produced.
///
/// A class, owned by the executor actor and never shared: reading one field through the actor's
/// optional struct property copied the whole step (a dozen retains and releases) on every call.
final class SectionRun {
    var round: Int
    var phase: RoundPhase
    /// The section's shape, the graph's: shared by every pass and every run of it.
    let layout: SectionLayout
    /// Dependencies of each node not finished yet.
    var pendingDependencies: [Int]
    var results: [NodeResult?]
    var unfinished: Int
    var startedStages: Set<Int> = []
    var reviews: [Review] = []
    /// Positions in `reviews` of the reviews each member received.
    var reviewsByTarget: [String: [Int]] = [:]
    /// The reviews recorded unscored, each as who reviewed whom in which round and why.
    var unscored: [String] = []
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
