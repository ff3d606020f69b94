import Foundation
import Testing

@testable import RefineryCompiler

/// The layout a section carries for the engine (made once per graph, shared by every run of it) always
/// describes the section's stages: when built, decoded or changed.
@Suite struct SectionLayoutTests {
    typealias F = GraphFixtures

    /// Positions of `ids` in `layout`'s nodes.
    private func positions(_ ids: [String], in layout: SectionLayout) -> [Int] {
        ids.compactMap { id in layout.nodes.firstIndex { $0.id == id } }
    }

    @Test func dependenciesAreResolvedToPositions() throws {
        let section = try #require(ExecutionGraph(workflow: F.consensusClassic).round)
        let layout = section.layout
        #expect(layout.nodes.map(\.id) == section.stages.flatMap(\.nodes).map(\.id))
        #expect(layout.callCount == 12)
        #expect(layout.hasClose)
        #expect(layout.callParticipants == ["a", "b", "c"])
        for (index, node) in layout.nodes.enumerated() {
            #expect(layout.dependencyCounts[index] == node.dependencies.count)
            let dependents = layout.dependentList[layout.dependentStart[index]..<layout.dependentStart[index + 1]]
            let expected = layout.nodes.enumerated().filter { $0.element.dependencies.contains(node.id) }.map(\.offset)
            #expect(Array(dependents) == expected)
        }
        #expect(layout.producers["b"] == positions(["s0.propose[b]", "s2.refine[b]"], in: layout))
    }

    @Test func aDecodedOrChangedSectionIsLaidOutAgain() throws {
        let classic = try #require(ExecutionGraph(workflow: F.consensusClassic).round)
        let consensus = try #require(ExecutionGraph(workflow: F.consensus).round)
        let decoded = try JSONDecoder().decode(GraphSection.self, from: JSONEncoder().encode(classic))
        #expect(decoded == classic)
        #expect(decoded.layout.nodes == classic.layout.nodes)
        #expect(decoded.layout.dependentList == classic.layout.dependentList)
        var changed = classic
        changed.stages = consensus.stages
        #expect(changed == consensus)
        #expect(changed.layout.callCount == 9)
        #expect(changed.layout.nodes == consensus.layout.nodes)
        #expect(changed.layout.dependentList == consensus.layout.dependentList)
        #expect(classic.layout.callCount == 12)
    }
}
