// Loading a workflow for a command: find it by name, path or `NAME@REV` (DESIGN §3), read it
// (from git for a revision), compile it once with `extends:` resolved through the same library and
// the command line as its last layer, and, for a run that is recorded, ask git where it came from.

import Foundation
public import RefineryCompiler
public import RefinerySyntax
import Synchronization

/// A compiled workflow ready to estimate, draw or run.
public struct LoadedWorkflow: Sendable {
    /// The checked workflow, overrides applied, provenance filled in.
    public var workflow: Workflow
    /// Its execution graph, from the same compilation.
    public var graph: ExecutionGraph
    /// Where it was found.
    public var located: LocatedWorkflow
    /// Warnings from the compiler.
    public var warnings: [Diagnostic]
    /// The text of every file read (for rendering warnings).
    public var sources: [String: String]
}

/// Finds and compiles workflows for the commands.
public struct WorkflowLoader: Sendable {
    /// Name resolution.
    public var library: WorkflowLibrary
    /// Aliases and prices (built-in merged with the user's catalog file).
    public var catalog: ModelCatalog

    /// Creates a loader.
    public init(library: WorkflowLibrary, catalog: ModelCatalog) {
        self.library = library
        self.catalog = catalog
    }

    /// Loads `argument` (a name, `NAME@REV` or a path) with `overrides` as the compiler's last layer.
    ///
    /// - Parameter gitProvenance: whether git is asked for the file's commit and dirty flag: for a run
    ///   that is recorded and for `show`, which prints them (`estimate`, `graph`, `--dry-run` and
    ///   `validate` start no process for a plain file).
    public func load(
        _ argument: String, overrides: WorkflowOverrides = WorkflowOverrides(), gitProvenance: Bool = false
    ) async throws -> LoadedWorkflow {
        let (name, revision) = try Self.library { try WorkflowLibrary.splitRevision(argument) }
        var located: LocatedWorkflow
        do {
            located = try Self.library { try library.locate(name) }
        } catch let error as InputError where error.code == .notFound && revision != nil {
            // A saved config deleted since the revision is still in its repository's history.
            guard let revision, let earlier = await locateInHistory(name, at: revision) else { throw error }
            located = earlier
        }
        var provenance = Provenance()
        var repository: GitRepository?
        var resolvedRevision: String?
        if let path = located.path {
            let file = URL(fileURLWithPath: path)
            if let revision {
                // The file's text at a revision comes from git whatever the command.
                repository = await GitRepository.containing(file)
                guard let repository else {
                    throw InputError(
                        code: .git,
                        message: "\(argument): \(located.displayName) is not in a git repository, so it has no "
                            + "revision \(revision). Drop @\(revision) or commit the file.")
                }
                // Whatever `git rev-parse` reads (a tag, a branch, a sha, `HEAD~1`, `HEAD^`, `main@{1}`) names one
                // commit, read once: the file and its prompt files come from that commit.
                guard let commit = await repository.commit(of: revision) else {
                    let path = repository.relativePath(of: file)
                    throw InputError(
                        code: .git,
                        message: "\(argument): the repository at \(repository.root.path) has no commit at revision "
                            + "\(revision). Write a tag, a branch, a commit or git's revision syntax (`HEAD~1`, `HEAD^`); "
                            + "`git log --oneline -- \(path)` lists the file's commits.")
                }
                located.bytes = Array(try await repository.contents(of: file, at: commit))
                located.displayName += "@\(revision)"
                provenance.gitRevision = revision
                provenance.gitDirty = false
                provenance.gitCommit = commit
                resolvedRevision = commit
            }
        } else if let revision {
            throw InputError(
                code: .git,
                message: "\(name) is a built-in workflow; built-ins have no git revisions. Drop @\(revision).")
        }
        var sources: [String: String] = [:]
        let result: CompileResult
        // Every file the compilation reads (the bases it extends, the prompt files): what the run's dirty flag
        // covers, as the workflow that runs is all of them.
        let read = FilesRead()
        if let revision, let commit = resolvedRevision, let repository {
            let compiled = try await compileAtRevision(
                located.source, revision: revision, commit: commit, repository: repository, overrides: overrides)
            result = compiled.result
            sources.merge(compiled.bases) { first, _ in first }
        } else {
            result = read.recording(library.compiler(catalog: catalog, overrides: overrides)).compile(located.source)
        }
        let askGit = gitProvenance && revision == nil ? located.path.map { URL(fileURLWithPath: $0) } : nil
        async let gitFacts = Self.gitFacts(
            of: askGit, covering: read.paths.withLock { $0 }.map { URL(fileURLWithPath: $0) })
        sources[located.displayName] = String(decoding: located.bytes, as: UTF8.self)
        for diagnostic in result.diagnostics {
            if let file = diagnostic.file, sources[file] == nil, let text = try? readBase(file) {
                sources[file] = text
            }
        }
        guard var workflow = result.workflow, let graph = result.graph, !result.hasErrors else {
            throw WorkflowDiagnosticsError(diagnostics: result.diagnostics, sources: sources)
        }
        if workflow.provenance.path == nil {
            workflow.provenance.path = located.path ?? located.displayName
        }
        if workflow.provenance.contentSHA256 == nil {
            workflow.provenance.contentSHA256 = WorkflowCompiler.sha256Hex(located.bytes)
        }
        if let facts = await gitFacts {
            provenance.gitCommit = facts.commit
            provenance.gitDirty = facts.dirty
        }
        workflow.provenance.gitCommit = provenance.gitCommit
        workflow.provenance.gitDirty = provenance.gitDirty
        workflow.provenance.gitRevision = provenance.gitRevision
        return LoadedWorkflow(
            workflow: workflow, graph: graph, located: located, warnings: result.warnings, sources: sources)
    }

    /// `NAME.yaml` (or `.yml`) of the first search folder whose repository holds it at `revision`, for a name
    /// no search folder holds today: `NAME@REV` reads the file as it was, whatever became of it since.
    private func locateInHistory(_ name: String, at revision: String) async -> LocatedWorkflow? {
        guard !WorkflowLibrary.isPath(name), WorkflowLibrary.isValidName(name) else { return nil }
        for folder in library.folders {
            for suffix in [".yaml", ".yml"] {
                let path = URL(fileURLWithPath: folder.path).appendingPathComponent(name + suffix).path
                guard let repository = await GitRepository.containing(URL(fileURLWithPath: path)),
                    let commit = await repository.commit(of: revision),
                    let bytes = try? await repository.contents(of: URL(fileURLWithPath: path), at: commit)
                else { continue }
                return LocatedWorkflow(
                    name: name, displayName: path, bytes: Array(bytes), path: path, origin: folder.origin)
            }
        }
        return nil
    }

    /// ``GitRepository/provenance(of:covering:timeout:)`` of `file` and the files its compilation read, if there
    /// is one to ask about.
    private static func gitFacts(of file: URL?, covering others: [URL]) async -> (commit: String?, dirty: Bool)? {
        guard let file else { return nil }
        return await GitRepository.provenance(of: file, covering: others)
    }

    /// Compiles one file without flags (for `validate`), its templates allowed `variables`: the
    /// diagnostics and the file's text.
    public func check(
        path: String, variables: [String: String] = [:]
    ) throws -> (diagnostics: [Diagnostic], sources: [String: String]) {
        let located = try Self.library { try library.locate(path) }
        let result = library.compiler(catalog: catalog, overrides: WorkflowOverrides(variables: variables))
            .compile(located.source)
        var sources = [located.displayName: String(decoding: located.bytes, as: UTF8.self)]
        for diagnostic in result.diagnostics {
            if let file = diagnostic.file, sources[file] == nil, let text = try? readBase(file) {
                sources[file] = text
            }
        }
        return (result.diagnostics, sources)
    }

    /// Compiles a workflow read at `revision` (the commit `commit`), whose prompt files and the bases it extends
    /// from the same repository come from that commit too (a base elsewhere, a built-in, has no such revision).
    /// The compiler is synchronous and git is not, so the files it asks for are fetched between passes: a pass
    /// that needs a file not yet read records it, the file is read, and the pass is redone. Returns the result
    /// and the text of each base read at the revision, by the name its diagnostics give it.
    private func compileAtRevision(
        _ source: WorkflowSource, revision: String, commit: String, repository: GitRepository,
        overrides: WorkflowOverrides
    ) async throws -> (result: CompileResult, bases: [String: String]) {
        var files: [String: Swift.Result<[UInt8], InputError>] = [:]
        while true {
            let fetched = files
            let missing = MissingFiles()
            var compiler = library.compiler(catalog: catalog, overrides: overrides)
            compiler.readFile = { path in
                guard let file = fetched[path] else {
                    missing.paths.withLock { _ = $0.insert(path) }
                    throw InputError(code: .git, message: "\(path) is being read at \(revision).")
                }
                return try file.get()
            }
            let resolveExtends = compiler.resolveExtends
            let bases = Mutex<[String: String]>([:])
            compiler.resolveExtends = { name in
                guard var base = try resolveExtends(name) else { return nil }
                guard let path = base.path, repository.holds(URL(fileURLWithPath: path)) else { return base }
                // Until it is fetched, the pass goes on with the base as it is now, to find what else it needs.
                guard let file = fetched[path] else {
                    missing.paths.withLock { _ = $0.insert(path) }
                    return base
                }
                base.bytes = try file.get()
                base.displayName += "@\(revision)"
                bases.withLock { $0[base.displayName] = String(decoding: base.bytes, as: UTF8.self) }
                return base
            }
            let result = compiler.compile(source)
            let needed = missing.paths.withLock { $0 }
            if needed.isEmpty { return (result, bases.withLock { $0 }) }
            for path in needed {
                do {
                    files[path] = .success(
                        Array(try await repository.contents(of: URL(fileURLWithPath: path), at: commit)))
                } catch let error as InputError {
                    files[path] = .failure(error)
                }
            }
        }
    }

    private func readBase(_ displayName: String) throws -> String {
        if displayName.hasPrefix("builtin:") {
            let located = try Self.library { try library.locate(name: String(displayName.dropFirst(8))) }
            return String(decoding: located.bytes, as: UTF8.self)
        }
        guard let data = FileManager.default.contents(atPath: displayName) else {
            throw InputError(code: .unreadable, message: "Cannot read \(displayName).")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Runs a library call, turning its typed error into an ``InputError`` (exit 4).
    static func library<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as WorkflowLibraryError {
            let code: InputError.Code = error.code == .notFound ? .notFound : .invalidName
            throw InputError(code: code, message: "\(error.message); \(error.hint)", cause: error)
        }
    }
}

/// The prompt files a compiler pass asked for but that were not fetched from git yet.
private final class MissingFiles: Sendable {
    let paths = Mutex<Set<String>>([])
}

/// The files a compilation read: the bases it extends and the prompt files, by path.
private final class FilesRead: Sendable {
    let paths = Mutex<[String]>([])

    /// `compiler`, noting every file it reads here.
    func recording(_ compiler: WorkflowCompiler) -> WorkflowCompiler {
        var compiler = compiler
        let resolveExtends = compiler.resolveExtends
        let readFile = compiler.readFile
        compiler.resolveExtends = { [self] name in
            let base = try resolveExtends(name)
            if let path = base?.path { paths.withLock { $0.append(path) } }
            return base
        }
        compiler.readFile = { [self] path in
            paths.withLock { $0.append(path) }
            return try readFile(path)
        }
        return compiler
    }
}
