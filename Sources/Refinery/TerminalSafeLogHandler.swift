// The `--debug` log on a terminal: a log line quotes what servers sent (an error body, a header),
// so its control characters are escaped (`\x1B`) as in everything else printed there.

import Logging
import RefinerySyntax

/// Passes each log event to `inner` with the control characters of its message and metadata escaped:
/// a server's reply must not retitle, clear or recolour the terminal through a log line.
struct TerminalSafeLogHandler: LogHandler {
    /// The handler that writes the escaped line.
    var inner: any LogHandler

    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        event.message = "\(TerminalText.escaped(event.message.description))"
        event.metadata = event.metadata?.mapValues { .string(TerminalText.escaped($0.description)) }
        inner.log(event: event)
    }
}
