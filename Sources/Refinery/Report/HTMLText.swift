// Escaping for every text the report shows. The charts are built as strings in Swift and inserted raw,
// so every model id, member id or answer they carry passes through here first; the Mustache template
// escapes what it interpolates with the same function (``ReportTemplate``'s content type).

import Mustache
import RefinerySyntax

enum HTMLText {
    /// `text` with `& < > " '` replaced by entities: safe in element content and quoted attributes. Controls
    /// and bidirectional overrides are shown as the terminal shows them (`\x1B`, `\u{202E}`): a model's
    /// right-to-left override would otherwise show the rest of its answer in reverse.
    ///
    /// Scalar by scalar, not character by character: a quote followed by a combining mark (`"\u{301}`) is
    /// one `Character` that equals no quote, yet the browser reads its quote byte and ends the attribute.
    static func escape(_ text: some StringProtocol) -> String {
        var escaped = String.UnicodeScalarView()
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped.append(contentsOf: "&amp;".unicodeScalars)
            case "<": escaped.append(contentsOf: "&lt;".unicodeScalars)
            case ">": escaped.append(contentsOf: "&gt;".unicodeScalars)
            case "\"": escaped.append(contentsOf: "&quot;".unicodeScalars)
            case "'": escaped.append(contentsOf: "&#39;".unicodeScalars)
            case "\r": escaped.append(scalar)
            case _ where TerminalText.isControl(scalar):
                escaped.append(contentsOf: TerminalText.shown(scalar).unicodeScalars)
            default: escaped.append(scalar)
            }
        }
        return String(escaped)
    }

    /// ``escape(_:)`` as a Mustache content type: swift-mustache's own HTML escaping goes character by
    /// character and so lets a quote with a combining mark out of an attribute.
    struct ContentType: MustacheContentType {
        static let name = "REFINERY_HTML"
        /// Registered once, before the first report template is compiled.
        static let registered: Void = MustacheContentTypes.register(ContentType(), named: name)

        func escapeText(_ text: String) -> String { HTMLText.escape(text) }
    }

    /// An element with escaped attribute values; `content` is inserted as given (already escaped markup).
    static func element(_ name: String, _ attributes: KeyValuePairs<String, String>, _ content: String? = nil)
        -> String
    {
        let attributeText = attributes.map { " \($0.key)=\"\(escape($0.value))\"" }.joined()
        guard let content else { return "<\(name)\(attributeText)/>" }
        return "<\(name)\(attributeText)>\(content)</\(name)>"
    }

    /// A number for an SVG coordinate: one decimal, no exponent.
    static func coordinate(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        return String(Double((value * 10).rounded()) / 10)
    }
}
