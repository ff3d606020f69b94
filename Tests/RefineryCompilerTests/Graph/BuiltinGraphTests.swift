import Testing

@testable import RefineryCompiler

/// Node, call and edge counts of every built-in with its three (or one) default members.
@Suite struct BuiltinGraphTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        /// Nodes of prelude, round, epilogue.
        var nodes: [Int]
        var callsPerRound: Int
        var calls: ClosedRange<Int>
        var edges: Int
        var testDescription: String { name }
    }

    /// `calls` brackets every run (see `WorkflowEstimate`): vote-threshold with stability 2 never
    /// stops before round 2, self-refine's refine can be skipped under `min_bytes` (and the
    /// unchanged draft converges in round 1), a verification plan may list a single question.
    static let table: [Row] = [
        Row(name: "consensus", nodes: [0, 10, 0], callsPerRound: 9, calls: 18...45, edges: 12 + 9),
        Row(name: "consensus-classic", nodes: [0, 13, 0], callsPerRound: 12, calls: 24...60, edges: 12 + 9 + 12),
        Row(name: "consortium", nodes: [0, 5, 0], callsPerRound: 4, calls: 4...12, edges: 3 + 4),
        Row(name: "self-refine", nodes: [1, 2, 0], callsPerRound: 1, calls: 1...4, edges: 1),
        // At least the answer and a plan that finds nothing to verify; at most every question and the revision.
        Row(name: "verify", nodes: [6, 0, 0], callsPerRound: 0, calls: 2...6, edges: 1 + 3 + 4),
        // The closing vote reads the last round's answers (earlier sections): no edge, no call.
        Row(name: "debate", nodes: [3, 4, 1], callsPerRound: 3, calls: 9...9, edges: 3),
        Row(name: "moa", nodes: [3, 4, 1], callsPerRound: 3, calls: 10...10, edges: 3),
        // Five samples a round, the vote on them (5 edges), close on the samples and the vote (6).
        Row(name: "self-consistency", nodes: [0, 7, 0], callsPerRound: 5, calls: 5...15, edges: 5 + 6),
        Row(name: "vote", nodes: [4, 0, 0], callsPerRound: 0, calls: 3...3, edges: 3),
    ]

    @Test(arguments: table)
    func counts(row: Row) {
        let workflow = GraphFixtures.builtin(row.name)
        let graph = ExecutionGraph(workflow: workflow)
        #expect([graph.prelude.nodes.count, graph.round?.nodes.count ?? 0, graph.epilogue.nodes.count] == row.nodes)
        #expect((graph.round?.callCount ?? 0) == row.callsPerRound)
        let estimate = WorkflowEstimate.estimate(workflow: workflow, graph: graph, catalog: .builtin, promptTokens: 50)
        #expect(estimate.calls.min == row.calls.lowerBound)
        #expect(estimate.calls.max == row.calls.upperBound)
        #expect(graph.allNodes.reduce(0) { $0 + $1.dependencies.count } == row.edges)
        #expect(estimate.unpricedModels.isEmpty)
    }

    @Test func everyDependencyPointsToAnEarlierNodeOfTheSameSection() {
        for row in Self.table {
            let graph = ExecutionGraph(workflow: GraphFixtures.builtin(row.name))
            for (_, section) in graph.sections {
                let ids = section.nodes.map(\.id)
                for (position, node) in section.nodes.enumerated() where node.isCall {
                    for dep in node.dependencies {
                        #expect(ids.prefix(position).contains(dep), "\(row.name): \(node.id) → \(dep)")
                    }
                }
            }
        }
    }
}
