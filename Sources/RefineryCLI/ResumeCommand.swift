// `refinery resume RUN`: finish an interrupted run; recorded calls are served from the ledger.

import ArgumentParser
import Refinery
import RefineryCommandSupport

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume", abstract: "Resume an interrupted run without paying twice for finished calls.")

    @Argument(help: "Run id (or a unique prefix).", transform: RecordID.run)
    var id: String

    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var storeOptions: StoreOptions

    func validate() throws { try outputOptions.check(keeping: KeptFile.store(storeOptions.runService())) }

    func run() async throws {
        try await withExitCode {
            let service = storeOptions.runService()
            let id = id
            let debug = outputOptions.debug
            let result = try await RunPresenter(options: outputOptions, environment: service.environment).present {
                events in try await service.resume(runID: id, debug: debug, events: events)
            }
            throw ExitCode(result.exitCode.rawValue)
        }
    }
}
