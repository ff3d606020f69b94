import Foundation
import RefineryCompiler
import RefineryRuntime
import RefineryTestSupport

@testable import Refinery

/// Fake models of known accuracy, deterministic per model and item: a participant (member id) answers
/// item `i` correctly iff a hash of (participant, i) falls under its model's accuracy. Every wrong
/// answer is the same number, so a plurality vote is a majority vote whose outcome the test computes.
///
/// Items are synthetic: item `i` asks "Item i: ...", its reference is `i + 1000`, the wrong answer `i + 2000`.
/// Every call uses 100 input and 50 output tokens; model `fake/NAME` is priced by ``catalog``.
struct KnownAccuracyModels: Sendable {
    /// Model name (without `fake/`) → accuracy in 0...1.
    var accuracy: [String: Double]
    /// Model name → (input, output) dollars per million tokens.
    var prices: [String: (Double, Double)]

    /// The built-in catalog plus a `fake` provider with each model's price.
    var catalog: ModelCatalog {
        var fake = ModelCatalog(aliases: [:], prices: [:], providers: ["fake"])
        for (model, price) in prices {
            fake.prices["fake/" + model] = ModelPricing(inputPerMillion: price.0, outputPerMillion: price.1)
        }
        return ModelCatalog.builtin.merging(fake)
    }

    /// Cost of one call to `model`.
    func callCost(_ model: String) -> Double {
        let price = prices[model] ?? (0, 0)
        return 100 * price.0 / 1_000_000 + 50 * price.1 / 1_000_000
    }

    static func item(_ index: Int) -> DatasetItem {
        DatasetItem(
            id: String(index), prompt: "Item \(index): what is \(index) + 1000?", reference: "#### \(index + 1000)",
            grader: nil, fields: [:])
    }

    /// Whether `participant` (a member id) of `model` answers item `index` correctly: the ground truth.
    func isCorrect(participant: String, model: String, item index: Int) -> Bool {
        Self.unitHash("\(participant)|\(index)") < (accuracy[model] ?? 0)
    }

    /// The plurality of `participants` (member order; all wrong answers agree, a tie goes to the first).
    func voteIsCorrect(_ participants: [(id: String, model: String)], item index: Int) -> Bool {
        let correct = participants.map { isCorrect(participant: $0.id, model: $0.model, item: index) }
        let right = correct.count { $0 }
        let wrong = correct.count - right
        return right > wrong || (right == wrong && correct.first == true)
    }

    /// A provider answering every call by the rule above.
    func provider() -> ScriptedProvider {
        let models = self
        return ScriptedProvider { call in
            guard let match = call.user.firstMatch(of: /Item (\d+):/), let index = Int(match.output.1) else {
                return .text("I cannot tell.")
            }
            let model = call.request.model.model
            let right = models.isCorrect(participant: call.participant, model: model, item: index)
            return .text("Let me think about item \(index).\nThe answer is \(index + (right ? 1000 : 2000))")
        }
    }

    /// FNV-1a 64 of `text`, as a fraction in [0, 1).
    static func unitHash(_ text: String) -> Double {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        // Mixed by SplitMix64: FNV's low bits of near-identical keys are correlated.
        var mixer = SplitMix(seed: hash)
        return Double(mixer.next() >> 11) / Double(UInt64(1) << 53)
    }

    /// Runs every system on every item, one engine run at a time, and grades each run as a bench does.
    func bench(
        _ specs: [String], models: [String]?, items: Range<Int>, in folder: URL
    ) async throws -> (summary: BenchSummary, loaded: [String: LoadedWorkflow]) {
        let loader = WorkflowLoader(
            library: WorkflowLibrary(environment: [:], currentDirectory: folder.path), catalog: catalog)
        let systems = try BenchSystem.parse(specs)
        let provider = provider()
        var loaded: [String: LoadedWorkflow] = [:]
        var results: [BenchItemResult] = []
        for system in systems {
            let workflow = try await system.load(
                with: loader, overrides: WorkflowOverrides(models: models), gitProvenance: false)
            loaded[system.name] = workflow
            for index in items {
                let item = Self.item(index)
                let engine = Engine(
                    workflow: workflow.workflow, graph: workflow.graph, providers: ScriptedResolver(default: provider),
                    configuration: EngineConfiguration(runID: "\(system.name)-\(index)", seed: 1, catalog: catalog))
                let outcome = try await engine.run(item.prompt)
                let report = RunReport(outcome: outcome, workflow: workflow.workflow)
                results.append(BenchItemResult(grading: report, item: item, system: system.name, grader: .numeric))
            }
        }
        let summary = BenchSummary(
            benchID: "bench-test",
            dataset: BenchDatasetInfo(path: "synthetic.jsonl", sha256: String(repeating: "0", count: 64), items: items.count),
            grader: .numeric, systems: systems.map(\.name), itemIDs: items.map(String.init), results: results,
            workflows: loaded.mapValues(\.workflow))
        return (summary, loaded)
    }
}
