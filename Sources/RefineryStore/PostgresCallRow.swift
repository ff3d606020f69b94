// One call as the PostgreSQL ledger stores it: encoded (and its error text redacted) by the caller,
// before it joins a group commit, so the commit itself only sends bytes.

import Foundation
import PostgresNIO
import RefineryRuntime

struct PostgresCallRow: Sendable {
    /// Columns per row; a statement carries at most 65,535 arguments.
    static let columnCount = 17
    /// Rows per INSERT of a group commit (1,000 × 17 arguments stays well under the limit).
    static let rowsPerStatement = 1000

    /// A fresh key per record: a statement repeated after a lost connection skips rows already committed.
    let recordKey = UUID()
    /// The columns as the SQLite store computes them (tokens, status, the error text redacted).
    let columns: CallRow
    let request: String
    let response: String?

    init(_ call: CallRecord, redactor: Redactor) throws {
        let encoder = JSONEncoder.sorted
        columns = CallRow(call, redactor: redactor)
        request = try call.requestJSON ?? String(decoding: encoder.encode(call.request), as: UTF8.self)
        response = try call.reply.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
    }

    /// One INSERT of `rows`. `ON CONFLICT DO NOTHING`: a second succeeded record of the same call is
    /// ignored (the partial unique index), and so is a row repeated after a lost connection (`record_key`).
    static func insert(_ rows: [PostgresCallRow]) -> PostgresQuery {
        var sql = """
            INSERT INTO calls (record_key, run_id, round, node, participant, request_hash, request, response,
              input_tokens, output_tokens, latency_ms, cost_usd, attempts, status, error, started_at, finished_at)
            VALUES
            """
        var bindings = PostgresBindings(capacity: rows.count * columnCount)
        for (index, row) in rows.enumerated() {
            let first = index * columnCount
            sql +=
                (index == 0 ? " (" : ", (") + (1...columnCount).map { "$\(first + $0)" }.joined(separator: ", ") + ")"
            let call = row.columns
            bindings.append(row.recordKey)
            bindings.append(call.runID)
            bindings.append(call.round)
            bindings.append(call.node)
            bindings.append(call.participant)
            bindings.append(call.requestHash)
            bindings.append(row.request)
            bindings.append(row.response)
            bindings.append(call.inputTokens)
            bindings.append(call.outputTokens)
            bindings.append(call.latencyMs)
            bindings.append(call.costUSD)
            bindings.append(call.attempts)
            bindings.append(call.status)
            bindings.append(call.error)
            bindings.append(call.startedAt)
            bindings.append(call.finishedAt)
        }
        sql += " ON CONFLICT DO NOTHING"
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    /// The record a `SELECT * FROM calls` row holds.
    static func record(_ row: PostgresRandomAccessRow, store: PostgresRunStore) throws -> CallRecord {
        CallRecord(
            runID: try row["run_id"].decode(String.self), round: try row["round"].decode(Int.self),
            node: try row["node"].decode(String.self), participant: try row["participant"].decode(String.self),
            requestHash: try row["request_hash"].decode(String.self),
            request: try store.decodeJSON(ModelRequest.self, row["request"]),
            reply: try row["response"].bytes == nil ? nil : store.decodeJSON(ModelReply.self, row["response"]),
            error: try row["error"].decode(String?.self),
            status: CallStatus(rawValue: try row["status"].decode(String.self)) ?? .failed,
            attempts: try row["attempts"].decode(Int.self), latencyMs: try row["latency_ms"].decode(Int.self),
            costUSD: try row["cost_usd"].decode(Double.self), startedAt: try row["started_at"].decode(Date.self),
            finishedAt: try row["finished_at"].decode(Date.self))
    }
}
