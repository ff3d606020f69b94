// `refinery report ID`: a self-contained HTML page of what the ledger holds. Runs only for now; batch
// and bench reports join as further ReportSubject cases once those records exist.

import Foundation
import RefineryStore

extension RunService {
    /// What a report is about.
    public enum ReportSubject: Sendable, Hashable {
        /// A recorded run, by id or unique prefix.
        case run(String)
    }

    /// The HTML report of `subject`: one file, inline CSS and SVG, no script, no network.
    ///
    /// Throws the store's error when the run is unknown or the id prefix is ambiguous.
    public func report(_ subject: ReportSubject) async throws -> String {
        switch subject {
        case .run(let id):
            RunReportPage.html(try await exportRun(id: id))
        }
    }
}
