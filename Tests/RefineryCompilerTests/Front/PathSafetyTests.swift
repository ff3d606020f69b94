// What a workflow file can make the compiler read: prompt files only from the workflow's own
// folder (E506), of bounded size (E507), never a device or a FIFO; and the bounds that keep a
// hostile file from overflowing a duration or building a gigantic graph.

import Foundation
import RefineryCompiler
import RefinerySyntax
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@Suite struct PathSafetyTests {
    private func compile(prompt: String, files: [String: String] = [:]) -> CompileResult {
        Fixtures.compiler(files: files).compile(
            yaml: "refinery: 1\nname: n\nmodels: [claude]\nstages:\n  - propose: { prompt: \(prompt) }\n",
            displayName: "w.yaml", path: "/work/flows/w.yaml")
    }

    private func located(_ result: CompileResult) -> [String] {
        result.errors.map { "\($0.code)@\($0.location?.line ?? 0):\($0.location?.column ?? 0)" }
    }

    /// Every one of these would read outside `/work/flows` if it were followed. The fake file
    /// table holds each target, so only the path rule can be what refuses them.
    @Test(arguments: [
        ("../../etc/passwd", "climbs out of the workflow's folder with `..`"),
        ("prompts/../../secret", "climbs out of the workflow's folder with `..`"),
        ("..", "climbs out of the workflow's folder with `..`"),
        ("/etc/passwd", "is not relative to the workflow's folder"),
        ("~/.ssh/id_rsa", "is not relative to the workflow's folder"),
        ("'..\\secret'", "contains a NUL byte or a backslash"),
        ("''", "is empty"),
    ])
    func promptPathsLeavingTheFolderAreRefused(path: String, why: String) {
        let everywhere = [
            "/etc/passwd": "root", "/work/flows/../../etc/passwd": "root", "/work/flows/prompts/../../secret": "s",
            "/work/flows/..": "x", "~/.ssh/id_rsa": "k", "/work/flows/..\\secret": "s", "/work/flows/": "e",
        ]
        let result = compile(prompt: path, files: everywhere)
        #expect(located(result) == ["E506@5:24"])
        let shown = path.hasPrefix("'") ? String(path.dropFirst().dropLast()) : path
        #expect(result.errors.first?.message == "the prompt file `\(shown)` \(why)")
        #expect(result.errors.first?.hint?.contains("relative path") == true)
    }

    @Test func theFileFormIsCheckedToo() {
        let result = compile(prompt: "{ file: ../x.mustache, system: S }", files: ["/work/flows/../x.mustache": "x"])
        #expect(located(result) == ["E506@5:32"])
    }

    @Test(arguments: ["prompts/p.mustache", "./p.mustache", "a..b/p..mustache"])
    func pathsInsideTheFolderAreRead(path: String) throws {
        let result = compile(prompt: path, files: ["/work/flows/" + path: "T {{prompt}}"])
        #expect(result.errors == [])
        #expect(result.workflow?.stages.first?.common?.prompt?.user == "T {{prompt}}")
    }

    @Test func oversizedPromptFileIsRefused() {
        let big = String(repeating: "x", count: 1024 * 1024 + 1)
        let result = compile(prompt: "big.mustache", files: ["/work/flows/big.mustache": big])
        #expect(located(result) == ["E507@5:24"])
        let fits = compile(prompt: "ok.mustache", files: ["/work/flows/ok.mustache": String(big.dropLast())])
        #expect(fits.errors == [])
    }

    /// Real folders: a symlink in the workflow's folder that leads outside is refused, one that
    /// stays inside is followed.
    @Test func symlinkedPromptLeadingOutsideIsRefused() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("refinery-prompt-\(UUID().uuidString)")
            .resolvingSymlinksInPath().path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let flows = root + "/flows"
        try FileManager.default.createDirectory(atPath: flows + "/prompts", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/outside", withIntermediateDirectories: true)
        try "SECRET".write(toFile: root + "/outside/secret.txt", atomically: true, encoding: .utf8)
        try "inside {{prompt}}".write(toFile: flows + "/prompts/real.mustache", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(
            atPath: flows + "/prompts/evil.mustache", withDestinationPath: root + "/outside/secret.txt")
        try FileManager.default.createSymbolicLink(
            atPath: flows + "/prompts/alias.mustache", withDestinationPath: "real.mustache")
        let text = "refinery: 1\nname: w\nmodels: [claude]\nstages:\n  - propose: { prompt: prompts/evil.mustache }\n"
        try text.write(toFile: flows + "/w.yaml", atomically: true, encoding: .utf8)
        let library = WorkflowLibrary(folders: [], currentDirectory: root)
        let refused = try library.compile(flows + "/w.yaml")
        #expect(located(refused) == ["E506@5:24"])
        #expect(refused.errors.first?.message.contains("outside the workflow's folder") == true)
        #expect(refused.errors.first?.message.contains("SECRET") == false)

        try text.replacingOccurrences(of: "evil", with: "alias").write(
            toFile: flows + "/w.yaml", atomically: true, encoding: .utf8)
        let followed = try library.compile(flows + "/w.yaml")
        #expect(followed.errors == [])
        #expect(followed.workflow?.stages.first?.common?.prompt?.user == "inside {{prompt}}")
    }

    @Test func devicesAndFIFOsAreNotRead() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("refinery-fifo-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(mkfifo(root + "/pipe", 0o600) == 0)
        for path in ["/dev/zero", root + "/pipe", root] {
            #expect(throws: (any Error).self) { try WorkflowFileSystem.local.read(path) }
            do {
                _ = try WorkflowFileSystem.local.read(path)
            } catch {
                #expect("\(error)".hasSuffix("cannot be read: it is not a regular file"), "\(error)")
            }
        }
    }

    @Test(arguments: ["1e300", "169h", "604801", "'99999999999999999999999m'"])
    func durationsLongerThanAWeekAreRefused(text: String) {
        let result = Fixtures.compiler().compile(
            yaml: "refinery: 1\nname: n\nmodels: [claude]\nlimits: { timeout: \(text) }\nstages: [propose]\n")
        #expect(located(result) == ["E105@4:20"])
        #expect(result.errors.first?.message == "`limits.timeout` is longer than a week")
    }

    @Test func aWeekIsAccepted() {
        let result = Fixtures.compiler().compile(
            yaml: "refinery: 1\nname: n\nmodels: [claude]\nlimits: { timeout: 168h }\nstages: [propose]\n")
        #expect(result.errors == [])
        #expect(result.workflow?.limits.timeoutSeconds == 604_800)
    }

    @Test func tooManyStagesAreRefused() {
        let list = Array(repeating: "propose", count: 65).joined(separator: ", ")
        let top = Fixtures.compiler().compile(yaml: "refinery: 1\nname: n\nmodels: [claude]\nstages: [\(list)]\n")
        #expect(located(top) == ["E105@4:9"])
        #expect(top.errors.first?.message == "65 stages in one list; at most 64 are allowed")
        let inRepeat = Fixtures.compiler().compile(
            yaml: "refinery: 1\nname: n\nmodels: [claude]\nstages:\n  - repeat: [\(list)]\n")
        #expect(located(inRepeat) == ["E105@5:13"])
        let most = Fixtures.compiler().compile(
            yaml: "refinery: 1\nname: n\nmodels: [claude]\nstages: [\(list.dropLast(9))]\n")
        #expect(most.errors == [])
        #expect(most.workflow?.stages.count == 64)
    }

    @Test func tooManyMembersAreRefused() {
        let result = Fixtures.compiler().compile(
            yaml: "refinery: 1\nname: n\nmodels: [claude:64, codex:64, gemini:1]\nstages: [propose]\n")
        #expect(located(result).first == "E105@3:9")
        #expect(result.errors.first?.message == "`models` declares 129 members; at most 128 are allowed")
        let most = Fixtures.compiler().compile(
            yaml: "refinery: 1\nname: n\nmodels: [claude:64, codex:64]\nstages: [propose]\n")
        #expect(most.errors == [])
        #expect(most.workflow?.members.count == 128)
    }
}
