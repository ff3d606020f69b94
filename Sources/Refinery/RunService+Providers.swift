// Provider set-up shared by the commands that talk to (or about) model APIs: the optional
// providers.yaml and the logger that `--debug` turns on.

import Foundation
import Logging
import RefineryProviders

extension RunService {
    func providersConfiguration() throws -> ProvidersConfig {
        let path = ProvidersConfig.defaultPath(environment: environment)
        guard FileManager.default.fileExists(atPath: path) else { return ProvidersConfig() }
        return try ProvidersConfig.load(path: path)
    }

    static func logger(debug: Bool) -> Logger {
        if debug {
            var logger = Logger(label: "refinery") { StreamLogHandler.standardError(label: $0) }
            logger.logLevel = .debug
            return logger
        }
        return Logger(label: "refinery") { _ in SwiftLogNoOpLogHandler() }
    }
}
