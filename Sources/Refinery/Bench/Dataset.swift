// A dataset for `refinery bench` and `refinery batch`: JSONL (one object a line) or CSV (a header
// row), read into items with an id, a prompt, a reference and optionally the row's own grader.

internal import Foundation
internal import RefineryCompiler
internal import RefineryRuntime

/// One row of a dataset.
package struct DatasetItem: Sendable, Hashable {
    /// The row's `id`, else its line number (1-based, data lines only for CSV).
    package var id: String
    /// The text sent as the prompt.
    package var prompt: String
    /// The reference answer, when the row has one.
    package var reference: String?
    /// The row's own grader (`grader` column), when it names one.
    package var grader: Grader?
    /// Every field of the row as text (per-item variables).
    package var fields: [String: String]
    /// The row's line in its file (where an error about it points), when it was read from one.
    package var line: Int? = nil

    /// The item as messages name it: `file:line: item `id``.
    package func location(in path: String) -> String {
        "\(path)\(line.map { ":\($0)" } ?? ""): item `\(id)`"
    }
}

/// Reads datasets, with the row's location in every error.
package enum Dataset {
    /// Where a row's prompt, reference and id are read from: the first field present of each list,
    /// unless the command line names one.
    package static let promptFields = ["question", "prompt", "input"]
    package static let referenceFields = ["answer", "reference", "target"]

    /// Reads `text` as JSONL, or as CSV when `path` ends in `.csv`. A leading UTF-8 byte order mark
    /// (spreadsheets write one) is not part of the first field, and CRLF ends a line as LF does.
    /// `promptFlag` is the command's flag that names the prompt field, quoted in the hint.
    package static func read(
        _ text: String, path: String, promptField: String? = nil, referenceField: String? = nil,
        promptFlag: String = "--prompt-field"
    ) throws(InputError) -> [DatasetItem] {
        let text = text.unicodeScalars.first == "\u{FEFF}" ? String(text.unicodeScalars.dropFirst()) : text
        let rows = path.lowercased().hasSuffix(".csv") ? try csvRows(text, path: path) : try jsonlRows(text, path: path)
        guard !rows.isEmpty else {
            throw InputError(code: .empty, message: "\(path): the dataset has no rows.")
        }
        var seen: [String: Int] = [:]
        return try rows.map { (line, fields) throws(InputError) -> DatasetItem in
            let promptKey = promptField ?? promptFields.first { fields[$0] != nil }
            // A field that is there but empty (`""`, `null`, an empty CSV cell) is a blank prompt, below.
            guard let promptKey, let prompt = fields[promptKey] else {
                throw InputError(
                    code: .unreadable,
                    message: "\(path):\(line): no prompt: the row has no "
                        + (promptField.map { "`\($0)`" } ?? "`question`, `prompt` or `input`")
                        + " field. Name the field with \(promptFlag).")
            }
            // What `refinery run` refuses before any call, a row's prompt is refused too: nothing to ask, or
            // more than a run may send.
            guard !prompt.allSatisfy(\.isWhitespace) else {
                throw InputError(
                    code: .empty,
                    message: "\(path):\(line): no prompt: the row's `\(promptKey)` is blank. Give the row a "
                        + "question, or remove it.")
            }
            guard prompt.utf8.count <= InputAssembler.defaultByteLimit else {
                throw InputError(
                    code: .tooLarge,
                    message: "\(path):\(line): the row's `\(promptKey)` is \(prompt.utf8.count) bytes; a prompt "
                        + "may be at most \(InputAssembler.defaultByteLimit) bytes (1 MB), as for `refinery run`. "
                        + "Shorten it, or remove the row.")
            }
            let referenceKey = referenceField ?? referenceFields.first { fields[$0] != nil }
            var grader: Grader?
            if let name = fields["grader"], !name.isEmpty {
                guard let named = Grader(name) else {
                    throw InputError(
                        code: .unreadable,
                        message: "\(path):\(line): \(Grader.refusal(name))")
                }
                grader = named
            }
            let id = fields["id"].flatMap { $0.isEmpty ? nil : $0 } ?? String(line)
            if let first = seen[id] {
                throw InputError(
                    code: .unreadable, message: "\(path):\(line): id `\(id)` repeats the row at line \(first).")
            }
            seen[id] = line
            return DatasetItem(
                id: id, prompt: prompt, reference: referenceKey.flatMap { fields[$0] }, grader: grader, fields: fields,
                line: line)
        }
    }

    /// The items a bench runs: every item, or `limit` of them: the first `limit` in file order, or with
    /// `seed` a sample drawn by that seed (the items whose SHA-256 of `seed|id` is smallest, so the same
    /// seed draws the same sample on every machine and a resumed bench the same items). File order is kept.
    package static func select(_ items: [DatasetItem], limit: Int?, seed: UInt64? = nil) -> [DatasetItem] {
        guard let limit, limit < items.count else { return items }
        guard let seed else { return Array(items.prefix(max(limit, 0))) }
        let ranks = items.map { WorkflowCompiler.sha256Hex(Array("\(seed)|\($0.id)".utf8)) }
        let chosen = Set(items.indices.sorted { (ranks[$0], $0) < (ranks[$1], $1) }.prefix(max(limit, 0)))
        return items.indices.filter(chosen.contains).map { items[$0] }
    }

    /// Checks that every item can be graded: it has a reference, and its grader (the row's own, else
    /// `grader`) reads a value from it, so a bench never pays for runs it cannot grade.
    ///
    /// - Throws: ``InputError`` (exit 4) naming the first item that cannot be graded, with what to do.
    package static func checkGradable(
        _ items: [DatasetItem], path: String, grader: Grader, referenceField: String? = nil
    ) throws(InputError) {
        for item in items {
            guard let reference = item.reference, !reference.allSatisfy(\.isWhitespace) else {
                // A field that is there but empty (`""`, `null`, an empty CSV cell) is a blank reference.
                if item.reference != nil,
                    let key = referenceField ?? referenceFields.first(where: { item.fields[$0] != nil })
                {
                    throw InputError(
                        code: .unreadable,
                        message: "\(item.location(in: path)) has no reference: the row's `\(key)` is blank. Give the "
                            + "row its reference, or remove it.")
                }
                throw InputError(
                    code: .unreadable,
                    message: "\(item.location(in: path)) has no reference: "
                        + "the row has no "
                        + (referenceField.map { "`\($0)`" }
                            ?? referenceFields.map { "`\($0)`" }.joined(separator: ", "))
                        + " field. Name the field with --reference-field.")
            }
            let itemGrader = item.grader ?? grader
            guard itemGrader.expected(reference) != nil else {
                throw InputError(
                    code: .unreadable,
                    message:
                        "\(item.location(in: path)): the \(itemGrader.name) grader reads nothing from its "
                        + "reference `\(reference.prefix(60))`. Choose another grader with --grader or a `grader` "
                        + "column.")
            }
        }
    }

    /// `(line, fields)` of each non-blank line; values that are not strings become their JSON text.
    private static func jsonlRows(_ text: String, path: String) throws(InputError) -> [(Int, [String: String])] {
        var rows: [(Int, [String: String])] = []
        for (index, line) in lines(of: text).enumerated() {
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            guard case .object(let pairs) = LenientJSON.parse(String(line)) else {
                throw InputError(
                    code: .unreadable,
                    message: "\(path):\(index + 1): not a JSON object; a JSONL dataset has one object a line.")
            }
            var fields: [String: String] = [:]
            for pair in pairs {
                // Two values for one field: which one is the prompt (or the reference) would be a guess, as
                // for a CSV header naming a column twice.
                guard fields[pair.key] == nil else {
                    throw InputError(
                        code: .unreadable,
                        message: "\(path):\(index + 1): the row names `\(pair.key)` twice; keep one.")
                }
                fields[pair.key] = Self.text(pair.value)
            }
            rows.append((index + 1, fields))
        }
        return rows
    }

    /// The lines of `text`, cut at each LF (a CRLF's CR is not part of its line). Cut on the UTF-8 bytes,
    /// not the `Character`s (grapheme breaking, ~370 instructions a byte: the most of reading a batch's
    /// input, Benchmarks/README.md): a line feed never joins what follows it into one `Character`, and the
    /// only one it ends is CRLF, so the lines are the same.
    private static func lines(of text: String) -> [Substring] {
        var lines: [Substring] = []
        var start = text.startIndex
        while let end = text.utf8[start...].firstIndex(of: UInt8(ascii: "\n")) {
            let beforeEnd = end > start ? text.utf8.index(before: end) : end
            lines.append(text[start..<(text.utf8[beforeEnd] == UInt8(ascii: "\r") ? beforeEnd : end)])
            start = text.utf8.index(after: end)
        }
        lines.append(text[start...])
        return lines
    }

    /// A field's value as text: strings as they are, whole numbers without `.0`, other values as JSON.
    private static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let string): return string
        case .number(let number):
            return number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return ""
        case .array(let items): return "[" + items.map(text).joined(separator: ",") + "]"
        case .object(let pairs):
            return "{" + pairs.map { "\"\($0.key)\":" + text($0.value) }.joined(separator: ",") + "}"
        }
    }

    /// RFC 4180 CSV: a header row, quoted fields with `""` for a quote, newlines inside quotes.
    private static func csvRows(_ text: String, path: String) throws(InputError) -> [(Int, [String: String])] {
        var records: [(line: Int, fields: [String])] = []
        var field = ""
        var fields: [String] = []
        var quoted = false
        var line = 1
        var recordLine = 1
        var iterator = text.makeIterator()
        var pending: Character? = nil
        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty) { records.append((recordLine, fields)) }
            fields = []
            field = ""
        }
        while let character = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if character == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { field.append("\"") } else { quoted = false; pending = next }
                    } else {
                        quoted = false
                    }
                } else {
                    if character == "\n" || character == "\r\n" { line += 1 }
                    field.append(character)
                }
                continue
            }
            switch character {
            case "\"" where field.isEmpty: quoted = true
            case ",":
                fields.append(field)
                field = ""
            case "\n", "\r\n", "\r":
                endRecord()
                line += 1
                recordLine = line
            default: field.append(character)
            }
        }
        if quoted {
            throw InputError(code: .unreadable, message: "\(path):\(recordLine): a quoted field is never closed.")
        }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        guard let header = records.first else { return [] }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        // Two columns with one name: which one is the prompt (or the reference) would be a guess.
        var seen = Set<String>()
        if let twice = names.first(where: { !$0.isEmpty && !seen.insert($0).inserted }) {
            throw InputError(
                code: .unreadable,
                message: "\(path):\(header.line): the header names the column `\(twice)` twice; rename one of them.")
        }
        return try records.dropFirst().map { record throws(InputError) in
            guard record.fields.count == names.count else {
                throw InputError(
                    code: .unreadable,
                    message: "\(path):\(record.line): \(record.fields.count) fields, the header has \(names.count).")
            }
            return (record.line, Dictionary(zip(names, record.fields), uniquingKeysWith: { first, _ in first }))
        }
    }
}
