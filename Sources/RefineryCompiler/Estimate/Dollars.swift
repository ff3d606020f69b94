// Dollar amounts as a reader sees them: every cost, budget and spend written to JSON (run, batch, bench,
// runs and estimate JSON and JSONL, MCP results) is rounded here to the nearest 1e-10 dollars, so that a
// sum of prices reads `0.00045`, not `0.00044999999999999993`. Only what is written is rounded: the ledger
// stores and sums the amounts as computed.

/// Rounds dollar amounts for JSON; the property wrapper rounds a stored amount when it is encoded.
@propertyWrapper
public struct Dollars: Sendable, Hashable, Codable {
    /// The amount as computed (never rounded).
    public var wrappedValue: Double

    /// Wraps `wrappedValue`.
    public init(wrappedValue: Double) { self.wrappedValue = wrappedValue }

    /// Decodes a plain JSON number.
    public init(from decoder: any Decoder) throws {
        wrappedValue = try decoder.singleValueContainer().decode(Double.self)
    }

    /// Encodes ``rounded(_:)`` of the amount.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Self.rounded(wrappedValue))
    }

    /// `amount` to the nearest 1e-10 dollars (a ten-thousandth of a micro-dollar, far below any price of a
    /// token), which JSON then spells as a short decimal; non-finite and huge amounts are returned as they are.
    public static func rounded(_ amount: Double) -> Double {
        guard amount.isFinite, abs(amount) < 1e8 else { return amount }
        return (amount * 1e10).rounded() / 1e10
    }
}

/// An optional dollar amount, rounded as ``Dollars`` when it is encoded, and left out of JSON when `nil`.
@propertyWrapper
public struct OptionalDollars: Sendable, Hashable, Codable {
    /// The amount as computed, or `nil`.
    public var wrappedValue: Double?

    /// Wraps `wrappedValue`.
    public init(wrappedValue: Double?) { self.wrappedValue = wrappedValue }

    /// Decodes a JSON number or `null`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        wrappedValue = container.decodeNil() ? nil : try container.decode(Double.self)
    }

    /// Encodes ``Dollars/rounded(_:)`` of the amount, or `null`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let amount = wrappedValue {
            try container.encode(Dollars.rounded(amount))
        } else {
            try container.encodeNil()
        }
    }
}

extension KeyedEncodingContainer {
    /// An optional amount as a synthesized `Codable` writes an optional: left out when `nil`.
    public mutating func encode(_ value: OptionalDollars, forKey key: Key) throws {
        guard let amount = value.wrappedValue else { return }
        try encode(Dollars.rounded(amount), forKey: key)
    }
}

extension KeyedDecodingContainer {
    /// An optional amount as a synthesized `Codable` reads an optional: `nil` when missing or `null`.
    public func decode(_ type: OptionalDollars.Type, forKey key: Key) throws -> OptionalDollars {
        OptionalDollars(wrappedValue: try decodeIfPresent(Double.self, forKey: key))
    }
}
