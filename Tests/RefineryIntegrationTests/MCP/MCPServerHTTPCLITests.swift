import Foundation
import Testing

extension CLIEndToEnd {
    /// `refinery mcp --http`: the official MCP Python SDK's streamable HTTP client against the server,
    /// which it starts itself and finds by the URL the server prints; the bearer token on every request.
    @Suite struct MCPServerHTTPCLITests {
        static let token = "http-token-PLANTED-0123456789abcdef"

        /// The client: starts the server, opens a session with the token, runs, cancels and resumes a run,
        /// tries the server without the token and with a wrong one, then stops it with SIGTERM.
        static let script = #"""
            import anyio, json, os, signal, subprocess, sys, time
            import httpx2
            from mcp import ClientSession
            from mcp.client.streamable_http import streamable_http_client
            from mcp.shared._httpx_utils import create_mcp_http_client

            binary, store, models, token = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4]
            out = {}

            \#(MCPServerCLITests.pythonHelpers)

            server = subprocess.Popen(
                [binary, "mcp", "--http", "127.0.0.1:0", "--store", store],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env=dict(os.environ, REFINERY_MCP_TOKEN=token), text=True)
            first = server.stderr.readline()
            out["listening"] = first
            url = first.strip().rsplit(" ", 1)[-1]

            async def session_with(headers, body):
                async with create_mcp_http_client(headers=headers) as http:
                    async with streamable_http_client(url, http_client=http) as streams:
                        async with ClientSession(streams[0], streams[1]) as session:
                            await session.initialize()
                            return await body(session)

            async def main():
                async def work(session):
                    tools = await session.list_tools()
                    out["tools"] = sorted(t.name for t in tools.tools)
                    progress = []
                    async def on_progress(done, total, message):
                        progress.append({"done": done, "total": total, "message": message})
                    run = await session.call_tool(
                        "run_workflow", {"prompt": "What is 2+2?", "models": models}, progress_callback=on_progress)
                    out["run"] = {"error": error(run), "report": data(run), "text": text(run)[:300]}
                    out["progress"] = progress
                    status, run_id = await cancel_after_first_call(
                        session, {"prompt": "What is 3+3?", "models": models})
                    out["cancelled"] = {"status": status, "id": run_id}
                    resumed = await session.call_tool("resume_run", {"run_id": run_id})
                    out["resumed"] = {"error": error(resumed), "report": data(resumed), "text": text(resumed)[:300]}
                await session_with({"Authorization": f"Bearer {token}"}, work)

                # A second session of the same server sees the first one's runs (one ledger, one process).
                async def count(session):
                    return len(data(await session.call_tool("list_runs", {}))["runs"])
                out["runs_seen_by_second_session"] = await session_with({"Authorization": f"Bearer {token}"}, count)

                initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                    "protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": {"name": "probe", "version": "0"}}}
                accept = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
                async with httpx2.AsyncClient() as http:
                    refused = {}
                    for name, headers in [
                        ("none", accept), ("wrong", dict(accept, Authorization="Bearer " + "x" * len(token))),
                        ("basic", dict(accept, Authorization="Basic " + token))]:
                        reply = await http.post(url, json=initialize, headers=headers)
                        refused[name] = {"status": reply.status_code, "body": reply.text,
                                         "www": reply.headers.get("www-authenticate")}
                    out["refused"] = refused
                    unknown = await http.post(url, json=initialize, headers=dict(
                        accept, Authorization=f"Bearer {token}", **{"Mcp-Session-Id": "no-such-session"}))
                    out["unknown_session"] = unknown.status_code
                    elsewhere = await http.post(url.replace("/mcp", "/other"), json=initialize, headers=dict(
                        accept, Authorization=f"Bearer {token}"))
                    out["other_path"] = elsewhere.status_code
                    # Past 256 open sessions a new one ends the one unused longest: the first of 257 is gone.
                    authorized = dict(accept, Authorization=f"Bearer {token}")
                    ids = []
                    for _ in range(257):
                        reply = await http.post(url, json=initialize, headers=authorized)
                        ids.append(reply.headers.get("mcp-session-id"))
                    versioned = dict(authorized, **{"MCP-Protocol-Version": "2025-06-18"})
                    ended = [(await http.delete(url, headers=dict(versioned, **{"Mcp-Session-Id": ids[i]}))).status_code
                             for i in (0, 1, 256)]
                    out["sessions"] = {"distinct": len(set(ids) - {None}), "ended": ended}

            anyio.run(main)
            started = time.monotonic()
            server.send_signal(signal.SIGTERM)
            stdout, stderr = server.communicate(timeout=30)
            out["stop"] = {"code": server.returncode, "seconds": time.monotonic() - started,
                           "stdout": stdout, "stderr": first + stderr}
            print(json.dumps(out))
            """#

        @Test(
            .enabled(
                if: MCPServerCLITests.clientAvailable,
                "python3 lacks the MCP SDK (`pip install mcp`; .ci/run installs it)"),
            .timeLimit(.minutes(2)))
        func officialPythonClientOverStreamableHTTPWithABearerToken() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try await FakeServer.run { server in
                server.route(
                    FakeOpenAI.path, .delayed(.milliseconds(150), FakeOpenAI.completion(CLIHarness.universalReply())))
                try sandbox.write("client.py", Data(Self.script.utf8))
                let python = RefineryBinary(url: URL(fileURLWithPath: "/usr/bin/env"))
                let result = try await python.run(
                    [
                        "python3", sandbox.root.appendingPathComponent("client.py").path, binary.url.path,
                        sandbox.root.appendingPathComponent("runs.db").path, CLIHarness.threeModels, Self.token,
                    ], environment: CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL),
                    directory: sandbox.root)
                #expect(result.exitCode == 0, "\(result.stderr.suffix(3000))")
                let out = try CLIHarness.json(result.stdout.components(separatedBy: "\n").last { !$0.isEmpty } ?? "")

                #expect((out["listening"] as? String ?? "").contains("serving MCP at http://127.0.0.1:"))
                #expect((out["tools"] as? [String] ?? []).contains("run_workflow"))
                let run = try #require(out["run"] as? [String: Any])
                #expect(run["error"] as? Bool == false, "\(run["text"] ?? "")")
                #expect((run["report"] as? [String: Any])?["status"] as? String == "converged")
                // Progress notifications reach the client over HTTP too.
                let progress = try #require(out["progress"] as? [[String: Any]])
                #expect(progress.count >= 3, "\(progress)")
                // A client's cancellation cancels the run, recorded so, and resume_run finishes it.
                let cancelled = try #require(out["cancelled"] as? [String: Any])
                #expect(cancelled["status"] as? String == "cancelled")
                let resumed = try #require(out["resumed"] as? [String: Any])
                #expect((resumed["report"] as? [String: Any])?["status"] as? String == "converged", "\(resumed)")
                #expect(out["runs_seen_by_second_session"] as? Int == 2)

                // Without the token, with a wrong one of the same length, or as Basic: 401, asking for Bearer.
                let refused = try #require(out["refused"] as? [String: [String: Any]])
                #expect(refused.count == 3)
                for (name, reply) in refused {
                    #expect(reply["status"] as? Int == 401, "\(name): \(reply)")
                    #expect((reply["www"] as? String ?? "").hasPrefix("Bearer"), "\(name): \(reply)")
                    #expect((reply["body"] as? String ?? "").contains("REFINERY_MCP_TOKEN"), "\(name): \(reply)")
                }
                #expect(out["unknown_session"] as? Int == 404)
                #expect(out["other_path"] as? Int == 404)
                // 257 sessions opened: the oldest idle one was ended to make room, the others end on DELETE.
                let sessions = try #require(out["sessions"] as? [String: Any])
                #expect(sessions["distinct"] as? Int == 257)
                #expect(sessions["ended"] as? [Int] == [404, 200, 200], "\(sessions)")

                // SIGTERM ends the server at once and cleanly.
                let stop = try #require(out["stop"] as? [String: Any])
                #expect(stop["code"] as? Int == 0, "\(stop)")
                #expect((stop["seconds"] as? Double ?? 99) < 10, "\(stop)")
                // The token is in nothing the server or the client printed.
                #expect(!result.stdout.contains(Self.token))
                #expect(!result.stderr.contains(Self.token))
                #expect(!(stop["stderr"] as? String ?? "").contains(CLIHarness.openAIKey))
            }
        }

        /// `--http` without a token, with a short one, or with a bad address: exit 4, with a hint, before
        /// anything listens.
        @Test func httpWithoutAGoodTokenOrAddressIsRefused() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let base = RefineryBinary.environment(home: sandbox.root)
            let cases: [(arguments: [String], token: String?, says: String)] = [
                (["127.0.0.1:0"], nil, "export REFINERY_MCP_TOKEN="),
                (["127.0.0.1:0"], "short", "at least 16"),
                (["localhost"], Self.token, "HOST:PORT"),
                (["127.0.0.1:99999"], Self.token, "port from 0 to 65535"),
            ]
            for (arguments, token, says) in cases {
                var environment = base
                environment["REFINERY_MCP_TOKEN"] = token
                let result = try await binary.run(
                    ["mcp", "--http"] + arguments, environment: environment, directory: sandbox.root)
                #expect(result.exitCode == 4, "\(arguments) \(token ?? "-"): \(result.stderr)")
                #expect(result.stderr.contains(says), "\(arguments): \(result.stderr)")
                #expect(!result.stderr.contains(Self.token))
            }
        }
    }
}
