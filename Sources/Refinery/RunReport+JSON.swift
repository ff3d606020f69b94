// The result document and each round's decision as the ledger stores them: the bytes `JSONEncoder`
// (`.sortedKeys`) writes, written straight from the fields. Every run of a batch stores its report
// and its decisions, and `JSONEncoder` took ~10 % of a batch's CPU on a zero-latency provider
// (Benchmarks/README.md). `RunReportJSONTests` compares both writers on reports with every field
// set, and fails when a field is added to the report but not here. Keys are written in sorted order.

import Foundation
import RefineryCompiler
package import RefineryRuntime

extension RunReport {
    /// This report as `JSONEncoder` with `.sortedKeys` encodes it. Throws as `JSONEncoder` does on
    /// a number JSON cannot spell (NaN, an infinity).
    package func sortedJSONText() throws -> String {
        var output = JSONOutput(capacity: 4096)
        if write(into: &output) { return output.text }
        return try Self.encoderText(self)
    }

    /// What `JSONEncoder` writes for `value`: the reference, and the path for a non-finite number.
    static func encoderText(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private func write(into output: inout JSONOutput) -> Bool {
        output.append(#"{"all_answers":"#)
        guard output.appendArray(allAnswers, { $1.write(into: &$0) }) else { return false }
        output.append(#","cost_usd":"#)
        guard output.appendDouble(Dollars.rounded(costUSD)) else { return false }
        output.append(#","coverage":"#)
        coverage.write(into: &output)
        if let error {
            output.append(#","error":"#)
            output.appendText(error)
        }
        output.append(#","final_round":"#)
        output.appendInteger(finalRound)
        output.append(#","format_version":"#)
        output.appendInteger(formatVersion)
        output.append(#","metadata":{"elapsed_ms":"#)
        output.appendInteger(metadata.elapsedMs)
        output.append(#","total_calls":"#)
        output.appendInteger(metadata.totalCalls)
        output.append(#","total_rounds":"#)
        output.appendInteger(metadata.totalRounds)
        output.append(UInt8(ascii: "}"))
        if let rounds {
            output.append(#","rounds":"#)
            guard output.appendArray(rounds, { $1.write(into: &$0) }) else { return false }
        }
        output.append(#","run_id":"#)
        output.appendText(runID)
        output.append(#","status":"#)
        output.appendText(status)
        output.append(#","stopped_by":"#)
        output.appendText(stoppedBy)
        output.append(#","strategy":"#)
        output.appendText(strategy)
        output.append(#","tokens":"#)
        var first = true
        // In the encoder's sorted key order: `cache_write`, `cache_write_1h`, `cached_input`, `estimated`, `input`,
        // `output`.
        if let cacheWrite = tokens.cacheWrite {
            output.appendKey(#""cache_write":"#, first: &first)
            output.appendInteger(cacheWrite)
        }
        if let cacheWrite1h = tokens.cacheWrite1h {
            output.appendKey(#""cache_write_1h":"#, first: &first)
            output.appendInteger(cacheWrite1h)
        }
        if let cachedInput = tokens.cachedInput {
            output.appendKey(#""cached_input":"#, first: &first)
            output.appendInteger(cachedInput)
        }
        if let estimated = tokens.estimated {
            output.appendKey(#""estimated":"#, first: &first)
            output.appendBool(estimated)
        }
        output.appendKey(#""input":"#, first: &first)
        output.appendInteger(tokens.input)
        output.append(#","output":"#)
        output.appendInteger(tokens.output)
        output.append(UInt8(ascii: "}"))
        if let vote {
            output.append(#","vote":"#)
            guard vote.write(into: &output) else { return false }
        }
        output.append(#","winner":"#)
        if let winner { winner.write(into: &output) } else { output.append("null") }
        output.append(#","workflow":"#)
        workflow.write(into: &output)
        output.append(UInt8(ascii: "}"))
        return true
    }
}

extension RoundDecision {
    /// This decision as `JSONEncoder` with `.sortedKeys` encodes it (the ledger's `rounds.decision`).
    package var sortedJSONText: String {
        var output = JSONOutput(capacity: 256)
        output.append(#"{"converged":"#)
        output.appendBool(converged)
        if let leader {
            output.append(#","leader":"#)
            output.appendText(leader)
        }
        if let rolledBackTo {
            output.append(#","rolledBackTo":"#)
            output.appendText(rolledBackTo)
        }
        output.append(#","shouldStop":"#)
        output.appendBool(shouldStop)
        output.append(#","signal":"#)
        output.appendText(signal)
        output.append(UInt8(ascii: "}"))
        return output.text
    }
}

extension RunReport.Winner {
    fileprivate func write(into output: inout JSONOutput) {
        output.append(#"{"answer":"#)
        output.appendText(answer)
        output.append(#","degraded":"#)
        output.appendBool(degraded)
        if let fallbackFrom {
            output.append(#","fallback_from":"#)
            output.appendText(fallbackFrom)
        }
        output.append(#","member_id":"#)
        output.appendText(memberID)
        output.append(#","model_id":"#)
        output.appendText(modelID)
        output.append(UInt8(ascii: "}"))
    }
}

extension RunReport.Answer {
    fileprivate func write(into output: inout JSONOutput) -> Bool {
        output.append(#"{"answer":"#)
        output.appendText(answer)
        if let fallbackFrom {
            output.append(#","fallback_from":"#)
            output.appendText(fallbackFrom)
        }
        if let meanScore {
            output.append(#","mean_score":"#)
            guard output.appendDouble(meanScore) else { return false }
        }
        output.append(#","member_id":"#)
        output.appendText(memberID)
        output.append(#","model_id":"#)
        output.appendText(modelID)
        output.append(UInt8(ascii: "}"))
        return true
    }
}

extension RunReport.Coverage {
    fileprivate func write(into output: inout JSONOutput) {
        output.append(#"{"arbiter_fallback_used":"#)
        output.appendBool(arbiterFallbackUsed)
        output.append(#","degraded":"#)
        output.appendBool(degraded)
        output.append(#","members_answered":"#)
        output.appendInteger(membersAnswered)
        output.append(#","reasons":"#)
        _ = output.appendArray(reasons) { output, reason in
            output.appendText(reason)
            return true
        }
        output.append(#","reviews_received":"#)
        output.appendInteger(reviewsReceived)
        output.append(UInt8(ascii: "}"))
    }
}

extension RunReport.WorkflowInfo {
    fileprivate func write(into output: inout JSONOutput) {
        var first = true
        if let gitCommit {
            output.appendKey(#""git_commit":"#, first: &first)
            output.appendText(gitCommit)
        }
        if let gitDirty {
            output.appendKey(#""git_dirty":"#, first: &first)
            output.appendBool(gitDirty)
        }
        if let gitRevision {
            output.appendKey(#""git_revision":"#, first: &first)
            output.appendText(gitRevision)
        }
        output.appendKey(#""name":"#, first: &first)
        output.appendText(name)
        if let path {
            output.append(#","path":"#)
            output.appendText(path)
        }
        if let version {
            output.append(#","version":"#)
            output.appendText(version)
        }
        output.append(UInt8(ascii: "}"))
    }
}

extension RunReport.RoundSummary {
    fileprivate func write(into output: inout JSONOutput) -> Bool {
        output.append(#"{"answers":"#)
        guard output.appendArray(answers, { $1.write(into: &$0) }) else { return false }
        output.append(#","converged":"#)
        output.appendBool(converged)
        if let leader {
            output.append(#","leader":"#)
            output.appendText(leader)
        }
        if let reason {
            output.append(#","reason":"#)
            output.appendText(reason)
        }
        output.append(#","round":"#)
        output.appendInteger(round)
        if let score {
            output.append(#","score":"#)
            guard output.appendDouble(score) else { return false }
        }
        output.append(#","scores":"#)
        var first = true
        // `JSONEncoder` sorts a dictionary's keys as `JSONValue`'s writer does: by their UTF-8 bytes.
        for (member, score) in scores.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            output.append(UInt8(ascii: first ? "{" : ","))
            first = false
            output.appendText(member)
            output.append(UInt8(ascii: ":"))
            guard output.appendDouble(score) else { return false }
        }
        output.append(first ? "{}}" : "}}")
        return true
    }
}

extension RunReport.Vote {
    fileprivate func write(into output: inout JSONOutput) -> Bool {
        output.append(#"{"abstentions":"#)
        output.appendTexts(abstentions)
        output.append(#","answers_counted":"#)
        output.appendInteger(answersCounted)
        output.append(#","distribution":"#)
        _ = output.appendArray(distribution) { output, tally in
            output.append(#"{"answer":"#)
            output.appendText(tally.answer)
            output.append(#","members":"#)
            output.appendTexts(tally.members)
            output.append(#","votes":"#)
            output.appendInteger(tally.votes)
            output.append(UInt8(ascii: "}"))
            return true
        }
        output.append(#","extract":"#)
        output.appendText(extract)
        output.append(#","round":"#)
        output.appendInteger(round)
        output.append(#","share":"#)
        guard output.appendDouble(share) else { return false }
        if let tieBrokenBy {
            output.append(#","tie_broken_by":"#)
            output.appendText(tieBrokenBy)
        }
        if let winner {
            output.append(#","winner":"#)
            output.appendText(winner)
        }
        if let winnerMemberID {
            output.append(#","winner_member_id":"#)
            output.appendText(winnerMemberID)
        }
        output.append(UInt8(ascii: "}"))
        return true
    }
}

extension JSONOutput {
    /// A string of the report: `JSONEncoder` without `.withoutEscapingSlashes` escapes `/`.
    fileprivate mutating func appendText(_ text: String) {
        appendString(text, escapingSlashes: true)
    }

    fileprivate mutating func appendTexts(_ texts: [String]) {
        _ = appendArray(texts) { output, text in
            output.appendText(text)
            return true
        }
    }

    /// `[`, each element written by `write` with `,` between, `]`; `false` as soon as one is.
    fileprivate mutating func appendArray<Element>(
        _ elements: [Element], _ write: (inout JSONOutput, Element) -> Bool
    ) -> Bool {
        append(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { append(UInt8(ascii: ",")) }
            guard write(&self, element) else { return false }
        }
        append(UInt8(ascii: "]"))
        return true
    }
}
