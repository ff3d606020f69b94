// YAML 1.2 core-schema interpretation of plain scalars. Only `true`/`false` (and their
// capitalised forms) are booleans: `yes`, `no`, `on`, `off` stay strings, unlike YAML 1.1.

extension YAMLNode {
    /// `true`/`false` (also `True`, `TRUE`, ...) of a plain scalar without a non-bool tag; otherwise `nil`.
    public var bool: Bool? {
        guard let text = plainText(allowing: "tag:yaml.org,2002:bool") else { return nil }
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    /// A decimal, `0o` octal or `0x` hexadecimal integer of a plain scalar; otherwise `nil`.
    public var int: Int? {
        guard let text = plainText(allowing: "tag:yaml.org,2002:int") else { return nil }
        return Self.parseInt(text)
    }

    /// A number of a plain scalar (integers included, `.inf`, `-.inf`, `.nan`); otherwise `nil`.
    public var double: Double? {
        guard let text = plainText(allowing: "tag:yaml.org,2002:float") else { return nil }
        if let int = Self.parseInt(text) { return Double(int) }
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        guard Self.isDecimalFloat(text) else { return nil }
        return Double(text)
    }

    /// The text of any scalar that is not null; `nil` for null, sequences and mappings.
    ///
    /// Plain `42` or `true` are returned as text: callers wanting a string accept them.
    public var string: String? {
        guard let scalar, !isNull else { return nil }
        return scalar.value
    }

    /// Whether the node is a plain `null`, `Null`, `NULL`, `~` or empty scalar (or tagged `!!null`).
    public var isNull: Bool {
        guard let scalar else { return false }
        if tag == "tag:yaml.org,2002:null" { return true }
        guard scalar.style == .plain, tag == nil || tag == "!" else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.value)
    }

    private func plainText(allowing allowedTag: String) -> String? {
        guard let scalar else { return nil }
        if let tag, tag != allowedTag { return nil }
        if tag == nil, scalar.style != .plain { return nil }
        return scalar.value
    }

    private static func parseInt(_ text: String) -> Int? {
        if text.hasPrefix("0x") { return Int(text.dropFirst(2), radix: 16) }
        if text.hasPrefix("0o") { return Int(text.dropFirst(2), radix: 8) }
        var digits = Substring(text)
        if digits.first == "+" || digits.first == "-" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text.hasPrefix("+") ? String(text.dropFirst()) : text)
    }

    // The core schema's float regex: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    private static func isDecimalFloat(_ text: String) -> Bool {
        var chars = Substring(text)
        if chars.first == "+" || chars.first == "-" { chars = chars.dropFirst() }
        let mantissaEnd = chars.firstIndex { $0 == "e" || $0 == "E" } ?? chars.endIndex
        let mantissa = chars[..<mantissaEnd]
        let parts = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let isDigits = { (part: Substring) in part.allSatisfy { $0.isASCII && $0.isNumber } }
        guard parts.allSatisfy(isDigits), mantissa.contains(where: { $0.isNumber }) else { return false }
        guard mantissaEnd < chars.endIndex else { return true }
        var exponent = chars[chars.index(after: mantissaEnd)...]
        if exponent.first == "+" || exponent.first == "-" { exponent = exponent.dropFirst() }
        return !exponent.isEmpty && isDigits(exponent)
    }
}
