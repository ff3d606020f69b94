// The owner of a run or batch on a PostgreSQL ledger: a session advisory lock (`pg_try_advisory_lock`) on
// the subject's key, held by the store's connection. The server drops it when the session ends: the owner
// let go, its process died (the kernel closes its socket) or the connection was lost. The same statement
// sets the session's `application_name` to `refinery pid N on HOST`, which a refused process reads back
// from `pg_stat_activity` to say who holds it. Advisory locks nest within a session, so the store keeps its
// own keys too: a second owner through the same connection is refused like one in another process. A
// connection lost and opened again takes the store's locks again (``relock(on:)``).

import PostgresNIO

extension PostgresRunStore {
    /// Takes `subject`'s advisory lock, or throws ``StoreError/Code/live`` naming who holds it.
    public func takeOwnership(of subject: LedgerSubject) async throws -> LedgerOwnership {
        let key = Int(Int64(bitPattern: subject.key))
        // Reserved before the statement: another task of this store asking meanwhile is refused here.
        guard owned.insert(key).inserted else {
            throw StoreError.live(subject, holder: "\(Self.applicationName), another task")
        }
        let locked: Bool
        do {
            let rows = try await query(
                "SELECT pg_try_advisory_lock($1) AS locked, set_config('application_name', $2, false)",
                binds: key, Self.applicationName)
            locked = try rows.first?.makeRandomAccess()["locked"].decode(Bool.self) ?? false
        } catch {
            owned.remove(key)
            throw error
        }
        guard locked else {
            owned.remove(key)
            throw StoreError.live(subject, holder: try? await holder(of: key))
        }
        return LedgerOwnership { [self] in await release(key) }
    }

    /// Gives a lock up. A lost connection already lost it: nothing to do then.
    private func release(_ key: Int) async {
        guard owned.remove(key) != nil else { return }
        _ = try? await query("SELECT pg_advisory_unlock($1)", binds: key)
    }

    /// The application name and client address of the session holding `key`.
    private func holder(of key: Int) async throws -> String? {
        let unsigned = UInt64(bitPattern: Int64(key))
        let rows = try await query(
            """
            SELECT a.application_name, coalesce(host(a.client_addr), 'a local socket') AS client
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.classid::bigint = $1
              AND l.objid::bigint = $2
            """, binds: Int(unsigned >> 32), Int(unsigned & 0xFFFF_FFFF))
        guard let row = rows.first?.makeRandomAccess() else { return nil }
        let name = try row["application_name"].decode(String.self)
        let client = try row["client"].decode(String.self)
        return (name.isEmpty ? "" : name + ", ") + "connected from " + client
    }

    /// Takes this store's locks again on a new connection (the server let them go with the old one).
    /// A lock another session took meanwhile stays with it; this store's writes still go on.
    func relock(on connection: PostgresConnection) async {
        for key in owned {
            var bindings = PostgresBindings(capacity: 2)
            bindings.append(key)
            bindings.append(Self.applicationName)
            _ = try? await Self.run(
                PostgresQuery(
                    unsafeSQL: "SELECT pg_try_advisory_lock($1), set_config('application_name', $2, false)",
                    binds: bindings), on: connection)
        }
    }

    /// `refinery pid N on HOST`: the session's name while it owns something.
    static var applicationName: String { "refinery " + StoreError.ownerDescription }
}
