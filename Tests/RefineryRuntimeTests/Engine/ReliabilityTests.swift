import Foundation
import RefineryCompiler
import RefineryTestSupport
import Testing

@testable import RefineryRuntime

@Suite struct ReliabilityTests {
    private func proposeOnly(_ members: [Member], limits: Limits) -> Workflow {
        Fixtures.workflow(members: members, stages: [.proposeStage], limits: limits)
    }

    @Test func timeoutFailsTheCallAndDropsTheMemberForTheRound() async throws {
        let clock = TestClock()
        let provider = ScriptedProvider(clock: clock) { call in
            call.participant == "m1" && call.kind == "propose"
                ? .delayed(.seconds(300), .text("late")) : Fixtures.script()(call)
        }
        // One call at a time, so m1's review of m2 is only considered after m1 timed out.
        let workflow = Fixtures.workflow(
            members: Fixtures.members(2), stages: [.repeat([.proposeStage, .pairwise, .closeStage])],
            iterations: Iterations(min: 1, max: 1),
            limits: Limits(timeoutSeconds: 60, maxConcurrent: 1, retries: 0, quorum: 1))
        let recorder = EventRecorder()
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider),
            configuration: Fixtures.configuration(clock: clock))
        async let outcome = engine.run("Q", events: recorder.sink)
        await clock.waitUntil { $0.contains(.seconds(60)) && $0.contains(.seconds(300)) }
        clock.advance(by: .seconds(60))
        let result = try await outcome
        let failed = recorder.calls("call_failed")
        #expect(failed.map(\.participant) == ["m1"])
        #expect(failed.first?.errorCode == "timeout")
        #expect(recorder.drops.map { "\($0.member):\($0.forRun)" } == ["m1:false"])
        #expect(result.answers.map(\.memberID) == ["m2"])
        // m2 had nothing to review: m1 never answered.
        #expect(provider.calls.filter { $0.kind == "evaluatePairwise" }.isEmpty)
        #expect(result.status == .maxRounds)
    }

    @Test func retryHonoursRetryAfterExactly() async throws {
        let clock = TestClock()
        let provider = ScriptedProvider(clock: clock) { call in
            if call.participant == "m1", call.attempt == 1 {
                return .error(
                    ProviderError(
                        code: .rateLimited, message: "slow down", provider: "test", statusCode: 429,
                        retryAfterSeconds: 7))
            }
            return .text("fine")
        }
        let recorder = EventRecorder()
        let ledger = InMemoryRunLedger()
        let engine = Engine(
            workflow: proposeOnly(Fixtures.members(2), limits: Limits(retries: 2, quorum: 1)),
            providers: ScriptedResolver(default: provider),
            configuration: Fixtures.configuration(clock: clock, ledger: ledger))
        async let outcome = engine.run("Q", events: recorder.sink)
        await clock.waitUntil { $0.contains(.seconds(7)) }
        clock.advance(by: .seconds(7))
        let result = try await outcome
        let retried = recorder.calls("call_retried")
        #expect(retried.count == 1)
        #expect(retried.first?.retryDelayMs == 7000)
        #expect(retried.first?.errorCode == "rate_limited")
        #expect(recorder.calls("call_started").filter { $0.participant == "m1" }.map(\.attempt) == [1, 2])
        #expect(result.answers.count == 2)
        #expect(ledger.records.first { $0.participant == "m1" }?.attempts == 2)
        #expect(result.totalCalls == 2)
    }

    @Test func retryBacksOffExponentiallyWithSeededJitter() async throws {
        let clock = TestClock()
        let provider = ScriptedProvider(clock: clock) { call in
            call.attempt <= 2 ? .error(ProviderError(code: .server, message: "500", provider: "test")) : .text("ok")
        }
        let recorder = EventRecorder()
        let engine = Engine(
            workflow: proposeOnly(Fixtures.members(1), limits: Limits(retries: 3, quorum: 1)),
            providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration(clock: clock))
        async let outcome = engine.run("Q", events: recorder.sink)
        for (low, high) in [(500, 1000), (1000, 2000)] {
            await clock.waitUntil { deadlines in deadlines.contains { $0 < .seconds(100) } }
            let start = clock.now.offset
            let delay = try #require(clock.pendingDeadlines.first { $0 < .seconds(100) }) - start
            #expect(delay >= .milliseconds(low) && delay <= .milliseconds(high))
            clock.advance(by: delay)
        }
        let result = try await outcome
        #expect(recorder.calls("call_retried").count == 2)
        #expect(result.answers.first?.answer == "ok")
    }

    @Test func permanentFailureIsNotRetriedAndDropsTheMemberForTheRun() async throws {
        let provider = ScriptedProvider { call in
            call.participant == "m1"
                ? .error(
                    ProviderError(code: .authentication, message: "key rejected", provider: "test", statusCode: 401))
                : Fixtures.script()(call)
        }
        let recorder = EventRecorder()
        let workflow = Fixtures.workflow(
            members: Fixtures.members(3), stages: [.repeat([.proposeStage, .pairwise, .closeStage])],
            iterations: Iterations(min: 2, max: 2), limits: Limits(maxConcurrent: 1, retries: 3, quorum: 2))
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration())
        let outcome = try await engine.run("Q", events: recorder.sink)
        #expect(recorder.calls("call_retried").isEmpty)
        #expect(provider.calls.filter { $0.participant == "m1" }.count == 1)
        #expect(recorder.drops.map { "\($0.member):\($0.forRun)" } == ["m1:true"])
        #expect(outcome.coverage.droppedMembers == ["m1"])
        #expect(outcome.coverage.degraded)
        #expect(outcome.status == .maxRounds)
        #expect(outcome.rounds.map(\.calls) == [1 + 2 + 2, 2 + 2])
    }

    @Test func belowQuorumTheRunEndsWithTheBestAnswerSoFar() async throws {
        let provider = ScriptedProvider { call in
            call.participant == "m3" ? .text("the only answer") : .text("unused")
        }
        let resolver = ScriptedResolver(
            default: provider,
            failures: [
                "test/model-1": ProviderError(code: .missingCredentials, message: "set TEST_KEY", provider: "test"),
                "test/model-2": ProviderError(code: .unknownModel, message: "no such model", provider: "test"),
            ])
        let workflow = Fixtures.workflow(
            members: Fixtures.members(3), stages: [.repeat([.proposeStage, .pairwise, .closeStage])],
            limits: Limits(quorum: 2))
        let engine = Engine(workflow: workflow, providers: resolver, configuration: Fixtures.configuration())
        let outcome = try await engine.run("Q")
        #expect(outcome.status == .insufficientModels)
        // Why the others did not answer is part of the reason (it was only in the events).
        #expect(
            outcome.stoppedBy
                == "quorum: 1 member answered in round 1, 2 required; "
                + "m1: missing_credentials: set TEST_KEY; m2: unknown_model: no such model")
        #expect(outcome.finalAnswer == "the only answer")
        #expect(outcome.answers.map(\.memberID) == ["m3"])
        #expect(outcome.rounds.count == 1)
        // Selected as the best answer so far, named as m3's and marked degraded, with the reason.
        let selected = try #require(outcome.selected)
        #expect(selected.memberID == "m3")
        #expect(selected.answer == "the only answer")
        #expect(selected.degraded)
        #expect(outcome.coverage.reasons.contains { $0.hasPrefix("below quorum") })
    }

    @Test func memberFallbackServesAfterAPermanentFailureAndSticks() async throws {
        let primary = ScriptedProvider { _ in
            .error(ProviderError(code: .unknownModel, message: "retired", provider: "test", statusCode: 404))
        }
        let backup = ScriptedProvider(script: Fixtures.script())
        var members = Fixtures.members(2)
        members[0].fallback = [ModelRef(provider: "backup", model: "spare")]
        // One call at a time: no second m1 call is in flight before the primary's failure is known.
        let workflow = Fixtures.workflow(
            members: members, stages: [.repeat([.proposeStage, .pairwise, .closeStage])],
            iterations: Iterations(min: 2, max: 2), limits: Limits(maxConcurrent: 1, quorum: 1))
        let resolver = ScriptedResolver(default: backup, providers: ["test/model-1": primary])
        let engine = Engine(workflow: workflow, providers: resolver, configuration: Fixtures.configuration())
        let outcome = try await engine.run("Q")
        // The primary is tried once; every later m1 call goes straight to the fallback.
        #expect(primary.calls.count == 1)
        #expect(backup.calls.filter { $0.participant == "m1" }.count == 4)
        #expect(outcome.answers.first { $0.memberID == "m1" }?.model == ModelRef(provider: "backup", model: "spare"))
        #expect(outcome.coverage.droppedMembers.isEmpty)
        #expect(outcome.coverage.degraded)
    }

    @Test func arbiterFallbackChainIsUsedWhenTheArbiterFails() async throws {
        let arbiter = ScriptedProvider { _ in .error(ProviderError(code: .overloaded, message: "529", provider: "a")) }
        let members = ScriptedProvider(script: Fixtures.script())
        let workflow = Fixtures.workflow(
            members: Fixtures.members(2),
            arbiter: Arbiter(
                model: ModelRef(provider: "a", model: "judge"), fallback: [ModelRef(provider: "b", model: "judge-2")]),
            stages: [.proposeStage, .synthesize(SynthesizeStage())], limits: Limits(retries: 0, quorum: 1),
            output: .synthesis)
        let resolver = ScriptedResolver(default: members, providers: ["a/judge": arbiter])
        let engine = Engine(workflow: workflow, providers: resolver, configuration: Fixtures.configuration())
        let outcome = try await engine.run("Q")
        #expect(arbiter.calls.count == 1)
        #expect(outcome.coverage.arbiterFallbackUsed)
        #expect(outcome.finalAnswer == "Merged answer")
    }

    @Test func unreadableReviewIsReaskedOnceWithAReminderThenUnscored() async throws {
        let provider = ScriptedProvider { call in
            switch (call.kind, call.participant) {
            case ("evaluatePairwise", "m1"): return .text("I liked it a lot!")  // never JSON
            case ("evaluatePairwise", "m2"):
                return call.reminder ? .text(ScriptedReplies.evaluation(score: 7)) : .text("{\"score\": 42}")
            case ("evaluatePairwise", _): return .text(ScriptedReplies.evaluation(score: 9))
            default: return .text(Fixtures.answer(call.participant, round: call.round))
            }
        }
        let workflow = Fixtures.workflow(members: Fixtures.members(2), stages: [.proposeStage, .pairwise])
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration())
        let outcome = try await engine.run("Q")
        let evaluations = provider.calls.filter { $0.kind == "evaluatePairwise" }
        #expect(evaluations.count == 4)
        #expect(evaluations.filter(\.reminder).count == 2)
        #expect(
            evaluations.filter(\.reminder).allSatisfy {
                $0.user.hasSuffix(ReplyParser.formatReminder(for: .evaluation))
            })
        let reviews = try #require(outcome.rounds.first?.reviews)
        #expect(reviews.first { $0.reviewer == "m1" }?.score == nil)
        #expect(reviews.first { $0.reviewer == "m2" }?.score == 7)
        #expect(outcome.coverage.unscoredReviews == 1)
        // The unscored review is absent from the mean, not a silent 0.
        #expect(outcome.answers.first { $0.memberID == "m2" }?.meanScore == nil)
        #expect(outcome.answers.first { $0.memberID == "m1" }?.meanScore == 7)
        #expect(outcome.winner?.memberID == "m1")
    }

    /// Coverage names an unscored review's step as users count rounds, from 1: a workflow without a `repeat` block
    /// said "round 0" of its single pass, and the stages around the block said rounds 0 and N + 1.
    @Test(arguments: [
        ([Stage.proposeStage, .pairwise], "(m1's review of m2: "),
        ([.repeat([.proposeStage, .pairwise, .closeStage])], "(m1's review of m2, round 1: "),
        ([.proposeStage, .pairwise, .repeat([.proposeStage, .closeStage])], "(m1's review of m2, before round 1: "),
        ([.repeat([.proposeStage, .closeStage]), .pairwise], "(m1's review of m2, after round 2: "),
    ])
    func anUnscoredReviewIsPlacedInRoundsCountedFromOne(stages: [Stage], place: String) async throws {
        let provider = ScriptedProvider { call in
            call.kind == "evaluatePairwise" && call.participant == "m1"
                ? .text("I liked it a lot!") : Fixtures.script()(call)
        }
        let outcome = try await Engine(
            workflow: Fixtures.workflow(members: Fixtures.members(2), stages: stages),
            providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration()
        ).run("Q")
        let reasons = outcome.coverage.reasons
        #expect(reasons.contains { $0.contains(place) }, "\(reasons)")
        #expect(!reasons.contains { $0.contains("round 0") || $0.contains("round 3") }, "\(reasons)")
    }

    /// A batched review whose reply misses one label, even after the reminder, keeps the scores it gave the
    /// others: only the missing label is unscored, and coverage names whose review it was and why.
    @Test func aBatchedReviewMissingOneLabelScoresTheOthers() async throws {
        let provider = ScriptedProvider { call in
            guard call.kind == "evaluateBatched" else { return Fixtures.script()(call) }
            var scores: [String: Double] = [:]
            for (label, target) in call.labels where !(call.participant == "m1" && target == "m3") {
                scores[label] = target == "m2" ? 9 : 6
            }
            return .text(ScriptedReplies.batched(scores))
        }
        let workflow = Fixtures.workflow(
            members: Fixtures.members(3), stages: [.proposeStage, .evaluate(EvaluateStage(mode: .batched))])
        let outcome = try await Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration()
        ).run("Q")
        let m1Calls = provider.calls.filter { $0.kind == "evaluateBatched" && $0.participant == "m1" }
        #expect(m1Calls.map(\.reminder) == [false, true])
        let reviews = try #require(outcome.rounds.first?.reviews).filter { $0.reviewer == "m1" }
        #expect(reviews.first { $0.target == "m2" }?.score == 9)
        #expect(reviews.first { $0.target == "m3" }?.score == nil)
        #expect(outcome.answers.first { $0.memberID == "m2" }?.scoresReceived == 2)
        #expect(outcome.answers.first { $0.memberID == "m3" }?.scoresReceived == 1)
        #expect(outcome.coverage.unscoredReviews == 1)
        #expect(outcome.coverage.degraded)
        let label = try #require(m1Calls.last?.labels.first { $0.value == "m3" }?.key)
        #expect(
            outcome.coverage.reasons.contains(
                "1 review unreadable, recorded as unscored (m1's review of m3: the reply has no "
                    + "evaluation for label \(label))"), "\(outcome.coverage.reasons)")
    }

    @Test func cancellationEndsCleanlyWithAConsistentLedger() async throws {
        let clock = TestClock()
        let provider = ScriptedProvider(clock: clock) { call in
            call.participant == "m1" ? .delayed(.seconds(30), .text("slow")) : .text("fast")
        }
        let ledger = InMemoryRunLedger()
        let engine = Engine(
            workflow: proposeOnly(Fixtures.members(2), limits: Limits(quorum: 1)),
            providers: ScriptedResolver(default: provider),
            configuration: Fixtures.configuration(clock: clock, ledger: ledger))
        let recorder = EventRecorder()
        let task = Task { try await engine.run("Q", events: recorder.sink) }
        await clock.waitUntil { $0.contains(.seconds(30)) }
        while ledger.records.isEmpty { await Task.yield() }
        task.cancel()
        let outcome = try await task.value
        #expect(outcome.status == .cancelled)
        #expect(outcome.stoppedBy == "cancelled")
        #expect(ledger.records.map(\.participant) == ["m2"])
        #expect(ledger.records.allSatisfy { $0.status == .succeeded })
        #expect(outcome.answers.map(\.memberID) == ["m2"])
        #expect(recorder.types.last == "run_finished")
        #expect(clock.pendingDeadlines.isEmpty)
    }

    @Test func budgetStopsStartingCallsBeforeTheCapIsPassed() async throws {
        // $1 per 1,000 tokens in and out; each reply costs 150 tokens = $0.15; each estimate is ~$0.20
        // (the prompt before rendering, ~150 tokens, plus max_tokens 50), so a third call would pass $0.40.
        var catalog = ModelCatalog.builtin
        catalog.prices["test/*"] = ModelPricing(inputPerMillion: 1000, outputPerMillion: 1000)
        let provider = ScriptedProvider(script: Fixtures.script())
        var members = Fixtures.members(3)
        for index in members.indices { members[index].params.maxTokens = 50 }
        let workflow = Fixtures.workflow(
            members: members, stages: [.repeat([.proposeStage, .pairwise, .closeStage])],
            limits: Limits(maxConcurrent: 1, budgetUSD: 0.40, quorum: 1))
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider),
            configuration: Fixtures.configuration(catalog: catalog))
        let outcome = try await engine.run("Q")
        #expect(outcome.status == .budgetExhausted)
        #expect(outcome.totalCalls == 2)
        #expect(abs(outcome.costUSD - 0.30) < 1e-9)
        #expect(outcome.costUSD <= 0.40)
        #expect(outcome.stoppedBy.hasPrefix("budget: next call"))
        #expect(outcome.answers.count == 2)
        // Two of three members answered and no review was made: the answer shown is partial, and coverage
        // says so (it read `degraded: false` with no reason, as if the run were whole).
        #expect(outcome.selected?.degraded == true)
        #expect(outcome.coverage.degraded)
        #expect(
            outcome.coverage.reasons.contains("the budget stopped the run: the answer is the best one so far"),
            "\(outcome.coverage.reasons)")
    }

    @Test func theBudgetStopSaysTheCapWithItsSignificantDigits() async throws {
        // A cap under a cent read "would pass $0.00": the message names the cap as given.
        var catalog = ModelCatalog.builtin
        catalog.prices["test/*"] = ModelPricing(inputPerMillion: 1000, outputPerMillion: 1000)
        var members = Fixtures.members(2)
        for index in members.indices { members[index].params.maxTokens = 50 }
        let workflow = Fixtures.workflow(
            members: members, stages: [.proposeStage], iterations: Iterations(min: 1, max: 1),
            limits: Limits(budgetUSD: 0.0001, quorum: 1))
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: ScriptedProvider(script: Fixtures.script())),
            configuration: Fixtures.configuration(catalog: catalog))
        let outcome = try await engine.run("Q")
        #expect(outcome.status == .budgetExhausted)
        #expect(outcome.stoppedBy.contains("would pass $0.0001 (spent $0)"), "\(outcome.stoppedBy)")
    }

    @Test func aCallThatDoesNotFitBesideCallsInFlightWaitsForThem() async throws {
        // Two calls are ready together; the second's estimate beside the first's reservation passes the cap, so
        // it waits for the first and is priced against what that one really cost ($0.15). It was refused at
        // once, its message naming what the first only held: "(spent $0, ~$0.20 held for 1 call(s) in flight)".
        var catalog = ModelCatalog.builtin
        catalog.prices["test/*"] = ModelPricing(inputPerMillion: 1000, outputPerMillion: 1000)
        var members = Fixtures.members(2)
        for index in members.indices { members[index].params.maxTokens = 50 }
        let workflow = Fixtures.workflow(
            members: members, stages: [.proposeStage], iterations: Iterations(min: 1, max: 1),
            limits: Limits(maxConcurrent: 2, budgetUSD: 0.30, quorum: 1))
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: ScriptedProvider(script: Fixtures.script())),
            configuration: Fixtures.configuration(catalog: catalog))
        let outcome = try await engine.run("Q")
        #expect(outcome.status == .budgetExhausted)
        #expect(outcome.totalCalls == 1)
        #expect(outcome.stoppedBy.contains("would pass $0.30 (spent $0.15)"), "\(outcome.stoppedBy)")
        #expect(abs(outcome.costUSD - 0.15) < 1e-9)
    }

    @Test func aFallbackModelIsEstimatedAndHeldAtItsOwnPrice() async throws {
        // The primary ($1 per 1,000 output tokens) fails for good; its fallback costs $10 per 1,000. Capped at
        // 50 tokens, the call's worst case is $0.05 on the primary, $0.50 on the fallback, past the $0.20
        // budget: no fallback call is made. The moved call kept the primary's estimate and reservation ($0.05),
        // was made, and its reply (50 output tokens at the fallback's price, $0.50) passed the budget.
        var catalog = ModelCatalog.builtin
        catalog.prices["test/*"] = ModelPricing(inputPerMillion: 0, outputPerMillion: 1000)
        catalog.prices["backup/*"] = ModelPricing(inputPerMillion: 0, outputPerMillion: 10_000)
        let primary = ScriptedProvider { _ in
            .error(ProviderError(code: .unknownModel, message: "retired", provider: "test", statusCode: 404))
        }
        let backup = ScriptedProvider(script: Fixtures.script())
        var members = Fixtures.members(1)
        members[0].params.maxTokens = 50
        members[0].fallback = [ModelRef(provider: "backup", model: "spare")]
        let workflow = Fixtures.workflow(
            members: members, stages: [.proposeStage], iterations: Iterations(min: 1, max: 1),
            limits: Limits(maxConcurrent: 1, budgetUSD: 0.20, quorum: 1))
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: backup, providers: ["test/model-1": primary]),
            configuration: Fixtures.configuration(catalog: catalog))
        let outcome = try await engine.run("Q")
        #expect(primary.calls.count == 1)
        #expect(backup.calls.isEmpty, "the fallback was called at the primary's estimate")
        #expect(outcome.costUSD <= 0.20, "\(outcome.costUSD)")
        #expect(outcome.status == .budgetExhausted)
        #expect(outcome.stoppedBy.hasPrefix("budget: next call ~$0.50 would pass $0.20"), "\(outcome.stoppedBy)")
    }

    @Test func aBudgetOfTheEstimateRunsTheFirstCall() async throws {
        // Output only, $1 per 1,000 tokens; no max_tokens. The estimate prices the one propose call at
        // 800 tokens ($0.80); a batch grants such a run about 1.13 estimates. The engine's check used to
        // price the call at 1,024 tokens ($1.024) and stopped the run at $0 with no call.
        var catalog = ModelCatalog.builtin
        catalog.prices["test/*"] = ModelPricing(inputPerMillion: 0, outputPerMillion: 1000)
        let provider = ScriptedProvider(script: Fixtures.script())
        let estimateOnly = Fixtures.workflow(
            members: Fixtures.members(1), stages: [.proposeStage], iterations: Iterations(min: 1, max: 1))
        let estimate = Engine.estimate(workflow: estimateOnly, prompt: "Q", catalog: catalog)
        #expect(estimate.calls.max == 1)
        #expect(abs(estimate.costUSD.max - 0.80) < 1e-9)
        var workflow = estimateOnly
        workflow.limits = Limits(maxConcurrent: 1, budgetUSD: estimate.costUSD.max * 1.13, quorum: 1)
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider),
            configuration: Fixtures.configuration(catalog: catalog))
        let outcome = try await engine.run("Q")
        #expect(outcome.totalCalls == 1)
        #expect(outcome.status != .budgetExhausted, "\(outcome.stoppedBy)")
        #expect(outcome.answers.map(\.memberID) == ["m1"])
    }

    @Test func concurrencyCapsHoldGloballyAndPerProvider() async throws {
        let provider = ScriptedProvider(script: Fixtures.script())
        let members =
            Fixtures.members(3, provider: "p1") + [Member(id: "x", model: ModelRef(provider: "p2", model: "x"))]
        let recorder = EventRecorder()
        let workflow = Fixtures.workflow(
            members: members, stages: [.proposeStage, .pairwise],
            limits: Limits(maxConcurrent: 3, perProvider: ["p1": 2]))
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration())
        _ = try await engine.run("Q", events: recorder.sink)
        let peaks = recorder.maxInFlight
        #expect(peaks.total == 3)
        #expect(peaks.byProvider["p1"] == 2)
    }

    @Test func nodesStartAsSoonAsTheirInputsExistWithoutAStageBarrier() async throws {
        let clock = TestClock()
        let provider = ScriptedProvider(clock: clock) { call in
            if call.kind == "propose", call.participant == "m1" { return .delayed(.seconds(50), .text("slow answer")) }
            return Fixtures.script()(call)
        }
        let recorder = EventRecorder()
        let workflow = Fixtures.workflow(members: Fixtures.members(3), stages: [.proposeStage, .pairwise])
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider),
            configuration: Fixtures.configuration(clock: clock))
        async let outcome = engine.run("Q", events: recorder.sink)
        await clock.waitUntil { $0.contains(.seconds(50)) }
        // While m1 is still thinking, m2 and m3 review each other (2 calls).
        while recorder.calls("call_finished").filter({ $0.node.contains("evaluate") }).count < 2 { await Task.yield() }
        #expect(!recorder.calls("call_finished").contains { $0.node == "s0.propose[m1]" })
        // m1's reviews wait for its own answer: whether it still takes part (an answer failed for good drops it)
        // is known before they start, so the calls a run makes never depend on which reply came first.
        #expect(recorder.calls("call_started").filter { $0.participant == "m1" }.count == 1)
        clock.advance(by: .seconds(50))
        let result = try await outcome
        #expect(result.totalCalls == 3 + 6)
    }

    @Test func aPromptThatCannotBeRenderedFailsTheRunWithoutCallingForIt() async throws {
        let provider = ScriptedProvider(script: Fixtures.script())
        // A library caller's workflow that skipped the compiler: the evaluate template never closes its section.
        let broken = Stage.evaluate(EvaluateStage(common: StageCommon(prompt: PromptTemplate(user: "{{#answer}}"))))
        let workflow = Fixtures.workflow(
            members: Fixtures.members(3), stages: [.repeat([.proposeStage, broken, .refineStage, .closeStage])],
            iterations: Iterations(min: 2, max: 3))
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration())
        let outcome = try await engine.run("Q")
        #expect(outcome.status == .failed)
        #expect(outcome.stoppedBy.hasPrefix("prompt template failed: "))
        #expect(outcome.stoppedBy.contains("section is never closed"))
        // The proposals were made; no review and no refinement was paid for, and no second round ran.
        #expect(provider.calls.map(\.kind) == ["propose", "propose", "propose"])
        #expect(outcome.rounds.count == 1)
        #expect(outcome.answers.count == 3)
    }
}
