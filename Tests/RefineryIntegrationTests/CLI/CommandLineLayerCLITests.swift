import Foundation
import Testing

extension CLIEndToEnd {
    /// The command line enters the compiler as the workflow's last layer: flags are checked like the same
    /// values in a file, `--var` reaches templates through Mustache, and commands that record nothing ask
    /// git nothing.
    @Suite struct CommandLineLayerCLITests {
        private func setUp() throws -> (RefineryBinary, Sandbox, [String: String]) {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            return (binary, sandbox, RefineryBinary.environment(home: sandbox.root))
        }

        private static func code(_ stderr: String) -> String? {
            stderr.firstMatch(of: #/\[([EWY][0-9]{3})\]/#).map { String($0.output.1) }
        }

        @Test(arguments: [
            (["--max-rounds", "5000"], "iterations: { max: 5000 }", "--max-rounds"),
            (["--threshold", "11"], "convergence: { threshold: 11 }", "--threshold"),
            (["--timeout", "1e300"], "limits: { timeout: 1e300 }", "--timeout"),
            (["--max-concurrent", "0"], "limits: { max_concurrent: 0 }", "--max-concurrent"),
            (["--models", "gpt-4o:129"], "models: [\"gpt-4o:129\"]", "--models"),
            // 192 members: each entry within its own limit, the whole over the workflow's 128.
            (["--models", "claude:96,codex:96"], "models: [\"claude:96\", \"codex:96\"]", "--models"),
        ])
        func anOutOfRangeFlagGetsTheCodeOfTheSameValueInAFile(flag: [String], line: String, name: String)
            async throws
        {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            let members = line.hasPrefix("models:") ? "" : "models: [claude, codex]\n"
            try sandbox.write(
                "file.yaml", Data("refinery: 1\nname: file\n\(members)stages: [propose]\n\(line)\n".utf8))
            try sandbox.write(
                "flag.yaml", Data("refinery: 1\nname: flag\nmodels: [claude, codex]\nstages: [propose]\n".utf8))
            let inFile = try await binary.run(
                ["estimate", "file.yaml"], environment: environment, directory: sandbox.root)
            let onFlag = try await binary.run(
                ["estimate", "flag.yaml"] + flag, environment: environment, directory: sandbox.root)
            #expect(inFile.exitCode == 4, "\(inFile.stderr)")
            #expect(onFlag.exitCode == 4, "\(onFlag.stderr)")
            let code = try #require(Self.code(inFile.stderr), "\(inFile.stderr)")
            #expect(Self.code(onFlag.stderr) == code, "\(onFlag.stderr)")
            #expect(onFlag.stderr.hasPrefix("<command line>: \(name): error: "), "\(onFlag.stderr)")
        }

        /// A warning (here W705, a flag the workflow has no use for) is printed by every command that takes the
        /// flag, rendered like `validate`'s, and the command goes on: it was compiled and then dropped unseen.
        @Test func aFlagWithoutEffectIsWarnedAboutByTheCommandsThatTakeIt() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            try sandbox.write(
                "w.yaml", Data("refinery: 1\nname: w\nmodels: [openai/gpt-4o, openai/o3]\nstages: [propose]\n".utf8))
            for arguments in [
                ["estimate", "w.yaml", "--arbiter", "openai/gpt-4o"], ["graph", "w.yaml", "--max-rounds", "3"],
                ["run", "w.yaml", "What is 2+2?", "--dry-run", "--threshold", "9"],
            ] {
                let result = try await binary.run(arguments, environment: environment, directory: sandbox.root)
                #expect(result.exitCode == 0, "\(arguments): \(result.stderr)")
                let flag = arguments[arguments.count - 2]
                #expect(result.stderr.hasPrefix("<command line>: \(flag): warning: "), "\(result.stderr)")
                #expect(result.stderr.contains("[W705]"), "\(arguments): \(result.stderr)")
                #expect(!result.stdout.contains("W705"), "\(arguments): \(result.stdout)")
            }
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion("Four."))
                let run = try await binary.run(
                    ["run", "w.yaml", "What is 2+2?", "--min-rounds", "2"],
                    environment: CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL),
                    directory: sandbox.root)
                #expect(run.exitCode == 0, "\(run.stderr)")
                #expect(run.stderr.contains("<command line>: --min-rounds: warning: "), "\(run.stderr)")
                #expect(server.requests.count == 2)
                // One model given with --models is the documented single-model run, not a file's slip (W704).
                let single = try await binary.run(
                    ["What is 2+2?", "--models", "openai/gpt-4o"],
                    environment: CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL),
                    directory: sandbox.root)
                #expect(single.exitCode == 0, "\(single.stderr)")
                #expect(!single.stderr.contains("warning"), "\(single.stderr)")
            }
        }

        /// `batch` and `bench` print the compiler's warnings of the workflows they run like `run` does, once a
        /// workflow (a batch compiles its workflow once per set of columns, here twice): they ran without a word.
        /// A row's columns are not warned about (W706) as a `--var` no template shows would be.
        @Test func batchAndBenchWarnOnceAboutAFlagWithoutEffect() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            try sandbox.write(
                "w.yaml", Data("refinery: 1\nname: w\nmodels: [openai/gpt-4o, openai/o3]\nstages: [propose]\n".utf8))
            try sandbox.write(
                "items.jsonl",
                Data(
                    #"""
                    {"question": "What is 2+2?", "answer": "4"}
                    {"question": "What is 3+3?", "answer": "6", "topic": "sums"}

                    """#.utf8))
            let flag = ["--arbiter", "openai/gpt-4o"]
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion("4"))
                let fake = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                for (arguments, environment) in [
                    (["batch", "w.yaml", "--input", "items.jsonl", "--dry-run"], environment),
                    (["bench", "w.yaml", "--dataset", "items.jsonl", "--dry-run"], environment),
                    (["batch", "w.yaml", "--input", "items.jsonl"], fake),
                    (["bench", "w.yaml", "--dataset", "items.jsonl"], fake),
                ] {
                    let result = try await binary.run(
                        arguments + flag, environment: environment, directory: sandbox.root)
                    #expect(result.exitCode == 0, "\(arguments): \(result.stderr)")
                    #expect(
                        result.stderr.components(separatedBy: "<command line>: --arbiter: warning: ").count == 2,
                        "\(arguments): \(result.stderr)")
                    #expect(
                        result.stderr.components(separatedBy: "[W705]").count == 2, "\(arguments): \(result.stderr)")
                    // A row's column no template shows (`topic`) rides along: it is no `--var` of the user's.
                    #expect(!result.stderr.contains("W706"), "\(arguments): \(result.stderr)")
                }
            }
        }

        @Test func varReachesATemplateThroughMustache() async throws {
            let binary = try #require(RefineryBinary.locate(), "the refinery executable is not built")
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            // A section over a user variable: only a template engine renders it, not a text replacement.
            try sandbox.write(
                "w.yaml",
                Data(
                    #"""
                    refinery: 1
                    name: w
                    models: [openai/gpt-4o]
                    stages:
                      - propose:
                          prompt: { user: "{{#audience}}For {{audience}}: {{/audience}}{{{prompt}}}" }

                    """#.utf8))
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion("Four."))
                let environment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                let result = try await binary.run(
                    ["run", "w.yaml", "What is 2+2?", "--var", "audience=kids", "--output-format", "json"],
                    environment: environment, directory: sandbox.root)
                #expect(result.exitCode == 0, "\(result.stderr)")
                #expect(server.requests.count == 1)
                #expect(server.requests.first?.body.contains("For kids: What is 2+2?") == true)
                // Without the variable the section is a name the stage does not provide.
                let missing = try await binary.run(
                    ["run", "w.yaml", "What is 2+2?"], environment: environment, directory: sandbox.root)
                #expect(missing.exitCode == 4)
                #expect(missing.stderr.contains("[E508]"), "\(missing.stderr)")
                #expect(server.requests.count == 1)
            }
        }

        /// A `--var` no template shows is a warning (W706) naming it, with the name meant when one is close; it
        /// was accepted in silence. `run` says it too, and runs.
        @Test func aVarNoTemplateShowsIsAWarning() async throws {
            let (binary, sandbox, environment) = try setUp()
            defer { sandbox.cleanup() }
            try sandbox.write(
                "plain.yaml", Data("refinery: 1\nname: plain\nmodels: [openai/gpt-4o]\nstages: [propose]\n".utf8))
            try sandbox.write(
                "shown.yaml",
                Data(
                    #"""
                    refinery: 1
                    name: shown
                    models: [openai/gpt-4o]
                    stages:
                      - propose:
                          prompt: { user: "For {{audience}}: {{{prompt}}}" }

                    """#.utf8))
            let plain = try await binary.run(
                ["validate", "plain.yaml", "--var", "audience=kids"], environment: environment, directory: sandbox.root)
            #expect(plain.exitCode == 0, "\(plain.stderr)")
            #expect(plain.stderr.contains("`--var audience` has no effect"), "\(plain.stderr)")
            #expect(plain.stderr.contains("[W706]"), "\(plain.stderr)")
            #expect(plain.stderr.contains("built-in prompts"), "\(plain.stderr)")
            let misspelt = try await binary.run(
                ["validate", "shown.yaml", "--var", "audience=kids", "--var", "audiense=teens"],
                environment: environment, directory: sandbox.root)
            #expect(misspelt.exitCode == 0, "\(misspelt.stderr)")
            #expect(misspelt.stderr.contains("`--var audiense` has no effect"), "\(misspelt.stderr)")
            #expect(misspelt.stderr.contains("did you mean `--var audience=...`?"), "\(misspelt.stderr)")
            #expect(!misspelt.stderr.contains("`--var audience` has no effect"), "\(misspelt.stderr)")
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion("Four."))
                let run = try await binary.run(
                    ["run", "plain.yaml", "What is 2+2?", "--var", "audience=kids"],
                    environment: CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL),
                    directory: sandbox.root)
                #expect(run.exitCode == 0, "\(run.stderr)")
                #expect(run.stderr.contains("`--var audience` has no effect"), "\(run.stderr)")
            }
        }

        /// `git` on PATH is a script that leaves a marker: the commands that record no run never start it.
        @Test func commandsThatRecordNoRunStartNoProcess() async throws {
            let (binary, sandbox, base) = try setUp()
            defer { sandbox.cleanup() }
            let bin = sandbox.root.appendingPathComponent("bin")
            let marker = sandbox.root.appendingPathComponent("git-was-run")
            try sandbox.write("bin/git", Data("#!/bin/sh\necho \"$@\" >> '\(marker.path)'\nexit 1\n".utf8))
            try FileManager.default.setAttributes(
                [.posixPermissions: 0o755], ofItemAtPath: bin.appendingPathComponent("git").path)
            var environment = base
            environment["PATH"] = bin.path + ":" + (base["PATH"] ?? "/usr/bin:/bin")
            try sandbox.write(
                "w.yaml", Data("refinery: 1\nname: w\nmodels: [openai/gpt-4o, openai/o3]\nstages: [propose]\n".utf8))
            for arguments in [
                ["estimate", "w.yaml"], ["graph", "w.yaml"], ["validate", "w.yaml"],
                ["run", "w.yaml", "What is 2+2?", "--dry-run"],
            ] {
                let result = try await binary.run(arguments, environment: environment, directory: sandbox.root)
                #expect(result.exitCode == 0, "\(arguments): \(result.stderr)")
                #expect(!FileManager.default.fileExists(atPath: marker.path), "\(arguments) started git")
            }
            // A recorded run does ask git where the file came from: the marker is there to be seen.
            let path = environment["PATH"]
            try await FakeServer.run { server in
                server.route(FakeOpenAI.path, FakeOpenAI.completion(CLIHarness.universalReply()))
                var runEnvironment = CLIHarness.environment(home: sandbox.root, baseURL: server.baseURL)
                runEnvironment["PATH"] = path
                let run = try await binary.run(
                    ["run", "w.yaml", "What is 2+2?"], environment: runEnvironment, directory: sandbox.root)
                #expect(run.exitCode == 0, "\(run.stderr)")
                #expect(FileManager.default.fileExists(atPath: marker.path))
            }
        }
    }
}
