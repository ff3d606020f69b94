// Defence in depth for the ledger: requests never carry credentials (providers add them on the
// wire), but an upstream error message might echo one back. Every free-text field is passed
// through here before it is written.

import Foundation

/// Replaces anything shaped like an API key or bearer token with `[REDACTED]`.
package enum SecretScrubber {
    private static let patterns: [NSRegularExpression] = [
        #"sk-[A-Za-z0-9_\-]{8,}"#,  // OpenAI and Anthropic keys, OAuth tokens
        #"AIza[0-9A-Za-z_\-]{20,}"#,  // Google API keys
        #"(?i)bearer\s+[A-Za-z0-9._\-]{8,}"#,
        #"(?i)(x-api-key|x-goog-api-key|api[_-]?key)["']?\s*[:=]\s*["']?[A-Za-z0-9._\-]{8,}"#,
        #"(?i)key=[A-Za-z0-9._\-]{16,}"#,
    ].compactMap { try? NSRegularExpression(pattern: $0) }

    /// `text` with every key-shaped substring replaced.
    package static func scrub(_ text: String) -> String {
        var result = text
        for pattern in patterns {
            let range = NSRange(result.startIndex..., in: result)
            result = pattern.stringByReplacingMatches(in: result, range: range, withTemplate: "[REDACTED]")
        }
        return result
    }

    /// Whether `text` contains something key-shaped.
    package static func containsSecret(_ text: String) -> Bool {
        scrub(text) != text
    }
}
