// `refinery bench` on the batch machinery: a bench is a batch of kind `bench` whose jobs are
// (dataset item × system), graded as each finishes.

import Foundation
import RefineryCompiler
import RefineryStore

extension RunService {
    /// The plan of a bench from its recorded flags.
    func benchPlan(_ spec: BatchSpec, id: String, debug: Bool) async throws -> BatchPlan {
        throw InputError(code: .invalidOption, message: "bench \(id) cannot be resumed by this build.")
    }
}
