// `refinery report BATCH_ID|BENCH_ID`: the pages of a batch recorded by the binary against a fake
// server and of a bench recorded through the ledger (BatchLedger), loaded in headless Chromium.

import Foundation
import RefineryStore
import Testing

extension CLIEndToEnd {
    @Suite(.enabled(if: Chromium.available, "chromium is not installed: apt-get install -y chromium"))
    struct BatchReportCLITests {
        static let hostileID = "<script>alert(1)</script></svg>"

        private func count(_ needle: String, in text: String) -> Int {
            text.components(separatedBy: needle).count - 1
        }

        /// The markup of `dom` with every quoted attribute value removed: an element made from data would
        /// show here, while data kept as an attribute value (a tooltip) does not.
        private func markup(_ dom: String) -> String {
            dom.replacingOccurrences(of: "\"[^\"]*\"", with: "\"\"", options: .regularExpression)
        }

        /// The `data-count` of every histogram bar in `svg`.
        private func binCounts(_ svg: Substring) -> [Int] {
            svg.matches(of: /class="hbar" data-count="(\d+)"/).compactMap { Int($0.output.1) }
        }

        private func histograms(_ dom: String) -> [Substring] {
            dom.components(separatedBy: "<svg class=\"chart histogram\"").dropFirst().map {
                Substring($0.components(separatedBy: "</svg>")[0])
            }
        }

        private func report(
            _ id: String, store: String, binary: RefineryBinary, sandbox: Sandbox, environment: [String: String]
        ) async throws -> (html: URL, dom: String, log: String) {
            let html = sandbox.root.appendingPathComponent("report-\(UUID().uuidString).html")
            let result = try await binary.run(
                ["report", String(id.prefix(8)), "--store", store, "-o", html.path], environment: environment,
                directory: sandbox.root)
            #expect(result.exitCode == 0, "\(result.stderr)")
            if let folder = ProcessInfo.processInfo.environment["REFINERY_REPORT_SAVE"] {
                let kept = URL(fileURLWithPath: folder).appendingPathComponent("batch-\(id.prefix(8)).html")
                try? FileManager.default.removeItem(at: kept)
                try FileManager.default.copyItem(at: html, to: kept)
            }
            let (dom, log, _) = try Chromium.load(html)
            return (html, dom, log)
        }

        /// A ledger at `runs.db` in `sandbox` holding one finished batch (or bench) of `total` jobs, `items` of
        /// it recorded; the store's path and the batch id.
        private static func recordedBatch(
            in sandbox: Sandbox, id: String = UUID().uuidString.lowercased(), kind: String = "batch",
            workflow: String = "consensus", specJSON: String = "{}", inputPath: String = "in.jsonl",
            inputSHA256: String = "00", total: Int, items: (String) -> [BatchItemRecord]
        ) async throws -> (store: String, id: String) {
            let store = sandbox.root.appendingPathComponent("runs.db").path
            let ledger: any BatchLedger = try SQLiteRunStore(path: store)
            try await ledger.createBatch(
                BatchRecord(
                    id: id, kind: kind, status: "finished", createdAt: Date(), workflow: workflow, specJSON: specJSON,
                    inputPath: inputPath, inputSHA256: inputSHA256, total: total))
            for item in items(id) { try await ledger.recordItem(item) }
            return (store, id)
        }

        /// A batch run by the binary (one item failing at the server, latencies spread out, a hostile item
        /// id): the page shows status and done/total, one histogram bar set per quantity whose counts sum
        /// to the items, the failed item, one table row per item, and keeps the hostile id as text.
        @Test func batchReportShowsDistributionsItemsAndFailures() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write(
                "w.yaml", Data("refinery: 1\nname: w\nmodels: [openai/gpt-4o]\nstages: [propose]\n".utf8))
            let ids = ["a", "b", "c", "d", "e", Self.hostileID, "fails"]
            let rows = ids.enumerated().map { index, id in
                #"{"id":"\#(id)","question":"Q\#(index) \#(id == "fails" ? "FAIL" : "ok") <b>x</b>"}"#
            }
            try sandbox.write("in.jsonl", Data(rows.joined(separator: "\n").utf8))
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path) { request in
                    if request.body.contains("FAIL") {
                        return FakeOpenAI.error("bad request", type: "invalid_request_error", status: 400)
                    }
                    // Latencies 20-140 ms by item, so the latency histogram has more than one bin.
                    let index = Int(request.body.firstMatch(of: /Q(\d)/)?.output.1 ?? "0") ?? 0
                    return .delayed(.milliseconds(20 + 20 * index), FakeOpenAI.completion("Four."))
                }
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let store = sandbox.root.appendingPathComponent("runs.db").path
                let batch = try await binary.run(
                    ["batch", "w.yaml", "--input", "in.jsonl", "--store", store, "--concurrency", "2"],
                    environment: environment, directory: sandbox.root)
                let lines = try batch.stdout.split(separator: "\n").map { try CLIHarness.json(String($0)) }
                #expect(lines.count == ids.count, "\(batch.stderr)")
                let batchID = try #require(lines.first?["batch_id"] as? String)
                // Every call of the item is refused (400): its run ends without an answer.
                let failed = lines.filter { !($0["answer"] is String) }
                #expect(failed.map { $0["item_id"] as? String } == ["fails"], "\(lines)")

                let (html, dom, log) = try await report(
                    batchID, store: store, binary: binary, sandbox: sandbox, environment: environment)
                #expect(dom.contains("<h1>Batch w.yaml"))
                // A failed item (here `insufficient_models`) is not done: `batch resume` runs it again, and
                // `batch list` counts it so.
                #expect(dom.contains("<dd>\(ids.count - 1) / \(ids.count)</dd>"))
                #expect(dom.contains("<dt>failed</dt><dd class=\"degraded\">1</dd>"))
                let charts = histograms(dom)
                #expect(charts.count == 2)
                for chart in charts {
                    #expect(binCounts(chart).reduce(0, +) == ids.count, "\(chart)")
                }
                #expect(binCounts(charts.last ?? "").count > 1, "latencies differ, so they fall in several bins")
                #expect(count("<tr class=\"item\">", in: dom) == ids.count)
                for line in lines {
                    #expect(dom.contains(try #require(line["run_id"] as? String)))
                }
                let failedTable =
                    dom.components(separatedBy: "<table class=\"failed\">").dropFirst().first?
                    .components(separatedBy: "</table>")[0] ?? ""
                #expect(count("<tr><td>", in: failedTable) == 1)
                #expect(failedTable.contains("<td>fails</td>"), "\(dom)")
                // The hostile id and prompt markup are text.
                #expect(!markup(dom).contains("<script"))
                #expect(!dom.contains("<b>x</b>"))
                #expect(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;/svg&gt;"))
                #expect(Chromium.pageProblems(log) == [], "\(log)")
                let text = try String(contentsOf: html, encoding: .utf8)
                #expect(!text.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http://"))
                #expect(text.contains("default-src 'none'"))
            }
        }

        /// A bench's graded rows, recorded through the ledger: three systems on five items, one system
        /// named with markup. Every number is hand-computed from the rows.
        private static let systems = ["single:openai/gpt-4o", "vote", "./</svg><script>alert(2)</script>.yaml"]

        /// Per item (in dataset order), per system: `true` correct, `false` wrong, `nil` unanswered.
        private static let grades: [[Bool?]] = [
            [true, true, true],
            [false, true, true],
            [true, true, nil],
            [false, false, false],
            [true, true, true],
        ]

        private static func recordBench(in sandbox: Sandbox) async throws -> (store: String, id: String) {
            let spec =
                #"{"systems":["single:openai/gpt-4o","vote","./</svg><script>alert(2)</script>.yaml"],"#
                + #""grader":"numeric","gitCommits":{"vote":"0123abc"},"workflowSHA256":{"vote":"feedbeef"}}"#
            return try await recordedBatch(
                in: sandbox, id: "bench-\(UUID().uuidString.lowercased())", kind: "bench",
                workflow: systems.joined(separator: ","), specJSON: spec, inputPath: "data/gsm8k-<5>.jsonl",
                inputSHA256: String(repeating: "ab", count: 32), total: grades.count * systems.count
            ) { id in
                grades.enumerated().flatMap { position, row in
                    row.enumerated().map { column, grade in
                        BatchItemRecord(
                            batchID: id, itemID: position == 1 ? hostileID : "item-\(position)", system: systems[column],
                            position: position, runID: "run-\(position)-\(column)", status: "converged",
                            answer: "The answer is 4", extractedAnswer: grade == nil ? nil : grade == true ? "4" : "</svg>5",
                            correct: grade == true, costUSD: [0.001, 0.003, 0.01][column], calls: [1, 3, 6][column],
                            inputTokens: 100, outputTokens: 20, latencyMs: 1000 * (column + 1), finishedAt: Date())
                    }
                }
            }
        }

        /// The bench page: one scatter point and interval per system, the system table's accuracy and cost
        /// per correct, the paired comparison with the best single model, one grid cell per item × system
        /// with the right mark, the dataset's hash and the recorded revision; markup in names stays text.
        @Test func benchReportShowsScatterGridAndPairedComparison() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let (store, id) = try await Self.recordBench(in: sandbox)
            let (_, dom, log) = try await report(
                id, store: store, binary: binary, sandbox: sandbox,
                environment: RefineryBinary.environment(home: sandbox.root))
            #expect(dom.contains("<h1>Bench"))
            #expect(count("<circle class=\"point\"", in: dom) == Self.systems.count)
            #expect(count("<line class=\"ci\"", in: dom) == Self.systems.count)
            let cells = Self.grades.flatMap { $0 }
            #expect(count("<td class=\"mark ", in: dom) == Self.grades.count * Self.systems.count)
            #expect(count("<td class=\"mark correct\"", in: dom) == cells.count { $0 == true })
            #expect(count("<td class=\"mark wrong\"", in: dom) == cells.count { $0 == false })
            #expect(count("<td class=\"mark unanswered\"", in: dom) == cells.count { $0 == nil })
            // single: 3/5 = 60 %, vote 4/5 = 80 %, the workflow 3/5 with one unanswered.
            #expect(dom.contains("<td>single:openai/gpt-4o</td><td class=\"num\">60.0 %</td>"))
            #expect(dom.contains("<td>vote</td><td class=\"num\">80.0 %</td>"))
            #expect(dom.contains("<td class=\"num\">4/5</td><td class=\"num\">0</td><td class=\"num\">$0.015</td>"))
            // Cost per correct of vote: $0.015 / 4.
            #expect(dom.contains("$0.00375"))
            // Paired with single:openai/gpt-4o: vote won item 1, lost none; McNemar p = 1.
            #expect(dom.contains("Paired comparison with single:openai/gpt-4o"))
            #expect(
                dom.contains(
                    "<td>vote</td><td class=\"num\">5</td><td class=\"num\">1</td><td class=\"num\">0</td><td class=\"num\">1.000</td>"
                ))
            #expect(dom.contains(String(repeating: "ab", count: 32)))
            #expect(dom.contains("0123abc"))
            #expect(dom.contains("data/gsm8k-&lt;5&gt;.jsonl"))
            // Markup in a system name, an item id and an answer is text, inside and outside the SVG.
            #expect(!markup(dom).contains("<script"))
            #expect(dom.contains("./&lt;/svg&gt;&lt;script&gt;alert(2)&lt;/script&gt;.yaml</text>"))
            #expect(dom.contains("<td>&lt;script&gt;alert(1)&lt;/script&gt;&lt;/svg&gt;</td>"))
            // Chromium 138+ serializes `<` and `>` in attribute values as entities, older versions as is.
            #expect(
                dom.contains("title=\"item-3 · vote: answer &lt;/svg&gt;5 · converged · run run-3-1\"")
                    || dom.contains("title=\"item-3 · vote: answer </svg>5 · converged · run run-3-1\""))
            #expect(Chromium.pageProblems(log) == [], "\(log)")
        }

        /// A model's answer that holds a quote followed by a combining mark (one Swift `Character`, but a
        /// quote byte to the browser) stays inside the grid cell's tooltip: no attribute is made from it. The
        /// escaping went character by character and let the quote end the attribute.
        @Test func aQuoteWithACombiningMarkStaysInsideItsTooltip() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let hostile = "4 \"\u{301} data-injected=\"yes\" style=\"position:fixed\u{301}"
            let (store, id) = try await Self.recordedBatch(
                in: sandbox, id: "bench-\(UUID().uuidString.lowercased())", kind: "bench",
                workflow: "single:openai/gpt-4o", specJSON: #"{"systems":["single:openai/gpt-4o"],"grader":"numeric"}"#,
                inputPath: "d.jsonl", total: 1
            ) { id in
                [
                    BatchItemRecord(
                        batchID: id, itemID: "q1", system: "single:openai/gpt-4o", position: 0, runID: "r0",
                        status: "converged", answer: hostile, extractedAnswer: hostile, correct: false, costUSD: 0.001,
                        calls: 1, latencyMs: 10, finishedAt: Date())
                ]
            }
            let (_, dom, log) = try await report(
                id, store: store, binary: binary, sandbox: sandbox,
                environment: RefineryBinary.environment(home: sandbox.root))
            #expect(count("<td class=\"mark ", in: dom) == 1)
            // No attribute was made from the answer: outside quoted attribute values, neither name is left.
            #expect(!markup(dom).contains("data-injected"), "\(dom)")
            #expect(!markup(dom).contains(" style="), "\(dom)")
            #expect(dom.contains("data-injected=&quot;yes&quot;"))
            #expect(Chromium.pageProblems(log) == [], "\(log)")
        }

        /// A bench run by the binary against a fake server (6 GSM8K-style items × `single:` and `vote`; the
        /// fake answers 4, right on the even items only): its page is the table `refinery bench` printed —
        /// one grid cell per item × system with the graded mark, one scatter point per system, the same
        /// accuracies.
        @Test func benchRunByTheBinaryShowsTheTableItPrinted() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let rows = (1...6).map { index in
                let (left, answer) = index % 2 == 0 ? (2, 4) : (3, 5)
                return "{\"id\":\"g\(index)\",\"question\":\"What is 2+\(left)?\",\"answer\":\"#### \(answer)\"}"
            }
            try sandbox.write("gsm.jsonl", Data(rows.joined(separator: "\n").utf8))
            let store = sandbox.root.appendingPathComponent("bench.db").path
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion("2 + 2 = 4.\n4"))
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let bench = try await binary.run(
                    [
                        "bench", "single:openai/gpt-4o", "vote", "--dataset", "gsm.jsonl", "--models",
                        CLIHarness.threeModels, "--output-format", "json", "--store", store,
                    ], environment: environment, directory: sandbox.root)
                #expect(bench.exitCode == 0, "\(bench.stderr)")
                let json = try CLIHarness.json(bench.stdout)
                let id = try #require(json["bench_id"] as? String)
                let systems = try #require(json["systems"] as? [[String: Any]])
                #expect(systems.map { $0["correct"] as? Int } == [3, 3])
                let (_, dom, log) = try await report(
                    id, store: store, binary: binary, sandbox: sandbox, environment: environment)
                #expect(dom.contains("<h1>Bench"))
                #expect(count("<circle class=\"point\"", in: dom) == 2)
                #expect(count("<td class=\"mark ", in: dom) == 12)
                #expect(count("<td class=\"mark correct\"", in: dom) == 6)
                #expect(count("<td class=\"mark wrong\"", in: dom) == 6)
                #expect(dom.contains("<td>single:openai/gpt-4o</td><td class=\"num\">50.0 %</td>"))
                #expect(dom.contains("<td>vote</td><td class=\"num\">50.0 %</td>"))
                #expect(Chromium.pageProblems(log) == [], "\(log)")
            }
        }

        /// An item answered by a fallback model, or with members lost on the way, is named so on the batch
        /// page (as its result line names it): the items table said only `converged`, like a clean answer.
        @Test func theItemsTableNamesAFallbackAndADegradedAnswer() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let origins: [AnswerOrigin?] = [
                AnswerOrigin(modelID: "openai/gpt-4o", memberID: "openai/gpt-4o"),
                AnswerOrigin(
                    modelID: "openai/gpt-4o-mini", memberID: "claude", fallbackFrom: "anthropic/claude-opus-4-6"),
                AnswerOrigin(
                    modelID: "openai/o3", memberID: "openai/o3", degraded: true,
                    degradedReasons: ["1 of 3 members answered (quorum 1)"]),
            ]
            let (store, id) = try await Self.recordedBatch(in: sandbox, total: origins.count) { id in
                origins.enumerated().map { position, origin in
                    BatchItemRecord(
                        batchID: id, itemID: "i\(position)", position: position, runID: "r\(position)",
                        status: "converged", answer: "4", costUSD: 0.001, calls: 3, latencyMs: 100, finishedAt: Date(),
                        origin: origin)
                }
            }
            let (_, dom, log) = try await report(
                id, store: store, binary: binary, sandbox: sandbox,
                environment: RefineryBinary.environment(home: sandbox.root))
            let rows = dom.components(separatedBy: "<tr class=\"item\">").dropFirst().map {
                $0.components(separatedBy: "</tr>")[0]
            }
            #expect(rows.count == 3)
            #expect(rows.first?.contains("openai/gpt-4o (openai/gpt-4o)") == true, "\(rows)")
            #expect(
                rows.dropFirst().first?.contains(
                    "claude (openai/gpt-4o-mini, fallback for anthropic/claude-opus-4-6, which failed)") == true,
                "\(rows)")
            #expect(rows.last?.contains("degraded: 1 of 3 members answered (quorum 1)") == true, "\(rows)")
            #expect(dom.contains("<dt>degraded</dt>") && dom.contains("<dt>fallback</dt>"))
            #expect(Chromium.pageProblems(log) == [], "\(log)")
        }

        /// A batch larger than the table lists: 500 rows shown, a note counts the rest, and the histograms
        /// still count every item that ran to its end; items cut by the budget are neither done nor failed.
        @Test func aLargeBatchListsTheFirstRowsAndCountsEveryItem() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let total = 523
            // Every 100th item was cut by the batch budget: not a failure, and not counted in the histograms.
            let cut = Set(stride(from: 99, to: total, by: 100))
            let (store, id) = try await Self.recordedBatch(in: sandbox, total: total) { id in
                (0..<total).map { position in
                    BatchItemRecord(
                        batchID: id, itemID: "i\(position)", position: position, runID: "r\(position)",
                        status: cut.contains(position) ? "batch_budget_exhausted" : "converged",
                        answer: cut.contains(position) ? nil : "ok", costUSD: Double(position % 7) / 1000, calls: 3,
                        latencyMs: 100 * (position % 11), finishedAt: Date())
                }
            }
            let (_, dom, log) = try await report(
                id, store: store, binary: binary, sandbox: sandbox,
                environment: RefineryBinary.environment(home: sandbox.root))
            #expect(count("<tr class=\"item\">", in: dom) == 500)
            #expect(dom.contains("23 more items are not listed"))
            #expect(histograms(dom).count == 2)
            for chart in histograms(dom) {
                #expect(binCounts(chart).reduce(0, +) == total - cut.count)
            }
            #expect(dom.contains("<dt>failed</dt><dd>0</dd>"))
            #expect(dom.contains("<dd>\(total - cut.count) / \(total)</dd>"))
            #expect(Chromium.pageProblems(log) == [], "\(log)")
        }

        /// An id that is neither a run nor a batch: exit 4, no file, and the hint names both listings.
        @Test func anUnknownIdExitsFourAndSaysWhereIdsAreListed() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            // A ledger that exists but holds neither (a missing one is refused as such).
            try SQLiteRunStore(path: sandbox.root.appendingPathComponent("runs.db").path).close()
            let result = try await binary.run(
                ["report", "no-such-id", "-o", "out.html", "--store", "runs.db"],
                environment: RefineryBinary.environment(home: sandbox.root), directory: sandbox.root)
            #expect(result.exitCode == 4, "\(result.stderr)")
            #expect(result.stderr.contains("No run, batch or bench with id `no-such-id`"), "\(result.stderr)")
            #expect(result.stderr.contains("refinery runs list"))
            #expect(result.stderr.contains("refinery batch list"))
            #expect(!FileManager.default.fileExists(atPath: sandbox.root.appendingPathComponent("out.html").path))
        }
    }
}
