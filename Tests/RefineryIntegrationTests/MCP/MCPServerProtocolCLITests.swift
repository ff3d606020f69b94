import Foundation
import Synchronization
import Testing

extension CLIEndToEnd {
    /// `refinery mcp` at the edges of the protocol, through the official Python client: an unknown tool,
    /// an argument the tool does not take, and a client that goes away while a run is in flight.
    @Suite struct MCPServerProtocolCLITests {
        static let script = #"""
            import anyio, json, os, sys
            from mcp import ClientSession, StdioServerParameters
            from mcp.client.stdio import stdio_client

            binary, store, models = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
            out = {}

            def server():
                return StdioServerParameters(
                    command=binary, args=["mcp", "--store", store], env=dict(os.environ), cwd=os.getcwd())

            def error(result):
                return bool(getattr(result, "is_error", None) or getattr(result, "isError", None))

            def text(result):
                return "".join(getattr(c, "text", "") for c in result.content)

            async def main():
                async with stdio_client(server()) as (read, write):
                    async with ClientSession(read, write) as session:
                        await session.initialize()
                        try:
                            result = await session.call_tool("no_such_tool", {})
                            out["unknown_tool"] = {"result": text(result), "error": error(result)}
                        except Exception as refused:
                            code = getattr(getattr(refused, "error", refused), "code", None)
                            out["unknown_tool"] = {"code": code, "message": str(refused)}
                        typo = await session.call_tool(
                            "run_workflow", {"prompt": "What is 2+2?", "models": models, "budjet": 0.01})
                        out["typo"] = {"error": error(typo), "text": text(typo)}
                        runs = await session.call_tool("list_runs", {})
                        out["runs_after_typo"] = len(json.loads(text(runs))["runs"])

                        # The client leaves once the run's first call has finished.
                        started = anyio.Event()
                        async def on_first(done, total, message):
                            started.set()
                        async def call():
                            try:
                                await session.call_tool(
                                    "run_workflow", {"prompt": "What is 3+3?", "models": models},
                                    progress_callback=on_first)
                            except Exception:
                                pass
                        async with anyio.create_task_group() as group:
                            group.start_soon(call)
                            with anyio.fail_after(30):
                                await started.wait()
                            group.cancel_scope.cancel()
                        # Leaving the session closes the server's stdin while the run is still going.
                print(json.dumps(out))
            anyio.run(main)
            """#

        @Test(
            .enabled(if: MCPServerCLITests.clientAvailable, "python3 lacks the MCP SDK (`pip install mcp`)"),
            .timeLimit(.minutes(2)))
        func unknownToolsAndArgumentsAreRefusedAndADepartedClientsRunIsCancelled() async throws {
            let (out, runs) = try await Self.runWhileARunIsInFlight(Self.script)
            // An unknown tool is a JSON-RPC error (-32602, the spec's "Unknown tool"), not a tool result.
            let unknown = try #require(out["unknown_tool"] as? [String: Any])
            #expect(unknown["code"] as? Int == -32602, "\(unknown)")
            #expect((unknown["message"] as? String ?? "").contains("no_such_tool"), "\(unknown)")
            // A misspelt argument is refused with the name meant, before any call (it was ignored).
            let typo = try #require(out["typo"] as? [String: Any])
            #expect(typo["error"] as? Bool == true, "\(typo)")
            #expect((typo["text"] as? String ?? "").contains("Did you mean `budget`?"), "\(typo)")
            #expect(out["runs_after_typo"] as? Int == 0)

            // The run the client walked away from is recorded cancelled (resumable), not left `running`.
            #expect(runs.contains("\"cancelled\"") && !runs.contains("\"running\""), "\(runs)")
        }

        /// The server stopped with SIGTERM mid-run (as an agent stops its servers), over raw JSON-RPC.
        static let terminating = #"""
            import json, os, signal, subprocess, sys
            binary, store, models = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
            server = subprocess.Popen([binary, "mcp", "--store", store], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            def send(message):
                server.stdin.write((json.dumps(message) + "\n").encode())
                server.stdin.flush()
            send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18",
                  "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}})
            server.stdout.readline()
            send({"jsonrpc": "2.0", "method": "notifications/initialized"})
            send({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "run_workflow",
                  "arguments": {"prompt": "What is 3+3?", "models": models}, "_meta": {"progressToken": "p"}}})
            # The first progress notification: a call has finished and the run is in flight.
            while b"notifications/progress" not in server.stdout.readline():
                pass
            server.send_signal(signal.SIGTERM)
            print(json.dumps({"exit": server.wait(timeout=30)}))
            """#

        @Test(.timeLimit(.minutes(1)))
        func aTerminatedServerRecordsItsRunCancelled() async throws {
            let (out, runs) = try await Self.runWhileARunIsInFlight(Self.terminating)
            // It exits on its own once the run is recorded (it was killed by the signal: -15).
            #expect(out["exit"] as? Int == 0, "\(out)")
            #expect(runs.contains("\"cancelled\"") && !runs.contains("\"running\""), "\(runs)")
        }

        /// `run_workflow` without `workflow`, from a folder whose `workflows/consensus.yaml` is broken.
        static let withoutWorkflow = #"""
            import anyio, json, os, sys
            from mcp import ClientSession, StdioServerParameters
            from mcp.client.stdio import stdio_client

            binary, store, models = sys.argv[1], sys.argv[2], sys.argv[3].split(",")

            async def main():
                params = StdioServerParameters(
                    command=binary, args=["mcp", "--store", store], env=dict(os.environ), cwd=os.getcwd())
                async with stdio_client(params) as (read, write):
                    async with ClientSession(read, write) as session:
                        await session.initialize()
                        result = await session.call_tool("run_workflow", {"prompt": "What is 2+2?", "models": models})
                        error = bool(getattr(result, "is_error", None) or getattr(result, "isError", None))
                        text = "".join(getattr(c, "text", "") for c in result.content)
                        try:
                            workflow = json.loads(text).get("workflow", {})
                        except ValueError:
                            workflow = {}
                        print(json.dumps({"error": error, "text": text[:500], "workflow": workflow}))
            anyio.run(main)
            """#

        /// A run that names no workflow is the built-in consensus, as on the command line: a project's
        /// `consensus.yaml` shadows the name for `run_workflow {"workflow": "consensus"}`, not the default.
        @Test(
            .enabled(if: MCPServerCLITests.clientAvailable, "python3 lacks the MCP SDK (`pip install mcp`)"),
            .timeLimit(.minutes(1)))
        func aRunWithoutAWorkflowIsTheBuiltinConsensus() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write("workflows/consensus.yaml", Data("name: consensus\nstages: [unclosed\n".utf8))
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion(CLIHarness.universalReply()))
                let (_, out) = try await MCPServerCLITests.runClient(
                    Self.withoutWorkflow, binary: binary, sandbox: sandbox, baseURL: server.baseURL,
                    directory: sandbox.root)
                #expect(out["error"] as? Bool == false, "\(out)")
                let workflow = try #require(out["workflow"] as? [String: Any], "\(out)")
                #expect(workflow["name"] as? String == "consensus", "\(out)")
                #expect(workflow["path"] as? String == "builtin:consensus", "\(out)")
            }
        }

        /// Calls the tools listed in `calls.json` (name, arguments) in one session; each call's error flag
        /// and text, or the JSON-RPC error code and message of a call refused as a protocol error.
        static let calls = #"""
            import anyio, json, os, sys
            from mcp import ClientSession, StdioServerParameters
            from mcp.client.stdio import stdio_client

            binary, store = sys.argv[1], sys.argv[2]

            async def main():
                params = StdioServerParameters(
                    command=binary, args=["mcp", "--store", store], env=dict(os.environ), cwd=os.getcwd())
                results = []
                async with stdio_client(params) as (read, write):
                    async with ClientSession(read, write) as session:
                        await session.initialize()
                        for name, arguments in json.load(open("calls.json")):
                            try:
                                result = await session.call_tool(name, arguments)
                                error = bool(getattr(result, "is_error", None) or getattr(result, "isError", None))
                                text = "".join(getattr(c, "text", "") for c in result.content)
                                results.append({"error": error, "text": text[:2000]})
                            except Exception as refused:
                                code = getattr(getattr(refused, "error", refused), "code", None)
                                results.append({"code": code, "text": str(refused)})
                print(json.dumps({"results": results}))
            anyio.run(main)
            """#

        /// The results of `calls` (tool name, arguments), made in order in one session of `refinery mcp`.
        static func results(
            of calls: [(String, [String: Any])], reply: FakeReply = FakeOpenAI.completion(CLIHarness.universalReply())
        ) async throws -> [[String: Any]] {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write("calls.json", try JSONSerialization.data(withJSONObject: calls.map { [$0.0, $0.1] }))
            let output = try await FakeServer.run { server in
                server.route(FakeOpenAI.path, reply)
                let (result, _) = try await MCPServerCLITests.runClient(
                    Self.calls, binary: binary, sandbox: sandbox, baseURL: server.baseURL, directory: sandbox.root)
                return result.stdout
            }
            let out = try CLIHarness.json(output.components(separatedBy: "\n").last { !$0.isEmpty } ?? "")
            return try #require(out["results"] as? [[String: Any]], "\(out)")
        }

        /// A whole number outside the range the tool's schema declares is refused with that range, as the
        /// tool's error result the calling model reads (like a mistyped or unknown argument; MCP's SEP-1303):
        /// `list_runs` clamped `limit: -5`, `0` and `10000` silently.
        @Test(
            .enabled(if: MCPServerCLITests.clientAvailable, "python3 lacks the MCP SDK (`pip install mcp`)"),
            .timeLimit(.minutes(1)))
        func aNumberOutsideItsRangeIsRefusedWithTheRange() async throws {
            let results = try await Self.results(of: [
                ("list_runs", ["limit": -5]), ("list_runs", ["limit": 0]), ("list_runs", ["limit": 10000]),
                ("estimate", ["prompt": "Hi", "rounds": -1]), ("list_runs", ["limit": 200]),
            ])
            let texts = results.map { $0["text"] as? String ?? "" }
            #expect(results.prefix(4).allSatisfy { $0["error"] as? Bool == true }, "\(results)")
            #expect(texts[0] == "error: `limit` must be between 1 and 200, found -5.", "\(texts)")
            #expect(texts[1] == "error: `limit` must be between 1 and 200, found 0.", "\(texts)")
            #expect(texts[2] == "error: `limit` must be between 1 and 200, found 10000.", "\(texts)")
            #expect(texts[3] == "error: `rounds` must be at least 1, found -1.", "\(texts)")
            #expect(results.last?["error"] as? Bool == false, "\(results)")
        }

        /// A tool result's text shows control characters, not obeys them, like the CLI on a terminal: a model's
        /// right-to-left override and a C1 control in the run's JSON are written `\u202E`, `\u009B` (JSON's own
        /// escapes, so the text still parses to the exact answer), and an escape sequence an error quotes from
        /// the arguments as `\x1B`: they reached the client raw.
        @Test(
            .enabled(if: MCPServerCLITests.clientAvailable, "python3 lacks the MCP SDK (`pip install mcp`)"),
            .timeLimit(.minutes(1)))
        func controlCharactersInAResultsTextAreShownNotObeyed() async throws {
            let answer = "Four \u{202E}evif\u{202C} \u{9B}2J \u{1B}]0;title\u{7}"
            let results = try await Self.results(
                of: [
                    ("run_workflow", ["workflow": "vote", "prompt": "What is 2+2?", "models": ["openai/gpt-4o"]]),
                    ("get_run", ["run_id": "\u{1B}]0;title\u{7}"]),
                ], reply: FakeOpenAI.completion(answer))
            let texts = results.map { $0["text"] as? String ?? "" }
            for text in texts {
                #expect(!text.unicodeScalars.contains { [0x202E, 0x9B, 0x1B, 0x7].contains($0.value) }, "\(text)")
            }
            let report = try CLIHarness.json(texts[0])
            #expect((report["winner"] as? [String: Any])?["answer"] as? String == answer, "\(texts[0])")
            #expect(texts[1].contains(#"\x1B]0;title\x07"#), "\(texts[1])")
        }

        /// A tool argument's problem names the argument as the calling model wrote it (`rounds`, `min_rounds`):
        /// it named command-line flags (`--max-rounds`, `--min-rounds`) no MCP caller can pass.
        @Test(
            .enabled(if: MCPServerCLITests.clientAvailable, "python3 lacks the MCP SDK (`pip install mcp`)"),
            .timeLimit(.minutes(1)))
        func anArgumentsProblemNamesTheArgumentNotAFlag() async throws {
            let results = try await Self.results(of: [
                ("estimate", ["prompt": "Hi", "workflow": "debate", "rounds": 1]),
                ("estimate", ["prompt": "Hi", "min_rounds": 5000]),
            ])
            let texts = results.map { $0["text"] as? String ?? "" }
            #expect(results.allSatisfy { $0["error"] as? Bool == true }, "\(results)")
            #expect(texts[0].contains("`rounds: 1` is below this workflow's `iterations.min` (2)"), "\(texts)")
            #expect(texts[1].contains("<tool arguments>: min_rounds"), "\(texts)")
            #expect(texts.allSatisfy { !$0.contains("--") && !$0.contains("<command line>") }, "\(texts)")
        }

        /// A workflow given as text is named `<inline workflow>` in its diagnostics, with line and column:
        /// they named the server's private file (`/tmp/refinery-mcp-UUID/inline.yaml:4:19`). Its diagnostics
        /// reach the calling model as the CLI prints them, with excerpt and hint (how to fix it): the error
        /// result held the header lines only.
        @Test(
            .enabled(if: MCPServerCLITests.clientAvailable, "python3 lacks the MCP SDK (`pip install mcp`)"),
            .timeLimit(.minutes(1)))
        func anInlineWorkflowsDiagnosticsNameItAsGiven() async throws {
            let yaml = "refinery: 1\nname: inline\nmodels: [openai/gpt-4o]\nstages: [propose, refne]\n"
            let results = try await Self.results(of: [
                ("estimate", ["workflow_yaml": yaml, "prompt": "Hi"]),
                ("run_workflow", ["workflow_yaml": yaml, "prompt": "Hi"]),
            ])
            for result in results {
                let text = result["text"] as? String ?? ""
                #expect(result["error"] as? Bool == true, "\(result)")
                #expect(text.hasPrefix("error: <inline workflow>:4:19: error: unknown stage `refne`"), "\(text)")
                #expect(!text.contains("inline.yaml") && !text.contains("refinery-mcp-"), "\(text)")
                #expect(text.contains(" 4 | stages: [propose, refne]\n"), "\(text)")
                #expect(text.hasSuffix("\nhint: did you mean `refine`?"), "\(text)")
            }
        }

        /// Runs the client `script` against a fake OpenAI that answers the first call and holds every other
        /// until its connection closes, so a run is in flight when the client leaves however long that takes
        /// (a reply after 400 ms could let the run end first on a loaded machine); its output, and the
        /// ledger's runs (`runs list --output-format json`) after it.
        static func runWhileARunIsInFlight(_ script: String) async throws -> (out: [String: Any], runs: String) {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let answered = Mutex(false)
            let (client, runs) = try await FakeServer.run { server in
                server.route(FakeOpenAI.path) { _ in
                    let first = answered.withLock { answered in
                        defer { answered = true }
                        return !answered
                    }
                    return first ? FakeOpenAI.completion(CLIHarness.universalReply()) : .hold(limit: .seconds(60))
                }
                let (result, _) = try await MCPServerCLITests.runClient(
                    script, binary: binary, sandbox: sandbox, baseURL: server.baseURL, directory: sandbox.root)
                let runs = try await binary.run(
                    [
                        "runs", "list", "--store", sandbox.root.appendingPathComponent("runs.db").path,
                        "--output-format", "json",
                    ],
                    environment: CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL),
                    directory: sandbox.root)
                return (result.stdout, runs.stdout)
            }
            return (try CLIHarness.json(client.components(separatedBy: "\n").last { !$0.isEmpty } ?? ""), runs)
        }
    }
}
