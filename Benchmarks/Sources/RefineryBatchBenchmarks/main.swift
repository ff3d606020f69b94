// The batch scheduler's benchmark (issue 11 item 5): 1,000 items × a 3-member consensus through
// `RunService.batch` (the runner `refinery batch` and `refinery bench` use), every run and call
// recorded in a SQLite ledger file, against a provider that answers at once. Reports items per
// second, CPU per call and resident memory as items finish, which must stay flat: results stream
// out, nothing is kept per item. The same batch runs twice: once with a store that keeps nothing
// (`none`: the scheduler, the engine, prompt rendering, building and encoding each run's report) and
// once with the SQLite ledger file `refinery batch` writes (`file`: all that plus the ledger's JSON
// encoding and SQLite writes); the difference is the ledger's share.
//
// `single` measures the issue's yardstick: the same workflow run one item at a time through
// `RunService.run` (what `refinery run` does once its process is up), with the discarding store, its
// CPU ÷ its calls (`single-file`: with a SQLite ledger file each run opens and closes). Each block also
// prints the process's resident memory and threads, which stay flat if a run leaves nothing behind. With PASSES (a third number), the listed passes run PASSES times in one process, each
// round preceded by a block of single runs and the last followed by one, so batch and single run are
// measured under the same host conditions; every pass is printed, then min / median / max of each kind
// and the `none` batch ÷ single ratio of each round (the single blocks before and after it, averaged). A
// pass is ~0.2–0.4 s of CPU on the 2-core VM, and the host moves one pass's figure by ±20 % from
// minute to minute (Benchmarks/README.md): one process measuring both, interleaved, is what makes the
// comparison defensible.
//
//   swift build -c release --product RefineryBatchBenchmarks
//   .build/release/RefineryBatchBenchmarks [ITEMS] [CONCURRENCY] [none|file|single|single-file]... [PASSES]
//       (default 1000 8 none file; with PASSES and no pass listed: none)

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

/// The process's thread count (`Threads` in `/proc/self/status`): a run that left a thread behind shows here.
func threads() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    let line = text.split(separator: "\n").first { $0.hasPrefix("Threads:") }
    return line.flatMap { Int($0.dropFirst("Threads:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
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
    func recordedReply(runID: String, round: Int, node: String, requestHash: String) async throws -> RecordedReply? {
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
    func takeOwnership(of subject: LedgerSubject) async throws -> LedgerOwnership { LedgerOwnership {} }
    func createBatch(_ batch: BatchRecord) async throws {}
    func batch(id: String) async throws -> BatchRecord { throw Self.notFound }
    func setBatchStatus(id: String, status: String) async throws {}
    func recordItem(_ item: BatchItemRecord) async throws {}
    func items(batchID: String, spendingOf unfinished: Set<String>) async throws -> [BatchItemRecord] { [] }
    func listBatches(limit: Int, resumable: Set<String>) async throws -> [BatchSummary] { [] }

    static let notFound = StoreError(code: .notFound, message: "the discarding store keeps nothing")
}

/// What one pass measured.
struct PassFigures {
    /// CPU per call, µs.
    var perCall: Double
    /// Items (runs) per second of wall time.
    var itemsPerSecond: Double
}

/// The service every pass uses: `InstantProvider` for every model, the ledger file `ledger` (a new one)
/// or, for `none` and single runs, a store that keeps nothing.
func makeService(ledger: String, folder: URL) -> RunService {
    var service = RunService(
        environment: ["HOME": folder.path, "XDG_CONFIG_HOME": folder.appendingPathComponent("config").path],
        workingDirectory: folder, storePath: folder.appendingPathComponent("ledger-\(UUID().uuidString).db").path,
        providers: InstantProvider())
    service.onWarning = { _ in }
    if ledger != "file" { service.store = DiscardingStore() }
    return service
}

let models = WorkflowOverrides(models: ["openai/gpt-4o", "openai/gpt-4o-mini", "openai/o3"])

/// The benchmark's item `index`: its id and question (the batch reads the same from its input file).
func question(_ index: Int) -> (id: String, text: String) {
    ("q\(index)", "What is \(index) + \(index)? Explain briefly.")
}

/// One pass of the batch of `items` items in `input` with `ledger` (`none` or `file`); prints its figures.
nonisolated func pass(ledger: String, items: Int, concurrency: Int, folder: URL, input: URL) async throws
    -> PassFigures
{
    let service = makeService(ledger: ledger, folder: folder)
    let request = BatchRequest(
        target: "consensus", inputPath: input.path, overrides: models, concurrency: concurrency, seed: 1)

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
    return PassFigures(perCall: perCall, itemsPerSecond: Double(items) / seconds)
}

/// `runs` single runs of the same workflow, one after another, each item's question as its prompt and
/// its id as the `id` variable (as a batch row gives them), the same seed and models as the batch; with
/// `ledger` `file`, every run opens, writes and closes one SQLite ledger file, as `refinery mcp` does.
/// Prints the process's resident memory and threads after the block: a run that leaves something behind
/// shows as a climb from block to block.
nonisolated func singleRuns(_ runs: Int, ledger: String = "none", folder: URL) async throws -> PassFigures {
    let service = makeService(ledger: ledger, folder: folder)
    let clock = ContinuousClock()
    let cpuBefore = cpuSeconds()
    let start = clock.now
    var calls = 0
    for index in 0..<runs {
        let item = question(index)
        let result = try await service.run(
            RunRequest(target: "consensus", prompt: item.text, overrides: models, variables: ["id": item.id], seed: 1))
        calls += result.report.metadata.totalCalls
    }
    let wall = start.duration(to: clock.now)
    let cpu = cpuSeconds() - cpuBefore
    let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
    let perCall = cpu / Double(max(calls, 1)) * 1e6
    print(
        "single runs (ledger \(ledger)): "
            + String(
                format:
                    "%d runs one at a time, %d calls · %.0f runs/s · CPU per call (whole process) %.1f µs"
                    + " · VmRSS %.1f MB · %d threads",
                runs, calls, Double(runs) / seconds, perCall, statusMB("VmRSS"), threads()))
    return PassFigures(perCall: perCall, itemsPerSecond: Double(runs) / seconds)
}

/// `min / median / max` of `values`, formatted with `format`.
func spread(_ values: [Double], _ format: String) -> String {
    let sorted = values.sorted()
    guard let low = sorted.first, let high = sorted.last else { return "-" }
    let middle = sorted.count / 2
    let median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    return [low, median, high].map { String(format: format, $0) }.joined(separator: " / ")
}

/// Every pass over one input file; a task the main thread waits for rather than an async `main`,
/// so that `valgrind --tool=callgrind` can count its instructions (as in RefineryEngineBenchmarks).
nonisolated func runPasses() async throws {
    let arguments = CommandLine.arguments.dropFirst()
    let numbers = arguments.compactMap { Int($0) }
    let items = numbers.first ?? 1000
    let concurrency = numbers.dropFirst().first ?? 8
    let repeats = numbers.dropFirst(2).first
    let listed = arguments.filter { ["none", "file", "single", "single-file"].contains($0) }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
        "refinery-batch-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let input = folder.appendingPathComponent("items.jsonl")
    let rows = (0..<items).map { index in
        let item = question(index)
        return #"{"id":"\#(item.id)","question":"\#(item.text)"}"#
    }
    try Data(rows.joined(separator: "\n").utf8).write(to: input)
    // A block of single runs: a quarter of the batch's items, at least 20 runs (360 calls); 250 runs are
    // ~0.15 s of CPU, long enough that one block is not one scheduling hiccup.
    let singles = max(20, items / 4)

    guard let repeats, repeats > 0 else {
        var perCall: [String: Double] = [:]
        for kind in listed.isEmpty ? ["none", "file"] : listed {
            perCall[kind] =
                kind.hasPrefix("single")
                ? try await singleRuns(singles, ledger: kind == "single" ? "none" : "file", folder: folder).perCall
                : try await pass(ledger: kind, items: items, concurrency: concurrency, folder: folder, input: input)
                    .perCall
        }
        if let none = perCall["none"], let file = perCall["file"] {
            print(
                String(
                    format: "scheduler + engine (ledger none) %.1f µs per call; the SQLite ledger adds %.1f µs", none,
                    file - none))
        }
        print(String(format: "peak resident memory (VmHWM) %.1f MB", statusMB("VmHWM")))
        return
    }

    // Rounds: single runs, then each listed batch pass; single runs again after the last round.
    let listedBatches = listed.filter { !$0.hasPrefix("single") }
    let batches = listedBatches.isEmpty ? ["none"] : listedBatches
    var figures: [String: [PassFigures]] = [:]
    var single = [try await singleRuns(singles, folder: folder)]
    for round in 1...repeats {
        for ledger in batches {
            print("round \(round) of \(repeats):", terminator: " ")
            figures[ledger, default: []].append(
                try await pass(ledger: ledger, items: items, concurrency: concurrency, folder: folder, input: input))
        }
        single.append(try await singleRuns(singles, folder: folder))
    }
    print("\(repeats) rounds, min / median / max:")
    print(
        "  single runs (\(repeats + 1) blocks of \(singles)): CPU per call " + spread(single.map(\.perCall), "%.1f")
            + " µs")
    for ledger in batches {
        let passes = figures[ledger] ?? []
        print(
            "  batch \(ledger): CPU per call " + spread(passes.map(\.perCall), "%.1f") + " µs · items/s "
                + spread(passes.map(\.itemsPerSecond), "%.0f"))
        // Each round's batch pass against the single runs measured just before and just after it; only
        // for `none`, as single runs keep nothing too (a `file` pass's ratio would be its ledger's).
        guard ledger == "none" else { continue }
        let ratios = passes.enumerated().map { round, figures in
            figures.perCall / ((single[round].perCall + single[round + 1].perCall) / 2)
        }
        print("  batch \(ledger) ÷ single runs around it, CPU per call: " + spread(ratios, "%.2f"))
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
