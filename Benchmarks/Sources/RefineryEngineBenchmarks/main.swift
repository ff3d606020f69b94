// Engine benchmarks: scheduling overhead per call, wall time against the critical path,
// peak memory, and a straggler against a stage-barrier schedule.
//
// swift run -c release RefineryEngineBenchmarks [cpu|critical|memory|straggler|profile]
// (one mode per process for `memory`: VmHWM is the process's peak.)

import Foundation
import RefineryCompiler
import RefineryRuntime

// What the `refinery` executable does first (see ProcessTuning); REFINERY_DEFAULT_MALLOC=1 measures without it.
if ProcessInfo.processInfo.environment["REFINERY_DEFAULT_MALLOC"] == nil { ProcessTuning.reserveHeapGrowth() }

let mode = CommandLine.arguments.dropFirst().first ?? "all"
switch mode {
case "cpu": try await EngineBenchmarks.cpuPerCall()
case "profile": try await EngineBenchmarks.profile()
case "profile-wide": try await EngineBenchmarks.profileWide()
case "n50": try await EngineBenchmarks.n50(repeats: 9)
case "faults": try await EngineBenchmarks.faults()
case "cold":
    let (_, wall) = try await EngineBenchmarks.run(
        EngineBenchmarks.workflow(50, stages: EngineBenchmarks.classic),
        sharedTimer: ProcessInfo.processInfo.environment["SHARED"] == nil ? nil : SharedLatency(),
        latency: { _ in Duration.milliseconds(200) })
    print(String(format: "%.3f", EngineBenchmarks.seconds(wall) / 0.6))
case "one-warm":
    for _ in 0..<2 {
        _ = try await EngineBenchmarks.run(
            EngineBenchmarks.workflow(50, stages: EngineBenchmarks.classic),
            latency: { _ in Duration.milliseconds(200) })
    }
    try await Task.sleep(for: .milliseconds(300))
    _ = try await EngineBenchmarks.run(
        EngineBenchmarks.workflow(50, stages: EngineBenchmarks.classic),
        sharedTimer: ProcessInfo.processInfo.environment["SHARED"] == nil ? nil : SharedLatency(),
        latency: { _ in Duration.milliseconds(200) })
case "one":
    _ = try await EngineBenchmarks.run(
        EngineBenchmarks.workflow(50, stages: EngineBenchmarks.classic), latency: { _ in Duration.milliseconds(200) })
case "critical": try await EngineBenchmarks.criticalPath()
case "memory": try await EngineBenchmarks.memory()
case "trace": try await EngineBenchmarks.trace(shared: false)
case "trace-shared": try await EngineBenchmarks.trace(shared: true)
case "straggler": try await EngineBenchmarks.straggler()
case "all":
    try await EngineBenchmarks.cpuPerCall()
    try await EngineBenchmarks.criticalPath()
    try await EngineBenchmarks.straggler()
    try await EngineBenchmarks.memory()
default:
    print("usage: RefineryEngineBenchmarks [cpu|critical|memory|straggler|profile|all]")
    exit(64)
}
