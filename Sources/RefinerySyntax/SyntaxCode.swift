// The stable codes of the syntax layer's diagnostics (docs/diagnostics.md lists them all).
// Codes are never reused: a retired check keeps its number.

/// Diagnostic codes raised by ``YAMLParser``.
package enum SyntaxCode {
    /// The input is larger than ``YAMLLimits/maxBytes``.
    package static let fileTooLarge = "Y001"
    /// The input is not valid UTF-8.
    package static let invalidUTF8 = "Y002"
    /// libyaml rejected the text.
    package static let syntax = "Y003"
    /// A mapping repeats a key.
    package static let duplicateKey = "Y004"
    /// The stream holds more than one document.
    package static let multipleDocuments = "Y005"
    /// Sequences/mappings nest deeper than ``YAMLLimits/maxDepth``.
    package static let tooDeep = "Y006"
    /// `*name` without a preceding `&name`.
    package static let undefinedAlias = "Y007"
    /// Alias expansion exceeded ``YAMLLimits/maxAliasExpansion`` or ``YAMLLimits/maxAliasBytes``.
    package static let aliasBudget = "Y008"
    /// A `<<` merge key.
    package static let mergeKey = "Y009"

    /// Every code, for documentation checks.
    package static let all: [String] = [
        fileTooLarge,
        invalidUTF8,
        syntax,
        duplicateKey,
        multipleDocuments,
        tooDeep,
        undefinedAlias,
        aliasBudget,
        mergeKey,
    ]
}
