// YAML text → located node tree. Enforces what libyaml does not: size, UTF-8, one document,
// unique keys, nesting depth, defined aliases and an alias-expansion budget (alias bombs).

/// Parses YAML 1.2 text into a ``YAMLNode`` tree.
///
/// ```swift
/// let root = try YAMLParser.parse(Array(text.utf8), file: "review.yaml")
/// ```
public enum YAMLParser {
    /// Parses one YAML document.
    ///
    /// - Parameters:
    ///   - bytes: the raw file content (UTF-8; validated before parsing).
    ///   - file: the name used in diagnostics.
    ///   - limits: size, depth and alias-expansion bounds.
    /// - Returns: the document's root node, or `nil` when the input holds no document or only a null.
    /// - Throws: ``YAMLSyntaxError`` with located diagnostics for every refusal.
    public static func parse(
        _ bytes: some Collection<UInt8>, file: String?, limits: YAMLLimits = .default
    ) throws(YAMLSyntaxError) -> YAMLNode? {
        let bytes = Array(bytes)
        if bytes.count > limits.maxBytes {
            throw YAMLSyntaxError(
                Diagnostic(
                    code: SyntaxCode.fileTooLarge,
                    message: "the file is \(bytes.count) bytes; the limit is \(limits.maxBytes) bytes",
                    file: file, location: SourceLocation(line: 1, column: 1),
                    hint: "split the file, or move long prompts into separate prompt files"))
        }
        if let (location, byte) = UTF8Check.firstInvalidByte(in: bytes) {
            let hex = "0x" + String(byte, radix: 16, uppercase: true)
            // Windows editors' "Unicode" is UTF-16, which starts with its byte order mark.
            let utf16 = bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF])
            throw YAMLSyntaxError(
                Diagnostic(
                    code: SyntaxCode.invalidUTF8,
                    message: "the file is not valid UTF-8 (byte \(hex))" + (utf16 ? ": it is UTF-16" : ""),
                    file: file, location: location,
                    hint: "save the file as UTF-8"
                        + (utf16 ? " (in the editor's encoding menu, not UTF-16 or \"Unicode\")" : "")))
        }
        // Editors on Windows start UTF-8 files with a byte order mark; libyaml, told the input is
        // UTF-8, would read it as content. Columns on line 1 count from after it, as editors show.
        let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        guard body.contains(where: { !Self.isBlank($0) }) else { return nil }
        var builder = TreeBuilder(reader: YAMLEventReader(bytes: body, file: file), file: file, limits: limits)
        let root = try builder.document()
        return root?.isNull == true && root?.tag == nil ? nil : root
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
            || byte == UInt8(ascii: "\t")
    }
}
