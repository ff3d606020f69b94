// Keeps credentials out of everything Refinery prints, logs or stores. Providers run every
// logged request and response, and every error text, through one `Redactor`; the CLI does
// the same with the texts it prints.

/// Replaces credentials with `[REDACTED]` in texts, header lists and URLs.
///
/// A redactor knows the secret values themselves (the keys read from the environment), so it
/// also catches a key that a server echoes back in an error body, or one placed in a URL.
/// Header values are redacted by name: `authorization`, `x-api-key`, `x-goog-api-key`, and any
/// header whose name contains `key`, `token`, `secret` or `auth`.
public struct Redactor: Sendable, Hashable {
    /// What replaces a secret.
    public static let placeholder = "[REDACTED]"

    /// The secret values to hide, longest first so a key containing another is hidden whole.
    private var secrets: [String]

    /// Creates a redactor for `secrets`. Values shorter than 4 characters are ignored: hiding
    /// them would mangle ordinary text and they are not credentials.
    public init(secrets: [String] = []) {
        self.secrets = Set(secrets.filter { $0.count >= 4 }).sorted {
            $0.count > $1.count || ($0.count == $1.count && $0 < $1)
        }
    }

    /// A redactor that also hides `more`.
    public func adding(_ more: some Sequence<String>) -> Redactor {
        Redactor(secrets: secrets + Array(more))
    }

    /// How many secrets it hides.
    public var count: Int { secrets.count }

    /// `text` with every known secret, and every `key=…`/`token=…` URL query value, replaced.
    ///
    /// Redact a whole text before cutting an excerpt from it: a cut through a key would leave
    /// part of it unrecognised.
    public func redact(_ text: String) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacingAll(secret, with: Self.placeholder)
        }
        return Self.redactQueryCredentials(result)
    }

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

    /// Replaces the values of query parameters named like credentials (`key=`, `api_key=`,
    /// `token=`, `access_token=`, `password=`, `sig=`), in case a URL with one is ever logged.
    private static func redactQueryCredentials(_ text: String) -> String {
        guard text.contains("=") else { return text }
        var output = ""
        output.reserveCapacity(text.utf8.count)
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            output.append(character)
            index = text.index(after: index)
            guard character == "?" || character == "&" else { continue }
            // Read a parameter name.
            var nameEnd = index
            while nameEnd < text.endIndex, text[nameEnd].isLetter || text[nameEnd] == "_" || text[nameEnd] == "-" {
                nameEnd = text.index(after: nameEnd)
            }
            guard nameEnd < text.endIndex, text[nameEnd] == "=" else { continue }
            let name = text[index..<nameEnd].lowercased()
            guard
                name.hasSuffix("key") || name.hasSuffix("token") || name.contains("secret")
                    || name.contains("password") || name == "sig" || name == "signature"
            else { continue }
            output += text[index...nameEnd] + placeholder
            var valueEnd = text.index(after: nameEnd)
            while valueEnd < text.endIndex, !"&# \"'\n".contains(text[valueEnd]) {
                valueEnd = text.index(after: valueEnd)
            }
            index = valueEnd
        }
        return output
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

extension String {
    /// Replaces every occurrence of `target` (no Foundation needed).
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
