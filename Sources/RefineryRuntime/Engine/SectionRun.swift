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
    var nodes: [String: GraphNode] = [:]
    var stageIndexOf: [String: Int] = [:]
    var pendingDependencies: [String: Int] = [:]
    var dependents: [String: [String]] = [:]
    var results: [String: NodeResult] = [:]
    /// Answer-producing nodes per participant, in stage order.
    var producers: [String: [String]] = [:]
    var unfinished: Int = 0
    var startedStages: Set<Int> = []
    var reviews: [Review] = []
    var unscored = 0
    var synthesis: Synthesis?
    var synthesisBy: String?
    var droppedThisRound: Set<String> = []
    var droppedNames: [String] = []
    var calls = 0
    var usage = TokenUsage()
    var costUSD: Double = 0
    var hasClose = false
    var hasMemberNodes = false

    init(round: Int, phase: RoundPhase, section: GraphSection, memberIDs: Set<String>) {
        self.round = round
        self.phase = phase
        self.stages = section.stages
        // Sized once: growing these per node rehashed them several times a step (N² nodes a round).
        let nodeCount = section.stages.reduce(0) { $0 + $1.nodes.count }
        nodes.reserveCapacity(nodeCount)
        stageIndexOf.reserveCapacity(nodeCount)
        pendingDependencies.reserveCapacity(nodeCount)
        results.reserveCapacity(nodeCount)
        for stage in section.stages {
            if case .close = stage.stage { hasClose = true }
            for node in stage.nodes {
                nodes[node.id] = node
                stageIndexOf[node.id] = stage.index
                unfinished += 1
                if memberIDs.contains(node.participant), node.isCall { hasMemberNodes = true }
                switch node.kind {
                case .propose(let member), .refine(let member): producers[member, default: []].append(node.id)
                case .synthesize(let by), .verifyRevise(let by): producers[by, default: []].append(node.id)
                default: break
                }
            }
        }
        // In stage order (not the dictionary's), counting without an array per node.
        dependents.reserveCapacity(nodeCount)
        for stage in section.stages {
            for node in stage.nodes {
                var known = 0
                for dependency in node.dependencies where nodes[dependency] != nil {
                    known += 1
                    dependents[dependency, default: []].append(node.id)
                }
                pendingDependencies[node.id] = known
            }
        }
    }

    /// Node ids with no unfinished dependency, in stage order.
    var initiallyReady: [String] {
        stages.flatMap(\.nodes).map(\.id).filter { pendingDependencies[$0] == 0 }
    }

    /// The latest text `participant` produced in a stage before `stageIndex`, if any.
    func latestText(of participant: String, before stageIndex: Int) -> (text: String, model: ModelRef?, stage: Int)? {
        for id in (producers[participant] ?? []).reversed() {
            guard let stage = stageIndexOf[id], stage < stageIndex, let result = results[id] else { continue }
            if let text = result.text { return (text, result.model, stage) }
            if let synthesis = result.synthesis { return (synthesis.synthesis, result.model, stage) }
        }
        return nil
    }
}
