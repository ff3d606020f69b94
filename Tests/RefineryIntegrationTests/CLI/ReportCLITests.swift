import Foundation
import Refinery
import Synchronization
import Testing

/// Headless Chromium, to load reports the way a reader's browser does.
enum Chromium {
    static let path: String? = {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for folder in folders where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") {
                return "\(folder)/\(name)"
            }
        }
        return nil
    }()

    /// Outside CI a machine without Chromium skips the browser tests; in CI (`.ci/run` installs it) they run.
    static let available = path != nil || ProcessInfo.processInfo.environment["CI"] != nil

    /// `--dump-dom` of `file`, with the browser's log on stderr (console messages, CSP refusals, fetches).
    static func load(_ file: URL, extra: [String] = []) throws -> (dom: String, log: String, seconds: Double) {
        let chromium = try #require(path, "chromium is not installed (apt-get install -y chromium)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        process.arguments =
            [
                "--headless", "--disable-gpu", "--no-sandbox", "--user-data-dir=\(profile.path)",
                "--enable-logging=stderr", "--v=0", "--no-first-run", "--disable-extensions",
            ] + extra + ["--dump-dom", file.absoluteString]
        let out = Pipe()
        let err = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: err) }
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: err)
        let start = Date()
        try process.run()
        let dom = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let seconds = Date().timeIntervalSince(start)
        let log = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        return (String(decoding: dom, as: UTF8.self), log, seconds)
    }

    /// Lines of the browser log that a page caused: console output, blocked loads, script errors.
    static func pageProblems(_ log: String) -> [String] {
        log.split(separator: "\n").map(String.init).filter { line in
            ["CONSOLE", "Uncaught", "Refused to", "Content Security Policy", "net::ERR", "Failed to load"].contains {
                line.contains($0)
            }
        }
    }
}

extension CLIEndToEnd {
    /// `refinery report RUN_ID`: reports of real recorded runs (the binary against the fake OpenAI server),
    /// loaded in headless Chromium.
    @Suite(.enabled(if: Chromium.available, "chromium is not installed: apt-get install -y chromium"))
    struct ReportCLITests {
        static let xss = "<script>alert('x')</script></svg><img src=x onerror=alert(1)>"

        /// A reply every stage can use whose answer text carries markup that must stay text.
        static func hostileReply(score: Int = 9) -> String {
            CLIHarness.universalReply(score: score).replacingOccurrences(
                of: "\"answer\":\"Four.\"",
                with: "\"answer\":\"Four. \(xss.replacingOccurrences(of: "'", with: "\\u0027"))\"")
        }

        struct Recorded {
            var html: URL
            var export: [String: Any]
            /// The run's own `--output-format json` document.
            var output: [String: Any]
        }

        /// Runs `arguments` (a recorded run), then `refinery report` of it to a file, and exports the run.
        private func record(
            _ arguments: [String], binary: RefineryBinary, sandbox: Sandbox, server: FakeServer
        ) async throws -> Recorded {
            let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
            let run = try await binary.run(
                arguments + ["--output-format", "json"], environment: environment, directory: sandbox.root)
            let output = try CLIHarness.json(run.stdout)
            let runID = try #require(output["run_id"] as? String, "\(run.stderr)")
            let html = sandbox.root.appendingPathComponent("report-\(runID).html")
            let report = try await binary.run(
                ["report", runID, "-o", html.path], environment: environment, directory: sandbox.root)
            #expect(report.exitCode == 0, "\(report.stderr)")
            // `REFINERY_REPORT_SAVE=DIR` keeps the reports (how docs/report.png was taken).
            if let folder = ProcessInfo.processInfo.environment["REFINERY_REPORT_SAVE"] {
                let kept = URL(fileURLWithPath: folder).appendingPathComponent(
                    "\(arguments.dropFirst().first ?? "run")-\(runID.prefix(8)).html")
                try? FileManager.default.removeItem(at: kept)
                try FileManager.default.copyItem(at: html, to: kept)
            }
            let export = try await binary.run(
                ["runs", "export", runID], environment: environment, directory: sandbox.root)
            return Recorded(html: html, export: try CLIHarness.json(export.stdout), output: output)
        }

        private func count(_ needle: String, in text: String) -> Int {
            text.components(separatedBy: needle).count - 1
        }

        private func withServer(
            _ replies: FakeReply..., body: @Sendable (RefineryBinary, Sandbox, FakeServer) async throws -> Void
        ) async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let scripted = replies
            try await FakeServer.run { server in
                // The first request gets the first reply (a 500 makes that call a retry), every later one the last.
                let seen = Mutex(0)
                server.route(FakeOpenAI.path) { _ in
                    seen.withLock { count in
                        count += 1
                        return count == 1 ? scripted[0] : scripted[scripted.count - 1]
                    }
                }
                try await body(binary, sandbox, server)
            }
        }

        /// Consensus: one timeline bar per recorded call, one heatmap cell per review of each round, the
        /// retried call marked, the critical path drawn, the hostile answer shown as text, and a page that
        /// loads with no console message and no network request.
        @Test func consensusReportShowsEveryCallAndReviewAndKeepsAHostileAnswerAsText() async throws {
            try await withServer(
                FakeOpenAI.error("overloaded", type: "server_error", status: 500),
                FakeOpenAI.completion(Self.hostileReply())
            ) { binary, sandbox, server in
                let recorded = try await record(
                    ["run", "consensus", "What is 2+2? <b>bold</b>", "--models", CLIHarness.threeModels],
                    binary: binary, sandbox: sandbox, server: server)
                let calls = try #require(recorded.export["calls"] as? [[String: Any]])
                #expect(calls.count >= 18)
                let (dom, log, _) = try Chromium.load(recorded.html)
                #expect(count("<rect class=\"bar ", in: dom) == calls.count)
                #expect(count(" retried", in: dom) >= 1, "the 500 then success is one call of 2 attempts")
                #expect(count(" critical", in: dom) >= 2)
                // Reviews per round: each succeeded pairwise evaluate call is one cell of its round's matrix.
                let rounds = Set(calls.compactMap { $0["round"] as? Int }).sorted()
                let sections = dom.components(separatedBy: "<section class=\"round\">").dropFirst()
                for (round, section) in zip(rounds, sections) {
                    let reviews = calls.filter {
                        $0["round"] as? Int == round && ($0["node"] as? String ?? "").contains(".evaluate[")
                            && $0["status"] as? String == "succeeded"
                    }.count
                    #expect(count("<rect class=\"cell\"", in: section) == reviews, "round \(round)")
                    #expect(reviews == 6)
                }
                #expect(sections.count == rounds.count)
                // Each round's answers under their heading (a `{{#list.0}}` section never rendered it).
                #expect(sections.allSatisfy { $0.contains("<h3>Answers</h3>") })
                // Model ids decoded: the matrix names models, not anonymous labels.
                #expect(dom.contains("openai/gpt-4o-mini"))
                // The hostile answer is text: no element came from it, its characters are shown.
                #expect(!dom.contains("<script"))
                #expect(!dom.contains("<img"))
                #expect(dom.contains("&lt;script&gt;alert("))
                #expect(dom.contains("&lt;/svg&gt;"))
                #expect(dom.contains("&lt;b&gt;bold&lt;/b&gt;"))
                #expect(Chromium.pageProblems(log) == [], "\(log)")
                // Offline and self-contained: no external reference at all.
                let html = try String(contentsOf: recorded.html, encoding: .utf8)
                #expect(!html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http://"))
                #expect(!html.contains("https://"))
                #expect(html.contains("default-src 'none'"))
            }
        }

        /// Consortium (arbiter) and vote: the synthesis and the vote distribution are shown, the arbiter has
        /// its own lane, and the pages load cleanly.
        @Test func consortiumAndVoteReportsShowSynthesisAndDistribution() async throws {
            try await withServer(FakeOpenAI.completion(Self.hostileReply())) { binary, sandbox, server in
                let consortium = try await record(
                    [
                        "run", "consortium", "What is 2+2?", "--models", CLIHarness.threeModels, "--arbiter",
                        "openai/gpt-4o",
                    ], binary: binary, sandbox: sandbox, server: server)
                let calls = try #require(consortium.export["calls"] as? [[String: Any]])
                let (dom, log, _) = try Chromium.load(consortium.html)
                #expect(count("<rect class=\"bar ", in: dom) == calls.count)
                #expect(dom.contains("Synthesis by arbiter"))
                #expect(dom.contains(">arbiter</text>"))
                #expect(!dom.contains("<script"))
                #expect(Chromium.pageProblems(log) == [], "\(log)")

                let vote = try await record(
                    ["run", "vote", "What is 6 × 7?", "--models", CLIHarness.threeModels], binary: binary,
                    sandbox: sandbox, server: server)
                let (voteDOM, voteLog, _) = try Chromium.load(vote.html)
                #expect(voteDOM.contains("<h2>Vote (last-line)</h2>"), "a single pass has no round")
                #expect(count("<rect class=\"bar ", in: voteDOM) == (vote.export["calls"] as? [Any])?.count)
                #expect(Chromium.pageProblems(voteLog) == [], "\(voteLog)")
            }
        }

        /// An answer a fallback produced is headed with the model that produced it and the one that failed, as
        /// `runs show` and the text summary name it; the page named the configured arbiter, which had failed.
        /// The cost table and the timeline name a fallback's calls the same way (they named the configured
        /// model), and a member's answer in `all_answers` says which model it fell back from.
        @Test func theAnswerNamesTheFallbackThatProducedIt() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write(
                "merge.yaml",
                Data(
                    """
                    refinery: 1
                    name: merge
                    models: [openai/gpt-4o, { model: openai/o3, fallback: [openai/gpt-4o-mini] }]
                    arbiter: { model: openai/o3, fallback: [openai/gpt-4o] }
                    stages: [propose, synthesize]

                    """.utf8))
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path) { request in
                    request.json?["model"] as? String == "o3"
                        ? FakeOpenAI.error("no such model", type: "invalid_request_error", status: 404)
                        : FakeOpenAI.completion(CLIHarness.universalReply())
                }
                let recorded = try await record(
                    ["run", "merge.yaml", "What is 2+2?"], binary: binary, sandbox: sandbox, server: server)
                let (dom, log, _) = try Chromium.load(recorded.html)
                #expect(dom.contains("Answer — arbiter (openai/gpt-4o, fallback for openai/o3, which failed)"))
                #expect(!dom.contains("Answer — arbiter (openai/o3)"))
                let arbiter = "arbiter (openai/gpt-4o, fallback for openai/o3, which failed)"
                #expect(dom.contains("<td>\(arbiter)</td>"), "the cost table")
                #expect(dom.contains("\(arbiter) · s1.synthesize"), "the timeline")
                #expect(dom.contains("openai/o3 (openai/gpt-4o-mini, fallback for openai/o3, which failed) · "))
                #expect(Chromium.pageProblems(log) == [], "\(log)")

                let json = try await binary.run(
                    ["run", "merge.yaml", "What is 2+2?", "--output-format", "json"],
                    environment: CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL),
                    directory: sandbox.root)
                let answers = try #require(try CLIHarness.json(json.stdout)["all_answers"] as? [[String: Any]])
                let fellBack = answers.filter { $0["fallback_from"] != nil }
                #expect(fellBack.count == 1, "\(answers)")
                #expect(fellBack.first?["model_id"] as? String == "openai/gpt-4o-mini")
                #expect(fellBack.first?["fallback_from"] as? String == "openai/o3")
                if let errors = try await CLIHarness.schemaErrors(json.stdout) { #expect(errors == []) }
            }
        }

        /// A batched review re-asked once (its first reply missed a label): the page shows the scores the engine
        /// used, read from the re-ask alone, as the run's JSON reports them. The first reply's score of a label the
        /// re-ask then missed was discarded by the engine (that review is unscored), and the page showed it.
        @Test func aReaskedBatchedReviewShowsOnlyTheScoresTheEngineUsed() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write(
                "batched.yaml",
                Data(
                    """
                    refinery: 1
                    name: batched
                    models: [openai/gpt-4o:3]
                    iterations: { min: 1, max: 1 }
                    convergence: { strategy: vote-threshold, threshold: 9.5, stability: 1 }
                    stages:
                      - propose
                      - repeat:
                          - evaluate: { mode: batched }
                          - close

                    """.utf8))
            @Sendable func review(_ label: String, score: Int) -> String {
                """
                {"\(label)":{"strengths":[],"weaknesses":[],"suggestions":[],"rationale":"r","score":\(score)}}
                """
            }
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path) { request in
                    // The first batched reply scores only A (3); the re-ask scores only B (7).
                    if request.body.contains("Your previous reply could not be read") {
                        return FakeOpenAI.completion(review("B", score: 7))
                    }
                    if request.body.contains("You are reviewing several answers") {
                        return FakeOpenAI.completion(review("A", score: 3))
                    }
                    return FakeOpenAI.completion(CLIHarness.universalReply())
                }
                let recorded = try await record(
                    ["run", "batched.yaml", "What is 2+2?"], binary: binary, sandbox: sandbox, server: server)
                let calls = try #require(recorded.export["calls"] as? [[String: Any]])
                #expect(calls.filter { ($0["node"] as? String ?? "").contains(".evaluate[") }.count == 6)
                let html = try String(contentsOf: recorded.html, encoding: .utf8)
                // One score per reviewer (its re-ask's B), each a 7; the first replies' 3s are gone.
                let cells = html.components(separatedBy: "<rect class=\"cell\"").dropFirst()
                #expect(cells.count == 3, "\(cells)")
                #expect(!html.contains(": 3</title>"))
                #expect(cells.allSatisfy { $0.contains(": 7</title>") })
                // The run's own mean for the answer the re-asks scored is that 7 too, as the page's chart draws it.
                let answers = try #require(recorded.output["all_answers"] as? [[String: Any]])
                let means = answers.compactMap { $0["mean_score"] as? Double }
                #expect(!means.isEmpty && means.allSatisfy { $0 == 7 }, "\(answers)")
            }
        }

        /// Every built-in workflow: every member's answer of every step is on the page (verify's and vote's
        /// single pass showed none, the stages before and after a repeat block none either), each step headed
        /// as the run's reasons name it: `Before round 1`, `Round 2`, `After round 3`, and `Single pass` for
        /// a workflow without a repeat block, never `Round 0`; the vote and the notes name their step alike.
        @Test func everyBuiltInShowsEveryAnswerOfEveryStepUnderTheStepsName() async throws {
            // Verify's plan reads questions too.
            let reply = CLIHarness.universalReply().replacingOccurrences(
                of: #""ranking":[]"#, with: #""ranking":[],"questions":["Is it four?"]"#)
            try await withServer(FakeOpenAI.completion(reply)) { binary, sandbox, server in
                let builtIns = [
                    "consensus", "consensus-classic", "consortium", "self-refine", "verify", "debate", "moa",
                    "self-consistency", "vote",
                ]
                for workflow in builtIns {
                    let arbiter = ["consortium", "moa"].contains(workflow) ? ["--arbiter", "openai/gpt-4o"] : []
                    let recorded = try await record(
                        ["run", workflow, "What is 2+2?", "--models", CLIHarness.threeModels] + arbiter,
                        binary: binary, sandbox: sandbox, server: server)
                    let html = try String(contentsOf: recorded.html, encoding: .utf8)
                    let calls = try #require(recorded.export["calls"] as? [[String: Any]])
                    let rounds = try #require((recorded.output["metadata"] as? [String: Any])?["total_rounds"] as? Int)
                    let singlePass = ["verify", "vote"].contains(workflow)
                    // The answers the engine used: each answering node's last call of each step, if it succeeded.
                    var last: [String: [String: Any]] = [:]
                    for call in calls {
                        let node = call["node"] as? String ?? ""
                        guard [".propose[", ".refine[", ".verify.revise["].contains(where: node.contains) else { continue }
                        last["\(call["round"] as? Int ?? -1) \(node)"] = call
                    }
                    let answers = last.values.filter { $0["status"] as? String == "succeeded" }.count
                    #expect(answers >= 3, "\(workflow)")
                    let steps = Set(calls.compactMap { $0["round"] as? Int }).sorted()
                    let sections = html.components(separatedBy: "<section class=\"round\">").dropFirst()
                    #expect(sections.count == steps.count, "\(workflow)")
                    #expect(count("<details open><summary>", in: html) == answers, "\(workflow)")
                    for (step, section) in zip(steps, sections) {
                        let name =
                            singlePass
                            ? "Single pass" : step == 0 ? "Before round 1" : step <= rounds ? "Round \(step)" : "After round \(rounds)"
                        #expect(section.hasPrefix("\n<h2>\(name)</h2>"), "\(workflow) step \(step): \(section.prefix(80))")
                    }
                    #expect(!html.lowercased().contains("round 0"), "\(workflow)")
                    // The run's time as its JSON gives it (the page timed the ledger's record instead).
                    let elapsed = try #require((recorded.output["metadata"] as? [String: Any])?["elapsed_ms"] as? Int)
                    #expect(
                        html.contains("<dt>elapsed</dt><dd>\(String(format: "%.2f s", Double(elapsed) / 1000))</dd>"),
                        "\(workflow)")
                    switch workflow {
                    case "vote": #expect(html.contains("<h2>Vote (last-line)</h2>"))
                    case "debate": #expect(html.contains("<h2>Vote (after round \(rounds), last-line)</h2>"))
                    case "self-consistency": #expect(html.contains("<h2>Vote (round \(rounds), last-line)</h2>"))
                    case "moa": #expect(html.contains("<h2>Synthesis by arbiter, after round \(rounds)</h2>"))
                    case "verify": #expect(html.contains("<h2>Verification questions by openai/o3</h2>"))
                    default: break
                    }
                }
            }
        }

        /// A billed empty reply, retried: one call of two attempts, as the run's JSON counts it, and so in
        /// `runs list`, `runs show` and the report's facts and per-participant table (the page and the list
        /// counted it as 2 calls, one failed, while `total_calls` said 1); its cost still counted.
        @Test func aBilledRetryIsAnAttemptNotACallOnEveryPage() async throws {
            try await withServer(
                FakeOpenAI.completion(""), FakeOpenAI.completion(CLIHarness.universalReply())
            ) { binary, sandbox, server in
                let recorded = try await record(
                    ["run", "vote", "What is 2+2?", "--models", CLIHarness.threeModels], binary: binary,
                    sandbox: sandbox, server: server)
                let calls = try #require(recorded.export["calls"] as? [[String: Any]])
                #expect(calls.count == 4, "the billed attempt is recorded, for its cost")
                let total = try #require((recorded.output["metadata"] as? [String: Any])?["total_calls"] as? Int)
                #expect(total == 3)
                let html = try String(contentsOf: recorded.html, encoding: .utf8)
                #expect(html.contains("<dt>calls</dt><dd>\(total)</dd>"))
                let rows = try Regex(#"<tr><td>[^<]*</td><td>(\d+)</td><td>(\d+)</td>"#)
                let counts = html.matches(of: rows).compactMap { match in
                    (match.output[1].substring.flatMap { Int($0) }, match.output[2].substring.flatMap { Int($0) })
                }
                #expect(counts.count == 3)
                #expect(counts.reduce(0) { $0 + ($1.0 ?? 0) } == total, "\(counts)")
                #expect(counts.allSatisfy { $0.1 == 0 }, "no call failed: \(counts)")
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let id = try #require(recorded.output["run_id"] as? String)
                let list = try await binary.run(["runs", "list"], environment: environment, directory: sandbox.root)
                #expect(list.stdout.contains("\(total) calls"), "\(list.stdout)")
                let show = try await binary.run(["runs", "show", id], environment: environment, directory: sandbox.root)
                #expect(show.stdout.contains(", \(total) calls"), "\(show.stdout)")
            }
        }

        /// The browser check itself: a page that logs, throws or fetches is caught (so a clean report is
        /// evidence, not an empty log).
        @Test func theBrowserCheckCatchesConsoleOutputAndBlockedLoads() throws {
            let page = FileManager.default.temporaryDirectory.appendingPathComponent("probe-\(UUID().uuidString).html")
            defer { try? FileManager.default.removeItem(at: page) }
            try Data(
                """
                <!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; \
                style-src 'unsafe-inline'; img-src data:"></head><body><img src="http://127.0.0.1:9/x.png"></body></html>
                """.utf8
            ).write(to: page)
            let (_, log, _) = try Chromium.load(page)
            #expect(Chromium.pageProblems(log).contains { $0.contains("127.0.0.1:9") }, "\(log)")
        }

        /// A member's answer against its previous round: kept words as text, added ones in <ins>, removed
        /// ones in <del>, all escaped.
        @Test func wordDiffMarksChangesAndEscapes() {
            #expect(
                WordDiff.html(old: "The answer is <b>4</b>", new: "The answer is <b>four</b> exactly")
                    == "The answer is <del>&lt;b&gt;4&lt;/b&gt;</del> <ins>&lt;b&gt;four&lt;/b&gt;</ins> <ins>exactly</ins>"
            )
            #expect(WordDiff.html(old: "a b", new: "a b") == "a b")
        }

        @Test func anUnknownRunExitsFourWithoutWritingAFile() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let result = try await binary.run(
                ["report", "no-such-run", "-o", "out.html"],
                environment: RefineryBinary.environment(home: sandbox.root), directory: sandbox.root)
            #expect(result.exitCode == 4, "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: sandbox.root.appendingPathComponent("out.html").path))
        }

        /// A model's right-to-left override (and an escape character, DEL and a C1 control) is shown, not obeyed:
        /// in the report as `\u202E` (it showed the rest of the answer in reverse), and by `runs show` on a
        /// terminal, as the terminal already showed `\x1B`; a pipe still gets the answer's exact text. JSON on a
        /// terminal is still JSON, with the exact text: it showed the override as `\u{202E}`, which no JSON
        /// parser reads, and DEL as `\x7F`.
        @Test func aBidiOverrideInAnAnswerIsShownNotObeyed() async throws {
            let answer = "Four \u{202E}evif\u{202C} or \u{2067}six\u{2069} \u{1B}[31mred\u{7F}\u{9B}2J"
            try await withServer(FakeOpenAI.completion(answer)) { binary, sandbox, server in
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let recorded = try await record(
                    ["run", "vote", "What is 2+2?", "--models", "openai/gpt-4o"], binary: binary, sandbox: sandbox,
                    server: server)
                let (dom, log, _) = try Chromium.load(recorded.html)
                let shown = #"Four \u202Eevif\u202C or \u2067six\u2069 \x1B[31mred\u007F\u009B2J"#
                #expect(dom.contains(shown), "\(dom)")
                #expect(!dom.unicodeScalars.contains { [0x202E, 0x2067, 0x1B].contains($0.value) })
                #expect(Chromium.pageProblems(log) == [], "\(log)")
                let id = try #require((recorded.export["run"] as? [String: Any])?["id"] as? String)
                let terminal = try await CLIHarness.onTerminal(
                    binary, ["runs", "show", id], environment: environment, directory: sandbox.root)
                #expect(terminal.stdout.contains(shown), "\(terminal.stdout)")
                #expect(!terminal.stdout.unicodeScalars.contains { [0x202E, 0x7F, 0x9B].contains($0.value) })
                let piped = try await binary.run(["runs", "show", id], environment: environment, directory: sandbox.root)
                #expect(piped.stdout.contains(answer))
                let json = try await CLIHarness.onTerminal(
                    binary, ["run", "vote", "What is 2+2?", "--models", "openai/gpt-4o", "-q", "--output-format", "json"],
                    environment: environment, directory: sandbox.root)
                #expect(!json.stdout.unicodeScalars.contains { [0x202E, 0x7F, 0x9B, 0x1B].contains($0.value) })
                let report = try CLIHarness.json(json.stdout.replacingOccurrences(of: "\r\n", with: "\n"))
                #expect((report["winner"] as? [String: Any])?["answer"] as? String == answer, "\(json.stdout)")
            }
        }

        /// A page the disk cannot take (`/dev/full`: no space left) is a one-line error with the system's reason
        /// and where the page can be had again, exit 1; it was Foundation's whole NSError dump.
        @Test(.enabled(if: FileManager.default.fileExists(atPath: "/dev/full")))
        func aPageTheDiskCannotTakeSaysWhyInOneLine() async throws {
            try await withServer(FakeOpenAI.completion(CLIHarness.universalReply())) { binary, sandbox, server in
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let run = try await binary.run(
                    ["run", "vote", "What is 2+2?", "--models", "openai/gpt-4o", "--output-format", "json"],
                    environment: environment, directory: sandbox.root)
                let id = try #require(try CLIHarness.json(run.stdout)["run_id"] as? String, "\(run.stderr)")
                let report = try await binary.run(
                    ["report", id, "-o", "/dev/full"], environment: environment, directory: sandbox.root)
                #expect(report.exitCode == 1, "\(report.stderr)")
                #expect(report.stderr.contains("cannot write -o /dev/full: No space left on device."), "\(report.stderr)")
                #expect(report.stderr.contains("`refinery report \(id)` prints the page"), "\(report.stderr)")
                #expect(!report.stderr.contains("NSCocoaErrorDomain"), "\(report.stderr)")

                // Standard output on a full disk (`runs export ID > file`) says so too: it exited 1 without a word.
                let shell = RefineryBinary(url: URL(fileURLWithPath: "/bin/sh"))
                let export = try await shell.run(
                    ["-c", "exec \"$0\" runs export \(id) > /dev/full", binary.url.path], environment: environment,
                    directory: sandbox.root)
                #expect(export.exitCode == 1, "\(export.stderr)")
                #expect(export.stderr.contains("cannot write the output: No space left on device."), "\(export.stderr)")
            }
        }

        /// The figures of a 50-member consensus round (2,500 calls): report size and Chromium load time.
        /// Run on demand: `REFINERY_REPORT_SCALE=1 swift test --filter fiftyMember`.
        @Test(.enabled(if: ProcessInfo.processInfo.environment["REFINERY_REPORT_SCALE"] != nil))
        func fiftyMemberReportSizeAndLoadTime() async throws {
            try await withServer(FakeOpenAI.completion(Self.hostileReply())) { binary, sandbox, server in
                let recorded = try await record(
                    [
                        "run", "consensus", "What is 2+2?", "--models", "openai/gpt-4o-mini:50", "--max-rounds", "1",
                        "--min-rounds", "1", "--max-concurrent", "64", "--timeout", "120",
                    ], binary: binary, sandbox: sandbox, server: server)
                let bytes = try #require(
                    try FileManager.default.attributesOfItem(atPath: recorded.html.path)[.size] as? Int)
                let (dom, log, seconds) = try Chromium.load(recorded.html)
                let calls = (recorded.export["calls"] as? [Any])?.count ?? 0
                print(
                    "50-member report: \(calls) calls, \(bytes) bytes, Chromium --dump-dom \(String(format: "%.2f", seconds)) s"
                )
                #expect(count("<rect class=\"bar ", in: dom) == calls)
                #expect(Chromium.pageProblems(log) == [])
            }
        }
    }
}
