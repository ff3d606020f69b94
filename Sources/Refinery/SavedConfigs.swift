// `refinery save` (llm-consortium's saved consortiums, DESIGN §3): a few flags become a small
// YAML file that `extends` a built-in workflow, written where name resolution finds it, so it
// runs by name and can be committed to git.

public import Foundation
import RefineryCompiler

/// A saved configuration: the flags of `refinery save`.
public struct SavedConfig: Sendable, Hashable {
    /// The name it runs by (`[a-z0-9][a-z0-9_-]*`).
    public var name: String
    /// Member model strings, `MODEL[:COUNT]`.
    public var models: [String]
    /// Arbiter model string.
    public var arbiter: String?
    /// Convergence threshold (the confidence 0–1 for `consortium`, the score for score-based strategies).
    public var confidenceThreshold: Double?
    /// Maximum rounds.
    public var maxIterations: Int?
    /// Minimum rounds.
    public var minIterations: Int?
    /// System prompt for every call.
    public var system: String?
    /// The built-in (or other workflow) it extends. Default `consortium`.
    public var extends: String

    /// Creates a saved config.
    public init(
        name: String, models: [String] = [], arbiter: String? = nil, confidenceThreshold: Double? = nil,
        maxIterations: Int? = nil, minIterations: Int? = nil, system: String? = nil, extends: String = "consortium"
    ) {
        self.name = name
        self.models = models
        self.arbiter = arbiter
        self.confidenceThreshold = confidenceThreshold
        self.maxIterations = maxIterations
        self.minIterations = minIterations
        self.system = system
        self.extends = extends
    }

    /// The workflow file text (format 1).
    public var yaml: String {
        lines.map(\.text).joined(separator: "\n") + "\n"
    }

    /// The flag of `refinery save` that wrote line `line` of ``yaml`` (`--model`, `--arbiter`, ...; `column` tells
    /// `--min-iterations` from `--max-iterations` on their shared line), or `nil` for a line no flag wrote. A
    /// problem of the file is one of the flags: it is reported there, as `run`'s flags are, since the file it
    /// would be located in is never written.
    package func flag(line: Int, column: Int) -> String? {
        guard lines.indices.contains(line - 1) else { return nil }
        let (text, flag) = lines[line - 1]
        if flag == "--min-iterations", minIterations != nil, let max = text.range(of: "max:") {
            return column > text.distance(from: text.startIndex, to: max.lowerBound) ? "--max-iterations" : flag
        }
        return flag == "--min-iterations" && minIterations == nil ? "--max-iterations" : flag
    }

    /// Each line of ``yaml`` with the flag that wrote it.
    private var lines: [(text: String, flag: String?)] {
        var lines: [(text: String, flag: String?)] = [
            ("# Saved with `refinery save`; edit freely or commit it to git.", nil), ("refinery: 1", nil),
            ("name: \(name)", nil), ("extends: \(Self.quote(extends))", "--extends"),
        ]
        if !models.isEmpty {
            lines.append(("models:", "--model"))
            lines += models.map { ("  - \(Self.quote($0))", "--model") }
        }
        if let arbiter { lines.append(("arbiter: \(Self.quote(arbiter))", "--arbiter")) }
        if let system { lines.append(("system: \(Self.quote(system))", "--system")) }
        var iterations: [String] = []
        if let minIterations { iterations.append("min: \(minIterations)") }
        if let maxIterations { iterations.append("max: \(maxIterations)") }
        if !iterations.isEmpty {
            lines.append(("iterations: { \(iterations.joined(separator: ", ")) }", "--min-iterations"))
        }
        if let confidenceThreshold {
            lines.append(("convergence: { threshold: \(confidenceThreshold) }", "--confidence-threshold"))
        }
        return lines
    }

    /// `text` as a YAML double-quoted scalar that reads back as exactly `text`, and reads as written (`/` as is,
    /// not JSON's `\/`). Escaped: what YAML does not allow in a file (C0 and C1 controls, DEL, a BOM, the
    /// non-characters U+FFFE and U+FFFF) and what libyaml would fold into a space inside quotes as a line
    /// break (NEL, U+2028, U+2029), so a `--system` holding one is saved, not refused or changed.
    private static func quote(_ text: String) -> String {
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\t": quoted += "\\t"
            case "\r": quoted += "\\r"
            case "\u{0}"..."\u{1F}", "\u{7F}"..."\u{9F}", "\u{2028}", "\u{2029}", "\u{FEFF}", "\u{FFFE}", "\u{FFFF}":
                let hex = String(scalar.value, radix: 16, uppercase: true)
                quoted += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }
}

/// Writes, lists and removes saved configs in a workflow folder.
public struct SavedConfigs: Sendable {
    /// The folder the configs live in.
    public var folder: URL

    /// A store over `folder`.
    public init(folder: URL) {
        self.folder = folder
    }

    /// `$XDG_CONFIG_HOME/refinery/workflows`, or `~/.config/refinery/workflows`.
    public static func userFolder(environment: [String: String]) -> URL {
        let base: String
        if let config = environment["XDG_CONFIG_HOME"], !config.isEmpty {
            base = config
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            base = (home as NSString).appendingPathComponent(".config")
        }
        return URL(fileURLWithPath: base).appendingPathComponent("refinery/workflows")
    }

    /// Whether `name` is a valid workflow name (`[a-z0-9][a-z0-9_-]*`).
    public static func isValidName(_ name: String) -> Bool {
        WorkflowLibrary.isValidName(name)
    }

    /// Writes `config` as `NAME.yaml`; refuses to overwrite unless `replace` is set. Returns the file.
    /// `check` sees the file's text and place before anything is written, and throws to refuse it
    /// (``RunService/save(_:in:replace:)`` compiles it there, so a file that would not compile is never written).
    @discardableResult
    public func save(
        _ config: SavedConfig, replace: Bool = false, check: (_ yaml: String, _ file: URL) throws -> Void = { _, _ in }
    ) throws -> URL {
        guard Self.isValidName(config.name) else { throw Self.invalidName(config.name) }
        guard config.models.allSatisfy({ !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
            throw InputError(code: .invalidOption, message: "A --model value is empty; write MODEL or MODEL:COUNT.")
        }
        if let min = config.minIterations, let max = config.maxIterations, min > max {
            throw InputError(
                code: .invalidOption,
                message: "--min-iterations (\(min)) is larger than --max-iterations (\(max)); swap or lower them.")
        }
        try checkFolder()
        let file = url(for: config.name)
        try check(config.yaml, file)
        if !replace && FileManager.default.fileExists(atPath: file.path) {
            throw InputError(
                code: .exists,
                message: "\(file.path) already exists; pass --force to replace it or choose another name.")
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(config.yaml.utf8).write(to: file, options: .atomic)
        } catch {
            throw InputError(code: .unreadable, message: "Cannot write \(file.path): \(error.localizedDescription)")
        }
        return file
    }

    /// Refuses a folder that is a file or a device, or lies under one (`--to /dev/null`, `--to notes.txt/sub`):
    /// creating it failed with Foundation's "A file with the same name already exists".
    private func checkFolder() throws {
        var path = folder.path
        while !path.isEmpty, path != "/" {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
                guard !isFolder.boolValue else { return }
                let kind = WorkflowFileSystem.notAFile(path) ?? "a file"
                let what = path == folder.path ? "it is" : "\(path) is"
                throw InputError(
                    code: .unreadable,
                    message: "Cannot save into \(folder.path): \(what) \(kind), not a folder; give a folder.")
            }
            path = (path as NSString).deletingLastPathComponent
        }
    }

    /// Names of the configs in the folder, sorted.
    public func list() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.filter(Self.isValidName).sorted()
    }

    /// The text of config `name`.
    public func show(_ name: String) throws -> String {
        guard Self.isValidName(name) else { throw Self.invalidName(name) }
        guard let data = FileManager.default.contents(atPath: url(for: name).path) else { throw notFound(name) }
        return String(decoding: data, as: UTF8.self)
    }

    /// Deletes config `name`. Returns the removed file.
    @discardableResult
    public func remove(_ name: String) throws -> URL {
        guard Self.isValidName(name) else { throw Self.invalidName(name) }
        let file = url(for: name)
        guard FileManager.default.fileExists(atPath: file.path) else { throw notFound(name) }
        do {
            try FileManager.default.removeItem(at: file)
        } catch {
            throw InputError(code: .unreadable, message: "Cannot remove \(file.path): \(error.localizedDescription)")
        }
        return file
    }

    /// Where config `name` lives (a name never escapes the folder: it has no `/` or `.`).
    public func url(for name: String) -> URL {
        folder.appendingPathComponent(name + ".yaml")
    }

    private static func invalidName(_ name: String) -> InputError {
        // A long name is shown cut: it is the problem, and printing 300 characters of it helps nobody.
        let shown = name.count > 60 ? name.prefix(60) + "… (\(name.count) characters)" : name
        return InputError(
            code: .invalidName,
            message: "\"\(shown)\" is not a valid name: use \(WorkflowCompiler.workflowNameRule).")
    }

    private func notFound(_ name: String) -> InputError {
        InputError(
            code: .notFound,
            message: "No saved config \(name) in \(folder.path); `refinery list` shows the workflows available.")
    }
}
