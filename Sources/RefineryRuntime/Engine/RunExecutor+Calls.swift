// One call attempt in a child task (ledger replay, deadline), and what the parent does with
// its result: account, record, parse, retry with backoff, fall back, or drop the participant.

import Foundation
import Logging
import RefineryCompiler
import RefinerySyntax
import Synchronization

extension RunExecutor {
    /// Makes one attempt. Runs in a child task; touches nothing of the actor.
    ///
    /// Every call in flight is a child task suspended in here, so the async frames on its path are
    /// kept small: the synchronous work (rendering, hashing, building results and errors) is in
    /// helpers that are never inlined. Inlined, their values gave this function a 9.6 KB frame per
    /// call in flight, most of a wide round's memory and page faults.
    static func perform(_ ticket: CallTicket, environment: CallEnvironment) async -> ChildResult {
        TaskStack.reserve(bytes: callFrameBytes)
        if ticket.attempt == 1, environment.replays {
            return await replayOrCall(ticket, environment: environment)
        }
        return await call(ticket, environment: environment, startedAt: environment.clock.elapsed())
    }

    /// The async frames a call stacks below ``perform(_:environment:)`` before the provider's own (the
    /// call's frame, ~1.9 KB, the task-local bindings, the send closure, a provider's first frames) and,
    /// once the reply is in, the ledger's (~1.7 KB), reserved as one slab of the call's task
    /// (``TaskStack``). Left to themselves they took five slabs, four of them the 1 KB minimum, for
    /// every call in flight (heaptrack, Benchmarks/README.md, session 8).
    static let callFrameBytes = 4 * 1024 + 512

    /// Renders `ticket` in place; the result to return instead when its template fails.
    @inline(never)
    private static func render(
        _ ticket: inout CallTicket, environment: CallEnvironment, startedAt: Duration
    ) -> ChildResult? {
        // Hashing before the call is only needed to look up a resumed run's recorded reply (the ledger's
        // row hashes the request when it is recorded), and done here, in parallel, off the parent loop.
        do {
            ticket = try ticket.rendered(hashing: ticket.attempt == 1 && environment.replays)
        } catch {
            return .attempt(ticket, .unrenderable("\(error)"), latency: .zero, startedAt: startedAt)
        }
        return nil
    }

    /// A first attempt with a ledger: the recorded reply for this exact request, else the call.
    @inline(never)
    private static func replayOrCall(_ ticket: CallTicket, environment: CallEnvironment) async -> ChildResult {
        let startedAt = environment.clock.elapsed()
        var ticket = ticket
        if let failure = render(&ticket, environment: environment, startedAt: startedAt) { return failure }
        switch await recorded(round: ticket.round, node: ticket.node.id, hash: ticket.requestHash, in: environment) {
        case .recorded(let recorded):
            await recordReply(
                ticket, recorded.reply, replayedCost: recorded.costUSD, latency: .zero, startedAt: startedAt,
                environment: environment)
            return replied(ticket, recorded.reply, replayedCost: recorded.costUSD, latency: .zero, startedAt: startedAt)
        case .cancelled:
            return .cancelled(ticket, wasCall: true)
        case .unreadable:
            return .attempt(ticket, .ledgerUnreadable, latency: .zero, startedAt: startedAt)
        case .none:
            return await call(ticket, environment: environment, startedAt: startedAt)
        }
    }

    /// What the ledger holds for a call of a resumed run.
    enum Lookup {
        /// Its reply, served instead of calling again.
        case recorded(RecordedReply)
        /// Nothing (or no ledger): the call is made.
        case none
        /// The run is being cancelled.
        case cancelled
        /// The ledger could not answer: kept as the run's ledger failure, which stops it.
        case unreadable
    }

    /// The reply the ledger recorded for the call `node` of `round` whose request hashes to `hash`: every call
    /// of a resumed run (model calls, embedding requests) is looked up here before it is paid for.
    static func recorded(round: Int, node: String, hash: String, in environment: CallEnvironment) async -> Lookup {
        guard let ledger = environment.ledger else { return .none }
        do {
            let found = try await ledger.recordedReply(
                runID: environment.runID, round: round, node: node, requestHash: hash)
            return found.map(Lookup.recorded) ?? .none
        } catch {
            // Not knowing whether the call was made is not "not made": calling would pay for it again.
            if Task.isCancelled || error is CancellationError { return .cancelled }
            environment.ledgerFailed(
                "the run ledger could not look up \(environment.callName(node: node, round: round)), "
                    + "so the run stops before paying again for a call it may have recorded: \(error)")
            return .unreadable
        }
    }

    /// Calls the provider under the call's deadline.
    @inline(never)
    private static func call(_ ticket: CallTicket, environment: CallEnvironment, startedAt: Duration) async
        -> ChildResult
    {
        var ticket = ticket
        if let failure = render(&ticket, environment: environment, startedAt: startedAt) { return failure }
        // The deadline is fixed when the attempt starts, so it does not depend on when the timer runs.
        let limit = timeout(of: ticket)
        let deadlines = environment.deadlines
        let watch = deadlines.register(deadline: startedAt + limit)
        // The provider pauses the deadline while the call waits in its own queue, and adds a stream's
        // idle limit, through this watch; it arms no timer of its own.
        let outcome = await CallWatch.$current.withValue(CallWatch(deadlines: deadlines, id: watch, limit: limit)) {
            await send(ticket, environment: environment)
        }
        let result = finished(ticket, outcome, watch: watch, environment: environment, startedAt: startedAt)
        if environment.ledger != nil, case .attempt(_, .replied(let reply, _, _), let latency, _) = result {
            await recordReply(
                ticket, reply, replayedCost: nil, latency: latency, startedAt: startedAt, environment: environment)
        }
        return result
    }

    /// Commits a reply to the ledger from the call's own task, before the parent loop hears of it: a
    /// finished call is never lost to a crash, and the loop never waits for the database (a wide round
    /// finishes thousands of calls at once, and SQLite commits them one at a time). A replayed reply is
    /// recorded at the cost it was paid for (`replayedCost`).
    @inline(never)
    private static func recordReply(
        _ ticket: CallTicket, _ reply: ModelReply, replayedCost: Double?, latency: Duration, startedAt: Duration,
        environment: CallEnvironment
    ) async {
        let cost = replayedCost ?? cost(of: reply.usage, for: ticket) { environment.catalog.pricing(for: $0) }
        await record(
            ticket, reply: reply, error: nil, status: replayedCost == nil ? .succeeded : .replayed, latency: latency,
            startedAt: startedAt, cost: cost, environment: environment)
    }

    /// What `usage` cost: at the price looked up when the call was prepared, unless the call moved to a
    /// fallback model since (then `pricing` of its model).
    static func cost(
        of usage: TokenUsage, for ticket: CallTicket, pricing: (ModelRef) -> ModelPricing?
    ) -> Double {
        let price =
            ticket.modelIndex == ticket.plan.pricedModelIndex ? ticket.plan.pricing : pricing(ticket.request.model)
        return price?.cost(
            inputTokens: usage.inputTokens, outputTokens: usage.outputTokens,
            cachedInputTokens: usage.cachedInputTokens, cacheWriteTokens: usage.cacheWriteTokens,
            cacheWrite1hTokens: usage.cacheWrite1hTokens) ?? 0
    }

    /// The call's timeout: the request's (the stage's or the run's limit), within 1 ms … a week so
    /// that a huge or non-finite value never traps the conversion to a `Duration`.
    static func timeout(of ticket: CallTicket) -> Duration {
        guard let seconds = ticket.request.timeoutSeconds, !seconds.isNaN else { return .seconds(120) }
        return .milliseconds(Int64((min(max(seconds, 0.001), 7 * 24 * 3600) * 1000).rounded(.up)))
    }

    /// Marks a reply that came after the call's deadline (its watch was already finished).
    private struct DeadlinePassed: Error {}

    /// The provider's reply or error, with the call's context bound for the provider.
    @inline(never)
    private static func send(_ ticket: CallTicket, environment: CallEnvironment) async -> Result<ModelReply, any Error>
    {
        do {
            let provider = try environment.resolver.provider(for: ticket.request.model)
            return .success(
                try await CallTicket.$bound.withValue(ticket) { try await provider.reply(to: ticket.request) })
        } catch {
            return .failure(error)
        }
    }

    /// The attempt's result, once its deadline watch is finished (always, before the task ends: the
    /// timer must never hold a task that is over).
    @inline(never)
    private static func finished(
        _ ticket: CallTicket, _ outcome: Result<ModelReply, any Error>, watch: Int, environment: CallEnvironment,
        startedAt: Duration
    ) -> ChildResult {
        let expiry = environment.deadlines.finish(watch)
        switch outcome {
        case .success(let reply) where expiry == nil:
            let latency = environment.clock.elapsed() - startedAt
            if ticket.request.responseFormat == nil, ReplyParser.isPlaceholder(reply.text) {
                return placeholder(ticket, reply, latency: latency, startedAt: startedAt)
            }
            return replied(ticket, reply, replayedCost: nil, latency: latency, startedAt: startedAt)
        case .success:
            return failed(
                ticket, DeadlinePassed(), expiry: expiry, timeout: timeout(of: ticket), environment: environment,
                startedAt: startedAt)
        case .failure(let error):
            return failed(
                ticket, error, expiry: expiry, timeout: timeout(of: ticket), environment: environment,
                startedAt: startedAt)
        }
    }

    @inline(never)
    private static func replied(
        _ ticket: CallTicket, _ reply: ModelReply, replayedCost: Double?, latency: Duration, startedAt: Duration
    ) -> ChildResult {
        .attempt(
            ticket, .replied(reply, replayedCost: replayedCost, evaluation: preParsed(reply, ticket)),
            latency: latency, startedAt: startedAt)
    }

    /// An answer that is only the reply format's placeholder (`...`) holds none: it fails as a reply with no text
    /// does, before the ledger records it as the call's reply (its row, the request's one succeeded record, kept
    /// the retry's answer and cost out of the ledger, and a resume replayed the placeholder), its usage billed.
    private static func placeholder(
        _ ticket: CallTicket, _ reply: ModelReply, latency: Duration, startedAt: Duration
    ) -> ChildResult {
        let shown = ReplyParser.trimmed(reply.text).prefix(20)
        let error = ProviderError(
            code: .emptyResponse, message: "the model sent only a placeholder (\"\(shown)\"), not an answer",
            provider: ticket.request.model.provider, billedUsage: reply.usage)
        return .attempt(ticket, .failed(error), latency: latency, startedAt: startedAt)
    }

    @inline(never)
    private static func failed(
        _ ticket: CallTicket, _ error: any Error, expiry: CallDeadlines.Expiry?, timeout: Duration,
        environment: CallEnvironment, startedAt: Duration
    ) -> ChildResult {
        if expiry == nil, Task.isCancelled { return .cancelled(ticket, wasCall: true) }
        let latency = environment.clock.elapsed() - startedAt
        let provider = ticket.request.model.provider
        let failure: ProviderError =
            switch expiry {
            case .deadline?: timeoutError(timeout, provider: provider)
            // The stream went silent: the provider's own account of it (which limit, how to raise it).
            case .idle(let stalled)?: stalled
            case nil:
                (error as? ProviderError)
                    ?? ProviderError(code: .network, message: "The provider failed: \(error)", provider: provider)
            }
        return .attempt(ticket, .failed(failure), latency: latency, startedAt: startedAt)
    }

    /// A pairwise review's reply parsed in the child task: reviews are N² of a round's calls.
    private static func preParsed(_ reply: ModelReply, _ ticket: CallTicket) -> Result<Evaluation, ReplyParseError>? {
        guard case .evaluate = ticket.node.kind else { return nil }
        return ReplyParser.evaluation(from: reply.text)
    }

    private static func timeoutError(_ timeout: Duration, provider: String) -> ProviderError {
        ProviderError(
            code: .timeout,
            message: "No reply within \(seconds(timeout)); raise the stage or limits timeout.",
            provider: provider)
    }

    func handleAttempt(_ ticket: CallTicket, _ result: AttemptResult, latency: Duration, startedAt: Duration) async {
        switch result {
        case .replied(let reply, let replayedCost, let evaluation):
            // A reply served from the ledger counts what it cost when it was paid for, not today's price.
            let cost = charge(reply.usage, for: ticket, recordedCost: replayedCost)
            if let assumed = ticket.plan.assumedOutputTokens {
                assumedOutputSeen += assumed
                outputSeen += reply.usage.outputTokens
            }
            let applied = applyReply(reply, to: ticket, evaluation: evaluation)
            if case .invalid(let error) = applied {
                // Paid for, but no answer: retried, then a fallback, then dropped, like an empty reply.
                await handleAttempt(ticket, .failed(error), latency: latency, startedAt: startedAt)
                return
            }
            totalCalls += 1
            section?.calls += 1
            // The call's task already committed the reply to the ledger (see `recordReply`).
            // Built only for a listener: this is the path every successful call takes.
            if let emit {
                var event = callEvent(ticket)
                event.usage = reply.usage
                event.structuredMode = reply.structuredMode
                event.costUSD = cost
                event.latencyMs = latency.milliseconds
                if case .unreadable(let message) = applied {
                    event.status = .failed
                    event.errorCode = ProviderError.Code.invalidResponse.description
                    event.error = message
                    emit(.callFailed(event))
                } else {
                    event.status = replayedCost == nil ? .succeeded : .replayed
                    emit(.callFinished(event))
                }
            }
            switch applied {
            case .done(let nodeResult):
                if let cut = reply.cut {
                    cutReplies[cut, default: []].append(
                        ticket.participant + (place(round: ticket.round).map { " \($0)" } ?? ""))
                }
                complete(ticket.plan.nodeIndex, nodeResult)
            case .retryWithReminder(let kind):
                enqueue(withReminder(ticket, kind: kind))
            case .unreadable(let message):
                failedCalls += 1
                degradations.append("\(ticket.participant)\(placeSuffix(round: ticket.round)): \(message)")
                complete(ticket.plan.nodeIndex, .skipped(message))
            case .invalid:
                break
            }
        case .ledgerUnreadable:
            // No call was made; `stopIfTheLedgerFailed` stops the run, naming the ledger's error.
            complete(ticket.plan.nodeIndex, .skipped("the run ledger failed"))
        case .unrenderable(let message):
            configuration.logger.error(
                "A prompt template failed to render; the call was not made and the run stops.",
                metadata: ["node": "\(ticket.node.id)", "error": "\(message)"])
            // Every call of the stage would fail the same way: stop starting calls (no money is spent on a
            // run that cannot finish), let the calls in flight end, and report the run as failed.
            if stopReason == nil { stopReason = .failed("prompt template failed: \(message)") }
            complete(ticket.plan.nodeIndex, .skipped("prompt template failed: \(message)"))
        case .failed(let failure):
            // A reply with no answer that the provider bills all the same (no text, or withheld by its safety
            // filter) is paid for, whether or not the call is tried again: the run's cost, its budget and the
            // ledger count it.
            let billed = failure.billedUsage.map { charge($0, for: ticket) } ?? 0
            // A wait the call's timeout does not allow is not taken: the call fails now, saying why.
            let refusedWait = Self.waitBeyondTimeout(
                failure, timeout: Self.timeout(of: ticket),
                stageTimeout: ticket.request.timeoutSeconds != workflow.limits.timeoutSeconds)
            // A server still loading the model is asked again until the call's timeout has passed in all, without
            // spending a retry; past that, the call fails as it came, saying how long it waited.
            let loadingDelay = refusedWait == nil ? Self.loadingDelay(for: failure, ticket: ticket) : nil
            let error = refusedWait ?? Self.notLoadedInTime(failure, ticket: ticket) ?? failure
            let retrying =
                loadingDelay != nil || error.code != .modelLoading && ticket.attempt <= workflow.limits.retries
            if error.isTransient, refusedWait == nil, retrying, stopReason == nil {
                let delay = loadingDelay ?? retryDelay(for: error, ticket: ticket)
                if failure.billedUsage != nil, let environment = callEnvironment {
                    await Self.record(
                        ticket, reply: nil, error: error.description, status: .retried, latency: latency,
                        startedAt: startedAt, cost: billed, environment: environment)
                }
                var event = callEvent(ticket)
                event.errorCode = error.code.description
                event.error = error.message
                event.retryDelayMs = delay.milliseconds
                event.usage = failure.billedUsage
                event.costUSD = failure.billedUsage.map { _ in billed }
                emit?(.callRetried(event))
                pendingBackoffs.append(
                    (loadingDelay == nil ? ticket.attempt(ticket.attempt + 1) : ticket.waitingForModel(delay), delay))
                return
            }
            failedCalls += 1
            totalCalls += 1
            section?.calls += 1
            if let environment = callEnvironment {
                await Self.record(
                    ticket, reply: nil, error: error.description, status: .failed, latency: latency,
                    startedAt: startedAt, cost: billed, environment: environment)
            }
            var event = callEvent(ticket)
            event.errorCode = error.code.description
            event.error = error.message
            event.usage = failure.billedUsage
            event.costUSD = failure.billedUsage.map { _ in billed }
            emit?(.callFailed(event))
            failOver(ticket, error: error)
        }
    }

    /// Adds what `usage` of a call of `ticket` cost to the run's and the section's totals; returns the cost:
    /// `recordedCost` for a reply the ledger served (what it cost when it was paid for), else today's price.
    private func charge(_ usage: TokenUsage, for ticket: CallTicket, recordedCost: Double? = nil) -> Double {
        let cost = recordedCost ?? Self.cost(of: usage, for: ticket) { pricing(for: $0) }
        book(usage, cost: cost)
        return cost
    }

    /// Adds a call's `usage` and `cost` to the run's and the section's totals.
    func book(_ usage: TokenUsage, cost: Double) {
        costUSD += cost
        self.usage = self.usage + usage
        section?.usage = (section?.usage ?? TokenUsage()) + usage
        section?.costUSD += cost
    }

    /// Tries the participant's next model, or drops the participant.
    private func failOver(_ ticket: CallTicket, error: ProviderError) {
        guard var participant = participants[ticket.participant] else {
            complete(ticket.plan.nodeIndex, .skipped("failed: \(error.code)"))
            return
        }
        let next = ticket.modelIndex + 1
        if next < participant.models.count, stopReason == nil {
            if !error.isTransient {
                // A permanent failure will not heal this run: later calls start at the fallback.
                participant.modelIndex = max(participant.modelIndex, next)
                participationChanges += 1
                participants[ticket.participant] = participant
            }
            if ticket.participant == "arbiter" { arbiterFallbackUsed = true }
            enqueue(retargeted(ticket, to: next, of: participant))
            return
        }
        if ticket.participant != "arbiter" {
            if error.isTransient {
                dropForRound(ticket.participant, reason: "\(error.code): \(error.message)")
            } else {
                dropForRun(ticket.participant, reason: "\(error.code): \(error.message)", round: ticket.round)
            }
        } else {
            // The arbiter is not dropped (there is one), but its failure is named, not only counted.
            let reason = Self.shortened("\(error.code): \(error.message)")
            degradations.append("arbiter (\(ticket.request.model))\(placeSuffix(round: ticket.round)): \(reason)")
            // Failed for good with no fallback left, it fails the same way every round: the members' calls
            // of the rounds to come would be paid for a synthesis that cannot come. The run stops as a run
            // below quorum does (exit 3, resumable once the provider is back), naming the arbiter's error.
            if !error.isTransient, stopReason == nil {
                stopReason = .arbiterFailed(
                    "arbiter: \(ticket.request.model) failed for good and no fallback is left, so no stage it "
                        + "performs can run; \(reason)")
            }
        }
        complete(ticket.plan.nodeIndex, .skipped("failed: \(error.code)"))
    }

    /// `ticket` moved to model `index` of the participant's chain, as a first attempt, estimated and held
    /// against the budget at that model's price: a cheap model failing over to a dear one kept the cheap one's
    /// estimate and reservation, and the fallback's call could pass the budget.
    func retargeted(_ ticket: CallTicket, to index: Int, of participant: ParticipantState) -> CallTicket {
        var request = ticket.request
        request.model = participant.models[index]
        let pricing = participant.prices[index]
        let estimate = priced(
            request, inputTokens: ticket.plan.estimatedTokens.input, answerTokens: ticket.plan.estimatedTokens.answer,
            pricing: pricing)
        return ticket.resending(
            request, modelIndex: index, reminder: ticket.reminder,
            plan: ticket.plan.moved(to: index, pricing: pricing, estimate: estimate))
    }

    func dropForRun(_ member: String, reason: String, round: Int) {
        guard participants[member]?.droppedForRun == false else { return }
        participants[member]?.droppedForRun = true
        dropReasons[member] = reason
        participationChanges += 1
        if section == nil {
            droppedBetweenSteps.append(member)
        } else {
            section?.droppedNames.append(member)
        }
        emit?(.memberDropped(MemberDroppedEvent(round: round, member: member, reason: reason, forRun: true)))
    }

    /// The reason a call of `member`, which is no longer active, is skipped; counted when the member is
    /// dropped for the run, so coverage says how many of its calls were not made.
    func notMade(_ member: String) -> String {
        if participants[member]?.droppedForRun == true { callsNotMade[member, default: 0] += 1 }
        return "\(member) dropped"
    }

    private func dropForRound(_ member: String, reason: String) {
        guard let round = section?.round, section?.droppedThisRound.contains(member) == false else { return }
        section?.droppedThisRound.insert(member)
        dropReasons[member] = reason
        participationChanges += 1
        section?.droppedNames.append(member)
        emit?(.memberDropped(MemberDroppedEvent(round: round, member: member, reason: reason, forRun: false)))
    }

    private func withReminder(_ ticket: CallTicket, kind: ReplyKind) -> CallTicket {
        var request = ticket.request
        if let last = request.messages.indices.last {
            request.messages[last].content += ReplyParser.formatReminder(for: kind)
        }
        return ticket.resending(request, modelIndex: ticket.modelIndex, reminder: true)
    }

    /// `error` saying it was not retried, when the provider asked for a wait (Retry-After, a rate-limit
    /// reset, its own pause) longer than the call's `timeout`; `nil` when it asked for none or a shorter one.
    /// A server asking for a day (or `1e20` seconds) is not waited for, and not waited for in slices of the
    /// timeout either (three retries held a run for six minutes before it failed the same way): the call
    /// fails at once as it came, `rate_limited`, naming the wait asked for, and moves to its fallback.
    /// The wait is named once (the provider's own "retry after" is dropped: it was said twice), first, with the
    /// timeout that would wait for it: `--timeout`, or the stage's `timeout` when `stageTimeout` (a stage's own
    /// timeout is the call's, whatever the flag says); the provider's words come last, in parentheses, so a
    /// summary that shortens the message to 160 characters loses them, not what happened and what to do.
    static func waitBeyondTimeout(_ error: ProviderError, timeout: Duration, stageTimeout: Bool) -> ProviderError? {
        guard let asked = error.retryAfterSeconds, asked > Double(timeout.milliseconds) / 1000 else { return nil }
        var refused = error
        let wait = ProviderError.waitText(asked)
        var said = error.message
        for repeated in ["; retry after \(wait)", ", retry after \(wait)"] where said.hasSuffix(repeated) {
            said.removeLast(repeated.count)
        }
        refused.message =
            "\(error.provider) asked to wait \(wait), longer than the call's timeout (\(Self.seconds(timeout))): "
            + "not retried"
        // A minute more than the wait, for the call itself, in a duration the workflow format reads.
        let needed = asked + 60
        if needed <= 7 * 24 * 3600 {  // the longest duration a workflow takes (a week)
            let value =
                needed <= 7_200 ? "\(Int((needed / 60).rounded(.up)))m" : "\(Int((needed / 3_600).rounded(.up)))h"
            refused.message +=
                stageTimeout
                ? "; to wait, set the stage's `timeout: \(value)`"
                : "; to wait, give `--timeout \(value)` (or `limits.timeout: \(value)`)"
        }
        refused.message += " (\(said))"
        return refused
    }

    /// How often a server still loading the model is asked again when it names no wait.
    static let loadingPoll = Duration.seconds(1)

    /// The wait before asking again a server that said it is still loading the model: its Retry-After, else
    /// ``loadingPoll``, within what is left of the call's timeout; `nil` for another error, or once the call
    /// has waited its whole timeout for the model.
    static func loadingDelay(for error: ProviderError, ticket: CallTicket) -> Duration? {
        guard error.code == .modelLoading else { return nil }
        let left = timeout(of: ticket) - ticket.loadingWait
        guard left > .zero else { return nil }
        let asked = error.retryAfterSeconds.map { Duration.milliseconds(Int((min($0, 86_400) * 1000).rounded())) }
        return min(asked ?? loadingPoll, left)
    }

    /// `error` saying how long the call waited, when it is a server still loading the model after the call
    /// has waited its whole timeout for it; `nil` otherwise.
    static func notLoadedInTime(_ error: ProviderError, ticket: CallTicket) -> ProviderError? {
        guard error.code == .modelLoading, loadingDelay(for: error, ticket: ticket) == nil else { return nil }
        var late = error
        late.message +=
            "; not ready after \(seconds(ticket.loadingWait)), the call's timeout: raise it for a model slow to load"
        return late
    }

    /// `duration` in seconds for a message: `120 s`, `0.5 s`.
    static func seconds(_ duration: Duration) -> String {
        let milliseconds = duration.milliseconds
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(Double(milliseconds) / 1000) s"
    }

    /// Backoff before attempt `ticket.attempt + 1`: the server's Retry-After when it sent one (never
    /// longer than the call's timeout: ``waitBeyondTimeout(_:timeout:)`` refuses a longer one), else 1 s
    /// doubling per attempt up to 30 s, with seeded jitter in [50 %, 100 %], never longer than the
    /// call's timeout either.
    func retryDelay(for error: ProviderError, ticket: CallTicket) -> Duration {
        let limit = Self.timeout(of: ticket)
        if let retryAfter = error.retryAfterSeconds, retryAfter >= 0 {
            // `min` first: a huge or infinite value must never reach the integer conversion.
            let seconds = min(retryAfter, Double(limit.milliseconds) / 1000)
            return .milliseconds(Int((seconds * 1000).rounded()))
        }
        let base = min(30.0, pow(2.0, Double(ticket.attempt - 1)))
        var generator = SeededGenerator(
            seed: configuration.seed,
            salt: "backoff|\(ticket.round)|\(ticket.node.id)|\(ticket.modelIndex)|\(ticket.attempt)")
        let jitter = 0.5 + Double(generator.next() % 1000) / 2000
        return min(.milliseconds(Int((base * jitter * 1000).rounded())), limit)
    }

    /// The catalog's price of `model`, looked up once per model a run (the catalog builds two key
    /// strings per lookup); a call keeps the price it was prepared with (``CallPlan/pricing``).
    func pricing(for model: ModelRef) -> ModelPricing? {
        if let cached = pricingCache[model] { return cached }
        let found = configuration.catalog.pricing(for: model)
        pricingCache[model] = .some(found)
        return found
    }

    /// How the budget check prices a call (``CallEstimate``). Its estimate is the cost estimate's pricing of
    /// a call (``EstimateAssumptions``) with what this call really reads, and out the request's max tokens, else
    /// what the estimate assumes for `node`'s kind in `stage`: see ``priced(_:inputTokens:answerTokens:pricing:)``.
    func estimateCost(
        _ request: ModelRequest, node: GraphNode, stage: Stage, prompt pending: PendingPrompt, pricing: ModelPricing?
    ) -> CallEstimate {
        let assumptions = EstimateAssumptions()
        let answer = request.params.maxTokens ?? assumptions.outputTokens(for: node.kind, in: stage) ?? 0
        let input = assumptions.inputTokens(
            for: node.kind, promptTokens: EstimateAssumptions.tokens(for: prompt),
            systemTokens: EstimateAssumptions.tokens(forBytes: request.system?.utf8.count ?? 0),
            template: EstimateAssumptions.templateTokens(of: stage),
            reading: EstimateAssumptions.tokens(forBytes: pending.readingBytes))
        return priced(request, inputTokens: input, answerTokens: answer, pricing: pricing)
    }

    /// A call of `inputTokens` whose answer is `answerTokens` long (its max tokens, else what the estimate
    /// assumes), priced for `request`'s model: when the call is prepared, and again when it moves to a fallback
    /// model, whose price and cap it is then held at. Uncapped, the output is scaled by how long this run's
    /// replies were against what was assumed for them; a capped call gets the thinking its provider adds to the
    /// cap (``ThinkingAllowance/billedOutput(answer:capped:model:reasoningEffort:)``). A run granted its estimate
    /// (a batch item's share) is so never refused a call the estimate priced while its replies are no longer
    /// than the estimate assumed. What it reserves in flight is the call at the output cap its provider sends.
    func priced(_ request: ModelRequest, inputTokens input: Int, answerTokens answer: Int, pricing: ModelPricing?)
        -> CallEstimate
    {
        let capped = request.params.maxTokens != nil
        var output = ThinkingAllowance.billedOutput(
            answer: answer, capped: capped, model: request.model, reasoningEffort: request.params.reasoningEffort)
        let assumed = capped ? nil : output
        let tokens = (input: input, answer: answer)
        guard let pricing else { return CallEstimate(dollars: 0, reserved: 0, assumedOutput: assumed, tokens: tokens) }
        if !capped, assumedOutputSeen > 0 {
            output = Int((Double(output) * Double(outputSeen) / Double(assumedOutputSeen)).rounded(.up))
        }
        let dollars = pricing.cost(inputTokens: input, outputTokens: output)
        let reserved = outputCap(of: request).map { pricing.cost(inputTokens: input, outputTokens: $0) } ?? dollars
        return CallEstimate(
            dollars: dollars, reserved: max(dollars, reserved), assumedOutput: assumed, tokens: tokens)
    }

    /// The output cap the provider of `request`'s model sends for it, thinking included; `nil` when unknown.
    private func outputCap(of request: ModelRequest) -> Int? {
        let provider: (any ModelProvider)?
        if let cached = capProviders[request.model] {
            provider = cached
        } else {
            provider = try? resolver.provider(for: request.model)
            capProviders[request.model] = .some(provider)
        }
        return provider?.outputCap(request)
    }

    func callEvent(_ ticket: CallTicket) -> CallEvent {
        var event = CallEvent(
            round: ticket.round, node: ticket.node.id, participant: ticket.participant, model: ticket.request.model,
            attempt: ticket.attempt)
        if ticket.reminder { event.reminder = true }
        return event
    }

    /// The ledger's record of a call. Not inlined: built in `record`, its temporaries made that async frame
    /// 2.9 KB, which every call waiting for the ledger held.
    @inline(never)
    private static func callRecord(
        _ ticket: some CallSite, reply: ModelReply?, error: String?, status: CallStatus, latency: Duration,
        startedAt: Duration, cost: Double, environment: CallEnvironment
    ) -> CallRecord {
        let started = environment.startDate.addingTimeInterval(Double(startedAt.milliseconds) / 1000)
        // The request's canonical JSON is written here, not kept from rendering: thousands of calls are in
        // flight at once, and each held ~2 KB of it until its reply came (Benchmarks/README.md, session 8).
        let (json, hash) = RequestHash.canonical(ticket.request)
        return CallRecord(
            runID: environment.runID, round: ticket.round, node: ticket.ledgerNode, participant: ticket.participant,
            requestHash: hash, request: ticket.request, reply: reply, error: error, status: status,
            attempts: ticket.attempt, latencyMs: latency.milliseconds, costUSD: cost, startedAt: started,
            finishedAt: started.addingTimeInterval(Double(latency.milliseconds) / 1000),
            requestJSON: json.isEmpty ? nil : json)
    }

    /// Commits one call to the ledger (if any). A failure is logged and kept in `environment.ledgerFailure`
    /// (the first one), which stops the run once its parent loop hears of the call.
    static func record(
        _ ticket: some CallSite, reply: ModelReply?, error: String?, status: CallStatus, latency: Duration,
        startedAt: Duration, cost: Double, environment: CallEnvironment
    ) async {
        guard let ledger = environment.ledger else { return }
        let record = callRecord(
            ticket, reply: reply, error: error, status: status, latency: latency, startedAt: startedAt, cost: cost,
            environment: environment)
        do {
            try await ledger.record(record)
        } catch {
            environment.logger.warning(
                "Could not record a call in the run ledger; resume may repeat it.",
                metadata: ["node": "\(ticket.ledgerNode)", "error": "\(error)"])
            // A call cut short by cancellation (Ctrl-C, a worker's lost lease) stops the run as cancelled.
            if Task.isCancelled || error is CancellationError { return }
            environment.ledgerFailed(
                "the run ledger could not record \(environment.callName(node: ticket.ledgerNode, round: ticket.round)), "
                    + "so the run stops before paying for calls it cannot record: \(error)")
        }
    }
}
