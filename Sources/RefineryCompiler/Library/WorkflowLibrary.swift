// Running workflows by name: the search folders of DESIGN §3 in order, the built-ins last, and
// the rules that keep a name from reaching outside them.

/// Finds workflow files by name or path.
///
/// A name (`[a-z0-9][a-z0-9_-]*`) is looked up as `NAME.yaml`, then `NAME.yml`, in each search
/// folder in order — `./workflows/`, each folder of `$REFINERY_PATH` (colon-separated), then
/// `$XDG_CONFIG_HOME/refinery/workflows/` (`~/.config` when unset) — and finally among the
/// built-ins. The first match wins. A name never escapes its folder: anything else (slashes,
/// `..`, absolute paths, NUL, upper case) is refused, and so is a file that is a symlink
/// leading outside its search folder. An argument that contains `/` or ends in `.yaml`/`.yml`
/// is a path instead, read relative to the current directory.
public struct WorkflowLibrary: Sendable {
    /// A folder searched for `NAME.yaml`.
    public struct SearchFolder: Sendable, Hashable {
        /// Absolute path of the folder.
        public var path: String
        /// Which kind of folder it is.
        public var origin: WorkflowOrigin

        /// Creates a search folder.
        public init(path: String, origin: WorkflowOrigin) {
            self.path = path
            self.origin = origin
        }
    }

    /// The folders searched before the built-ins, in order.
    public var folders: [SearchFolder]
    /// The current directory, for paths.
    public var currentDirectory: String
    /// Disk access.
    public var fileSystem: WorkflowFileSystem
    /// Built-in workflows: name → file text.
    package var builtins: [String: String]
    /// How diagnostics name the files at these absolute paths, instead of the path given: a workflow its
    /// caller gave as text (an MCP client's `workflow_yaml`), written to a private file to be read, is
    /// named as the caller knows it (`<inline workflow>:3:7`), not by a path of this machine.
    public var shownPaths: [String: String] = [:]

    /// Creates a library from the process environment and current directory.
    ///
    /// - Parameters:
    ///   - environment: reads `REFINERY_PATH`, `XDG_CONFIG_HOME` and `HOME`.
    ///   - currentDirectory: absolute; `./workflows/` and relative paths are resolved against it.
    ///   - fileSystem: disk access; ``WorkflowFileSystem/local`` by default.
    public init(
        environment: [String: String], currentDirectory: String, fileSystem: WorkflowFileSystem = .local
    ) {
        var folders = [SearchFolder(path: Self.join(currentDirectory, "workflows"), origin: .project)]
        for entry in (environment["REFINERY_PATH"] ?? "").split(separator: ":") where !entry.isEmpty {
            let path = entry.hasPrefix("/") ? String(entry) : Self.join(currentDirectory, String(entry))
            folders.append(SearchFolder(path: path, origin: .refineryPath))
        }
        let config: String? =
            if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") {
                xdg
            } else if let home = environment["HOME"], home.hasPrefix("/") {
                Self.join(home, ".config")
            } else {
                nil
            }
        if let config {
            folders.append(SearchFolder(path: Self.join(config, "refinery/workflows"), origin: .user))
        }
        self.init(folders: folders, currentDirectory: currentDirectory, fileSystem: fileSystem)
    }

    /// Creates a library with explicit search folders.
    public init(folders: [SearchFolder], currentDirectory: String, fileSystem: WorkflowFileSystem = .local) {
        self.folders = folders
        self.currentDirectory = currentDirectory
        self.fileSystem = fileSystem
        builtins = Dictionary(BuiltinWorkflows.all.map { ($0.name, $0.text) }) { first, _ in first }
    }

    /// The user's own workflow folder (`$XDG_CONFIG_HOME/refinery/workflows/`), where `save` writes.
    public var userFolder: String? { folders.last { $0.origin == .user }?.path }

    /// Whether `argument` is a path rather than a name: it contains `/` or ends in `.yaml`/`.yml`.
    public static func isPath(_ argument: String) -> Bool {
        argument.contains("/") || argument.hasSuffix(".yaml") || argument.hasSuffix(".yml")
    }

    /// `builtin:NAME` names a built-in workflow whatever the search folders hold (also its display name).
    public static let builtinPrefix = "builtin:"

    /// The workflow a run gets when it names none (the bare command line, an MCP `run_workflow` without
    /// `workflow`): the built-in consensus, never a `consensus.yaml` of a search folder.
    public static let defaultWorkflow = builtinPrefix + "consensus"

    /// Whether `name` is a valid workflow name: `[a-z0-9][a-z0-9_-]*`.
    public static func isValidName(_ name: String) -> Bool {
        WorkflowCompiler.isValidWorkflowName(name)
    }

    /// Finds a workflow by name (search folders, then built-ins), a built-in by `builtin:NAME`, or reads
    /// it from a path.
    ///
    /// - Throws: ``WorkflowLibraryError`` with code `invalidName`, `notFound`,
    ///   `escapesSearchFolder` or `unreadable`.
    public func locate(_ argument: String) throws(WorkflowLibraryError) -> LocatedWorkflow {
        if argument.utf8.contains(0) {
            throw invalidName(argument, why: "it contains a NUL byte")
        }
        if argument.hasPrefix(Self.builtinPrefix) {
            // `builtin:NAME` skips the search folders: the bare form `refinery "prompt"` runs the built-in
            // consensus even where `./workflows/consensus.yaml` or a saved `consensus` shadows the name.
            let name = String(argument.dropFirst(Self.builtinPrefix.count))
            guard let text = builtins[name] else {
                throw WorkflowLibraryError(
                    code: .notFound, message: "no built-in workflow named `\(name)`",
                    hint: "the built-ins are \(builtins.keys.sorted().joined(separator: ", "))")
            }
            return LocatedWorkflow(
                name: name, displayName: argument, bytes: Array(text.utf8), path: nil, origin: .builtin)
        }
        if Self.isPath(argument) { return try readPath(argument) }
        guard Self.isValidName(argument) else {
            throw invalidName(argument, why: Self.nameRule)
        }
        for folder in folders {
            if let found = try find(argument, in: folder) { return found }
        }
        if let text = builtins[argument] {
            return LocatedWorkflow(
                name: argument, displayName: Self.builtinPrefix + argument, bytes: Array(text.utf8), path: nil,
                origin: .builtin)
        }
        throw WorkflowLibraryError(
            code: .notFound, message: "no workflow named `\(argument)`",
            hint: "searched \(folders.map(\.path).joined(separator: ", ")) and the built-ins "
                + "(\(builtins.keys.sorted().joined(separator: ", "))); `refinery list` shows every name")
    }

    /// Every workflow visible by name, sorted by name; for a name found in several places the
    /// first one wins and the others say what shadows them.
    public func list() -> [WorkflowEntry] {
        var entries: [WorkflowEntry] = []
        var winner: [String: String] = [:]
        func add(name: String, location: String, origin: WorkflowOrigin, text: String?) {
            let description = text.flatMap(Self.topLevelDescription)
            entries.append(
                WorkflowEntry(
                    name: name, location: location, origin: origin, description: description,
                    shadowedBy: winner[name]))
            if winner[name] == nil { winner[name] = location }
        }
        for folder in folders {
            for name in names(in: folder) {
                let located = try? find(name, in: folder)
                guard let located, let path = located.path else { continue }
                add(
                    name: name, location: path, origin: folder.origin,
                    text: String(validating: located.bytes, as: UTF8.self))
            }
        }
        for name in builtins.keys.sorted() {
            add(name: name, location: "builtin:\(name)", origin: .builtin, text: builtins[name])
        }
        // Stable sort: entries of one name keep their precedence order.
        return entries.enumerated().sorted { ($0.element.name, $0.offset) < ($1.element.name, $1.offset) }.map(
            \.element)
    }

    /// Splits `NAME@REV` into the name and the git revision (tag, branch or commit).
    ///
    /// Reading the file at that revision is the caller's job (it runs git); the revision is
    /// checked here so it can be passed to git safely: it may not be empty, start with `-`, or
    /// hold whitespace, `..` (a range), `:` (it would end the revision in git's `REV:PATH`), `\\` or control
    /// characters. Git's revision syntax is kept (`HEAD~1`, `HEAD^`, `main@{1}`), and a revision may hold `/`
    /// (`consensus@feature/x`); an argument whose part before the `@` is not a name (a path such
    /// as `dir/file@x.yaml`) is not split.
    public static func splitRevision(_ argument: String) throws(WorkflowLibraryError) -> (
        name: String, revision: String?
    ) {
        guard let at = argument.firstIndex(of: "@") else { return (argument, nil) }
        let name = String(argument[..<at])
        let revision = String(argument[argument.index(after: at)...])
        // `dir/file@x.yaml` and `notes@v2.yaml` are files, not names at a revision.
        let fileName = !revision.contains("/") && (revision.hasSuffix(".yaml") || revision.hasSuffix(".yml"))
        if isPath(argument), !isValidName(name) || fileName { return (argument, nil) }
        let forbidden = revision.unicodeScalars.contains {
            $0.value < 0x21 || $0.value == 0x7F || $0 == ":" || $0 == "\\"
        }
        guard !revision.isEmpty, !revision.hasPrefix("-"), !revision.contains(".."), !forbidden else {
            throw WorkflowLibraryError(
                code: .invalidName, message: "`\(argument)` does not name a usable git revision",
                hint: "write NAME@REV with a tag, branch or commit, or git's revision syntax, e.g. `consensus@v1.2`, "
                    + "`consensus@3f2c1ab` or `consensus@HEAD~1`")
        }
        guard isValidName(name) else {
            throw WorkflowLibraryError(
                code: .invalidName, message: "`\(name)` in `\(argument)` is not a workflow name: \(nameRule)",
                hint: "write NAME@REV, e.g. `consensus@v1.2`")
        }
        return (name, revision)
    }

    /// Finds a workflow by name only (for `show`, `remove`, `save` and `extends:`): a path is
    /// refused with `invalidName` rather than read.
    public func locate(name: String) throws(WorkflowLibraryError) -> LocatedWorkflow {
        // `extends: builtin:consensus` reaches the built-in even where a saved `consensus` shadows it.
        if name.hasPrefix(Self.builtinPrefix) { return try locate(name) }
        guard Self.isValidName(name) else {
            throw invalidName(name, why: Self.isPath(name) ? "a name cannot be a path" : Self.nameRule)
        }
        return try locate(name)
    }

    // MARK: - Helpers

    private func names(in folder: SearchFolder) -> [String] {
        var names: Set<String> = []
        for file in fileSystem.list(folder.path) {
            for suffix in [".yaml", ".yml"] where file.hasSuffix(suffix) {
                let name = String(file.dropLast(suffix.count))
                if Self.isValidName(name) { names.insert(name) }
            }
        }
        return names.sorted()
    }

    private func find(_ name: String, in folder: SearchFolder) throws(WorkflowLibraryError) -> LocatedWorkflow? {
        for suffix in [".yaml", ".yml"] {
            let candidate = Self.join(folder.path, name + suffix)
            guard let real = fileSystem.realPath(candidate) else { continue }
            let root = fileSystem.realPath(folder.path) ?? folder.path
            guard real.hasPrefix(root.hasSuffix("/") ? root : root + "/") else {
                throw WorkflowLibraryError(
                    code: .escapesSearchFolder,
                    message: "`\(candidate)` leads to `\(real)`, outside the search folder `\(folder.path)`",
                    hint: "a workflow name never leaves its folder; copy the file into the folder, or pass its path")
            }
            return LocatedWorkflow(
                name: name, displayName: candidate, bytes: try read(real, shownAs: candidate), path: candidate,
                origin: folder.origin)
        }
        return nil
    }

    private func readPath(_ argument: String) throws(WorkflowLibraryError) -> LocatedWorkflow {
        let joined = argument.hasPrefix("/") ? argument : Self.join(currentDirectory, argument)
        // `./team.yaml` is shown and recorded as `/work/team.yaml`, not `/work/./team.yaml`: a `.` or empty
        // component names nothing (`..` is kept: through a symlinked folder it is not the lexical parent).
        let path = "/" + joined.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
        guard fileSystem.realPath(path) != nil else {
            throw WorkflowLibraryError(
                code: .notFound, message: "no workflow file at `\(argument)`",
                hint: "check the path; a bare name such as `consensus` is looked up in the workflow folders")
        }
        let file = path.split(separator: "/").last.map(String.init) ?? argument
        let name = file.split(separator: ".").first.map(String.init) ?? file
        let shown = shownPaths[path] ?? argument
        return LocatedWorkflow(
            name: name, displayName: shown, bytes: try read(path, shownAs: shown), path: path, origin: .path)
    }

    private func read(_ path: String, shownAs shown: String) throws(WorkflowLibraryError) -> [UInt8] {
        do {
            return try fileSystem.read(path)
        } catch let error as UnreadableFile {
            throw WorkflowLibraryError(
                code: .unreadable,
                message: error.kind.map { "`\(shown)` is \($0), not a file" }
                    ?? "cannot read `\(shown)`: \(error.reason)",
                hint: "give the path of a workflow YAML file", cause: error)
        } catch {
            throw WorkflowLibraryError(
                code: .unreadable, message: "cannot read `\(shown)`", hint: "check the file's permissions",
                cause: error)
        }
    }

    private func invalidName(_ argument: String, why: String) -> WorkflowLibraryError {
        let shown = argument.replacing("\0", with: "\\0")
        return WorkflowLibraryError(
            code: .invalidName, message: "`\(shown)` is not a workflow name: \(why)",
            hint: "use a name such as `consensus` or `my-review_2`, or a path ending in .yaml")
    }

    private static let nameRule = "names are " + WorkflowCompiler.workflowNameRule

    static func join(_ folder: String, _ component: String) -> String {
        folder.hasSuffix("/") ? folder + component : folder + "/" + component
    }
}
