import Foundation
import RefineryCompiler
import RefineryRuntime
import Synchronization

/// Replies instantly or after a fixed latency; evaluations are valid JSON.
struct FixedProvider: ModelProvider {
    var latency: @Sendable (ModelRequest) -> Duration?
    /// When set, calls due in the same millisecond share one timer instead of one each.
    var sharedTimer: SharedLatency?

    func complete(_ request: ModelRequest) async throws -> ModelReply {
        if let latency = latency(request) {
            if let sharedTimer {
                await sharedTimer.wait(latency)
            } else {
                try await ContinuousClock().sleep(for: latency)
            }
        }
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

    static func run(
        _ workflow: Workflow, sharedTimer: SharedLatency? = nil,
        latency: @escaping @Sendable (ModelRequest) -> Duration? = { _ in nil }
    ) async throws -> (RunOutcome, Duration) {
        let engine = Engine(
            workflow: workflow,
            providers: FixedResolver(provider: FixedProvider(latency: latency, sharedTimer: sharedTimer)),
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
                // Whole runs (setup included) repeated to at least ~2,500 calls: one N=5 run is 90 calls,
                // about 2 ms of CPU, too short to measure against the machine's noise.
                var calls = 0
                var runs = 0
                var wall = Duration.zero
                let before = cpuSeconds()
                while calls < 2500 {
                    let (outcome, runWall) = try await run(
                        workflow(members(count), stages: stages, rounds: 3, maxConcurrent: 8), latency: { _ in nil })
                    calls += outcome.totalCalls
                    runs += 1
                    wall += runWall
                }
                let cpu = (cpuSeconds() - before) / Double(calls) * 1e6
                let perCall = seconds(wall) / Double(calls) * 1e6
                print(
                    String(
                        format: "cpu       N=%-3d %6d calls a run ×%-3d %6.1f µs CPU/call  %6.1f µs wall/call  (%@)",
                        count, calls / runs, runs, cpu, perCall, label))
            }
        }
    }

    /// A longer run of the chain with the default prompts (what the CPU target measures), for `perf record`.
    static func profile() async throws {
        _ = try await run(workflow(members(20), stages: classic, rounds: 10, maxConcurrent: 8), latency: { _ in nil })
    }

    /// N=50 with every call in flight at once (what `critical` schedules), without latency, for `perf record`.
    static func profileWide() async throws {
        for _ in 0..<10 { _ = try await run(workflow(50, stages: classic), latency: { _ in nil }) }
    }

    /// Page faults and peak memory of single N=50 runs (the first is cold), with and without latency.
    static func faults() async throws {
        for latency in [Duration?.none, .milliseconds(200), nil, .milliseconds(200)] {
            var before = rusage()
            getrusage(RUSAGE_SELF.rawValue, &before)
            let (outcome, wall) = try await run(workflow(50, stages: classic), latency: { _ in latency })
            var after = rusage()
            getrusage(RUSAGE_SELF.rawValue, &after)
            print(
                String(
                    format: "faults    N=50 %6d calls  %8.1f ms  %6d minor faults  VmHWM %@  latency %@",
                    outcome.totalCalls, seconds(wall) * 1000, after.ru_minflt - before.ru_minflt, peakMemory(),
                    latency.map { "\($0)" } ?? "none"))
        }
    }

    /// Wall time against the critical path (propose → evaluate → refine = 3 × 200 ms), for N = 3, 10
    /// and 50: one untimed run of each size first (a warm process), then `repeats` timed runs; the
    /// median, minimum and maximum. Twice: with one system timer per simulated call (2,450 at once for
    /// N=50, serviced by libdispatch's timer thread, which competes with the engine for the two
    /// cores), then with calls due in the same 100 µs tick sharing one timer (every call still waits at
    /// least 200 ms), which is closer to a real provider: replies wake an event loop, not a timer each.
    /// The first run of a fresh process is measured by `cold`.
    static func criticalPath(sizes: [Int] = [3, 10, 50], repeats: Int = 9) async throws {
        for shared in [false, true] {
            for count in sizes {
                var ratios: [Double] = []
                var calls = 0
                for attempt in 0...repeats {
                    let (outcome, wall) = try await run(
                        workflow(count, stages: classic), sharedTimer: shared ? SharedLatency() : nil,
                        latency: { _ in .milliseconds(200) })
                    calls = outcome.totalCalls
                    if attempt > 0 { ratios.append(seconds(wall) / 0.6) }
                }
                ratios.sort()
                print(
                    String(
                        format:
                            "critical  N=%-3d %5d calls  median %.3f×  min %.3f×  max %.3f×  of 600 ms  (%d runs, %@)",
                        count, calls, ratios[ratios.count / 2], ratios[0], ratios[ratios.count - 1], repeats,
                        shared ? "a timer per tick" : "a timer per call"))
            }
        }
    }

    /// The first run of a fresh process (what one `refinery run` is): N=50, one line with
    /// wall ÷ critical path. `SHARED=1` simulates latency with shared ticks.
    static func cold() async throws {
        let shared = ProcessInfo.processInfo.environment["SHARED"] != nil
        let (_, wall) = try await run(
            workflow(50, stages: classic), sharedTimer: shared ? SharedLatency() : nil,
            latency: { _ in .milliseconds(200) })
        print(
            String(
                format: "cold      N=50  %.3f× critical path (first run of the process, %@)", seconds(wall) / 0.6,
                shared ? "a timer per tick" : "a timer per call"))
    }

    /// Where N=50's time past the critical path goes: when calls reach the provider and when their
    /// sleeps actually end, per stage (ms since the run started).
    static func trace(shared: Bool) async throws {
        if ProcessInfo.processInfo.environment["COLD"] == nil {
            _ = try await run(workflow(50, stages: classic), latency: { _ in .milliseconds(200) })  // warm up
        }
        let log = TraceLog()
        let clock = ContinuousClock()
        let origin = clock.now
        let provider = TracingProvider(origin: origin, log: log, shared: shared ? SharedLatency() : nil)
        let engine = Engine(
            workflow: workflow(50, stages: classic), providers: TracingResolver(provider: provider),
            configuration: EngineConfiguration(runID: "bench", seed: 1))
        let started = TraceLog()
        _ = try await engine.run("Benchmark prompt: explain the trade-offs of B-trees.") { event in
            guard case .callStarted(let call) = event else { return }
            let at = EngineBenchmarks.seconds(origin.duration(to: ContinuousClock.now)) * 1000
            let kind =
                call.node.contains(".evaluate") ? "evaluation" : call.node.contains(".refine") ? "refine" : "propose"
            started.entries.withLock { $0.append((kind, at, at)) }
        }
        let end = seconds(origin.duration(to: clock.now)) * 1000
        let starts = started.entries.withLock { $0 }
        for kind in ["propose", "evaluation", "refine"] {
            let rows = starts.filter { $0.kind == kind }.map(\.arrived)
            print(
                String(format: "trace %@: started by the engine %.1f–%.1f ms", kind, rows.min() ?? 0, rows.max() ?? 0))
        }
        let entries = log.entries.withLock { $0 }
        for kind in ["propose", "evaluation", "refine"] {
            let rows = entries.filter { $0.kind == kind }
            let overshoot = rows.map { $0.woke - $0.arrived - 200 }
            print(
                String(
                    format: "trace %@: %d calls, arrived %.1f–%.1f ms, woke %.1f–%.1f ms, sleep overshoot max %.1f ms",
                    kind, rows.count, rows.map(\.arrived).min() ?? 0, rows.map(\.arrived).max() ?? 0,
                    rows.map(\.woke).min() ?? 0, rows.map(\.woke).max() ?? 0, overshoot.max() ?? 0))
        }
        print(String(format: "trace end %.1f ms", end))
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

struct TracingProvider: ModelProvider {
    let origin: ContinuousClock.Instant
    let log: TraceLog
    let shared: SharedLatency?

    func complete(_ request: ModelRequest) async throws -> ModelReply {
        let clock = ContinuousClock()
        let arrived = EngineBenchmarks.seconds(origin.duration(to: clock.now)) * 1000
        if let shared { await shared.wait(.milliseconds(200)) } else { try await clock.sleep(for: .milliseconds(200)) }
        let woke = EngineBenchmarks.seconds(origin.duration(to: clock.now)) * 1000
        let kind =
            request.responseFormat?.name == "evaluation"
            ? "evaluation" : (request.messages.last?.content.contains("review") == true ? "refine" : "propose")
        log.entries.withLock { $0.append((kind, arrived, woke)) }
        return try await FixedProvider(latency: { _ in nil }).complete(request)
    }
}

struct TracingResolver: ProviderResolver {
    let provider: TracingProvider
    func provider(for model: ModelRef) throws -> any ModelProvider { provider }
}

/// Arrival and wake times of the calls of a traced run.
final class TraceLog: Sendable {
    let entries = Mutex<[(kind: String, arrived: Double, woke: Double)]>([])
}

/// Simulated provider latency without a system timer per call: the first call due in a given
/// tick (100 µs) sleeps until then and wakes the others due in it. A call waits `latency` rounded up
/// to the next tick, never less.
final class SharedLatency: Sendable {
    /// Ticks per second.
    static let ticks = 10_000
    private let origin = ContinuousClock.now
    private let waiters = Mutex<[Int: [UnsafeContinuation<Void, Never>]]>([:])

    func wait(_ latency: Duration) async {
        let clock = ContinuousClock()
        let (seconds, attoseconds) = (origin.duration(to: clock.now) + latency).components
        let attosecondsPerTick = 1_000_000_000_000_000_000 / Int64(Self.ticks)
        let tick = Int(seconds) * Self.ticks + Int((attoseconds + attosecondsPerTick - 1) / attosecondsPerTick)
        let sleeps = waiters.withLock { waiters -> Bool in
            guard waiters[tick] == nil else { return false }
            waiters[tick] = []
            return true
        }
        if sleeps {
            try? await clock.sleep(
                until: origin.advanced(by: .microseconds(tick * 1_000_000 / Self.ticks)), tolerance: nil)
            for waiter in waiters.withLock({ $0.removeValue(forKey: tick) ?? [] }) { waiter.resume() }
            return
        }
        await withUnsafeContinuation { continuation in
            let queued = waiters.withLock { waiters -> Bool in
                guard waiters[tick] != nil else { return false }
                waiters[tick, default: []].append(continuation)
                return true
            }
            // The tick's sleeper already woke: the wait is over.
            if !queued { continuation.resume() }
        }
    }
}

extension EngineBenchmarks {
    /// Time to render the default prompts: a pairwise review and a refine with 49 reviews.
    static func renderTimes() throws {
        let renderer = PromptRenderer(overrides: nil)
        let answer = String(repeating: "An answer of moderate length for the benchmark. ", count: 4)
        let evaluate = PromptContext(
            prompt: "Benchmark prompt: explain the trade-offs of B-trees.",
            answerUnderReview: LabeledText(label: "AB", text: answer))
        let review = LabeledReview(
            label: "Reviewer C",
            evaluation: Evaluation(
                strengths: ["clear"], weaknesses: ["short"], suggestions: ["add an example"], rationale: "fine",
                score: 7))
        let refine = PromptContext(
            prompt: "Benchmark prompt: explain the trade-offs of B-trees.", ownAnswer: answer,
            reviewsReceived: Array(repeating: review, count: 49))
        for (name, kind, context) in [
            ("evaluatePairwise", PromptKind.evaluatePairwise, evaluate), ("refine (49 reviews)", .refine, refine),
        ] {
            let clock = ContinuousClock()
            var bytes = 0
            let count = 2000
            let start = clock.now
            for _ in 0..<count { bytes += try renderer.render(kind, context).user.utf8.count }
            let each = seconds(start.duration(to: clock.now)) / Double(count) * 1e6
            print(String(format: "render    %@: %.2f µs, %d bytes", name, each, bytes / count))
        }
    }
}
