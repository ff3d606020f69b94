// The limits that make `refinery mcp` safe to hand to an autonomous caller: a spend cap per call and
// per server process, workflows only from the search path, and files only from the working folder.

import Foundation
import Refinery
import RefineryCompiler

/// What an MCP client may make the server do.
public struct MCPSafety: Sendable {
    /// The default cap of one call, in US dollars: low, so an agent's mistake costs little.
    public static let defaultPerCall = 1.0
    /// The default cap of everything one server process spends, in US dollars.
    public static let defaultPerProcess = 5.0

    /// The most one `run_workflow` or `resume_run` may spend (its estimated maximum must fit).
    public var maxBudgetPerCall: Double
    /// The most all runs of this process may spend together.
    public var maxBudgetPerProcess: Double
    /// Whether a workflow may be named by a file path; off, only names on the search path and inline YAML
    /// (`workflow_yaml`, compiled in an empty folder) run.
    public var allowPaths: Bool

    /// Creates the limits.
    public init(
        maxBudgetPerCall: Double = MCPSafety.defaultPerCall, maxBudgetPerProcess: Double = MCPSafety.defaultPerProcess,
        allowPaths: Bool = false
    ) {
        self.maxBudgetPerCall = maxBudgetPerCall
        self.maxBudgetPerProcess = maxBudgetPerProcess
        self.allowPaths = allowPaths
    }

    /// A workflow argument the limits allow: a name or `NAME@REV`, or anything when paths are allowed.
    func checkTarget(_ target: String) throws(MCPToolError) {
        if !allowPaths && WorkflowLibrary.isPath(target) {
            throw MCPToolError(
                "workflow '\(target)' is a path; this server runs only workflows on the search path "
                    + "(list_workflows shows them). Start it with `refinery mcp --allow-paths` to allow files.")
        }
    }

    /// Throws unless `path` resolves inside `folder`: a file argument may not leave the working folder,
    /// through `..`, an absolute path or a symbolic link.
    static func checkInside(_ path: String, folder: URL) throws(MCPToolError) {
        let root = folder.standardizedFileURL.resolvingSymlinksInPath().path
        let resolved = URL(fileURLWithPath: path, relativeTo: folder).standardizedFileURL.resolvingSymlinksInPath()
            .path
        guard resolved == root || resolved.hasPrefix(root.hasSuffix("/") ? root : root + "/") else {
            throw MCPToolError(
                "file '\(path)' is outside the working folder \(root); give a path inside it.")
        }
    }
}
