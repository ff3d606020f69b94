import Testing

@testable import RefineryCompiler

@Suite struct ExecutionGraphTests {
    typealias F = GraphFixtures

    @Test func consensusClassicHasTwelveCallsPerRound() {
        let graph = ExecutionGraph(workflow: F.consensusClassic)
        #expect(graph.prelude.stages.isEmpty)
        #expect(graph.epilogue.stages.isEmpty)
        #expect(graph.round?.callCount == 12)
        #expect(graph.round?.nodes.count == 13)
        #expect(graph.round?.stages.map(\.index) == [0, 1, 2, 3])
        #expect(graph.callCount(rounds: 2) == 24)
    }

    @Test func consensusHasNineCallsPerRound() {
        let graph = ExecutionGraph(workflow: F.consensus)
        #expect(graph.round?.callCount == 9)
    }

    /// The target's answer (what the review reads) and the reviewer's own (whether the reviewer still takes part:
    /// one whose answer failed for good is dropped before its reviews start), never a stage barrier.
    @Test func evaluateDependsOnTheTargetsAndTheReviewersAnswer() throws {
        let graph = ExecutionGraph(workflow: F.consensusClassic)
        let node = try #require(graph.node(id: "s1.evaluate[a>b]"))
        #expect(node.dependencies == ["s0.propose[b]", "s0.propose[a]"])
        #expect(node.kind == .evaluate(reviewer: "a", target: "b"))
        #expect(graph.node(id: "s1.evaluate[a>a]") == nil)
    }

    @Test func refineDependsOnReviewsReceivedAndOwnAnswer() throws {
        let graph = ExecutionGraph(workflow: F.consensusClassic)
        let node = try #require(graph.node(id: "s2.refine[b]"))
        #expect(node.dependencies == ["s0.propose[b]", "s1.evaluate[a>b]", "s1.evaluate[c>b]"])
    }

    @Test func closeDependsOnEveryCallOfTheSection() throws {
        let graph = ExecutionGraph(workflow: F.consensus)
        let close = try #require(graph.node(id: "s2.close"))
        #expect(close.dependencies.count == 9)
        #expect(close.dependencies.first == "s0.propose[a]")
        #expect(close.dependencies.last == "s1.evaluate[c>b]")
    }

    @Test func firstProposeOfASectionHasNoDependencies() throws {
        let graph = ExecutionGraph(workflow: F.consensus)
        #expect(try #require(graph.node(id: "s0.propose[c]")).dependencies.isEmpty)
    }

    @Test func namedParticipantsSelectEveryInstanceOfAnEntry() {
        let members = [F.member("gem#1"), F.member("gem#2"), F.member("claude")]
        let stages: [Stage] = [
            .propose(ProposeStage(common: StageCommon(by: .named(["gem"])))),
            .propose(ProposeStage(common: StageCommon(by: .named(["claude", "gem#2", "nobody"])))),
        ]
        let graph = ExecutionGraph(workflow: F.workflow(stages, members: members))
        #expect(graph.prelude.stages[0].nodes.map(\.participant) == ["gem#1", "gem#2"])
        #expect(graph.prelude.stages[1].nodes.map(\.participant) == ["gem#2", "claude"])
    }

    @Test func batchedEvaluationIsOneCallPerReviewer() throws {
        let stages: [Stage] = [F.propose, .evaluate(EvaluateStage(mode: .batched)), F.refine]
        let graph = ExecutionGraph(workflow: F.workflow(stages))
        #expect(graph.prelude.stages[1].nodes.map(\.id) == ["s1.evaluate[a]", "s1.evaluate[b]", "s1.evaluate[c]"])
        let node = try #require(graph.node(id: "s1.evaluate[b]"))
        #expect(node.kind == .evaluateBatch(reviewer: "b", targets: ["a", "c"]))
        #expect(node.dependencies == ["s0.propose[a]", "s0.propose[c]", "s0.propose[b]"])
        #expect(
            try #require(graph.node(id: "s2.refine[a]")).dependencies
                == ["s0.propose[a]", "s1.evaluate[b]", "s1.evaluate[c]"])
    }

    @Test func synthesizeByArbiterThenVerify() throws {
        let stages: [Stage] = [F.propose, F.synthesize, .verify(VerifyStage(questions: 2))]
        let graph = ExecutionGraph(workflow: F.workflow(stages))
        #expect(graph.prelude.callCount == 3 + 1 + 4)
        let synth = try #require(graph.node(id: "s1.synthesize[arbiter]"))
        #expect(synth.dependencies == ["s0.propose[a]", "s0.propose[b]", "s0.propose[c]"])
        #expect(try #require(graph.node(id: "s2.verify.plan[arbiter]")).dependencies == ["s1.synthesize[arbiter]"])
        let answer = try #require(graph.node(id: "s2.verify.answer[arbiter#2]"))
        #expect(answer.kind == .verifyAnswer(by: "arbiter", question: 1))
        #expect(answer.dependencies == ["s2.verify.plan[arbiter]"])
        #expect(
            try #require(graph.node(id: "s2.verify.revise[arbiter]")).dependencies
                == ["s2.verify.plan[arbiter]", "s2.verify.answer[arbiter#1]", "s2.verify.answer[arbiter#2]"])
    }

    @Test func verifyWithoutSynthesisChecksTheFirstAnswer() throws {
        let stages: [Stage] = [F.propose, .verify(VerifyStage())]
        let graph = ExecutionGraph(workflow: F.workflow(stages, members: [F.member("solo")]))
        #expect(graph.prelude.callCount == 1 + 5)
        #expect(try #require(graph.node(id: "s1.verify.plan[arbiter]")).dependencies == ["s0.propose[solo]"])
    }

    @Test func synthesizeByMembersIsOneCallEach() {
        let stages: [Stage] = [F.propose, .synthesize(SynthesizeStage(common: StageCommon(by: .members)))]
        let graph = ExecutionGraph(workflow: F.workflow(stages))
        #expect(
            graph.prelude.stages[1].nodes.map(\.id)
                == ["s1.synthesize[a]", "s1.synthesize[b]", "s1.synthesize[c]"])
    }

    @Test(arguments: [
        (ProposeStage.Context.ownHistory, ["s0.propose[b]"]),
        (.peers, ["s0.propose[a]", "s0.propose[b]", "s0.propose[c]"]),
        (.synthesis, ["s0.propose[a]", "s0.propose[b]", "s0.propose[c]"]),
        (.none, ["s0.propose[b]"]),
    ])
    func secondProposeFollowsItsContext(context: ProposeStage.Context, expected: [String]) throws {
        let stages: [Stage] = [F.propose, .propose(ProposeStage(context: context))]
        let graph = ExecutionGraph(workflow: F.workflow(stages))
        #expect(try #require(graph.node(id: "s1.propose[b]")).dependencies == expected)
    }

    @Test func synthesisContextReadsTheSynthesis() throws {
        let stages: [Stage] = [
            .repeat([F.propose, F.synthesize, .propose(ProposeStage(context: .synthesis)), F.close])
        ]
        let graph = ExecutionGraph(workflow: F.workflow(stages))
        #expect(try #require(graph.node(id: "s2.propose[a]")).dependencies == ["s1.synthesize[arbiter]"])
    }

    @Test func critiqueReviseDependsOnOwnAnswerOnly() throws {
        let stages: [Stage] = [
            F.propose,
            .repeat([.refine(RefineStage(refineProtocol: .critiqueRevise)), F.close]),
        ]
        let graph = ExecutionGraph(workflow: F.workflow(stages, members: [F.member("solo")]))
        #expect(graph.prelude.nodes.map(\.id) == ["s0.propose[solo]"])
        // The prelude's answer exists before the round starts: no cross-section edge.
        #expect(try #require(graph.node(id: "s1.refine[solo]")).dependencies.isEmpty)
        #expect(try #require(graph.node(id: "s2.close")).dependencies == ["s1.refine[solo]"])
    }

    @Test func sectionsSplitAroundTheRepeatBlock() {
        let stages: [Stage] = [F.propose, .repeat([F.evaluate, F.close]), F.synthesize]
        let graph = ExecutionGraph(workflow: F.workflow(stages))
        #expect(graph.prelude.stages.map(\.index) == [0])
        #expect(graph.round?.stages.map(\.index) == [1, 2])
        #expect(graph.epilogue.stages.map(\.index) == [3])
        #expect(graph.epilogue.nodes.first?.dependencies == [])
        #expect(graph.callCount(rounds: 3) == 3 + 6 * 3 + 1)
    }

    @Test func nodeIdsAreUnique() {
        let stages: [Stage] = [
            F.propose, .repeat([F.evaluate, .evaluate(EvaluateStage(mode: .batched)), F.refine, F.close]),
            F.synthesize, .verify(VerifyStage(common: StageCommon(by: .members))),
        ]
        let ids = ExecutionGraph(workflow: F.workflow(stages)).allNodes.map(\.id)
        #expect(Set(ids).count == ids.count)
        #expect(ids.count == 3 + (6 + 3 + 3 + 1) + 1 + 15)
    }

    @Test(arguments: [("gem#2", "gem"), ("claude", "claude"), ("a#b", "a#b"), ("x#", "x#")])
    func entryNames(id: String, entry: String) {
        #expect(ExecutionGraph.entryName(ofMember: id) == entry)
    }
}

@Suite struct GraphSectionQueryTests {
    typealias F = GraphFixtures

    @Test func latestAnswersAreTheLastAnswerNodes() {
        let graph = ExecutionGraph(workflow: F.consensusClassic)
        #expect(graph.round?.latestAnswers == ["a": "s2.refine[a]", "b": "s2.refine[b]", "c": "s2.refine[c]"])
        #expect(graph.round?.latestSyntheses == [])
    }

    @Test func latestSynthesesAndVerifyRevisions() {
        let stages: [Stage] = [
            F.propose, .synthesize(SynthesizeStage(common: StageCommon(by: .members))),
            .verify(VerifyStage(common: StageCommon(by: .named(["b"])), questions: 1)),
        ]
        let graph = ExecutionGraph(workflow: F.workflow(stages))
        #expect(
            graph.prelude.latestAnswers == ["a": "s0.propose[a]", "b": "s2.verify.revise[b]", "c": "s0.propose[c]"])
        #expect(graph.prelude.latestSyntheses == ["s1.synthesize[a]", "s1.synthesize[b]", "s1.synthesize[c]"])
    }
}
