import Foundation
import RefineryCompiler
import RefineryTestSupport
import Testing

@testable import RefineryRuntime

@Suite struct AlgorithmTests {
    @Test(arguments: [2, 3, 4])
    func classicRefineryMakesNSquaredPlusNCallsARound(n: Int) async throws {
        let provider = ScriptedProvider(script: Fixtures.script())
        let workflow = Fixtures.workflow(
            members: Fixtures.members(n),
            stages: [.repeat([.proposeStage, .pairwise, .refineStage, .closeStage])],
            iterations: Iterations(min: 1, max: 2))
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration())
        let outcome = try await engine.run("Explain entropy.")
        #expect(outcome.rounds.map(\.calls) == [n * n + n, n * n + n])
        #expect(outcome.totalCalls == 2 * (n * n + n))
        #expect(outcome.status == .maxRounds)
        #expect(outcome.finalRound == 2)
        // No member is ever asked to score itself.
        for call in provider.calls where call.kind == "evaluatePairwise" {
            #expect(call.labels.values.allSatisfy { $0 != call.participant })
        }
        #expect(provider.calls.filter { $0.kind == "evaluatePairwise" }.count == 2 * n * (n - 1))
        #expect(provider.calls.filter { $0.kind == "refine" }.count == 2 * n)
    }

    @Test func consensusMakesNSquaredCallsARoundAndFeedsBackOwnHistory() async throws {
        let provider = ScriptedProvider(script: Fixtures.script())
        let workflow = Fixtures.workflow(
            members: Fixtures.members(3), stages: [.repeat([.proposeStage, .pairwise, .closeStage])],
            iterations: Iterations(min: 1, max: 3))
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration())
        let outcome = try await engine.run("Explain entropy.")
        #expect(outcome.rounds.map(\.calls) == [9, 9, 9])
        let roundTwo = provider.calls.filter { $0.round == 2 && $0.kind.hasPrefix("propose") }
        #expect(roundTwo.count == 3)
        #expect(roundTwo.allSatisfy { $0.kind == "proposeWithHistory" })
        // m1's round-2 prompt holds its own round-1 answer and the reviews it received.
        let m1 = try #require(roundTwo.first { $0.participant == "m1" })
        #expect(m1.user.contains(Fixtures.answer("m1", round: 1)))
        #expect(m1.user.contains("8.0/10"))
        #expect(!m1.user.contains(Fixtures.answer("m2", round: 1)))
    }

    @Test func batchedEvaluationMakesOneCallPerReviewerWithShuffledLabels() async throws {
        let provider = ScriptedProvider(script: Fixtures.script { reviewer, target, _ in target == "m2" ? 9 : 6 })
        let workflow = Fixtures.workflow(
            members: Fixtures.members(4),
            stages: [.proposeStage, .evaluate(EvaluateStage(mode: .batched))], output: .winner)
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration())
        let outcome = try await engine.run("Q")
        let batches = provider.calls.filter { $0.kind == "evaluateBatched" }
        #expect(batches.count == 4)
        for batch in batches {
            #expect(batch.labels.count == 3)
            #expect(!batch.labels.values.contains(batch.participant))
            #expect(batch.request.responseFormat != nil)
        }
        // Labels are shuffled per reviewer: not every reviewer sees the same member under `A`.
        #expect(Set(batches.compactMap { $0.labels["A"] }).count > 1)
        #expect(outcome.winner?.memberID == "m2")
        #expect(outcome.winner?.meanScore == 9)
        #expect(outcome.answers.first { $0.memberID == "m1" }?.scoresReceived == 3)
        #expect(outcome.status == .converged)
        #expect(outcome.stoppedBy.hasPrefix("single-pass"))
    }

    @Test func theArbitersRankingIsDecodedToMembersButNeverShownAsThem() async throws {
        // The arbiter ranks by member id, highest first, under its own labels ("Response B" style for one,
        // and a label it made up, which cannot be decoded).
        let provider = ScriptedProvider { call in
            guard call.kind == "synthesize" else { return Fixtures.script()(call) }
            let byMember = call.labels.sorted { $0.value > $1.value }.map(\.key)
            let ranking = ["Response \(byMember[0])"] + byMember.dropFirst() + ["Q"]
            return .text(ScriptedReplies.synthesis("Merged", confidence: 0.9, ranking: ranking))
        }
        let workflow = Fixtures.workflow(
            members: Fixtures.members(3), arbiter: Arbiter(model: ModelRef(provider: "test", model: "arbiter")),
            stages: [
                .repeat([.propose(ProposeStage(context: .synthesis)), .synthesize(SynthesizeStage()), .closeStage])
            ],
            iterations: Iterations(min: 2, max: 2), output: .synthesis)
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration())
        let outcome = try await engine.run("Q")
        let synthesis = try #require(outcome.synthesis)
        #expect(synthesis.rankedMembers == ["m3", "m2", "m1"])
        #expect(synthesis.ranking.count == 4)
        #expect(!synthesis.ranking.contains { $0.hasPrefix("m") })
        // The labels the arbiter saw are the ones the anonymization map records for it.
        let arbiterLabels = Dictionary(
            uniqueKeysWithValues: outcome.anonymizationMap.filter { $0.viewer == "arbiter" && $0.round == 2 }
                .map { ($0.label, $0.memberID) })
        #expect(synthesis.ranking.prefix(3).map { arbiterLabels[$0] } == ["m3", "m2", "m1"])
    }

    @Test func consortiumLoopsOnConfidenceAndFeedsTheSynthesisBack() async throws {
        let provider = ScriptedProvider(
            script: Fixtures.script(synthesis: { round in
                round == 1
                    ? ScriptedReplies.synthesis(
                        "Draft synthesis", confidence: 0.5, needsIteration: true, refinementAreas: ["cite sources"])
                    : ScriptedReplies.synthesis("Final synthesis", confidence: 0.92)
            }))
        let members = [
            Member(id: "gpt#1", model: ModelRef(provider: "openai", model: "gpt-4o")),
            Member(id: "gpt#2", model: ModelRef(provider: "openai", model: "gpt-4o")),
        ]
        let workflow = Fixtures.workflow(
            members: members, arbiter: Arbiter(model: ModelRef(provider: "anthropic", model: "claude-opus-4-6")),
            stages: [
                .repeat([.propose(ProposeStage(context: .synthesis)), .synthesize(SynthesizeStage()), .closeStage])
            ],
            iterations: Iterations(min: 1, max: 4), convergence: .confidence(threshold: 0.8), output: .synthesis)
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration())
        let outcome = try await engine.run("Key AGI safety considerations?")
        #expect(outcome.status == .converged)
        #expect(outcome.finalRound == 2)
        #expect(outcome.rounds.map(\.calls) == [3, 3])
        #expect(outcome.finalAnswer == "Final synthesis")
        #expect(outcome.synthesis?.confidence == 0.92)
        let roundTwo = provider.calls.filter { $0.round == 2 && $0.participant != "arbiter" }
        #expect(roundTwo.count == 2)
        for call in roundTwo {
            #expect(call.kind == "proposeWithSynthesis")
            #expect(call.user.contains("Draft synthesis"))
            #expect(call.user.contains("cite sources"))
        }
        let synthesisCalls = provider.calls.filter { $0.kind == "synthesize" }
        #expect(synthesisCalls.allSatisfy { $0.participant == "arbiter" && $0.labels.count == 2 })
    }

    @Test func consortiumHonoursMinIterations() async throws {
        let provider = ScriptedProvider(script: Fixtures.script())  // confidence 0.9 from round 1
        let workflow = Fixtures.workflow(
            members: Fixtures.members(2), arbiter: Arbiter(model: ModelRef(provider: "test", model: "arbiter")),
            stages: [
                .repeat([.propose(ProposeStage(context: .synthesis)), .synthesize(SynthesizeStage()), .closeStage])
            ],
            iterations: Iterations(min: 3, max: 5), convergence: .confidence(threshold: 0.8), output: .synthesis)
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration())
        let outcome = try await engine.run("Q")
        #expect(outcome.finalRound == 3)
        #expect(outcome.status == .converged)
        #expect(outcome.rounds.compactMap(\.decision?.shouldStop) == [false, false, true])
    }

    @Test func selfRefineUsesCritiqueReviseAndStopsWhenTheDraftSettles() async throws {
        let provider = ScriptedProvider { call in
            switch call.kind {
            case "critiqueRevise":
                // Round 1 changes the draft; round 2 repeats it verbatim ("no material issues").
                return .text(ScriptedReplies.critiqueRevise(critique: "tighten", revised: "Tight draft"))
            default:
                return .text("A long first draft that rambles")
            }
        }
        let workflow = Fixtures.workflow(
            members: Fixtures.members(1),
            stages: [.proposeStage, .repeat([.refine(RefineStage(refineProtocol: .critiqueRevise)), .closeStage])],
            iterations: Iterations(min: 1, max: 5), convergence: .semantic(SemanticOptions()), output: .draft)
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration())
        let outcome = try await engine.run("Write a haiku.")
        #expect(outcome.status == .converged)
        #expect(outcome.finalRound == 2)
        #expect(outcome.finalAnswer == "Tight draft")
        #expect(outcome.draft == "Tight draft")
        let refines = provider.calls.filter { $0.kind == "critiqueRevise" }
        #expect(refines.count == 2)
        #expect(refines[0].user.contains("A long first draft that rambles"))
        #expect(refines[1].user.contains("Tight draft"))
    }

    @Test func refineSkipsDraftsShorterThanMinBytes() async throws {
        let provider = ScriptedProvider(script: Fixtures.script())
        let workflow = Fixtures.workflow(
            members: Fixtures.members(2),
            stages: [.proposeStage, .refine(RefineStage(refineProtocol: .critiqueRevise, minBytes: 10_000))])
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration())
        let outcome = try await engine.run("Q")
        #expect(provider.calls.count == 2)
        #expect(outcome.answers.map(\.answer) == [Fixtures.answer("m1", round: 0), Fixtures.answer("m2", round: 0)])
    }

    @Test func factoredVerificationAnswersQuestionsWithoutTheDraft() async throws {
        let provider = ScriptedProvider { call in
            switch call.kind {
            case "verifyPlan": return .text(ScriptedReplies.questions(["Is X true?", "Is Y true?"]))
            case "verifyAnswer": return .text("Checked: \(call.user.contains("Is X") ? "X yes" : "Y no")")
            case "verifyRevise": return .text("Verified draft")
            default: return .text("The draft says X and Y")
            }
        }
        let workflow = Fixtures.workflow(
            members: Fixtures.members(1), arbiter: Arbiter(model: ModelRef(provider: "test", model: "arbiter")),
            stages: [.proposeStage, .verify(VerifyStage(questions: 3))], output: .draft)
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration())
        let outcome = try await engine.run("Q")
        // Plan, two answers (the plan returned two of three questions), revise: k + 2 at most.
        #expect(
            provider.calls.map(\.kind).filter { $0.hasPrefix("verify") }.sorted()
                == ["verifyAnswer", "verifyAnswer", "verifyPlan", "verifyRevise"])
        for call in provider.calls where call.kind == "verifyAnswer" {
            #expect(!call.user.contains("The draft says X and Y"))
        }
        let revise = try #require(provider.calls.first { $0.kind == "verifyRevise" })
        #expect(revise.user.contains("X yes") && revise.user.contains("Y no"))
        #expect(revise.user.contains("The draft says X and Y"))
        #expect(outcome.finalAnswer == "Verified draft")
    }

    @Test func debateShowsPeersUnderLabelsFromRoundTwo() async throws {
        let provider = ScriptedProvider(script: Fixtures.script())
        let workflow = Fixtures.workflow(
            members: Fixtures.members(3), stages: [.repeat([.propose(ProposeStage(context: .peers)), .closeStage])],
            iterations: Iterations(min: 2, max: 2))
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration())
        _ = try await engine.run("Q")
        let m1 = try #require(provider.calls.first { $0.round == 2 && $0.participant == "m1" })
        #expect(m1.kind == "proposeWithPeers")
        #expect(m1.user.contains(Fixtures.answer("m2", round: 1)))
        #expect(m1.user.contains(Fixtures.answer("m3", round: 1)))
        // Du et al.: its own previous answer too, as its own (never under a peer's label).
        #expect(m1.user.contains("## Your previous answer\n" + Fixtures.answer("m1", round: 1)))
        #expect(m1.context?.labels.values.contains("m1") == false)
    }

    /// Wang et al.: every proposer of a layer gets all N answers of the layer before, its own included.
    @Test func mixtureOfAgentsGivesEveryProposerAllAnswersOfTheLayerBefore() async throws {
        let provider = ScriptedProvider(script: Fixtures.script())
        let builtin = try #require(BuiltinWorkflows.all.first { $0.name == "moa" })
        var workflow = try #require(WorkflowCompiler().compile(yaml: builtin.text).workflow)
        workflow.members = Fixtures.members(3)
        workflow.arbiter = Arbiter(model: ModelRef(provider: "test", model: "arbiter"))
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration())
        _ = try await engine.run("Q")
        for round in 1...2 {
            let layer = provider.calls.filter { $0.round == round && $0.kind == "proposeWithPeers" }
            #expect(layer.count == 3)
            for call in layer {
                let kind = round == 1 ? "propose" : "proposeWithPeers"
                let previous = ["m1", "m2", "m3"].map { Fixtures.answer($0, round: round - 1, kind: kind) }
                #expect(previous.allSatisfy { call.user.contains($0) }, "\(call.participant) round \(round)")
            }
        }
    }

    /// `anonymize: false`: reviewers see the model id that wrote each answer instead of a label.
    @Test(arguments: [EvaluateStage.Mode.pairwise, .batched])
    func evaluationWithoutAnonymityShowsTheAuthorsModel(mode: EvaluateStage.Mode) async throws {
        let provider = ScriptedProvider(script: Fixtures.script { _, target, _ in target == "m3" ? 9 : 6 })
        var members = Fixtures.members(3)
        members[2].model = members[1].model  // m2 and m3 share test/model-2
        let workflow = Fixtures.workflow(
            members: members, stages: [.proposeStage, .evaluate(EvaluateStage(mode: mode, anonymize: false))])
        let outcome = try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration()
        ).run("Q")
        let m1 = provider.calls.filter { $0.participant == "m1" && $0.kind.hasPrefix("evaluate") }
        #expect(Set(m1.flatMap(\.labels.keys)) == ["test/model-2 (m2)", "test/model-2 (m3)"])
        // m2's review of m1's answer (pairwise, its reviews of m1 and m3 run side by side, in either order).
        let m2 = try #require(
            provider.calls.first {
                $0.participant == "m2" && $0.kind.hasPrefix("evaluate") && $0.labels["test/model-1"] != nil
            })
        #expect(m2.labels["test/model-1"] == "m1")
        #expect(m2.user.contains("### Response test/model-1") || m2.user.contains("## Response test/model-1"))
        #expect(!m2.user.contains("You do not know who wrote"))
        #expect(outcome.winner?.memberID == "m3")
    }
}
