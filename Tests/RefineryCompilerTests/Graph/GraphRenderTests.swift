import Testing

@testable import RefineryCompiler

@Suite struct GraphRenderTests {
    typealias F = GraphFixtures

    static let small = F.workflow(
        [F.propose, .repeat([F.evaluate, F.close]), F.synthesize],
        members: [F.member("a"), F.member("gem#1")], iterations: Iterations(min: 1, max: 3))

    @Test func mermaidGolden() {
        let text = ExecutionGraph(workflow: Self.small).mermaid(iterations: Self.small.iterations, title: "small")
        #expect(
            text == """
                ---
                title: small
                ---
                flowchart TD
                    subgraph prelude["prelude"]
                        direction TB
                        p0["propose · a"]
                        p1["propose · gem#35;1"]
                    end
                    subgraph round["repeat: rounds 1..3"]
                        direction TB
                        r0["evaluate a → gem#35;1"]
                        r1["evaluate gem#35;1 → a"]
                        r2{"close"}
                    end
                    subgraph epilogue["epilogue"]
                        direction TB
                        e0["synthesize · arbiter"]
                    end
                    r0 --> r2
                    r1 --> r2
                    prelude --> round
                    round --> epilogue

                """)
    }

    @Test func dotGolden() {
        let text = ExecutionGraph(workflow: Self.small).dot(iterations: Self.small.iterations)
        #expect(
            text == """
                digraph "workflow" {
                    rankdir=TB;
                    compound=true;
                    node [shape=box, style=rounded, fontname="Helvetica"];
                    subgraph cluster_prelude {
                        label="prelude";
                        p0 [label="propose · a"];
                        p1 [label="propose · gem#1"];
                    }
                    subgraph cluster_round {
                        label="repeat: rounds 1..3";
                        r0 [label="evaluate a → gem#1"];
                        r1 [label="evaluate gem#1 → a"];
                        r2 [label="close", shape=diamond, style=solid];
                    }
                    subgraph cluster_epilogue {
                        label="epilogue";
                        e0 [label="synthesize · arbiter"];
                    }
                    r0 -> r2;
                    r1 -> r2;
                    p1 -> r0 [style=dashed, ltail=cluster_prelude, lhead=cluster_round];
                    r2 -> e0 [style=dashed, ltail=cluster_round, lhead=cluster_epilogue];
                }

                """)
    }

    @Test func inSectionEdgesAreDrawn() {
        let text = ExecutionGraph(workflow: F.consensusClassic).mermaid()
        #expect(text.contains("    r0 --> r5\n"))  // propose · a → evaluate b → a
        #expect(text.split(separator: "\n").filter { $0.contains(" --> ") }.count == 12 + 9 + 12)
        #expect(!text.contains("subgraph prelude"))
    }

    @Test func renderingIsDeterministic() {
        let graph = ExecutionGraph(workflow: GraphFixtures.builtin("consortium"))
        #expect(graph.mermaid() == ExecutionGraph(workflow: GraphFixtures.builtin("consortium")).mermaid())
        #expect(graph.dot(title: "x\"y").hasPrefix("digraph \"x\\\"y\" {\n    label=\"x\\\"y\";\n"))
    }
}
