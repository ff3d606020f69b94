// `refinery report ID`: a self-contained HTML page of what the ledger holds about a run, a batch or a
// bench. The id is looked up among the runs first, then among the batches and benches (BatchLedger).

import Foundation
import RefineryStore

extension RunService {
    /// What a report is about.
    public enum ReportSubject: Sendable, Hashable {
        /// A recorded run, by id or unique prefix.
        case run(String)
        /// A recorded batch or bench, by id or unique prefix.
        case batch(String)
        /// A run, else a batch or bench, by id or unique prefix (what `refinery report ID` takes).
        case any(String)
    }

    /// The HTML report of `subject`: one file, inline CSS and SVG, no script, no network.
    ///
    /// Throws the store's error when the id prefix is ambiguous, and ``InputError`` (`not_found`, exit 4)
    /// naming the commands that list ids when nothing has the id.
    public func report(_ subject: ReportSubject) async throws -> String {
        switch subject {
        case .run(let id):
            return RunReportPage.html(try await exportRun(id: id))
        case .batch(let id):
            return try await batchReport(id)
        case .any(let id):
            do {
                return RunReportPage.html(try await exportRun(id: id))
            } catch let error as StoreError where error.code == .notFound {
                do {
                    return try await batchReport(id)
                } catch let error as StoreError where error.code == .notFound {
                    throw InputError(
                        code: .notFound,
                        message: "No run, batch or bench with id `\(id)`. `refinery runs list` lists the runs, "
                            + "`refinery batch list` the batches and benches (an id's first characters are enough).",
                        cause: error)
                }
            }
        }
    }

    /// The page of a batch or bench, from its record and item rows.
    private func batchReport(_ id: String) async throws -> String {
        let (record, items) = try await withStore(.existing) { ledger in
            let record = try await ledger.batch(id: id)
            return (record, try await Self.spending(ofBatch: record.id, in: ledger))
        }
        return record.kind == "bench"
            ? BenchReportPage.html(record, items: items) : BatchReportPage.html(record, items: items)
    }
}
