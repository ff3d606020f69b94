// The JSON shape of the IR's enums with a payload: `{"propose": {...}}`, `{"named": ["a"]}`,
// `{"semantic": {...}}` — the payload under the case's name, as a person or a script reads it.
// Swift's synthesized coding of an unlabeled payload wraps it as `{"_0": ...}`; that shape is what
// stores written before this change hold, so it is still read (`resume` of an old run), never written.

extension Stage {
    private enum Key: String, CodingKey {
        case propose, evaluate, refine, synthesize, verify, vote, close
        case `repeat`
    }

    /// Decodes `{"KIND": payload}` (or the older `{"KIND": {"_0": payload}}`).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        switch try IRCoding.onlyKey(of: container, in: "Stage") {
        case .propose: self = .propose(try IRCoding.payload(of: container, at: .propose))
        case .evaluate: self = .evaluate(try IRCoding.payload(of: container, at: .evaluate))
        case .refine: self = .refine(try IRCoding.payload(of: container, at: .refine))
        case .synthesize: self = .synthesize(try IRCoding.payload(of: container, at: .synthesize))
        case .verify: self = .verify(try IRCoding.payload(of: container, at: .verify))
        case .vote: self = .vote(try IRCoding.payload(of: container, at: .vote))
        case .close: self = .close(try IRCoding.payload(of: container, at: .close))
        case .repeat: self = .repeat(try IRCoding.payload(of: container, at: .repeat))
        }
    }

    /// Encodes `{"KIND": payload}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        switch self {
        case .propose(let stage): try container.encode(stage, forKey: .propose)
        case .evaluate(let stage): try container.encode(stage, forKey: .evaluate)
        case .refine(let stage): try container.encode(stage, forKey: .refine)
        case .synthesize(let stage): try container.encode(stage, forKey: .synthesize)
        case .verify(let stage): try container.encode(stage, forKey: .verify)
        case .vote(let stage): try container.encode(stage, forKey: .vote)
        case .close(let stage): try container.encode(stage, forKey: .close)
        case .repeat(let stages): try container.encode(stages, forKey: .repeat)
        }
    }
}

extension Participants {
    private enum Key: String, CodingKey { case members, arbiter, named }

    /// Decodes `{"members": {}}`, `{"arbiter": {}}` or `{"named": [...]}` (or the older `{"named": {"_0": [...]}}`).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        switch try IRCoding.onlyKey(of: container, in: "Participants") {
        case .members: self = .members
        case .arbiter: self = .arbiter
        case .named: self = .named(try IRCoding.payload(of: container, at: .named))
        }
    }

    /// Encodes `{"members": {}}`, `{"arbiter": {}}` or `{"named": [...]}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        switch self {
        case .members: _ = container.nestedContainer(keyedBy: Key.self, forKey: .members)
        case .arbiter: _ = container.nestedContainer(keyedBy: Key.self, forKey: .arbiter)
        case .named(let names): try container.encode(names, forKey: .named)
        }
    }
}

extension ConvergenceStrategy {
    private enum Key: String, CodingKey { case voteThreshold, confidence, semantic, unanimous, agreement, none }
    private enum Field: String, CodingKey { case threshold, stability }

    /// Decodes `{"voteThreshold": {"threshold": 8, "stability": 2}}`, `{"semantic": {...}}` (or the
    /// older `{"semantic": {"_0": {...}}}`), and so on.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        let key = try IRCoding.onlyKey(of: container, in: "ConvergenceStrategy")
        switch key {
        case .voteThreshold:
            let fields = try container.nestedContainer(keyedBy: Field.self, forKey: key)
            self = .voteThreshold(
                threshold: try fields.decode(Double.self, forKey: .threshold),
                stability: try fields.decode(Int.self, forKey: .stability))
        case .confidence:
            let fields = try container.nestedContainer(keyedBy: Field.self, forKey: key)
            self = .confidence(threshold: try fields.decode(Double.self, forKey: .threshold))
        case .unanimous:
            let fields = try container.nestedContainer(keyedBy: Field.self, forKey: key)
            self = .unanimous(threshold: try fields.decode(Double.self, forKey: .threshold))
        case .agreement:
            let fields = try container.nestedContainer(keyedBy: Field.self, forKey: key)
            self = .agreement(threshold: try fields.decode(Double.self, forKey: .threshold))
        case .semantic: self = .semantic(try IRCoding.payload(of: container, at: .semantic))
        case .none: self = .none
        }
    }

    /// Encodes the case's name over its fields (or its options, for `semantic`).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        switch self {
        case .voteThreshold(let threshold, let stability):
            var fields = container.nestedContainer(keyedBy: Field.self, forKey: .voteThreshold)
            try fields.encode(threshold, forKey: .threshold)
            try fields.encode(stability, forKey: .stability)
        case .confidence(let threshold):
            var fields = container.nestedContainer(keyedBy: Field.self, forKey: .confidence)
            try fields.encode(threshold, forKey: .threshold)
        case .unanimous(let threshold):
            var fields = container.nestedContainer(keyedBy: Field.self, forKey: .unanimous)
            try fields.encode(threshold, forKey: .threshold)
        case .agreement(let threshold):
            var fields = container.nestedContainer(keyedBy: Field.self, forKey: .agreement)
            try fields.encode(threshold, forKey: .threshold)
        case .semantic(let options): try container.encode(options, forKey: .semantic)
        case .none: _ = container.nestedContainer(keyedBy: Field.self, forKey: .none)
        }
    }
}

extension AnswerExtraction {
    /// Decodes the form as written in workflow files: `"number"`, `"json: result.answer"`, `"regex: ..."`.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        switch text {
        case "number": self = .number
        case "choice": self = .choice
        case "last-line": self = .lastLine
        case _ where text.hasPrefix("json: "):
            self = .json(path: text.dropFirst("json: ".count).split(separator: ".").map(String.init))
        case _ where text.hasPrefix("regex: "): self = .regex(String(text.dropFirst("regex: ".count)))
        default:
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: decoder.codingPath, debugDescription: "Unknown answer extraction `\(text)`."))
        }
    }

    /// Encodes ``description``, the form as written in workflow files.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// The decoding steps the IR's enums share.
enum IRCoding {
    private struct LegacyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
        static let payload = LegacyKey(stringValue: "_0")
    }

    /// The one case name an enum value is keyed by.
    static func onlyKey<Key: CodingKey>(of container: KeyedDecodingContainer<Key>, in type: String) throws -> Key {
        guard container.allKeys.count == 1, let key = container.allKeys.first else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: container.codingPath, debugDescription: "A \(type) needs exactly one known case key."))
        }
        return key
    }

    /// The payload under `key`, written directly or (by older versions) under `_0`.
    static func payload<Key: CodingKey, Value: Decodable>(
        of container: KeyedDecodingContainer<Key>, at key: Key
    ) throws -> Value {
        if let legacy = try? container.nestedContainer(keyedBy: LegacyKey.self, forKey: key),
            legacy.allKeys.count == 1, legacy.contains(.payload)
        {
            return try legacy.decode(Value.self, forKey: .payload)
        }
        return try container.decode(Value.self, forKey: key)
    }
}
