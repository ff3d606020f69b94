import Foundation
import RefineryCompiler
import RefineryTestSupport
import Testing

@testable import RefineryRuntime

@Suite struct AnonymityTests {
    static let members = [
        Member(id: "claude", model: ModelRef(provider: "anthropic", model: "claude-opus-4-6", alias: "claude")),
        Member(id: "gpt#1", model: ModelRef(provider: "openai", model: "gpt-4o", alias: "gpt-4o")),
        Member(id: "gpt#2", model: ModelRef(provider: "openai", model: "gpt-4o", alias: "gpt-4o")),
        Member(id: "gemini", model: ModelRef(provider: "gemini", model: "gemini-3.1-pro-preview", alias: "gemini")),
    ]

    static let chains: [(String, [Stage])] = [
        ("classic", [.repeat([.propose(ProposeStage(context: .ownHistory)), .pairwise, .refineStage, .closeStage])]),
        ("batched", [.repeat([.proposeStage, .evaluate(EvaluateStage(mode: .batched)), .refineStage, .closeStage])]),
        ("debate", [.repeat([.propose(ProposeStage(context: .peers)), .pairwise, .closeStage])]),
        (
            "consortium",
            [.repeat([.propose(ProposeStage(context: .synthesis)), .synthesize(SynthesizeStage()), .closeStage])]
        ),
        (
            "synthesize-by-members",
            [.proposeStage, .synthesize(SynthesizeStage(common: StageCommon(by: .members))), .pairwise]
        ),
    ]

    @Test(arguments: chains.map(\.0))
    func noPromptNamesAnotherMember(chain: String) async throws {
        let stages = try #require(Self.chains.first { $0.0 == chain }?.1)
        let provider = ScriptedProvider(script: Fixtures.script())
        let arbiter = Arbiter(model: ModelRef(provider: "anthropic", model: "claude-sonnet-4-5", alias: "sonnet"))
        let workflow = Fixtures.workflow(
            members: Self.members, arbiter: arbiter, stages: stages, iterations: Iterations(min: 2, max: 2))
        let engine = Engine(
            workflow: workflow, providers: ScriptedResolver(default: provider), configuration: Fixtures.configuration())
        let outcome = try await engine.run("Which sorting algorithm suits nearly sorted data?")
        #expect(outcome.totalCalls > 0)
        #expect(provider.calls.count == outcome.totalCalls)
        for call in provider.calls {
            let text = (call.request.system ?? "") + "\n" + call.request.messages.map(\.content).joined(separator: "\n")
            for member in Self.members where member.id != call.participant {
                let identities = [
                    member.id, member.model.model, member.model.provider, member.model.alias ?? member.id,
                ]
                for identity in identities {
                    #expect(!text.contains(identity), "\(call.participant)'s \(call.kind) prompt names \(identity)")
                }
            }
        }
        // Each viewer sees every other member under exactly one label per round, never itself.
        #expect(!outcome.anonymizationMap.isEmpty)
        for entry in outcome.anonymizationMap {
            #expect(entry.memberID != entry.viewer)
            let sameView = outcome.anonymizationMap.filter { $0.round == entry.round && $0.viewer == entry.viewer }
            #expect(Set(sameView.map(\.label)).count == sameView.count)
            #expect(Set(sameView.map(\.memberID)).count == sameView.count)
        }
    }

    @Test func labelsDependOnTheSeedOnly() async throws {
        func labels(seed: UInt64) async throws -> [AnonymizationEntry] {
            let provider = ScriptedProvider(script: Fixtures.script())
            let workflow = Fixtures.workflow(members: Self.members, stages: [.proposeStage, .pairwise])
            let engine = Engine(
                workflow: workflow, providers: ScriptedResolver(default: provider),
                configuration: Fixtures.configuration(seed: seed))
            let outcome = try await engine.run("Q")
            return outcome.anonymizationMap.sorted { ($0.viewer, $0.label) < ($1.viewer, $1.label) }
        }
        let first = try await labels(seed: 1)
        #expect(try await labels(seed: 1) == first)
        #expect(try await labels(seed: 2) != first)
    }
}
