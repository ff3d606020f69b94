// The compiler front end: workflow YAML → checked ``Workflow``. Pure and synchronous; disk
// access (base workflows, prompt files) goes through injected closures so tests and the
// dry-run commands control exactly what is read.

import Crypto
package import Foundation
public import RefinerySyntax

/// Compiles workflow files (format 1, DESIGN §2) into checked ``Workflow`` values.
///
/// Every problem becomes a located ``Diagnostic`` with a stable code (see `docs/diagnostics.md`);
/// all problems are collected in one pass. Defaults applied when a key is absent:
///
/// - `iterations`: min 1, max 5 (max defaults to `max(5, min)` when only `min` is given).
/// - `convergence`: `vote-threshold`, threshold 8.0, stability 2. Default thresholds per strategy:
///   `vote-threshold`/`unanimous` 8.0, `confidence` 0.8, `semantic` 0.92.
/// - `limits`: timeout 120 s, 8 concurrent calls, 3 retries, no budget, quorum `min(2, members)`.
/// - stage `by`: `members`, except `synthesize` and `verify` (the arbiter).
/// - `output`: `synthesis` when the chain has a `synthesize` stage, else `winner` when it has an
///   `evaluate` stage, else `draft`.
///
/// ``overrides`` (the command line) are the last layer, merged over the file as if it extended it.
///
/// `extends: NAME` starts from the base workflow found by `resolveExtends`: the child's keys
/// replace the base's, except `limits`, `iterations` and `convergence`, which are merged key by
/// key (a child that changes `convergence.strategy` replaces the whole section). Lists are replaced whole.
/// `description` is never inherited: it describes the file it is written in.
public struct WorkflowCompiler: Sendable {
    /// Aliases, providers and prices used to resolve model strings.
    public var catalog: ModelCatalog
    /// Finds a base workflow by name (`nil` when there is none).
    public var resolveExtends: @Sendable (String) throws -> WorkflowSource?
    /// Reads a prompt file given its absolute (or, for sources without a path, as-written) path.
    public var readFile: @Sendable (String) throws -> [UInt8]
    /// Parser limits for the workflow and its bases.
    public var limits: YAMLLimits
    /// Resolves symlinks in a path (`nil` when nothing exists there). When set, a prompt file
    /// whose real path leaves the workflow's folder is refused (E506); when `nil`, only the
    /// path as written is checked.
    public var realPath: (@Sendable (String) -> String?)?
    /// The command-line layer: flags merged over the file like an `extends` child, and `--var` values
    /// (every prompt template may show them as text, next to the variables its stage provides).
    public var overrides: WorkflowOverrides

    /// Creates a compiler.
    ///
    /// - Parameters:
    ///   - catalog: resolves model strings; defaults to ``ModelCatalog/builtin``.
    ///   - resolveExtends: looks up `extends:` names; the default knows none.
    ///   - readFile: reads prompt files; the default reads nothing (every prompt file is an error).
    ///   - limits: parser limits.
    ///   - realPath: resolves symlinks, so prompt files cannot leave the workflow's folder through one.
    ///   - overrides: the command-line layer.
    public init(
        catalog: ModelCatalog = .builtin,
        resolveExtends: @escaping @Sendable (String) throws -> WorkflowSource? = { _ in nil },
        readFile: @escaping @Sendable (String) throws -> [UInt8] = { path in
            throw PromptFileUnavailable(path: path)
        },
        limits: YAMLLimits = .default,
        realPath: (@Sendable (String) -> String?)? = nil,
        overrides: WorkflowOverrides = WorkflowOverrides()
    ) {
        self.catalog = catalog
        self.resolveExtends = resolveExtends
        self.readFile = readFile
        self.limits = limits
        self.realPath = realPath
        self.overrides = overrides
    }

    /// Compiles one workflow file (and the bases it extends).
    public func compile(_ source: WorkflowSource) -> CompileResult {
        let sink = DiagnosticSink()
        let workflow = WorkflowBuilder(compiler: self, sink: sink).build(source)
        let diagnostics = sink.sorted
        guard !diagnostics.contains(where: { $0.severity == .error }), let workflow else {
            return CompileResult(workflow: nil, diagnostics: diagnostics)
        }
        return CompileResult(workflow: workflow, graph: ExecutionGraph(workflow: workflow), diagnostics: diagnostics)
    }

    /// Compiles workflow text.
    ///
    /// - Parameters:
    ///   - yaml: the file content.
    ///   - displayName: the name used in diagnostics.
    ///   - path: absolute path, for prompt files and provenance.
    public func compile(yaml: String, displayName: String = "<input>", path: String? = nil) -> CompileResult {
        compile(WorkflowSource(displayName: displayName, text: yaml, path: path))
    }

    /// SHA-256 of `bytes`, lowercase hex. The one digest format of the package: content hashes,
    /// template hashes, request hashes (the ledger's key on resume) and embedding cache keys.
    package static func sha256Hex(_ bytes: some DataProtocol) -> String {
        var hasher = SHA256()
        // Contiguous bytes (an array, `Data`) go in as one buffer: every model call's request is
        // hashed, and the generic path walks the bytes as regions of a collection.
        let hashed: Void? = bytes.withContiguousStorageIfAvailable {
            hasher.update(bufferPointer: UnsafeRawBufferPointer($0))
        }
        if hashed == nil { hasher.update(data: bytes) }
        return hasher.finalize().withUnsafeBytes { digest in
            String(unsafeUninitializedCapacity: digest.count * 2) { hex in
                for (index, byte) in digest.enumerated() {
                    hex[2 * index] = hexDigits[Int(byte >> 4)]
                    hex[2 * index + 1] = hexDigits[Int(byte & 0x0F)]
                }
                return digest.count * 2
            }
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}

/// The default `readFile` failure: the compiler was not given a way to read prompt files.
public struct PromptFileUnavailable: Error, Sendable, CustomStringConvertible {
    /// The path that was asked for.
    public var path: String

    /// Creates the error.
    public init(path: String) {
        self.path = path
    }

    /// A message saying how to fix it.
    public var description: String {
        "no file reader was configured, so `\(path)` cannot be read; pass `readFile:` to WorkflowCompiler"
    }
}
