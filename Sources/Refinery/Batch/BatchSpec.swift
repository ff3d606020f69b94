// What a batch records so `resume` can rebuild exactly its jobs: the flags it was started with and
// the content hash of each workflow it compiled (a changed file is refused rather than mixed in).

import Foundation
import RefineryCompiler

/// The recorded flags of a batch or bench (the `spec` column, JSON).
struct BatchSpec: Codable, Sendable {
    /// The workflow of a batch (empty for a bench).
    var target: String
    /// The input file (dataset), as given.
    var inputPath: String
    /// The input file's absolute path, resolved in the folder the batch started in: `resume` reads it there,
    /// whatever folder it runs in, and so do workers on other machines (its SHA-256 is checked). `nil` in
    /// batches recorded before it was (read from the current folder).
    var inputFile: String?
    /// `--field` (batch) or `--prompt-field` (bench).
    var field: String?
    /// `--reference-field` (bench).
    var referenceField: String?
    /// The systems of a bench, as given.
    var systems: [String]?
    /// `--grader` (bench).
    var grader: String?
    /// `--limit` (bench).
    var limit: Int?
    /// `--seed` as given (bench): it also picks the `--limit` sample.
    var sampleSeed: UInt64?
    var overrides: Overrides
    var seed: UInt64
    var concurrency: Int
    var maxBudgetUSD: Double?
    /// `--output`, as given.
    var output: String?
    /// ``output``'s absolute path, resolved in the folder the batch started in (as ``inputFile``): `resume`
    /// writes there, whatever folder it runs in. `nil` in batches recorded before it was.
    var outputFile: String?
    /// Each workflow path given (a batch's target, a bench's workflow systems; names and baselines are not
    /// paths) and its absolute path, resolved in the folder the batch started in: `resume` loads it from
    /// there. `nil` in batches recorded before it was (resolved in the current folder).
    var workflowFiles: [String: String]?
    /// Each compiled workflow's content SHA-256, by job workflow key.
    var workflowSHA256: [String: String]
    /// Each compiled workflow's git commit, when it has one (reproducibility of a bench table).
    var gitCommits: [String: String]
    /// Whether each compiled workflow with a git commit had uncommitted changes when the batch started (`nil` in
    /// batches recorded before it was): with ``gitCommits``, the revision a resumed bench's table names.
    var gitDirty: [String: Bool]? = nil

    /// ``WorkflowOverrides`` as recorded.
    struct Overrides: Codable, Sendable {
        var models: [String]?
        var arbiter: String?
        var threshold: Double?
        var minRounds: Int?
        var maxRounds: Int?
        var timeoutSeconds: Double?
        var maxConcurrent: Int?
        var budgetUSD: Double?
        var variables: [String: String]

        init(_ overrides: WorkflowOverrides) {
            models = overrides.models
            arbiter = overrides.arbiter
            threshold = overrides.threshold
            minRounds = overrides.minRounds
            maxRounds = overrides.maxRounds
            timeoutSeconds = overrides.timeoutSeconds
            maxConcurrent = overrides.maxConcurrent
            budgetUSD = overrides.budgetUSD
            variables = overrides.variables
        }

        var overrides: WorkflowOverrides {
            WorkflowOverrides(
                models: models, arbiter: arbiter, threshold: threshold, minRounds: minRounds, maxRounds: maxRounds,
                timeoutSeconds: timeoutSeconds, maxConcurrent: maxConcurrent, budgetUSD: budgetUSD,
                variables: variables)
        }
    }

    func json() throws -> String {
        String(decoding: try JSONEncoder.sortedKeys.encode(self), as: UTF8.self)
    }

    static func decode(_ text: String, batchID: String) throws -> BatchSpec {
        do {
            return try JSONDecoder().decode(BatchSpec.self, from: Data(text.utf8))
        } catch {
            throw InputError(
                code: .unreadable,
                message: "Batch \(batchID) was recorded by another version of Refinery and cannot be resumed here.",
                cause: error)
        }
    }
}

extension JSONEncoder {
    static var sortedKeys: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }
}
