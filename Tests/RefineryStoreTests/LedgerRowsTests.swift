import Foundation
import RefineryCompiler
import RefineryRuntime
import RefineryStore
import Testing

/// What the SQLite ledger writes, value by value and type by type. The writes build their rows
/// themselves (no GRDB record encoding on the writer's queue, no `DateFormatter`); these pin that the
/// rows are the ones GRDB's records and formatter wrote, so older and newer Refinery read each other's files.
@Suite struct LedgerRowsTests {
    @Test func aRunAndABatchAreStoredAsTheLedgerAlwaysStoredThem() async throws {
        let store = try SQLiteRunStore(path: ":memory:")
        try await store.createRun(Fixture.run(id: "run-1", startedAt: Fixture.date.addingTimeInterval(0.1234)))
        var call = Fixture.call()
        call.startedAt = Fixture.date.addingTimeInterval(0.9996)
        call.finishedAt = Fixture.date.addingTimeInterval(86_399.0004)
        try await store.record(call)
        try await store.recordRound(
            runID: "run-1", round: 1, decisionJSON: #"{"converged":true}"#, at: Fixture.date.addingTimeInterval(2.5))
        try await store.finishRun(
            id: "run-1",
            RunCompletion(
                status: "converged", outcomeJSON: #"{"status":"converged"}"#, costUSD: 0.25, inputTokens: 100,
                outputTokens: 40, exitCode: 0, finishedAt: Fixture.date.addingTimeInterval(3),
                anonymization: ["claude": ["A": "gpt-4o#1"]]))
        try await store.createBatch(
            BatchRecord(
                id: "batch-1", kind: "bench", createdAt: Fixture.date.addingTimeInterval(-0.5), workflow: "consensus",
                specJSON: #"{"seed":1}"#, inputPath: "items.jsonl", inputSHA256: "abc", total: 2))
        try await store.recordItem(
            BatchItemRecord(
                batchID: "batch-1", itemID: "q1", system: "consensus", position: 0, runID: "run-1", status: "converged",
                answer: "4", extractedAnswer: "4", correct: true, costUSD: 0.25, calls: 3, inputTokens: 100,
                outputTokens: 40, latencyMs: 1200, finishedAt: Fixture.date.addingTimeInterval(3.0015),
                origin: AnswerOrigin(
                    modelID: "openai/gpt-4o-mini", memberID: "m#1", fallbackFrom: "openai/gpt-4o", degraded: true,
                    degradedReasons: ["a call failed"])))
        try await store.recordItem(
            BatchItemRecord(batchID: "batch-1", itemID: "q2", position: 1, runID: "run-2", status: "running"))

        for (table, expected) in Self.expectedRows {
            #expect(try store.rowsForTesting("SELECT * FROM \(table) ORDER BY rowid") == expected, "\(table)")
        }
    }

    /// A call's reply is written by `JSONValue`'s writer, not through GRDB's `JSONEncoder`: the same text
    /// for replies with slashes, quotes, control and non-ASCII characters, absent fields and extreme counts.
    @Test func aReplyIsTheJSONGRDBsEncoderWrote() async throws {
        var replies = [
            ModelReply(text: "4"),
            ModelReply(
                text: "{\"url\":\"https://x/y\",\"q\":\"\\\"\"}\t</script>\n\u{1}\u{1f}\u{7f} é — ✓ 🤖 \u{2028}\\",
                usage: TokenUsage(inputTokens: 1 << 40, outputTokens: 0, isEstimated: true), model: "org/model-1",
                finishReason: "stop"),
            ModelReply(text: "", usage: TokenUsage(inputTokens: 123_456_789, outputTokens: 1)),
        ]
        replies[2].structuredMode = "json_schema"
        let store = try SQLiteRunStore(path: ":memory:")
        try await store.createRun(Fixture.run(id: "run-1"))
        for (index, reply) in replies.enumerated() {
            var call = Fixture.call(node: "s0.review[\(index)]", hash: "req-\(index)")
            call.reply = reply
            try await store.record(call)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys  // GRDB's `databaseJSONEncoder(for:)`
        let expected = try replies.map { "'\(String(decoding: try encoder.encode($0), as: UTF8.self))'" }
        #expect(try store.rowsForTesting("SELECT response FROM calls ORDER BY rowid").map(\.[0]) == expected)
    }

    /// Dates are the text GRDB's formatter writes (`yyyy-MM-dd HH:mm:ss.SSS` in UTC, rounded to the
    /// millisecond as CoreFoundation rounds): leap days, the ends of days and years, half milliseconds,
    /// and a spread of instants from 1970 to 9999. Earlier dates are left to GRDB's formatter.
    @Test func datesAreTheTextGRDBsFormatterWrites() {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        var instants: [TimeInterval] = [
            0, 0.0004999, 0.0005, 0.9995, 59.9999, 951_782_399.9996, 951_782_400, 4_107_542_400.5,
            1_790_000_000.9996, 1_790_086_399.0004, 253_402_300_799.999,
        ]
        var state: UInt64 = 0x5EED
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 11
        }
        for _ in 0..<20_000 {
            let seconds = TimeInterval(next() % 253_402_300_800)
            instants.append(seconds + TimeInterval(next() % 1_000_000) / 1_000_000)
            // Half a millisecond, where the rounding decides the digit.
            instants.append(TimeInterval(next() % 4_102_444_800_000) / 1000 + 0.0005)
        }
        for instant in instants {
            let date = Date(timeIntervalSince1970: instant)
            #expect(LedgerDate.text(date) == formatter.string(from: date), "\(instant)")
        }
        #expect(LedgerDate.text(Date(timeIntervalSince1970: -0.5)) == nil)
    }

    static let expectedRows: [(String, [[String]])] = [
        (
            "runs",
            [
                [
                    #"'run-1'"#,
                    #"'consensus'"#,
                    #"'converged'"#,
                    #"'What is 2+2?'"#,
                    #"'h'"#,
                    #"'{"arbiter":{"fallback":[],"model":{"model":"claude-opus-4-6","provider":"anthropic"},"params":{}},"convergence":{"strategy":{"voteThreshold":{"stability":2,"threshold":8}}},"iterations":{"max":5,"min":1},"limits":{"maxConcurrent":8,"perProvider":{},"quorum":2,"retries":3,"timeoutSeconds":120},"members":[{"fallback":[],"id":"gpt-4o#1","model":{"model":"gpt-4o","provider":"openai"},"params":{"temperature":0.7}},{"fallback":[],"id":"claude","model":{"alias":"claude","model":"claude-opus-4-6","provider":"anthropic"},"params":{}}],"name":"consensus","output":"winner","provenance":{"contentSHA256":"ff00","extendsChain":[],"gitCommit":"1234abcd","gitDirty":false,"path":"builtin:consensus"},"stages":[{"propose":{"common":{"by":{"members":{}},"params":{},"prompt":{"sha256":"abc","user":"{{prompt}}"}},"context":"own-history"}},{"repeat":[{"evaluate":{"anonymize":true,"common":{"by":{"members":{}},"params":{}},"mode":"pairwise"}},{"close":{"common":{"by":{"members":{}},"params":{}}}}]}],"variables":{}}'"#,
                    #"'{"contentSHA256":"ff00","extendsChain":[],"gitCommit":"1234abcd","gitDirty":false,"path":"builtin:consensus"}'"#,
                    #"'{"arbiter":"anthropic\/claude-opus-4-6","claude":"anthropic\/claude-opus-4-6","gpt-4o#1":"openai\/gpt-4o"}'"#,
                    #"'{"arbiter":{},"claude":{},"gpt-4o#1":{"temperature":0.7}}'"#,
                    #"'["propose:abc"]'"#,
                    #"'18446744073709551608'"#,
                    #"'{"audience":"kids"}'"#,
                    #"'{"claude":{"A":"gpt-4o#1"}}'"#,
                    #"'{"status":"converged"}'"#,
                    #"0.25"#,
                    #"100"#,
                    #"40"#,
                    #"0"#,
                    #"'2026-09-21 14:13:20.123'"#,
                    #"'2026-09-21 14:13:23.000'"#,
                ]
            ]
        ),
        (
            "rounds",
            [
                [
                    #"'run-1'"#,
                    #"1"#,
                    #"'{"converged":true}'"#,
                    #"'2026-09-21 14:13:22.500'"#,
                ]
            ]
        ),
        (
            "calls",
            [
                [
                    #"1"#,
                    #"'run-1'"#,
                    #"1"#,
                    #"'s0.propose[claude]'"#,
                    #"'claude'"#,
                    #"'req-1'"#,
                    #"'{"messages":[{"content":"What is 2+2?","role":"user"}],"model":{"model":"claude-opus-4-6","provider":"anthropic"},"params":{},"system":"Be precise."}'"#,
                    #"'{"finishReason":"end_turn","model":"claude-opus-4-6","text":"4","usage":{"inputTokens":12,"isEstimated":false,"outputTokens":3}}'"#,
                    #"12"#,
                    #"3"#,
                    #"840"#,
                    #"0.000135"#,
                    #"2"#,
                    #"'succeeded'"#,
                    #"NULL"#,
                    #"'2026-09-21 14:13:21.000'"#,
                    #"'2026-09-22 14:13:19.000'"#,
                ]
            ]
        ),
        (
            "batches",
            [
                [
                    #"'batch-1'"#,
                    #"'bench'"#,
                    #"'running'"#,
                    #"'2026-09-21 14:13:19.500'"#,
                    #"'consensus'"#,
                    #"'{"seed":1}'"#,
                    #"'items.jsonl'"#,
                    #"'abc'"#,
                    #"2"#,
                ]
            ]
        ),
        (
            "batch_items",
            [
                [
                    #"'batch-1'"#,
                    #"'q1'"#,
                    #"'consensus'"#,
                    #"0"#,
                    #"'run-1'"#,
                    #"'converged'"#,
                    #"'4'"#,
                    #"'4'"#,
                    #"1"#,
                    #"0.25"#,
                    #"3"#,
                    #"100"#,
                    #"40"#,
                    #"1200"#,
                    #"NULL"#,
                    #"'2026-09-21 14:13:23.002'"#,
                    #"'{"degraded":true,"degraded_reasons":["a call failed"],"fallback_from":"openai/gpt-4o","member_id":"m#1","model_id":"openai/gpt-4o-mini"}'"#,
                ],
                [
                    #"'batch-1'"#,
                    #"'q2'"#,
                    #"''"#,
                    #"1"#,
                    #"'run-2'"#,
                    #"'running'"#,
                    #"NULL"#,
                    #"NULL"#,
                    #"NULL"#,
                    #"0.0"#,
                    #"0"#,
                    #"0"#,
                    #"0"#,
                    #"0"#,
                    #"NULL"#,
                    #"NULL"#,
                    #"NULL"#,
                ],
            ]
        ),
    ]
}
