// A graph section laid out for running it: nodes by position, dependencies resolved to positions.
// A fact of the graph, made once when the section is built: every run of the workflow (each item of a
// batch) and every pass of a `repeat` block reads the same layout.

/// What a ``GraphSection`` is, laid out for the engine: its nodes by position and its dependencies
/// resolved to positions, in flat arrays. Made when the section is made (``GraphSection/layout``):
/// resolving each dependency's node id (hashing strings) was most of setting a round up, and built once
/// a run it was still ~2,000 instructions of every call of a batch (Benchmarks/README.md, session 8).
package final class SectionLayout: Sendable {
    /// The section's stages.
    package let stages: [GraphStage]
    /// The section's nodes in stage order; a node is known by its position here.
    package let nodes: [GraphNode]
    /// The stage index (``GraphStage/index``) of each node.
    package let stageIndexOf: [Int]
    /// Dependencies of each node, counted.
    package let dependencyCounts: [Int]
    /// Dependents of node `i`: `dependentList[dependentStart[i]..<dependentStart[i + 1]]`, in stage order.
    package let dependentStart: [Int]
    package let dependentList: [Int]
    /// Text-producing nodes per participant (``NodeKind/producedTextOf``), in stage order.
    package let producers: [String: [Int]]
    /// Participants of the model-call nodes, each once, in order of first appearance.
    package let callParticipants: [String]
    /// Model calls of one pass, what ``GraphSection/callCount`` answers.
    package let callCount: Int
    /// Whether the section has a `close` stage.
    package let hasClose: Bool

    /// Sized once, with flat arrays indexed by position: N² nodes a round.
    package init(stages: [GraphStage]) {
        self.stages = stages
        let nodeCount = stages.reduce(0) { $0 + $1.nodes.count }
        var nodes: [GraphNode] = []
        var position: [String: Int] = [:]
        var stageIndexOf: [Int] = []
        var producers: [String: [Int]] = [:]
        var callParticipants: [String] = []
        var callCount = 0
        var hasClose = false
        nodes.reserveCapacity(nodeCount)
        position.reserveCapacity(nodeCount)
        stageIndexOf.reserveCapacity(nodeCount)
        for stage in stages {
            if case .close = stage.stage { hasClose = true }
            for node in stage.nodes {
                let index = nodes.count
                position[node.id] = index
                nodes.append(node)
                stageIndexOf.append(stage.index)
                if node.isCall {
                    callCount += 1
                    if !callParticipants.contains(node.participant) { callParticipants.append(node.participant) }
                }
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
        self.callParticipants = callParticipants
        self.callCount = callCount
        self.hasClose = hasClose
    }
}
