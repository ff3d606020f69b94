// The small pieces between MCP's JSON values and RunService: typed argument reading and JSON
// conversion.

import Foundation
import MCP
import Refinery
import RefinerySyntax

/// A tool call's arguments, read with a clear error for a missing or mistyped one.
struct MCPArguments: Sendable {
    let values: [String: Value]

    init(_ values: [String: Value]) { self.values = values }

    func string(_ key: String) throws(MCPToolError) -> String? {
        guard let value = values[key], value != .null else { return nil }
        guard let text = value.stringValue else { throw MCPToolError("`\(key)` must be a string.") }
        return text
    }

    func requiredString(_ key: String) throws(MCPToolError) -> String {
        guard let text = try string(key), !text.isEmpty else { throw MCPToolError("`\(key)` is required.") }
        return text
    }

    func int(_ key: String) throws(MCPToolError) -> Int? {
        guard let value = values[key], value != .null else { return nil }
        if let number = value.intValue { return number }
        // `1e20` is whole but no Int: refused like `2.5`, not taken as "not given".
        if let number = value.doubleValue, number == number.rounded(), let whole = Int(exactly: number) { return whole }
        throw MCPToolError("`\(key)` must be a whole number.")
    }

    func double(_ key: String) throws(MCPToolError) -> Double? {
        guard let value = values[key], value != .null else { return nil }
        if let number = value.doubleValue { return number }
        if let number = value.intValue { return Double(number) }
        throw MCPToolError("`\(key)` must be a number.")
    }

    /// A list of strings; a single comma-separated string is accepted too (`"a,b,c"`).
    func strings(_ key: String) throws(MCPToolError) -> [String]? {
        guard let value = values[key], value != .null else { return nil }
        if let text = value.stringValue {
            return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        guard let array = value.arrayValue else { throw MCPToolError("`\(key)` must be a list of strings.") }
        return try array.map { item throws(MCPToolError) in
            guard let text = item.stringValue else { throw MCPToolError("`\(key)` must be a list of strings.") }
            return text
        }
    }
}

/// Codable values to MCP values and back to text, with the CLI's JSON conventions.
enum MCPJSON {
    static func value<T: Encodable>(_ value: T) throws -> Value {
        try JSONDecoder().decode(Value.self, from: try OutputJSON.encoder().encode(value))
    }

    /// `value` as pretty JSON, DEL, C1 and bidirectional controls in its strings written as `\uHHHH`: a client
    /// that shows the text (on a terminal, in a chat) shows them, not obeys them, and a JSON parser reads the
    /// exact strings back.
    static func text(_ value: Value) -> String {
        TerminalText.escaped((try? OutputJSON.text(value, pretty: true)) ?? "\(value)")
    }
}
