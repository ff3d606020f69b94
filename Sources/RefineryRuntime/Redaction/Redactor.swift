// Keeps credentials out of everything Refinery prints, logs or stores. Providers run every
// logged request and response, and every error text, through one `Redactor` built from the
// credentials the run loaded; the ledger passes every error it stores through one too, so a key
// a server echoes back reaches neither a terminal, a log, the ledger nor an export.

import Foundation

/// Replaces credentials with `[REDACTED]` in texts, header lists and URLs.
///
/// A redactor knows the secret values themselves (the keys read from the environment), so it
/// also catches a key that a server echoes back in an error body, or one placed in a URL, in
/// whatever form the server chose: literal, JSON-escaped (`\u0073k-…`, `\/`), percent-encoded
/// (`sk%2D…`), base64 or base64url (alone or inside a longer encoded value, as in
/// `Basic …`), and split across lines (a wrapped log line, a `\n` in JSON). Any text is also
/// cleared of strings shaped like well-known keys (`sk-…`, `AIza…`, `Bearer …`), in case a
/// key the run never loaded shows up. Header values are redacted by name: `authorization`,
/// `x-api-key`, `x-goog-api-key`, and any header whose name contains `key`, `token`, `secret`
/// or `auth`.
public struct Redactor: Sendable, Hashable {
    /// What replaces a secret.
    public static let placeholder = "[REDACTED]"

    /// The secret values to hide, longest first so a key containing another is hidden whole.
    private var secrets: [String]
    /// The byte patterns searched for: each secret, then the parts of its base64 and base64url
    /// encodings that do not depend on the bytes around it; longest first.
    private var needles: [[UInt8]]
    /// Which bytes can start a match: a needle's first byte, `%` and `\` (escapes).
    private var starts: [Bool]

    /// Creates a redactor for `secrets`. Values shorter than 4 characters are ignored: hiding
    /// them would mangle ordinary text and they are not credentials.
    public init(secrets: [String] = []) {
        self.secrets = Set(secrets.filter { $0.count >= 4 }).sorted {
            $0.count > $1.count || ($0.count == $1.count && $0 < $1)
        }
        var needles = Set<[UInt8]>()
        for secret in self.secrets {
            needles.insert(Array(secret.utf8))
            for core in Self.base64Cores(Array(secret.utf8)) { needles.insert(core) }
        }
        self.needles = needles.sorted {
            $0.count > $1.count || ($0.count == $1.count && $0.lexicographicallyPrecedes($1))
        }
        var starts = Array(repeating: false, count: 256)
        for needle in self.needles { if let first = needle.first { starts[Int(first)] = true } }
        starts[Int(UInt8(ascii: "%"))] = true
        starts[Int(UInt8(ascii: "\\"))] = true
        self.starts = starts
    }

    /// A redactor that also hides `more`.
    public func adding(_ more: some Sequence<String>) -> Redactor {
        Redactor(secrets: secrets + Array(more))
    }

    /// How many secrets it hides.
    public var count: Int { secrets.count }

    /// `text` with every known secret (in any of the encodings above), every `key=…`/`token=…`
    /// URL query value, and every key-shaped string replaced.
    ///
    /// Redact a whole text before cutting an excerpt from it: a cut through a key would leave
    /// part of it unrecognised.
    public func redact(_ text: String) -> String {
        var result = needles.isEmpty ? text : redactNeedles(text)
        result = Self.redactQueryCredentials(result)
        result = Self.redactURLPasswords(result)
        return Self.redactKeyShapes(result)
    }

    /// `text` with every known secret, in any of the encodings ``redact(_:)`` finds, replaced; nothing else.
    ///
    /// For a model's answer: a server or agent that echoes its key back there must not get it printed, stored or
    /// sent to the other members, but an answer may well show an example `sk-…` key, a `Bearer` header or a URL
    /// with a `token=` parameter, which ``redact(_:)`` would hide as well.
    public func redactCredentials(_ text: String) -> String {
        needles.isEmpty ? text : redactNeedles(text)
    }

    /// Whether `text` holds one of the known secrets of at least ``credentialLength`` characters, in any of
    /// the encodings ``redact(_:)`` hides. Key shapes and URL credentials alone do not count (a prompt may
    /// well show an example `sk-…`), nor do short values: a local server's placeholder key (`none`, `EMPTY`,
    /// `ollama`) is an ordinary word a prompt may hold.
    public func holdsSecret(_ text: String) -> Bool {
        let credentials = secrets.filter { $0.count >= Self.credentialLength }
        guard !credentials.isEmpty else { return false }
        return Redactor(secrets: credentials).redactNeedles(text) != text
    }

    /// The shortest value ``holdsSecret(_:)`` takes for a credential (real API keys are 30 characters and more).
    public static let credentialLength = 16

    /// Whether a header with this name carries a credential.
    public static func isSensitiveHeader(_ name: String) -> Bool {
        let lower = name.lowercased()
        return ["authorization", "proxy-authorization", "cookie", "set-cookie"].contains(lower)
            || ["key", "token", "secret", "auth"].contains { lower.contains($0) }
    }

    /// Headers with sensitive values replaced and every other value passed through ``redact(_:)``.
    public func redactHeaders(_ headers: [(String, String)]) -> [(String, String)] {
        headers.map { name, value in
            (name, Self.isSensitiveHeader(name) ? Self.placeholder : redact(value))
        }
    }

    // MARK: - Secret values in any encoding

    private func redactNeedles(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var changed = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            // Only a byte that can start an encoded character is worth a closer look.
            if starts[Int(byte)] {
                if let end = needles.lazy.compactMap({ Self.match($0, in: bytes, at: index) }).first {
                    output += Self.placeholder.utf8
                    index = end
                    changed = true
                    continue
                }
            }
            output.append(byte)
            index += 1
        }
        return changed ? String(decoding: output, as: UTF8.self) : text
    }

    /// The end of `needle` found at `start`, each of its bytes written literally, as `%XX`,
    /// as `\uXXXX` or as `\` + punctuation, with line breaks allowed between them; else `nil`.
    private static func match(_ needle: [UInt8], in bytes: [UInt8], at start: Int) -> Int? {
        var position = start
        for (offset, expected) in needle.enumerated() {
            if offset > 0 { position = skipLineBreak(bytes, at: position) }
            guard let next = matchByte(expected, in: bytes, at: position) else { return nil }
            position = next
        }
        return position
    }

    private static func matchByte(_ expected: UInt8, in bytes: [UInt8], at position: Int) -> Int? {
        guard position < bytes.count else { return nil }
        let byte = bytes[position]
        if byte == expected { return position + 1 }
        if byte == UInt8(ascii: "%"), let value = hex(bytes, position + 1, digits: 2), value == Int(expected) {
            return position + 3
        }
        guard byte == UInt8(ascii: "\\"), position + 1 < bytes.count else { return nil }
        let escaped = bytes[position + 1]
        if escaped == UInt8(ascii: "u"), let value = hex(bytes, position + 2, digits: 4), value == Int(expected) {
            return position + 6
        }
        // JSON writes `/` as `\/`; other escapers put a backslash before any punctuation.
        let isPunctuation =
            expected < 0x80 && !(Character(Unicode.Scalar(expected)).isLetter)
            && !(Character(Unicode.Scalar(expected)).isNumber)
        return escaped == expected && isPunctuation ? position + 2 : nil
    }

    /// Past a line break (`\n`, `\r\n`, or JSON's `\n`/`\r` escapes) and the indentation after it.
    private static func skipLineBreak(_ bytes: [UInt8], at start: Int) -> Int {
        var position = start
        var sawBreak = false
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                position += 1
            } else if byte == UInt8(ascii: "\\"), position + 1 < bytes.count,
                bytes[position + 1] == UInt8(ascii: "n") || bytes[position + 1] == UInt8(ascii: "r")
            {
                position += 2
            } else {
                break
            }
            sawBreak = true
        }
        guard sawBreak else { return start }
        while position < bytes.count, bytes[position] == UInt8(ascii: " ") || bytes[position] == UInt8(ascii: "\t") {
            position += 1
        }
        return position
    }

    private static func hex(_ bytes: [UInt8], _ start: Int, digits: Int) -> Int? {
        guard start + digits <= bytes.count else { return nil }
        var value = 0
        for byte in bytes[start..<(start + digits)] {
            guard let digit = Character(Unicode.Scalar(byte)).hexDigitValue else { return nil }
            value = value * 16 + digit
        }
        return value
    }

    /// The stretches of base64 (and base64url) text that encode `secret` wherever it sits in
    /// the encoded value: for each of the three alignments, the characters whose six bits all
    /// come from the secret. Secrets under 8 bytes give none (too short to be told from text).
    private static func base64Cores(_ secret: [UInt8]) -> [[UInt8]] {
        guard secret.count >= 8 else { return [] }
        var cores: [[UInt8]] = []
        for shift in 0..<3 {
            let encoded = Array(Data(Array(repeating: 0, count: shift) + secret).base64EncodedString().utf8)
            let first = (8 * shift + 5) / 6
            let end = (8 * (shift + secret.count)) / 6
            guard end - first >= 8 else { continue }
            let core = Array(encoded[first..<end])
            cores.append(core)
            let url = core.map {
                $0 == UInt8(ascii: "+") ? UInt8(ascii: "-") : $0 == UInt8(ascii: "/") ? UInt8(ascii: "_") : $0
            }
            if url != core { cores.append(url) }
        }
        return cores
    }

    // MARK: - Credentials by shape

    /// Strings shaped like well-known credentials, for keys the run never loaded.
    private static let keyShapes: [NSRegularExpression] = [
        #"(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-]{8,}"#,  // OpenAI and Anthropic keys, OAuth tokens
        #"(?<![A-Za-z0-9])AIza[0-9A-Za-z_\-]{20,}"#,  // Google API keys
        // Not a `.` at the end: the full stop after the credential in a sentence.
        #"(?i)\bbearer\s+[A-Za-z0-9._\-]{8,}(?<!\.)"#,
        #"(?i)\b(x-api-key|x-goog-api-key|api[_-]?key)["']?\s*[:=]\s*["']?[A-Za-z0-9._\-]{8,}(?<!\.)"#,
        #"(?i)\bkey=[A-Za-z0-9._\-]{16,}(?<!\.)"#,
    ].compactMap { try? NSRegularExpression(pattern: $0) }

    private static func redactKeyShapes(_ text: String) -> String {
        var result = text
        for pattern in keyShapes {
            let range = NSRange(result.startIndex..., in: result)
            result = pattern.stringByReplacingMatches(in: result, range: range, withTemplate: placeholder)
        }
        return result
    }

    /// The credentials a URL carries, as written and decoded: the password of its user part
    /// (`scheme://user:password@host`), a user part that is a token by itself (`scheme://TOKEN@host`, at least
    /// ``credentialLength`` characters), and the value of each query parameter named like a credential
    /// (`?code=`, `?key=`, `?token=`, `?sig=`) or long enough to be one (``credentialLength``; not
    /// `api-version=2024-02-01`). A base URL (in providers.yaml or a `*_BASE_URL` variable) may carry any of
    /// them, and each is as secret as a key.
    package static func urlCredentials(_ url: String) -> [String] {
        guard url.contains("://"), let components = URLComponents(string: url) else { return [] }
        var found: [String] = []
        if let encoded = components.percentEncodedPassword, !encoded.isEmpty {
            found += [encoded, components.password].compactMap { $0 }
        } else if let encoded = components.percentEncodedUser, encoded.count >= credentialLength {
            found += [encoded, components.user].compactMap { $0 }
        }
        for item in components.percentEncodedQueryItems ?? [] {
            guard let encoded = item.value, !encoded.isEmpty,
                isCredentialParameter(item.name) || encoded.count >= credentialLength
            else { continue }
            found += [encoded, encoded.removingPercentEncoding].compactMap { $0 }
        }
        return found
    }

    /// Whether a URL query parameter with this name carries a credential.
    private static func isCredentialParameter(_ name: String) -> Bool {
        let name = name.lowercased()
        return name.hasSuffix("key") || name.hasSuffix("token") || name.contains("secret")
            || name.contains("password") || ["sig", "signature", "code", "auth"].contains(name)
    }

    /// `scheme://user:password@` with the password replaced, wherever a URL with credentials is written
    /// in a text (an error naming the base URL it could not reach), whether the run loaded it or not.
    private static let urlPassword = try? NSRegularExpression(pattern: #"(://[^\s/:@"'<>]*):[^\s/"'<>]+@"#)

    private static func redactURLPasswords(_ text: String) -> String {
        guard let urlPassword, text.contains("://") else { return text }
        let range = NSRange(text.startIndex..., in: text)
        return urlPassword.stringByReplacingMatches(in: text, range: range, withTemplate: "$1:\(placeholder)@")
    }

    /// Replaces the values of query parameters named like credentials (`key=`, `api_key=`,
    /// `token=`, `access_token=`, `password=`, `sig=`, `code=`), in case a URL with one is ever logged.
    /// A parameter starts after `?` or `&`, written or JSON-escaped (`\u0026`, as Go's encoder writes `&`).
    /// Only the value is replaced (``queryValueEnd(_:from:)``): the punctuation after a URL in a sentence, the
    /// quote closing it in JSON, stay.
    private static func redactQueryCredentials(_ text: String) -> String {
        guard text.contains("=") else { return text }
        var output = ""
        output.reserveCapacity(text.utf8.count)
        var index = text.startIndex
        while index < text.endIndex {
            guard let nameStart = parameterStart(text, at: index) else {
                output.append(text[index])
                index = text.index(after: index)
                continue
            }
            output += text[index..<nameStart]
            index = nameStart
            // Read a parameter name.
            var nameEnd = index
            while nameEnd < text.endIndex, text[nameEnd].isLetter || text[nameEnd] == "_" || text[nameEnd] == "-" {
                nameEnd = text.index(after: nameEnd)
            }
            guard nameEnd < text.endIndex, text[nameEnd] == "=" else { continue }
            guard isCredentialParameter(String(text[index..<nameEnd])) else { continue }
            let valueStart = text.index(after: nameEnd)
            let valueEnd = queryValueEnd(text, from: valueStart)
            output += text[index..<valueStart]
            if valueEnd > valueStart { output += placeholder }
            index = valueEnd
        }
        return output
    }

    /// Where a query parameter may start at `index`: after a `?` or `&` there, or after its JSON escape.
    private static func parameterStart(_ text: String, at index: String.Index) -> String.Index? {
        let character = text[index]
        if character == "?" || character == "&" { return text.index(after: index) }
        guard character == "\\", let (scalar, end) = unicodeEscape(text, at: index), scalar == "&" || scalar == "?"
        else { return nil }
        return end
    }

    /// The end of a query value starting at `start`: before whitespace, a quote, `&`, `#`, `<`, `>` (written or
    /// JSON-escaped) or another backslash escape (`\"` in JSON held in a JSON string), and before the punctuation
    /// that ends a sentence or closes a bracket the value did not open (`(see https://…?key=…).`). A value keeps
    /// a JSON-escaped `/` (`\/`) and any other character escaped as `\uXXXX`.
    private static func queryValueEnd(_ text: String, from start: String.Index) -> String.Index {
        func ends(_ character: Character) -> Bool {
            character.isWhitespace || "&#\"'<>`".contains(character)
        }
        var position = start
        while position < text.endIndex {
            let character = text[position]
            if ends(character) { break }
            if character == "\\" {
                let next = text.index(after: position)
                if next < text.endIndex, text[next] == "/" {
                    position = text.index(after: next)
                    continue
                }
                guard let (scalar, end) = unicodeEscape(text, at: position), !ends(Character(scalar)) else { break }
                position = end
                continue
            }
            position = text.index(after: position)
        }
        var value = text[start..<position]
        let closers: [Character: Character] = [")": "(", "]": "[", "}": "{"]
        while let last = value.last {
            let unbalanced = closers[last].map { opener in
                value.count(where: { $0 == opener }) < value.count(where: { $0 == last })
            }
            guard ".,;:!?".contains(last) || unbalanced == true else { break }
            value = value.dropLast()
        }
        return value.endIndex
    }

    /// The character a JSON `\uXXXX` escape at `index` stands for, and the index after it.
    private static func unicodeEscape(_ text: String, at index: String.Index) -> (Unicode.Scalar, String.Index)? {
        let scalars = text.unicodeScalars[index...].prefix(6)
        guard scalars.count == 6, scalars.first == "\\", scalars.dropFirst().first == "u",
            let value = UInt32(String(String.UnicodeScalarView(scalars.dropFirst(2))), radix: 16),
            let scalar = Unicode.Scalar(value)
        else { return nil }
        return (scalar, scalars.endIndex)
    }
}

// Printing, debug-printing or dumping a redactor must not print what it hides.
extension Redactor: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// `Redactor(N secrets)`.
    public var description: String { "Redactor(\(secrets.count) secrets)" }
    /// Same as ``description``.
    public var debugDescription: String { description }
    /// A mirror without the secrets.
    public var customMirror: Mirror { Mirror(self, children: ["count": secrets.count]) }
}
