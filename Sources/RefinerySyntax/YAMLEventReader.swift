// The only code that touches libyaml: it owns a heap-allocated `yaml_parser_t` (the struct
// points into itself, so it must not move) and a stable copy of the input, and turns each
// libyaml event into a Swift value before freeing it.

internal import CYAML

/// One libyaml event, copied out of C memory. Marks are already 1-based.
struct YAMLEvent {
    enum Kind {
        case streamStart, streamEnd, documentStart, documentEnd
        case scalar(value: String, style: YAMLScalar.Style)
        case alias(name: String)
        case sequenceStart
        case sequenceEnd
        case mappingStart
        case mappingEnd
    }

    var kind: Kind
    var start: SourceLocation
    var end: SourceLocation
    var anchor: String?
    var tag: String?
}

/// Pulls events from libyaml over an owned copy of the input.
final class YAMLEventReader {
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let input: UnsafeMutableBufferPointer<UInt8>
    private let bytes: [UInt8]
    private let file: String?

    init(bytes: [UInt8], file: String?) {
        self.bytes = bytes
        self.file = file
        input = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        yaml_parser_initialize(parser)
        yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(parser, input.baseAddress, bytes.count)
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
        input.deallocate()
    }

    /// The next event, or the libyaml error as a located diagnostic.
    func next() throws(YAMLSyntaxError) -> YAMLEvent {
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) == 1 else { throw YAMLSyntaxError(parserError()) }
        defer { yaml_event_delete(&event) }
        let start = Self.location(event.start_mark)
        let end = Self.location(event.end_mark)
        switch event.type {
        case YAML_STREAM_START_EVENT:
            return YAMLEvent(kind: .streamStart, start: start, end: end)
        case YAML_STREAM_END_EVENT:
            return YAMLEvent(kind: .streamEnd, start: start, end: end)
        case YAML_DOCUMENT_START_EVENT:
            return YAMLEvent(kind: .documentStart, start: start, end: end)
        case YAML_DOCUMENT_END_EVENT:
            return YAMLEvent(kind: .documentEnd, start: start, end: end)
        case YAML_ALIAS_EVENT:
            return YAMLEvent(kind: .alias(name: Self.string(event.data.alias.anchor) ?? ""), start: start, end: end)
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let value = scalar.value.map {
                String(decoding: UnsafeBufferPointer(start: $0, count: scalar.length), as: UTF8.self)
            }
            return YAMLEvent(
                kind: .scalar(value: value ?? "", style: Self.style(scalar.style)), start: start, end: end,
                anchor: Self.string(scalar.anchor), tag: Self.string(scalar.tag))
        case YAML_SEQUENCE_START_EVENT:
            let data = event.data.sequence_start
            return YAMLEvent(
                kind: .sequenceStart, start: start, end: end, anchor: Self.string(data.anchor),
                tag: Self.string(data.tag))
        case YAML_SEQUENCE_END_EVENT:
            return YAMLEvent(kind: .sequenceEnd, start: start, end: end)
        case YAML_MAPPING_START_EVENT:
            let data = event.data.mapping_start
            return YAMLEvent(
                kind: .mappingStart, start: start, end: end, anchor: Self.string(data.anchor),
                tag: Self.string(data.tag))
        case YAML_MAPPING_END_EVENT:
            return YAMLEvent(kind: .mappingEnd, start: start, end: end)
        default:
            // YAML_NO_EVENT: libyaml produced nothing although it reported success.
            throw YAMLSyntaxError(
                Diagnostic(
                    code: SyntaxCode.syntax, message: "the YAML parser stopped unexpectedly", file: file,
                    location: start, hint: "check the file for truncated or malformed YAML"))
        }
    }

    /// libyaml's error: the problem at its mark, and the open context (if any) as a note.
    private func parserError() -> Diagnostic {
        let state = parser.pointee
        let problem = Self.string(state.problem) ?? "malformed YAML"
        let location: SourceLocation
        if state.error == YAML_READER_ERROR {
            location = UTF8Check.location(ofByteOffset: state.problem_offset, in: bytes)
        } else {
            location = Self.location(state.problem_mark)
        }
        var notes: [Diagnostic.Note] = []
        if let context = Self.string(state.context) {
            notes.append(Diagnostic.Note(message: context, location: clamped(Self.location(state.context_mark))))
        }
        return Diagnostic(
            code: SyntaxCode.syntax, message: "YAML syntax error: \(problem)", file: file, location: clamped(location),
            hint: Self.hint(for: problem), notes: notes)
    }

    /// libyaml reports an error at the end of input one line past the last one when the file
    /// does not end with a newline; point at the end of the last line instead.
    private func clamped(_ location: SourceLocation) -> SourceLocation {
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        guard location.line > lines.count, let last = lines.last else { return location }
        let width = last.count { $0 & 0xC0 != 0x80 }
        return SourceLocation(line: lines.count, column: width + 1)
    }

    private static func hint(for problem: String) -> String {
        if problem.contains("tab") || problem.contains("cannot start any token") {
            return "indent with spaces, not tabs, and quote values that start with `@`, `` ` `` or `%`"
        }
        if problem.contains("mapping values are not allowed") {
            return "quote the value if it contains `: `, or fix the indentation of this line"
        }
        if problem.contains("did not find expected") {
            return "check the indentation and the closing brackets/quotes around this point"
        }
        return "fix the YAML syntax at this point (check indentation, quotes and brackets)"
    }

    private static func location(_ mark: yaml_mark_t) -> SourceLocation {
        SourceLocation(line: mark.line + 1, column: mark.column + 1)
    }

    private static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    private static func style(_ style: yaml_scalar_style_t) -> YAMLScalar.Style {
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: .literal
        case YAML_FOLDED_SCALAR_STYLE: .folded
        default: .plain
        }
    }
}
