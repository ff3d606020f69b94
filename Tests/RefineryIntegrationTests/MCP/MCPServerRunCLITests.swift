import Foundation
import Synchronization
import Testing

extension CLIEndToEnd {
    /// What `refinery mcp` refuses, books and reports for a run, through the official Python client: a
    /// prompt holding a key, what a run costs against the total cap (`--max-budget-total`), its progress.
    @Suite struct MCPServerRunCLITests {
        static let script = #"""
            import anyio, json, os, re, sys
            from mcp import ClientSession, StdioServerParameters
            from mcp.client.stdio import stdio_client

            binary, store, models = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
            out = {}

            \#(MCPServerCLITests.pythonHelpers)

            async def main():
                params = StdioServerParameters(
                    command=binary, args=["mcp", "--store", store, "--max-budget", "0.5", "--max-budget-total", "0.55"],
                    env=dict(os.environ), cwd=os.getcwd())
                async with stdio_client(params) as (read, write):
                    async with ClientSession(read, write) as session:
                        await session.initialize()
                        status, run_id = await cancel_after_first_call(
                            session, {"prompt": "What is 3+3?", "models": models})
                        out["cancelled"] = status
                        resumed = await session.call_tool("resume_run", {"run_id": run_id})
                        out["resumed"] = data(resumed) or {"text": text(resumed)}
                        # A run far over the cap is refused, naming what is left of the total cap.
                        refused = await session.call_tool(
                            "run_workflow", {"prompt": "Hi", "models": ["openai/gpt-4o:40"]})
                        out["refused"] = text(refused)
            anyio.run(main)
            print(json.dumps(out))
            """#

        @Test(
            .enabled(if: MCPServerCLITests.clientAvailable, "python3 lacks the MCP SDK (`pip install mcp`)"),
            .timeLimit(.minutes(2)))
        func aResumedRunIsBookedOnceAgainstTheTotalCap() async throws {
            // Calls that cost enough for the cap's four decimals to show each one.
            let reply = FakeOpenAI.completion(CLIHarness.universalReply(), prompt: 4000, completion: 100)
            try await Self.run(Self.script, replying: { _ in reply }, delay: .milliseconds(150)) { out in
                #expect(out["cancelled"] as? String == "cancelled")
                let resumed = try #require(out["resumed"] as? [String: Any])
                #expect(resumed["status"] as? String == "converged", "\(resumed)")
                // The run's whole cost, once: the calls made before the cancel are in the resumed run's
                // cost too (served from the ledger), and were booked twice.
                let cost = try #require(resumed["cost_usd"] as? Double)
                let refused = try #require(out["refused"] as? String)
                let left = try #require(
                    refused.firstMatch(of: /the \$([0-9.]+) left/).flatMap { Double(String($0.1)) }, "\(refused)")
                #expect(abs(left - (0.55 - cost)) < 0.00011, "cost \(cost); \(refused)")
            }
        }

        static let dotEnvScript = #"""
            import anyio, json, os, sys
            from mcp import ClientSession, StdioServerParameters
            from mcp.client.stdio import stdio_client

            binary, store, models = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
            \#(MCPServerCLITests.pythonHelpers)

            async def main():
                with open(".env", "w") as env:
                    env.write("OPENAI_API_KEY=" + os.environ["OPENAI_API_KEY"] + "\n")
                params = StdioServerParameters(
                    command=binary, args=["mcp", "--store", store], env=dict(os.environ), cwd=os.getcwd())
                async with stdio_client(params) as (read, write):
                    async with ClientSession(read, write) as session:
                        await session.initialize()
                        result = await session.call_tool(
                            "run_workflow", {"prompt": "Summarize it.", "files": [".env"], "models": models})
                        print(json.dumps({"error": error(result), "text": text(result)}))
            anyio.run(main)
            """#

        /// A client (or a prompt injected into its model) asking for `.env` as a file: its keys went to
        /// every model of the run in the prompt. Refused before any call.
        @Test(
            .enabled(if: MCPServerCLITests.clientAvailable, "python3 lacks the MCP SDK (`pip install mcp`)"),
            .timeLimit(.minutes(1)))
        func aPromptHoldingAKeyIsRefused() async throws {
            final class Requests: Sendable { let count = Mutex(0) }
            let requests = Requests()
            let answer = FakeOpenAI.completion(CLIHarness.universalReply())
            try await Self.run(
                Self.dotEnvScript,
                replying: { _ in
                    requests.count.withLock { $0 += 1 }
                    return answer
                }
            ) { out in
                #expect(out["error"] as? Bool == true, "\(out)")
                #expect((out["text"] as? String ?? "").contains("holds the value of a credential"), "\(out)")
                #expect(!(out["text"] as? String ?? "").contains(CLIHarness.openAIKey))
                #expect(requests.count.withLock { $0 } == 0)
            }
        }

        static let whileInProgressScript = #"""
            import anyio, json, os, sys
            from mcp import ClientSession, StdioServerParameters
            from mcp.client.stdio import stdio_client

            binary, store, models = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
            out = {}

            \#(MCPServerCLITests.pythonHelpers)

            async def main():
                params = StdioServerParameters(
                    command=binary, args=["mcp", "--store", store, "--max-budget-total", "1"],
                    env=dict(os.environ), cwd=os.getcwd())
                async with stdio_client(params) as (read, write):
                    async with ClientSession(read, write) as session:
                        await session.initialize()
                        # The first run holds the whole cap while its calls are held; a second is refused.
                        started = anyio.Event()
                        async def on_first(done, total, message):
                            started.set()
                        async with anyio.create_task_group() as group:
                            async def first():
                                await session.call_tool(
                                    "run_workflow", {"prompt": "What is 3+3?", "models": models},
                                    progress_callback=on_first)
                            group.start_soon(first)
                            with anyio.fail_after(30):
                                await started.wait()
                            second = await session.call_tool("run_workflow", {"prompt": "Hi", "models": models})
                            out["second"] = {"error": error(second), "text": text(second)}
                            group.cancel_scope.cancel()
            anyio.run(main)
            print(json.dumps(out))
            """#

        /// A run refused because the runs in progress hold the total cap says so, and that waiting helps: it
        /// read "more than the $0 left of this server's $1.00 total cap" while nothing had been spent.
        @Test(
            .enabled(if: MCPServerCLITests.clientAvailable, "python3 lacks the MCP SDK (`pip install mcp`)"),
            .timeLimit(.minutes(2)))
        func aRunRefusedForTheRunsInProgressSaysSo() async throws {
            let answered = Mutex(false)
            try await Self.run(
                Self.whileInProgressScript,
                replying: { _ in
                    let first = answered.withLock { answered in
                        defer { answered = true }
                        return !answered
                    }
                    return first ? FakeOpenAI.completion(CLIHarness.universalReply()) : .hold(limit: .seconds(60))
                }
            ) { out in
                let second = try #require(out["second"] as? [String: Any], "\(out)")
                let text = second["text"] as? String ?? ""
                #expect(second["error"] as? Bool == true, "\(text)")
                #expect(
                    text.contains(
                        "of this server's $1.00 total cap (--max-budget-total, $1.00 of it set aside for the runs in progress)"
                    ), "\(text)")
                #expect(text.hasSuffix("or wait until the runs in progress end."), "\(text)")
            }
        }

        /// Runs the client `script` against a fake OpenAI server answering with `reply` (after `delay`),
        /// and checks its output with `check`.
        private static func run(
            _ script: String, replying reply: @escaping @Sendable (RecordedRequest) -> FakeReply,
            delay: Duration = .zero, _ check: @Sendable ([String: Any]) throws -> Void
        ) async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, handler: { request in .delayed(delay, reply(request)) })
                let (_, out) = try await MCPServerCLITests.runClient(
                    script, binary: binary, sandbox: sandbox, baseURL: server.baseURL, directory: sandbox.root)
                try check(out)
            }
        }

        static let progressScript = #"""
            import anyio, json, os, sys
            from mcp import ClientSession, StdioServerParameters
            from mcp.client.stdio import stdio_client

            binary, store = sys.argv[1], sys.argv[2]
            workflow = "refinery: 1\nname: solo\nmodels:\n  - model: openai/gpt-4o\n    fallback: [openai/gpt-4o-mini]\nstages: [propose]\n"

            async def main():
                params = StdioServerParameters(
                    command=binary, args=["mcp", "--store", store], env=dict(os.environ), cwd=os.getcwd())
                progress = []
                async def on_progress(done, total, message):
                    progress.append({"done": done, "total": total, "message": message})
                async with stdio_client(params) as (read, write):
                    async with ClientSession(read, write) as session:
                        await session.initialize()
                        await session.call_tool(
                            "run_workflow", {"prompt": "Hi", "workflow_yaml": workflow}, progress_callback=on_progress)
                print(json.dumps({"progress": progress}))
            anyio.run(main)
            """#

        /// A fallback makes a call the estimate's maximum does not count: the progress went past its
        /// total ("2/1 calls"); past it, the total is not given and the message says why.
        @Test(
            .enabled(if: MCPServerCLITests.clientAvailable, "python3 lacks the MCP SDK (`pip install mcp`)"),
            .timeLimit(.minutes(1)))
        func progressNeverPassesItsTotal() async throws {
            let answer = FakeOpenAI.completion(CLIHarness.universalReply())
            let reply: @Sendable (RecordedRequest) -> FakeReply = { request in
                request.json?["model"] as? String == "gpt-4o"
                    ? FakeOpenAI.error("no such model", type: "invalid_request_error", status: 404) : answer
            }
            try await Self.run(Self.progressScript, replying: reply) { out in
                let progress = try #require(out["progress"] as? [[String: Any]])
                #expect(progress.count == 2, "\(progress)")
                for update in progress {
                    let done = update["done"] as? Double ?? 0
                    if let total = update["total"] as? Double { #expect(done <= total, "\(progress)") }
                }
                let last = progress.last?["message"] as? String ?? ""
                #expect(last.contains("more than the 1 estimated"), "\(progress)")
            }
        }
    }
}
