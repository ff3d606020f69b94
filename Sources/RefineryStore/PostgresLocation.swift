// Where a PostgreSQL ledger lives:
// `postgres://user[:password]@host[:port]/database[?sslmode=...&connect_timeout=SECONDS]`,
// and its password, found as libpq finds it (the URL, then PGPASSWORD, then the password file), so the
// commands a team already uses with psql work here unchanged. The password never leaves this value:
// `description` and every error print the URL without it.

import Foundation

/// A PostgreSQL server and database to keep the run ledger in, parsed from a `postgres://` URL.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    /// How the connection uses TLS (the URL's `sslmode`).
    public enum TLSMode: String, Sendable, Hashable {
        /// Plain TCP (the default: the ledger server is usually on loopback or a private network).
        case disable
        /// TLS when the server offers it.
        case prefer
        /// TLS or no connection.
        case require
    }

    /// Host name or address.
    public var host: String
    /// TCP port.
    public var port: Int
    /// User name.
    public var user: String
    /// Database name.
    public var database: String
    /// The password, when the URL, `PGPASSWORD` or the password file gave one. Never printed.
    public var password: String?
    /// TLS use.
    public var tls: TLSMode
    /// Why the password file was not used, when that may explain a failed login (e.g. its permissions).
    public var passwordFileNote: String?
    /// How long opening the store waits for a first connection (the URL's `connect_timeout`, in seconds, as
    /// libpq reads it), ``defaultConnectTimeout`` by default. A server that refuses, drops or never answers
    /// the connection for that long is reported: a mistyped host fails within seconds.
    public var connectTimeout: Duration = PostgresLocation.defaultConnectTimeout

    /// The default ``connectTimeout``: long enough for a server on a loaded machine or across a WAN to
    /// answer, short enough that a wrong or down host is reported before the user wonders.
    public static let defaultConnectTimeout: Duration = .seconds(5)

    /// Whether `store` names a PostgreSQL server rather than a SQLite file.
    public static func isPostgresURL(_ store: String) -> Bool {
        store.hasPrefix("postgres://") || store.hasPrefix("postgresql://")
    }

    /// Refuses a store that starts with another URL scheme (`mysql://host/db`, a mistyped `postgress://`,
    /// `file:///x.db`). Anything not `postgres://` is opened as a SQLite path, and such a string was one:
    /// relative to the working folder, it created folders named `mysql:` and recorded the runs there, while
    /// the user believed them in a shared server.
    ///
    /// Throws ``StoreError/Code/cannotOpen`` naming the scheme and the two accepted forms.
    public static func refuseOtherURLScheme(_ store: String) throws {
        guard !isPostgresURL(store), let separator = store.range(of: "://") else { return }
        let scheme = store[..<separator.lowerBound]
        // RFC 3986's scheme: a letter, then letters, digits, `+`, `-` or `.`; a path like `./a://b` is no URL.
        guard let first = scheme.first, first.isASCII, first.isLetter,
            scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        else { return }
        throw badURL(store, "\(scheme):// is not a kind of store Refinery opens")
    }

    /// Parses `url` (`postgres://` or `postgresql://`). The password comes from the URL, else
    /// `PGPASSWORD`, else the password file (`PGPASSFILE`, else `~/.pgpass`), as libpq does; the user
    /// defaults to `PGUSER`, then `USER`, the host to `localhost`, the port to 5432, the database to the user.
    ///
    /// Throws ``StoreError/Code/cannotOpen`` with a hint when the URL is malformed.
    public init(url: String, environment: [String: String]) throws {
        guard Self.isPostgresURL(url), let components = URLComponents(string: url) else {
            throw Self.badURL(url, "it is not a valid URL")
        }
        // No host (`postgres:///db`): libpq would use its unix socket; this ledger speaks TCP only.
        self.host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        if let port = components.port {
            guard (1...65535).contains(port) else { throw Self.badURL(url, "the port is out of range") }
            self.port = port
        } else {
            port = 5432
        }
        let user = components.user.flatMap { $0.isEmpty ? nil : $0 }
        self.user = user ?? environment["PGUSER"] ?? environment["USER"] ?? "postgres"
        var path = components.path
        if path.hasPrefix("/") { path.removeFirst() }
        guard !path.contains("/") else { throw Self.badURL(url, "the database name contains '/'") }
        database = path.isEmpty ? self.user : path
        tls = .disable
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                switch item.value ?? "" {
                case "disable", "allow": tls = .disable
                case "prefer": tls = .prefer
                case "require", "verify-ca", "verify-full": tls = .require
                default: throw Self.badURL(url, "sslmode must be disable, prefer or require")
                }
            case "connect_timeout":
                guard let seconds = item.value.flatMap({ Int($0) }), (1...3600).contains(seconds) else {
                    throw Self.badURL(url, "connect_timeout must be a whole number of seconds from 1 to 3600")
                }
                connectTimeout = .seconds(seconds)
            default:
                // A bare `?word` may be a mistyped secret: only a `name=value` parameter's name is printed.
                let parameter = item.value == nil ? "a parameter without `=VALUE`" : "the parameter \(item.name)"
                throw Self.badURL(url, "\(parameter) is not supported (only sslmode and connect_timeout are)")
            }
        }
        if let password = components.password, !password.isEmpty {
            self.password = password
        } else if let password = environment["PGPASSWORD"], !password.isEmpty {
            self.password = password
        } else {
            let file = Self.passwordFile(environment: environment)
            switch PostgresPasswordFile.lookup(
                path: file, host: self.host, port: port, database: database, user: self.user)
            {
            case .found(let password): self.password = password
            case .notFound: self.password = nil
            case .ignored(let why):
                self.password = nil
                passwordFileNote = why
            }
        }
    }

    /// The URL without its password: safe to print.
    public var description: String {
        let userPart = user.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? user
        let hostPart = host.contains(":") ? "[\(host)]" : host
        var parameters: [String] = []
        if tls != .disable { parameters.append("sslmode=\(tls.rawValue)") }
        if connectTimeout != Self.defaultConnectTimeout {
            parameters.append("connect_timeout=\(connectTimeout.components.seconds)")
        }
        return "postgres://\(userPart)@\(hostPart):\(port)/\(database)"
            + (parameters.isEmpty ? "" : "?" + parameters.joined(separator: "&"))
    }

    /// `PGPASSFILE`, else `~/.pgpass`.
    static func passwordFile(environment: [String: String]) -> String {
        if let file = environment["PGPASSFILE"], !file.isEmpty { return file }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".pgpass")
    }

    /// A malformed URL: what is wrong, the expected shape, and never the URL's password.
    private static func badURL(_ url: String, _ problem: String) -> StoreError {
        StoreError(
            code: .cannotOpen,
            message: "The run store URL \(redacting(url)) is not usable: \(problem). Give it as "
                + "postgres://USER@HOST:PORT/DATABASE (password from PGPASSWORD or ~/.pgpass), or a file path "
                + "for a SQLite store.")
    }

    /// `url` with the password of its user part (`user:password@`) and the value of every query
    /// parameter but `sslmode` and `connect_timeout` replaced, for error messages about a URL that did not
    /// parse: libpq also
    /// takes a password as `?password=...`, so a query value may be one.
    static func redacting(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        var redacted = String(url[..<schemeEnd.upperBound])
        var rest = url[schemeEnd.upperBound...]
        if let at = rest.lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") {
            redacted += rest[..<colon] + ":[REDACTED]"
            rest = rest[at...]
        }
        guard let question = rest.firstIndex(of: "?") else { return redacted + rest }
        let parameters = rest[rest.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false)
            .map { parameter -> String in
                guard let equals = parameter.firstIndex(of: "=") else { return "[REDACTED]" }
                let name = parameter[..<equals]
                return name == "sslmode" || name == "connect_timeout" ? String(parameter) : name + "=[REDACTED]"
            }
        return redacted + rest[...question] + parameters.joined(separator: "&")
    }
}

/// The libpq password file (`~/.pgpass`): lines of `host:port:database:user:password`, where `*`
/// matches anything, `\:` and `\\` stand for `:` and `\`, and `#` starts a comment line. The first
/// matching line wins. Like libpq, a file that group or others may read is ignored.
enum PostgresPasswordFile {
    enum Lookup: Equatable {
        case found(String)
        case notFound
        /// The file exists but was not read, and why.
        case ignored(String)
    }

    static func lookup(path: String, host: String, port: Int, database: String, user: String) -> Lookup {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return .notFound }
        guard (attributes[.type] as? FileAttributeType) == .typeRegular else {
            return .ignored("the password file \(path) is not a plain file")
        }
        let mode = (attributes[.posixPermissions] as? Int) ?? 0
        guard mode & 0o077 == 0 else {
            return .ignored(
                "the password file \(path) was ignored because group or others can read it; "
                    + "`chmod 600 \(path)` (as libpq requires)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            return .ignored("the password file \(path) cannot be read")
        }
        for line in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
            if line.hasPrefix("#") { continue }
            let fields = split(line)
            guard fields.count == 5 else { continue }
            let wanted = [host, String(port), database, user]
            if zip(fields, wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return .found(fields[4]) }
        }
        return .notFound
    }

    /// Splits a line at unescaped `:` and resolves `\:` and `\\`. The last field (the password) keeps
    /// any further `:`, as libpq reads it.
    static func split(_ line: Substring) -> [String] {
        var fields: [String] = []
        var current = ""
        var escaped = false
        for character in line {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == ":" && fields.count < 4 {
                fields.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        fields.append(current)
        return fields
    }
}
