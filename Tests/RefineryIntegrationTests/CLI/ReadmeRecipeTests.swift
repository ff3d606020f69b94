import Foundation
import Synchronization
import Testing

/// The README's shell recipes, run as written by the real binary against one fake server that
/// stands in for every provider. Each `sh` block runs as one bash script (so an `export` in a
/// block holds for the commands after it), in one sandbox shared by all blocks, in README order.
///
/// Every command of every `sh` block must have an entry in ``expectations``: a recipe added to the
/// README without one fails here, and so does an entry whose command left the README. The only
/// rewrites are the ones a reader makes too: `swift run refinery` is the installed `refinery`,
/// `3f2c` is the id of a run of theirs, and the local server's address is the fake's.
extension CLIEndToEnd {
    @Suite struct ReadmeRecipeTests {
        enum Expectation: Sendable {
            /// Runs; exits `exit`; `check` (if any) gets stdout.
            case run(exit: Int32, check: (@Sendable (String) throws -> Void)? = nil)
            /// Not run, for the reason given.
            case skip(String)
        }

        /// Every command of the README's `sh` blocks, as written there (continuation lines joined,
        /// comments dropped).
        static let expectations: [String: Expectation] = [
            "swift run refinery estimate consensus --models claude,codex,gemini": .run(exit: 0) {
                #expect($0.contains("calls"))
            },
            "swift test": .skip("the test suite that runs this test"),
            "refinery \"Explain CRDTs\" --models local/my-model:3": .run(exit: 0) { #expect($0.contains("Four.")) },
            "refinery list": .run(exit: 0) { #expect($0.contains("consensus")) },
            "refinery show consensus": .run(exit: 0) { #expect($0.contains("consensus")) },
            "refinery estimate consensus --models claude,codex,gemini": .run(exit: 0),
            "refinery \"Why is the sky blue?\" --models claude,codex,gemini --dry-run": .run(exit: 0),
            "refinery estimate consensus-classic --models openai/gpt-4o,openai/gpt-4o-mini,openai/o3 --max-rounds 1 --output-format json":
                .run(exit: 0) { stdout in
                    // The README's comment: calls {min,max} = 12, N² + N for three members.
                    let json = try CLIHarness.json(stdout)
                    let text = String(describing: json)
                    #expect(text.contains("12"), "\(stdout.prefix(400))")
                    #expect(stdout.contains("\"min\"") && stdout.contains("\"max\""))
                },
            "refinery graph consensus --format mermaid": .run(exit: 0) { #expect($0.contains("-->")) },
            "refinery validate my-workflow.yaml": .run(exit: 0),
            "export OPENAI_API_KEY=sk-...": .run(exit: 0),
            "refinery \"What are the three most impactful breakthroughs in physics?\" --models openai/gpt-4o,openai/gpt-4o-mini,openai/o3":
                .run(exit: 0) { #expect($0.contains("Four.")) },
            "OLLAMA_HOST=127.0.0.1:11434 refinery \"Explain CRDTs\" --models ollama/llama3.2:3": .run(exit: 0) {
                #expect($0.contains("Four."))
            },
            "refinery run consortium \"prompt\" --models gpt-4o:2,claude --arbiter claude": .run(exit: 0),
            "refinery run ./workflows/review.yaml - < question.txt": .run(exit: 0),
            "refinery \"review these for security issues\" -f src/auth.rs -f src/lib.rs --models claude,codex":
                .run(exit: 0),
            "refinery run review@v1.2 \"prompt\"": .run(exit: 0),
            "refinery save my-consortium --model gpt-4o:2 --model claude --arbiter claude --confidence-threshold 0.9 --max-iterations 5 --min-iterations 1 --system \"Be precise.\"":
                .run(exit: 0),
            "refinery run my-consortium \"What are the key considerations for AGI safety?\"": .run(exit: 0),
            "refinery show my-consortium": .run(exit: 0) { #expect($0.contains("my-consortium")) },
            "refinery remove my-consortium": .run(exit: 0),
            "refinery runs list": .run(exit: 0) { #expect($0.contains("cancelled")) },
            "refinery runs show 3f2c": .run(exit: 0) { #expect($0.contains("cancelled")) },
            "refinery runs export 3f2c > run.json": .run(exit: 0),
            "refinery resume 3f2c": .run(exit: 0) { #expect($0.contains("Four.")) },
            // An agent's registration command (the agent is not installed here); the server it starts
            // is exercised by MCPServerCLITests with the official MCP client.
            "claude mcp add refinery -- refinery mcp": .skip("needs Claude Code"),
            "codex mcp add refinery -- refinery mcp": .skip("needs Codex CLI"),
            "gemini mcp add -s user refinery refinery mcp": .skip("needs Gemini CLI"),
            "export REFINERY_MCP_TOKEN=$(openssl rand -hex 32)": .skip(
                "sets the token the next recipe reads; MCPServerHTTPCLITests serves with one"),
            "refinery mcp --http 127.0.0.1:8765": .skip(
                "serves until stopped; MCPServerHTTPCLITests runs it on a free port with the official client"),
            "claude mcp add --transport http refinery http://127.0.0.1:8765/mcp --header \"Authorization: Bearer $REFINERY_MCP_TOKEN\"":
                .skip("needs Claude Code"),
            "codex mcp add refinery --url http://127.0.0.1:8765/mcp --bearer-token-env-var REFINERY_MCP_TOKEN": .skip(
                "needs Codex CLI"),
            "refinery report 3f2c -o run.html": .run(exit: 0),
            // A PostgreSQL server: PostgresLedgerCLITests runs these commands against CI's throwaway cluster.
            "source .ci/postgres.sh && postgres_start": .skip("starts a PostgreSQL server"),
            "refinery \"Why is the sky blue?\" --models claude,codex,gemini --store \"$REFINERY_TEST_POSTGRES\"":
                .skip("needs the PostgreSQL server of the command before it"),
            // WorkerCLITests runs detached batches and workers against the test server.
            "refinery batch consensus --input questions.jsonl --models claude,codex,gemini --store \"$REFINERY_TEST_POSTGRES\" --detach":
                .skip("needs the PostgreSQL server started above"),
            "refinery worker --store \"$REFINERY_TEST_POSTGRES\" --concurrency 8 --exit-when-done":
                .skip("needs the PostgreSQL server started above"),
            "refinery batch consensus --input questions.jsonl --models claude,codex,gemini --dry-run": .run(exit: 0) {
                #expect($0.contains("2 items"))
            },
            "refinery batch consensus --input questions.jsonl --models claude,codex,gemini --concurrency 8 --max-budget 5 --output results.jsonl":
                .run(exit: 0),
            "refinery batch list": .run(exit: 0) { #expect($0.contains("finished  2/2")) },
            "refinery batch resume 7b1e": .run(exit: 0),
        ]

        @Test func everyOfflineRecipeRunsAsWritten() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let readme = try String(
                contentsOf: CLIHarness.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
            let blocks = ReadmeMarkdown.shellBlocks(readme)
            let commands = blocks.flatMap { $0 }
            for command in commands where Self.expectations[command] == nil {
                Issue.record("README command not covered by ReadmeRecipeTests.expectations: \(command)")
            }
            for command in Self.expectations.keys where !commands.contains(command) {
                Issue.record("ReadmeRecipeTests.expectations names a command the README no longer has: \(command)")
            }

            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let slow = Mutex(false)
            try await FakeServer.run { server in
                server.routeAny { request in
                    let reply = UniversalFake.reply(to: request)
                    return slow.withLock { $0 } ? .delayed(.seconds(30), reply) : reply
                }
                try prepare(sandbox, readme: readme, server: server)
                let environment = try environment(sandbox, binary: binary, server: server)
                let host = "127.0.0.1:\(server.port)"

                // A reader runs the blocks in one shell: what a block exports holds for the later ones.
                var exported: [String] = []
                for (index, block) in blocks.enumerated() {
                    var rewrite: (String) -> String = {
                        $0.replacing("swift run refinery", with: "refinery")
                            .replacing("OLLAMA_HOST=127.0.0.1:11434", with: "OLLAMA_HOST=\(host)")
                    }
                    if block.contains(where: { $0.contains("3f2c") }) {
                        // The ledger recipes read a run the reader interrupted with Ctrl-C.
                        let id = try await interruptedRun(
                            binary, sandbox, environment.merging(Self.exports(exported)) { _, new in new }, server,
                            slow)
                        rewrite = { $0.replacing("3f2c", with: id) }
                    }
                    if block.contains(where: { $0.contains("7b1e") }) {
                        // The batch recipe resumes the batch the block before ran.
                        let list = try await binary.run(
                            ["batch", "list", "--output-format", "json"], environment: environment,
                            directory: sandbox.root)
                        let batches = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]
                        let id = try #require(batches?.first?["id"] as? String, "\(list.stderr)")
                        rewrite = { $0.replacing("7b1e", with: String(id.prefix(8))) }
                    }
                    try runBlock(index, block, sandbox, environment, prelude: exported, rewrite: rewrite)
                    exported += block.filter { $0.hasPrefix("export ") }
                }
                // The file recipe sent its files in path-tagged blocks.
                #expect(server.requests.contains { $0.body.contains(#"path=\"src/auth.rs\""#) })
            }
        }

        /// Runs one block as one bash script, each command's output and exit code to its own files,
        /// then checks each against its expectation.
        private func runBlock(
            _ index: Int, _ block: [String], _ sandbox: Sandbox, _ environment: [String: String],
            prelude: [String], rewrite: (String) -> String
        ) throws {
            let out = sandbox.root.appendingPathComponent(".recipes/\(index)")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            var script = prelude.map { $0 + "\n" }.joined()
            var runs = false
            for (position, command) in block.enumerated() {
                guard case .run = Self.expectations[command] else { continue }
                runs = true
                script += "{ \(rewrite(command)) ; } >'\(out.path)/\(position).out' 2>'\(out.path)/\(position).err'\n"
                script += "echo $? >'\(out.path)/\(position).rc'\n"
            }
            guard runs else { return }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", script]
            process.environment = environment
            process.currentDirectoryURL = sandbox.root
            process.standardInput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            for (position, command) in block.enumerated() {
                guard case .run(let exit, let check) = Self.expectations[command] else { continue }
                func read(_ suffix: String) -> String {
                    let path = "\(out.path)/\(position).\(suffix)"
                    return String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
                }
                let code = Int32(read("rc").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
                #expect(code == exit, "`\(command)` exited \(code): \(read("err").suffix(800))")
                if code == exit, let check {
                    do { try check(read("out")) } catch { Issue.record("`\(command)`: \(error)") }
                }
            }
        }

        /// The files the recipes name: the endpoint file of the local-server recipe (its address
        /// the fake's), the README's example workflow as `my-workflow.yaml` and as
        /// `workflows/review.yaml` committed and tagged `v1.2`, a question and two source files.
        private func prepare(_ sandbox: Sandbox, readme: String, server: FakeServer) throws {
            let yaml = ReadmeMarkdown.blocks(readme, language: "yaml")
            let providers = try #require(yaml.first { $0.hasPrefix("providers:") }, "no providers.yaml block")
            let endpoint = providers.replacing(#"http://127.0.0.1:8080"#, with: server.baseURL)
            try sandbox.write("config/refinery/providers.yaml", Data(endpoint.utf8))
            let workflow = try #require(yaml.first { $0.contains("name: review-loop") }, "no workflow block")
            try sandbox.write("my-workflow.yaml", Data(workflow.utf8))
            try sandbox.write("workflows/review.yaml", Data(workflow.utf8))
            try sandbox.write("question.txt", Data("What is 2+2?\n".utf8))
            try sandbox.write(
                "questions.jsonl", Data("{\"question\":\"What is 2+2?\"}\n{\"question\":\"What is 3+3?\"}\n".utf8))
            try sandbox.write("src/auth.rs", Data("fn check(token: &str) -> bool { token == \"admin\" }\n".utf8))
            try sandbox.write("src/lib.rs", Data("pub mod auth;\n".utf8))
            try git(
                ["init", "-q", "-b", "main"], ["add", "workflows/review.yaml"], ["commit", "-q", "-m", "review"],
                ["tag", "v1.2"], in: sandbox.root)
        }

        private func environment(_ sandbox: Sandbox, binary: RefineryBinary, server: FakeServer) throws
            -> [String: String]
        {
            let bin = sandbox.root.appendingPathComponent(".bin")
            try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(
                at: bin.appendingPathComponent("refinery"), withDestinationURL: binary.url)
            var environment = RefineryBinary.environment(
                home: sandbox.root,
                extra: [
                    "ANTHROPIC_BASE_URL": server.baseURL, "ANTHROPIC_API_KEY": "sk-ant-test",
                    "OPENAI_BASE_URL": server.baseURL, "GEMINI_BASE_URL": server.baseURL,
                    "GEMINI_API_KEY": "gm-test", "OPENROUTER_BASE_URL": server.baseURL,
                    "OPENROUTER_API_KEY": "or-test", "GIT_CONFIG_GLOBAL": "/dev/null",
                    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
                    "GIT_COMMITTER_EMAIL": "t@example.com",
                ])
            environment["PATH"] = bin.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
            return environment
        }

        /// A run started against a fake that does not answer, interrupted with SIGINT once its first
        /// call is out; returns its id's first eight characters (what a reader would paste).
        private func interruptedRun(
            _ binary: RefineryBinary, _ sandbox: Sandbox, _ environment: [String: String], _ server: FakeServer,
            _ slow: borrowing Mutex<Bool>
        ) async throws -> String {
            slow.withLock { $0 = true }
            let before = server.requests.count
            let running = try binary.start(
                ["What is 2+2?", "--models", CLIHarness.threeModels], environment: environment,
                directory: sandbox.root)
            let deadline = ContinuousClock.now + .seconds(20)
            while server.requests.count == before, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            running.process.interrupt()
            try await running.wait()
            slow.withLock { $0 = false }
            let interrupted = try running.result()
            #expect(interrupted.exitCode == 1, "\(interrupted.stderr)")
            let list = try await binary.run(
                ["runs", "list", "--output-format", "json"], environment: environment, directory: sandbox.root)
            let runs = try #require(
                try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]], "\(list.stdout)")
            let id = try #require(runs.first?["id"] as? String ?? runs.first?["run_id"] as? String, "\(list.stdout)")
            return String(id.prefix(8))
        }

        /// `export NAME=VALUE` commands as environment entries.
        static func exports(_ commands: [String]) -> [String: String] {
            var entries: [String: String] = [:]
            for command in commands {
                let assignment = command.dropFirst("export ".count)
                guard let equals = assignment.firstIndex(of: "=") else { continue }
                entries[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
            }
            return entries
        }

        private func git(_ commands: [String]..., in folder: URL) throws {
            for arguments in commands {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = ["git"] + arguments
                process.currentDirectoryURL = folder
                process.environment = [
                    "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": folder.path,
                    "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
                ]
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                process.waitUntilExit()
                #expect(process.terminationStatus == 0, "git \(arguments.joined(separator: " "))")
            }
        }
    }
}

/// One fake for every provider: the same universal reply in each wire shape, streamed when the
/// request asks for a stream.
enum UniversalFake {
    static func reply(to request: RecordedRequest) -> FakeReply {
        let text = CLIHarness.universalReply()
        let streamed = request.body.contains(#""stream":true"#) || request.body.contains(#""stream": true"#)
        if request.path.hasSuffix("/chat/completions") {
            return streamed ? FakeOpenAI.stream([text]) : FakeOpenAI.completion(text)
        }
        if request.path.hasSuffix("/messages") {
            return streamed ? .sse(FakeAnthropic.events([text])) : FakeAnthropic.message(text)
        }
        if request.path.hasSuffix(":streamGenerateContent") { return FakeGemini.stream([text]) }
        if request.path.hasSuffix(":generateContent") { return FakeGemini.reply(text) }
        return .json(#"{"error":{"message":"no such route in the fake"}}"#, status: 404)
    }
}

/// Fenced code blocks of a Markdown document.
enum ReadmeMarkdown {
    /// The bodies of the blocks fenced as ` ```language `.
    static func blocks(_ markdown: String, language: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]?
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if let lines = current {
                if line.hasPrefix("```") {
                    blocks.append(lines.joined(separator: "\n") + "\n")
                    current = nil
                } else {
                    current = lines + [line]
                }
            } else if line.hasPrefix("```") {
                if line.dropFirst(3).trimmingCharacters(in: .whitespaces) == language { current = [] }
            }
        }
        return blocks
    }

    /// The commands of each `sh` block: continuation lines joined, comments and blank lines dropped,
    /// runs of spaces squeezed to one.
    static func shellBlocks(_ markdown: String) -> [[String]] {
        blocks(markdown, language: "sh").map { block in
            var commands: [String] = []
            var pending = ""
            for raw in block.split(separator: "\n") {
                let line = stripComment(String(raw))
                if line.hasSuffix("\\") {
                    pending += line.dropLast() + " "
                    continue
                }
                let command = (pending + line).split(separator: " ", omittingEmptySubsequences: true)
                    .joined(separator: " ")
                pending = ""
                if !command.isEmpty { commands.append(command) }
            }
            return commands
        }
    }

    /// `line` without a `#` comment (a `#` outside quotes that starts a word).
    static func stripComment(_ line: String) -> String {
        var quote: Character?
        var previous: Character = " "
        var result = ""
        for character in line {
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "#", previous == " " || previous == "\t" {
                break
            }
            result.append(character)
            previous = character
        }
        return result.trimmingCharacters(in: .whitespaces)
    }
}
