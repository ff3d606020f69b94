// Where credentials and base URLs come from: the process environment merged with a `.env`
// file. The real environment wins, so a key exported in the shell overrides the file.

import Foundation
import RefineryCompiler
import RefineryRuntime

/// The variables providers read: the injected environment over the `.env` file's entries.
public struct ProviderEnvironment: Sendable, Hashable {
    /// The merged variables.
    public private(set) var variables: [String: String]

    /// Merges `environment` over `dotEnv` (the environment wins on a conflict).
    public init(environment: [String: String], dotEnv: [String: String] = [:]) {
        variables = dotEnv.merging(environment) { _, real in real }
    }

    /// `environment` (the process environment when `nil`) merged over `.env` in `dotEnvDirectory`
    /// (the current directory when `nil`). A missing or unreadable `.env` counts as empty.
    public static func load(environment: [String: String]? = nil, dotEnvDirectory: String? = nil) -> ProviderEnvironment
    {
        let environment = environment ?? ProcessInfo.processInfo.environment
        let directory = dotEnvDirectory ?? FileManager.default.currentDirectoryPath
        let path = (directory as NSString).appendingPathComponent(".env")
        // Bounded, regular files only (a FIFO named .env must not hang); not UTF-8 counts as empty.
        let bytes = (try? WorkflowFileSystem.readRegularFile(path)) ?? []
        let text = String(validating: bytes, as: UTF8.self) ?? ""
        return ProviderEnvironment(environment: environment, dotEnv: parseDotEnv(text))
    }

    /// A variable's value; empty values count as unset.
    public subscript(name: String) -> String? {
        guard let value = variables[name], !value.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        return value
    }

    /// The first of `names` that is set, with its value.
    public func first(of names: [String]) -> (name: String, value: String)? {
        for name in names { if let value = self[name] { return (name, value) } }
        return nil
    }

    /// Values of variables named like credentials (`*KEY*`, `*TOKEN*`, `*SECRET*`,
    /// `*PASSWORD*`), and the password of any URL a variable holds (`OPENAI_BASE_URL=https://u:p@…`),
    /// for the ``Redactor``.
    package var secretValues: [String] {
        variables.flatMap { name, value -> [String] in
            let upper = name.uppercased()
            let named = ["KEY", "TOKEN", "SECRET", "PASSWORD"].contains { upper.contains($0) }
            return (named && value.count >= 8 ? [value] : []) + Redactor.urlCredentials(value)
        }
    }

    /// Parses `.env` text: `KEY=VALUE` lines, optional `export `, `#` comments, single or double
    /// quotes (double quotes understand `\n`), trailing ` # comment` after unquoted values.
    public static func parseDotEnv(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        // A byte order mark (Windows editors) would otherwise hide the first variable.
        let text = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { continue }
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if let quote = value.first, quote == "\"" || quote == "'", value.count >= 2,
                let close = value.dropFirst().lastIndex(of: quote)
            {
                value = String(value[value.index(after: value.startIndex)..<close])
                if quote == "\"" { value = value.replacingAll("\\n", with: "\n").replacingAll("\\\"", with: "\"") }
            } else if let hash = value.range(of: " #") {
                value = value[..<hash.lowerBound].trimmingCharacters(in: .whitespaces)
            }
            result[key] = value
        }
        return result
    }
}

// Printing, debug-printing or dumping the environment shows variable names only.
extension ProviderEnvironment: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// `ProviderEnvironment(NAME, NAME, ...)`, names only.
    public var description: String { "ProviderEnvironment(\(variables.keys.sorted().joined(separator: ", ")))" }
    /// Same as ``description``.
    public var debugDescription: String { description }
    /// A mirror listing the names only.
    public var customMirror: Mirror { Mirror(self, children: ["names": variables.keys.sorted()]) }
}
