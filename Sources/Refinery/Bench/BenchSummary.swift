// The numbers of a bench table, computed from its per-item results: per system accuracy with a 95 %
// Wilson interval, cost, calls, tokens and latency; a paired (McNemar) comparison of every system with
// the best single model; and how many samples of a `vote:MODEL:K` baseline cost what a workflow costs.
// A pure function of its inputs, summed in dataset order, so a resumed bench prints what an
// uninterrupted one would.

package import Foundation
package import RefineryCompiler

/// The dataset a bench ran on.
package struct BenchDatasetInfo: Sendable, Hashable, Codable {
    /// The dataset file as named on the command line.
    package var path: String
    /// SHA-256 of the file's bytes (lower-case hex).
    package var sha256: String
    /// Items in the bench (after `--limit`).
    package var items: Int

    /// Creates the information.
    package init(path: String, sha256: String, items: Int) {
        self.path = path
        self.sha256 = sha256
        self.items = items
    }

    /// The information of a dataset file read from `contents`, `items` of whose rows the bench runs.
    package init(path: String, contents: some DataProtocol, items: Int) {
        self.init(path: path, sha256: WorkflowCompiler.sha256Hex(contents), items: items)
    }
}

/// Every number of a bench's table and JSON document.
package struct BenchSummary: Sendable, Hashable, Encodable {
    /// The version of the JSON document's shape (`schemas/bench-output.schema.json`); bumped on a breaking change.
    package static let currentFormatVersion = 1

    /// One system's row.
    package struct System: Sendable, Hashable, Codable {
        /// The system's ``BenchSystem/name``.
        package var name: String
        /// correct ÷ total (0 when nothing was graded).
        package var accuracy: Double
        /// Items answered correctly.
        package var correct: Int
        /// Items graded (failed runs included, as incorrect).
        package var total: Int
        /// 95 % Wilson score interval of the accuracy, `[low, high]`.
        package var ci95: [Double]
        /// Items with no answer the grader could read.
        package var unanswered: Int
        /// Total cost in US dollars.
        @Dollars package var costUSD: Double
        /// Total model calls.
        package var calls: Int
        /// Total input tokens.
        package var inputTokens: Int
        /// Total output tokens.
        package var outputTokens: Int
        /// Mean run latency in seconds.
        package var latencyMeanSeconds: Double
        /// 95th percentile (nearest rank) of run latency in seconds.
        package var latencyP95Seconds: Double
        /// costUSD ÷ correct; `nil` with no correct answer.
        @OptionalDollars package var costPerCorrectUSD: Double?
        /// The paired comparison with ``BenchSummary/baseline``; `nil` for the baseline itself.
        package var versusBaseline: Comparison?
        /// For each `vote:MODEL:K` baseline of the bench, how many of its samples cost what this system
        /// costs per item (workflows and `vote` only).
        package var equalCostSamples: [CostMatch]
        /// What the system ran, when the caller gave it: the workflow's file, revision and members.
        package var workflow: WorkflowInfo?

        enum CodingKeys: String, CodingKey {
            case name, accuracy, correct, total, ci95, unanswered, calls
            case costUSD = "cost_usd"
            case inputTokens = "input_tokens"
            case outputTokens = "output_tokens"
            case latencyMeanSeconds = "latency_mean_seconds"
            case latencyP95Seconds = "latency_p95_seconds"
            case costPerCorrectUSD = "cost_per_correct_usd"
            case versusBaseline = "versus_baseline"
            case equalCostSamples = "equal_cost_samples"
            case workflow
        }
    }

    /// Where a system's workflow came from, so its row can be reproduced.
    package struct WorkflowInfo: Sendable, Hashable, Codable {
        /// The workflow's `name`.
        package var name: String
        /// Its file, or `builtin:NAME`.
        package var path: String?
        /// SHA-256 of the file's bytes.
        package var contentSHA256: String?
        /// The git commit of the file (at the revision asked for, else HEAD).
        package var gitCommit: String?
        /// The revision asked for (`NAME@REV`).
        package var gitRevision: String?
        /// Whether the file had uncommitted changes.
        package var gitDirty: Bool?
        /// Each member's `provider/model`, in member order.
        package var models: [String]

        /// The provenance and members of a compiled workflow.
        package init(_ workflow: Workflow) {
            name = workflow.name
            path = workflow.provenance.path
            contentSHA256 = workflow.provenance.contentSHA256
            gitCommit = workflow.provenance.gitCommit
            gitRevision = workflow.provenance.gitRevision
            gitDirty = workflow.provenance.gitDirty
            models = workflow.members.map(\.model.description)
        }

        enum CodingKeys: String, CodingKey {
            case name, path, models
            case contentSHA256 = "content_sha256"
            case gitCommit = "git_commit"
            case gitRevision = "git_revision"
            case gitDirty = "git_dirty"
        }
    }

    /// A paired comparison of two systems on the items both were graded on.
    package struct Comparison: Sendable, Hashable, Codable {
        /// The reference system's name.
        package var baseline: String
        /// Items both systems were graded on.
        package var items: Int
        /// Items this system got right and the baseline wrong.
        package var won: Int
        /// Items the baseline got right and this system wrong.
        package var lost: Int
        /// Two-sided exact McNemar p-value of `won` against `lost`.
        package var pValue: Double

        enum CodingKeys: String, CodingKey {
            case baseline, items, won, lost
            case pValue = "p_value"
        }
    }

    /// The number of samples of a `vote:MODEL:K` baseline that costs what a system costs per item:
    /// the system's mean cost per item ÷ the baseline's mean cost per call (one call is one sample).
    package struct CostMatch: Sendable, Hashable, Codable {
        /// The `vote:MODEL:K` system the samples are of.
        package var baseline: String
        /// Its model.
        package var model: String
        /// Its mean cost per sample in US dollars.
        @Dollars package var costPerSampleUSD: Double
        /// The compared system's mean cost per item in US dollars.
        @Dollars package var costPerItemUSD: Double
        /// costPerItemUSD ÷ costPerSampleUSD.
        package var samples: Double

        enum CodingKeys: String, CodingKey {
            case baseline, model, samples
            case costPerSampleUSD = "cost_per_sample_usd"
            case costPerItemUSD = "cost_per_item_usd"
        }
    }

    /// One dataset item and every system's result on it.
    package struct Item: Sendable, Hashable, Codable {
        /// A system's result on the item.
        package struct Result: Sendable, Hashable, Codable {
            /// The extracted answer that was graded (`nil` when unanswered).
            package var answer: String?
            /// Whether it is correct.
            package var correct: Bool
            /// The run's status.
            package var status: String
            /// The run's id in the ledger.
            package var runID: String?

            enum CodingKeys: String, CodingKey {
                case answer, correct, status
                case runID = "run_id"
            }

            /// Encodes every key, absent values as `null`.
            package func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(answer, forKey: .answer)
                try container.encode(correct, forKey: .correct)
                try container.encode(status, forKey: .status)
                try container.encode(runID, forKey: .runID)
            }
        }

        /// The item's id.
        package var id: String
        /// System name → its result, for each system that has one.
        package var results: [String: Result]
    }

    /// The version of this document's shape.
    package var formatVersion: Int
    /// The bench's id (its batch id in the ledger).
    package var benchID: String
    /// The dataset.
    package var dataset: BenchDatasetInfo
    /// The bench's default grader (a row may name its own).
    package var grader: String
    /// The system every other is compared with: the most accurate `single:` system, else the most
    /// accurate system (ties: the cheaper, then the first listed); `nil` with no result.
    package var baseline: String?
    /// One row per system, in the order they were listed.
    package var systems: [System]
    /// One entry per item, in dataset order.
    package var items: [Item]
    /// Every result, in dataset order then system order (the per-item JSONL output).
    package var results: [BenchItemResult]

    enum CodingKeys: String, CodingKey {
        case dataset, grader, baseline, systems, items
        case formatVersion = "format_version"
        case benchID = "bench_id"
    }

    /// Encodes every key: `baseline` is `null` when nothing was graded (every item failed), as the
    /// schema requires, rather than missing.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(formatVersion, forKey: .formatVersion)
        try container.encode(benchID, forKey: .benchID)
        try container.encode(dataset, forKey: .dataset)
        try container.encode(grader, forKey: .grader)
        try container.encode(baseline, forKey: .baseline)
        try container.encode(systems, forKey: .systems)
        try container.encode(items, forKey: .items)
    }

    /// Summarises `results` of `systems` on the items `itemIDs` (in dataset order).
    ///
    /// A result for a system or item not listed is ignored; when a system has two results for one item the
    /// later one counts. Items a system has no result for yet (an unfinished bench) are left out of its
    /// total, and of its paired comparisons. `workflows` (system name → the workflow it ran, e.g.
    /// ``LoadedWorkflow/workflow``) adds each system's file, revision and members to the JSON document.
    package init(
        benchID: String, dataset: BenchDatasetInfo, grader: Grader, systems: [String], itemIDs: [String],
        results: some Sequence<BenchItemResult>, workflows: [String: Workflow] = [:]
    ) {
        let itemIndex = Dictionary(itemIDs.enumerated().map { ($1, $0) }) { first, _ in first }
        let systemIndex = Dictionary(systems.enumerated().map { ($1, $0) }) { first, _ in first }
        // grid[system][item]: sums below run in this fixed order, whatever order results arrived in.
        var grid = [[BenchItemResult?]](
            repeating: [BenchItemResult?](repeating: nil, count: itemIDs.count),
            count: systems.count)
        for result in results {
            guard let row = systemIndex[result.system], let column = itemIndex[result.itemID] else { continue }
            grid[row][column] = result
        }
        var rows = zip(systems, grid).map { name, column in Self.row(name, column.compactMap { $0 }) }
        let baselineIndex = Self.baselineIndex(rows)
        for index in rows.indices {
            rows[index].workflow = workflows[rows[index].name].map(WorkflowInfo.init)
            if let baselineIndex, index != baselineIndex {
                rows[index].versusBaseline = Self.compare(
                    grid[index], with: grid[baselineIndex], baseline: rows[baselineIndex].name)
            }
            if let system = try? BenchSystem(parsing: rows[index].name), !system.isSingleModel,
                system.selfConsistencySamples == nil
            {
                rows[index].equalCostSamples = Self.costMatches(rows[index], among: rows)
            }
        }
        self.formatVersion = Self.currentFormatVersion
        self.benchID = benchID
        self.dataset = dataset
        self.grader = grader.name
        self.baseline = baselineIndex.map { rows[$0].name }
        self.systems = rows
        self.items = itemIDs.indices.map { column in
            var results: [String: Item.Result] = [:]
            for row in systems.indices {
                if let result = grid[row][column] {
                    results[systems[row]] = Item.Result(
                        answer: result.answer, correct: result.correct, status: result.status, runID: result.runID)
                }
            }
            return Item(id: itemIDs[column], results: results)
        }
        self.results = itemIDs.indices.flatMap { column in systems.indices.compactMap { grid[$0][column] } }
    }

    private static func row(_ name: String, _ results: [BenchItemResult]) -> System {
        let correct = results.count { $0.correct }
        let total = results.count
        let interval = BenchStatistics.wilson(correct: correct, total: total)
        let cost = results.reduce(0) { $0 + $1.costUSD }
        let latencies = results.map(\.latencySeconds).sorted()
        // Nearest rank: the smallest latency at or above 95 % of the runs.
        let p95 = latencies.isEmpty ? 0 : latencies[max(0, Int((0.95 * Double(latencies.count)).rounded(.up)) - 1)]
        return System(
            name: name, accuracy: total == 0 ? 0 : Double(correct) / Double(total), correct: correct, total: total,
            ci95: [interval.lowerBound, interval.upperBound], unanswered: results.count(where: \.unanswered),
            costUSD: cost, calls: results.reduce(0) { $0 + $1.calls },
            inputTokens: results.reduce(0) { $0 + $1.inputTokens },
            outputTokens: results.reduce(0) { $0 + $1.outputTokens },
            latencyMeanSeconds: latencies.isEmpty ? 0 : results.reduce(0) { $0 + $1.latencySeconds } / Double(total),
            latencyP95Seconds: p95, costPerCorrectUSD: correct == 0 ? nil : cost / Double(correct),
            versusBaseline: nil, equalCostSamples: [], workflow: nil)
    }

    /// The most accurate `single:` row, else the most accurate row; ties go to the cheaper, then the first.
    private static func baselineIndex(_ rows: [System]) -> Int? {
        let graded = rows.indices.filter { rows[$0].total > 0 }
        let singles = graded.filter { (try? BenchSystem(parsing: rows[$0].name))?.isSingleModel == true }
        let candidates = singles.isEmpty ? graded : singles
        return candidates.min { a, b in
            (-rows[a].accuracy, rows[a].costUSD, a) < (-rows[b].accuracy, rows[b].costUSD, b)
        }
    }

    private static func compare(
        _ system: [BenchItemResult?], with baseline: [BenchItemResult?], baseline name: String
    ) -> Comparison {
        var items = 0
        var won = 0
        var lost = 0
        for (mine, theirs) in zip(system, baseline) {
            guard let mine, let theirs else { continue }
            items += 1
            if mine.correct && !theirs.correct { won += 1 }
            if theirs.correct && !mine.correct { lost += 1 }
        }
        return Comparison(
            baseline: name, items: items, won: won, lost: lost, pValue: BenchStatistics.mcnemarExactP(b: won, c: lost))
    }

    private static func costMatches(_ row: System, among rows: [System]) -> [CostMatch] {
        guard row.total > 0 else { return [] }
        let costPerItem = row.costUSD / Double(row.total)
        return rows.compactMap { other in
            guard let samples = (try? BenchSystem(parsing: other.name))?.selfConsistencySamples, other.calls > 0,
                other.costUSD > 0
            else { return nil }
            let costPerSample = other.costUSD / Double(other.calls)
            return CostMatch(
                baseline: other.name, model: samples.model, costPerSampleUSD: costPerSample,
                costPerItemUSD: costPerItem, samples: costPerItem / costPerSample)
        }
    }
}
