// The id argument of the commands that read one recorded run, batch or bench.

import ArgumentParser

/// Reads an id argument (`runs show ID`, `resume ID`, `report ID`, `batch resume|status ID`, `bench resume ID`).
///
/// An id is matched as a prefix, and an empty one (`''`, a script's unset variable) is no id at all: it is
/// refused as a usage error (exit 4) that says where the ids are listed, not looked up as "No run with id .".
enum RecordID {
    /// The transform for an `@Argument` naming a record of `kind`; `listing` is the command that lists them.
    static func parser(_ kind: String, listing: String) -> @Sendable (String) throws -> String {
        { text in
            guard text.contains(where: { !$0.isWhitespace }) else {
                throw ValidationError("the \(kind) id is empty; give an id (or its first characters) from `\(listing)`")
            }
            return text
        }
    }

    static let run = parser("run", listing: "refinery runs list")
    static let batch = parser("batch", listing: "refinery batch list")
    static let bench = parser("bench", listing: "refinery batch list")
    static let any = parser("run, batch or bench", listing: "refinery runs list` or `refinery batch list")
}
