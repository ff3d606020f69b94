// A participant of the run (a member or the arbiter) and the source of a text it produced.

import RefineryCompiler

/// One member or the arbiter, with the models it may call and how it is doing.
struct ParticipantState: Sendable {
    /// Member id or `arbiter`.
    var id: String
    /// The model first, then its fallbacks, in order.
    var models: [ModelRef]
    /// The catalog's price of each of `models` (`nil`: none known), looked up once when the run
    /// starts: every call is priced for its budget estimate, and looking a `ModelRef` up in a
    /// dictionary hashed its three strings each time (~1,400 instructions a call).
    var prices: [ModelPricing?]
    /// Index into `models` where new calls start (moves on after a permanent failure).
    var modelIndex: Int
    /// System prompt override.
    var system: String?
    /// Parameters.
    var params: ModelParams
    /// Whether the participant is out for the rest of the run.
    var droppedForRun = false
}

/// Who produced a text the run may select (a member or `arbiter`), and with which model of its chain.
struct AnswerSource: Sendable, Hashable {
    var participant: String
    var model: ModelRef
}
