// The semantic strategy's embedding requests as calls of the run, through the model calls' own ledger,
// pricing and budget code (RunExecutor+Calls): a resumed run serves a recorded request's vectors from the
// ledger and sends nothing; a new request is checked against the budget, priced from the catalog with the
// usage the provider reported, counted in the run's and the round's cost, and recorded.

import Foundation
import RefineryCompiler
import RefinerySyntax

/// One embedding request of the semantic strategy, as the ledger records it: on node `<close node>.embed`
/// (`s3.close.embed`) of its round, the texts as the request's user messages, the vectors as the reply's text
/// (see ``text(of:)``).
struct EmbeddingCall: CallSite {
    /// The participant the ledger and the events name for embedding requests.
    static let participant = "convergence"

    let round: Int
    let ledgerNode: String
    let request: ModelRequest
    var participant: String { Self.participant }
    var attempt: Int { 1 }

    init(round: Int, closeNode: String, texts: [String], model: ModelRef) {
        self.init(
            round: round, ledgerNode: Self.ledgerNode(closeNode: closeNode),
            request: ModelRequest(model: model, messages: texts.map { ChatMessage(role: .user, content: $0) }))
    }

    init(round: Int, ledgerNode: String, request: ModelRequest) {
        self.round = round
        self.ledgerNode = ledgerNode
        self.request = request
    }

    /// The ledger node of the embedding requests of the close node `closeNode`.
    static func ledgerNode(closeNode: String) -> String { "\(closeNode).embed" }

    /// The reply the ledger keeps for `embeddings`: the vectors as ``text(of:)`` writes them, the provider's usage.
    static func reply(_ embeddings: Embeddings, model: ModelRef) -> ModelReply {
        ModelReply(text: text(of: embeddings.vectors), usage: embeddings.usage, model: model.model)
    }

    /// The prefix of a reply text holding vectors as binary32 (``text(of:)``).
    static let binaryPrefix = "f32le:"

    /// `vectors` as a reply's text: `f32le:`, each vector's length (comma-separated), `:`, then the base64 of
    /// every component as a little-endian IEEE 754 binary32. Two 1,536-dimension vectors take 16 KB (the JSON
    /// array they were kept as took ~60 KB), and binary32 is what embedding models compute in: the run compares
    /// the vectors as kept (``vectors(from:)``), so a resumed run compares exactly what the first one did.
    static func text(of vectors: [[Double]]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4 * vectors.reduce(0) { $0 + $1.count })
        for vector in vectors {
            for component in vector {
                let bits = Float(component).bitPattern.littleEndian
                withUnsafeBytes(of: bits) { bytes.append(contentsOf: $0) }
            }
        }
        return binaryPrefix + vectors.map { String($0.count) }.joined(separator: ",") + ":"
            + Data(bytes).base64EncodedString()
    }

    /// The vectors of a recorded reply; `nil` when it does not hold one non-empty vector per text. Reads
    /// ``text(of:)`` and the JSON array of numbers ledgers written before it hold.
    func vectors(from reply: ModelReply) -> [[Double]]? {
        guard let vectors = Self.vectors(fromText: reply.text), vectors.count == request.messages.count,
            vectors.allSatisfy({ !$0.isEmpty })
        else { return nil }
        return vectors
    }

    private static func vectors(fromText text: String) -> [[Double]]? {
        guard text.hasPrefix(binaryPrefix) else {
            return try? JSONDecoder().decode([[Double]].self, from: Data(text.utf8))
        }
        let fields = text.dropFirst(binaryPrefix.count).split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count == 2, let data = Data(base64Encoded: String(fields[1])) else { return nil }
        let lengths = fields[0].split(separator: ",").compactMap { Int($0) }
        guard lengths.allSatisfy({ $0 > 0 && $0 <= data.count }), 4 * lengths.reduce(0, +) == data.count else {
            return nil
        }
        let bytes = [UInt8](data)
        var offset = 0
        return lengths.map { length in
            (0..<length).map { _ in
                var bits: UInt32 = 0
                for shift in 0..<4 { bits |= UInt32(bytes[offset + shift]) << (8 * shift) }
                offset += 4
                return Double(Float(bitPattern: bits))
            }
        }
    }
}

/// An embedding request the run did not make: its budget stops it, or its ledger failed. Not the
/// embedder's failure: the semantic strategy's breaker does not count it.
struct EmbeddingRefused: Error {
    var reason: String
}

extension RunExecutor {
    /// The vectors of `texts`, a request of round `round`'s close `closeNode` (see ``EmbeddingCall``): served
    /// from the ledger when a resumed run recorded it, else requested from the embedder within the budget,
    /// priced, charged and recorded. Throws the embedder's error, or ``EmbeddingRefused``.
    func embed(_ texts: [String], model: ModelRef, round: Int, closeNode: String) async throws -> [[Double]] {
        let call = EmbeddingCall(round: round, closeNode: closeNode, texts: texts, model: model)
        let startedAt = clock.elapsed()
        let environment = callEnvironment
        if let environment, environment.replays {
            let hash = RequestHash.of(call.request)
            switch await Self.recorded(round: round, node: call.ledgerNode, hash: hash, in: environment) {
            case .recorded(let recorded):
                if let vectors = call.vectors(from: recorded.reply) {
                    await replayed(
                        call, reply: recorded.reply, cost: recorded.costUSD, startedAt: startedAt,
                        environment: environment)
                    return vectors
                }
            case .none: break
            case .cancelled: throw CancellationError()
            case .unreadable:
                stopIfTheLedgerFailed()
                throw EmbeddingRefused(reason: "the run ledger could not be read")
            }
        }
        guard let embedder = configuration.embedder else { throw EmbeddingRefused(reason: "no embedder configured") }
        let price = pricing(for: model)
        if let budget = workflow.limits.budgetUSD {
            // The model calls' first check: a request the run cannot afford at its estimate is not made. It does
            // not wait for calls in flight, whose worst cases a model call would wait on: it is priced in cents'
            // thousandths, and the model calls' reservations already keep the calls in flight under the budget.
            let estimate = price?.cost(inputTokens: Embeddings.estimatedUsage(of: texts).inputTokens, outputTokens: 0)
            if costUSD + (estimate ?? 0) > budget {
                if stopReason == nil {
                    stopReason = .budget(
                        "budget: next call (embedding, \(model)) ~$\(DollarText.plain(estimate ?? 0)) would pass "
                            + "$\(DollarText.plain(budget)) (spent $\(DollarText.plain(costUSD)))")
                }
                throw EmbeddingRefused(reason: "the budget stops the run")
            }
        }
        let embeddings: Embeddings
        do {
            embeddings = try await embedder.embeddings(texts, model: model)
            guard embeddings.vectors.count == texts.count else {
                throw ProviderError(
                    code: .invalidResponse,
                    message:
                        "\(model.provider) returned \(embeddings.vectors.count) embeddings for \(texts.count) texts",
                    provider: model.provider)
            }
        } catch {
            if Task.isCancelled || error is CancellationError { throw error }
            let failure =
                (error as? ProviderError)
                ?? ProviderError(
                    code: .network, message: "The embedder failed: \(type(of: error))", provider: model.provider)
            let latency = clock.elapsed() - startedAt
            if let environment {
                await Self.record(
                    call, reply: nil, error: failure.description, status: .failed, latency: latency,
                    startedAt: startedAt, cost: 0, environment: environment)
            }
            var event = callEvent(call)
            event.errorCode = failure.code.description
            event.error = failure.message
            event.latencyMs = latency.milliseconds
            totalCalls += 1
            section?.calls += 1
            emit?(.callFailed(event))
            stopIfTheLedgerFailed()
            throw error
        }
        let reply = EmbeddingCall.reply(embeddings, model: model)
        let cost = price?.cost(inputTokens: embeddings.usage.inputTokens, outputTokens: 0) ?? 0
        let latency = clock.elapsed() - startedAt
        if let environment {
            await Self.record(
                call, reply: reply, error: nil, status: .succeeded, latency: latency, startedAt: startedAt, cost: cost,
                environment: environment)
        }
        finished(call, reply: reply, cost: cost, status: .succeeded, latency: latency)
        stopIfTheLedgerFailed()
        // The vectors as the ledger keeps them, which a resume compares.
        return call.vectors(from: reply) ?? embeddings.vectors
    }

    /// A recorded embedding request served from the ledger: recorded again as replayed, counted at its
    /// recorded cost.
    private func replayed(
        _ call: EmbeddingCall, reply: ModelReply, cost: Double, startedAt: Duration, environment: CallEnvironment
    ) async {
        await Self.record(
            call, reply: reply, error: nil, status: .replayed, latency: .zero, startedAt: startedAt, cost: cost,
            environment: environment)
        finished(call, reply: reply, cost: cost, status: .replayed, latency: .zero)
    }

    /// The vectors a resumed run recorded for round `round`'s close `closeNode`, by text; each recorded request
    /// is replayed here (counted at its recorded cost, recorded again as replayed), by node and round rather than
    /// by its texts: which texts a request asked for depended on the judge's cache then (what had expired or been
    /// evicted), which a resumed run's cache need not repeat. The judge compares with these vectors first
    /// (``RoundSignals/embeddings``), so a resumed run never sends a request its first attempt finished.
    func replayedEmbeddings(round: Int, closeNode: String) async -> [String: [Double]] {
        guard let environment = callEnvironment, environment.replays, let ledger = environment.ledger,
            case .semantic(let options) = workflow.convergence.strategy, let model = options.embeddingModel
        else { return [:] }
        let node = EmbeddingCall.ledgerNode(closeNode: closeNode)
        let records: [CallRecord]
        do {
            records = try await ledger.recordedCalls(runID: environment.runID, round: round, node: node)
        } catch {
            if Task.isCancelled || error is CancellationError { return [:] }
            environment.ledgerFailed(
                "the run ledger could not look up \(environment.callName(node: node, round: round)), "
                    + "so the run stops before paying again for a call it may have recorded: \(error)")
            stopIfTheLedgerFailed()
            return [:]
        }
        // A request replayed before (an earlier resume) is recorded again: each request counts once.
        let latest = Dictionary(records.enumerated().map { ($1.requestHash, $0) }, uniquingKeysWith: { max($0, $1) })
        var vectors: [String: [Double]] = [:]
        // Another model's vectors (a library caller resuming with another workflow) are not comparable.
        for (index, record) in records.enumerated()
        where latest[record.requestHash] == index && record.request.model == model {
            let call = EmbeddingCall(round: round, ledgerNode: node, request: record.request)
            guard let reply = record.reply, let recorded = call.vectors(from: reply) else { continue }
            await replayed(
                call, reply: reply, cost: record.costUSD, startedAt: clock.elapsed(), environment: environment)
            for (message, vector) in zip(record.request.messages, recorded) { vectors[message.content] = vector }
        }
        stopIfTheLedgerFailed()
        return vectors
    }

    /// Counts a served embedding request in the run's and the round's calls, tokens and cost, and tells listeners.
    private func finished(_ call: EmbeddingCall, reply: ModelReply, cost: Double, status: CallStatus, latency: Duration)
    {
        book(reply.usage, cost: cost)
        totalCalls += 1
        section?.calls += 1
        guard let emit else { return }
        var event = callEvent(call)
        event.usage = reply.usage
        event.costUSD = cost
        event.latencyMs = latency.milliseconds
        event.status = status
        emit(.callFinished(event))
    }

    private func callEvent(_ call: EmbeddingCall) -> CallEvent {
        CallEvent(
            round: call.round, node: call.ledgerNode, participant: call.participant, model: call.request.model,
            attempt: call.attempt)
    }
}
