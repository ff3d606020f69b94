// Typed reads from the node tree that report, rather than throw, every mismatch: the front
// end collects all problems in one pass. Each read returns nil after reporting.

import RefinerySyntax

/// The file a node came from (a workflow may merge nodes of several files through `extends`).
struct Origin: Hashable {
    /// Name used in diagnostics.
    var displayName: String
    /// Absolute path, for prompt files.
    var path: String?
    /// A command-line flag rather than a file: its diagnostics have no line and column.
    var commandLine = false
}

/// A key/value pair with the file it came from. `merged` holds the key-by-key merge of a
/// section (limits, iterations, convergence) whose entries may come from several files.
struct Field {
    var key: YAMLNode
    var value: YAMLNode
    var origin: Origin
    var merged: [Field]?

    var name: String { key.scalar?.value ?? "" }
}

/// Collects diagnostics for one compilation.
final class DiagnosticSink {
    private(set) var diagnostics: [Diagnostic] = []
    /// Keys suggested for misspelt ones: a "missing key" report would only repeat them.
    var suggestedKeys: Set<String> = []
    /// The names the workflow's prompt templates read: a `--var` of another name is shown by none.
    var templateNames: Set<String> = []

    var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    func add(_ diagnostic: Diagnostic) {
        diagnostics.append(diagnostic)
    }

    func add(contentsOf more: [Diagnostic]) {
        diagnostics.append(contentsOf: more)
    }

    /// The diagnostics grouped by file (in order of first appearance), in source order within a file.
    var sorted: [Diagnostic] {
        var fileOrder: [String: Int] = [:]
        for diagnostic in diagnostics where fileOrder[diagnostic.file ?? ""] == nil {
            fileOrder[diagnostic.file ?? ""] = fileOrder.count
        }
        return diagnostics.enumerated().sorted { lhs, rhs in
            let (l, r) = (lhs.element, rhs.element)
            let (lf, rf) = (fileOrder[l.file ?? ""] ?? 0, fileOrder[r.file ?? ""] ?? 0)
            if lf != rf { return lf < rf }
            let (ll, rl) = (
                l.location ?? SourceLocation(line: 0, column: 0), r.location ?? SourceLocation(line: 0, column: 0)
            )
            if ll != rl { return ll < rl }
            return lhs.offset < rhs.offset
        }.map(\.element)
    }
}

/// Reads typed values out of nodes of one file, reporting problems to a sink.
struct NodeReader {
    let origin: Origin
    let sink: DiagnosticSink

    func error(
        _ code: String, _ message: String, at node: YAMLNode, hint: String? = nil, notes: [Diagnostic.Note] = []
    ) {
        sink.add(
            Diagnostic(
                code: code, severity: .error, message: message, file: origin.displayName,
                location: origin.commandLine ? nil : node.location,
                hint: hint, notes: notes))
    }

    func warning(_ code: String, _ message: String, at node: YAMLNode, hint: String? = nil) {
        sink.add(
            Diagnostic(
                code: code, severity: .warning, message: message, file: origin.displayName,
                location: origin.commandLine ? nil : node.location,
                hint: hint))
    }

    func typeError(_ node: YAMLNode, expected: String, in context: String, hint: String? = nil) {
        // An explicit tag (`!!str 1`) decides the type whatever the text looks like: say so, or `1` reads as fine.
        let tag = node.tag.map(Self.shortTag).flatMap { $0 == "!" ? nil : $0 }
        var found =
            node.isNull
            ? "nothing"
            : node.kindName == "scalar" ? "`\(Self.excerpt(node.scalar?.value ?? ""))`" : "a \(node.kindName)"
        if let tag { found += " tagged `\(tag)`" }
        let quoted = node.scalar.map { $0.style != .plain } ?? false
        let fallback =
            if let tag {
                "remove the tag `\(tag)`: a tag sets the value's type, whatever its text"
            } else if quoted && expected != "a string" {
                "remove the quotes: quoted values are always strings"
            } else {
                "write \(expected) here"
            }
        error(FrontCode.wrongType, "\(context) must be \(expected), found \(found)", at: node, hint: hint ?? fallback)
    }

    /// `tag:yaml.org,2002:str` as it is written, `!!str`.
    private static func shortTag(_ tag: String) -> String {
        let core = "tag:yaml.org,2002:"
        return tag.hasPrefix(core) ? "!!" + tag.dropFirst(core.count) : tag
    }

    /// A scalar shortened for a message: the first line, at most 40 characters (a file that is one long
    /// scalar must not flood the terminal).
    static func excerpt(_ value: String) -> String {
        let firstLine = value.prefix { $0 != "\n" && $0 != "\r" }
        guard firstLine.count > 40 || firstLine.count < value.count else { return value }
        return String(firstLine.prefix(40)) + "…"
    }

    /// The pairs of a mapping with allowed keys checked; unknown keys are reported (with a suggestion).
    func fields(
        _ node: YAMLNode, allowed: [String], context: String, hint: String? = nil
    ) -> [Field]? {
        // `limits:` with every entry commented out is an empty section, not a type error.
        if node.isNull { return [] }
        guard let pairs = node.mapping else {
            typeError(node, expected: "a mapping", in: context, hint: hint)
            return nil
        }
        var result: [Field] = []
        for pair in pairs {
            guard let key = pair.key.scalar?.value else {
                error(FrontCode.wrongType, "keys of \(context) must be plain words", at: pair.key)
                continue
            }
            guard allowed.contains(key) else {
                let closest = Suggestions.closest(to: key, in: allowed)
                if let closest { sink.suggestedKeys.insert(closest) }
                let suggestion = closest.map { "did you mean `\($0)`?" }
                let known = "\(context) takes: " + allowed.map { "`\($0)`" }.joined(separator: ", ")
                error(
                    FrontCode.unknownKey, "unknown key `\(key)` in \(context)", at: pair.key,
                    hint: suggestion ?? known)
                continue
            }
            result.append(Field(key: pair.key, value: pair.value, origin: origin))
        }
        return result
    }

    func string(_ node: YAMLNode, _ context: String) -> String? {
        guard let text = node.string else {
            typeError(node, expected: "a string", in: context)
            return nil
        }
        return text
    }

    func bool(_ node: YAMLNode, _ context: String) -> Bool? {
        guard let value = node.bool else {
            typeError(node, expected: "`true` or `false`", in: context)
            return nil
        }
        return value
    }

    func int(_ node: YAMLNode, _ context: String, min: Int? = nil, max: Int? = nil) -> Int? {
        guard let value = node.int else {
            typeError(node, expected: "a whole number", in: context)
            return nil
        }
        return checkRange(value, node, context, min: min, max: max)
    }

    func double(_ node: YAMLNode, _ context: String, min: Double? = nil, max: Double? = nil) -> Double? {
        guard let value = node.double, !value.isNaN else {
            typeError(node, expected: "a number", in: context)
            return nil
        }
        guard value.isFinite else {
            // `1e400` (or a flag's value that read as infinity): a number, out of every setting's range.
            let bound = Self.bound(min: min, max: max)
            error(
                FrontCode.outOfRange,
                "\(context) must be \(max == nil ? "a finite number" : bound), found \(Self.describe(value))", at: node,
                hint: "use a value \(bound)")
            return nil
        }
        return checkRange(value, node, context, min: min, max: max)
    }

    private func checkRange<T: Comparable>(_ value: T, _ node: YAMLNode, _ context: String, min: T?, max: T?) -> T? {
        guard min.map({ value < $0 }) == true || max.map({ value > $0 }) == true else { return value }
        let bound = Self.bound(min: min, max: max)
        error(
            FrontCode.outOfRange, "\(context) must be \(bound), found \(Self.describe(value))", at: node,
            hint: "use a value \(bound)")
        return nil
    }

    /// `between 0 and 1`, `at least 0`, `at most 10`.
    static func bound<T: Comparable>(min: T?, max: T?) -> String {
        switch (min, max) {
        case (let min?, let max?): "between \(describe(min)) and \(describe(max))"
        case (let min?, nil): "at least \(describe(min))"
        case (nil, let max?): "at most \(describe(max))"
        case (nil, nil): "in range"
        }
    }

    /// Numbers as a user writes them: `3`, not `3.0`; an infinite one as what it was (`1e400`, past a double's
    /// range), not `inf`.
    static func describe(_ value: some Comparable) -> String {
        if let double = value as? Double {
            if double.isInfinite { return "a number too large to represent" }
            if double == double.rounded(), abs(double) < 1e15 { return String(Int(double)) }
        }
        return "\(value)"
    }

    /// One of a fixed set of words, with a suggestion for near misses.
    func choice<E: RawRepresentable & CaseIterable>(_ node: YAMLNode, _ context: String, as: E.Type) -> E?
    where E.RawValue == String {
        guard let text = node.string else {
            typeError(
                node, expected: "one of " + E.allCases.map { "`\($0.rawValue)`" }.joined(separator: ", "), in: context)
            return nil
        }
        if let value = E(rawValue: text) { return value }
        invalidWord(text, in: E.allCases.map(\.rawValue), context, at: node)
        return nil
    }

    /// Reports `text` as not one of `names` (E106), suggesting the nearest one.
    func invalidWord(_ text: String, in names: [String], _ context: String, at node: YAMLNode) {
        error(
            FrontCode.invalidValue, "`\(text)` is not a valid \(context)", at: node,
            hint: Suggestions.didYouMean(text, in: names)
                ?? "use one of " + names.map { "`\($0)`" }.joined(separator: ", "))
    }

    /// A duration in seconds: `90s`, `2m`, `1h`, `500ms`, or a plain number of seconds. At least 1 ms:
    /// the engine counts time in milliseconds, so `1e-300` was a timeout of 0 that every call failed.
    func duration(_ node: YAMLNode, _ context: String) -> Double? {
        let seconds: Double?
        if let number = node.double {
            seconds = number.isFinite ? number : nil
        } else if let text = node.string {
            seconds = Self.parseDuration(text)
        } else {
            seconds = nil
        }
        guard let seconds else {
            error(
                FrontCode.invalidDuration, "\(context) is not a duration", at: node,
                hint: "write a duration such as `90s`, `2m`, `1h`, `500ms`, or a number of seconds")
            return nil
        }
        guard seconds >= 0.001 else {
            error(
                FrontCode.outOfRange, "\(context) must be at least 1 ms, found \(Self.describe(seconds)) s", at: node,
                hint: "write a duration such as `500ms`, `90s` or `2m`")
            return nil
        }
        guard seconds <= Self.maxDurationSeconds else {
            error(
                FrontCode.outOfRange, "\(context) is longer than a week", at: node,
                hint: "use at most `168h`; a run that should wait longer should be split")
            return nil
        }
        return seconds
    }

    /// Longest duration accepted (a week): longer values are mistakes, and clocks take
    /// durations as 64-bit integers that an `1e300s` would overflow.
    static let maxDurationSeconds = 7 * 24 * 3600.0

    static func parseDuration(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                let value = Double(number)
            else { return nil }
            return value * factor
        }
        return nil
    }

    /// A string or a list of strings.
    func stringList(_ node: YAMLNode, _ context: String) -> [String]? {
        if let items = node.sequence {
            let strings = items.compactMap { item -> String? in
                guard item.scalar != nil else {
                    typeError(item, expected: "a string", in: "each entry of \(context)")
                    return nil
                }
                return string(item, "each entry of \(context)")
            }
            return strings.count == items.count ? strings : nil
        }
        return string(node, context).map { [$0] }
    }
}

/// Seconds in a duration text (`90s`, `2m`, `1h`, `500ms`), or `nil`: the workflow's duration
/// syntax, for other files that take durations (providers.yaml).
package func parseDurationSeconds(_ text: String) -> Double? { NodeReader.parseDuration(text) }
