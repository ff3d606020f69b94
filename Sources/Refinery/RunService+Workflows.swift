// The commands that never touch the network: validate, estimate, graph, list, show.

public import Foundation
public import RefineryCompiler
import RefineryProviders
public import RefinerySyntax

extension RunService {
    /// Name resolution over `./workflows/`, `$REFINERY_PATH`, the user folder and the built-ins.
    public func library() -> WorkflowLibrary {
        var library = WorkflowLibrary(environment: environment, currentDirectory: workingDirectory.path)
        library.shownPaths = shownPaths
        return library
    }

    /// The built-in catalog merged with `$XDG_CONFIG_HOME/refinery/catalog.yaml` when it exists, with
    /// every endpoint of `providers.yaml` as a provider: `local/my-model` is a model string as soon as
    /// an endpoint `local` is declared (unpriced unless the catalog prices it).
    public func catalog() throws -> ModelCatalog {
        var catalog = ModelCatalog.builtin
        let file = SavedConfigs.userFolder(environment: environment).deletingLastPathComponent()
            .appendingPathComponent("catalog.yaml")
        if let data = FileManager.default.contents(atPath: file.path) {
            let (overrides, diagnostics) = ModelCatalog.load(yaml: Array(data), file: file.path)
            guard let overrides, !diagnostics.contains(where: { $0.severity == .error }) else {
                throw WorkflowDiagnosticsError(
                    diagnostics: diagnostics, sources: [file.path: String(decoding: data, as: UTF8.self)])
            }
            catalog = catalog.merging(overrides)
        }
        // The compiler knows model strings only through the catalog it is given: the declared endpoints
        // are passed in here rather than read by the compiler, which stays pure.
        catalog.providers.formUnion(try providersConfiguration().endpoints.map(\.name))
        return catalog
    }

    /// A loader over ``library()`` and ``catalog()``.
    public func loader() throws -> WorkflowLoader {
        WorkflowLoader(library: library(), catalog: try catalog())
    }

    /// `loaded`, its warnings handed to ``onCompileWarnings`` first: a workflow that compiles with warnings
    /// (a flag it has no use for, W705) runs, and the user is told.
    func reportingWarnings(_ loaded: LoadedWorkflow) -> LoadedWorkflow {
        reportWarnings(of: [loaded])
        return loaded
    }

    /// The warnings of the workflows a batch or a bench compiled, handed to ``onCompileWarnings`` once: a
    /// warning several of them share (a batch compiles its workflow once per set of columns) is told once.
    func reportWarnings(of workflows: [LoadedWorkflow]) {
        guard let onCompileWarnings else { return }
        var seen = Set<Diagnostic>()
        var warnings: [Diagnostic] = []
        var sources: [String: String] = [:]
        for loaded in workflows {
            warnings += loaded.warnings.filter { seen.insert($0).inserted }
            sources.merge(loaded.sources) { first, _ in first }
        }
        if !warnings.isEmpty { onCompileWarnings(WorkflowDiagnosticsError(diagnostics: warnings, sources: sources)) }
    }

    /// `refinery validate FILE...`: each file's diagnostics and text. A `NAME@REV` is checked as it was at that
    /// git revision, as `run` reads it. `variables` are the `--var` names templates may show.
    public func validate(_ paths: [String], variables: [String: String] = [:]) async throws -> [(
        path: String, diagnostics: [Diagnostic], sources: [String: String]
    )] {
        let loader = try loader()
        var checked: [(path: String, diagnostics: [Diagnostic], sources: [String: String])] = []
        for path in paths {
            // A malformed `NAME@REV` goes to `load` too, which says what is wrong with the revision.
            let atRevision = (try? WorkflowLibrary.splitRevision(path)).map { $0.revision != nil } ?? true
            guard atRevision else {
                let (diagnostics, sources) = try loader.check(path: path, variables: variables)
                checked.append((path, diagnostics, sources))
                continue
            }
            do {
                let loaded = try await loader.load(path, overrides: WorkflowOverrides(variables: variables))
                checked.append((path, loaded.warnings, loaded.sources))
            } catch let error as WorkflowDiagnosticsError {
                checked.append((path, error.diagnostics, error.sources))
            }
        }
        return checked
    }

    /// `refinery estimate` / `run --dry-run`: calls, tokens and dollars for min and max rounds.
    public func estimate(
        _ target: String, overrides: WorkflowOverrides, prompt: String?
    ) async throws -> WorkflowEstimate {
        let loader = try loader()
        let loaded = reportingWarnings(try await loader.load(target, overrides: overrides))
        return WorkflowEstimate.estimate(
            workflow: loaded.workflow, graph: loaded.graph, catalog: loader.catalog,
            promptTokens: prompt.map(EstimateAssumptions.tokens(for:)) ?? 0)
    }

    /// `refinery graph`: the execution graph as Mermaid or Graphviz text.
    public func graph(_ target: String, overrides: WorkflowOverrides, format: GraphFormat) async throws -> String {
        let loaded = reportingWarnings(try await loader().load(target, overrides: overrides))
        let (workflow, graph) = (loaded.workflow, loaded.graph)
        switch format {
        case .mermaid: return graph.mermaid(iterations: workflow.iterations, title: workflow.name)
        case .dot: return graph.dot(iterations: workflow.iterations, title: workflow.name)
        }
    }

    /// `refinery save`: writes `config` into `folder` (default: the user's workflow folder) once the file it
    /// would write compiles, through the same compiler and name resolution as a run by name. Throws
    /// ``WorkflowDiagnosticsError`` (exit 4) for a config that would not compile, and writes nothing then.
    @discardableResult
    public func save(_ config: SavedConfig, in folder: String? = nil, replace: Bool = false) throws -> URL {
        let loader = try loader()
        let configs = savedConfigs(in: folder)
        let previous = FileManager.default.contents(atPath: configs.url(for: config.name).path)
        let file = try configs.save(config, replace: replace) { yaml, file in
            let result = loader.library.compiler(catalog: loader.catalog).compile(
                WorkflowSource(displayName: file.path, text: yaml, path: file.path))
            guard !result.hasErrors else {
                throw WorkflowDiagnosticsError(
                    diagnostics: Self.atFlags(result.diagnostics, of: config, file: file.path),
                    sources: [file.path: yaml])
            }
        }
        // Once written, the config shadows its name, so a base of that name is now the file itself
        // (`save consensus --extends consensus` extends itself). Compiled as `run NAME` will find it; a failure
        // undoes the write.
        guard let located = try? loader.library.locate(name: config.name),
            located.path.map({ URL(fileURLWithPath: $0).resolvingSymlinksInPath().path })
                == file.resolvingSymlinksInPath().path
        else { return file }
        let result = loader.library.compiler(catalog: loader.catalog).compile(located.source)
        guard result.hasErrors else { return file }
        if let previous {
            try? previous.write(to: file, options: .atomic)
        } else {
            try? FileManager.default.removeItem(at: file)
        }
        // The display name is usually the path itself: one entry then, not a literal with a duplicate key.
        var sources = [file.path: config.yaml]
        sources[located.displayName] = config.yaml
        throw WorkflowDiagnosticsError(
            diagnostics: Self.atFlags(result.diagnostics, of: config, file: located.displayName), sources: sources)
    }

    /// `diagnostics` with each one about a line of `file` that a flag of `refinery save` wrote located at that
    /// flag (`<command line>: --model`), as `run`'s flags are: the file is not written, or is taken back.
    private static func atFlags(_ diagnostics: [Diagnostic], of config: SavedConfig, file: String) -> [Diagnostic] {
        diagnostics.map { diagnostic in
            guard diagnostic.file == file, let location = diagnostic.location,
                let flag = config.flag(line: location.line, column: location.column)
            else { return diagnostic }
            var located = diagnostic
            located.file = "\(WorkflowOverrides.Surface.commandLine.layerName): \(flag)"
            located.location = nil
            located.notes = diagnostic.notes.map { Diagnostic.Note(message: $0.message) }
            return located
        }
    }

    /// `refinery remove NAME`: deletes saved config `name` from `folder` (default: the user's workflow folder).
    /// Refused (exit 4) while other workflows on the search path `extends:` it, naming them, since they would
    /// stop compiling; `force` removes it anyway. Returns the removed file.
    @discardableResult
    public func removeSavedConfig(_ name: String, from folder: String? = nil, force: Bool = false) throws -> URL {
        let configs = savedConfigs(in: folder)
        let file = configs.url(for: name)
        if !force, SavedConfigs.isValidName(name), FileManager.default.fileExists(atPath: file.path) {
            let dependents = library().dependents(of: name, except: file.path)
            if !dependents.isEmpty {
                let listed = dependents.map { "\($0.name) (\($0.location))" }.joined(separator: ", ")
                throw InputError(
                    code: .inUse,
                    message: "\(name) is extended by \(listed); without it \(dependents.count == 1 ? "that" : "those") "
                        + "\(dependents.count == 1 ? "workflow" : "workflows") would no longer compile. Remove or change them first, or pass --force to "
                        + "remove \(name) anyway.")
            }
        }
        return try configs.remove(name)
    }

    /// `refinery list`: every workflow visible by name.
    public func listWorkflows() -> [WorkflowEntry] {
        library().list()
    }

    /// `refinery show NAME`: the resolved workflow with where it came from.
    public func show(_ target: String) async throws -> LoadedWorkflow {
        try await loader().load(target, gitProvenance: true)
    }
}

/// Output formats of `refinery graph`.
public enum GraphFormat: String, Sendable, CaseIterable {
    /// Mermaid flowchart.
    case mermaid
    /// Graphviz DOT.
    case dot
}
