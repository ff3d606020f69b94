// The critical path with every call committed to the SQLite run ledger, as `refinery run` does.
// Built when the store layer is (not with REFINERY_LAYER=runtime).

#if REFINERY_STORE_BENCHMARKS
    import Foundation
    import RefineryCompiler
    import RefineryRuntime
    import RefineryStore

    extension EngineBenchmarks {
        /// N = 10 and 50 with a 200 ms provider (shared ticks), each run recorded in a fresh SQLite file;
        /// one untimed run per size, then the median, min and max of 5.
        static func ledger() async throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "refinery-bench-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            for count in [10, 50] {
                var ratios: [Double] = []
                for attempt in 0...5 {
                    let store = try SQLiteRunStore(
                        path: directory.appendingPathComponent("\(count)-\(attempt).db").path)
                    let workflow = workflow(count, stages: classic)
                    let runID = "bench-\(count)-\(attempt)"
                    try await store.createRun(
                        StoredRun(
                            id: runID, workflowName: workflow.name, prompt: "Benchmark prompt", promptHash: "h",
                            workflow: workflow, provenance: workflow.provenance, seed: 1, startedAt: Date()))
                    let engine = Engine(
                        workflow: workflow,
                        providers: FixedResolver(
                            provider: FixedProvider(
                                latency: { _ in .milliseconds(200) }, sharedTimer: SharedLatency())),
                        configuration: EngineConfiguration(runID: runID, seed: 1, ledger: store))
                    let clock = ContinuousClock()
                    let start = clock.now
                    let outcome = try await engine.run("Benchmark prompt: explain the trade-offs of B-trees.")
                    let wall = start.duration(to: clock.now)
                    precondition(outcome.totalCalls == count * count + count)
                    if attempt > 0 { ratios.append(seconds(wall) / 0.6) }
                }
                ratios.sort()
                print(
                    String(
                        format:
                            "ledger    N=%-3d %5d calls  median %.3f×  min %.3f×  max %.3f×  of 600 ms  (5 runs, SQLite ledger)",
                        count, count * count + count, ratios[ratios.count / 2], ratios[0], ratios[ratios.count - 1]))
            }
        }
    }
#endif
