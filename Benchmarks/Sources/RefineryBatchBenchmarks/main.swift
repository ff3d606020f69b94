// The batch scheduler's benchmark (issue 11 item 5): 1,000 items × a 3-member consensus through
// `RunService.batch` (the runner `refinery batch` and `refinery bench` use), every run and call
// recorded in a SQLite ledger file, against a provider that answers at once. Reports items per
// second, CPU per call (the whole process: runner, engine, ledger) and resident memory as items
// finish, which must stay flat: results stream out, nothing is kept per item.
//
//   swift build -c release --product RefineryBatchBenchmarks
//   .build/release/RefineryBatchBenchmarks [ITEMS] [CONCURRENCY]     (default 1000 8)

import Foundation
import Refinery
import RefineryCompiler
import RefineryProcessTuning
import RefineryRuntime
import RefineryStore

ProcessTuning.reserveHeapGrowth()

/// Answers every call at once; one reply serves every stage (answer, evaluation, synthesis).
struct InstantProvider: ModelProvider, ProviderResolver {
    static let reply = """
        {"answer":"Four.","strengths":["correct"],"weaknesses":[],"suggestions":[],"rationale":"It is right.",\
        "score":9,"synthesis":"Four.","confidence":0.95,"dissent":"","refinement_areas":[],\
        "needs_iteration":false,"ranking":[]}
        """

    func complete(_ request: ModelRequest) async throws -> ModelReply {
        ModelReply(text: Self.reply, usage: TokenUsage(inputTokens: 200, outputTokens: 60))
    }

    func provider(for model: ModelRef) throws -> any ModelProvider { self }
}

/// A value of `/proc/self/status` in MB (`VmRSS`, `VmHWM`).
func statusMB(_ key: String) -> Double {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
        let kilobytes = line.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? 0
        return kilobytes / 1024
    }
    return 0
}

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
        + Double(usage.ru_stime.tv_usec) / 1e6
}

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let items = arguments.first ?? 1000
let concurrency = arguments.dropFirst().first ?? 8

let folder = FileManager.default.temporaryDirectory.appendingPathComponent("refinery-batch-bench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: folder) }
let input = folder.appendingPathComponent("items.jsonl")
let rows = (0..<items).map { #"{"id":"q\#($0)","question":"What is \#($0) + \#($0)? Explain briefly."}"# }
try Data(rows.joined(separator: "\n").utf8).write(to: input)

var service = RunService(
    environment: ["HOME": folder.path, "XDG_CONFIG_HOME": folder.appendingPathComponent("config").path],
    workingDirectory: folder, storePath: folder.appendingPathComponent("ledger.db").path,
    providers: InstantProvider())
service.onWarning = { _ in }
let request = BatchRequest(
    target: "consensus", inputPath: input.path,
    overrides: WorkflowOverrides(models: ["openai/gpt-4o", "openai/gpt-4o-mini", "openai/o3"]),
    concurrency: concurrency, seed: 1)

let clock = ContinuousClock()
let cpuBefore = cpuSeconds()
let start = clock.now
var calls = 0
var finished = 0
var samples: [(Int, Double)] = []
let every = max(1, items / 10)
let outcome = try await service.batch(request) { record in
    calls += record.calls
    finished += 1
    if finished % every == 0 { samples.append((finished, statusMB("VmRSS"))) }
}
let wall = start.duration(to: clock.now)
let cpu = cpuSeconds() - cpuBefore
let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18

print("batch \(outcome.status): \(outcome.done)/\(outcome.total) items, \(calls) calls, concurrency \(concurrency)")
print(
    String(
        format: "wall %.2f s · %.0f items/s · %.0f calls/s", seconds, Double(items) / seconds, Double(calls) / seconds))
print(
    String(format: "CPU per call (process: runner + engine + SQLite ledger) %.1f µs", cpu / Double(max(calls, 1)) * 1e6)
)
print("resident memory as items finish (MB):")
print(samples.map { String(format: "  %5d items: %.1f", $0.0, $0.1) }.joined(separator: "\n"))
print(String(format: "peak resident memory (VmHWM) %.1f MB", statusMB("VmHWM")))
