import Foundation
import Testing

extension CLIEndToEnd {
    /// `refinery mcp`'s stdio stream under large messages, through the official Python client: results of
    /// concurrent runs long enough to fill the pipe to the client, and a prompt argument of megabytes.
    @Suite struct MCPServerTransportCLITests {
        static let script = #"""
            import anyio, json, os, sys
            from mcp import ClientSession, StdioServerParameters
            from mcp.client.stdio import stdio_client

            binary, store, models = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
            out = {"runs": {}}

            def error(result):
                return bool(getattr(result, "is_error", None) or getattr(result, "isError", None))

            def text(result):
                return "".join(getattr(c, "text", "") for c in result.content)

            async def main():
                params = StdioServerParameters(
                    command=binary, args=["mcp", "--store", store], env=dict(os.environ), cwd=os.getcwd())
                async with stdio_client(params) as (read, write):
                    async with ClientSession(read, write) as session:
                        await session.initialize()
                        async def one(i):
                            async def on_progress(done, total, message):
                                pass
                            result = await session.call_tool(
                                "run_workflow", {"prompt": f"Question {i}", "models": models, "workflow": "vote"},
                                progress_callback=on_progress)
                            report = json.loads(text(result)) if not error(result) else {}
                            out["runs"][str(i)] = {
                                "error": error(result), "status": report.get("status"),
                                "longest": max((len(a.get("answer", "")) for a in report.get("all_answers", [])),
                                               default=0),
                                "text": text(result)[:300] if error(result) else ""}
                        # A guard against the hang the corrupt stream caused, not a measure of speed.
                        with anyio.fail_after(100):
                            async with anyio.create_task_group() as group:
                                for i in range(4):
                                    group.start_soon(one, i)
                            big = await session.call_tool("estimate", {"prompt": "x" * 3_000_000, "models": models})
                            out["big_prompt"] = {"error": error(big), "text": text(big)[:300]}
                print(json.dumps(out))
            anyio.run(main)
            """#

        /// Four runs at once whose results (each member's 200 KB answer, over 2 MB of JSON) cannot fit the
        /// pipe to the client: each result arrives whole. The SDK's transport slept on the full pipe inside
        /// its actor and wrote the next message into the middle of the one it was sending, so the client
        /// read broken lines and every call hung. Then a 3 MB prompt is read as one message (and refused by
        /// the input limit, with its size).
        @Test(
            .enabled(if: MCPServerCLITests.clientAvailable, "python3 lacks the MCP SDK (`pip install mcp`)"),
            .timeLimit(.minutes(3)))
        func concurrentLongResultsArriveWhole() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let answer = String(repeating: "A", count: 200_000)
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion(answer))
                let (_, out) = try await MCPServerCLITests.runClient(
                    Self.script, binary: binary, sandbox: sandbox, baseURL: server.baseURL, directory: sandbox.root)
                let runs = try #require(out["runs"] as? [String: [String: Any]], "\(out)")
                #expect(runs.count == 4)
                for (index, run) in runs {
                    #expect(run["error"] as? Bool == false, "run \(index): \(run["text"] ?? "")")
                    #expect(run["status"] as? String != nil, "run \(index)")
                    #expect(run["longest"] as? Int == answer.count, "run \(index)")
                }
                // Read whole, and refused by the input limit with the size it has.
                let big = try #require(out["big_prompt"] as? [String: Any])
                #expect(big["error"] as? Bool == true, "\(big)")
                #expect((big["text"] as? String ?? "").contains("The input is 3000000 bytes"), "\(big)")
            }
        }
    }
}
