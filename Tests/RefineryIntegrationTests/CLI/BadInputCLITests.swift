import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension CLIEndToEnd {
    /// What a demanding user types wrong: every bad input is a clear message and exit 4, found
    /// before any call, never a crash or a stack trace.
    @Suite struct BadInputCLITests {
        private static let models = ["--models", "openai/gpt-4o,openai/gpt-4o-mini", "--quiet"]

        @Test(arguments: [
            // Flags are checked by the compiler, like the same values in a file (issue 10: no second check).
            (["hi", "--timeout", "1e300"], "<command line>: --timeout: error: `limits.timeout` is longer than a week"),
            (["hi", "--timeout", "inf"], "<command line>: --timeout: error: `limits.timeout` is not a duration"),
            (["hi", "--budget", "inf"], "<command line>: --budget: error:"),
            (["hi", "--budget", "nan"], "<command line>: --budget: error:"),
            (
                ["hi", "--max-rounds", "1000000000", "--dry-run"],
                "<command line>: --max-rounds: error: `iterations.max` must be between 1 and 1000, found 1000000000"
            ),
            (["hi", "-f", "."], ". is a folder; give the files in it with one --file each."),
            (["hi", "-f", "missing.txt"], "Cannot read missing.txt: no such file."),
            (["hi", "-f", ""], "A file path is empty; --file (-f) needs the path of a file."),
            (["hi", "--output", "."], "--output .: is a folder; give a file name."),
            (["hi", "--output", "no/such/folder/out.json"], "does not exist."),
            // One value was kept silently.
            (["hi", "--var", "x=1", "--var", "x=2"], "--var x is given twice; give each variable once."),
            // The result replaced the ledger and every recorded run in it.
            (["hi", "--store", "runs.db", "--output", "./runs.db"], "--output ./runs.db: is the run store (runs.db)"),
            (["hi", "--store", "runs.db", "--output", "runs.db-wal"], "is the run store"),
            // A negative number is the option's value, checked against its range (it was `Missing value
            // for '--seed <seed>'`: ArgumentParser read `-5` as an option).
            (["hi", "--seed", "-5"], "--seed must be a whole number from 0 to 18446744073709551615, found -5."),
            (["hi", "--timeout", "-5"], "<command line>: --timeout: error: `limits.timeout` must be at least 1 ms"),
            (["hi", "--max-rounds", "-1"], "`iterations.max` must be between 1 and 1000, found -1"),
            (["hi", "--threshold", "-0.5"], "<command line>: --threshold: error:"),
            (["hi", "--budget", "-.5"], "<command line>: --budget: error:"),
            // Past a double's range: out of range, not "must be a number, found `inf`".
            (
                ["hi", "--threshold", "1e400"],
                "<command line>: --threshold: error: the `vote-threshold` threshold must be between 1 and 10, found a "
                    + "number too large to represent"
            ),
            (["hi", "--budget", "1e400"], "must be a finite number, found a number too large to represent"),
        ])
        func refusedBeforeAnyCall(arguments: [String], message: String) async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            // No server at this address: a call would fail with exit 1, not 4.
            let environment = CLIHarness.environment(home: sandbox.root, baseURL: "http://127.0.0.1:9/v1")
            let result = try await binary.run(
                arguments + Self.models, environment: environment, directory: sandbox.root)
            #expect(result.exitCode == 4, "\(result.stderr)")
            #expect(result.stderr.contains(message), "\(result.stderr)")
            #expect(!result.stderr.contains("Fatal error"))
            #expect(!result.stderr.contains("NSCocoaErrorDomain"))
        }

        /// A bare `refinery` (nothing to ask) prints the usage with its error on stderr, exit 4, as a missing
        /// argument does: it said "Nothing to ask" alone.
        @Test func aBareCommandPrintsTheUsage() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let environment = CLIHarness.environment(home: sandbox.root, baseURL: "http://127.0.0.1:9/v1")
            for arguments in [[], ["--models", "openai/gpt-4o"]] {
                let result = try await binary.run(arguments, environment: environment, directory: sandbox.root)
                #expect(result.exitCode == 4, "\(result.stderr)")
                #expect(result.stderr.contains("Error: Nothing to ask: give a prompt"), "\(result.stderr)")
                #expect(result.stderr.contains("Usage: refinery"), "\(result.stderr)")
                #expect(result.stdout.isEmpty)
            }
        }

        /// A `command/NAME` agent whose program is not on PATH, or that is not declared, is refused before any
        /// call, as a provider without credentials is, naming the program and the PATH searched: it failed at the
        /// call (exit 3), after the run was recorded.
        @Test func aMissingCommandAgentIsRefusedBeforeAnyCall() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let path = sandbox.root.appendingPathComponent("bin").path
            var environment = RefineryBinary.environment(home: sandbox.root)
            environment["PATH"] = path
            let result = try await binary.run(
                ["hi", "--models", "command/claude,command/nosuch"], environment: environment,
                directory: sandbox.root)
            #expect(result.exitCode == 4, "\(result.stderr)")
            #expect(
                result.stderr.contains("command/claude: `claude` was not found on PATH (\(path)); install it"),
                "\(result.stderr)")
            #expect(result.stderr.contains("command/nosuch: no command agent `nosuch`; known: claude, codex, gemini"))
            let runs = try await binary.run(["runs", "list"], environment: environment, directory: sandbox.root)
            #expect(runs.stdout.contains("No runs recorded yet."), "\(runs.stdout)")
        }

        @Test(arguments: [
            (["runs", "list", "--limit", "0"], "--limit must be at least 1."),
            (["runs", "list", "--limit", "-5"], "--limit must be at least 1."),
            (["batch", "list", "--limit", "-1"], "--limit must be at least 1."),
            (["worker", "--lease", "-3"], "--lease must be a number of seconds, at least 0.5."),
            (["save", "x", "--max-iterations", "-2"], "--max-iterations must be at least 1."),
            // A flag's bad value is located at the flag, not in the file `save` did not write.
            (["save", "x", "--model", "nosuch/zzz"], "<command line>: --model: error: unknown model `nosuch/zzz` [E200]"),
            (
                ["save", "x", "--model", "openai/gpt-4o", "--min-iterations", "1", "--max-iterations", "2000"],
                "<command line>: --max-iterations: error: `iterations.max` must be between 1 and 1000, found 2000"
            ),
            // A folder that is a device or a file: Foundation's "A file with the same name already exists".
            (
                ["save", "x", "--model", "openai/gpt-4o", "--to", "/dev/null"],
                "Cannot save into /dev/null: it is a device, not a folder; give a folder."
            ),
            (
                ["save", "x", "--model", "openai/gpt-4o", "--to", "/etc/hosts/sub"],
                "Cannot save into /etc/hosts/sub: /etc/hosts is a file, not a folder; give a folder."
            ),
            (["bench", "vote", "--dataset", "d.jsonl", "--seed", "-1"], "--seed must be a whole number"),
            (["remove", "consensus"], "consensus is a built-in workflow; built-ins cannot be removed."),
            (["hi", "--models", "openai/gpt-4o", "--store", "."], "The run store . is a folder, not a file"),
            // An empty --store (an unset variable): the run failed after its set-up with SQLite's words, exit 1, and
            // a reading command said "No runs recorded yet." of a ledger kept nowhere.
            (["hi", "--models", "openai/gpt-4o", "--store", ""], "--store is empty: give a SQLite file path"),
            (["runs", "list", "--store", ""], "--store is empty: give a SQLite file path"),
            // The report's file is checked before the report is built, like `run --output` (it was a raw
            // NSCocoaErrorDomain error and exit 1).
            (["report", "3f2c", "-o", "."], "-o .: is a folder; give a file name."),
            (["report", "3f2c", "-o", "no/such/folder/run.html"], "does not exist."),
            // Text or JSON only: `markdown` printed text and `jsonl` a JSON array, both without a word.
            (["runs", "list", "--output-format", "markdown"], "The value 'markdown' is invalid for '--output-format"),
            (
                ["runs", "show", "3f2c", "--output-format", "jsonl"],
                "The value 'jsonl' is invalid for '--output-format"
            ),
            (
                ["estimate", "consensus", "--output-format", "jsonl"],
                "The value 'jsonl' is invalid for '--output-format"
            ),
            (["list", "--output-format", "markdown"], "The value 'markdown' is invalid for '--output-format"),
            (
                ["show", "consensus", "--output-format", "markdown"],
                "The value 'markdown' is invalid for '--output-format"
            ),
            (["models", "--output-format", "jsonl"], "The value 'jsonl' is invalid for '--output-format"),
            // An empty part of a model string (`openai/$MODEL` with the variable unset) is said to be empty: it
            // was an unknown model, with `did you mean openai/o3?`.
            (
                ["hi", "--models", "openai/"],
                "<command line>: --models: error: the model name after `openai/` is empty [E201]"
            ),
            (["hi", "--models", "/gpt-4o"], "<command line>: --models: error: the provider before `/gpt-4o` is empty"),
            // An empty id (a script's unset variable) is no id: it was looked up and said "No run with id ."
            (["runs", "show", ""], "the run id is empty; give an id (or its first characters) from `refinery runs"),
            (["runs", "export", " "], "the run id is empty"),
            (["resume", ""], "the run id is empty"),
            (["report", ""], "the run, batch or bench id is empty"),
            (["batch", "status", ""], "the batch id is empty; give an id (or its first characters) from `refinery"),
            (["batch", "resume", ""], "the batch id is empty"),
            (["bench", "resume", ""], "the bench id is empty"),
        ])
        func otherCommandsRefuseBadInputWithExitFour(arguments: [String], message: String) async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let environment = CLIHarness.environment(home: sandbox.root, baseURL: "http://127.0.0.1:9/v1")
            let result = try await binary.run(arguments, environment: environment, directory: sandbox.root)
            #expect(result.exitCode == 4, "\(result.stderr)")
            #expect(result.stderr.contains(message), "\(result.stderr)")
        }

        /// A command that only reads the ledger refuses a store file in a folder that does not exist (exit 4) and
        /// creates nothing: a mistyped --store printed "No runs recorded yet." and left an empty ledger behind.
        @Test(arguments: [
            ["runs", "list"], ["runs", "show", "3f2c"], ["runs", "export", "3f2c"], ["report", "3f2c"],
            ["batch", "list"], ["batch", "status", "3f2c"], ["resume", "3f2c"], ["batch", "resume", "3f2c"],
        ])
        func aReadingCommandRefusesAStoreThatDoesNotExist(arguments: [String]) async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let environment = CLIHarness.environment(home: sandbox.root, baseURL: "http://127.0.0.1:9/v1")
            let result = try await binary.run(
                arguments + ["--store", "no/such/dir/x.db"], environment: environment, directory: sandbox.root)
            #expect(result.exitCode == 4, "\(result.stderr)")
            #expect(result.stderr.contains("No ledger at no/such/dir/x.db (--store)"), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: sandbox.root.appendingPathComponent("no").path))
            // The same through $REFINERY_STORE: named, never created.
            var viaVariable = environment
            viaVariable["REFINERY_STORE"] = "elsewhere/other.db"
            let variable = try await binary.run(arguments, environment: viaVariable, directory: sandbox.root)
            #expect(variable.exitCode == 4, "\(variable.stderr)")
            #expect(
                variable.stderr.contains("No ledger at elsewhere/other.db ($REFINERY_STORE)"), "\(variable.stderr)")
            #expect(!FileManager.default.fileExists(atPath: sandbox.root.appendingPathComponent("elsewhere").path))
        }

        /// `extends:` with a path is one diagnostic that says what `extends` takes: it was E502 with the
        /// library's `[workflow.invalid-name]` inside and the hint "check that the base file exists".
        @Test func anExtendsPathSaysWhatExtendsTakes() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try sandbox.write("w.yaml", Data("refinery: 1\nname: w\nextends: ../etc/passwd\n".utf8))
            let result = try await binary.run(
                ["validate", "w.yaml"], environment: RefineryBinary.environment(home: sandbox.root),
                directory: sandbox.root)
            #expect(result.exitCode == 4, "\(result.stderr)")
            #expect(result.stderr.contains("[E500]"), "\(result.stderr)")
            #expect(result.stderr.contains("`../etc/passwd` is not a workflow name: a name cannot be a path"))
            #expect(result.stderr.contains("or `builtin:NAME`; never a file path"), "\(result.stderr)")
            for wrong in ["workflow.invalid-name", "E502", "check that the base file exists"] {
                #expect(!result.stderr.contains(wrong), "\(wrong): \(result.stderr)")
            }
        }

        /// A prompt argument that is not UTF-8 is refused (exit 4) like the same bytes on stdin, instead
        /// of reaching the models with U+FFFD in place of the bytes.
        @Test func aPromptArgumentThatIsNotUTF8IsRefusedLikeTheSameBytesOnStdin() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let environment = CLIHarness.environment(home: sandbox.root, baseURL: "http://127.0.0.1:9/v1")
            let stdin = try await binary.run(
                ["-"] + Self.models, environment: environment, directory: sandbox.root,
                stdin: Data([0x63, 0x61, 0x66, 0xE9, 0x0A]))
            #expect(stdin.exitCode == 4, "\(stdin.stderr)")
            // Foundation.Process takes Strings; the shell puts the raw byte 0xE9 into argv.
            let shell = RefineryBinary(url: URL(fileURLWithPath: "/bin/sh"))
            for command in ["run", "estimate"] {
                let argument = try await shell.run(
                    [
                        "-c", #"exec "$0" "$1" consensus "$(printf 'caf\351')" --models openai/gpt-4o"#,
                        binary.url.path, command,
                    ], environment: environment, directory: sandbox.root)
                #expect(argument.exitCode == 4, "\(command): \(argument.stderr)")
                #expect(argument.stderr.contains("The prompt is not valid UTF-8"), "\(command): \(argument.stderr)")
            }
            // A --var value goes into the prompts the same way: refused too, not sent with U+FFFD in it.
            try sandbox.write(
                "w.yaml",
                Data(
                    "refinery: 1\nname: w\nmodels: [openai/gpt-4o]\nstages:\n  - propose: { prompt: { user: \"{{x}}\" } }\n"
                        .utf8))
            for command in ["run", "estimate"] {
                let variable = try await shell.run(
                    [
                        "-c", #"exec "$0" "$1" w.yaml hello --var "x=$(printf 'caf\351')""#, binary.url.path, command,
                    ], environment: environment, directory: sandbox.root)
                #expect(variable.exitCode == 4, "\(command): \(variable.stderr)")
                #expect(variable.stderr.contains("--var x: the value is not valid UTF-8"), "\(variable.stderr)")
            }
        }

        /// A folder, FIFO or device given where a file is expected (`-f`, a workflow path, `--store`) is
        /// named as what it is (exit 4), and a FIFO never blocks the process.
        @Test(arguments: ["folder", "fifo", "device"])
        func aPathThatIsNotAFileIsNamedAsWhatItIs(kind: String) async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let environment = CLIHarness.environment(home: sandbox.root, baseURL: "http://127.0.0.1:9/v1")
            let path: String
            let expected: String
            switch kind {
            case "folder":
                path = sandbox.root.appendingPathComponent("thing.yaml").path
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                expected = "is a folder"
            case "fifo":
                path = sandbox.root.appendingPathComponent("thing.yaml").path
                #expect(mkfifo(path, 0o600) == 0)
                expected = "is a FIFO (named pipe), not a file"
            default:
                path = "/dev/null"
                expected = "is a device, not a file"
            }
            let commands: [[String]] = [
                ["hi", "-f", path] + Self.models,
                ["run", path, "hi", "--quiet"],
                ["validate", path],
                ["runs", "list", "--store", path],
            ]
            for arguments in commands {
                let running = try binary.start(arguments, environment: environment, directory: sandbox.root)
                let deadline = ContinuousClock.now + .seconds(20)
                while running.process.isRunning && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                }
                if running.process.isRunning {
                    running.process.terminate()
                    Issue.record("\(arguments) blocked on the \(kind)")
                    kill(running.process.processIdentifier, SIGKILL)
                    try await running.wait()
                    continue
                }
                let result = try running.result()
                #expect(result.exitCode == 4, "\(arguments): \(result.stderr)")
                #expect(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
            }
        }

        @Test func resumingAFinishedRunIsRefused() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion(CLIHarness.universalReply()))
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let store = sandbox.root.appendingPathComponent("runs.db").path
                let run = try await binary.run(
                    ["What is 2+2?"] + Self.models + ["--store", store, "--output-format", "json"],
                    environment: environment, directory: sandbox.root)
                #expect(run.exitCode == 0, "\(run.stderr)")
                let id = try #require(try CLIHarness.json(run.stdout)["run_id"] as? String)
                let calls = server.requests.count

                let resumed = try await binary.run(
                    ["resume", id, "--store", store], environment: environment, directory: sandbox.root)
                #expect(resumed.exitCode == 4)
                #expect(resumed.stderr.contains("Run \(id) already finished (converged); there is nothing to resume."))
                #expect(server.requests.count == calls)
            }
        }
    }
}
