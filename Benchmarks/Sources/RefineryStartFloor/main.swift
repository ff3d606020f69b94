// The 8-call run's floor (Benchmarks/README.md, "Session 8: the 8-call run and its floor"): what a process that
// links what `refinery` links for it (Foundation, ArgumentParser, SwiftNIO, AsyncHTTPClient, GRDB over SQLite) and
// does only what the run must do costs on this machine. `realpath.py --zero --start-floor` runs it beside
// `refinery run consensus --models fake/m:2 --min-rounds 2 --max-rounds 2` and alternates the two.
//
//   RefineryStartFloor run consensus "What is 2+2?" --models fake/m:2 ... --store FILE --port P
//
// It parses the same command line as `refinery run` with the same options (one flat command, no option groups),
// sends the run's 8 requests in its 4 sequential layers of 2 (answers, reviews, refinements, reviews; the bodies'
// sizes as `refinery` sends them, streamed replies read whole) through AsyncHTTPClient configured as every
// `ProviderRegistry` is, and records each call durably as it finishes in a new SQLite file in WAL mode with the
// ledger's sync settings (one row a call, committed before the next layer starts; a run row first); closing the
// file checkpoints it. Then it prints a small JSON report. No workflow, no engine, no providers'
// protocol code, no migrations: what is left is the libraries' start-up, the HTTP exchanges and the SQLite writes.

import ArgumentParser
import AsyncHTTPClient
import Foundation
import GRDB
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

@main
struct StartFloor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start-floor", subcommands: [RunFloor.self], defaultSubcommand: RunFloor.self)
}

struct RunFloor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run")

    @Argument var arguments: [String] = []
    @Option var models: String?
    @Option var arbiter: String?
    @Option var threshold: Double?
    @Option var minRounds: Int?
    @Option var maxRounds: Int?
    @Option var timeout: Double?
    @Option var maxConcurrent: Int?
    @Option var budget: Double?
    @Option(name: .customLong("var")) var variables: [String] = []
    @Option(name: [.short, .long]) var file: [String] = []
    @Option var outputFormat: String = "text"
    @Option var output: String?
    @Flag var raw = false
    @Flag(name: .shortAndLong) var quiet = false
    @Flag(name: .shortAndLong) var verbose = false
    @Flag var debug = false
    @Option var store: String?
    @Flag var dryRun = false
    @Option var seed: UInt64?
    @Option(help: "The fake's port.") var port: Int

    func run() async throws {
        guard let store else { throw ValidationError("--store is required") }
        // As the ledger does (SQLiteRunStore.synchronousSetting): the new file's switch to WAL unsynced, every
        // write after it with `synchronous = NORMAL`.
        var configuration = Configuration()
        let unsyncedSwitch = Atomic(true)
        configuration.prepareDatabase { db in
            let first = unsyncedSwitch.exchange(false, ordering: .relaxed)
            try db.execute(sql: first ? "PRAGMA synchronous = OFF" : "PRAGMA synchronous = NORMAL")
        }
        let ledger = try DatabasePool(path: store, configuration: configuration)
        try await ledger.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        try await ledger.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE runs (id TEXT PRIMARY KEY, workflow TEXT NOT NULL, started_at TEXT NOT NULL);
                    CREATE TABLE calls (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(id),
                      layer INTEGER NOT NULL, request TEXT NOT NULL, reply TEXT NOT NULL);
                    CREATE INDEX calls_run ON calls(run_id, layer);
                    """)
            try db.execute(
                sql: "INSERT INTO runs VALUES (?, ?, ?)",
                arguments: ["run-1", String(repeating: "w", count: 3_000), "\(Date())"])
        }
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: Self.httpConfiguration)
        let url = "http://127.0.0.1:\(port)/v1/chat/completions"
        var answers: [String] = []
        // The layers of consensus with 2 members and 2 rounds, and each request's body size (`refinery --debug`).
        for (layer, size) in [139, 1_866, 1_036, 1_866].enumerated() {
            answers = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        let body = Self.body(size)
                        var request = HTTPClientRequest(url: url)
                        request.method = .POST
                        request.headers.add(name: "accept", value: "text/event-stream")
                        request.headers.add(name: "content-type", value: "application/json")
                        request.body = .bytes(ByteBuffer(string: body))
                        let response = try await http.execute(request, deadline: .now() + .seconds(600))
                        var reply = try await response.body.collect(upTo: 1 << 26)
                        let text = reply.readString(length: reply.readableBytes) ?? ""
                        try await ledger.write { db in
                            try db.execute(
                                sql: "INSERT INTO calls (run_id, layer, request, reply) VALUES (?, ?, ?, ?)",
                                arguments: ["run-1", layer, body, text])
                        }
                        return text
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        try await http.shutdown()
        try ledger.close()
        let report = ["status": "converged", "answer": String(answers.first?.prefix(40) ?? "")]
        let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    static func body(_ count: Int) -> String {
        let prefix = #"{"model":"m","stream":true,"messages":[{"role":"user","content":""#
        let suffix = #""}]}"#
        return prefix + String(repeating: "x", count: max(0, count - prefix.utf8.count - suffix.utf8.count)) + suffix
    }

    /// `ProviderRegistry.httpConfiguration`'s settings (this target does not link refinery's modules).
    static var httpConfiguration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: .seconds(10))
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: Int.max)
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }
}
