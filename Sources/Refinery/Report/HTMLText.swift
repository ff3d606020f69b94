// Escaping for the text the report's SVG is drawn with. The Mustache template escapes what it
// interpolates; the charts are built as strings in Swift and inserted raw, so every model id, member
// id or answer they carry passes through here first.

enum HTMLText {
    /// `text` with `& < > " '` replaced by entities: safe in element content and quoted attributes.
    static func escape(_ text: some StringProtocol) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
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
