import Foundation
import Testing

@testable import RefineryCompiler

/// Name resolution against real temporary folders.
@Suite struct WorkflowLibraryTests {
    /// A temporary tree: `cwd/workflows`, two `REFINERY_PATH` folders, a config home, an outside folder.
    final class Tree {
        let root: String
        var cwd: String { root + "/cwd" }
        var project: String { cwd + "/workflows" }
        var pathA: String { root + "/a" }
        var pathB: String { root + "/b" }
        var config: String { root + "/config" }
        var user: String { config + "/refinery/workflows" }
        var outside: String { root + "/outside" }

        init() throws {
            root =
                FileManager.default.temporaryDirectory.appendingPathComponent("refinery-lib-\(UUID().uuidString)")
                .resolvingSymlinksInPath().path
            for folder in [project, pathA, pathB, user, outside] {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            }
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }

        func write(_ folder: String, _ file: String, description: String = "d") throws {
            let text = "refinery: 1\nname: x\ndescription: \(description)\n"
            try text.write(toFile: folder + "/" + file, atomically: true, encoding: .utf8)
        }

        func library(extra: [String: String] = [:]) -> WorkflowLibrary {
            var environment = ["REFINERY_PATH": "\(pathA)::../b", "XDG_CONFIG_HOME": config, "HOME": "/nonexistent"]
            environment.merge(extra) { _, new in new }
            return WorkflowLibrary(environment: environment, currentDirectory: cwd)
        }
    }

    @Test func searchFoldersInOrder() throws {
        let tree = try Tree()
        #expect(tree.library().folders.map(\.path) == [tree.project, tree.pathA, tree.cwd + "/../b", tree.user])
        #expect(tree.library().folders.map(\.origin) == [.project, .refineryPath, .refineryPath, .user])
        let noXDG = WorkflowLibrary(environment: ["HOME": "/home/u"], currentDirectory: "/w")
        #expect(noXDG.folders.map(\.path) == ["/w/workflows", "/home/u/.config/refinery/workflows"])
    }

    @Test func firstFolderWinsThenBuiltins() throws {
        let tree = try Tree()
        for folder in [tree.project, tree.pathA, tree.pathB, tree.user] {
            try tree.write(folder, "consensus.yaml")
        }
        let library = tree.library()
        #expect(try library.locate("consensus").path == tree.project + "/consensus.yaml")
        try FileManager.default.removeItem(atPath: tree.project + "/consensus.yaml")
        #expect(try library.locate("consensus").path == tree.pathA + "/consensus.yaml")
        try FileManager.default.removeItem(atPath: tree.pathA + "/consensus.yaml")
        #expect(try library.locate("consensus").origin == .refineryPath)
        try FileManager.default.removeItem(atPath: tree.pathB + "/consensus.yaml")
        #expect(try library.locate("consensus").origin == .user)
        try FileManager.default.removeItem(atPath: tree.user + "/consensus.yaml")
        let builtin = try library.locate("consensus")
        #expect(builtin.origin == .builtin)
        #expect(builtin.displayName == "builtin:consensus")
        #expect(builtin.path == nil)
        #expect(String(decoding: builtin.bytes, as: UTF8.self).contains("name: consensus\n"))
    }

    @Test func ymlIsFoundAfterYaml() throws {
        let tree = try Tree()
        try tree.write(tree.pathA, "mine.yml")
        #expect(try tree.library().locate("mine").path == tree.pathA + "/mine.yml")
    }

    @Test(arguments: [
        "../secret", "/etc/passwd", "a/b", "Consensus", "..", "", "-x", "a b", "a\0b", "x.yaml", "%2e%2e",
        "%2fetc%2fpasswd", "\u{FF43}onsensus", "consensus\u{301}", "consensus\u{200B}", "..\\..\\x", "~", "a\nb",
    ])
    func nonNamesAreRefused(name: String) throws {
        let tree = try Tree()
        #expect(throws: WorkflowLibraryError.self) { try tree.library().locate(name: name) }
        do {
            _ = try tree.library().locate(name: name)
        } catch {
            #expect(error.code == .invalidName)
            #expect(error.hint.contains("use a name such as"))
        }
    }

    @Test func nulIsRefusedEvenAsAPath() throws {
        let tree = try Tree()
        do {
            _ = try tree.library().locate("a/\0b.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidName)
            #expect(error.message == "`a/\\0b.yaml` is not a workflow name: it contains a NUL byte")
        }
    }

    @Test func symlinkLeadingOutsideIsRefused() throws {
        let tree = try Tree()
        try tree.write(tree.outside, "target.yaml")
        try FileManager.default.createSymbolicLink(
            atPath: tree.project + "/evil.yaml", withDestinationPath: tree.outside + "/target.yaml")
        do {
            _ = try tree.library().locate("evil")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .escapesSearchFolder)
        }
        // A symlink that stays inside its folder is fine.
        try tree.write(tree.project, "real.yaml")
        try FileManager.default.createSymbolicLink(
            atPath: tree.project + "/alias.yaml", withDestinationPath: "real.yaml")
        #expect(try tree.library().locate("alias").path == tree.project + "/alias.yaml")
    }

    /// The same odd names through `locate(_:)`, the entry point of `run NAME`: never a file
    /// outside the folders, whatever is planted there.
    @Test(arguments: ["%2e%2e", "\u{FF43}onsensus", "consensus\u{301}", "..", "~", "-rf", "CON"])
    func oddNamesReadNothing(name: String) throws {
        let tree = try Tree()
        try tree.write(tree.outside, "consensus.yaml")
        try tree.write(tree.project, name.replacingOccurrences(of: "/", with: "_") + ".yaml")
        do {
            let found = try tree.library().locate(name)
            Issue.record("`\(name)` resolved to \(found.displayName)")
        } catch {
            #expect(error.code == .invalidName)
        }
    }

    @Test func symlinkedFolderLoopsAndDanglingLinksAreNotFound() throws {
        let tree = try Tree()
        try FileManager.default.createSymbolicLink(atPath: tree.project + "/loop.yaml", withDestinationPath: "loop.yaml")
        try FileManager.default.createSymbolicLink(
            atPath: tree.project + "/gone.yaml", withDestinationPath: tree.outside + "/missing.yaml")
        for name in ["loop", "gone"] {
            do {
                _ = try tree.library().locate(name)
                Issue.record("expected an error for \(name)")
            } catch {
                #expect(error.code == .notFound)
            }
        }
        // A search folder that is itself a symlink still works: the check compares real paths.
        try FileManager.default.createSymbolicLink(atPath: tree.root + "/linked", withDestinationPath: tree.outside)
        try tree.write(tree.outside, "mine.yaml")
        let library = WorkflowLibrary(
            folders: [WorkflowLibrary.SearchFolder(path: tree.root + "/linked", origin: .refineryPath)],
            currentDirectory: tree.cwd)
        #expect(try library.locate("mine").path == tree.root + "/linked/mine.yaml")
    }

    @Test func pathsAreReadRelativeToTheCurrentDirectory() throws {
        let tree = try Tree()
        try tree.write(tree.outside, "flow.yaml")
        let located = try tree.library().locate("../outside/flow.yaml")
        #expect(located.origin == .path)
        #expect(located.name == "flow")
        #expect(located.path == tree.cwd + "/../outside/flow.yaml")
        #expect(WorkflowLibrary.isPath("flow.yml"))
        #expect(!WorkflowLibrary.isPath("flow"))
    }

    @Test func unknownNameSaysWhereItLooked() throws {
        let tree = try Tree()
        do {
            _ = try tree.library().locate("nope")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .notFound)
            #expect(error.message == "no workflow named `nope`")
            #expect(error.hint.contains(tree.user))
            #expect(error.hint.contains("consensus-classic"))
        }
    }

    @Test func listShowsShadowingAndDescriptions() throws {
        let tree = try Tree()
        try tree.write(tree.project, "consensus.yaml", description: "my consensus")
        try tree.write(tree.user, "consensus.yaml", description: "\"user's\"")
        try tree.write(tree.user, "extra.yaml", description: "extra one")
        try tree.write(tree.user, "Bad Name.yaml")
        let entries = tree.library().list()
        let consensus = entries.filter { $0.name == "consensus" }
        #expect(consensus.map(\.origin) == [.project, .user, .builtin])
        #expect(consensus.map(\.description) == ["my consensus", "user's", consensus[2].description])
        #expect(
            consensus.map(\.shadowedBy) == [nil, tree.project + "/consensus.yaml", tree.project + "/consensus.yaml"])
        #expect(consensus[2].description?.hasPrefix("Refinery's consensus loop. Every round") == true)
        #expect(
            entries.map(\.name).filter { $0 != "consensus" } == [
                "consensus-classic", "consortium", "debate", "extra", "moa", "self-consistency", "self-refine",
                "verify", "vote",
            ])
    }
}

@Suite struct WorkflowRevisionTests {
    @Test(arguments: [
        ("consensus@v1.2", "consensus", "v1.2"), ("mine@3f2c1ab", "mine", "3f2c1ab"), ("plain", "plain", nil),
        ("dir/file@x.yaml", "dir/file@x.yaml", nil), ("notes@v2.yaml", "notes@v2.yaml", nil),
        ("consensus@feature/x", "consensus", "feature/x"), ("consensus@main@{1}", "consensus", "main@{1}"),
        ("mine@HEAD~1", "mine", "HEAD~1"), ("mine@HEAD^", "mine", "HEAD^"), ("mine@v1^2", "mine", "v1^2"),
    ])
    func splits(argument: String, name: String, revision: String?) throws {
        let split = try WorkflowLibrary.splitRevision(argument)
        #expect(split.name == name)
        #expect(split.revision == revision)
    }

    @Test(arguments: [
        "a@", "a@--upload-pack=x", "a@HEAD..main", "a@x y", "a@x:y", "a@x\u{7F}", "a@x\ty",
        "a@x\\y", "@v1", "Bad@v1", "a b@v1",
    ])
    func refusesRevisionsGitCouldMisread(argument: String) {
        do {
            _ = try WorkflowLibrary.splitRevision(argument)
            Issue.record("expected an error for \(argument)")
        } catch {
            #expect(error.code == .invalidName)
        }
    }
}
