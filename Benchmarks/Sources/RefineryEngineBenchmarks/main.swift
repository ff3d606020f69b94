// Engine benchmarks: scheduling overhead per call, wall time against the critical path, the first
// run of a fresh process, peak memory, and a straggler against a stage-barrier schedule.
//
//   REFINERY_LAYER=runtime swift build -c release --product RefineryEngineBenchmarks
//   .build/release/RefineryEngineBenchmarks <mode>
//
// cpu        engine CPU per call, zero-latency provider, N = 5, 10, 20
// critical   wall ÷ critical path, 200 ms provider, N = 3, 10, 50 (warm process; median of 9)
// cold       the same for the first N=50 run of a fresh process (SHARED=1: shared timer ticks)
// memory     peak resident memory, N=100 pairwise (one mode per process: VmHWM is the process's peak)
// straggler  N=5 with one member 5× slower, against a stage-barrier schedule
// ledger     critical path with every call committed to the SQLite run ledger (needs the store layer)
// Diagnostics: trace / trace-shared (COLD=1: no warm-up run), faults, profile, profile-wide, one,
// one-warm (SHARED=1) for `perf record`.
// REFINERY_DEFAULT_MALLOC=1 skips ProcessTuning (measures glibc's default heap growth).

import Foundation
import RefineryCompiler
import RefineryProcessTuning
import RefineryRuntime
import Synchronization

// What the `refinery` executable does first (see ProcessTuning).
if ProcessInfo.processInfo.environment["REFINERY_DEFAULT_MALLOC"] == nil { ProcessTuning.reserveHeapGrowth() }

// The modes run from a task while the main thread waits, rather than from an async `main`: an async
// main hands the main thread to libdispatch (`dispatch_main`), whose signal thread valgrind 3.19 cannot
// run, and `valgrind --tool=callgrind` is how CPU per call is counted repeatably on a loaded machine.
nonisolated func runMode() async throws {
    let mode = CommandLine.arguments.dropFirst().first ?? "all"
    let sharedTicks = ProcessInfo.processInfo.environment["SHARED"] != nil
    let wide = EngineBenchmarks.workflow(50, stages: EngineBenchmarks.classic)
    switch mode {
    case "cpu": try await EngineBenchmarks.cpuPerCall()
    case "critical": try await EngineBenchmarks.criticalPath()
    case "cold": try await EngineBenchmarks.cold()
    case "memory": try await EngineBenchmarks.memory()
    case "straggler": try await EngineBenchmarks.straggler()
    case "trace": try await EngineBenchmarks.trace(shared: false)
    case "trace-shared": try await EngineBenchmarks.trace(shared: true)
    case "faults": try await EngineBenchmarks.faults()
    case "render": try EngineBenchmarks.renderTimes()
    case "ledger":
        #if REFINERY_STORE_BENCHMARKS
            try await EngineBenchmarks.ledger()
        #else
            print("the ledger mode needs the store layer: build without REFINERY_LAYER=runtime")
            exit(64)
        #endif
    case "profile": try await EngineBenchmarks.profile()
    case "profile-wide": try await EngineBenchmarks.profileWide()
    case "one":
        _ = try await EngineBenchmarks.run(wide, latency: { _ in Duration.milliseconds(200) })
    case "one-warm":
        for _ in 0..<2 { _ = try await EngineBenchmarks.run(wide, latency: { _ in Duration.milliseconds(200) }) }
        try await Task.sleep(for: .milliseconds(300))
        _ = try await EngineBenchmarks.run(
            wide, sharedTimer: sharedTicks ? SharedLatency() : nil, latency: { _ in Duration.milliseconds(200) })
    case "all":
        try await EngineBenchmarks.cpuPerCall()
        try await EngineBenchmarks.criticalPath()
        try await EngineBenchmarks.straggler()
        try await EngineBenchmarks.memory()
    default:
        print("usage: RefineryEngineBenchmarks [cpu|critical|cold|memory|straggler|all]")
        exit(64)
    }
}

/// Runs `body` on the global executor and blocks the calling (main) thread until it returns.
nonisolated func runBlocking(_ body: @escaping @Sendable () async throws -> Void) -> (any Error)? {
    let finished = DispatchSemaphore(value: 0)
    let failure = Mutex<(any Error)?>(nil)
    Task {
        do { try await body() } catch { failure.withLock { $0 = error } }
        finished.signal()
    }
    finished.wait()
    return failure.withLock { $0 }
}

if let error = runBlocking(runMode) {
    print("error: \(error)")
    exit(1)
}
