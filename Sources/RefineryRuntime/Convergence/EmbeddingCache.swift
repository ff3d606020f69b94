// Embedding vectors by sha256(text), bounded (LRU) and expiring (TTL), so the same draft compared in
// two consecutive rounds is embedded once.

import RefineryCompiler

/// An LRU cache of embedding vectors with a time-to-live. Time is the judge clock's elapsed duration.
struct EmbeddingCache: Sendable {
    private struct Entry: Sendable {
        var vector: [Double]
        var storedAt: Duration
        var lastUse: UInt64
    }

    let capacity: Int
    let ttl: Duration
    private var entries: [String: Entry] = [:]
    private var useCounter: UInt64 = 0

    init(capacity: Int, ttl: Duration) {
        self.capacity = max(0, capacity)
        self.ttl = ttl
    }

    var count: Int { entries.count }

    /// Hex SHA-256 of the text: the cache key (texts themselves are not kept as keys).
    static func key(_ text: String) -> String {
        WorkflowCompiler.sha256Hex(Array(text.utf8))
    }

    /// The vector for `text` when present and younger than the TTL; an expired entry is dropped.
    mutating func vector(for text: String, now: Duration) -> [Double]? {
        let key = Self.key(text)
        guard var entry = entries[key] else { return nil }
        guard now - entry.storedAt < ttl else {
            entries[key] = nil
            return nil
        }
        useCounter += 1
        entry.lastUse = useCounter
        entries[key] = entry
        return entry.vector
    }

    /// Stores a vector, evicting the least recently used entry when full.
    mutating func store(_ vector: [Double], for text: String, now: Duration) {
        guard capacity > 0 else { return }
        useCounter += 1
        entries[Self.key(text)] = Entry(vector: vector, storedAt: now, lastUse: useCounter)
        while entries.count > capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            entries[oldest.key] = nil
        }
    }
}
