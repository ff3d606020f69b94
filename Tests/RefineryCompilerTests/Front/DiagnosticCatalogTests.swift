import Foundation
import RefinerySyntax
import Testing

@testable import RefineryCompiler

/// The codes documented in `docs/diagnostics.md`.
enum DiagnosticCatalog {
    static let all: Set<String> = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("docs/diagnostics.md")
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return Set(
            text.split(separator: "\n").compactMap { line -> String? in
                guard line.hasPrefix("| "), let cell = line.dropFirst(2).split(separator: " ").first,
                    cell.count == 4, cell.first.map({ "EYW".contains($0) }) == true
                else { return nil }
                return String(cell)
            })
    }()
}

@Suite struct DiagnosticCatalogTests {
    @Test func everyCodeIsDocumentedExactlyOnce() {
        let codes = FrontCode.all + SyntaxCode.all
        #expect(Set(codes).count == codes.count)
        #expect(DiagnosticCatalog.all == Set(codes))
    }
}
