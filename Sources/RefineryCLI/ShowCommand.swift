// `refinery show NAME`: the resolved workflow, where it came from and its git revision.

import ArgumentParser
import Foundation
import Refinery
import RefineryCompiler
import RefinerySyntax

struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a workflow resolved: members, arbiter, stages, origin, git revision.")

    @Argument(help: "A name, NAME@REV or a path.")
    var workflow: String

    @Option(help: "text or json (the checked workflow).")
    var outputFormat: ListingFormat = .text

    func run() async throws {
        try await withExitCode {
            let loaded = try await RunService.current().show(workflow)
            if outputFormat == .json {
                Output.line(try Output.json(loaded.workflow))
                return
            }
            Output.line(Self.describe(loaded))
        }
    }

    static func describe(_ loaded: LoadedWorkflow) -> String {
        let workflow = loaded.workflow
        let provenance = workflow.provenance
        var lines = ["\(workflow.name)\(workflow.version.map { " " + $0 } ?? "")"]
        if let description = workflow.description { lines.append(description) }
        lines.append("")
        lines.append("from:        \(loaded.located.origin.rawValue) \(provenance.path ?? loaded.located.displayName)")
        if let commit = provenance.gitCommit {
            var line = "revision:    \(commit)"
            if let revision = provenance.gitRevision { line += " (\(revision))" }
            if provenance.gitDirty == true { line += " + uncommitted changes" }
            lines.append(line)
        }
        if let sha = provenance.contentSHA256 { lines.append("sha256:      \(sha)") }
        if !provenance.extendsChain.isEmpty {
            lines.append("extends:     \(provenance.extendsChain.joined(separator: " → "))")
        }
        lines.append("members:")
        for member in workflow.members {
            lines.append(
                "  \(member.id): \(member.model)"
                    + (member.fallback.isEmpty
                        ? "" : " (fallback \(member.fallback.map(\.description).joined(separator: ", ")))"))
        }
        if let arbiter = workflow.arbiter {
            lines.append(
                "arbiter:     \(arbiter.model)"
                    + (arbiter.fallback.isEmpty
                        ? "" : " (fallback \(arbiter.fallback.map(\.description).joined(separator: ", ")))"))
        }
        // Rounds and convergence apply to the repeat block only: a chain without one runs once.
        if workflow.stages.contains(where: { if case .repeat = $0 { true } else { false } }) {
            lines.append("rounds:      \(workflow.iterations.min)...\(workflow.iterations.max)")
            lines.append("convergence: \(workflow.convergence.strategy.name)")
        } else {
            lines.append("rounds:      single pass (no repeat block)")
        }
        lines.append("stages:      \(Self.stages(workflow.stages))")
        lines.append("output:      \(workflow.output.rawValue)")
        let limits = workflow.limits
        lines.append(
            "limits:      timeout \(Int(limits.timeoutSeconds))s, \(limits.maxConcurrent) concurrent, "
                + "\(Counted.text(limits.retries, "retry", plural: "retries")), quorum \(limits.quorum)"
                + (limits.budgetUSD.map { ", budget \(TextFormat.dollars($0))" } ?? ""))
        for warning in loaded.warnings { lines.append("warning: \(warning)") }
        return lines.joined(separator: "\n")
    }

    static func stages(_ stages: [Stage]) -> String {
        stages.map { stage in
            if case .repeat(let inner) = stage { return "repeat[\(Self.stages(inner))]" }
            return stage.keyword
        }.joined(separator: " → ")
    }
}
