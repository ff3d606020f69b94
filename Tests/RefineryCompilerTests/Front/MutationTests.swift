import RefineryCompiler
import RefinerySyntax
import Testing

/// SplitMix64: small, seedable, the same on every platform.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Randomly corrupted variants of valid workflows: the compiler never crashes, and every
/// variant ends either in a clean compile or in located, coded errors.
@Suite struct MutationTests {
    static let interesting: [UInt8] = Array(":-[]{}&*!|>'\"#\t\n ,?%@`0a".utf8) + [0x00, 0x07, 0xC3, 0xFF, 0x80]

    static func mutate(_ bytes: [UInt8], using rng: inout SeededGenerator) -> [UInt8] {
        var bytes = bytes
        let rounds = Int.random(in: 1...3, using: &rng)
        for _ in 0..<rounds where !bytes.isEmpty {
            let position = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<7, using: &rng) {
            case 0:  // flip one byte
                bytes[position] = interesting.randomElement(using: &rng) ?? 0
            case 1:  // delete a run
                let length = Int.random(in: 1...12, using: &rng)
                bytes.removeSubrange(position..<min(bytes.count, position + length))
            case 2:  // duplicate a run somewhere else
                let length = Int.random(in: 1...40, using: &rng)
                let run = bytes[position..<min(bytes.count, position + length)]
                bytes.insert(contentsOf: run, at: Int.random(in: 0...bytes.count, using: &rng))
            case 3:  // truncate
                bytes.removeSubrange(position...)
            case 4:  // indent or dedent a line
                let lineStart = bytes[..<position].lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
                if Bool.random(using: &rng) {
                    bytes.insert(
                        contentsOf: [UInt8](repeating: 32, count: Int.random(in: 1...4, using: &rng)), at: lineStart)
                } else {
                    while lineStart < bytes.count, bytes[lineStart] == 32, Bool.random(using: &rng) {
                        bytes.remove(at: lineStart)
                    }
                }
            case 5:  // swap two lines
                var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                if lines.count > 2 {
                    lines.swapAt(
                        Int.random(in: 0..<lines.count, using: &rng), Int.random(in: 0..<lines.count, using: &rng))
                    bytes = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
                }
            default:  // change a digit
                if let digit = bytes.indices.filter({ (48...57).contains(bytes[$0]) }).randomElement(using: &rng) {
                    bytes[digit] = UInt8(ascii: "0") + UInt8.random(in: 0...9, using: &rng)
                }
            }
        }
        return bytes
    }

    /// Byte sequences editors and hostile files add: CR and CRLF, a byte order mark, Unicode
    /// line separators, NEL, tabs, NUL, a right-to-left override, a lone continuation byte.
    static let exotic: [[UInt8]] = [
        [0x0D], [0x0D, 0x0A], [0xEF, 0xBB, 0xBF], [0xE2, 0x80, 0xA8], [0xE2, 0x80, 0xA9], [0xC2, 0x85], [0x09],
        [0x00], [0xE2, 0x80, 0xAE], [0x80], [0x26, 0x61, 0x20], [0x2A, 0x61],
    ]

    /// Lines as libyaml counts them: LF, CR, CRLF, NEL, LS and PS each end one.
    static func lineCount(_ bytes: [UInt8]) -> Int {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.unicodeScalars.count { ["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"].contains($0) } + 1
    }

    @Test func exoticBytesEndInLocatedDiagnosticsThatRender() throws {
        let seeds =
            try ["consensus.yaml", "consortium.yaml", "self-refine.yaml", "verify.yaml", "debate.yaml"]
            .map { try Fixtures.bytes("valid/\($0)") }
        let compiler = Fixtures.compiler(bases: Fixtures.fixtureBases)
        let renderer = DiagnosticRenderer()
        var rng = SeededGenerator(seed: 0xC0FFEE)
        var outcomes = (compiled: 0, rejected: 0)
        for index in 0..<2_000 {
            var bytes = seeds[index % seeds.count]
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let insert = Self.exotic.randomElement(using: &rng) ?? []
                bytes.insert(contentsOf: insert, at: Int.random(in: 0...bytes.count, using: &rng))
            }
            let result = compiler.compile(WorkflowSource(displayName: "x.yaml", bytes: bytes))
            if result.workflow != nil { outcomes.compiled += 1 } else { outcomes.rejected += 1 }
            #expect(result.workflow != nil || result.hasErrors, "variant \(index) failed without an error")
            let lines = Self.lineCount(bytes)
            for diagnostic in result.diagnostics {
                let location = try #require(diagnostic.location, "variant \(index): \(diagnostic)")
                #expect(location.line >= 1 && location.line <= lines, "variant \(index): \(diagnostic)")
                #expect(location.column >= 1, "variant \(index): \(diagnostic)")
            }
            let rendered = renderer.render(result.diagnostics, source: String(decoding: bytes, as: UTF8.self))
            #expect(rendered.isEmpty == result.diagnostics.isEmpty)
        }
        #expect(outcomes.compiled > 100)
        #expect(outcomes.rejected > 100)
    }

    @Test func corruptedWorkflowsEndInDiagnosticsOrACleanCompile() throws {
        let seeds =
            try ["consensus.yaml", "consortium.yaml", "self-refine.yaml", "verify.yaml", "debate.yaml"]
            .map { try Fixtures.bytes("valid/\($0)") } + [Array(DesignExampleTests.design.utf8)]
        let compiler = Fixtures.compiler(bases: Fixtures.fixtureBases)
        var rng = SeededGenerator(seed: 0x5EED_2026)
        var compiled = 0
        var rejected = 0
        var codes: Set<String> = []
        for index in 0..<3_000 {
            let bytes = Self.mutate(seeds[index % seeds.count], using: &rng)
            let result = compiler.compile(WorkflowSource(displayName: "m.yaml", bytes: bytes))
            let lineCount = bytes.count { $0 == UInt8(ascii: "\n") } + 1
            if let workflow = result.workflow {
                compiled += 1
                #expect(!result.hasErrors)
                #expect(!workflow.members.isEmpty && !workflow.stages.isEmpty)
            } else {
                rejected += 1
                #expect(result.hasErrors, "variant \(index) failed without an error")
            }
            for diagnostic in result.diagnostics {
                codes.insert(diagnostic.code)
                let location = try #require(diagnostic.location, "variant \(index): \(diagnostic)")
                #expect(location.line >= 1 && location.line <= lineCount, "variant \(index): \(diagnostic)")
                #expect(location.column >= 1, "variant \(index): \(diagnostic)")
                #expect(diagnostic.file == "m.yaml")
                #expect(diagnostic.hint?.isEmpty == false, "variant \(index): \(diagnostic)")
                #expect(DiagnosticCatalog.all.contains(diagnostic.code), "undocumented code \(diagnostic.code)")
            }
        }
        // Both outcomes occur, and corruption reaches both the syntax layer and the checks.
        #expect(compiled > 100)
        #expect(rejected > 1_000)
        #expect(codes.contains("Y003") && codes.contains("E102") && codes.contains("E101"))
    }
}
