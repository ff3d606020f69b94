// The batch scheduler's benchmark (issue 11 item 5): 1,000 items × a 3-member consensus through
// `RunService.batch` (the runner `refinery batch` and `refinery bench` use), every run and call
// recorded in a SQLite ledger file, against a provider that answers at once. Reports items per
// second, CPU per call and resident memory as items finish, which must stay flat: results stream
// out, nothing is kept per item. The same batch runs twice: once with a store that keeps nothing
// (`none`: the scheduler, the engine, prompt rendering, building and encoding each run's report) and
// once with the SQLite ledger file `refinery batch` writes (`file`: all that plus the ledger's JSON
// encoding and SQLite writes); the difference is the ledger's share.
//
//   swift build -c release --product RefineryBatchBenchmarks
//   .build/release/RefineryBatchBenchmarks [ITEMS] [CONCURRENCY] [none|file]...   (default 1000 8 none file)

import Foundation
import Refinery
import RefineryCompiler
import RefineryProcessTuning
import RefineryRuntime
import RefineryStore
import Synchronization

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

/// A store that keeps nothing: what the batch costs without its ledger. Nothing is read back (a new
/// batch resumes nothing), so every query answers "not found".
struct DiscardingStore: RunStore {
    var location: String { "(discarded)" }
    func recordedReply(runID: String, round: Int, node: String, requestHash: String) async throws -> ModelReply? {
        nil
    }
    func record(_ call: CallRecord) async throws {}
    func hasRecordedReplies(runID: String) async throws -> Bool { false }
    func createRun(_ run: StoredRun) async throws {}
    func markRunning(id: String) async throws {}
    func finishRun(id: String, _ completion: RunCompletion) async throws {}
    func recordRound(runID: String, round: Int, decisionJSON: String, at date: Date) async throws {}
    func run(id: String) async throws -> StoredRun { throw Self.notFound }
    func run(exactID id: String) async throws -> StoredRun? { nil }
    func listRuns(limit: Int) async throws -> [RunSummary] { [] }
    func calls(runID: String) async throws -> [CallRecord] { [] }
    func rounds(runID: String) async throws -> [RoundRecord] { [] }
    func export(runID: String) async throws -> RunExport { throw Self.notFound }
    func appliedMigrations() async throws -> [String] { [] }
    func createBatch(_ batch: BatchRecord) async throws {}
    func batch(id: String) async throws -> BatchRecord { throw Self.notFound }
    func setBatchStatus(id: String, status: String) async throws {}
    func recordItem(_ item: BatchItemRecord) async throws {}
    func items(batchID: String) async throws -> [BatchItemRecord] { [] }
    func listBatches(limit: Int, resumable: Set<String>) async throws -> [BatchSummary] { [] }

    static let notFound = StoreError(code: .notFound, message: "the discarding store keeps nothing")
}

/// One pass of the batch of `items` items in `input` with `ledger` (`none` or `file`); prints its figures
/// and returns its CPU per call in µs.
nonisolated func pass(ledger: String, items: Int, concurrency: Int, folder: URL, input: URL) async throws -> Double {
    var service = RunService(
        environment: ["HOME": folder.path, "XDG_CONFIG_HOME": folder.appendingPathComponent("config").path],
        workingDirectory: folder, storePath: folder.appendingPathComponent("ledger-\(UUID().uuidString).db").path,
        providers: InstantProvider())
    service.onWarning = { _ in }
    if ledger == "none" { service.store = DiscardingStore() }
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
    let perCall = cpu / Double(max(calls, 1)) * 1e6

    print(
        "ledger \(ledger): batch \(outcome.status), \(outcome.done)/\(outcome.total) items, \(calls) calls, "
            + "concurrency \(concurrency)")
    print(
        String(
            format: "  wall %.2f s · %.0f items/s · %.0f calls/s", seconds, Double(items) / seconds,
            Double(calls) / seconds))
    print(String(format: "  CPU per call (whole process) %.1f µs", perCall))
    print(
        "  resident memory as items finish (MB): "
            + samples.map { String(format: "%d: %.1f", $0.0, $0.1) }
            .joined(separator: " · "))
    return perCall
}

/// Every pass over one input file; a task the main thread waits for rather than an async `main`,
/// so that `valgrind --tool=callgrind` can count its instructions (as in RefineryEngineBenchmarks).
nonisolated func runPasses() async throws {
    let arguments = CommandLine.arguments.dropFirst()
    let numbers = arguments.compactMap { Int($0) }
    let items = numbers.first ?? 1000
    let concurrency = numbers.dropFirst().first ?? 8
    let ledgers = arguments.filter { ["none", "file"].contains($0) }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
        "refinery-batch-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let input = folder.appendingPathComponent("items.jsonl")
    let rows = (0..<items).map { #"{"id":"q\#($0)","question":"What is \#($0) + \#($0)? Explain briefly."}"# }
    try Data(rows.joined(separator: "\n").utf8).write(to: input)

    var perCall: [String: Double] = [:]
    for ledger in ledgers.isEmpty ? ["none", "file"] : ledgers {
        perCall[ledger] = try await pass(
            ledger: ledger, items: items, concurrency: concurrency, folder: folder, input: input)
    }
    if let none = perCall["none"], let file = perCall["file"] {
        print(
            String(
                format: "scheduler + engine (ledger none) %.1f µs per call; the SQLite ledger adds %.1f µs", none,
                file - none))
    }
    print(String(format: "peak resident memory (VmHWM) %.1f MB", statusMB("VmHWM")))
}

/// Runs every pass on the global executor and blocks the calling (main) thread until they end; the
/// error they threw, if any.
nonisolated func runBlocking() -> (any Error)? {
    let passesEnded = DispatchSemaphore(value: 0)
    let failure = Mutex<(any Error)?>(nil)
    Task {
        do { try await runPasses() } catch { failure.withLock { $0 = error } }
        passesEnded.signal()
    }
    passesEnded.wait()
    return failure.withLock { $0 }
}

if let error = runBlocking() {
    print("error: \(error)")
    exit(1)
}
