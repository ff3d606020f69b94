// Provider set-up shared by the commands that talk to (or about) model APIs: the optional
// providers.yaml and the logger that `--debug` turns on.

import Foundation
import Logging
import RefineryProviders
import RefineryRuntime

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension RunService {
    /// `$XDG_CONFIG_HOME/refinery/providers.yaml`, or the defaults when there is none. A broken
    /// file is a ``WorkflowDiagnosticsError`` (exit 4, located diagnostics).
    func providersConfiguration() throws -> ProvidersConfig {
        let path = ProvidersConfig.defaultPath(environment: environment)
        do {
            return try ProvidersConfig.load(path: path)
        } catch let error as ProvidersConfigError {
            // The excerpts quote the file, which may hold a credential (a header's value, a base URL's
            // password): the environment's keys, what is shaped like one and every credential-named key's
            // value are hidden.
            let redactor = ProviderRegistry.redactor(
                environment: ProviderEnvironment.load(environment: environment, dotEnvDirectory: workingDirectory.path),
                configuration: ProvidersConfig())
            let text = FileManager.default.contents(atPath: path).map {
                ProvidersConfig.excerptText(String(decoding: $0, as: UTF8.self), redactor: redactor)
            }
            throw WorkflowDiagnosticsError(diagnostics: error.diagnostics, sources: text.map { [path: $0] } ?? [:])
        }
    }

    /// Hands a pre-run warning to ``onWarning``, or to the log when nobody listens.
    func warn(_ message: String, logger: Logger) {
        if let onWarning {
            onWarning(message)
        } else {
            logger.warning("\(message)")
        }
    }

    static func logger(debug: Bool) -> Logger {
        if debug {
            let terminal = isatty(STDERR_FILENO) == 1
            var logger = Logger(label: "refinery") { label -> any LogHandler in
                let stream = StreamLogHandler.standardError(label: label)
                return terminal ? TerminalSafeLogHandler(inner: stream) : stream
            }
            logger.logLevel = .debug
            return logger
        }
        return Logger(label: "refinery") { _ in SwiftLogNoOpLogHandler() }
    }
}
