import Foundation
import Testing

extension CLIEndToEnd {
    /// `refinery mcp` driven by the official MCP Python SDK (`mcp` from PyPI), a client no one here
    /// wrote, against the fake OpenAI server: tools listed, an estimate, a run with progress, a
    /// cancelled run resumed, and the refusals (budget, a file outside the folder, a workflow path).
    @Suite struct MCPServerCLITests {
        /// The client: one session, every step's observations printed as one JSON object.
        static let script = #"""
            import anyio, json, os, sys
            from mcp import ClientSession, StdioServerParameters
            from mcp.client.stdio import stdio_client

            binary, store, models = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
            out = {}

            def server(*flags):
                return StdioServerParameters(
                    command=binary, args=["mcp", "--store", store, *flags], env=dict(os.environ), cwd=os.getcwd())

            \#(pythonHelpers)

            async def main():
                async with stdio_client(server("--max-budget", "0.5")) as (read, write):
                    async with ClientSession(read, write) as session:
                        await session.initialize()
                        tools = await session.list_tools()
                        out["tools"] = sorted(t.name for t in tools.tools)
                        out["described"] = all(
                            t.description and field(t, "input_schema", "inputSchema").get("properties") is not None
                            for t in tools.tools)
                        resources = await session.list_resources()
                        out["resources"] = sorted(str(r.uri) for r in resources.resources)
                        templates = await session.list_resource_templates()
                        out["templates"] = sorted(
                            field(t, "uri_template", "uriTemplate") for t in field(
                                templates, "resource_templates", "resourceTemplates"))
                        out["unknown_resources"] = []
                        for uri in ["refinery://workflows/nope", "refinery://runs/zz"]:
                            try:
                                await session.read_resource(uri)
                                out["unknown_resources"].append("read")
                            except Exception as refused:
                                out["unknown_resources"].append(str(refused))

                        est = await session.call_tool("estimate", {"prompt": "What is 2+2?", "models": models})
                        huge = await session.call_tool(
                            "estimate", {"prompt": "What is 2+2?", "models": models, "rounds": 1e20})
                        out["huge_rounds"] = {"error": error(huge), "text": text(huge)}
                        out["estimate"] = {"error": error(est), "content": data(est)}

                        refused = await session.call_tool(
                            "run_workflow", {"prompt": "What is 2+2?", "models": models, "budget": 0.000001})
                        out["budget"] = {"error": error(refused), "text": text(refused)}
                        outside = await session.call_tool(
                            "run_workflow", {"prompt": "Read it.", "models": models, "files": ["../outside.txt"]})
                        out["outside"] = {"error": error(outside), "text": text(outside)}
                        linked = await session.call_tool(
                            "run_workflow", {"prompt": "Read it.", "models": models, "files": ["link.txt"]})
                        out["linked"] = {"error": error(linked), "text": text(linked)}
                        path = await session.call_tool(
                            "run_workflow", {"prompt": "Hi", "workflow": "./team.yaml"})
                        out["path"] = {"error": error(path), "text": text(path)}
                        consensus = data(await session.call_tool("show_workflow", {"workflow": "consensus"}))["yaml"]
                        inline = await session.call_tool("estimate", {"workflow_yaml": consensus, "models": models})
                        out["inline_default"] = {"error": error(inline), "text": text(inline)[:300], "content": data(inline)}
                        out["runs_after_refusals"] = len(
                            data(await session.call_tool("list_runs", {}))["runs"])

                        progress = []
                        async def on_progress(done, total, message):
                            progress.append({"done": done, "total": total, "message": message})
                        run = await session.call_tool(
                            "run_workflow", {"prompt": "What is 2+2?", "models": models, "files": ["notes.txt"]},
                            progress_callback=on_progress)
                        out["run"] = {"error": error(run), "report": data(run),
                                      "text": text(run)[:300]}
                        out["progress"] = progress

                        status, run_id = await cancel_after_first_call(
                            session, {"prompt": "What is 3+3?", "models": models})
                        out["cancelled"] = {"status": status, "id": run_id}
                        resumed = await session.call_tool("resume_run", {"run_id": run_id})
                        out["resumed"] = {"error": error(resumed), "text": text(resumed)[:300],
                                          "report": data(resumed)}
                        got = await session.call_tool("get_run", {"run_id": run_id})
                        out["get_run"] = data(got)
                # A second server, with --allow-paths and a total cap almost spent: an inline workflow
                # is estimated, and the run is refused.
                async with stdio_client(server("--max-budget-total", "0.000001", "--allow-paths")) as (read, write):
                    async with ClientSession(read, write) as session:
                        await session.initialize()
                        inline = await session.call_tool("estimate", {"workflow_yaml": consensus, "models": models})
                        out["inline_on"] = {"error": error(inline), "text": text(inline)[:300], "content": data(inline)}
                        total = await session.call_tool("run_workflow", {"prompt": "What is 2+2?", "models": models})
                        out["total"] = {"error": error(total), "text": text(total)}
            anyio.run(main)
            print(json.dumps(out))
            """#

        /// Python the client scripts share: reading a result under either SDK's spelling, and a run
        /// cancelled once its first call has finished (the client sends notifications/cancelled when the
        /// awaiting task is cancelled), waited for until the ledger records it; its status and id.
        static let pythonHelpers = #"""
            def field(obj, snake, camel):
                # mcp 2 spells fields in snake_case, mcp 1 as on the wire.
                return getattr(obj, snake) if hasattr(obj, snake) else getattr(obj, camel)

            def error(result):
                return bool(field(result, "is_error", "isError"))

            def data(result):
                return field(result, "structured_content", "structuredContent")

            def text(result):
                return "".join(getattr(c, "text", "") for c in result.content)

            async def cancel_after_first_call(session, arguments):
                started = anyio.Event()
                async def on_first(done, total, message):
                    started.set()
                async with anyio.create_task_group() as group:
                    async def call():
                        await session.call_tool("run_workflow", arguments, progress_callback=on_first)
                    group.start_soon(call)
                    with anyio.fail_after(30):
                        await started.wait()
                    group.cancel_scope.cancel()
                status, run_id = "running", None
                with anyio.fail_after(30):
                    while status == "running":
                        await anyio.sleep(0.1)
                        runs = data(await session.call_tool("list_runs", {"limit": 1}))["runs"]
                        status, run_id = runs[0]["status"], runs[0]["id"]
                return status, run_id
            """#

        /// Runs the client `script` in `directory` with the binary, the sandbox's `runs.db` and three
        /// models as its arguments; the result and the client's last output line as JSON.
        static func runClient(
            _ script: String, binary: RefineryBinary, sandbox: Sandbox, baseURL: String, directory: URL
        ) async throws -> (result: RefineryBinary.Result, out: [String: Any]) {
            try sandbox.write("client.py", Data(script.utf8))
            let python = RefineryBinary(url: URL(fileURLWithPath: "/usr/bin/env"))
            let result = try await python.run(
                [
                    "python3", sandbox.root.appendingPathComponent("client.py").path, binary.url.path,
                    sandbox.root.appendingPathComponent("runs.db").path, CLIHarness.threeModels,
                ], environment: CLIHarness.environment(home: sandbox.root, baseURL: baseURL), directory: directory)
            #expect(result.exitCode == 0, "\(result.stderr.suffix(3000))")
            return (result, try CLIHarness.json(result.stdout.components(separatedBy: "\n").last { !$0.isEmpty } ?? ""))
        }

        /// Whether python3 has the `mcp` package; in CI (`CI=true`) it must, so the test runs there.
        static let clientAvailable =
            ProcessInfo.processInfo.environment["CI"] == "true" || CLIHarness.pythonImports("mcp")

        @Test(
            .enabled(if: clientAvailable, "python3 lacks the MCP SDK (`pip install mcp`; .ci/run installs it)"),
            .timeLimit(.minutes(2)))
        func officialPythonClientRunsEstimatesCancelsAndResumes() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            // The server's working folder is `work/`; `outside.txt` is next to it.
            let work = sandbox.root.appendingPathComponent("work")
            try sandbox.write("work/notes.txt", Data("The answer must be a word.".utf8))
            try sandbox.write("outside.txt", Data("secret".utf8))
            // A link inside the folder to a file outside it is outside too.
            try FileManager.default.createSymbolicLink(
                atPath: work.appendingPathComponent("link.txt").path, withDestinationPath: "../outside.txt")
            try await FakeServer.run { server in
                server.route(
                    FakeOpenAI.path, .delayed(.milliseconds(150), FakeOpenAI.completion(CLIHarness.universalReply())))
                let (result, out) = try await Self.runClient(
                    Self.script, binary: binary, sandbox: sandbox, baseURL: server.baseURL, directory: work)

                #expect(
                    out["tools"] as? [String] == [
                        "estimate", "get_run", "list_runs", "list_workflows", "resume_run", "run_workflow",
                        "show_workflow",
                    ])
                #expect(out["described"] as? Bool == true)
                #expect((out["resources"] as? [String] ?? []).contains("refinery://workflows/consensus"))
                // resources/templates/list, which clients ask for at start-up, was "Method not found".
                #expect(out["templates"] as? [String] == ["refinery://runs/{id}", "refinery://workflows/{name}"])
                // An unknown resource is refused in words (it was "Internal error: The operation could not
                // be completed").
                let unknown = try #require(out["unknown_resources"] as? [String])
                #expect(unknown.count == 2)
                #expect(unknown.first?.contains("no workflow named `nope`") == true, "\(unknown)")
                #expect(unknown.last?.contains("No run with id zz") == true, "\(unknown)")
                #expect(!unknown.contains { $0.contains("Internal error") }, "\(unknown)")

                // A whole number too large for an Int is refused, not ignored (it ran with the default rounds).
                let huge = try #require(out["huge_rounds"] as? [String: Any])
                #expect(huge["error"] as? Bool == true, "\(huge)")
                #expect((huge["text"] as? String ?? "").contains("`rounds` must be a whole number"), "\(huge)")
                let estimate = try #require(out["estimate"] as? [String: Any])
                #expect(estimate["error"] as? Bool == false)
                let content = try #require(estimate["content"] as? [String: Any])
                let cost = try #require((content["cost_usd"] as? [String: Any])?["max"] as? Double)
                #expect(cost > 0)
                #expect(content["within_cap"] as? Bool == true)

                // Refusals: before any call, with the reason (and the estimate) for the calling model.
                let budget = try #require(out["budget"] as? [String: Any])
                #expect(budget["error"] as? Bool == true)
                #expect((budget["text"] as? String ?? "").contains("estimated maximum cost of $"))
                let outside = try #require(out["outside"] as? [String: Any])
                #expect(outside["error"] as? Bool == true)
                #expect((outside["text"] as? String ?? "").contains("outside the working folder"))
                let linked = try #require(out["linked"] as? [String: Any])
                #expect(linked["error"] as? Bool == true)
                #expect((linked["text"] as? String ?? "").contains("outside the working folder"))
                let path = try #require(out["path"] as? [String: Any])
                #expect(path["error"] as? Bool == true)
                #expect((path["text"] as? String ?? "").contains("--allow-paths"))
                #expect(out["runs_after_refusals"] as? Int == 0)
                // Inline YAML needs no --allow-paths: it is compiled in an empty folder and reads no file.
                let inlineDefault = try #require(out["inline_default"] as? [String: Any])
                #expect(inlineDefault["error"] as? Bool == false, "\(inlineDefault["text"] ?? "")")
                #expect((inlineDefault["content"] as? [String: Any])?["workflow"] as? String == "consensus")
                let inlineOn = try #require(out["inline_on"] as? [String: Any])
                #expect(inlineOn["error"] as? Bool == false, "\(inlineOn["text"] ?? "")")
                #expect((inlineOn["content"] as? [String: Any])?["workflow"] as? String == "consensus")
                let total = try #require(out["total"] as? [String: Any])
                #expect(total["error"] as? Bool == true)
                #expect((total["text"] as? String ?? "").contains("--max-budget-total"))

                // The run: a report that follows schemas/run-output.schema.json, with progress on the way.
                let run = try #require(out["run"] as? [String: Any])
                #expect(run["error"] as? Bool == false, "\(run["text"] ?? "")")
                let report = try #require(run["report"] as? [String: Any])
                #expect(report["status"] as? String == "converged")
                let reportJSON = String(decoding: try JSONSerialization.data(withJSONObject: report), as: UTF8.self)
                if let errors = try await CLIHarness.schemaErrors(reportJSON) { #expect(errors == []) }
                let progress = try #require(out["progress"] as? [[String: Any]])
                #expect(progress.count >= 3)
                let done = progress.compactMap { $0["done"] as? Double }
                #expect(done == done.sorted() && Set(done).count == done.count)
                let last = progress.last ?? [:]
                #expect((last["message"] as? String ?? "").contains("calls"))
                #expect((last["total"] as? Double ?? 0) >= done.last ?? 1)
                // The file argument reached the models inside the prompt.
                #expect(server.requests.contains { $0.body.contains("must be a word") })

                // The cancelled run is recorded as such, and resume_run finishes it.
                let cancelled = try #require(out["cancelled"] as? [String: Any])
                #expect(cancelled["status"] as? String == "cancelled")
                let resumed = try #require(out["resumed"] as? [String: Any])
                #expect(resumed["error"] as? Bool == false, "\(resumed["text"] ?? "")")
                #expect((resumed["report"] as? [String: Any])?["status"] as? String == "converged")
                #expect((out["get_run"] as? [String: Any])?["status"] as? String == "converged")

                // No key in anything the client saw.
                #expect(!result.stdout.contains(CLIHarness.openAIKey))
                #expect(!result.stderr.contains(CLIHarness.openAIKey))
            }
        }
    }
}
