import Foundation
import RefineryCompiler
import RefineryRuntime

/// Replies instantly or after a fixed latency; evaluations are valid JSON.
struct FixedProvider: ModelProvider {
    var latency: @Sendable (ModelRequest) -> Duration?

    func complete(_ request: ModelRequest) async throws -> ModelReply {
        if let latency = latency(request) { try await ContinuousClock().sleep(for: latency) }
        if request.responseFormat?.name == "evaluation" {
            return ModelReply(
                text: #"{"strengths":["a"],"weaknesses":["b"],"suggestions":["c"],"rationale":"fine","score":7}"#,
                usage: TokenUsage(inputTokens: 300, outputTokens: 60))
        }
        return ModelReply(
            text: "An answer of moderate length from \(request.model.model) for the benchmark.",
            usage: TokenUsage(inputTokens: 200, outputTokens: 100))
    }
}

struct FixedResolver: ProviderResolver {
    let provider: FixedProvider
    func provider(for model: ModelRef) throws -> any ModelProvider { provider }
}

enum EngineBenchmarks {
    static func members(_ count: Int) -> [Member] {
        (1...count).map { Member(id: "m\($0)", model: ModelRef(provider: "bench", model: "model-\($0)")) }
    }

    static func workflow(_ count: Int, stages: [Stage], rounds: Int = 1, maxConcurrent: Int = 0) -> Workflow {
        workflow(members(count), stages: stages, rounds: rounds, maxConcurrent: maxConcurrent)
    }

    static func workflow(_ members: [Member], stages: [Stage], rounds: Int, maxConcurrent: Int) -> Workflow {
        Workflow(
            name: "bench", members: members, iterations: Iterations(min: rounds, max: rounds),
            convergence: Convergence(strategy: .none),
            limits: Limits(maxConcurrent: maxConcurrent, retries: 0, quorum: 1), stages: stages)
    }

    static let classic: [Stage] = [
        .repeat([.propose(ProposeStage()), .evaluate(EvaluateStage()), .refine(RefineStage()), .close(CloseStage())])
    ]

    static func run(_ workflow: Workflow, latency: @escaping @Sendable (ModelRequest) -> Duration?) async throws
        -> (RunOutcome, Duration)
    {
        let engine = Engine(
            workflow: workflow, providers: FixedResolver(provider: FixedProvider(latency: latency)),
            configuration: EngineConfiguration(runID: "bench", seed: 1))
        let clock = ContinuousClock()
        let start = clock.now
        let outcome = try await engine.run("Benchmark prompt: explain the trade-offs of B-trees.")
        return (outcome, start.duration(to: clock.now))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// CPU time of the whole process so far (user + system), in seconds.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        return user + system
    }

    /// The classic chain with a one-line template for every stage, to isolate the engine from
    /// the cost of rendering the default prompts.
    static let classicMinimalPrompts: [Stage] = {
        let template = PromptTemplate(user: "{{prompt}}")
        let common = StageCommon(prompt: template)
        return [
            .repeat([
                .propose(ProposeStage(common: common)), .evaluate(EvaluateStage(common: common)),
                .refine(RefineStage(common: common)), .close(CloseStage()),
            ])
        ]
    }()

    /// Engine CPU per call with a provider that answers at once (scheduling, prompts, parsing).
    static func cpuPerCall() async throws {
        _ = try await run(workflow(4, stages: classic), latency: { _ in nil })  // warm up
        for (label, stages) in [("default prompts", classic), ("one-line prompts", classicMinimalPrompts)] {
            for count in [5, 10, 20] {
                let before = cpuSeconds()
                let (outcome, wall) = try await run(
                    workflow(members(count), stages: stages, rounds: 3, maxConcurrent: 8), latency: { _ in nil })
                let cpu = (cpuSeconds() - before) / Double(outcome.totalCalls) * 1e6
                let perCall = seconds(wall) / Double(outcome.totalCalls) * 1e6
                print(
                    String(
                        format: "cpu       N=%-3d %6d calls  %6.1f µs CPU/call  %6.1f µs wall/call  (%@)", count,
                        outcome.totalCalls, cpu, perCall, label))
            }
        }
    }

    /// A longer run of the chain with the default prompts (what the CPU target measures), for `perf record`.
    static func profile() async throws {
        _ = try await run(workflow(members(20), stages: classic, rounds: 10, maxConcurrent: 8), latency: { _ in nil })
    }

    /// Wall time against the critical path (propose → evaluate → refine = 3 × 200 ms).
    static func criticalPath() async throws {
        for count in [3, 10, 50] {
            let (outcome, wall) = try await run(workflow(count, stages: classic), latency: { _ in .milliseconds(200) })
            let ratio = seconds(wall) / 0.6
            print(
                String(
                    format: "critical  N=%-3d %6d calls  %8.1f ms  %.3f× critical path (600 ms)", count,
                    outcome.totalCalls, seconds(wall) * 1000, ratio))
        }
    }

    /// Peak resident memory for N=100 pairwise (9,900 evaluations + 100 proposals + 100 refinements),
    /// with the default limit of 8 calls in flight.
    static func memory() async throws {
        let (outcome, wall) = try await run(workflow(100, stages: classic, maxConcurrent: 8), latency: { _ in nil })
        print(
            String(
                format: "memory    N=100 %6d calls  %8.1f ms  VmHWM %@", outcome.totalCalls, seconds(wall) * 1000,
                peakMemory()))
    }

    /// One member 5× slower (1 s against 200 ms): the dataflow schedule against a stage barrier.
    static func straggler() async throws {
        let count = 5
        let slow = "model-1"
        let (_, wall) = try await run(
            workflow(count, stages: classic),
            latency: { $0.model.model == slow ? .milliseconds(1000) : .milliseconds(200) })
        // With a barrier after each stage, every stage waits for the slow member: 3 × 1 s.
        // Dataflow: the slow member's refine waits for its propose (1 s) + reviews of it (0.2 s) + itself (1 s).
        print(
            String(
                format: "straggler N=%-3d engine %8.1f ms  stage-barrier schedule 3000.0 ms  dataflow bound 2200.0 ms",
                count, seconds(wall) * 1000))
    }

    static func peakMemory() -> String {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return "n/a" }
        return status.split(separator: "\n").first { $0.hasPrefix("VmHWM") }.map {
            $0.split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "n/a"
        } ?? "n/a"
    }
}
